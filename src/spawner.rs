//! A `Send` handle into a loop: spawning from other threads.
//!
//! A [`Spawner`] is what a thread (another loop, a worker pool job, plain
//! `std::thread` code) uses to hand a future to a runtime it cannot touch.
//! The request travels through the runtime's remote queue and runs as a
//! macrotask of its poll phase, which spawns the task; the task's outcome
//! comes back through a [`RemoteJoinHandle`], a future any executor can
//! await.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_task::SpawnError;

use crate::event_loop::Core;
use crate::oneshot;
use crate::remote::{self, RemoteEvent};
use crate::sync::{self, Mutex};
use crate::task::JoinError;

/// Spawns onto a runtime from any thread: `Send + Sync + Clone`, from
/// [`Runtime::spawner`](crate::Runtime::spawner) or
/// [`Handle::spawner`](crate::Handle::spawner).
///
/// A spawn is delivered in the runtime's next poll phase, as a macrotask of
/// its own (with a checkpoint after it), where the task is spawned and
/// first polled. A spawner does not keep the runtime's loop alive: a `run`
/// with nothing else to do returns even if another thread still means to
/// spawn (hold a [`keep_alive`](crate::keep_alive) guard there for that).
/// Spawning onto a runtime that has been dropped is an error; a spawn that
/// is queued when the runtime drops resolves its handle as aborted.
///
/// # Examples
///
/// ```
/// let rt = jsloop::Runtime::new()?;
/// let spawner = rt.spawner();
/// let guard = rt.block_on(async { jsloop::keep_alive() });
/// let thread = std::thread::spawn(move || {
///     let handle = spawner.spawn(async { 6 * 7 }).unwrap();
///     drop(guard); // the loop may end once the task is in
///     jsloop::block_on(handle).unwrap() // awaited on the thread's own loop
/// });
/// rt.run(async {});
/// assert_eq!(thread.join().unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Spawner {
    runtime_id: u32,
}

impl Spawner {
    pub(crate) fn new(runtime_id: u32) -> Spawner {
        Spawner { runtime_id }
    }

    /// Spawns a `Send` future onto the runtime.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] (`is_shutdown()`) if the runtime has been dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let handle = rt.spawner().spawn(async { "spawned from a spawner" }).unwrap();
    /// assert_eq!(rt.block_on(handle).unwrap(), "spawned from a spawner");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Result<RemoteJoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_local(move || future)
    }

    /// Sends `make` to the runtime, which calls it on its own thread and
    /// spawns the future it returns: the future need not be `Send`.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] (`is_shutdown()`) if the runtime has been dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let rt = jsloop::Runtime::new()?;
    /// let spawner = rt.spawner();
    /// let handle = std::thread::spawn(move || {
    ///     spawner.spawn_local(|| async {
    ///         let local = Rc::new(5); // !Send, made on the loop's thread
    ///         jsloop::yield_now().await;
    ///         *local * 2
    ///     })
    /// })
    /// .join()
    /// .unwrap()
    /// .unwrap();
    /// assert_eq!(rt.block_on(handle).unwrap(), 10);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn_local<M, F>(&self, make: M) -> Result<RemoteJoinHandle<F::Output>, SpawnError>
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let Some(shared) = remote::lookup(self.runtime_id) else {
            return Err(SpawnError::shutdown());
        };
        let location = Location::caller();
        let (outcome, receiver) = oneshot::channel();
        let abort = Arc::new(Mutex::new(AbortState::default()));
        let forward_abort = abort.clone();
        shared.push(RemoteEvent::Call(Box::new(move |core: &Core| {
            // A panic in `make` is the task's panic, as if the future's.
            match catch_unwind(AssertUnwindSafe(make)) {
                Ok(future) => {
                    let forward = Forward { future, outcome: Some(outcome), abort: forward_abort };
                    drop(core.spawn(forward, location));
                }
                Err(payload) => {
                    outcome.send(Err(JoinError::panic(crate::process::rethrow_loop_exit(payload))))
                }
            }
        })));
        Ok(RemoteJoinHandle { outcome: receiver, abort })
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner").field("runtime_id", &self.runtime_id).finish()
    }
}

/// The outcome of a task spawned through a [`Spawner`]: a `Send` future
/// (for a `Send` output) that any executor can await, on any thread.
///
/// Dropping it detaches the task, as dropping a [`JoinHandle`](crate::JoinHandle)
/// does. The task's panic, or its abort (by [`abort`](RemoteJoinHandle::abort),
/// or because the runtime was dropped first), comes out as a [`JoinError`].
///
/// # Examples
///
/// ```
/// let rt = jsloop::Runtime::new()?;
/// let handle = rt.spawner().spawn(std::future::pending::<()>()).unwrap();
/// handle.abort();
/// assert!(rt.block_on(handle).unwrap_err().is_aborted());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RemoteJoinHandle<T> {
    /// `None`: the task (or the request to spawn it) was dropped unfinished.
    outcome: oneshot::Receiver<Result<T, JoinError>>,
    abort: Arc<Mutex<AbortState>>,
}

impl<T> RemoteJoinHandle<T> {
    /// Aborts the task: its future is dropped the next time the loop gets
    /// to it (at once if it has not started), and the handle resolves as
    /// aborted. A task that already finished keeps its outcome.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let handle = rt.spawner().spawn(async { 1 }).unwrap();
    /// assert_eq!(rt.block_on(async { jsloop::yield_to_loop().await }), ());
    /// handle.abort(); // too late: it finished
    /// assert_eq!(rt.block_on(handle).unwrap(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn abort(&self) {
        let task = {
            let mut abort = sync::lock(&self.abort);
            abort.requested = true;
            abort.task.take()
        };
        // Woken outside the lock: the task may run on this very thread.
        if let Some(task) = task {
            task.wake();
        }
    }

    /// `true` once the task has finished (or was aborted).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let handle = rt.spawner().spawn(async {}).unwrap();
    /// assert!(!handle.is_finished()); // not delivered yet
    /// rt.run(async {});
    /// assert!(handle.is_finished());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.outcome.is_closed()
    }
}

impl<T> Future for RemoteJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.outcome)
            .poll(cx)
            .map(|outcome| outcome.unwrap_or_else(|| Err(JoinError::aborted())))
    }
}

impl<T> fmt::Debug for RemoteJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJoinHandle").field("finished", &self.is_finished()).finish()
    }
}

/// How `abort` reaches the task.
#[derive(Default)]
struct AbortState {
    requested: bool,
    /// The task's waker while it waits.
    task: Option<Waker>,
}

pin_project_lite::pin_project! {
    /// The task a spawner spawns: runs `future`, catching its panic, and
    /// hands the outcome to the handle; stops early if the handle aborts.
    /// Dropped unfinished (aborted, or with its runtime), it drops its
    /// sender, which the handle reads as aborted.
    struct Forward<F: Future> {
        #[pin]
        future: F,
        outcome: Option<oneshot::Sender<Result<F::Output, JoinError>>>,
        abort: Arc<Mutex<AbortState>>,
    }
}

impl<F: Future> Future for Forward<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let Some(outcome) = this.outcome.take() else { return Poll::Ready(()) };
        if sync::lock(this.abort).requested {
            return Poll::Ready(()); // `outcome` dropped: aborted
        }
        match catch_unwind(AssertUnwindSafe(|| this.future.poll(cx))) {
            Ok(Poll::Pending) => {
                let mut abort = sync::lock(this.abort);
                if abort.requested {
                    // `abort` ran during this poll, before the waker below
                    // was stored: come back to see it.
                    cx.waker().wake_by_ref();
                } else if !abort.task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    abort.task = Some(cx.waker().clone());
                }
                *this.outcome = Some(outcome);
                Poll::Pending
            }
            Ok(Poll::Ready(output)) => {
                outcome.send(Ok(output));
                Poll::Ready(())
            }
            Err(payload) => {
                outcome.send(Err(JoinError::panic(crate::process::rethrow_loop_exit(payload))));
                Poll::Ready(())
            }
        }
    }
}
