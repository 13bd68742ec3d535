//! `Promise<T, E>`: JavaScript's promise, down to the microtask tick.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};

use super::reaction::{Reaction, rethrow_uncaught};
use super::resolvers::{Reject, Resolve, resolvers};
use super::state::{Phase, Settler, State, clone_outcome, take_outcome};
use crate::context;
use crate::listeners::ListenerKey;
use crate::progress::wake_as_reaction;

/// A JavaScript promise: settles once, fulfilled with a `T` or rejected
/// with an `E`, and can be awaited and `then`-ed by many.
///
/// It behaves like V8's promise, tick for tick:
///
/// - [`Promise::new`] runs its executor at once; [`Promise::spawn`] runs an
///   async body at once up to its first `.await`, like calling an `async`
///   function.
/// - [`then`](Promise::then), [`catch`](Promise::catch),
///   [`finally`](Promise::finally) (and [`and_then`](Promise::and_then),
///   [`or_else`](Promise::or_else), [`then_settled`](Promise::then_settled))
///   return new promises. Their callbacks run as microtasks, in registration
///   order, queued when the promise settles.
/// - Awaiting takes exactly one microtask turn after the promise settles,
///   even if it already has (V8's `await`). Awaiting yields a clone of the
///   outcome, `Result<T, E>`; hence the `T: Clone, E: Clone` bounds (wrap a
///   large value in an `Rc` or `Arc` to make the clone cheap).
/// - [`Resolve`] and [`Reject`] are `Send + Sync` (for `Send` `T` and `E`):
///   any thread can settle the promise. Settling twice does nothing.
///
/// A clone is another handle to the same promise.
///
/// **A promise no one can settle.** When every `Resolve` and `Reject` of a
/// pending promise is dropped, it stays pending forever, as in JS: its
/// reactions are dropped without running (their own promises stay pending
/// in turn), and a task awaiting it is never woken. That is no hang: if the
/// main future of `run` / `block_on` waits on it, they panic with an
/// "unsettled top-level await" message instead, as Node exits.
///
/// **Panics.** A panic in a reaction callback or a [`Promise::spawn`] body
/// is an uncaught exception (the error type is yours, so there is nothing
/// to reject with): it unwinds out of `run` / `block_on` from the next
/// microtask, or goes to the runtime's
/// [`on_uncaught_panic`](crate::Builder::on_uncaught_panic) handler. The
/// promise it would have settled stays pending.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::promise::Promise;
///
/// jsloop::run(async {
///     let promise = Promise::<_, String>::new(|resolve, _reject| {
///         jsloop::set_timeout(Duration::from_millis(1), move || resolve("it worked"));
///     });
///     let shouted = promise.then(|text| format!("{text}!"));
///     assert_eq!(promise.await, Ok("it worked"));
///     assert_eq!(shouted.await, Ok("it worked!".to_string()));
/// });
/// ```
pub struct Promise<T, E> {
    state: Arc<State<T, E>>,
}

impl<T: 'static, E: 'static> Promise<T, E> {
    /// A pending promise; `executor` runs at once with its resolve and
    /// reject functions: `new Promise((resolve, reject) => …)`.
    ///
    /// A panic in `executor` unwinds to the caller (the promise is then
    /// abandoned, its resolvers having been dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// fn make_promise(condition: bool) -> Promise<&'static str, &'static str> {
    ///     Promise::new(|resolve, reject| {
    ///         if condition { resolve("it worked") } else { reject("it broke") }
    ///     })
    /// }
    ///
    /// jsloop::block_on(async {
    ///     assert_eq!(make_promise(true).await, Ok("it worked"));
    ///     assert_eq!(make_promise(false).await, Err("it broke"));
    /// });
    /// ```
    pub fn new(executor: impl FnOnce(Resolve<T, E>, Reject<T, E>)) -> Self {
        let (promise, resolve, reject) = Promise::with_resolvers();
        executor(resolve, reject);
        promise
    }

    /// A pending promise and its resolve and reject functions:
    /// `Promise.withResolvers()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::block_on(async {
    ///     let (promise, resolve, _reject) = Promise::<i32, ()>::with_resolvers();
    ///     resolve(1);
    ///     resolve(2); // already settled: ignored
    ///     assert_eq!(promise.await, Ok(1));
    /// });
    /// ```
    pub fn with_resolvers() -> (Self, Resolve<T, E>, Reject<T, E>) {
        let state = State::new(Phase::Pending);
        let (resolve, reject) = resolvers(&state);
        (Promise { state }, resolve, reject)
    }

    /// Awaits the promise and moves its outcome out instead of cloning it,
    /// so `T` and `E` need not be `Clone`: for the promise's last reader,
    /// typically its one handle. It takes V8's `await` ticks (one microtask
    /// turn after the promise settles) and handles a rejection as `await`
    /// does.
    ///
    /// # Panics
    ///
    /// The outcome is gone once taken: awaiting, taking or `then`-ing the
    /// same promise through another handle afterwards panics with a message
    /// that names `Promise::take`.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// struct Connection; // not `Clone`
    ///
    /// jsloop::run(async {
    ///     let connecting = Promise::<_, std::io::Error>::spawn(async { Ok(Connection) });
    ///     let _connection: Connection = connecting.take().await.unwrap();
    /// });
    /// ```
    pub fn take(self) -> PromiseFuture<T, E> {
        PromiseFuture::new(self.state, take_outcome)
    }

    /// A promise already fulfilled with `value`: `Promise.resolve(value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::block_on(async {
    ///     assert_eq!(Promise::<_, ()>::resolve(5).await, Ok(5));
    /// });
    /// ```
    pub fn resolve(value: T) -> Self {
        Promise { state: State::new(Phase::Settled(Ok(value))) }
    }

    /// A promise already rejected with `error`: `Promise.reject(error)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::block_on(async {
    ///     assert_eq!(Promise::<(), _>::reject("no").await, Err("no"));
    /// });
    /// ```
    pub fn reject(error: E) -> Self {
        Promise { state: State::new(Phase::Settled(Err(error))) }
    }

    /// Runs `future` as a task, polled at once up to its first `.await`, and
    /// returns the promise of its output: calling a JS `async` function.
    /// `Ok` fulfills the promise, `Err` rejects it.
    ///
    /// A panic in `future` is an uncaught exception (see the type's docs).
    ///
    /// # Panics
    ///
    /// Outside a runtime: "no jsloop runtime is running on this thread".
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::run(async {
    ///     let answer = Promise::<_, ()>::spawn(async {
    ///         println!("runs at once, up to its first await");
    ///         jsloop::yield_now().await;
    ///         Ok(42)
    ///     });
    ///     println!("after the call");
    ///     assert_eq!(answer.await, Ok(42));
    /// });
    /// ```
    #[track_caller]
    pub fn spawn(future: impl Future<Output = Result<T, E>> + 'static) -> Self {
        let location = Location::caller();
        let state = State::new(Phase::Pending);
        let settler = Settler::new(&state);
        let body = async move {
            let mut future = pin!(future);
            let caught = std::future::poll_fn(|cx| {
                match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                    Ok(poll) => poll.map(Ok),
                    Err(payload) => Poll::Ready(Err(payload)),
                }
            })
            .await;
            match caught {
                Ok(outcome) => settler.settle(outcome),
                Err(payload) => rethrow_uncaught(payload),
            }
        };
        context::with_current(|core| core.spawn_detached_now(body, location));
        Promise { state }
    }

    /// Whether the promise has not settled yet (it may be following
    /// another promise, or abandoned: see the type's docs).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// let (promise, resolve, _reject) = Promise::<i32, ()>::with_resolvers();
    /// assert!(promise.is_pending());
    /// resolve(1);
    /// assert!(!promise.is_pending());
    /// ```
    pub fn is_pending(&self) -> bool {
        self.state.is_pending()
    }

    pub(crate) fn state(&self) -> &Arc<State<T, E>> {
        &self.state
    }

    pub(crate) fn from_state(state: Arc<State<T, E>>) -> Self {
        Promise { state }
    }
}

impl<T: Clone + 'static, E: Clone + 'static> Promise<T, E> {
    /// Registers a reaction settling `target` with `callback`'s result.
    #[track_caller]
    pub(crate) fn react_with<U: 'static, F: 'static>(
        &self,
        callback: impl FnOnce(Result<T, E>) -> Result<U, F> + 'static,
        target: Settler<U, F>,
        adoption: bool,
    ) {
        let reaction =
            Reaction { source: self.state.clone(), callback: Some(callback), target, adoption };
        let location = Location::caller();
        let Some(waker) = context::with_current(|core| core.spawn_parked(reaction, location))
        else {
            return;
        };
        if let Some(settled) = self.state.add_reaction(waker) {
            wake_as_reaction(&settled);
        }
    }

    /// The general reaction, JS's two-callback `then(onFulfilled,
    /// onRejected)`: `callback` gets the outcome and returns the new
    /// promise's.
    ///
    /// # Panics
    ///
    /// Outside a runtime (a reaction is a task on the current runtime).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::block_on(async {
    ///     let p = Promise::<i32, &str>::reject("bad");
    ///     let described = p.then_settled(|outcome| match outcome {
    ///         Ok(n) => Ok::<_, ()>(format!("got {n}")),
    ///         Err(e) => Ok(format!("failed: {e}")),
    ///     });
    ///     assert_eq!(described.await, Ok("failed: bad".to_string()));
    /// });
    /// ```
    #[track_caller]
    pub fn then_settled<U: 'static, F: 'static>(
        &self,
        callback: impl FnOnce(Result<T, E>) -> Result<U, F> + 'static,
    ) -> Promise<U, F> {
        let state = State::new(Phase::Pending);
        self.react_with(callback, Settler::new(&state), false);
        Promise { state }
    }

    /// `then(onFulfilled)`: a promise of `on_fulfilled`'s result; a
    /// rejection passes through untouched.
    ///
    /// # Panics
    ///
    /// Outside a runtime, like [`then_settled`](Promise::then_settled).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::block_on(async {
    ///     let p = Promise::<_, ()>::resolve("it worked").then(|s| format!("{s}!"));
    ///     assert_eq!(p.await, Ok("it worked!".to_string()));
    /// });
    /// ```
    #[track_caller]
    pub fn then<U: 'static>(&self, on_fulfilled: impl FnOnce(T) -> U + 'static) -> Promise<U, E> {
        self.then_settled(|outcome| outcome.map(on_fulfilled))
    }

    /// `then` with a callback that can fail: its `Err` rejects the new
    /// promise, as a throw inside a JS `then` callback does.
    ///
    /// # Panics
    ///
    /// Outside a runtime, like [`then_settled`](Promise::then_settled).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::block_on(async {
    ///     let p = Promise::resolve(1).and_then(|n| if n > 0 { Err("boom") } else { Ok(n) });
    ///     assert_eq!(p.await, Err("boom"));
    /// });
    /// ```
    #[track_caller]
    pub fn and_then<U: 'static>(
        &self,
        on_fulfilled: impl FnOnce(T) -> Result<U, E> + 'static,
    ) -> Promise<U, E> {
        self.then_settled(|outcome| outcome.and_then(on_fulfilled))
    }

    /// `catch(onRejected)`: recovers from a rejection with `on_rejected`'s
    /// value; a fulfillment passes through.
    ///
    /// # Panics
    ///
    /// Outside a runtime, like [`then_settled`](Promise::then_settled).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::block_on(async {
    ///     let p = Promise::reject("it broke").catch(|e| format!("caught: {e}"));
    ///     assert_eq!(p.await, Ok("caught: it broke".to_string()));
    /// });
    /// ```
    #[track_caller]
    pub fn catch(&self, on_rejected: impl FnOnce(E) -> T + 'static) -> Promise<T, E> {
        self.then_settled(|outcome| Ok(outcome.unwrap_or_else(on_rejected)))
    }

    /// `catch` with a callback that can fail again (rethrow), possibly with
    /// another error type.
    ///
    /// # Panics
    ///
    /// Outside a runtime, like [`then_settled`](Promise::then_settled).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::block_on(async {
    ///     let p = Promise::<i32, _>::reject(404).or_else(|code| Err(format!("HTTP {code}")));
    ///     assert_eq!(p.await, Err("HTTP 404".to_string()));
    /// });
    /// ```
    #[track_caller]
    pub fn or_else<F: 'static>(
        &self,
        on_rejected: impl FnOnce(E) -> Result<T, F> + 'static,
    ) -> Promise<T, F> {
        self.then_settled(|outcome| outcome.or_else(on_rejected))
    }

    /// `then` with a callback that returns a promise, which the new promise
    /// then follows: JS's `.then(v => otherPromise)`. As in V8 that takes two
    /// microtask turns more than a plain value (a job that subscribes to the
    /// returned promise, then its reaction), as [`Resolve::adopt`] does. A
    /// rejection of `self` passes through without calling `on_fulfilled`.
    ///
    /// # Panics
    ///
    /// Outside a runtime, like [`then_settled`](Promise::then_settled).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::block_on(async {
    ///     let p = Promise::<_, ()>::resolve(1).then_promise(|v| Promise::resolve(v + 1));
    ///     assert_eq!(p.await, Ok(2));
    /// });
    /// ```
    #[track_caller]
    pub fn then_promise<U: Clone + 'static>(
        &self,
        on_fulfilled: impl FnOnce(T) -> Promise<U, E> + 'static,
    ) -> Promise<U, E> {
        let (followed, resolve, reject) = Promise::with_resolvers();
        self.react_with(
            move |outcome| {
                match outcome {
                    Ok(value) => resolve.adopt(&on_fulfilled(value)),
                    Err(error) => reject(error),
                }
                Ok::<(), std::convert::Infallible>(())
            },
            Settler::new(&State::new(Phase::Pending)),
            false,
        );
        followed
    }

    /// `finally(onFinally)`: runs `on_finally` either way, and passes the
    /// original outcome through.
    ///
    /// # Panics
    ///
    /// Outside a runtime, like [`then_settled`](Promise::then_settled).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::Promise;
    ///
    /// jsloop::block_on(async {
    ///     let p = Promise::<(), _>::reject("x").finally(|| println!("done either way"));
    ///     assert_eq!(p.await, Err("x"));
    /// });
    /// ```
    #[track_caller]
    pub fn finally(&self, on_finally: impl FnOnce() + 'static) -> Promise<T, E> {
        self.then_settled(|outcome| {
            on_finally();
            outcome
        })
    }
}

impl<T, E> Clone for Promise<T, E> {
    fn clone(&self) -> Self {
        Promise { state: self.state.clone() }
    }
}

impl<T, E> fmt::Debug for Promise<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Promise").field(&format_args!("{}", self.state.describe())).finish()
    }
}

impl<T: Clone + 'static, E: Clone + 'static> IntoFuture for Promise<T, E> {
    type Output = Result<T, E>;
    type IntoFuture = PromiseFuture<T, E>;

    fn into_future(self) -> PromiseFuture<T, E> {
        PromiseFuture::new(self.state, clone_outcome)
    }
}

impl<T: Clone + 'static, E: Clone + 'static> IntoFuture for &Promise<T, E> {
    type Output = Result<T, E>;
    type IntoFuture = PromiseFuture<T, E>;

    fn into_future(self) -> PromiseFuture<T, E> {
        self.clone().into_future()
    }
}

/// Awaiting a [`Promise`]: a clone of its outcome, one microtask turn after
/// it settles (or after the first poll, if it had settled already).
///
/// # Examples
///
/// ```
/// use jsloop::promise::Promise;
///
/// jsloop::run(async {
///     let p = Promise::<_, ()>::resolve("ready");
///     jsloop::queue_microtask(|| println!("1: queued before the await"));
///     assert_eq!(p.await, Ok("ready")); // after the microtask: one turn
///     println!("2: after the await");
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct PromiseFuture<T, E> {
    state: Arc<State<T, E>>,
    /// The registration among the promise's waiters, while pending.
    key: Option<ListenerKey>,
    polled: bool,
    /// Clones the outcome (`await`) or moves it out ([`Promise::take`]).
    read: fn(&mut Phase<T, E>) -> Result<T, E>,
}

impl<T, E> PromiseFuture<T, E> {
    fn new(state: Arc<State<T, E>>, read: fn(&mut Phase<T, E>) -> Result<T, E>) -> Self {
        PromiseFuture { state, key: None, polled: false, read }
    }
}

impl<T: 'static, E: 'static> Future for PromiseFuture<T, E> {
    type Output = Result<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, E>> {
        let this = &mut *self;
        let first_poll = !std::mem::replace(&mut this.polled, true);
        this.state.poll_await(&mut this.key, first_poll, cx, this.read)
    }
}

impl<T, E> Drop for PromiseFuture<T, E> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.state.remove_awaiter(key);
        }
    }
}

impl<T, E> fmt::Debug for PromiseFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PromiseFuture").field(&format_args!("{}", self.state.describe())).finish()
    }
}
