//! Port of `02-timers-after-sync.js`: timers run only after the script; equal
//! delays run in creation order; a shorter delay created later runs first.

use std::time::Duration;

use jsloop::set_timeout;

pub fn main() {
    jsloop::run(async {
        out!("1");
        set_timeout(Duration::from_millis(100), || out!("2"));
        out!("3");

        out!("Start");
        set_timeout(Duration::ZERO, || {
            out!("First timer");
        });
        set_timeout(Duration::ZERO, || {
            out!("Second timer");
        });
        out!("End");

        set_timeout(Duration::ZERO, || out!("task 1"));
        set_timeout(Duration::ZERO, || out!("task 2"));
        set_timeout(Duration::ZERO, || out!("task 3"));
        out!("sync");

        set_timeout(Duration::from_millis(300), || {
            out!("understand asynchronous javascript 2");
        });
        set_timeout(Duration::ZERO, || {
            out!("understand asynchronous javascript 1");
        });
        out!("last sync line");
    });
}
