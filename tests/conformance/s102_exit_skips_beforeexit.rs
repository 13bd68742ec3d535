//! Port of `102-exit-skips-beforeexit.js` (second set, rules from Node's
//! `test-process-exit`, `test-process-exit-code`): `exit` ends the loop at
//! once: no before-exit listeners, no pending timer or immediate, not the
//! rest of the calling callback; the exit listeners run in order with the
//! exit code; work they queue never runs; work queued before `exit` in the
//! same callback neither.
//!
//! Port notes: `process.exit()` is `process::exit(process::exit_code())`;
//! the port runs inside `process::catch_exit`, which returns the code the
//! process would exit with (0: the first listener resets it).

use std::time::Duration;

use jsloop::process::{catch_exit, exit, exit_code, on_before_exit, on_exit, set_exit_code};
use jsloop::{next_tick, queue_microtask, set_immediate, set_timeout};

pub fn main() {
    let outcome = catch_exit(|| {
        jsloop::run(async {
            on_before_exit(|_| out!("never: beforeExit"));
            on_exit(|code| {
                out!("exit listener 1 (code {code})");
                set_exit_code(0);
                next_tick(|| out!("never: nextTick from exit listener"));
                queue_microtask(|| out!("never: microtask from exit listener"));
                set_timeout(Duration::ZERO, || out!("never: timer from exit listener"));
            });
            on_exit(|_| out!("exit listener 2 (exitCode now {})", exit_code()));

            set_timeout(Duration::from_secs(10), || out!("never: 10 s timer"));

            set_timeout(Duration::from_millis(5), || {
                out!("timer: set exitCode 3 and call process.exit()");
                set_exit_code(3);
                next_tick(|| out!("never: nextTick queued before exit()"));
                set_immediate(|| out!("never: immediate queued before exit()"));
                exit(exit_code());
            });

            next_tick(|| out!("script nextTick"));
            out!("script end");
        })
    });
    assert_eq!(outcome, Err(0), "the process would exit with status 0");
}
