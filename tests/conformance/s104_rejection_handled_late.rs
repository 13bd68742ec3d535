//! Port of `104-rejection-handled-late.js` (second set, rules from Node's
//! `test-promises-unhandled-rejections`): a reported rejection that later
//! gets a handler is reported handled exactly once, at the end of the
//! checkpoint that attached it (after that callback's next-ticks and
//! microtasks, the late handler itself among them); one handled within its
//! own checkpoint is never reported; a rethrow from a catch handler reports
//! the derived promise with the new error; `Promise.all` over a rejected
//! input reports the combined promise, the input counting as handled; and a
//! panic in the rejection-handled listener is an uncaught error, while the
//! `catch` call that caused it returns normally.
//!
//! Port notes: the process events are `process::on_unhandled_rejection`,
//! `process::on_rejection_handled` and the builder's `on_uncaught_panic`
//! (its origin is `unhandledRejection` for an `UnhandledRejection` payload,
//! `uncaughtException` otherwise). `Promise.all([..])` is written out as
//! V8 runs it, one `then_settled` reaction per input: `promise::all` is a
//! future that polls an input again within its own poll once it is
//! settled, a tick earlier than V8's reaction job, which would put the
//! combined promise's rejection ahead of the derived one's. A rethrow is `or_else` returning `Err`. Promise
//! identity is printed as a name, kept in a map keyed by `AnyPromise`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use crate::log::{busy_wait, panic_text};
use jsloop::process::{UnhandledRejection, on_rejection_handled, on_unhandled_rejection};
use jsloop::promise::{AnyPromise, Promise};
use jsloop::{Runtime, next_tick, set_timeout};

type Names = Rc<RefCell<HashMap<AnyPromise, &'static str>>>;

fn name(names: &Names, p: &AnyPromise) -> &'static str {
    names.borrow().get(p).copied().unwrap_or("unnamed")
}

fn named<T: 'static, E: 'static>(names: &Names, p: &Promise<T, E>, name: &'static str) {
    names.borrow_mut().insert(AnyPromise::from(p), name);
}

/// `Promise.all(inputs)`, a reaction per input as in V8.
fn promise_all(inputs: Vec<Promise<&'static str, String>>) -> Promise<Vec<&'static str>, String> {
    let (all, resolve, reject) = Promise::with_resolvers();
    let values = Rc::new(RefCell::new(vec![None; inputs.len()]));
    for (index, input) in inputs.iter().enumerate() {
        let (resolve, reject, values) = (resolve.clone(), reject.clone(), values.clone());
        input.then_settled(move |outcome| {
            match outcome {
                Err(error) => reject(error),
                Ok(value) => {
                    let mut values = values.borrow_mut();
                    values[index] = Some(value);
                    if values.iter().all(Option::is_some) {
                        resolve(values.iter().flatten().copied().collect());
                    }
                }
            }
            Ok::<(), ()>(())
        });
    }
    all
}

pub fn main() {
    let rt = Runtime::builder()
        .on_uncaught_panic(|payload| {
            let origin = if payload.is::<UnhandledRejection>() {
                "unhandledRejection"
            } else {
                "uncaughtException"
            };
            out!("uncaughtException ({origin}): {}", panic_text(&*payload));
        })
        .build()
        .unwrap();
    rt.run(async {
        let names: Names = Rc::default();
        let n = names.clone();
        on_unhandled_rejection(move |reason, p| {
            out!("unhandledRejection: {reason} [promise {}]", name(&n, p));
        });
        let throw_from_rejection_handled = Rc::new(Cell::new(false));
        let (n, throw) = (names.clone(), throw_from_rejection_handled.clone());
        on_rejection_handled(move |p| {
            out!("rejectionHandled: [promise {}]", name(&n, p));
            if throw.get() {
                panic!("thrown by the rejectionHandled listener");
            }
        });

        let late = Promise::<(), String>::reject("late".into());
        named(&names, &late, "late");
        let early = Promise::<(), String>::reject("early".into());
        early.catch(|_| out!("early catch handler (same checkpoint)"));

        set_timeout(Duration::from_millis(1), move || {
            out!("timer 1: attach catch to late");
            late.catch(|e| out!("late catch handler: {e}"));
            next_tick(|| out!("timer 1 nextTick"));
            Promise::<(), ()>::resolve(()).then(|()| out!("timer 1 microtask"));
        });

        set_timeout(Duration::from_millis(1), move || {
            out!("timer 2: rethrow and Promise.all");
            let original = Promise::<(), String>::reject("e1".into());
            named(&names, &original, "original");
            let derived = original.or_else(|_| Err("e2, rethrown".to_string()));
            named(&names, &derived, "derived");
            let input = Promise::<&str, String>::reject("all input".into());
            named(&names, &input, "input");
            let all = promise_all(vec![input, Promise::resolve("ok")]);
            named(&names, &all, "Promise.all");
            set_timeout(Duration::from_millis(5), move || {
                out!("timer 3: handle derived late; its listener throws");
                throw_from_rejection_handled.set(true);
                derived.catch(|_| out!("derived catch handler"));
                out!("timer 3: .catch() returned normally");
            });
        });

        busy_wait(10);
        out!("script end");
    });
}
