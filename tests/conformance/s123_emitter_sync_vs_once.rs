//! Port of `123-emitter-sync-vs-once.js` (second set, rules from Node's
//! `test-event-emitter-remove-listeners`, `test-events-once`,
//! `test-event-emitter-prepend`): `emit` is synchronous and calls the
//! listeners registered when it began, in order (a prepended one first);
//! a `once` listener is removed before it runs; an `'error'` nobody listens
//! to comes back out of the emit; `events::once` resumes its awaiting code
//! in the emitting callback's checkpoint, and rejects on `'error'`,
//! removing its listeners either way.
//!
//! Port notes: one payload type per emitter, so `ee` carries a `&str` and
//! `emit('nothing')` passes an empty one; `src` carries `(1, 2)` as a
//! tuple, and both carry `String` errors (`new Error(m)`, whose `.message`
//! is the string). `removeListener(name, fn)` is `off(id)`: listener 1
//! removes the id that `second` got, registered after it. `emit('error')`
//! is `emit_error`, which returns the unhandled error where JS throws it;
//! `listenerCount('error')` is `error_listener_count`. `waiter()` is
//! `spawn_now`, its `try`/`catch` a `match`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use crate::log::busy_wait;
use jsloop::events::{self, EventEmitter, ListenerId, UnhandledError};
use jsloop::{set_immediate, set_timeout, spawn_now};

pub fn main() {
    jsloop::run(async {
        let ee = EventEmitter::<&'static str, String>::new();
        let second: Rc<Cell<Option<ListenerId>>> = Rc::default();
        ee.on("data", {
            let (ee, second) = (ee.clone(), second.clone());
            move |v| {
                out!("  listener 1 got {v}, removes listener 2, adds listener 4");
                if let Some(id) = second.get() {
                    ee.off(id);
                }
                ee.on("data", |_| out!("  listener 4 (added during an earlier emit)"));
            }
        });
        second.set(Some(ee.on("data", |_| out!("  listener 2"))));
        ee.once("data", {
            let ee = ee.clone();
            move |_| out!("  once listener, count now {}", ee.listener_count("data"))
        });
        ee.prepend_listener("data", |_| out!("  prepended listener"));

        out!("emit #1 returned {}", ee.emit("data", "x"));
        out!("emit #2:");
        ee.emit("data", "y");
        out!("emit on an event without listeners returned {}", ee.emit("nothing", ""));
        if let Err(UnhandledError(e)) = ee.emit_error("no error listener".to_string()) {
            out!("emit('error') threw synchronously: {e}");
        }

        let src = EventEmitter::<(i32, i32), String>::new();
        spawn_now({
            let src = src.clone();
            async move {
                if let Ok((a, b)) = events::once(&src, "ready").await {
                    out!(
                        "waiter resumed with [{a}, {b}], listeners left {}",
                        src.listener_count("ready")
                    );
                }
                if let Err(e) = events::once(&src, "ready").await {
                    out!(
                        "second once() rejected: {e}, listeners left {}/{}",
                        src.listener_count("ready"),
                        src.error_listener_count()
                    );
                }
            }
        });

        set_timeout(Duration::from_millis(1), move || {
            out!("timer 1: emit ready(1, 2)");
            src.emit("ready", (1, 2));
            out!("timer 1: emit returned, callback continues");
            set_immediate(move || {
                out!("immediate: emit error");
                src.emit_error("boom".to_string()).expect("the second once() listens");
                out!("immediate: emit returned");
            });
        });
        set_timeout(Duration::from_millis(1), || out!("timer 2 (same phase)"));

        busy_wait(10);
        out!("script end");
    });
}
