//! Entry points: `Runtime`, its `Builder`, `run` and `block_on`.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;

use crate::loop_observers::{LoopObserver, Observers};
use crate::metrics::{EventLoopUtilization, LongTask, LongTaskWatch, LoopStats, Stall};
use crate::spawner::Spawner;
use std::rc::Rc;
use std::time::Duration;

use futures_task::{FutureObj, LocalFutureObj, LocalSpawn, Spawn, SpawnError};

use crate::context;
use crate::dump::{self, DumpHandle, TaskDump};
use crate::event_loop::{Core, Mode, PanicHandler};
use crate::frame::RenderStep;
use crate::keep_alive::KeepAlive;
use crate::pool::pool_size;
use crate::process::UnhandledRejections;
use crate::progress::WakeBudget;
use crate::reactor::{IoDriver, Poller};
use crate::remote::Shared;
use crate::task::JoinHandle;
use crate::trace::{DEFAULT_CAPACITY, Trace, TraceRecorder};
use crate::watchdog::{StallHandler, StallWatch, print_stall};

/// A jsloop event loop.
///
/// Most programs call [`jsloop::run`](crate::run) or
/// [`jsloop::block_on`](crate::block_on), which build one; a `Runtime` gives
/// explicit control (several `block_on` calls on one loop, virtual time, a
/// panic handler). It is tied to the thread that created it (`!Send`).
///
/// Dropping the runtime drops every task's future, queued callback and
/// timer; awaiting a `JoinHandle` of a task dropped that way yields an
/// aborted [`JoinError`](crate::JoinError). Worker-pool jobs that have not
/// started never run; idle workers are joined, and a job still running is
/// left to finish on its own thread, its result dropped (see
/// [`shutdown_timeout`](Runtime::shutdown_timeout) to wait for it).
///
/// # Examples
///
/// ```
/// let rt = jsloop::Runtime::new()?;
/// let handle = rt.spawn(async { 1 + 1 });
/// assert_eq!(rt.block_on(handle).unwrap(), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    core: Rc<Core>,
}

impl Runtime {
    /// A runtime with the default settings.
    ///
    /// # Errors
    ///
    /// Fails if the OS poller cannot be created (e.g. out of file
    /// descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// // One loop, several entries: each `block_on` runs it again.
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// assert_eq!(rt.block_on(async { 2 }), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A builder to configure a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// // An hour of virtual time passes instantly.
    /// rt.block_on(async { jsloop::time::sleep(Duration::from_secs(3600)).await });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs `future` as the main script, with Node's semantics: returns its
    /// output once it has completed *and* the loop has nothing left to do
    /// (no timers, immediates, queued work or `KeepAlive` guards).
    ///
    /// Spawned tasks still pending then wait on something the loop does not
    /// track, so `run` does not wait for them (as Node exits with promises
    /// nothing will settle): they stay on the runtime until it is dropped
    /// ([`jsloop::run`](crate::run) drops it at once). Count them with
    /// [`pending_tasks`](Runtime::pending_tasks); with
    /// [`Builder::warnings`] (on in debug builds) `run` names them on
    /// stderr.
    ///
    /// # Panics
    ///
    /// - if the loop runs out of work while `future` is still pending (Node
    ///   would exit with an unsettled top-level await);
    /// - if a runtime is already running on this thread;
    /// - with the panic of `future`, or of a callback when no
    ///   [`on_uncaught_panic`](Builder::on_uncaught_panic) handler is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = jsloop::Runtime::new()?;
    /// rt.run(async {
    ///     // Not awaited, yet `run` waits for it, as Node would.
    ///     jsloop::set_timeout(Duration::from_millis(1), || println!("timer"));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run<F: Future>(&self, future: F) -> F::Output {
        self.core.drive(future, Mode::Run)
    }

    /// Runs the loop until `future` completes and returns its output at the
    /// end of that microtask checkpoint, like tokio's `block_on`. Tasks and
    /// timers still pending stay on the runtime for the next call.
    ///
    /// If the loop runs out of work while `future` is pending, `block_on`
    /// keeps waiting only while a clone of its waker is held somewhere (a
    /// thread may still wake it); otherwise it panics.
    ///
    /// # Panics
    ///
    /// As [`run`](Runtime::run).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// assert_eq!(rt.block_on(async { 40 + 2 }), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.core.drive(future, Mode::BlockOn)
    }

    /// The loop's exit code ([`process::exit_code`](crate::process::exit_code)),
    /// readable after `run` returned.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// assert_eq!(rt.exit_code(), 0);
    /// rt.run(async { jsloop::process::set_exit_code(9) });
    /// assert_eq!(rt.exit_code(), 9);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn exit_code(&self) -> i32 {
        self.core.process.exit_code()
    }

    /// Spawns a task on this runtime from outside it; it starts when the
    /// loop next runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let rt = jsloop::Runtime::new()?;
    /// let started = Rc::new(Cell::new(false));
    /// let handle = rt.spawn({
    ///     let started = started.clone();
    ///     async move {
    ///         started.set(true);
    ///         7
    ///     }
    /// });
    /// assert!(!started.get()); // the loop is not running yet
    /// assert_eq!(rt.block_on(handle).unwrap(), 7);
    /// assert!(started.get());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn(future, Location::caller())
    }

    /// A cloneable handle to spawn onto this runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let handle = rt.handle();
    /// // The handle can go where the runtime can't, e.g. into the main future.
    /// let n = rt.block_on(async move { handle.spawn(async { 3 }).await.unwrap() });
    /// assert_eq!(n, 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handle(&self) -> Handle {
        Handle { core: self.core.clone() }
    }

    /// A guard that keeps this runtime's loop alive; see [`keep_alive`](crate::keep_alive).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let (tx, rx) = futures::channel::oneshot::channel();
    /// // Taken before the loop runs (where `jsloop::keep_alive()` would panic).
    /// let guard = rt.keep_alive();
    /// std::thread::spawn(move || {
    ///     tx.send("hello").unwrap();
    ///     drop(guard);
    /// });
    /// // Without the guard, `run` could find nothing left to do and panic.
    /// assert_eq!(rt.run(async { rx.await.unwrap() }), "hello");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn keep_alive(&self) -> KeepAlive {
        KeepAlive::new(self.core.shared.clone())
    }

    /// Spawned tasks whose future is still pending: after `run` returns,
    /// the ones waiting on something the loop does not track (a std
    /// thread's channel with no [`keep_alive`](crate::keep_alive) guard, a
    /// promise nothing will settle). They stay on the runtime — a later
    /// `run` / `block_on` polls them when they are woken — and are dropped
    /// with it (their handles then report an aborted
    /// [`JoinError`](crate::JoinError)).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().warnings(false).build()?;
    /// let (tx, rx) = futures::channel::oneshot::channel::<u32>();
    /// let task = rt.spawn(async move { rx.await.unwrap() });
    /// rt.run(async {}); // nothing keeps the loop alive for `rx`
    /// assert_eq!(rt.pending_tasks(), 1);
    /// tx.send(4).unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 4);
    /// assert_eq!(rt.pending_tasks(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pending_tasks(&self) -> usize {
        self.core.tasks.borrow().len()
    }

    /// The loop's counters and times so far (see
    /// [`metrics::stats`](crate::metrics::stats), which reads them from inside
    /// the loop).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// rt.block_on(async { jsloop::spawn(async {}).await.unwrap() });
    /// assert_eq!(rt.stats().tasks_spawned, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stats(&self) -> LoopStats {
        self.core.stats()
    }

    /// The I/O driver this runtime's poll phase waits on:
    /// [`IoDriver::Epoll`] or [`IoDriver::IoUring`], never `Auto` (see
    /// [`Builder::io_driver`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::IoDriver;
    ///
    /// let rt = jsloop::Runtime::new()?;
    /// // `Auto`: epoll, unless `JSLOOP_IO=io_uring` forced the ring.
    /// assert!(matches!(rt.io_driver(), IoDriver::Epoll | IoDriver::IoUring));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn io_driver(&self) -> IoDriver {
        self.core.shared.poller.driver()
    }

    /// The runtime's id in the runtime table (for `Worker::terminate`).
    pub(crate) fn id(&self) -> u32 {
        self.core.id()
    }

    /// A `Send` handle that spawns onto this runtime from any thread (see
    /// [`Spawner`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let spawner = rt.spawner();
    /// let handle = std::thread::spawn(move || spawner.spawn(async { 2 + 2 }).unwrap())
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(handle).unwrap(), 4);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawner(&self) -> Spawner {
        Spawner::new(self.core.id())
    }

    /// The loop's utilization so far (see
    /// [`metrics::event_loop_utilization`](crate::metrics::event_loop_utilization)).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// assert_eq!(rt.event_loop_utilization().utilization, 0.0); // not run yet
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn event_loop_utilization(&self) -> EventLoopUtilization {
        self.core.metrics.utilization()
    }

    /// How many wakes the progress rule has deferred to the check phase
    /// since the runtime was built: each is a wake past the budget of one
    /// macrotask and its checkpoint (see [`Builder::strict_microtasks`]).
    /// Zero for every program Node itself would finish in the same order.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    ///
    /// let rt = jsloop::Runtime::builder().warnings(false).build()?;
    /// rt.block_on(async {
    ///     // A tokio-style spin: it ends only because the loop gets its turn.
    ///     let done = Rc::new(Cell::new(false));
    ///     let flag = done.clone();
    ///     jsloop::set_timeout(Duration::from_millis(1), move || flag.set(true));
    ///     while !done.get() {
    ///         jsloop::yield_now().await;
    ///     }
    /// });
    /// assert!(rt.deferred_wakes() > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn deferred_wakes(&self) -> u64 {
        self.core.microtasks.budget.deferred()
    }

    /// A [`TaskDump`] of this runtime's live tasks: their states, and what
    /// each waits on (see [`jsloop::dump`](crate::dump)). Works before,
    /// between and after `run` / `block_on` calls; inside the loop, use
    /// [`Handle::dump`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let task = rt.spawn(async {});
    /// let dump = rt.dump();
    /// assert_eq!(dump.tasks()[0].id(), task.id());
    /// println!("{dump}");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dump(&self) -> TaskDump {
        dump::scan::take(&self.core)
    }

    /// A `Send` handle that takes this runtime's [`TaskDump`]s from other
    /// threads (see [`DumpHandle`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let dumps = rt.dump_handle();
    /// let guard = rt.keep_alive(); // keeps the loop running for the question
    /// let watcher = std::thread::spawn(move || {
    ///     let dump = dumps.dump();
    ///     drop(guard);
    ///     dump
    /// });
    /// rt.run(async {});
    /// assert!(watcher.join().unwrap()?.tasks().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dump_handle(&self) -> DumpHandle {
        DumpHandle::new(self.core.id())
    }

    /// Drops the runtime, giving worker-pool jobs that are still running up
    /// to `timeout` to finish. (Plain `drop` gives them none: idle workers
    /// are joined, running ones are left to finish on their own threads and
    /// their results are dropped. Queued jobs that never started never run.)
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = jsloop::Runtime::new()?;
    /// rt.block_on(async {
    ///     drop(jsloop::spawn_blocking(|| std::thread::sleep(Duration::from_millis(5))));
    /// });
    /// rt.shutdown_timeout(Duration::from_secs(1));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) {
        self.core.pool.set_shutdown_wait(timeout);
        drop(self);
    }

    /// What the loop recorded since the runtime was built or the last take,
    /// for Perfetto (see [`jsloop::trace`](crate::trace)); the ring starts
    /// over. An empty [`Trace`] if the runtime was built without
    /// [`Builder::trace`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().trace().build()?;
    /// rt.run(async {
    ///     jsloop::queue_microtask(|| {});
    /// });
    /// let trace = rt.take_trace();
    /// assert!(!trace.is_empty());
    ///
    /// let untraced = jsloop::Runtime::new()?;
    /// untraced.run(async {});
    /// assert!(untraced.take_trace().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take_trace(&self) -> Trace {
        self.core.take_trace().unwrap_or_default()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Shut down first, then leave the table: a `JoinHandle` on another
        // thread that finds the runtime gone from the table touches its task
        // cell directly, and the table's mutex orders this whole shutdown
        // (every task finished, the loop done with every cell) before that
        // lookup (`task/foreign.rs`). Remote events that arrive meanwhile
        // are dropped with the queue.
        self.core.shut_down();
        self.core.shared.unregister();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("id", &self.core.id())
            .field("live_tasks", &self.core.tasks.borrow().len())
            .field("pending_timers", &self.core.timers.len())
            .finish_non_exhaustive()
    }
}

/// Configures a [`Runtime`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = jsloop::Runtime::builder()
///     .virtual_time(true)
///     .on_uncaught_panic(|_payload| eprintln!("a callback panicked"))
///     .build()?;
/// rt.run(async {
///     jsloop::time::sleep(Duration::from_secs(3600)).await; // instant
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Default)]
pub struct Builder {
    worker_threads: Option<usize>,
    virtual_time: bool,
    panic_handler: Option<PanicHandler>,
    strict_microtasks: bool,
    warnings: Option<bool>,
    /// `track_tasks`: install the task tracker.
    track_tasks: bool,
    /// Long-task watch, trace, watchdog: see `src/loop_observers.rs`.
    observers: Vec<Box<dyn LoopObserver>>,
    /// `trace` / `trace_capacity`: record the last this many events.
    trace_capacity: Option<usize>,
    /// `stall_watchdog`: its threshold and handler, started by `build`.
    stall_watchdog: Option<(Duration, StallHandler)>,
    unhandled_rejections: UnhandledRejections,
    /// `frame_rate`: frames per second (`None`: the default, 60).
    frame_rate: Option<u32>,
    /// `on_render`: the frame phase's render step.
    render: Option<RenderStep>,
    /// `io_driver`: what the poll phase waits on.
    io_driver: IoDriver,
}

impl Builder {
    /// The default settings: real time, callback panics propagate.
    ///
    /// # Examples
    ///
    /// ```
    /// // The same as `jsloop::Runtime::builder()`.
    /// let rt = jsloop::Builder::new().build()?;
    /// assert_eq!(rt.block_on(async { "default settings" }), "default settings");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The number of worker-pool threads for [`spawn_blocking`](crate::spawn_blocking)
    /// and [`fs`](crate::fs): like Node's `UV_THREADPOOL_SIZE`. Without it,
    /// the `JSLOOP_THREADPOOL_SIZE` environment variable, else 4. Values
    /// above 1024 are capped at 1024, as libuv does; the threads start on
    /// first use.
    ///
    /// [`build`](Builder::build) fails with `InvalidInput` for 0 (or an
    /// environment variable that is not a number).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().worker_threads(2).build()?;
    /// assert_eq!(rt.block_on(async { jsloop::spawn_blocking(|| 7).await }).unwrap(), 7);
    ///
    /// let error = jsloop::Runtime::builder().worker_threads(0).build().unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn worker_threads(mut self, threads: usize) -> Builder {
        self.worker_threads = Some(threads);
        self
    }

    /// With virtual time the clock stands still while anything can run and
    /// jumps straight to the next timer's deadline when the loop would
    /// otherwise sleep: timer-heavy code runs instantly and deterministically
    /// (tests). [`time::Instant::now`](crate::time::Instant::now) reads it.
    /// It does not jump while something real is in flight (a pool job, a
    /// task waiting on a socket, a `KeepAlive` elsewhere): the loop waits for
    /// that in real time and the clock moves by the wait, so a timeout
    /// around real work does not fire early. [`time::pause`](crate::time::pause),
    /// [`time::resume`](crate::time::resume) and
    /// [`time::advance`](crate::time::advance) control it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::{sleep, Instant};
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     jsloop::yield_now().await;
    ///     assert_eq!(Instant::now(), start); // stands still while work runs
    ///     sleep(Duration::from_secs(86_400)).await; // a day, instantly
    ///     assert_eq!(start.elapsed(), Duration::from_secs(86_400)); // exactly
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn virtual_time(mut self, enabled: bool) -> Builder {
        self.virtual_time = enabled;
        self
    }

    /// How many frame slots per second [`jsloop::frame`](crate::frame)
    /// paces its frames to (60 by default).
    ///
    /// # Errors
    ///
    /// [`build`](Builder::build) fails with `InvalidInput` for 0 or more
    /// than 1,000 frames per second.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = jsloop::Runtime::builder().frame_rate(50).virtual_time(true).build()?;
    /// rt.run(async {
    ///     jsloop::frame::request_animation_frame(|first| {
    ///         jsloop::frame::request_animation_frame(move |next| {
    ///             assert_eq!(next.timestamp() - first.timestamp(), Duration::from_millis(20));
    ///         });
    ///     });
    /// });
    /// assert!(jsloop::Runtime::builder().frame_rate(0).build().is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn frame_rate(mut self, frames_per_second: u32) -> Builder {
        self.frame_rate = Some(frames_per_second);
        self
    }

    /// The frame phase's render step: run once per frame, after that
    /// frame's animation-frame callbacks and their microtasks (the
    /// browser's style, layout and paint), with the frame's
    /// [`FrameInfo`](crate::frame::FrameInfo). A panic in it is handled like
    /// a callback's ([`on_uncaught_panic`](Builder::on_uncaught_panic)), and
    /// the step runs again next frame.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let position = Rc::new(Cell::new(0));
    /// let drawn = Rc::new(Cell::new(Vec::new()));
    /// let rt = jsloop::Runtime::builder()
    ///     .virtual_time(true)
    ///     .on_render({
    ///         let (position, drawn) = (position.clone(), drawn.clone());
    ///         move |_frame| {
    ///             let mut seen = drawn.take();
    ///             seen.push(position.get()); // draw once the state settled
    ///             drawn.set(seen);
    ///         }
    ///     })
    ///     .build()?;
    /// rt.run(async move {
    ///     jsloop::frame::request_animation_frame(move |_| position.set(position.get() + 10));
    /// });
    /// assert_eq!(drawn.take(), [10]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_render(mut self, render: impl FnMut(crate::frame::FrameInfo) + 'static) -> Builder {
        self.render = Some(Box::new(render));
        self
    }

    /// Handles panics that escape callbacks (timers, immediates, microtasks,
    /// next-ticks) instead of propagating them out of `run` / `block_on`:
    /// Node's `process.on('uncaughtException')`. The loop carries on.
    ///
    /// A panic inside a task is caught and reported by its `JoinHandle`; if
    /// nobody will read that handle (the task was detached, or the handle is
    /// dropped unread while the runtime runs), the panic is uncaught and
    /// comes here too, instead of vanishing. Without a handler such a panic
    /// only shows through the panic hook's message, and the loop goes on.
    ///
    /// A promise rejection nothing handled comes here as an
    /// [`UnhandledRejection`](crate::process::UnhandledRejection) payload
    /// (Node's origin `'unhandledRejection'`), as the runtime's
    /// [`unhandled_rejections`](Builder::unhandled_rejections) mode says.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// let rt = jsloop::Runtime::builder()
    ///     .on_uncaught_panic({
    ///         let log = log.clone();
    ///         move |payload| {
    ///             let message = payload.downcast_ref::<&str>().unwrap();
    ///             log.borrow_mut().push(format!("caught {message}"));
    ///         }
    ///     })
    ///     .build()?;
    /// rt.run({
    ///     let log = log.clone();
    ///     async move {
    ///         jsloop::set_immediate(|| panic!("boom"));
    ///         jsloop::set_immediate(move || log.borrow_mut().push("carried on".to_owned()));
    ///     }
    /// });
    /// assert_eq!(*log.borrow(), ["caught boom", "carried on"]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_uncaught_panic(mut self, handler: impl Fn(Box<dyn Any + Send>) + 'static) -> Builder {
        self.panic_handler = Some(Box::new(handler));
        self
    }

    /// Node's exact checkpoint: with `true`, wakes are never deferred, so
    /// two futures that wake each other forever hold the loop forever, as an
    /// endless promise chain holds Node. The default (`false`) applies the
    /// progress rule (see the crate docs, "The progress rule"): past 8,192
    /// wakes through a `Waker` (or 262,144 `yield_now` turns) in one
    /// macrotask and its checkpoint, a woken task waits for the check phase
    /// so that timers and I/O run first. Ticks, microtasks and promise
    /// reactions are never deferred either way, so the choice matters only
    /// to programs that would otherwise starve the loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let rt = jsloop::Runtime::builder().strict_microtasks(true).build()?;
    /// let turns = Rc::new(Cell::new(0));
    /// rt.block_on({
    ///     let turns = turns.clone();
    ///     async move {
    ///         // 300,000 yields in one checkpoint: past the default budget,
    ///         // but strict mode never hands the turn to the loop.
    ///         let immediate_ran = Rc::new(Cell::new(false));
    ///         let flag = immediate_ran.clone();
    ///         jsloop::set_immediate(move || flag.set(true));
    ///         for _ in 0..300_000 {
    ///             jsloop::yield_now().await;
    ///             assert!(!immediate_ran.get());
    ///             turns.set(turns.get() + 1);
    ///         }
    ///     }
    /// });
    /// assert_eq!(turns.get(), 300_000);
    /// assert_eq!(rt.deferred_wakes(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn strict_microtasks(mut self, strict: bool) -> Builder {
        self.strict_microtasks = strict;
        self
    }

    /// Diagnostics on stderr, each naming the tasks involved by the type of
    /// their future: a one-time warning the first time the progress rule
    /// defers a wake (see [`strict_microtasks`](Builder::strict_microtasks)),
    /// and a warning each time [`run`](Runtime::run) returns while spawned
    /// tasks are still pending (see [`Runtime::pending_tasks`]). On by
    /// default in debug builds, off in release builds.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().warnings(false).build()?;
    /// rt.run(async {
    ///     // Waits on nothing the loop tracks: `run` returns without it, and
    ///     // says so on stderr only if warnings are on.
    ///     jsloop::spawn(std::future::pending::<()>());
    /// });
    /// assert_eq!(rt.pending_tasks(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn warnings(mut self, warn: bool) -> Builder {
        self.warnings = Some(warn);
        self
    }

    /// What the loop does with a promise rejection nothing handled by the
    /// end of its checkpoint: Node's `--unhandled-rejections` (default
    /// [`UnhandledRejections::Throw`], as Node's since v15). See
    /// [`process::on_unhandled_rejection`](crate::process::on_unhandled_rejection).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::UnhandledRejections;
    /// use jsloop::promise::Promise;
    ///
    /// let rt = jsloop::Runtime::builder()
    ///     .unhandled_rejections(UnhandledRejections::Strict)
    ///     .on_uncaught_panic(|_| println!("1: raised first, as an uncaught error"))
    ///     .build()?;
    /// rt.run(async {
    ///     jsloop::process::on_unhandled_rejection(|_, _| println!("2: then the listener"));
    ///     Promise::<(), _>::reject("x");
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unhandled_rejections(mut self, mode: UnhandledRejections) -> Builder {
        self.unhandled_rejections = mode;
        self
    }

    /// Calls `handler` after every macrotask, microtask or task poll that
    /// ran for `threshold` or longer, with what ran (a task's id and spawn
    /// location, or the callback's kind and where it was registered), for
    /// how long, and in which phase: the loop's blocked call stacks, named.
    ///
    /// While a handler is set the loop reads the clock around everything it
    /// runs (about two clock reads per callback); without one, it does not.
    /// The handler runs on the loop right after the long work; a panic in it
    /// is an uncaught panic like any callback's (see
    /// [`on_uncaught_panic`](Builder::on_uncaught_panic)). A task's poll that
    /// runs long inside a callback (`spawn_now`) counts as that callback's
    /// time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = jsloop::Runtime::builder()
    ///     .on_long_task(Duration::from_millis(50), |long| eprintln!("slow: {long}"))
    ///     .build()?;
    /// rt.block_on(async {
    ///     jsloop::spawn(async { std::thread::sleep(Duration::from_millis(60)) }).await.unwrap();
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_long_task(
        mut self,
        threshold: Duration,
        handler: impl Fn(&LongTask) + 'static,
    ) -> Builder {
        self.observers.push(Box::new(LongTaskWatch { threshold, handler: Box::new(handler) }));
        self
    }

    /// Keeps, for [task dumps](crate::dump), when each task was first
    /// polled and how many polls it has had: [`TaskInfo::age`] and
    /// [`TaskInfo::polls`] are `None` without it.
    ///
    /// The task itself stays the same size: the record lives beside the
    /// loop, one entry per registry slot, updated as each poll begins. Like
    /// [`on_long_task`](Builder::on_long_task), it makes the loop read the
    /// clock around every callback and poll; off (the default), it costs
    /// nothing.
    ///
    /// [`TaskInfo::age`]: crate::dump::TaskInfo::age
    /// [`TaskInfo::polls`]: crate::dump::TaskInfo::polls
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().track_tasks(true).build()?;
    /// let handle = rt.handle();
    /// rt.block_on(async move {
    ///     let task = jsloop::spawn(std::future::pending::<()>());
    ///     jsloop::yield_now().await;
    ///     let dump = handle.dump();
    ///     let info = dump.task(task.id()).unwrap();
    ///     assert_eq!(info.polls(), Some(1));
    ///     assert!(info.age().is_some());
    ///     task.abort();
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn track_tasks(mut self, track: bool) -> Builder {
        self.track_tasks = track;
        self
    }

    /// Records what the loop runs, for Perfetto: each iteration, phase,
    /// callback and task poll as a slice, arrows from what queued work to
    /// what ran it, queue depths, and the worker pool's jobs (see
    /// [`jsloop::trace`](crate::trace)). The last
    /// [`DEFAULT_CAPACITY`](crate::trace::DEFAULT_CAPACITY) events are kept
    /// (see [`trace_capacity`](Builder::trace_capacity)); take them with
    /// [`Runtime::take_trace`] or
    /// [`trace::write_chrome_json`](crate::trace::write_chrome_json).
    ///
    /// While recording, the loop reads the clock around everything it runs
    /// and takes a lock per event; without `trace()` it does neither.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().trace().build()?;
    /// rt.run(async {
    ///     jsloop::set_immediate(|| {});
    /// });
    /// let path = std::env::temp_dir().join("jsloop-builder-trace.json");
    /// rt.take_trace().save(&path)?; // open at https://ui.perfetto.dev
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn trace(mut self) -> Builder {
        self.trace_capacity.get_or_insert(DEFAULT_CAPACITY);
        self
    }

    /// Records a trace (as [`trace`](Builder::trace)) in a ring of
    /// `events` events: the last `events` are kept, and the oldest dropped
    /// to make room ([`Trace::dropped`] counts them).
    ///
    /// [`build`](Builder::build) fails with `InvalidInput` for 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().trace_capacity(1_000).build()?;
    /// rt.run(async {
    ///     for _ in 0..1_000 {
    ///         jsloop::set_immediate(|| {});
    ///     }
    /// });
    /// let trace = rt.take_trace();
    /// assert_eq!(trace.len(), 1_000);
    /// assert!(trace.dropped() > 0);
    ///
    /// let error = jsloop::Runtime::builder().trace_capacity(0).build().unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn trace_capacity(mut self, events: usize) -> Builder {
        self.trace_capacity = Some(events);
        self
    }

    /// Starts a watchdog thread that reports on stderr, *while* it lasts,
    /// each time the loop is stuck for `threshold` or longer, and again
    /// when the loop moves on: one line each, such as
    ///
    /// ```text
    /// jsloop: the loop has been stuck for 1.2s in task 3.0 spawned at src/main.rs:10:5 (poll phase)
    /// jsloop: the loop returned after being stuck for 2.5s in task 3.0 spawned at src/main.rs:10:5 (poll phase)
    /// ```
    ///
    /// Stuck means: no callback or task poll finished or started and no
    /// phase began or ended for `threshold`, while the loop was neither
    /// blocked in the poller (idle) nor outside `run` / `block_on`. Unlike
    /// [`on_long_task`](Builder::on_long_task), this names a callback that
    /// never returns. See [`stall_watchdog_with`](Builder::stall_watchdog_with)
    /// for a handler of one's own, the cost and the details.
    ///
    /// [`build`](Builder::build) fails with `InvalidInput` for a zero
    /// threshold.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = jsloop::Runtime::builder().stall_watchdog(Duration::from_secs(1)).build()?;
    /// rt.run(async {
    ///     jsloop::time::sleep(Duration::from_millis(10)).await; // idle: not a stall
    /// });
    ///
    /// let error = jsloop::Runtime::builder().stall_watchdog(Duration::ZERO).build().unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stall_watchdog(self, threshold: Duration) -> Builder {
        self.stall_watchdog_with(threshold, print_stall)
    }

    /// The stall watchdog of [`stall_watchdog`](Builder::stall_watchdog)
    /// with a handler of one's own: `handler` gets a [`Stall`] once while
    /// the loop is stuck (with the [`Work`](crate::metrics::Work) in
    /// progress, its phase and how long so far) and once when it moves on
    /// (how long in all). A later call replaces an earlier one.
    ///
    /// The handler runs on the watchdog's thread, never on the loop's, and
    /// the loop never waits for it: a handler that blocks delays only the
    /// next report. A panic in it is caught and printed on stderr, and the
    /// watchdog goes on. The watchdog looks four times per threshold (at
    /// most every millisecond), so a stuck item is reported by 1.25
    /// thresholds (a stall in the loop's own code between items, which it
    /// times from its first sight of it, by 1.5).
    /// A [long-task](Builder::on_long_task) handler that blocks counts as
    /// the item it reports. The thread stops once the runtime is dropped
    /// (after reporting the return of a stall the loop ended), without
    /// waiting for a handler still running.
    ///
    /// Cost: none without a watchdog. With one, the loop reads the clock
    /// around every callback and task poll (as for `on_long_task`) and,
    /// per item, makes two atomic swaps and takes one uncontended lock
    /// (measured over a million `yield_now` polls in a release build: some
    /// 25 ns per item, on top of the 55 ns that observing items costs at
    /// all).
    ///
    /// # Errors
    ///
    /// [`build`](Builder::build) fails with `InvalidInput` for a zero
    /// threshold, or with the OS's error if the thread cannot be spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use jsloop::metrics::{StallState, Work};
    ///
    /// let stalls = Arc::new(Mutex::new(Vec::new()));
    /// let rt = jsloop::Runtime::builder()
    ///     .stall_watchdog_with(Duration::from_millis(20), {
    ///         let stalls = stalls.clone();
    ///         move |stall| stalls.lock().unwrap().push(*stall)
    ///     })
    ///     .build()?;
    /// let id = rt.block_on(async {
    ///     let task = jsloop::spawn(async { std::thread::sleep(Duration::from_millis(300)) });
    ///     let id = task.id();
    ///     task.await.unwrap();
    ///     id
    /// });
    /// drop(rt); // the watchdog makes its last report and stops
    /// while Arc::strong_count(&stalls) > 1 {
    ///     std::thread::sleep(Duration::from_millis(1));
    /// }
    /// let stalls = stalls.lock().unwrap();
    /// assert!(matches!(stalls[0].work, Some(Work::Task { id: stuck, .. }) if stuck == id));
    /// assert_eq!(stalls[0].state, StallState::Stuck);
    /// assert_eq!(stalls[1].state, StallState::Returned);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stall_watchdog_with(
        mut self,
        threshold: Duration,
        handler: impl Fn(&Stall) + Send + 'static,
    ) -> Builder {
        self.stall_watchdog = Some((threshold, Box::new(handler)));
        self
    }

    /// The OS interface the poll phase waits on ([`IoDriver`]). Without
    /// it, [`IoDriver::Auto`]: `JSLOOP_IO=epoll|io_uring` forces one, else
    /// io_uring where the kernel runs stream sockets on it (Linux 6.0),
    /// epoll elsewhere. Check which one runs with [`Runtime::io_driver`].
    ///
    /// Both drivers deliver readiness in the poll phase, a checkpoint after
    /// each event, so the order of callbacks is the same on either.
    /// [`build`](Builder::build) fails when io_uring is forced here and the
    /// kernel does not offer it (the error says why), and with
    /// `InvalidInput` for a `JSLOOP_IO` that names no driver.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::IoDriver;
    ///
    /// let rt = jsloop::Runtime::builder().io_driver(IoDriver::Epoll).build()?;
    /// assert_eq!(rt.io_driver(), IoDriver::Epoll);
    ///
    /// match jsloop::Runtime::builder().io_driver(IoDriver::IoUring).build() {
    ///     Ok(rt) => assert_eq!(rt.io_driver(), IoDriver::IoUring),
    ///     Err(error) => println!("no io_uring here: {error}"),
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn io_driver(mut self, driver: IoDriver) -> Builder {
        self.io_driver = driver;
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    ///
    /// Fails if the OS poller cannot be created (or io_uring was forced and
    /// is unavailable), and with `InvalidInput`
    /// for a bad setting ([`worker_threads`](Builder::worker_threads)`(0)`,
    /// a zero [`stall_watchdog`](Builder::stall_watchdog) threshold).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = match jsloop::Runtime::builder().build() {
    ///     Ok(rt) => rt,
    ///     Err(error) => panic!("no poller: {error}"),
    /// };
    /// assert_eq!(rt.block_on(async { 2 + 2 }), 4);
    /// ```
    pub fn build(self) -> io::Result<Runtime> {
        let pool_size = pool_size(self.worker_threads)?;
        let frame_rate = crate::frame::checked_rate(self.frame_rate)?;
        let trace = self.trace_capacity.map(TraceRecorder::new).transpose()?;
        let job_observer = trace.as_ref().map(TraceRecorder::job_observer);
        let mut observers = self.observers;
        observers.extend(trace.map(|trace| Box::new(trace) as Box<dyn LoopObserver>));
        if self.track_tasks {
            observers.push(Box::<dump::tracker::TaskTracker>::default());
        }
        if let Some((threshold, handler)) = self.stall_watchdog {
            // Last, so that a long-task handler's time counts as its item's.
            observers.push(Box::new(StallWatch::start(threshold, handler)?));
        }
        let shared = Shared::register(Poller::with_driver(self.io_driver)?);
        let warn = self.warnings.unwrap_or(cfg!(debug_assertions));
        let budget = WakeBudget::new(self.strict_microtasks, warn);
        let core = Core::new(
            shared,
            pool_size,
            self.virtual_time,
            self.panic_handler,
            budget,
            warn,
            Observers::new(observers),
            (frame_rate, self.render),
        );
        core.rejections.set_mode(self.unhandled_rejections);
        if let Some(observer) = job_observer {
            core.pool.observe_jobs(observer);
        }
        Ok(Runtime { core })
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("worker_threads", &self.worker_threads)
            .field("virtual_time", &self.virtual_time)
            .field("on_uncaught_panic", &self.panic_handler.is_some())
            .field("strict_microtasks", &self.strict_microtasks)
            .field("warnings", &self.warnings)
            .field("unhandled_rejections", &self.unhandled_rejections)
            .field("track_tasks", &self.track_tasks)
            .field("observers", &self.observers.len())
            .field("trace_capacity", &self.trace_capacity)
            .field("stall_watchdog", &self.stall_watchdog.as_ref().map(|(threshold, _)| threshold))
            .finish()
    }
}

/// A cloneable handle that spawns tasks onto a runtime; implements
/// futures-task's [`LocalSpawn`] and [`Spawn`].
///
/// # Examples
///
/// ```
/// use futures::task::LocalSpawnExt;
///
/// let rt = jsloop::Runtime::new()?;
/// let handle = rt.handle();
/// handle.spawn_local(async { println!("spawned through LocalSpawn") }).unwrap();
/// rt.run(async {});
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    core: Rc<Core>,
}

impl Handle {
    /// A `Send` handle that spawns onto this runtime from any thread (see
    /// [`Spawner`]).
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let spawner = jsloop::Handle::current().spawner();
    ///     let handle = std::thread::spawn(move || spawner.spawn(async { 3 }).unwrap())
    ///         .join()
    ///         .unwrap();
    ///     assert_eq!(handle.await.unwrap(), 3);
    /// });
    /// ```
    pub fn spawner(&self) -> Spawner {
        Spawner::new(self.core.id())
    }

    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let handle = jsloop::Handle::current();
    ///     let task = handle.spawn(async { "spawned through the current handle" });
    ///     assert_eq!(task.await.unwrap(), "spawned through the current handle");
    /// });
    /// ```
    pub fn current() -> Handle {
        context::with_current(|core| Handle {
            core: core.weak().upgrade().expect("a running runtime is alive"),
        })
    }

    /// Spawns a task; see [`Runtime::spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let handle = rt.handle();
    /// let tasks: Vec<_> = (1..=3).map(|i| handle.spawn(async move { i * 10 })).collect();
    /// let sum = rt.block_on(async {
    ///     let mut sum = 0;
    ///     for task in tasks {
    ///         sum += task.await.unwrap();
    ///     }
    ///     sum
    /// });
    /// assert_eq!(sum, 60);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn(future, Location::caller())
    }

    /// A [`TaskDump`] of the runtime's live tasks (see
    /// [`jsloop::dump`](crate::dump)): callable anywhere on the loop thread
    /// — in the main future, inside a task's poll (that task shows as
    /// running), in a callback, or outside `run`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::dump::{TaskState, WaitingOn};
    ///
    /// let rt = jsloop::Runtime::new()?;
    /// let handle = rt.handle();
    /// rt.block_on(async move {
    ///     let sleeper = jsloop::spawn(jsloop::time::sleep(Duration::from_secs(60)));
    ///     let queued = jsloop::spawn(async {});
    ///     let dump = handle.dump();
    ///     assert_eq!(dump.task(queued.id()).unwrap().state(), TaskState::Queued);
    ///     jsloop::yield_now().await;
    ///     let dump = handle.dump();
    ///     let sleeping = dump.task(sleeper.id()).unwrap();
    ///     assert!(matches!(sleeping.waiting_on(), Some(WaitingOn::Timer { .. })));
    ///     sleeper.abort();
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dump(&self) -> TaskDump {
        dump::scan::take(&self.core)
    }

    /// A `Send` handle that takes the runtime's [`TaskDump`]s from other
    /// threads (see [`DumpHandle`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let dumps = rt.handle().dump_handle();
    /// let asker = std::thread::spawn(move || dumps.dump());
    /// drop(rt); // the question is dropped unanswered
    /// let error = asker.join().unwrap().unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::NotConnected);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dump_handle(&self) -> DumpHandle {
        DumpHandle::new(self.core.id())
    }

    #[track_caller]
    fn spawn_obj<F: Future<Output = ()> + 'static>(&self, future: F) -> Result<(), SpawnError> {
        if self.core.is_shut_down() {
            return Err(SpawnError::shutdown());
        }
        drop(self.core.spawn(future, Location::caller()));
        Ok(())
    }
}

impl LocalSpawn for Handle {
    fn spawn_local_obj(&self, future: LocalFutureObj<'static, ()>) -> Result<(), SpawnError> {
        self.spawn_obj(future)
    }

    fn status_local(&self) -> Result<(), SpawnError> {
        if self.core.is_shut_down() { Err(SpawnError::shutdown()) } else { Ok(()) }
    }
}

impl Spawn for Handle {
    fn spawn_obj(&self, future: FutureObj<'static, ()>) -> Result<(), SpawnError> {
        Handle::spawn_obj(self, future)
    }

    fn status(&self) -> Result<(), SpawnError> {
        self.status_local()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("id", &self.core.id()).finish_non_exhaustive()
    }
}

/// Runs `future` as the main script on a new runtime, with Node's
/// semantics: returns once it has completed and the loop is idle. See
/// [`Runtime::run`].
///
/// # Panics
///
/// As [`Runtime::run`]; also if the OS poller cannot be created.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// jsloop::run(async {
///     println!("1 - sync");
///     jsloop::next_tick(|| println!("3 - nextTick"));
///     jsloop::queue_microtask(|| println!("4 - microtask"));
///     jsloop::set_immediate(|| println!("5 - setImmediate"));
///     println!("2 - sync");
/// });
/// ```
pub fn run<F: Future>(future: F) -> F::Output {
    context::assert_not_running();
    Runtime::new().expect("jsloop: failed to create the runtime's poller").run(future)
}

/// Runs `future` on a new runtime until it completes, like tokio's
/// `block_on`. See [`Runtime::block_on`].
///
/// # Panics
///
/// As [`Runtime::block_on`]; also if the OS poller cannot be created.
///
/// # Examples
///
/// ```
/// let n = jsloop::block_on(async { jsloop::spawn(async { 5 }).await.unwrap() });
/// assert_eq!(n, 5);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    context::assert_not_running();
    Runtime::new().expect("jsloop: failed to create the runtime's poller").block_on(future)
}
