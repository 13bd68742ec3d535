//! Port of `05-nexttick-before-promises.js`: at every checkpoint the
//! nextTick queue drains before the microtask queue, even for ticks queued
//! after a promise reaction; after the script, an immediate and a timer.

use std::time::Duration;

use jsloop::{next_tick, queue_microtask, set_immediate, set_timeout};

pub fn main() {
    jsloop::run(async {
        out!("1 - sync");
        next_tick(|| out!("3 - nextTick"));
        // Promise.resolve().then(...)
        queue_microtask(|| out!("4 - Promise microtask"));
        set_immediate(|| {
            out!("6 - setImmediate (check phase)");
            queue_microtask(|| out!("immediate: promise"));
            next_tick(|| out!("immediate: nextTick"));
            set_timeout(Duration::ZERO, || {
                out!("timer");
                queue_microtask(|| out!("timer: queueMicrotask"));
                next_tick(|| out!("timer: nextTick"));
            });
        });
        out!("2 - sync");

        queue_microtask(|| out!("promise registered before tick"));
        next_tick(|| out!("tick registered after promise"));
    });
}
