//! A single-threaded async runtime whose scheduling *is* the JavaScript /
//! Node.js event loop.
//!
//! A Rust program that ports a Node.js script line by line prints the same
//! lines in the same order: `next_tick` before microtasks, microtasks after
//! every macrotask, timers in Node's order (one list per duration, lists by
//! expiry then age) with Node's clamps, immediates in the check phase. Underneath it is a real executor: wakers
//! feed the microtask ring, timers live in a hierarchical timer wheel, the
//! loop sleeps in the OS poller (`polling`) between phases, and blocking work
//! runs on a worker pool whose results come back in the poll phase, as
//! libuv's threadpool serves Node. Sockets ([`net`], [`io::Async`]) get
//! their readiness in that same poll phase, a checkpoint after each event.
//!
//! ```
//! use std::time::Duration;
//!
//! jsloop::run(async {
//!     println!("1 - sync");
//!     jsloop::set_timeout(Duration::ZERO, || println!("6 - timer"));
//!     jsloop::set_immediate(|| println!("5 - immediate"));
//!     jsloop::queue_microtask(|| println!("4 - microtask"));
//!     jsloop::next_tick(|| println!("3 - nextTick"));
//!     println!("2 - sync");
//! });
//! ```
//!
//! (Lines 5 and 6 can swap: as in Node, a 0 ms timer is a 1 ms timer, and it
//! beats the immediate only if a millisecond has passed by the first timers
//! phase. Everything else here is fixed.)
//!
//! # The loop
//!
//! ```text
//!  run(main) ──► main's first poll (the script) ──► checkpoint
//!                 │
//!                 ▼
//!   ┌──► timers phase   due timers, Node's list order ──────────┐
//!   │    poll phase     sleep in the poller; socket readiness,  │ a checkpoint
//!   │                   remote wakes, worker-pool completions   │
//!   │    check phase    immediates queued before the phase      │ after each
//!   │    frame phase    when a frame slot came and a frame is   │
//!   │                   requested: its callbacks, the render    │
//!   └─── while alive ◄──────────────────────────────────────────┘
//! ```
//!
//! The frame phase is the browser's rendering opportunity
//! ([`frame::request_animation_frame`], `Builder::on_render`): it runs only
//! while a frame is requested, at fixed slots of the frame rate.
//!
//! A *checkpoint* drains the next-tick queue, then the microtask ring, and
//! repeats until both are empty. Every task wake, `queue_microtask` and a
//! spawned task's first poll go on the microtask ring. Then it reports the
//! promises rejected with nothing to handle them
//! ([`process::on_unhandled_rejection`]); if it reported any, it drains
//! both queues again (Node's `processTicksAndRejections`).
//!
//! # The progress rule
//!
//! Node drains microtasks without limit, and so does jsloop for everything
//! JavaScript has: next-ticks, `queue_microtask`, promise reactions, `await`
//! on a [`promise::Promise`] or a [`JoinHandle`], and a chain of 100,000 of
//! them starves a due timer exactly as long as in Node. What JavaScript
//! lacks is a future woken through its [`Waker`](std::task::Waker) by other
//! code, and Rust libraries count on the executor running its driver now
//! and then (tokio does every 61 polls): two futures that wake each other on
//! every poll — `async-lock`'s waiting readers, a
//! `while !flag { yield_now().await }` spin — would otherwise hold the loop
//! forever. So one macrotask and its checkpoint may push tasks onto the ring
//! through their wakers 8,192 times (a task that wakes *itself*, as
//! [`yield_now`] does, 262,144 times); the wake past that is *deferred*: the
//! task waits in the check phase, as if woken by [`set_immediate`], while
//! the checkpoint finishes and the timers and poll phases run. It is a
//! count, not a clock, so a program makes the same choices on any machine;
//! [`Runtime::deferred_wakes`] counts the deferrals, debug builds name the
//! deferred tasks once on stderr, and
//! [`Builder::strict_microtasks`] restores Node's unbounded checkpoint.
//!
//! | JavaScript | jsloop |
//! |---|---|
//! | top-level script | [`run`]`(async { .. })` |
//! | `process.nextTick(f)` | [`next_tick`] |
//! | `queueMicrotask(f)` | [`queue_microtask`] |
//! | `setTimeout` / `setInterval` / `clearTimeout` | [`set_timeout`] / [`set_interval`] / [`clear_timeout`] |
//! | `timeout.refresh()` after it fired, `timeout.unref()` / `hasRef()` | [`Timer::refresh`] with a [`time::Refreshable`] callback, [`Timer::unref`] / [`Timer::has_ref`] |
//! | `setImmediate(f)`, `immediate.unref()` | [`set_immediate`], [`Immediate::unref`] |
//! | `timers/promises`' `setTimeout` / `setImmediate` / `setInterval`, `scheduler` | [`time::promises`] |
//! | calling an `async` function | [`spawn_now`] (or [`spawn`]) |
//! | `await null` / `await new Promise(setImmediate)` | [`yield_now`] / [`yield_to_loop`] |
//! | `await sleep(ms)` | [`time::sleep`] |
//! | fake timers in tests (`jest.useFakeTimers`, `mock.timers.tick(ms)`) | [`Builder::virtual_time`], [`time::pause`] / [`time::resume`] / [`time::advance`] |
//! | `fs.promises.readFile`, `crypto.pbkdf2`, other threadpool work | [`fs::read`], [`spawn_blocking`] |
//! | `queueMicrotask` batching (`scheduleUpdate`), `MutationObserver` | [`observe::Observer`] |
//! | `requestAnimationFrame` / `cancelAnimationFrame`, the rendering step | [`frame::request_animation_frame`], [`frame::frames`], [`Builder::frame_rate`], [`Builder::on_render`] |
//! | `new Promise(..)`, `.then` / `.catch` / `.finally`, `await p` | [`promise::Promise`] |
//! | `.then(v => otherPromise)`, `for await (const x of promises)` | [`promise::Promise::then_promise`], [`promise::in_order`] |
//! | `await p` of a value that cannot be copied | [`promise::Promise::take`] |
//! | `Promise.all` / `allSettled` / `race` / `any` | [`promise::all`], [`promise::all_settled`], [`promise::race`], [`promise::any`] |
//! | `AbortController` / `AbortSignal`, `AbortSignal.abort(reason)` | [`AbortController`] / [`AbortSignal`], [`abortable`], [`AbortSignal::abort`] |
//! | `AbortSignal.timeout(ms)` / `AbortSignal.any([..])` | [`AbortSignal::timeout`] / [`AbortSignal::any`] |
//! | `process.on('unhandledRejection')`, `process.exit()`, `child_process`, signals | [`process`] |
//! | `net.createServer` / `net.connect` / `dgram` | [`net::TcpListener`], [`net::TcpStream`], [`net::UdpSocket`], Unix sockets |
//! | a libuv handle on any descriptor | [`io::Async`] |
//! | `performance.eventLoopUtilization()`, `monitorEventLoopDelay()` | [`metrics::event_loop_utilization`], [`metrics::monitor_event_loop_delay`] |
//!
//! # Observing the loop
//!
//! [`metrics`] is always on: utilization (idle is time blocked in the
//! poller), a [`metrics::LoopStats`] snapshot of counts and phase times, and
//! an event-loop delay histogram once asked for. Every task records where it
//! was spawned and every callback where it was registered, so reports name
//! them: [`Builder::on_long_task`] reports each callback or task poll that
//! held the loop too long, with its [`metrics::Work`] and [`metrics::Phase`].
//! While such an observer is installed the loop reads the clock around
//! everything it runs; without one it pays one branch per checkpoint.
//!
//! `run` has Node's semantics (it returns once the loop is idle);
//! [`block_on`] has tokio's (it returns when its future is done).
//!
//! # Attributes
//!
//! With the default `macros` feature, [`#[jsloop::main]`](macro@main) turns
//! an `async fn main` into a program whose main script it is (`run`, or
//! `block_on` with that option), and [`#[jsloop::test]`](macro@test) runs
//! an `async fn` test on a runtime of its own; both take options for the
//! [`Builder`] (`virtual_time`, `worker_threads = N`, ...).
//!
//! # Features and platforms
//!
//! `macros` (default): the attributes above. `hyper`: hyper 1.x's runtime
//! traits (`io::HyperIo`, `io::HyperExecutor`, `io::HyperTimer`).
//! `criterion`: criterion's `AsyncExecutor` for `&Runtime`.
//!
//! jsloop runs on Unix: Linux is tested; macOS and the BSDs are written
//! for (kqueue through `polling`, child exits through `SIGCHLD`). On other
//! targets the build stops with a message that says so.

#![warn(missing_docs, missing_debug_implementations, clippy::undocumented_unsafe_blocks)]

pub mod abort;
mod context;
pub mod dump;
mod event_loop;
pub mod events;
pub mod frame;
pub mod fs;
mod immediate;
mod int_map;
pub mod io;
mod keep_alive;
mod listeners;
mod loop_observers;
pub mod metrics;
mod microtask;
pub mod net;
pub mod observe;
mod oneshot;
mod pool;
pub mod process;
mod progress;
pub mod promise;
mod reactor;
mod remote;
mod runtime;
mod spawner;
mod sync;
mod task;
pub mod time;
pub mod trace;
mod watchdog;
pub mod worker;

/// The remote-wake handshakes (the remote queue, a message port's inbox, a
/// socket's readiness marks, a moved `JoinHandle`'s relay, the loop's
/// park), exposed for the loom model in `tests/loom.rs`.
#[cfg(jsloop_loom)]
#[doc(hidden)]
pub mod loom_model {
    pub use crate::io::marks::Marks;
    pub use crate::reactor::{Park, Place, Poller};
    pub use crate::remote::{GuardCount, RemoteQueue};
    pub use crate::sync::{QueuedFlag, StopRequest};
    pub use crate::task::foreign::Relay;
    pub use crate::worker::inbox::Inbox;
}

#[cfg(feature = "criterion")]
mod criterion_support;

pub use abort::{AbortController, AbortSignal, abortable};
pub use immediate::{Immediate, YieldToLoop, clear_immediate, set_immediate, yield_to_loop};
pub use keep_alive::{KeepAlive, keep_alive};
pub use microtask::{next_tick, queue_microtask};
pub use pool::spawn_blocking;
pub use reactor::IoDriver;
pub use runtime::{Builder, Handle, Runtime, block_on, run};
pub use spawner::{RemoteJoinHandle, Spawner};
pub use task::{JoinError, JoinHandle, TaskId, YieldNow, spawn, spawn_now, yield_now};
pub use time::{Timer, clear_interval, clear_timeout, set_interval, set_timeout};

#[cfg(feature = "macros")]
pub use jsloop_macros::{main, test};
