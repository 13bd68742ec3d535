//! JavaScript's promises on Rust futures: the [`Promise`] type, and the
//! combinators `Promise.all`, `allSettled`, `race` and `any`.
//!
//! [`Promise<T, E>`](Promise) is V8's promise, tick for tick: reactions
//! ([`then`](Promise::then), [`catch`](Promise::catch),
//! [`finally`](Promise::finally)) are microtasks queued when it settles, in
//! registration order, and awaiting one takes exactly one microtask turn. Its
//! [`Resolve`] and [`Reject`] functions are `Send + Sync`. That is what makes
//! the tick-exact Node scenarios portable line by line.
//!
//! The combinators [`all`], [`all_settled`], [`race`] and [`any`] take any
//! `IntoIterator` of `IntoFuture`s ([`Promise`]s, `JoinHandle`s, plain
//! futures); [`tuple`](mod@tuple) has the same four over tuples of up to 12 children
//! of different types. Every child gets its own waker, so a wake polls only
//! that child. When a combinator settles early (`all` on the first error,
//! `race` on the first output, `any` on the first success) the children
//! still pending are **dropped**. That is where Rust futures differ from JS
//! promises: a plain future stops when dropped, while a JS promise's work
//! goes on. To get JS's behaviour, pass [`Promise`]s or
//! [`JoinHandle`](crate::JoinHandle)s: their work (a spawned task, a timer
//! that will resolve the promise) is not owned by the combinator and keeps
//! running.
//!
//! A child that panics makes the combinator's own poll panic (the panic
//! unwinds through it into the task awaiting it, whose `JoinHandle` then
//! reports it); children spawned as tasks turn a panic into a `JoinError`
//! value instead.
//!
//! ```
//! use jsloop::promise;
//!
//! jsloop::block_on(async {
//!     // Spawned tasks keep running after `all` fails fast, like promises.
//!     let a = jsloop::spawn(async { Ok::<_, String>(1) });
//!     let b = jsloop::spawn(async { Err::<i32, _>("b failed".to_string()) });
//!     let flat = |h: jsloop::JoinHandle<Result<i32, String>>| async move { h.await.unwrap() };
//!     assert_eq!(promise::all([flat(a), flat(b)]).await, Err("b failed".to_string()));
//! });
//! ```

mod any;
mod children;
mod combinators;
mod in_order;
mod js_promise;
mod reaction;
mod resolvers;
mod state;
pub mod tuple;
mod wake_set;

pub(crate) use reaction::reaction_type_name;
pub(crate) use state::ErasedState;

pub use any::{AnyPromise, Reason};
pub use combinators::{AggregateError, all, all_settled, any, race};
pub use in_order::{InOrder, in_order};
pub use js_promise::{Promise, PromiseFuture};
pub use resolvers::{Reject, Resolve};
