//! Port of `12-immediate-next-iteration.js`: the check phase runs only the
//! immediates queued before it started; one created during it (from an
//! immediate or a microtask) waits for the next iteration, after an overdue
//! timer.

use std::time::Duration;

use crate::log::busy_wait;
use jsloop::{queue_microtask, set_immediate, set_timeout};

pub fn main() {
    jsloop::run(async {
        set_immediate(|| {
            out!("immediate A");
            set_immediate(|| out!("immediate C (created by A)"));
            set_timeout(Duration::ZERO, || out!("timer T (0 ms, created by A)"));
            queue_microtask(|| {
                out!("microtask from A");
                set_immediate(|| out!("immediate D (created by microtask from A)"));
            });
            busy_wait(20); // T is overdue before the next timers phase
        });
        set_immediate(|| out!("immediate B"));
        out!("script end");
    });
}
