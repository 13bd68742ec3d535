//! Port of `06-tick-micro-nesting.js`: a checkpoint drains the whole nextTick
//! queue, then the whole microtask queue, and repeats while either is
//! non-empty; the same after a timer callback.

use std::time::Duration;

use jsloop::{next_tick, queue_microtask, set_timeout};

fn nest(prefix: &'static str) {
    next_tick(move || {
        out!("{prefix}tick 1");
        queue_microtask(move || out!("{prefix}micro from tick 1"));
        next_tick(move || out!("{prefix}tick from tick 1"));
    });
    next_tick(move || out!("{prefix}tick 2"));
    queue_microtask(move || {
        out!("{prefix}micro 1");
        next_tick(move || {
            out!("{prefix}tick from micro 1");
            queue_microtask(move || out!("{prefix}micro from tick from micro 1"));
            next_tick(move || out!("{prefix}tick from tick from micro 1"));
        });
        queue_microtask(move || out!("{prefix}micro from micro 1"));
    });
    queue_microtask(move || out!("{prefix}micro 2"));
}

pub fn main() {
    jsloop::run(async {
        out!("script start");
        nest("");
        set_timeout(Duration::ZERO, || {
            out!("timer start");
            nest("timer: ");
            out!("timer end");
        });
        out!("script end");
    });
}
