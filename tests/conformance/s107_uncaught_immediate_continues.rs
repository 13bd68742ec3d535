//! Port of `107-uncaught-immediate-continues.js` (second set, rules from
//! Node's `test-timers-immediate-queue-throw`): with an uncaught handler, a
//! panicking immediate does not stop the check phase: the immediates queued
//! before the phase began still run in it, each with its checkpoint; those
//! queued during the phase (by the one that panicked, by others, by the
//! handler) wait for the next iteration; a pool completion callback that
//! panics after queueing an immediate and a timeout(0) behaves as if it had
//! not panicked.
//!
//! Port notes: the handler is the builder's `on_uncaught_panic`.
//! `fs.readFile(__filename, cb)` is a detached task awaiting
//! `jsloop::fs::read` (a pool job): its code after the `.await` is the
//! callback, run in the checkpoint of the poll phase's completion macrotask,
//! and its panic, with nobody to read the task's handle, goes to the handler.

use std::time::Duration;

use crate::log::panic_text;
use jsloop::{Runtime, next_tick, queue_microtask, set_immediate, set_timeout};

const FILENAME: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/107-uncaught-immediate-continues.js");

pub fn main() {
    let rt = Runtime::builder()
        .on_uncaught_panic(|payload| {
            let message = panic_text(&*payload);
            out!("  uncaughtException (uncaughtException): {message}");
            if message == "I2 error" {
                set_immediate(|| out!("immediate queued by the listener"));
            }
        })
        .build()
        .unwrap();
    rt.run(async {
        set_immediate(|| {
            out!("I1");
            set_immediate(|| out!("immediate queued by I1"));
        });
        set_immediate(|| {
            out!("I2 queues an immediate, then throws");
            set_immediate(|| out!("immediate queued by I2"));
            panic!("I2 error");
        });
        set_immediate(|| {
            out!("I3 (same phase, after the error)");
            next_tick(|| out!("I3 nextTick"));
            queue_microtask(|| out!("I3 microtask"));
        });
        set_immediate(|| out!("I4 (same phase)"));
        set_immediate(|| {
            set_immediate(|| {
                out!("next iteration done; start a pool job");
                jsloop::spawn(async {
                    let _ = jsloop::fs::read(FILENAME).await;
                    out!("readFile callback queues timeout(0) and immediate, then throws");
                    set_timeout(Duration::ZERO, || out!("timeout(0) from the readFile callback"));
                    set_immediate(|| out!("immediate from the readFile callback"));
                    panic!("readFile callback error");
                });
            });
        });
        out!("script end");
    });
}
