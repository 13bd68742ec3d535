//! A worker: a thread running its own runtime, and the parent's handle to
//! it.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, OnceLock, mpsc};
use std::task::{Context, Poll};
use std::thread;

use crate::keep_alive::{KeepAlive, keep_alive};
use crate::oneshot;
use crate::process::catch_exit;
use crate::remote;
use crate::runtime::{Builder, Runtime};
use crate::sync::{self, Mutex};
use crate::task::join::panic_message;

use super::port::{MessageChannel, MessagePort, PostError, Recv};

/// The payload a terminated loop unwinds with (`Core::stop_if_terminated`);
/// the worker thread recognises it.
pub(crate) struct Terminated;

/// How a worker ended, other than by its future finishing.
///
/// # Examples
///
/// ```
/// use jsloop::worker::{Worker, WorkerError};
///
/// jsloop::block_on(async {
///     let worker = Worker::spawn(|| async { panic!("worker failed") }).unwrap();
///     match worker.exit().await {
///         Err(WorkerError::Panicked(payload)) => {
///             assert_eq!(payload.downcast_ref::<&str>(), Some(&"worker failed"));
///         }
///         other => panic!("unexpected: {other:?}"),
///     }
/// });
/// ```
#[non_exhaustive]
pub enum WorkerError {
    /// The worker's code panicked (its future, a callback without an
    /// uncaught handler, or the closure that builds the future); the
    /// payload, as `std::thread::JoinHandle::join` gives it.
    Panicked(Box<dyn Any + Send + 'static>),
    /// [`Worker::terminate`] stopped it (or its `Worker` was dropped).
    Terminated,
    /// The worker called [`process::exit`](crate::process::exit) with this
    /// code: its loop ended there, without an output.
    Exited(i32),
}

impl WorkerError {
    /// `true` for [`WorkerError::Terminated`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(jsloop::worker::WorkerError::Terminated.is_terminated());
    /// ```
    pub fn is_terminated(&self) -> bool {
        matches!(self, WorkerError::Terminated)
    }
}

impl fmt::Debug for WorkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerError::Panicked(_) => f.write_str("Panicked(..)"),
            WorkerError::Terminated => f.write_str("Terminated"),
            WorkerError::Exited(code) => write!(f, "Exited({code})"),
        }
    }
}

impl fmt::Display for WorkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerError::Panicked(payload) => match panic_message(&**payload) {
                Some(message) => write!(f, "the worker panicked: {message}"),
                None => f.write_str("the worker panicked"),
            },
            WorkerError::Terminated => f.write_str("the worker was terminated"),
            WorkerError::Exited(code) => write!(f, "the worker exited with code {code}"),
        }
    }
}

impl std::error::Error for WorkerError {}

/// Options for a worker's thread and runtime: [`Worker::builder`].
///
/// # Examples
///
/// ```
/// use jsloop::worker::Worker;
///
/// jsloop::block_on(async {
///     let worker = Worker::builder()
///         .name("cruncher")
///         .stack_size(4 << 20)
///         .runtime(|| jsloop::Runtime::builder().worker_threads(1).virtual_time(true))
///         .spawn(|| async { std::thread::current().name().map(str::to_owned) })
///         .unwrap();
///     assert_eq!(worker.exit().await.unwrap().as_deref(), Some("cruncher"));
/// });
/// ```
#[derive(Default)]
pub struct WorkerBuilder {
    name: Option<String>,
    stack_size: Option<usize>,
    /// Made on the worker's thread: a `Builder` itself is not `Send`.
    runtime: Option<Box<dyn FnOnce() -> Builder + Send>>,
}

impl WorkerBuilder {
    /// The worker thread's name.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = jsloop::worker::Worker::builder().name("worker-1");
    /// # drop(builder);
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> WorkerBuilder {
        self.name = Some(name.into());
        self
    }

    /// The worker thread's stack size in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = jsloop::worker::Worker::builder().stack_size(8 << 20);
    /// # drop(builder);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> WorkerBuilder {
        self.stack_size = Some(bytes);
        self
    }

    /// How the worker's runtime is built (pool size, virtual time, panic
    /// handler, observers): `make` runs on the worker's thread, since a
    /// [`Builder`] holds `!Send` handlers. The default is
    /// `Runtime::builder()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = jsloop::worker::Worker::builder()
    ///     .runtime(|| jsloop::Runtime::builder().virtual_time(true));
    /// # drop(builder);
    /// ```
    pub fn runtime(mut self, make: impl FnOnce() -> Builder + Send + 'static) -> WorkerBuilder {
        self.runtime = Some(Box::new(make));
        self
    }

    /// Starts the worker: see [`Worker::spawn`].
    ///
    /// # Errors
    ///
    /// The thread could not be started, or the worker's runtime could not
    /// be built (the builder's error).
    ///
    /// # Panics
    ///
    /// Outside a runtime: a worker belongs to the loop that spawned it.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::builder().spawn(|| async { 1 + 1 }).unwrap();
    ///     assert_eq!(worker.exit().await.unwrap(), 2);
    /// });
    /// ```
    pub fn spawn<F, Fut>(self, make: F) -> io::Result<Worker<Fut::Output>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        // The worker's end of the channel is dropped unused: posting to
        // it fails.
        self.spawn_with_port(move |_: MessagePort<()>| make())
    }

    /// Starts the worker with a message channel to it: see
    /// [`Worker::spawn_with_port`].
    ///
    /// # Errors
    ///
    /// The thread could not be started, or the worker's runtime could not
    /// be built (the builder's error).
    ///
    /// # Panics
    ///
    /// Outside a runtime: a worker belongs to the loop that spawned it.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::builder()
    ///         .name("echo")
    ///         .spawn_with_port(|parent| async move {
    ///             while let Some(n) = parent.recv().await {
    ///                 parent.post_message(n * 2).unwrap();
    ///             }
    ///         })
    ///         .unwrap();
    ///     worker.post_message(21).unwrap();
    ///     assert_eq!(worker.recv().await, Some(42));
    /// });
    /// ```
    pub fn spawn_with_port<M, F, Fut>(self, make: F) -> io::Result<Worker<Fut::Output, M>>
    where
        M: Send + 'static,
        F: FnOnce(MessagePort<M>) -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        // The parent loop stays alive while the worker runs (unless unref'd).
        let guard = Arc::new(Mutex::new(Some(keep_alive())));
        let (exit, exited) = oneshot::channel();
        let (started, start) = mpsc::channel::<io::Result<u32>>();
        let MessageChannel { port1: port, port2: parent_port } = MessageChannel::new();
        // As Node's `worker[kPort]`: the worker's run, not its port, keeps
        // the parent's loop alive.
        port.unref();
        let mut thread = thread::Builder::new();
        if let Some(name) = self.name {
            thread = thread.name(name);
        }
        if let Some(bytes) = self.stack_size {
            thread = thread.stack_size(bytes);
        }
        let make_runtime = self.runtime;
        let worker_guard = guard.clone();
        let code = Arc::new(OnceLock::new());
        let worker_code = code.clone();
        thread.spawn(move || {
            let built = make_runtime.map_or_else(Runtime::builder, |make| make()).build();
            let rt = match built {
                Ok(rt) => rt,
                Err(error) => {
                    let _ = started.send(Err(error));
                    return;
                }
            };
            let _ = started.send(Ok(rt.id()));
            // `process::exit` on the worker's loop ends only the worker.
            let run = || catch_exit(|| rt.run(async move { make(parent_port).await }));
            let mut outcome = catch_unwind(AssertUnwindSafe(run));
            let code = rt.exit_code();
            // The worker's tasks and ports go with its runtime, on its own
            // thread: the close of its port reaches the parent before the
            // exit does. A task's drop may panic too; the exit says so.
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(rt))) {
                outcome = outcome.and(Err(payload));
            }
            let (outcome, code) = match outcome {
                Ok(Ok(output)) => (Ok(output), code),
                Ok(Err(code)) => (Err(WorkerError::Exited(code)), code),
                // Node's code for an uncaught error, and for `terminate()`.
                Err(payload) if payload.is::<Terminated>() => (Err(WorkerError::Terminated), 1),
                Err(payload) => (Err(WorkerError::Panicked(payload)), 1),
            };
            let _ = worker_code.set(code);
            exit.send(outcome);
            // Only now may the parent's loop end: the exit's wake is queued.
            drop(sync::lock(&worker_guard).take());
        })?;
        let runtime_id = start.recv().map_err(|_| {
            io::Error::other("jsloop: the worker thread ended before its runtime was built")
        })??;
        Ok(Worker { exited, runtime_id, guard, port, code })
    }
}

impl fmt::Debug for WorkerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerBuilder")
            .field("name", &self.name)
            .field("stack_size", &self.stack_size)
            .field("runtime", &self.runtime.is_some())
            .finish()
    }
}

/// A worker: another event loop on its own thread (Node's `Worker`).
///
/// The worker runs the future its closure built with [`run`](crate::run)
/// semantics: it ends when its loop has nothing left to do.
/// [`exit`](Worker::exit) resolves with the future's output, or with how
/// the worker failed. While the worker runs, it keeps the parent's loop
/// alive, unless [`unref`](Worker::unref)'d. Dropping the `Worker` while
/// the worker runs terminates it (as Node's workers end with their
/// process); keep the `Worker`, or await [`exit`](Worker::exit), to let it
/// finish.
///
/// A worker started with [`spawn_with_port`](Worker::spawn_with_port) is
/// joined to its parent by a [`MessageChannel`] carrying `M` both ways: the
/// worker's closure receives its end (Node's `parentPort`), the parent
/// posts with [`post_message`](Worker::post_message) and receives with
/// [`recv`](Worker::recv) or [`on_message`](Worker::on_message). Messages
/// keep their posting order; everything the worker posted before it ended
/// reaches the parent's listener before `exit` resolves.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::worker::Worker;
///
/// jsloop::block_on(async {
///     // A CPU-heavy loop on another thread: this loop's timers keep running.
///     let worker = Worker::spawn(|| async {
///         (1..=2_000_000u64).filter(|n| n % 7 == 0).count()
///     })
///     .unwrap();
///     jsloop::time::sleep(Duration::from_millis(1)).await;
///     assert_eq!(worker.exit().await.unwrap(), 285_714);
/// });
/// ```
pub struct Worker<T, M: Send + 'static = ()> {
    exited: oneshot::Receiver<Result<T, WorkerError>>,
    /// The worker's runtime (for `terminate`).
    runtime_id: u32,
    /// The parent loop's keep-alive, `None` when unref'd or ended.
    guard: Arc<Mutex<Option<KeepAlive>>>,
    /// The parent's end of the channel to the worker's `parentPort`.
    port: MessagePort<M>,
    /// The worker's exit code, set when it ended.
    code: Arc<OnceLock<i32>>,
}

impl Worker<()> {
    /// Options for the worker's thread and runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = jsloop::worker::Worker::builder().name("worker");
    /// # drop(builder);
    /// ```
    pub fn builder() -> WorkerBuilder {
        WorkerBuilder::default()
    }
}

impl<T: Send + 'static> Worker<T> {
    /// Starts a worker: a new thread with its own runtime, where `make`
    /// builds the main future (which need not be `Send`) and the worker
    /// `run`s it.
    ///
    /// # Errors
    ///
    /// The thread could not be started, or its runtime could not be built.
    ///
    /// # Panics
    ///
    /// Outside a runtime: a worker belongs to the loop that spawned it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use jsloop::worker::Worker;
    ///
    /// jsloop::block_on(async {
    ///     let worker = Worker::spawn(|| async {
    ///         let local = Rc::new("made on the worker's thread"); // !Send is fine
    ///         jsloop::yield_to_loop().await;
    ///         local.len()
    ///     })
    ///     .unwrap();
    ///     assert_eq!(worker.exit().await.unwrap(), 27);
    /// });
    /// ```
    pub fn spawn<F, Fut>(make: F) -> io::Result<Worker<T>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
    {
        Worker::builder().spawn(make)
    }
}

impl<T: Send + 'static, M: Send + 'static> Worker<T, M> {
    /// Starts a worker as [`spawn`](Worker::spawn) does, with a message
    /// channel between the two loops: `make` receives the worker's end
    /// (Node's `parentPort`), the `Worker` is the parent's. Messages posted
    /// before the worker started wait for it, in order. The worker's port
    /// keeps the worker alive while it listens or awaits `recv`, as any
    /// port does; the parent's end does not keep the parent's loop alive
    /// (the running worker does, unless [`unref`](Worker::unref)'d).
    ///
    /// # Errors
    ///
    /// The thread could not be started, or its runtime could not be built.
    ///
    /// # Panics
    ///
    /// Outside a runtime: a worker belongs to the loop that spawned it.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::worker::Worker;
    ///
    /// jsloop::block_on(async {
    ///     let worker = Worker::spawn_with_port(|parent| async move {
    ///         let mut total = 0;
    ///         while let Some(n) = parent.recv().await {
    ///             total += n;
    ///         }
    ///         total // the parent dropped its end: the channel closed
    ///     })
    ///     .unwrap();
    ///     for n in 1..=4 {
    ///         worker.post_message(n).unwrap();
    ///     }
    ///     worker.port().close();
    ///     assert_eq!(worker.exit().await.unwrap(), 10);
    /// });
    /// ```
    ///
    /// Messages cross threads, so they must be `Send`:
    ///
    /// ```compile_fail
    /// use std::rc::Rc;
    /// use jsloop::worker::{MessagePort, Worker};
    ///
    /// jsloop::block_on(async {
    ///     let _ = Worker::spawn_with_port(|_: MessagePort<Rc<u8>>| async {});
    /// });
    /// ```
    pub fn spawn_with_port<F, Fut>(make: F) -> io::Result<Worker<T, M>>
    where
        F: FnOnce(MessagePort<M>) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
    {
        Worker::builder().spawn_with_port(make)
    }
}

impl<T, M: Send + 'static> Worker<T, M> {
    /// Posts `message` to the worker's port (Node's `worker.postMessage`).
    /// Never blocks.
    ///
    /// # Errors
    ///
    /// [`PostError`], holding the message, once the worker's port is
    /// closed or dropped (the worker ended, or it never kept its port: a
    /// worker from [`spawn`](Worker::spawn) has none).
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::spawn_with_port(|parent| async move {
    ///         parent.recv().await
    ///     })
    ///     .unwrap();
    ///     worker.post_message("job").unwrap();
    ///     assert_eq!(worker.exit().await.unwrap(), Some("job"));
    /// });
    /// ```
    pub fn post_message(&self, message: M) -> Result<(), PostError<M>> {
        self.port.post_message(message)
    }

    /// Waits for the worker's next message; `None` once the worker's port
    /// closed and every message it posted was received. Does not keep the
    /// loop alive by itself: the running worker does.
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime other than the parent's.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::spawn_with_port(|parent| async move {
    ///         parent.post_message(1).unwrap();
    ///         parent.post_message(2).unwrap();
    ///     })
    ///     .unwrap();
    ///     assert_eq!(worker.recv().await, Some(1));
    ///     assert_eq!(worker.recv().await, Some(2));
    ///     assert_eq!(worker.recv().await, None);
    /// });
    /// ```
    pub fn recv(&self) -> Recv<'_, M> {
        self.port.recv()
    }

    /// Sets the listener for the worker's messages (Node's
    /// `worker.on('message', ..)`): each message in its own macrotask of the
    /// parent's poll phase, a checkpoint after it.
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime other than the parent's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::spawn_with_port(|parent| async move {
    ///         parent.post_message(7).unwrap();
    ///     })
    ///     .unwrap();
    ///     let seen = Rc::new(Cell::new(0));
    ///     let sum = seen.clone();
    ///     worker.on_message(move |n| sum.set(sum.get() + n));
    ///     worker.exit().await.unwrap(); // after the worker's messages
    ///     assert_eq!(seen.get(), 7);
    /// });
    /// ```
    pub fn on_message(&self, listener: impl FnMut(M) + 'static) {
        self.port.on_message(listener);
    }

    /// The parent's end of the channel, for everything else a
    /// [`MessagePort`] does (`on_close`, `close`,
    /// [`receive_message_on_port`](super::receive_message_on_port)).
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::spawn_with_port(|parent| async move {
    ///         parent.post_message('x').unwrap();
    ///     })
    ///     .unwrap();
    ///     while !worker.has_exited() {
    ///         jsloop::yield_to_loop().await;
    ///     }
    ///     assert_eq!(jsloop::worker::receive_message_on_port(worker.port()), Some('x'));
    /// });
    /// ```
    pub fn port(&self) -> &MessagePort<M> {
        &self.port
    }

    /// Waits for the worker to end (Node's `'exit'` event): `Ok` with its
    /// main future's output, or the [`WorkerError`] it ended with. The
    /// messages the worker posted reach the [`on_message`](Self::on_message)
    /// listener first. Dropping the future does not stop the worker;
    /// dropping the `Worker` does.
    ///
    /// # Panics
    ///
    /// When awaited again after it returned the outcome once.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::spawn(|| async { "done" }).unwrap();
    ///     assert_eq!(worker.exit().await.unwrap(), "done");
    /// });
    /// ```
    pub fn exit(&self) -> WorkerExit<'_, T, M> {
        WorkerExit { worker: self }
    }

    /// Stops the worker's loop at its next macrotask boundary, drops its
    /// tasks and ends it with [`WorkerError::Terminated`]: Node's
    /// `worker.terminate()`. Rust code cannot be pre-empted: a worker busy
    /// in a callback or a task poll stops once that returns. A worker that
    /// already ended keeps its outcome.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::spawn(|| async {
    ///         let _alive = jsloop::keep_alive(); // would never end on its own
    ///         std::future::pending::<()>().await;
    ///     })
    ///     .unwrap();
    ///     worker.terminate();
    ///     assert!(worker.exit().await.unwrap_err().is_terminated());
    /// });
    /// ```
    pub fn terminate(&self) {
        if let Some(shared) = remote::lookup(self.runtime_id) {
            shared.request_terminate();
        }
    }

    /// Lets the parent's loop end while the worker still runs (Node's
    /// `worker.unref()`). Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::run(async {
    ///     let worker = jsloop::worker::Worker::spawn(|| async {
    ///         jsloop::time::sleep(std::time::Duration::from_millis(5)).await;
    ///     })
    ///     .unwrap();
    ///     worker.unref();
    ///     std::mem::forget(worker); // `run` returns without waiting for it
    /// });
    /// ```
    pub fn unref(&self) {
        drop(sync::lock(&self.guard).take());
    }

    /// Makes a running worker keep the parent's loop alive again (the
    /// default). Does nothing once the worker has ended.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::spawn(|| async {}).unwrap();
    ///     worker.unref();
    ///     worker.ref_();
    ///     worker.exit().await.unwrap();
    /// });
    /// ```
    pub fn ref_(&self) {
        let mut guard = sync::lock(&self.guard);
        if guard.is_none() && !self.exited.is_closed() {
            *guard = Some(keep_alive());
        }
    }

    /// `true` once the worker has ended (its exit can be read at once).
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::spawn(|| async {}).unwrap();
    ///     while !worker.has_exited() {
    ///         jsloop::yield_to_loop().await;
    ///     }
    /// });
    /// ```
    pub fn has_exited(&self) -> bool {
        self.exited.is_closed()
    }

    /// The worker's exit code once it ended (Node's `'exit'` event's code):
    /// its [`process::exit_code`](crate::process::exit_code) when its loop
    /// ran empty, `n` after `process::exit(n)`, 1 after an uncaught panic or
    /// `terminate()`; `None` while it runs.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::spawn(|| async {
    ///         jsloop::process::set_exit_code(9);
    ///     })
    ///     .unwrap();
    ///     worker.exit().await.unwrap();
    ///     assert_eq!(worker.exit_code(), Some(9));
    /// });
    /// ```
    pub fn exit_code(&self) -> Option<i32> {
        self.code.get().copied()
    }
}

impl<T, M: Send + 'static> Drop for Worker<T, M> {
    fn drop(&mut self) {
        if !self.exited.is_closed() {
            self.terminate();
        }
    }
}

impl<T, M: Send + 'static> fmt::Debug for Worker<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker").field("exited", &self.has_exited()).finish()
    }
}

/// The future of [`Worker::exit`].
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let worker = jsloop::worker::Worker::spawn(|| async { 5 }).unwrap();
///     let exit: jsloop::worker::WorkerExit<'_, i32> = worker.exit();
///     assert_eq!(exit.await.unwrap(), 5);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct WorkerExit<'a, T, M: Send + 'static = ()> {
    worker: &'a Worker<T, M>,
}

impl<T, M: Send + 'static> Future for WorkerExit<'_, T, M> {
    type Output = Result<T, WorkerError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let worker = self.worker;
        if worker.exited.poll_closed(cx).is_pending() {
            return Poll::Pending;
        }
        // What the worker posted reaches the listener before its exit.
        if worker.port.wake_after_deliveries(cx.waker()) {
            return Poll::Pending;
        }
        // The worker thread always sends (its last step), so nothing here
        // means the outcome was taken.
        let outcome = worker.exited.take();
        Poll::Ready(outcome.expect("jsloop: this worker's exit was already read"))
    }
}

impl<T, M: Send + 'static> fmt::Debug for WorkerExit<'_, T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerExit").finish_non_exhaustive()
    }
}
