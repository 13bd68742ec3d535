//! Port of `04-macro-micro-interleave.js`: the microtask queue is drained
//! completely after every macrotask (seed A F D E B C), also between two
//! timers due in the same timers phase.

use std::time::Duration;

use jsloop::{queue_microtask, set_timeout};

pub fn main() {
    jsloop::run(async {
        set_timeout(Duration::ZERO, || {
            out!("macro 1");
            // Promise.resolve().then(...)
            queue_microtask(|| out!("micro inside macro 1"));
        });
        set_timeout(Duration::ZERO, || out!("macro 2"));

        out!("A"); // 1. sync - runs immediately
        set_timeout(Duration::ZERO, || {
            out!("B"); // 5. macrotask
            queue_microtask(|| {
                out!("C"); // 6. microtask (queued after B)
            });
        });
        queue_microtask(|| {
            out!("D"); // 3. microtask
            queue_microtask(|| {
                out!("E"); // 4. microtask (queued by D)
            });
        });
        out!("F"); // 2. sync - runs immediately
    });
}
