//! Port of `03-job-queue-before-callbacks.js`: promise reactions run as soon
//! as the current macrotask ends, before any timer, in the order they were
//! queued; timers then run in deadline order.

use std::time::Duration;

use jsloop::{queue_microtask, set_timeout};

pub fn main() {
    jsloop::run(async {
        set_timeout(Duration::ZERO, || {
            out!("setTimeout function executed");
        });
        // new Promise((resolve) => resolve('Promise resolved'))
        //   .then((res) => console.log(res))
        //   .catch((err) => console.log(err));
        // The promise is already resolved, so `.then` queues its reaction at
        // once; the `.catch` never fires.
        let res = "Promise resolved";
        queue_microtask(move || out!("{res}"));

        out!("1 - sync start");
        set_timeout(Duration::ZERO, || out!("4 - macrotask (setTimeout)"));
        // Promise.resolve().then(...)
        queue_microtask(|| out!("3 - microtask (Promise.then)"));
        out!("2 - sync end");

        set_timeout(Duration::ZERO, || out!("one is the loneliest number"));
        set_timeout(Duration::from_millis(10), || out!("two can be as bad as one"));
        queue_microtask(|| out!("hi"));
        out!("three is a crowd");
    });
}
