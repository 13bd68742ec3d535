//! Promise reactions (`then`, `catch`, `finally`): each one is a small task
//! parked on its promise.
//!
//! A reaction is registered the moment `then` is called, and its task is
//! queued on the microtask ring the moment the promise settles (at once if
//! it already has): exactly when V8 queues a PromiseReactionJob, so
//! reactions run in registration order and interleave with other
//! microtasks as they do in JS.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::state::{Reacted, Settler, State};

/// Waits for `source`, then settles `target` with `callback`'s result.
pub(crate) struct Reaction<T, E, U, F, C> {
    pub(crate) source: Arc<State<T, E>>,
    pub(crate) callback: Option<C>,
    pub(crate) target: Settler<U, F>,
    /// `target` follows `source` (`Resolve::adopt`) rather than being
    /// derived from it.
    pub(crate) adoption: bool,
}

// The future is never pinned structurally: the callback is moved out
// before it is called.
impl<T, E, U, F, C> Unpin for Reaction<T, E, U, F, C> {}

impl<T, E, U, F, C> Future for Reaction<T, E, U, F, C>
where
    T: Clone + 'static,
    E: Clone + 'static,
    U: 'static,
    F: 'static,
    C: FnOnce(Result<T, E>) -> Result<U, F>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let outcome = match this.source.reacted() {
            Reacted::Pending => return Poll::Pending,
            // Nothing will settle the source: end, dropping the callback and
            // (with it) the last settler of the target, which is abandoned in
            // turn.
            Reacted::Abandoned => return Poll::Ready(()),
            Reacted::Settled(outcome) => outcome,
        };
        let callback = this.callback.take().expect("a reaction runs once");
        match catch_unwind(AssertUnwindSafe(|| callback(outcome))) {
            Ok(result) if this.adoption => this.target.settle_adopted(result),
            Ok(result) => this.target.settle(result),
            Err(payload) => rethrow_uncaught(payload),
        }
        Poll::Ready(())
    }
}

/// The type name of a reaction's task, with placeholder generics: task
/// dumps recognise a task waiting on a promise by its future's type.
pub(crate) fn reaction_type_name() -> &'static str {
    std::any::type_name::<Reaction<(), (), (), (), ()>>()
}

/// A panic in promise code (a reaction callback, a `Promise::spawn` body)
/// has no rejection to become, since the error type is the user's: it is
/// an uncaught exception instead. It is rethrown from a microtask, so it
/// unwinds out of `run` / `block_on` or reaches the runtime's
/// `on_uncaught_panic` handler, like a panicking `queue_microtask` callback.
pub(crate) fn rethrow_uncaught(payload: Box<dyn Any + Send>) {
    let payload = crate::process::rethrow_loop_exit(payload);
    crate::queue_microtask(move || resume_unwind(payload));
}
