//! Port of `203-signal-vs-immediate-timeout.js`: a signal sent to oneself
//! is a poll-phase event. `kill` returns before any listener runs; the
//! rest of the timers phase runs first, then the listeners (in the order
//! added, one emit, the checkpoint after both), then the check phase,
//! then the next timers phase.
//!
//! Port notes: `process.on('SIGUSR2', f)` is `process::on_signal` (a bare
//! poll-phase callback, so its `next_tick` runs as Node's does).
//! `process.kill(process.pid, 'SIGUSR2')` is `raise_here`, a signal to the
//! loop's own thread (see `os.rs`: Node's loop, the main thread, takes it
//! before `kill` returns). No other scenario listens for SIGUSR2 (the
//! tests share one process).

use std::time::Duration;

use crate::log::busy_wait;
use crate::os::raise_here;
use jsloop::process::{SignalKind, on_signal};
use jsloop::{next_tick, queue_microtask, set_immediate, set_timeout};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn main() {
    jsloop::run(async {
        on_signal(SignalKind::user_defined2(), || {
            out!("SIGUSR2 listener 1");
            next_tick(|| out!("  nextTick from listener 1"));
            queue_microtask(|| out!("  microtask from listener 1"));
            set_immediate(|| out!("  immediate from listener 1"));
            set_timeout(Duration::ZERO, || out!("  timeout from listener 1"));
        })
        .expect("listen for SIGUSR2");
        on_signal(SignalKind::user_defined2(), || out!("SIGUSR2 listener 2 (same emit)"))
            .expect("listen for SIGUSR2");

        set_timeout(ms(1), || {
            out!("A sends SIGUSR2 to itself");
            raise_here(SignalKind::user_defined2());
            out!("A: kill returned, no listener ran yet");
            set_immediate(|| out!("  immediate from A"));
            set_timeout(Duration::ZERO, || out!("  timeout from A"));
            queue_microtask(|| out!("  microtask from A"));
        });
        set_timeout(ms(1), || out!("B (same timers phase, before the signal)"));

        busy_wait(10);
        out!("script end");
    });
}
