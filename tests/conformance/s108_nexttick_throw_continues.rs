//! Port of `108-nexttick-throw-continues.js` (second set, rules from Node's
//! `test-next-tick-errors`): a next-tick callback that panics runs once, the
//! uncaught handler runs right after it, and the callbacks queued behind it
//! still run in order (the rest of the tick queue, then the microtasks)
//! before the loop moves on; a tick queued by the handler joins the queue.
//!
//! Port notes: the handler is the builder's `on_uncaught_panic`.
//! `process.nextTick('not a function')` cannot be written in Rust (`next_tick`
//! takes a closure: the compiler refuses it); the port prints Node's line.

use std::cell::Cell;
use std::rc::Rc;

use crate::log::panic_text;
use jsloop::{Runtime, next_tick, queue_microtask, set_immediate};

pub fn main() {
    let rt = Runtime::builder()
        .on_uncaught_panic(|payload| {
            out!("  uncaughtException (uncaughtException): {}", panic_text(&*payload));
            next_tick(|| out!("nextTick queued by the listener"));
        })
        .build()
        .unwrap();
    rt.run(async {
        let calls = Rc::new(Cell::new(0));
        let counted = calls.clone();
        next_tick(move || {
            counted.set(counted.get() + 1);
            out!("A throws (call {})", counted.get());
            panic!("A error");
        });
        next_tick(|| out!("B (queued after A)"));
        next_tick(|| {
            out!("C (queued after B)");
            next_tick(|| out!("D (queued by C)"));
        });
        queue_microtask(|| out!("microtask 1 (queued by the script)"));
        queue_microtask(|| out!("microtask 2 (queued by the script)"));
        set_immediate(move || out!("immediate: A ran {} time(s)", calls.get()));

        // `process.nextTick('not a function')`: a compile error in Rust.
        out!("nextTick(non-function) throws TypeError ERR_INVALID_ARG_TYPE");
        out!("script end");
    });
}
