//! Tasks: spawning futures onto the loop, and how the loop runs them.
//!
//! A spawned task's first poll is a microtask, like the first step of a JS
//! promise job; every wake queues it on the microtask ring again. A task is
//! queued at most once at a time, and a poll that finishes it (or a panic
//! inside it) settles its [`JoinHandle`].

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

pub(crate) mod awaiters;
mod cell_cache;
pub(crate) mod foreign;
pub(crate) mod join;
pub(crate) mod raw;
pub(crate) mod registry;
mod waker;

pub(crate) use cell_cache::CellCache;
pub use join::{JoinError, JoinHandle};
use raw::{ABORT, HANDLE, LIVE, RUNNING, SCHEDULED, TaskRef};

use crate::context;
use crate::event_loop::Core;
use crate::microtask::Microtask;

/// Spawns `future` as a task on the current runtime; its first poll is a
/// microtask.
///
/// The future does not need to be `Send`: it runs on the loop thread. The
/// task keeps running if the returned [`JoinHandle`] is dropped.
///
/// # Panics
///
/// Panics with "no jsloop runtime is running on this thread" outside
/// `run` / `block_on`. (To spawn before the loop runs, use
/// [`Runtime::spawn`](crate::Runtime::spawn).)
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use std::cell::RefCell;
///
/// let log = Rc::new(RefCell::new(Vec::new()));
/// jsloop::run({
///     let log = log.clone();
///     async move {
///         let task_log = log.clone();
///         jsloop::spawn(async move { task_log.borrow_mut().push("task") });
///         log.borrow_mut().push("script");
///     }
/// });
/// assert_eq!(*log.borrow(), ["script", "task"]);
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let location = Location::caller();
    context::with_current(|core| core.spawn(future, location))
}

/// Spawns `future` and polls it once right now, on the caller's stack: the
/// way calling a JavaScript `async` function runs its body up to the first
/// `await` before returning the promise.
///
/// # Panics
///
/// Panics outside a runtime, like [`spawn`].
///
/// # Examples
///
/// ```
/// jsloop::run(async {
///     println!("A - before call");
///     let handle = jsloop::spawn_now(async {
///         println!("B - runs at once, up to the first await");
///         jsloop::yield_now().await;
///         println!("D - later, as a microtask");
///     });
///     println!("C - after call");
///     handle.await.unwrap();
/// });
/// ```
#[track_caller]
pub fn spawn_now<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let location = Location::caller();
    context::with_current(|core| {
        let task = core.register_task(future, LIVE | HANDLE, location);
        core.run_task(task);
        JoinHandle::new(task)
    })
}

/// Yields to the back of the microtask ring: `await null` in JavaScript.
///
/// Everything already queued on the microtask ring (and the next-tick queue)
/// runs before the task continues; timers, I/O and immediates do not.
///
/// # Examples
///
/// ```
/// jsloop::run(async {
///     jsloop::queue_microtask(|| println!("first"));
///     jsloop::yield_now().await;
///     println!("second");
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future returned by [`yield_now`]: pending once (it re-queues its task at
/// the back of the microtask ring), then ready.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::task::{Context, Poll};
///
/// jsloop::block_on(async {
///     let mut yielding = std::pin::pin!(jsloop::yield_now());
///     let mut first = None;
///     std::future::poll_fn(|cx: &mut Context<'_>| {
///         first = Some(yielding.as_mut().poll(cx).is_pending());
///         Poll::Ready(())
///     })
///     .await;
///     assert_eq!(first, Some(true));
///     yielding.await; // ready on the next poll
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A task's id, as reports name it ([`JoinHandle::id`],
/// [`metrics::Work::Task`](crate::metrics::Work::Task)).
///
/// It is unique among the runtime's live tasks. A finished task's registry
/// slot goes to a later task with the next *generation*, so an id comes back
/// only after its slot has held 65,536 tasks: unique over any trace or dump
/// you will compare. `Display` prints `slot.generation`.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let a = jsloop::spawn(async {});
///     let b = jsloop::spawn(async {});
///     assert_ne!(a.id(), b.id());
///     assert_eq!(a.id().to_string(), format!("{}", a.id()));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct TaskId {
    slot: u32,
    generation: u16,
}

impl TaskId {
    /// The id as one number (`generation << 32 | slot`), for logs and
    /// trace files.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::block_on(async {
    ///     let first = jsloop::spawn(async {});
    ///     assert_eq!(first.id().as_u64() & 0xffff_ffff, 0); // the first slot
    /// });
    /// ```
    pub fn as_u64(self) -> u64 {
        u64::from(self.generation) << 32 | u64::from(self.slot)
    }

    /// The task's registry slot: an index for per-task side tables (task
    /// tracking), which check the whole id against a later task in the slot.
    pub(crate) fn slot(self) -> usize {
        self.slot as usize
    }
}

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.slot, self.generation)
    }
}

impl TaskRef {
    /// The task's id (see [`TaskId`]), readable on any thread while the
    /// cell is alive (a `JoinHandle` away from home asks).
    pub(crate) fn id(self) -> TaskId {
        // SAFETY: a `TaskRef` is used while the cell is alive (its holder
        // keeps it: the loop, or a handle's hold).
        let (slot, generation) = unsafe { raw::slot_and_generation(self.as_ptr()) };
        TaskId { slot, generation }
    }

    /// Where the task was spawned.
    pub(crate) fn location(self) -> &'static Location<'static> {
        self.header().location
    }
}

impl Core {
    /// Spawns `future`: registered, queued for its first poll.
    pub(crate) fn spawn<F>(
        &self,
        future: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let task = self.register_task(future, LIVE | HANDLE, location);
        if self.is_shut_down() {
            // The runtime is gone: the task settles as aborted at once.
            self.cancel_task(task);
        } else {
            self.schedule_task(task);
        }
        JoinHandle::new(task)
    }

    /// Registers `future` as a detached task and polls it at once (a
    /// promise's async body, like a JS `async` function call).
    pub(crate) fn spawn_detached_now<F: Future<Output = ()> + 'static>(
        &self,
        future: F,
        location: &'static Location<'static>,
    ) {
        let task = self.register_task(future, LIVE, location);
        if self.is_shut_down() {
            self.cancel_task(task);
        } else {
            self.run_task(task);
        }
    }

    /// Registers `future` as a detached task without queuing it, and returns
    /// its waker: it first runs when that is woken (a promise reaction waits
    /// so for its promise). `None` once the runtime is shut down.
    pub(crate) fn spawn_parked<F: Future<Output = ()> + 'static>(
        &self,
        future: F,
        location: &'static Location<'static>,
    ) -> Option<Waker> {
        let task = self.register_task(future, LIVE, location);
        if self.is_shut_down() {
            self.cancel_task(task);
            return None;
        }
        Some(task.with_waker(Waker::clone))
    }

    /// Allocates a task cell and enters it in the registry.
    fn register_task<F>(
        &self,
        future: F,
        flags: u16,
        location: &'static Location<'static>,
    ) -> TaskRef
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let task = TaskRef::new(future, self.id(), flags, location, &self.cells);
        self.tasks.borrow_mut().insert(task);
        crate::metrics::bump(&self.metrics.tasks_spawned);
        task
    }

    /// Queues `task` on the microtask ring unless it is already queued or
    /// has finished. Loop thread, runtime running.
    #[inline]
    pub(crate) fn schedule_task(&self, task: TaskRef) {
        if mark_scheduled(task) {
            self.microtasks.push(Microtask::Task(task));
        }
    }

    /// Queues `task` for a wake through its `Waker` (loop thread): like
    /// [`schedule_task`](Core::schedule_task), but the wake spends from the
    /// checkpoint's budget and is deferred past it (the progress rule).
    #[inline]
    pub(crate) fn schedule_woken(&self, task: TaskRef) {
        if mark_scheduled(task) {
            if self.microtasks.budget.spend_wake() {
                self.microtasks.push(Microtask::Task(task));
            } else {
                self.wake_over_budget(task);
            }
        }
    }

    /// A wake past the budget (already marked queued): the task waits for
    /// the check phase instead, unless the runtime is strict.
    #[cold]
    #[inline(never)]
    pub(crate) fn wake_over_budget(&self, task: TaskRef) {
        let running = self.current_task.get();
        // The main future runs outside any task (`running` is `None`).
        let self_wake = running == Some(task) || (task == TaskRef::MAIN && running.is_none());
        let name = if task == TaskRef::MAIN { "the main future" } else { task.type_name() };
        if self.microtasks.budget.over_budget(self_wake, name) {
            self.immediates.defer(task);
        } else {
            self.microtasks.push(Microtask::Task(task));
        }
    }

    /// Runs a task taken off the microtask ring (or a `spawn_now` task).
    #[inline]
    pub(crate) fn run_task(&self, task: TaskRef) {
        let header = task.header();
        let flags = header.flags.get() & !SCHEDULED;
        if flags & LIVE == 0 {
            // Finished or aborted while it sat in the ring.
            header.flags.set(flags);
            task.release_if_unused();
            return;
        }
        if flags & ABORT != 0 {
            header.flags.set(flags);
            self.cancel_task(task);
            return;
        }
        header.flags.set(flags | RUNNING);
        // `spawn_now` can poll a task inside another's poll: restore after.
        let outer = self.current_task.replace(Some(task));
        let finished = task.poll();
        self.current_task.set(outer);
        let flags = header.flags.get() & !RUNNING;
        header.flags.set(flags);
        if finished {
            self.finish_task(task);
        } else if flags & ABORT != 0 {
            // The task aborted itself while it ran.
            self.cancel_task(task);
        }
    }

    /// The task being polled, if `waker` is its own waker: a timer can then
    /// name the task directly instead of holding a waker clone.
    pub(crate) fn current_task_woken_by(&self, waker: &Waker) -> Option<TaskRef> {
        let task = self.current_task.get()?;
        task.with_waker(|own| own.will_wake(waker)).then_some(task)
    }

    /// Whether something besides the loop can still wake `waker`, which has
    /// `clones` clones: the loop has nothing left to do, so a clone that is
    /// a task's awaiter (`awaiters.rs`) fires only if that task can still
    /// be woken, and so on down the chain. A clone anywhere else
    /// (another thread, user state) counts as a way to be woken. Asked only
    /// when the loop ran dry (`block_on`), so the walk costs nothing on the
    /// way.
    pub(crate) fn can_be_woken(&self, waker: &Waker, clones: usize) -> bool {
        let mut visited = Vec::new();
        self.can_be_woken_past(waker, clones, &mut visited)
    }

    /// [`can_be_woken`](Core::can_be_woken); `visited` cuts cycles of tasks
    /// awaiting each other.
    fn can_be_woken_past(&self, waker: &Waker, clones: usize, visited: &mut Vec<TaskRef>) -> bool {
        let parked = awaiters::awaited_by(self.id(), waker);
        if clones > parked.len() {
            return true;
        }
        parked.into_iter().any(|task| {
            if visited.contains(&task) {
                return false;
            }
            visited.push(task);
            task.with_waker(|own| self.can_be_woken_past(own, task.waker_clones(), visited))
        })
    }

    /// Drops a live, not running task's future; it settles as aborted.
    pub(crate) fn cancel_task(&self, task: TaskRef) {
        task.drop_future();
        self.finish_task(task);
    }

    /// A task's stage now holds its outcome: take it out of the registry
    /// and settle its handle.
    // Out of line: once per task, and it keeps `run_task` (once per poll)
    // small enough to inline into the checkpoint.
    #[inline(never)]
    fn finish_task(&self, task: TaskRef) {
        self.tasks.borrow_mut().remove(task);
        self.settle(task);
        // The task's poll caught `process::exit`: the loop ends now.
        if self.process.is_exiting() {
            crate::process::resume_exit(self);
        }
    }

    /// Drops every live task's future (runtime shutdown).
    pub(crate) fn cancel_all_tasks(&self) {
        let live = self.tasks.borrow_mut().take_all();
        for task in live {
            task.drop_future();
            self.settle(task);
        }
    }

    /// Marks a task finished (out of the registry already) and hands its
    /// outcome to the handle's awaiter, or drops it if the task is detached.
    // Always inlined: `finish_task` is the call once per task.
    #[inline(always)]
    fn settle(&self, task: TaskRef) {
        let header = task.header();
        let flags = header.flags.get() & !(LIVE | ABORT);
        header.flags.set(flags);
        if flags & HANDLE == 0 {
            // SAFETY: the task just finished (its outcome is there), and with
            // no handle the loop is its one reader.
            if let Some(payload) = unsafe { task.drop_output() } {
                task.release_if_unused();
                return self.unawaited_panic(payload);
            }
        } else if let Some(awaiter) = awaiters::take(task) {
            // Awaiting a handle is awaiting a promise: Node's rule, unbudgeted.
            self.microtasks.budget.refund_wake();
            awaiter.wake();
        }
        task.release_if_unused();
    }

    /// Called for a task taken off the ring without being run (shutdown).
    pub(crate) fn unschedule_task(&self, task: TaskRef) {
        let header = task.header();
        header.flags.set(header.flags.get() & !SCHEDULED);
        task.release_if_unused();
    }
}

/// Marks a live task queued; `false` if it already was, or has finished.
#[inline]
fn mark_scheduled(task: TaskRef) -> bool {
    let header = task.header();
    let flags = header.flags.get();
    let unqueued = flags & (SCHEDULED | LIVE) == LIVE;
    if unqueued {
        header.flags.set(flags | SCHEDULED);
    }
    unqueued
}
