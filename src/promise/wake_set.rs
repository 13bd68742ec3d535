//! The wake bookkeeping under every combinator: one waker per child, and
//! the list of children woken since the combinator last looked, so that a
//! wake costs O(1) and polls only the child it belongs to.
//!
//! The first pass polls every child in input order. After that, only the
//! children whose wakers fired are polled, in the order they fired.
//!
//! All the child wakers of one combinator live in a single allocation: a
//! child's waker is a pointer to its slot in that array, and the array's
//! reference count counts every child waker clone. (One `Arc` per child
//! would cost an allocation per child: more than the rest of a combinator's
//! per-child work together.)

use std::collections::VecDeque;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::sync::QueuedFlag;

/// Which children need a poll, and the wakers that say so.
pub(crate) struct WakeSet {
    array: Arc<WakeArray>,
    /// Children `next_unpolled..` have not had their first poll yet.
    next_unpolled: usize,
    /// Woken children, taken from the array a batch at a time.
    batch: VecDeque<usize>,
    /// This poll of the combinator took its batch already: children woken
    /// since (one that wakes itself, say) wait for the next poll, so that a
    /// poll always ends.
    batch_taken: bool,
}

/// What child wakers reach, possibly from other threads.
struct WakeArray {
    slots: Box<[Slot]>,
    woken: Mutex<VecDeque<usize>>,
    /// The task polling the combinator.
    parent: Mutex<Option<Waker>>,
    /// The parent was woken since its last poll: later child wakes need
    /// not wake it again.
    parent_woken: AtomicBool,
}

/// One child's waker: the waker's data pointer points here.
struct Slot {
    /// In `woken` (or about to be polled): a child is listed once.
    queued: QueuedFlag,
    /// The array holding this slot (for the reference count).
    array: ArrayPtr,
}

/// A pointer to the `WakeArray` that owns the slot holding it.
struct ArrayPtr(*const WakeArray);

// SAFETY: an `ArrayPtr` is only dereferenced (by the waker functions) while
// a reference count of its array is held, and everything reachable through
// it is `Sync` (atomics and mutexes); so it can be shared and sent like the
// `Arc<WakeArray>` it stands for.
unsafe impl Send for ArrayPtr {}
// SAFETY: as for `Send`.
unsafe impl Sync for ArrayPtr {}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; stay usable regardless.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

static CHILD_WAKER: RawWakerVTable =
    RawWakerVTable::new(clone_child, wake_child, wake_child_by_ref, drop_child);

/// The slot a child waker's data pointer names.
///
/// # Safety
/// `data` must come from a child waker (a `&Slot` of a live array).
unsafe fn slot<'a>(data: *const ()) -> &'a Slot {
    // SAFETY: the caller passes a child waker's data pointer, which
    // `poll_child` made from a `&Slot` in a live array's `slots`: valid and
    // aligned. Slots are only ever shared (their state is atomic), so a
    // shared reference aliases nothing mutable.
    unsafe { &*data.cast::<Slot>() }
}

unsafe fn clone_child(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds a count of the array (or borrows
    // the `WakeSet`'s), so the slot and array are alive; the clone takes a
    // count of its own. `slot.array` points at that array's `Arc`
    // allocation (`WakeSet::new`), which has a strong count now.
    unsafe { Arc::increment_strong_count(slot(data).array.0) };
    RawWaker::new(data, &CHILD_WAKER)
}

unsafe fn wake_child(data: *const ()) {
    // SAFETY: `data` is a live waker of this vtable (`RawWakerVTable`'s
    // contract), and `wake` consumes it: it owns a count, which keeps the
    // array alive for the wake.
    unsafe { wake_child_by_ref(data) };
    // SAFETY: the consumed waker's count is ours to give back, and `data` is
    // not used after.
    unsafe { drop_child(data) };
}

unsafe fn wake_child_by_ref(data: *const ()) {
    // SAFETY: the waker holds a count of the array, so it is alive.
    let slot = unsafe { slot(data) };
    if !slot.queued.mark_queued() {
        return;
    }
    // SAFETY: `slot.array` points at the array holding the slot, alive while
    // the waker's count is held; it is only ever shared (behind its `Arc`).
    let array = unsafe { &*slot.array.0 };
    let index = (data as usize - array.slots.as_ptr() as usize) / std::mem::size_of::<Slot>();
    lock(&array.woken).push_back(index);
    if !array.parent_woken.swap(true, Ordering::AcqRel) {
        if let Some(parent) = lock(&array.parent).as_ref() {
            parent.wake_by_ref();
        }
    }
}

unsafe fn drop_child(data: *const ()) {
    // SAFETY: the waker owns the count it gives back, and is gone after
    // this (a borrowed waker is never dropped: `poll_child`); the slot is
    // read before the count goes, and not after.
    unsafe { Arc::decrement_strong_count(slot(data).array.0) };
}

impl WakeSet {
    pub(crate) fn new(len: usize) -> Self {
        let array = Arc::new_cyclic(|array: &Weak<WakeArray>| WakeArray {
            slots: (0..len)
                .map(|_| Slot { queued: QueuedFlag::new(false), array: ArrayPtr(array.as_ptr()) })
                .collect(),
            woken: Mutex::default(),
            parent: Mutex::default(),
            parent_woken: AtomicBool::new(false),
        });
        WakeSet { array, next_unpolled: 0, batch: VecDeque::new(), batch_taken: false }
    }

    /// Starts a poll of the combinator: records the task polling it.
    pub(crate) fn enter(&mut self, cx: &Context<'_>) {
        let mut parent = lock(&self.array.parent);
        if !parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *parent = Some(cx.waker().clone());
        }
        drop(parent);
        // Cleared before the woken list is read: a wake after that read
        // wakes the parent again.
        self.array.parent_woken.store(false, Ordering::Release);
        self.batch_taken = false;
    }

    /// The next child to poll: first every child once, in input order, then
    /// the woken ones in the order they were woken, one batch per poll of
    /// the combinator (later wakes have woken its task again).
    pub(crate) fn next(&mut self) -> Option<usize> {
        if self.next_unpolled < self.array.slots.len() {
            self.next_unpolled += 1;
            return Some(self.next_unpolled - 1);
        }
        if self.batch.is_empty() {
            if self.batch_taken {
                return None;
            }
            std::mem::swap(&mut self.batch, &mut lock(&self.array.woken));
            self.batch_taken = true;
        }
        self.batch.pop_front()
    }

    /// Polls child `index`'s `future` with the child's own waker.
    pub(crate) fn poll_child<F: Future + ?Sized>(
        &mut self,
        index: usize,
        future: Pin<&mut F>,
    ) -> Poll<F::Output> {
        let slot = &self.array.slots[index];
        // Clear before polling: a wake during the poll lists it again.
        slot.queued.clear_for_poll();
        let data: *const Slot = slot;
        // SAFETY: `data` is a slot of `self.array`, which `self` keeps alive
        // for the whole poll; `ManuallyDrop` keeps this borrowed waker from
        // giving back a count it never took, and clones take their own.
        let waker =
            ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data.cast(), &CHILD_WAKER)) });
        future.poll(&mut Context::from_waker(&waker))
    }
}
