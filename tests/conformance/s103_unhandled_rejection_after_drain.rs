//! Port of `103-unhandled-rejection-after-drain.js` (second set, rules from
//! Node's `test-promises-unhandled-rejections`): a promise rejected with no
//! handler is reported only once the checkpoint's next-ticks and microtasks
//! are both empty, so a handler attached from a next-tick, a microtask or
//! any mix of them is in time and one from an immediate is not; the
//! reports of one checkpoint come in rejection order, the next-ticks their
//! listener queues run right after them, and inside a timers phase a
//! rejection is reported before the next timer runs.
//!
//! Port notes: `process.on('unhandledRejection')` and
//! `process.on('rejectionHandled')` are `process::on_unhandled_rejection`
//! and `process::on_rejection_handled`; `Promise.reject(new Error(m))` is
//! `Promise::reject(m)` with `String` reasons (their `Display` is the
//! message). The script's `names` map is keyed by `AnyPromise`, which
//! compares by identity as a JS `Map` key does.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use crate::log::busy_wait;
use jsloop::process::{on_rejection_handled, on_unhandled_rejection};
use jsloop::promise::{AnyPromise, Promise};
use jsloop::{next_tick, set_immediate, set_timeout};

type P = Promise<(), String>;

fn reject(message: &str) -> P {
    P::reject(message.to_string())
}

pub fn main() {
    jsloop::run(async {
        on_unhandled_rejection(|reason, _| {
            let message = reason.to_string();
            out!("unhandledRejection: {message}");
            next_tick(move || out!("  nextTick from the listener ({message})"));
        });

        let names: Rc<RefCell<HashMap<AnyPromise, &str>>> = Rc::default();
        let named = names.clone();
        on_rejection_handled(move |p| out!("rejectionHandled: {}", named.borrow()[p]));

        reject("A, never handled");

        let b = reject("B, handled in a nextTick");
        next_tick(move || {
            out!("nextTick: attach catch to B");
            b.catch(|_| out!("B catch handler"));
        });

        let c = reject("C, handled after tick/micro/tick/micro");
        next_tick(move || {
            P::resolve(()).then(move |()| {
                next_tick(move || {
                    P::resolve(()).then(move |()| {
                        out!("4th hop: attach catch to C");
                        c.catch(|_| out!("C catch handler"));
                    });
                });
            });
        });

        let d = reject("D, handled in a setImmediate");
        names.borrow_mut().insert(AnyPromise::from(&d), "D");
        set_immediate(move || {
            out!("immediate: attach catch to D (too late)");
            d.catch(|_| out!("D catch handler"));
        });

        P::new(|_resolve, reject| reject("E, rejected in an executor".to_string()));

        P::resolve(()).then(|()| out!("script microtask 1")).then(|()| out!("script microtask 2"));

        set_timeout(Duration::from_millis(1), || {
            out!("timer 1 rejects F");
            reject("F, rejected in timer 1");
            P::resolve(()).then(|()| out!("timer 1 microtask"));
        });
        set_timeout(Duration::from_millis(1), || out!("timer 2"));

        busy_wait(10);
        out!("script end");
    });
}
