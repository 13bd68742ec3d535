//! A worker: a thread running its own runtime, and the parent's handle to
//! it.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::thread;

use crate::keep_alive::{keep_alive, KeepAlive};
use crate::oneshot;
use crate::remote;
use crate::runtime::{Builder, Runtime};
use crate::sync::{self, Mutex};
use crate::task::join::panic_message;

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
        // The parent loop stays alive while the worker runs (unless unref'd).
        let guard = Arc::new(Mutex::new(Some(keep_alive())));
        let (exit, exited) = oneshot::channel();
        let (started, start) = mpsc::channel::<io::Result<u32>>();
        let mut thread = thread::Builder::new();
        if let Some(name) = self.name {
            thread = thread.name(name);
        }
        if let Some(bytes) = self.stack_size {
            thread = thread.stack_size(bytes);
        }
        let make_runtime = self.runtime;
        let worker_guard = guard.clone();
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
            let outcome = catch_unwind(AssertUnwindSafe(|| rt.run(async move { make().await })));
            // The worker's tasks go with its runtime, on its own thread.
            drop(rt);
            exit.send(outcome.map_err(|payload| {
                if payload.is::<Terminated>() {
                    WorkerError::Terminated
                } else {
                    WorkerError::Panicked(payload)
                }
            }));
            // Only now may the parent's loop end: the exit's wake is queued.
            drop(sync::lock(&worker_guard).take());
        })?;
        let runtime_id = start.recv().map_err(|_| {
            io::Error::other("jsloop: the worker thread ended before its runtime was built")
        })??;
        Ok(Worker { exited, runtime_id, guard })
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
/// alive, unless [`unref`](Worker::unref)'d. Dropping the `Worker` before
/// its exit was seen terminates it (as Node's workers end with their
/// process); keep the `Worker`, or await [`exit`](Worker::exit), to let it
/// finish.
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
pub struct Worker<T> {
    exited: oneshot::Receiver<Result<T, WorkerError>>,
    /// The worker's runtime (for `terminate`).
    runtime_id: u32,
    /// The parent loop's keep-alive, `None` when unref'd or ended.
    guard: Arc<Mutex<Option<KeepAlive>>>,
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

impl<T> Worker<T> {
    /// Waits for the worker to end: `Ok` with its main future's output, or
    /// the [`WorkerError`] it ended with.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let worker = jsloop::worker::Worker::spawn(|| async { "done" }).unwrap();
    ///     assert_eq!(worker.exit().await.unwrap(), "done");
    /// });
    /// ```
    pub fn exit(self) -> WorkerExit<T> {
        WorkerExit { worker: Some(self) }
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
}

impl<T> Drop for Worker<T> {
    fn drop(&mut self) {
        if !self.exited.is_closed() {
            self.terminate();
        }
    }
}

impl<T> fmt::Debug for Worker<T> {
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
///     let exit: jsloop::worker::WorkerExit<i32> = worker.exit();
///     assert_eq!(exit.await.unwrap(), 5);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct WorkerExit<T> {
    /// Kept until the exit is read: dropping the future early terminates
    /// the worker, as dropping the `Worker` does.
    worker: Option<Worker<T>>,
}

impl<T> Future for WorkerExit<T> {
    type Output = Result<T, WorkerError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let worker = self.worker.as_mut().expect("`WorkerExit` polled after it completed");
        let outcome = match Pin::new(&mut worker.exited).poll(cx) {
            Poll::Pending => return Poll::Pending,
            // The worker thread always sends; nothing is sent only if it
            // died without unwinding through its catch (it cannot).
            Poll::Ready(outcome) => outcome.unwrap_or(Err(WorkerError::Terminated)),
        };
        self.worker = None;
        Poll::Ready(outcome)
    }
}

impl<T> fmt::Debug for WorkerExit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerExit").finish_non_exhaustive()
    }
}
