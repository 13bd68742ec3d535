//! Port of `07-checkpoint-after-each-callback.js`: nextTicks and microtasks
//! drain after EACH timer and EACH immediate callback, even when all of them
//! run in one phase (the script busy-waits so every timer is overdue).

use std::time::Duration;

use crate::log::busy_wait;
use jsloop::{next_tick, queue_microtask, set_immediate, set_timeout};

fn body(name: &'static str) {
    out!("{name}");
    next_tick(move || out!("{name} nextTick"));
    // Promise.resolve().then(...)
    queue_microtask(move || out!("{name} promise"));
}

pub fn main() {
    jsloop::run(async {
        set_timeout(Duration::from_millis(5), || body("t1 (5 ms)"));
        set_timeout(Duration::from_millis(5), || body("t2 (5 ms)"));
        set_timeout(Duration::from_millis(5), || body("t3 (5 ms)"));
        set_timeout(Duration::from_millis(10), || {
            body("t4 (10 ms)");
            set_immediate(|| body("i1"));
            set_immediate(|| body("i2"));
            set_immediate(|| body("i3"));
        });
        busy_wait(50);
        out!("script end");
    });
}
