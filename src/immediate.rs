//! Check phase: `set_immediate` and `yield_to_loop`.
//!
//! The check phase runs the immediates queued *before* it began, each
//! followed by a checkpoint; immediates queued while it runs (by an
//! immediate, or a microtask between two) wait for the next iteration, after
//! the timers and the poll phase. An unref'd immediate
//! ([`Immediate::unref`]) runs only if the loop is still alive for another
//! reason when the check phase comes. Tasks the progress rule defers
//! (`src/progress.rs`) wait here too, as if woken by an immediate.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use crate::context;
use crate::event_loop::Core;
use crate::task::raw::TaskRef;

/// The check-phase queue.
#[derive(Default)]
pub(crate) struct ImmediateQueue {
    queue: RefCell<VecDeque<ImmediateEntry>>,
    /// Ref'd entries not yet run or cleared; the loop is alive while
    /// non-zero (Node's `immediateInfo[kRefCount]`).
    pending: Cell<usize>,
}

enum ImmediateEntry {
    Callback(Rc<ImmediateState>),
    /// A task in `yield_to_loop`.
    Wake(Waker),
    /// A task (or the main future, [`TaskRef::MAIN`]) woken past the wake
    /// budget; it is already marked queued.
    Deferred(TaskRef),
}

/// What the check phase runs for one queue entry (`src/event_loop.rs`).
pub(crate) enum DueImmediate {
    /// A `set_immediate` callback, and where it was set.
    Callback(Box<dyn FnOnce()>, &'static Location<'static>),
    /// Wake a task in `yield_to_loop`.
    Wake(Waker),
    /// Queue a task the progress rule deferred.
    Deferred(TaskRef),
    /// An immediate cleared after it was queued: nothing runs.
    Cleared,
}

struct ImmediateState {
    callback: Cell<Option<Box<dyn FnOnce()>>>,
    /// Counted in `pending` while the callback is there (`Immediate::unref`
    /// clears it).
    refed: Cell<bool>,
    /// Where `set_immediate` was called.
    location: &'static Location<'static>,
    core: Weak<Core>,
}

impl ImmediateQueue {
    fn push(&self, entry: ImmediateEntry) {
        self.queue.borrow_mut().push_back(entry);
        self.pending.set(self.pending.get() + 1);
    }

    /// Whether a ref'd immediate is waiting: the loop is alive.
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.get() != 0
    }

    /// Whether any entry waits, ref'd or not: the poll phase must not sleep
    /// (Node starts its idle handle for every immediate).
    pub(crate) fn has_queued(&self) -> bool {
        !self.queue.borrow().is_empty()
    }

    /// How many entries the check phase starting now runs: those queued
    /// before it began.
    pub(crate) fn queued(&self) -> usize {
        self.queue.borrow().len()
    }

    /// The next entry of the check phase, counted as run (or cleared).
    pub(crate) fn pop(&self) -> Option<DueImmediate> {
        let entry = self.queue.borrow_mut().pop_front()?;
        let due = match entry {
            ImmediateEntry::Callback(state) => match state.callback.take() {
                Some(callback) if state.refed.get() => {
                    DueImmediate::Callback(callback, state.location)
                }
                // An unref'd one was counted off by `unref`.
                Some(callback) => return Some(DueImmediate::Callback(callback, state.location)),
                // A cleared immediate was counted off when it was cleared.
                None => return Some(DueImmediate::Cleared),
            },
            ImmediateEntry::Wake(waker) => DueImmediate::Wake(waker),
            ImmediateEntry::Deferred(task) => DueImmediate::Deferred(task),
        };
        self.pending.set(self.pending.get() - 1);
        Some(due)
    }

    /// Queues a task deferred by the progress rule.
    pub(crate) fn defer(&self, task: TaskRef) {
        self.push(ImmediateEntry::Deferred(task));
    }

    /// Drops every queued immediate (shutdown) and returns the deferred
    /// tasks, still marked queued. The handles may live on: the callbacks
    /// are taken out first, so a `clear` that a dropped callback makes (a
    /// guard it captured) finds nothing to count down.
    pub(crate) fn clear(&self) -> Vec<TaskRef> {
        let queue = self.queue.take();
        let mut callbacks = Vec::new();
        let mut deferred = Vec::new();
        for entry in queue {
            match entry {
                ImmediateEntry::Callback(state) => callbacks.extend(state.callback.take()),
                ImmediateEntry::Wake(waker) => drop(waker),
                ImmediateEntry::Deferred(task) => deferred.push(task),
            }
        }
        self.pending.set(0);
        drop(callbacks);
        deferred
    }
}

/// Runs `callback` in the check phase of the loop: `setImmediate(callback)`.
///
/// Immediates run after the poll phase (I/O, worker-pool completions), in the
/// order they were queued, each followed by a microtask checkpoint.
///
/// # Panics
///
/// Panics outside a runtime. A panic inside `callback` propagates out of
/// `run` / `block_on` unless a handler was set with
/// [`Builder::on_uncaught_panic`](crate::Builder::on_uncaught_panic).
///
/// # Examples
///
/// ```
/// jsloop::run(async {
///     jsloop::set_immediate(|| println!("3: check phase"));
///     jsloop::queue_microtask(|| println!("2: microtask"));
///     println!("1: script");
/// });
/// ```
#[track_caller]
pub fn set_immediate(callback: impl FnOnce() + 'static) -> Immediate {
    let location = Location::caller();
    context::with_current(|core| {
        let state = Rc::new(ImmediateState {
            callback: Cell::new(Some(Box::new(callback))),
            refed: Cell::new(true),
            location,
            core: core.weak(),
        });
        core.immediates.push(ImmediateEntry::Callback(state.clone()));
        Immediate { state }
    })
}

/// Cancels an immediate: `clearImmediate(immediate)`. Same as
/// [`Immediate::clear`].
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let ran = Rc::new(Cell::new(false));
/// jsloop::run({
///     let ran = ran.clone();
///     async move {
///         let immediate = jsloop::set_immediate(move || ran.set(true));
///         // Cleared by a next-tick callback, before the check phase comes round.
///         jsloop::next_tick(move || jsloop::clear_immediate(&immediate));
///     }
/// });
/// assert!(!ran.get());
/// ```
pub fn clear_immediate(immediate: &Immediate) {
    immediate.clear();
}

/// A queued [`set_immediate`] callback. Dropping the handle does not cancel
/// it (as in JavaScript); [`clear`](Immediate::clear) does.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let ran = Rc::new(Cell::new(0));
/// jsloop::run({
///     let ran = ran.clone();
///     async move {
///         let kept = jsloop::set_immediate({
///             let ran = ran.clone();
///             move || ran.set(ran.get() + 1)
///         });
///         // Dropping a handle does not cancel its immediate ...
///         drop(jsloop::set_immediate(move || ran.set(ran.get() + 10)));
///         // ... and a clone clears the same immediate as the original.
///         kept.clone().clear();
///     }
/// });
/// assert_eq!(ran.get(), 10);
/// ```
#[derive(Clone)]
pub struct Immediate {
    state: Rc<ImmediateState>,
}

impl Immediate {
    /// Cancels the callback if it has not run yet; a no-op afterwards.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::run(async {
    ///     let immediate = jsloop::set_immediate(|| unreachable!("cleared"));
    ///     immediate.clear();
    /// });
    /// ```
    pub fn clear(&self) {
        if let Some(callback) = self.state.callback.take() {
            if self.state.refed.get() {
                self.count(-1);
            }
            drop(callback);
        }
    }

    /// Lets the loop end while this immediate waits: `immediate.unref()`.
    /// It still runs if the loop is alive for another reason when the check
    /// phase comes. Idempotent (a flag, not a counter); a no-op once the
    /// immediate ran or was cleared.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::run(async {
    ///     // Nothing else keeps the loop alive: it ends before the check phase.
    ///     jsloop::set_immediate(|| unreachable!("the loop ended first")).unref();
    /// });
    /// ```
    pub fn unref(&self) -> &Self {
        if self.is_pending() && self.state.refed.replace(false) {
            self.count(-1);
        }
        self
    }

    /// Makes the immediate keep the loop alive again (the default):
    /// `immediate.ref()`. Idempotent; a no-op once it ran or was cleared.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let ran = Rc::new(Cell::new(false));
    /// jsloop::run({
    ///     let ran = ran.clone();
    ///     async move {
    ///         jsloop::set_immediate(move || ran.set(true)).unref().ref_();
    ///     }
    /// });
    /// assert!(ran.get());
    /// ```
    pub fn ref_(&self) -> &Self {
        if self.is_pending() && !self.state.refed.replace(true) {
            self.count(1);
        }
        self
    }

    /// Whether the immediate keeps the loop alive: `immediate.hasRef()`.
    /// `false` once it ran or was cleared, as in Node.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::run(async {
    ///     let immediate = jsloop::set_immediate(|| {});
    ///     assert!(immediate.has_ref());
    ///     assert!(!immediate.unref().has_ref());
    ///     immediate.clear();
    ///     assert!(!immediate.ref_().has_ref());
    /// });
    /// ```
    pub fn has_ref(&self) -> bool {
        self.state.refed.get() && self.is_pending()
    }

    fn is_pending(&self) -> bool {
        let callback = self.state.callback.take();
        let pending = callback.is_some();
        self.state.callback.set(callback);
        pending
    }

    /// Moves the loop's count of ref'd immediates by `by`.
    fn count(&self, by: isize) {
        if let Some(core) = self.state.core.upgrade() {
            let pending = &core.immediates.pending;
            pending.set(pending.get().wrapping_add_signed(by));
        }
    }
}

impl std::fmt::Debug for Immediate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Immediate")
            .field("pending", &self.is_pending())
            .field("refed", &self.has_ref())
            .finish()
    }
}

/// Waits for the next check phase: `await new Promise(setImmediate)`.
///
/// Unlike [`yield_now`](crate::yield_now), this lets timers, I/O and
/// worker-pool completions run before the task continues.
///
/// # Panics
///
/// The returned future panics if polled outside a runtime.
///
/// # Examples
///
/// ```
/// jsloop::run(async {
///     jsloop::set_immediate(|| println!("1: queued first"));
///     jsloop::yield_to_loop().await;
///     println!("2: after the check phase reached us");
/// });
/// ```
pub fn yield_to_loop() -> YieldToLoop {
    YieldToLoop { queued: false }
}

/// Future returned by [`yield_to_loop`].
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use jsloop::YieldToLoop;
///
/// jsloop::block_on(async {
///     let ran = Rc::new(Cell::new(false));
///     let flag = ran.clone();
///     jsloop::set_immediate(move || flag.set(true));
///     let next_check_phase: YieldToLoop = jsloop::yield_to_loop();
///     next_check_phase.await;
///     assert!(ran.get()); // the immediate queued before us ran first
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldToLoop {
    queued: bool,
}

impl Future for YieldToLoop {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.queued {
            return Poll::Ready(());
        }
        context::with_current(|core| {
            core.immediates.push(ImmediateEntry::Wake(cx.waker().clone()))
        });
        self.queued = true;
        Poll::Pending
    }
}
