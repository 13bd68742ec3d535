//! Port of `204-signal-during-busy-callback.js`: a signal that comes while
//! a callback spins is delivered once, after it, in the next poll phase.
//! Sent from a timer, that is before the timer's immediate and before a
//! 1 ms timer it created (overdue, but created in the timers phase); sent
//! from an immediate, the next timers phase comes first, so the 1 ms timer
//! the immediate created runs before the listener. A listener does not
//! keep the loop alive; a 5 s timer does, until the listener clears it.
//!
//! Port notes: `process.on('SIGWINCH', f)` is `process::on_signal` with
//! `SignalKind::window_change()` (no other scenario uses it; its default
//! action is to ignore it); `process.kill(process.pid, ...)` is
//! `raise_here`, as in 203. The script's `calls` and `keepAlive` are
//! thread-locals.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use crate::log::busy_wait;
use crate::os::raise_here;
use jsloop::process::{SignalKind, on_signal};
use jsloop::{Timer, clear_timeout, queue_microtask, set_immediate, set_timeout};

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
    static KEEP_ALIVE: RefCell<Option<Timer>> = const { RefCell::new(None) };
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn main() {
    jsloop::run(async {
        on_signal(SignalKind::window_change(), || {
            let calls = CALLS.with(|calls| calls.get() + 1);
            CALLS.with(|c| c.set(calls));
            out!("SIGWINCH listener, call {calls}");
            queue_microtask(|| out!("  microtask from the listener"));
            if calls == 2 {
                KEEP_ALIVE.with(|k| clear_timeout(k.borrow().as_ref().unwrap()));
            }
        })
        .expect("listen for SIGWINCH");

        // From a timer.
        set_timeout(ms(1), || {
            out!("A sends SIGWINCH, then spins");
            raise_here(SignalKind::window_change());
            set_immediate(|| {
                out!("  immediate from A");
                from_an_immediate();
            });
            set_timeout(ms(1), || out!("  1 ms timer from A (overdue, next timers phase)"));
            busy_wait(50);
            out!("A returns");
        });
        set_timeout(ms(1), || out!("B (due with A: same timers phase, before the signal)"));

        busy_wait(10);
        out!("script end");
    });
}

// From an immediate.
fn from_an_immediate() {
    let keep_alive = set_timeout(ms(5000), || out!("never: the signal was lost"));
    KEEP_ALIVE.with(|k| *k.borrow_mut() = Some(keep_alive));
    set_immediate(|| {
        out!("I sends SIGWINCH, then spins");
        raise_here(SignalKind::window_change());
        set_timeout(ms(1), || out!("  1 ms timer from I (overdue: before the signal)"));
        busy_wait(50);
        out!("I returns");
    });
}
