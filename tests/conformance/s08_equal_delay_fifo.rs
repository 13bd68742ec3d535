//! Port of `08-equal-delay-fifo.js`: equal delays fire in creation order, a
//! 0 ms timer is a 1 ms timer, and each callback gets its own checkpoint.

use std::time::Duration;

use jsloop::{queue_microtask, set_timeout};

pub fn main() {
    jsloop::run(async {
        set_timeout(Duration::from_millis(1), || out!("A: 1 ms"));
        set_timeout(Duration::ZERO, || out!("B: 0 ms"));
        set_timeout(Duration::from_millis(1), || out!("C: 1 ms"));
        set_timeout(Duration::ZERO, || out!("D: 0 ms"));

        for i in 1..=5 {
            set_timeout(Duration::from_millis(30), move || {
                out!("E{i}: 30 ms");
                queue_microtask(move || out!("E{i} microtask"));
            });
        }
        set_timeout(Duration::from_millis(80), || out!("F: 80 ms"));
        out!("scheduled");
    });
}
