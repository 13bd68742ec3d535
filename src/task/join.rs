//! `JoinHandle` and `JoinError`: the promise side of a spawned task.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use super::foreign::{self, Held, Hold, may_touch};
use super::raw::{ABORT, HANDLE, LIVE, RUNNING, TaskRef};
use super::{TaskId, awaiters};
use crate::context;

/// An owned permission to await a spawned task's output.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] if the task panicked
/// or was aborted. Dropping a `JoinHandle` *detaches* the task: it keeps
/// running, exactly like a JavaScript promise nobody awaits.
///
/// **Threads.** A handle is made on its runtime's loop thread, and is
/// `Send` and `Sync` when the output is `Send`. Moved to another thread, it
/// works through the runtime's loop: awaiting it there (on any executor)
/// has the loop tell it when the task finished, and `abort` and dropping it
/// are carried out by the loop in its poll phase. So the runtime must be
/// running (or run later) for a handle away from it to resolve, as with
/// tokio's current-thread runtime; if the runtime is dropped, the handle
/// resolves at once: to the output if the task had finished, else to a
/// [`JoinError`] that [`is_aborted`](JoinError::is_aborted). A handle with a
/// `!Send` output stays on the loop thread:
///
/// ```compile_fail
/// let handle = jsloop::Runtime::new()?.spawn(async { std::rc::Rc::new(1) });
/// std::thread::spawn(move || drop(handle)); // `Rc` is not `Send`
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// **Ticks.** Awaiting a handle whose task has finished resumes at once,
/// in the same poll; V8's `await` of a settled promise resumes one
/// microtask turn later. The handle is Rust's join, as tokio's and smol's
/// are: the turn would cost an extra wake, queue and poll of the awaiting
/// task on every join of a finished task, which is most joins (the spawn
/// benchmark joins nothing else). A port that must match Node tick for
/// tick awaits a [`Promise::spawn`](crate::promise::Promise::spawn)
/// instead: that is an async function's promise, with V8's ticks.
///
/// # Examples
///
/// ```
/// let answer = jsloop::block_on(async {
///     let handle = jsloop::spawn(async { 6 * 7 });
///     handle.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// Awaited on another thread while the runtime runs:
///
/// ```
/// use std::time::Duration;
///
/// let rt = jsloop::Runtime::new()?;
/// let handle = rt.spawn(async {
///     jsloop::time::sleep(Duration::from_millis(10)).await;
///     6 * 7
/// });
/// // Keeps `run` going until the other thread has its answer.
/// let guard = rt.keep_alive();
/// let waiter = std::thread::spawn(move || {
///     let answer = jsloop::block_on(handle).unwrap(); // the thread's own loop
///     drop(guard);
///     answer
/// });
/// rt.run(async {});
/// assert_eq!(waiter.join().unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JoinHandle<T> {
    /// The task while the handle holds it, or its forward once it needed
    /// one; nothing once the output has been read (`foreign::Hold`).
    hold: Hold,
    /// The handle yields a `T`; the raw pointer takes away the automatic
    /// `Send` and `Sync`, given back below for a `Send` output.
    _output: PhantomData<(T, *const ())>,
}

// SAFETY: the handle touches its task cell's loop-side `Cell`s only where
// `foreign::may_touch` allows: on the thread of the task's runtime (a
// handle is made inside its runtime, which is `!Send`, so that thread is
// the loop's and nothing races there), or once the runtime has shut down,
// ordered after the shutdown. Anywhere else it touches only what other
// threads may (the atomic count, the immutable runtime id and task id, and
// a finished stage the loop handed over through the relay's mutex) and has
// the loop do the rest (`foreign.rs`). Moving the handle moves the output
// across threads, to be read (or dropped) where the handle is: hence
// `T: Send`. Nothing else of the task crosses: the future stays on the
// loop.
unsafe impl<T: Send> Send for JoinHandle<T> {}

// SAFETY: through `&self` the handle offers `id`, `is_finished` and
// `abort`, and none hands out a `T`, so `T: Send` (for `Send`) is all it
// needs. From two threads at once they stay sound: where `may_touch`
// holds, they touch the cell as the loop would, or (runtime gone) only
// read it; the cell is alive, since only `&mut self` gives the hold up.
// Elsewhere they touch atomics only: the count (an abort's counted
// reference) and the `Hold` word, whose switch to forwarded is one
// compare-and-swap (one winner, one watch). A thread that read the word
// just before another switched it goes on as it would have, which is safe
// for the same reasons: the forward keeps the same hold.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Made inside `task`'s runtime, on its thread.
    #[inline]
    pub(crate) fn new(task: TaskRef) -> Self {
        JoinHandle { hold: Hold::new(task), _output: PhantomData }
    }

    /// The task's id, as long-task reports name it.
    ///
    /// # Panics
    ///
    /// Panics once the handle has completed (its output was read), like
    /// polling it again does: take the id before awaiting the handle.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let handle = jsloop::spawn(async {});
    ///     let id = handle.id();
    ///     handle.await.unwrap();
    ///     println!("task {id} finished");
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        match self.hold.get() {
            Held::Task(task) => task.id(),
            Held::Forwarded(forward) => forward.task().id(),
            Held::Done => panic!("`JoinHandle::id` called after the handle completed"),
        }
    }

    /// Aborts the task: its future is dropped without being polled again and
    /// awaiting the handle yields [`JoinError::is_aborted`].
    ///
    /// On the loop thread while the runtime runs, the future is dropped at
    /// once (or, if the task is aborting itself, as soon as its current poll
    /// returns). Otherwise the runtime drops it the next time it runs; from
    /// another thread, in its next poll phase. A task that already finished
    /// keeps its output.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let handle = jsloop::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_aborted());
    /// });
    /// ```
    pub fn abort(&self) {
        match self.hold.get() {
            Held::Task(task) if may_touch(task) => abort_here(task),
            Held::Task(task) => foreign::abort(task),
            Held::Forwarded(forward) => foreign::abort(forward.task()),
            Held::Done => {}
        }
    }

    /// `true` once the task has finished: returned, panicked or been aborted.
    ///
    /// On another thread than the runtime's the answer comes through the
    /// loop: it turns `true` once the loop, running, has seen the task
    /// finish (a moment after it did).
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let handle = jsloop::spawn(async {});
    ///     assert!(!handle.is_finished());
    ///     jsloop::yield_now().await;
    ///     assert!(handle.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        match self.hold.get() {
            Held::Task(task) if may_touch(task) => task.header().flags.get() & LIVE == 0,
            Held::Task(_) | Held::Forwarded(_) => foreign::is_finished(&self.hold),
            Held::Done => true,
        }
    }
}

/// `JoinHandle::abort` where the handle may touch the cell (`may_touch`);
/// the loop runs it for a handle that may not.
pub(super) fn abort_here(task: TaskRef) {
    let header = task.header();
    let flags = header.flags.get();
    if flags & LIVE == 0 {
        return;
    }
    let dropped_now = context::with_core_of(header.runtime_id, |core| {
        if flags & RUNNING == 0 {
            core.cancel_task(task);
            true
        } else {
            false
        }
    });
    if dropped_now != Some(true) {
        header.flags.set(flags | ABORT);
        if dropped_now.is_none() {
            // The runtime is not running here: queue the task so it sees
            // the abort the next time the loop runs.
            task.with_waker(|waker| waker.wake_by_ref());
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let task = match this.hold.task_mut() {
            Some(task) if may_touch(task) => task,
            _ => return foreign::poll(&mut this.hold, cx),
        };
        let header = task.header();
        if header.flags.get() & LIVE != 0 {
            awaiters::register(task, cx.waker());
            return Poll::Pending;
        }
        let mut output = Poll::Pending;
        // SAFETY: `T` is the task's output type (the handle was created for
        // it) and the task is finished (`LIVE` is clear) with its output not
        // yet read (the handle still holds the task).
        unsafe { task.take_output(&mut output) };
        this.hold.clear_task();
        release_hold(task, true);
        output
    }
}

/// Gives up a handle's hold on the task cell, where the handle may touch
/// it (`may_touch`); for a handle that may not, the loop does it (or, once
/// the runtime is gone, whoever has the hold: `foreign.rs`).
#[inline]
pub(super) fn release_hold(task: TaskRef, output_read: bool) {
    drop(awaiters::take(task));
    let header = task.header();
    let flags = header.flags.get() & !HANDLE;
    header.flags.set(flags);
    if flags & LIVE == 0 && !output_read {
        // Nobody will read the output: drop it here, on the loop thread,
        // where a `!Send` output may be dropped. (After the runtime is gone,
        // perhaps on another thread: a handle only leaves with a `Send` one.)
        // SAFETY: the task finished, and the handle that was its outcome's
        // reader did not read it and is gone: the reader is us.
        if let Some(payload) = unsafe { task.drop_output() } {
            return report_unread_panic(task, payload);
        }
    }
    task.release_if_unused();
}

/// A finished task's panic that its dropped handle never read: uncaught.
/// Outside its running runtime there is nobody to tell (the panic hook
/// printed the panic when it happened).
#[cold]
#[inline(never)]
fn report_unread_panic(task: TaskRef, payload: Box<dyn std::any::Any + Send>) {
    let runtime_id = task.header().runtime_id;
    task.release_if_unused();
    context::with_core_of(runtime_id, |core| core.unawaited_panic(payload));
}

impl<T> Drop for JoinHandle<T> {
    // A handle dropped after it was awaited (most handles) holds nothing:
    // that check stays inline, where the caller may even see it through.
    #[inline(always)]
    fn drop(&mut self) {
        if !self.hold.is_done() {
            self.detach();
        }
    }
}

impl<T> JoinHandle<T> {
    /// Dropping a handle that still holds its task: the task runs on alone.
    fn detach(&mut self) {
        match self.hold.task_mut() {
            Some(task) if may_touch(task) => release_hold(task, false),
            _ => foreign::drop_handle(&mut self.hold),
        }
    }
}

impl<T> Unpin for JoinHandle<T> {}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("finished", &self.is_finished()).finish()
    }
}

/// Why a task produced no output: it panicked, or it was aborted.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let handle = jsloop::spawn(async { panic!("boom") });
///     let error = handle.await.unwrap_err();
///     assert!(error.is_panic());
///     let payload = error.into_panic();
///     assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
/// });
/// ```
pub struct JoinError {
    /// The panic payload, or `None` for an aborted task. Boxed once more so a
    /// finished task's cell stays small; in a `Mutex` so `JoinError` is
    /// `Sync` (the payload is only `Send`).
    panic: Option<Box<Mutex<Box<dyn Any + Send + 'static>>>>,
}

impl JoinError {
    pub(crate) fn aborted() -> Self {
        JoinError { panic: None }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> Self {
        JoinError { panic: Some(Box::new(Mutex::new(payload))) }
    }

    /// `true` if the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let panicked = jsloop::spawn(async { panic!("oops") });
    ///     assert!(panicked.await.unwrap_err().is_panic());
    ///
    ///     let aborted = jsloop::spawn(std::future::pending::<()>());
    ///     aborted.abort();
    ///     assert!(!aborted.await.unwrap_err().is_panic());
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        self.panic.is_some()
    }

    /// `true` if the task was aborted (by [`JoinHandle::abort`], or by
    /// dropping the runtime before it finished).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let handle = rt.spawn(std::future::pending::<()>());
    /// drop(rt); // drops the unfinished task
    /// let error = futures::executor::block_on(handle).unwrap_err();
    /// assert!(error.is_aborted());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_aborted(&self) -> bool {
        self.panic.is_none()
    }

    /// The task's panic payload, to inspect or to `resume_unwind` with.
    ///
    /// # Panics
    ///
    /// Panics if the task was aborted rather than panicked; see
    /// [`try_into_panic`](Self::try_into_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// let id = 3;
    /// let error = jsloop::block_on(async move {
    ///     jsloop::spawn(async move { panic!("task {id} failed") }).await.unwrap_err()
    /// });
    /// // A formatted panic message is a `String`; `panic::resume_unwind` would re-raise it.
    /// let message = error.into_panic().downcast::<String>().unwrap();
    /// assert_eq!(*message, "task 3 failed");
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic().expect("`JoinError::into_panic` called on an aborted task's error")
    }

    /// The panic payload, or the error back if the task was aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let handle = jsloop::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     let error = handle.await.unwrap_err();
    ///     // No payload to take: the error comes back unchanged.
    ///     let error = error.try_into_panic().unwrap_err();
    ///     assert!(error.is_aborted());
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.panic {
            Some(payload) => Ok(payload.into_inner().unwrap_or_else(|e| e.into_inner())),
            None => Err(self),
        }
    }

    fn panic_message(&self) -> Option<String> {
        let payload = self.panic.as_ref()?;
        let payload = payload.lock().unwrap_or_else(|e| e.into_inner());
        panic_message(&**payload).map(str::to_owned)
    }
}

/// The message of a panic payload: `panic!` with a literal gives a `&str`,
/// with arguments a `String`; any other payload has none.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_panic(), self.panic_message()) {
            (false, _) => f.write_str("task was aborted"),
            (true, Some(message)) => write!(f, "task panicked with message {message:?}"),
            (true, None) => f.write_str("task panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinError({self})")
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(error: JoinError) -> Self {
        std::io::Error::other(error.to_string())
    }
}
