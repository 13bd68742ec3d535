//! `events.once(emitter, name)`: a promise of the next emit.

use std::borrow::Cow;

use super::emitter::EventEmitter;
use super::subscription::Subscription;
use crate::context;
use crate::promise::Promise;

/// A promise of the next emit of `name`: Node's
/// `events.once(emitter, name)`. It is fulfilled with (a clone of) the
/// payload, or rejected with the error if [`emit_error`] comes first;
/// either way both of its listeners are removed, inside that emit.
///
/// Like Node's, which is an `async` function returning
/// `new Promise(resolve => emitter.once(name, resolve))`, the promise
/// handed out follows an inner one that the listener settles. So it settles
/// in a microtask that the emit queues, and code awaiting it resumes in a
/// microtask queued then (V8's tick count: the `124-tick-events-once`
/// scenario): after `emit` and the rest of the emitting callback have
/// returned, in their checkpoint. A promise settled directly by a listener
/// of your own is one microtask sooner.
///
/// Its listeners count in [`listener_count`](EventEmitter::listener_count)
/// and [`error_listener_count`](EventEmitter::error_listener_count) until
/// then; an error listener means `emit_error` finds the error handled. If
/// the listeners are removed by other means ([`clear`](EventEmitter::clear)),
/// the promise stays pending, as in Node.
///
/// [`emit_error`]: EventEmitter::emit_error
///
/// # Panics
///
/// Outside a runtime ("no jsloop runtime is running on this thread"), and
/// if `name` is `"error"`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::events::{self, EventEmitter};
///
/// jsloop::run(async {
///     let ee = EventEmitter::<(i32, i32), String>::new();
///     let emitter = ee.clone();
///     jsloop::set_timeout(Duration::from_millis(1), move || {
///         emitter.emit("ready", (1, 2));
///     });
///     assert_eq!(events::once(&ee, "ready").await, Ok((1, 2)));
///     assert_eq!(ee.listener_count("ready"), 0);
/// });
/// ```
pub fn once<T: Clone + 'static, E: Clone + 'static>(
    emitter: &EventEmitter<T, E>,
    name: impl Into<Cow<'static, str>>,
) -> Promise<T, E> {
    // Before registering anything: the promise below needs the runtime.
    context::with_current(|_| ());
    let (settled_by_listener, resolve, reject) = Promise::with_resolvers();
    let subscription = Subscription::new(emitter);
    let event = emitter.once(name, {
        let subscription = subscription.clone();
        move |payload: &T| {
            subscription.cancel();
            resolve(payload.clone());
        }
    });
    let error = emitter.once_error({
        let subscription = subscription.clone();
        move |error: &E| {
            subscription.cancel();
            reject(error.clone());
        }
    });
    subscription.set(event, error);
    // The async function's return: the promise it handed out is resolved
    // with the inner one (V8 queues the thenable job now).
    Promise::new(|resolve, _reject| resolve.adopt(&settled_by_listener))
}
