//! Port of `110-nexttick-starvation.js` (second set, rules from Node's
//! `test-next-tick-intentional-starvation`, `test-next-tick-ordering2` and
//! `test-next-tick-ordering`): a 100,000-tick `next_tick` chain starves every
//! other queue. A promise reaction queued before the chain, an overdue timer
//! and a finished pool job all wait for it and all see the full count; then
//! they run in queue order: the reaction (same checkpoint, once the tick
//! queue is empty), the timer (timers phase), the pool completion (poll
//! phase). Later, a next-tick queued from a next-tick runs before a 0 ms
//! timer that the same tick queued first.
//!
//! Port notes: `fs.stat(__filename, cb)` is `jsloop::fs::metadata` (a
//! worker-pool job) in a task started with `spawn_now`, so the job is
//! submitted right there, before the chain, as `fs.stat` submits it; the
//! callback is the code after its `.await` (the first thing it does is queue
//! an immediate, never a next-tick, so it does not matter that it runs as a
//! microtask of the poll-phase checkpoint). `Promise.resolve().then(f)` is a
//! reaction on a settled [`Promise`]. The chain's first tick busy-waits 20 ms
//! so that the 1 ms timer is overdue and the pool job is done before the loop
//! starts. The chain never yields: next-ticks are callbacks, not `Waker`
//! wakes, so the progress rule's wake budget does not apply to them.

use std::cell::Cell;
use std::time::Duration;

use crate::log::busy_wait;
use jsloop::promise::Promise;
use jsloop::{next_tick, set_immediate, set_timeout, spawn_now};

const FILENAME: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/110-nexttick-starvation.js");

const N: u32 = 100_000;

// The script's top-level `let ticks`.
thread_local! {
    static TICKS: Cell<u32> = const { Cell::new(0) };
}

fn spin() {
    TICKS.set(TICKS.get() + 1);
    if TICKS.get() == 1 {
        busy_wait(20);
    }
    if TICKS.get() < N {
        next_tick(spin);
    }
}

pub fn main() {
    jsloop::run(async {
        TICKS.set(0);

        set_timeout(Duration::from_millis(1), || {
            out!("overdue timer ran after {} ticks", TICKS.get());
        });
        // fs.stat(__filename, (err, st) => { ... })
        spawn_now(async {
            jsloop::fs::metadata(FILENAME).await.unwrap();
            out!("pool completion ran after {} ticks", TICKS.get());
            set_immediate(|| {
                next_tick(|| {
                    set_timeout(Duration::ZERO, || out!("setTimeout(0) queued by a tick"));
                    next_tick(|| out!("nextTick queued by the same tick"));
                });
            });
        });
        Promise::<(), ()>::resolve(())
            .then(|()| out!("promise reaction ran after {} ticks", TICKS.get()));

        next_tick(spin);
        out!("script end");
    });
}
