//! The microtask checkpoint: the next-tick queue and the microtask ring.
//!
//! After every macrotask the loop (`Core::checkpoint`, `src/event_loop.rs`)
//! drains the next-tick queue, then the microtask ring, and repeats until
//! both are empty — Node's `processTicksAndRejections`. Woken tasks and
//! `queue_microtask` closures share one ring, so they run in the order they
//! were queued. A microtask that queues a microtask extends the checkpoint:
//! an endless chain starves the loop, exactly as in JavaScript. Wakes
//! through a `Waker` are the exception past a budget (the progress rule,
//! `src/progress.rs`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::panic::Location;

use crate::context;
use crate::progress::WakeBudget;
use crate::task::raw::TaskRef;

/// A `queue_microtask` / `next_tick` closure, with where it was queued
/// (one box: the ring entry stays two words).
pub(crate) type Callback = Box<dyn LocatedCallback>;

/// A boxed `FnOnce` that knows where it was queued.
pub(crate) trait LocatedCallback {
    fn call(self: Box<Self>);
    fn location(&self) -> &'static Location<'static>;
}

struct Located<F> {
    location: &'static Location<'static>,
    callback: F,
}

impl<F: FnOnce()> LocatedCallback for Located<F> {
    fn call(self: Box<Self>) {
        (self.callback)();
    }

    fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

/// Boxes `callback` with its caller's location.
#[track_caller]
pub(crate) fn located(callback: impl FnOnce() + 'static) -> Callback {
    located_at(Location::caller(), callback)
}

/// Boxes `callback` with `location`: for work queued on behalf of code
/// registered elsewhere (an observer's batch names where the observer was
/// made, not the `notify` that happened to queue it).
pub(crate) fn located_at(
    location: &'static Location<'static>,
    callback: impl FnOnce() + 'static,
) -> Callback {
    Box::new(Located { location, callback })
}

/// One entry of the microtask ring: 16 bytes (two variants let the tag
/// live in the closure pointer's niche; a third would make it 24).
pub(crate) enum Microtask {
    /// Poll a task (its first poll, or after a wake), or the main future of
    /// `run` / `block_on` when the task is [`TaskRef::MAIN`].
    Task(TaskRef),
    /// A `queue_microtask` closure.
    Callback(Callback),
}

impl Microtask {
    /// Poll the main future.
    pub(crate) const MAIN: Microtask = Microtask::Task(TaskRef::MAIN);
}

/// Ring capacity (entries) kept across checkpoints: 64 KiB, enough that
/// bursts of thousands of wakes do not reallocate every time, and small
/// beside what a burst past it costs anyway (a task cell per entry: at
/// 4,096 entries the ring is 16 bytes a task, a tenth of the cells).
const RING_KEPT_CAPACITY: usize = 1 << 12;

/// The two queues a checkpoint drains, and the budget of wakes that feed
/// the ring.
pub(crate) struct MicrotaskQueues {
    ring: RefCell<VecDeque<Microtask>>,
    next_ticks: RefCell<VecDeque<Callback>>,
    pub(crate) budget: WakeBudget,
}

impl MicrotaskQueues {
    pub(crate) fn new(budget: WakeBudget) -> MicrotaskQueues {
        MicrotaskQueues { ring: RefCell::default(), next_ticks: RefCell::default(), budget }
    }

    // Always inlined: every wake and spawn pushes (the call alone would be
    // a tenth of a spawn's cost). No path out of it unwinds while it owns
    // `microtask` (a full ring grows first; a borrowed ring, a bug, leaks it
    // to its panic): an unwind path that drops one costs every inlined wake
    // a stack frame (2 instructions of a yield's ~180).
    #[inline(always)]
    pub(crate) fn push(&self, microtask: Microtask) {
        let Ok(mut ring) = self.ring.try_borrow_mut() else {
            std::mem::forget(microtask);
            ring_in_use()
        };
        if ring.len() == ring.capacity() {
            grow_ring(&mut ring);
        }
        // SAFETY: `grow_ring` made room for one more entry (or panicked), so
        // the ring is not full and `push_back` does not grow it.
        unsafe { std::hint::assert_unchecked(ring.len() < ring.capacity()) };
        ring.push_back(microtask);
    }

    pub(crate) fn push_next_tick(&self, callback: Callback) {
        self.next_ticks.borrow_mut().push_back(callback);
    }

    /// The oldest next-tick callback. (Popped in a call of its own: the
    /// borrow ends before the callback runs and queues more.)
    #[inline]
    pub(crate) fn pop_next_tick(&self) -> Option<Callback> {
        self.next_ticks.borrow_mut().pop_front()
    }

    /// The oldest microtask.
    #[inline]
    pub(crate) fn pop(&self) -> Option<Microtask> {
        self.ring.borrow_mut().pop_front()
    }

    /// A next-tick was queued by the microtasks just run: the checkpoint
    /// goes round again.
    #[inline]
    pub(crate) fn has_next_ticks(&self) -> bool {
        !self.next_ticks.borrow().is_empty()
    }

    /// Both queues ran dry: the checkpoint is over, and the next macrotask
    /// starts with a full wake budget.
    #[inline]
    pub(crate) fn end_checkpoint(&self) {
        self.trim();
        self.budget.reset();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ring.borrow().is_empty() && self.next_ticks.borrow().is_empty()
    }

    /// Entries on the microtask ring (the trace's queue depth).
    pub(crate) fn len(&self) -> usize {
        self.ring.borrow().len()
    }

    /// Shows `visit` the ring's entries from position `from` on: with
    /// `from` the ring's length before an item ran, what that item queued
    /// (nothing pops while an item runs). Loop thread; `visit` must not
    /// queue anything.
    pub(crate) fn visit_from(&self, from: usize, visit: impl FnMut(&Microtask)) {
        let ring = self.ring.borrow();
        ring.range(from.min(ring.len())..).for_each(visit);
    }

    /// After a burst (say a million spawns at once) the empty ring would keep
    /// its peak capacity forever; give most of it back.
    fn trim(&self) {
        let mut ring = self.ring.borrow_mut();
        if ring.capacity() > RING_KEPT_CAPACITY {
            ring.shrink_to(RING_KEPT_CAPACITY);
        }
    }

    /// Empties both queues (shutdown), returning the ring's entries.
    pub(crate) fn take_all(&self) -> (VecDeque<Microtask>, VecDeque<Callback>) {
        (self.ring.take(), self.next_ticks.take())
    }
}

/// Queues `callback` on the microtask ring: `queueMicrotask(callback)`.
///
/// It runs after the current macrotask (and every next-tick queued so far),
/// in FIFO order with woken tasks and other microtasks.
///
/// # Panics
///
/// Panics outside a runtime. A panic inside `callback` propagates out of
/// `run` / `block_on`, unless the runtime was built with
/// [`Builder::on_uncaught_panic`](crate::Builder::on_uncaught_panic).
///
/// # Examples
///
/// ```
/// jsloop::run(async {
///     jsloop::queue_microtask(|| println!("2: microtask"));
///     println!("1: script");
/// });
/// ```
#[track_caller]
pub fn queue_microtask(callback: impl FnOnce() + 'static) {
    let callback = located(callback);
    context::with_current(|core| core.microtasks.push(Microtask::Callback(callback)));
}

/// Queues `callback` on the next-tick queue: `process.nextTick(callback)`.
///
/// Next-ticks run before microtasks at every checkpoint, even ones queued
/// earlier.
///
/// # Panics
///
/// Panics outside a runtime; a panicking callback is handled as in
/// [`queue_microtask`].
///
/// # Examples
///
/// ```
/// jsloop::run(async {
///     jsloop::queue_microtask(|| println!("3: microtask"));
///     jsloop::next_tick(|| println!("2: next tick"));
///     println!("1: script");
/// });
/// ```
#[track_caller]
pub fn next_tick(callback: impl FnOnce() + 'static) {
    let callback = located(callback);
    context::with_current(|core| core.microtasks.push_next_tick(callback));
}

/// A push while the ring is borrowed: a bug of the loop's (see
/// `MicrotaskQueues::push`).
#[cold]
#[inline(never)]
fn ring_in_use() -> ! {
    panic!("jsloop: the microtask ring is already borrowed");
}

/// Room for one more entry in a full ring, out of line (see `push`).
#[cold]
#[inline(never)]
fn grow_ring(ring: &mut VecDeque<Microtask>) {
    ring.reserve(1);
}

#[cfg(test)]
mod tests {
    use super::Microtask;

    #[test]
    fn a_ring_entry_is_two_words() {
        // Every queued task costs one entry; keep it at 16 bytes (8 on a
        // 32-bit target).
        assert_eq!(std::mem::size_of::<Microtask>(), 2 * std::mem::size_of::<usize>());
    }
}
