//! Port of `13-io-immediate-before-timeout.js`: inside a worker-pool
//! completion (`fs.readFile`, here `jsloop::fs::read`), the completion's
//! microtasks run first, then the immediate (check phase), then the 0 ms
//! timer (next iteration's timers phase).
//!
//! Port note: the readFile callback is the code after `fs::read(..).await`
//! in a spawned task: it runs in the checkpoint right after the loop
//! delivered the completion in the poll phase.

use std::time::Duration;

use jsloop::{queue_microtask, set_immediate, set_timeout};

const FILENAME: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/13-io-immediate-before-timeout.js");

fn round(n: u32) {
    jsloop::spawn(async move {
        let _ = jsloop::fs::read(FILENAME).await;
        set_timeout(Duration::ZERO, move || {
            out!("round {n}: timeout");
            if n < 3 {
                round(n + 1);
            }
        });
        set_immediate(move || out!("round {n}: immediate"));
        queue_microtask(move || out!("round {n}: promise"));
        out!("round {n}: readFile callback");
    });
}

pub fn main() {
    jsloop::run(async {
        round(1);
        out!("script end");
    });
}
