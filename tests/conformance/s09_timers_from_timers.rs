//! Port of `09-timers-from-timers.js`: a timer created inside a timer
//! callback never runs in the current timers phase, even with 0 ms; an
//! immediate created by the same callback runs first.

use std::time::Duration;

use crate::log::busy_wait;
use jsloop::{set_immediate, set_timeout};

pub fn main() {
    jsloop::run(async {
        set_timeout(Duration::from_millis(2), || {
            out!("A");
            set_timeout(Duration::ZERO, || {
                out!("C (0 ms, created by A)");
                set_timeout(Duration::ZERO, || out!("D (0 ms, created by C)"));
                set_immediate(|| out!("J (immediate created by C)"));
                set_timeout(Duration::ZERO, || {
                    out!("E (0 ms, created by C)");
                    set_timeout(Duration::ZERO, || out!("F (0 ms, created by E)"));
                });
            });
            set_immediate(|| out!("I (immediate created by A)"));
        });
        set_timeout(Duration::from_millis(2), || out!("B"));
        busy_wait(30);
        out!("script end");
    });
}
