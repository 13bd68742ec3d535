//! Node's `events`: [`EventEmitter`], and the helpers [`once`] and [`on`]
//! that turn its events into a promise and a stream.
//!
//! **Where it enters the loop.** Nowhere by itself: [`emit`] is a plain
//! synchronous call, as in Node. Every listener runs inside it, in order,
//! on the caller's stack, before `emit` returns; nothing is queued. The
//! helpers are where the loop comes in: [`once`] settles a
//! [`Promise`](crate::promise::Promise) from its listener, so code awaiting
//! it resumes in the checkpoint after the emitting callback (two microtask
//! turns after the emit, V8's count, pinned by the conformance scenario
//! `124-tick-events-once`), and [`on`] wakes the task reading its stream
//! the same way.
//!
//! ```
//! use std::time::Duration;
//! use jsloop::events::{self, EventEmitter};
//!
//! jsloop::run(async {
//!     let server = EventEmitter::<String, String>::new();
//!     server.on("request", |path| println!("1: listener, inside emit: {path}"));
//!     let emitter = server.clone();
//!     jsloop::set_timeout(Duration::from_millis(1), move || {
//!         emitter.emit("request", "/index.html".to_string());
//!         println!("2: emit returned");
//!     });
//!     let path = events::once(&server, "request").await.unwrap();
//!     println!("3: awaiting code, a microtask later: {path}");
//! });
//! ```
//!
//! **Typing.** Node's events are a name and a list of arguments. Here an
//! emitter has one payload type `T` for all its events (a tuple stands for
//! several arguments, an enum for events of different shapes), and names
//! are strings, so ported code reads as the JS did:
//! `ee.on("data", |chunk| ..)`, `ee.emit("data", chunk)`. Listeners get
//! `&T`; the helpers, which keep a payload, need `T: Clone`.
//!
//! **Errors** are the `'error'` event with a type of their own, `E`:
//! [`on_error`], [`once_error`], [`emit_error`], and the error monitor
//! ([`on_error_monitor`], Node's `events.errorMonitor`), which sees every
//! error before the error listeners. Node's rule that an error nobody
//! listens to must not vanish becomes a return value: `emit_error` hands
//! the error back as `Err(`[`UnhandledError`]`)` where Node would throw it
//! out of `emit`. It is a `Result`, so it cannot be ignored silently, and
//! code that wants Node's crash writes `.expect(..)`. (A panic would have
//! made a missing listener fatal even where the caller could recover.)
//! The name `"error"` is reserved for this event: the string-named
//! methods panic on it, saying so.
//!
//! **Node's emit rules**, all kept: the listeners called are those
//! registered when `emit` began (one removed meanwhile still runs, one
//! added does not); a `once` listener is removed just before it runs; a
//! listener that panics unwinds out of `emit`, the rest are not called,
//! and the emitter stays usable; `emit` may be re-entered from a listener.
//!
//! | Node | jsloop |
//! |---|---|
//! | `new EventEmitter()` | [`EventEmitter::new`] |
//! | `on` / `once` / `prependListener` / `prependOnceListener` | [`on`](EventEmitter::on) / [`once`](EventEmitter::once) / [`prepend_listener`](EventEmitter::prepend_listener) / [`prepend_once_listener`](EventEmitter::prepend_once_listener), each returning a [`ListenerId`] |
//! | `off` / `removeListener` | [`off`](EventEmitter::off)`(id)` |
//! | `emit(name, ...args)` | [`emit`]`(name, payload)` |
//! | `listenerCount` / `removeAllListeners(name)` / `removeAllListeners()` | [`listener_count`](EventEmitter::listener_count) / [`remove_all_listeners`](EventEmitter::remove_all_listeners) / [`clear`](EventEmitter::clear) |
//! | `on('error', f)` / `emit('error', e)` / `on(errorMonitor, f)` | [`on_error`] / [`emit_error`] / [`on_error_monitor`] |
//! | `events.once(ee, name)` | [`once`]: a `Promise<T, E>` |
//! | `events.on(ee, name[, { signal }])` | [`on`] / [`on_with_signal`]: a `Stream` of `Result<T, E>` |
//!
//! Not ported: `'newListener'` / `'removeListener'` events, `setMaxListeners`
//! and its leak warning, `captureRejections`.
//!
//! [`emit`]: EventEmitter::emit
//! [`on_error`]: EventEmitter::on_error
//! [`once_error`]: EventEmitter::once_error
//! [`emit_error`]: EventEmitter::emit_error
//! [`on_error_monitor`]: EventEmitter::on_error_monitor

mod emitter;
mod error;
mod list;
mod names;
mod on;
mod once;
mod subscription;

pub use emitter::{EventEmitter, ListenerId};
pub use error::UnhandledError;
pub use on::{On, Recv, on, on_with_signal};
pub use once::once;
