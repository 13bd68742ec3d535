//! The resolve and reject functions a promise's executor gets: callable
//! like JavaScript's (`resolve(value)`), cloneable, and `Send + Sync`, so
//! any thread can settle the promise.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::Promise;
use super::state::{Settler, State};
use crate::context;

/// A promise's resolve function: `resolve(value)` fulfills it.
///
/// It derefs to `dyn Fn(T)`, so it is called like the JS function. Calls
/// after the promise is resolved do nothing, as in JS. Clones resolve the
/// same promise; it is `Send + Sync` when `T` and `E` are `Send`, so any
/// thread can call it (the promise's reactions still run on their loop).
///
/// If every `Resolve` and [`Reject`] of a pending promise is dropped,
/// nothing can settle it: it stays pending forever, as a JS promise would
/// (see [`Promise`] for what that does to its reactions and awaiters).
///
/// # Examples
///
/// ```
/// use jsloop::promise::Promise;
///
/// jsloop::block_on(async {
///     let promise = Promise::<_, ()>::new(|resolve, _reject| {
///         std::thread::spawn(move || resolve("from a thread"));
///     });
///     assert_eq!(promise.await, Ok("from a thread"));
/// });
/// ```
pub struct Resolve<T, E> {
    settler: Settler<T, E>,
    call: Arc<dyn Fn(T)>,
}

/// A promise's reject function: `reject(error)` rejects it.
///
/// The counterpart of [`Resolve`], with the same rules.
///
/// # Examples
///
/// ```
/// use jsloop::promise::Promise;
///
/// jsloop::block_on(async {
///     let promise = Promise::<(), _>::new(|_resolve, reject| reject("it broke"));
///     assert_eq!(promise.await, Err("it broke"));
/// });
/// ```
pub struct Reject<T, E> {
    settler: Settler<T, E>,
    call: Arc<dyn Fn(E)>,
}

// SAFETY: the only fields are a `Settler` (an `Arc<State<T, E>>`, which is
// `Send + Sync` when `T` and `E` are `Send`: the state is a `Mutex` of the
// outcome and `Waker`s) and a closure that captures nothing but another
// `Arc<State<T, E>>` (see `resolvers`). The closure type is erased only to
// make the handle callable; it is as `Send + Sync` as the `Arc` it holds.
unsafe impl<T: Send, E: Send> Send for Resolve<T, E> {}
// SAFETY: as for `Send`; calling the closure from two threads at once is
// two `State::settle` calls, serialized by the state's mutex.
unsafe impl<T: Send, E: Send> Sync for Resolve<T, E> {}
// SAFETY: as for `Resolve`.
unsafe impl<T: Send, E: Send> Send for Reject<T, E> {}
// SAFETY: as for `Resolve`.
unsafe impl<T: Send, E: Send> Sync for Reject<T, E> {}

/// The resolve and reject functions of a new pending promise.
pub(crate) fn resolvers<T: 'static, E: 'static>(
    state: &Arc<State<T, E>>,
) -> (Resolve<T, E>, Reject<T, E>) {
    let (fulfil, fail) = (state.clone(), state.clone());
    let resolve = Resolve {
        settler: Settler::new(state),
        call: Arc::new(move |value| fulfil.settle(Ok(value), false)),
    };
    let reject = Reject {
        settler: Settler::new(state),
        call: Arc::new(move |error| fail.settle(Err(error), false)),
    };
    (resolve, reject)
}

impl<T, E> Deref for Resolve<T, E> {
    type Target = dyn Fn(T);

    fn deref(&self) -> &Self::Target {
        &*self.call
    }
}

impl<T, E> Deref for Reject<T, E> {
    type Target = dyn Fn(E);

    fn deref(&self) -> &Self::Target {
        &*self.call
    }
}

impl<T: Clone + 'static, E: Clone + 'static> Resolve<T, E> {
    /// Resolves the promise with another promise, which it then follows:
    /// JS's `resolve(otherPromise)`. As in V8 this takes two microtask
    /// turns more than settling directly (a job that subscribes to `other`,
    /// then `other`'s reaction).
    ///
    /// # Panics
    ///
    /// Outside a runtime ("no jsloop runtime is running on this thread"),
    /// and if `other` is this very promise (JS rejects with "Chaining cycle
    /// detected for promise").
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::block_on(async {
    ///     let inner = Promise::<_, ()>::resolve(7);
    ///     let outer = Promise::new(|resolve, _| resolve.adopt(&inner));
    ///     assert_eq!(outer.await, Ok(7));
    /// });
    /// ```
    pub fn adopt(&self, other: &Promise<T, E>) {
        assert!(
            !Arc::ptr_eq(self.settler.state(), other.state()),
            "jsloop: a promise cannot be resolved with itself (Chaining cycle detected for promise)"
        );
        context::with_current(|_| ());
        if !self.settler.start_adopting() {
            return;
        }
        let settler = self.settler.clone();
        let other = other.clone();
        crate::queue_microtask(move || other.react_with(|outcome| outcome, settler, true));
    }
}

impl<T, E> Clone for Resolve<T, E> {
    fn clone(&self) -> Self {
        Resolve { settler: self.settler.clone(), call: self.call.clone() }
    }
}

impl<T, E> Clone for Reject<T, E> {
    fn clone(&self) -> Self {
        Reject { settler: self.settler.clone(), call: self.call.clone() }
    }
}

impl<T, E> fmt::Debug for Resolve<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolve").field("promise", &self.settler.state().describe()).finish()
    }
}

impl<T, E> fmt::Debug for Reject<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reject").field("promise", &self.settler.state().describe()).finish()
    }
}
