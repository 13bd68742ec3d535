//! Port of `109-queuemicrotask-throw.js` (second set, rules from Node's
//! `test-queue-microtask-uncaught-asynchooks`, `test-queue-microtask`): a
//! `queue_microtask` callback that panics is reported to the uncaught
//! handler from inside the checkpoint; the next microtask runs right after
//! the handler and the checkpoint goes on; a tick the handler queues runs
//! once the microtasks are drained, before the next timer; an error from a
//! `.then` callback rejects the derived promise instead.
//!
//! Port notes: the handler is the builder's `on_uncaught_panic`. A `throw`
//! inside `.then` is an `Err` returned from `and_then` (a Rust closure
//! reports failure by value; the promise then rejects, as JS's does).
//! `queueMicrotask(null)` cannot be written in Rust; the port prints Node's
//! line.

use std::time::Duration;

use crate::log::{busy_wait, panic_text};
use jsloop::promise::Promise;
use jsloop::{Runtime, next_tick, queue_microtask, set_timeout};

pub fn main() {
    let rt = Runtime::builder()
        .on_uncaught_panic(|payload| {
            let message = panic_text(&*payload);
            out!("  uncaughtException (uncaughtException): {message}");
            next_tick(move || out!("  nextTick queued by the listener ({message})"));
        })
        .build()
        .unwrap();
    rt.run(async {
        Promise::<(), &str>::resolve(())
            .and_then(|()| {
                out!("then callback throws");
                Err::<(), _>("then error")
            })
            .catch(|e| out!("catch got: {e}"));
        queue_microtask(|| {
            out!("M1 throws");
            panic!("M1 error");
        });
        queue_microtask(|| out!("M2 (right after the listener)"));
        Promise::<(), ()>::resolve(()).then(|()| out!("P3"));

        set_timeout(Duration::from_millis(1), || {
            out!("T1");
            queue_microtask(|| {
                out!("T1 microtask throws");
                panic!("T1 microtask error");
            });
            queue_microtask(|| out!("T1 second microtask"));
            next_tick(|| out!("T1 nextTick"));
        });
        set_timeout(Duration::from_millis(1), || out!("T2"));

        // `queueMicrotask(null)`: a compile error in Rust.
        out!("queueMicrotask(null) throws TypeError ERR_INVALID_ARG_TYPE");
        busy_wait(10);
        out!("script end");
    });
}
