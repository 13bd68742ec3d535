//! Task cell: one allocation per spawned task, holding the future, then its
//! output, and the bookkeeping the loop needs to schedule it.
//!
//! This file, `waker.rs` and `foreign.rs` hold the executor's
//! `unsafe` (and the microtask ring's `push`, one assumption). The rules
//! they rely on:
//!
//! - A cell is shared by the loop thread (which polls it and owns the
//!   loop-side flags) and by any number of [`Waker`]s, which may live on any
//!   thread. Other threads only ever touch [`Header::state`] (an atomic) and
//!   the immutable `runtime_id` / `vtable`.
//! - `state` counts references: one per `Waker`, plus one *loop reference*
//!   held while any loop-side flag in [`KEEPS_LOOP_REF`] is set, or any
//!   timer entry names the task (counted in the flags' upper bits). The cell is
//!   freed when the count reaches zero, possibly on another thread; by then
//!   the future and any output have already been dropped on the loop thread
//!   (they may be `!Send`), so freeing only returns memory.
//! - The future and output are only touched on the loop thread: [`TaskRef`]
//!   is `!Send`, and a wake from another thread never touches them, it only
//!   queues the task for the loop. One exception: a `JoinHandle` moved to
//!   another thread (its output is `Send`) reads a *finished* task's output
//!   there ([`take_output_away`]), after the loop handed the stage over
//!   through a mutex (`foreign.rs`). The loop never touches a finished
//!   task's stage while its handle holds the task (`HANDLE`): only the
//!   handle's own `take_output` / `drop_output` do. The final free drops
//!   nothing: the header owns nothing, and the stage was emptied by then.
//! - "The loop thread" above means the thread that runs the cell's runtime.
//!   Once that runtime has shut down (every task finished, nothing of the
//!   loop's left naming the cell but a handle's hold) and left the runtime
//!   table, the loop touches the cell no more, and a moved `JoinHandle`
//!   holding it takes the loop thread's part: the table's mutex orders the
//!   shutdown before that handle's next look at the table (`foreign.rs`).

use std::alloc::{self, Layout};
use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll, Waker};

use super::cell_cache::{CellCache, cell_layout};
use super::join::JoinError;
use super::waker;
use crate::context;

/// Loop-side flag: the task is in the microtask ring.
pub(crate) const SCHEDULED: u16 = 1 << 0;
/// Loop-side flag: the task is being polled right now.
pub(crate) const RUNNING: u16 = 1 << 1;
/// Loop-side flag: the future is still there (not finished, not dropped);
/// exactly the tasks in the registry have it.
pub(crate) const LIVE: u16 = 1 << 2;
/// Loop-side flag: a `JoinHandle` exists.
pub(crate) const HANDLE: u16 = 1 << 3;
/// Loop-side flag: `abort` was asked for while the future could not be
/// dropped at once (it was running, or the runtime was not); the loop drops
/// it the next time it picks the task up.
pub(crate) const ABORT: u16 = 1 << 4;
/// Loop-side flag: the task has an awaiter (`awaiters.rs`); only while
/// `LIVE`.
pub(crate) const AWAITED: u16 = 1 << 5;
/// While any of these is set, the loop holds its reference to the cell.
const KEEPS_LOOP_REF: u16 = SCHEDULED | RUNNING | LIVE | HANDLE;
/// The bits above the flags count the timer-wheel entries that name this
/// task directly (a `Sleep` polled by its own task): loop-side references
/// that need no atomic, which also keep the loop reference. Ten bits: past
/// 1,023 such entries a sleep holds a waker clone instead.
const TIMER_REF_ONE: u16 = 1 << 6;

/// `state` bit: the task sits in its runtime's remote queue.
const REMOTE_QUEUED: u32 = 1;
/// One reference in `state` (the bit below it is `REMOTE_QUEUED`).
const REF_ONE: u32 = 2;

/// The type-erased start of every task cell.
#[repr(C)]
pub(crate) struct Header {
    /// References (in units of `REF_ONE`) plus the `REMOTE_QUEUED` bit; the
    /// only field other threads write.
    state: AtomicU32,
    /// The runtime the task belongs to, for routing wakes.
    pub(crate) runtime_id: u32,
    /// Loop-side flags (`SCHEDULED`, `RUNNING`, ...) and the timer-entry
    /// count; loop thread only.
    pub(crate) flags: Cell<u16>,
    /// How many tasks held `slot` before this one (mod 2^16): with the slot,
    /// the task's id.
    pub(crate) generation: Cell<u16>,
    /// Index in the runtime's task registry while `LIVE`; loop thread only.
    pub(crate) slot: Cell<u32>,
    vtable: &'static TaskVTable,
    /// Where the task was spawned, to name it in reports.
    pub(crate) location: &'static Location<'static>,
}

struct TaskVTable {
    poll: unsafe fn(NonNull<Header>) -> bool,
    drop_future: unsafe fn(NonNull<Header>),
    take_output: unsafe fn(NonNull<Header>, *mut ()),
    drop_output: unsafe fn(NonNull<Header>) -> Option<Box<dyn Any + Send>>,
    dealloc: unsafe fn(NonNull<Header>),
    /// The future's type, to name the task in diagnostics.
    type_name: fn() -> &'static str,
}

/// Where a task is in its life, the future and then its outcome in the
/// same space, with no tag of its own (a future rarely has a niche for one,
/// so a tag would cost 8 bytes of every cell): the loop-side `LIVE` flag
/// says the future is there; once it is clear, the outcome is, until the
/// one reader of it takes it out. There is exactly one: the `JoinHandle`
/// (`take_output`), or the loop when the handle is gone (`drop_output`),
/// as `release_hold`'s `output_read` and `settle`'s `HANDLE` test decide.
/// Nothing drops a stage by itself: the cell's free finds it taken.
union Stage<F: Future> {
    future: ManuallyDrop<F>,
    outcome: ManuallyDrop<Result<F::Output, JoinError>>,
}

#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// A pointer to a task cell, used on the loop thread while the loop holds
/// its reference (so the cell is alive). `!Send` by construction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct TaskRef(NonNull<Header>);

impl TaskRef {
    /// Not a task: stands for the main future of `run` / `block_on` in the
    /// microtask ring. No cell can live at this address (the first aligned
    /// address above null), and nothing dereferences it.
    pub(crate) const MAIN: TaskRef = TaskRef(NonNull::dangling());

    /// Allocates a task for `future`, owned by runtime `runtime_id`, with the
    /// loop reference held and `flags` set (they must keep the loop ref).
    pub(crate) fn new<F>(
        future: F,
        runtime_id: u32,
        flags: u16,
        location: &'static Location<'static>,
        cells: &CellCache,
    ) -> TaskRef
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        debug_assert!(flags & KEEPS_LOOP_REF != 0);
        let block = cells.allocate(TaskCell::<F>::LAYOUT).cast::<TaskCell<F>>();
        let cell = TaskCell {
            header: Header {
                state: AtomicU32::new(REF_ONE),
                runtime_id,
                flags: Cell::new(flags),
                generation: Cell::new(0),
                slot: Cell::new(0),
                vtable: &TaskCell::<F>::VTABLE,
                location,
            },
            stage: UnsafeCell::new(Stage { future: ManuallyDrop::new(future) }),
        };
        // SAFETY: `block` is fresh memory of `LAYOUT`, which is at least as
        // large and as aligned as a `TaskCell<F>`.
        unsafe { block.as_ptr().write(cell) };
        // `TaskCell` is `repr(C)` with the header first: the cell pointer is
        // a header pointer.
        TaskRef(block.cast::<Header>())
    }

    pub(crate) fn from_ptr(ptr: NonNull<Header>) -> TaskRef {
        TaskRef(ptr)
    }

    /// The cell's address, for the `raw` functions that other threads may
    /// call (`retain`, `release`, `runtime_id`, `take_output_away`).
    pub(crate) fn as_ptr(self) -> NonNull<Header> {
        self.0
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a `TaskRef` is only used while the loop holds its reference
        // (see the module doc), so the cell is alive.
        unsafe { self.0.as_ref() }
    }

    /// Polls the future once with this task's waker; `true` when it finished
    /// (returned or panicked) and its output is stored.
    pub(crate) fn poll(self) -> bool {
        // SAFETY: loop thread (TaskRef is !Send), cell alive, and the caller
        // (the loop) only polls tasks whose flags say `LIVE`, so the stage
        // holds the future.
        unsafe { (self.header().vtable.poll)(self.0) }
    }

    /// Drops a `LIVE` task's future and records `JoinError::aborted` (or the
    /// panic of the future's destructor).
    pub(crate) fn drop_future(self) {
        // SAFETY: as for `poll`; callers check `LIVE` and `!RUNNING`.
        unsafe { (self.header().vtable.drop_future)(self.0) }
    }

    /// Moves a finished task's output into `out`, which must be `Pending`.
    ///
    /// # Safety
    /// `T` must be the task's output type, and the task must be finished.
    pub(crate) unsafe fn take_output<T>(self, out: &mut Poll<Result<T, JoinError>>) {
        // SAFETY: loop thread (TaskRef is !Send), cell alive. The caller
        // promises `T` is the task's output type, so `out` is the
        // `Poll<Result<F::Output, JoinError>>` the entry casts it back to (and
        // a `&mut`, so valid for the write), and that the task is finished,
        // so no poll holds the stage.
        unsafe {
            (self.header().vtable.take_output)(
                self.0,
                (out as *mut Poll<Result<T, JoinError>>).cast(),
            )
        }
    }

    /// The type of the task's future (an `async` block's names where it was
    /// written), for diagnostics.
    pub(crate) fn type_name(self) -> &'static str {
        (self.header().vtable.type_name)()
    }

    /// Drops an output nobody will read (a finished task's handle is gone),
    /// handing back the payload if the task panicked: nobody will see that
    /// panic otherwise.
    ///
    /// # Safety
    /// The task must be finished with its outcome unread, and the caller
    /// its one reader (the handle is gone: `Stage`'s doc).
    #[must_use = "a panic nobody awaited goes to the uncaught handler"]
    pub(crate) unsafe fn drop_output(self) -> Option<Box<dyn Any + Send>> {
        // SAFETY: loop thread (or its stand-in after shutdown: module doc),
        // cell alive; the stage holds an outcome nobody else will read (our
        // contract).
        unsafe { (self.header().vtable.drop_output)(self.0) }
    }

    /// Releases the loop reference once no loop-side flag needs the cell.
    pub(crate) fn release_if_unused(self) {
        let flags = self.header().flags.get();
        if flags & KEEPS_LOOP_REF == 0 && flags < TIMER_REF_ONE {
            // SAFETY: the loop reference is held until this point, and no
            // flag needs it any more; nothing on the loop uses `self` after.
            unsafe { release(self.0) }
        }
    }

    /// How many `Waker` clones of this live task exist (loop thread; the
    /// count is exact while no remote wake of it is queued).
    pub(crate) fn waker_clones(self) -> usize {
        let refs = self.header().state.load(Ordering::Acquire) / REF_ONE;
        // A live task holds the loop reference.
        refs.saturating_sub(1) as usize
    }

    /// Whether a wake from another thread has queued the task for the
    /// poll phase (task dumps count it as queued).
    pub(crate) fn is_remote_queued(self) -> bool {
        self.header().state.load(Ordering::Acquire) & REMOTE_QUEUED != 0
    }

    /// Takes a loop-side reference for a timer entry naming this task;
    /// `false` if the count is full (the entry must hold a waker instead).
    pub(crate) fn try_retain_timer_ref(self) -> bool {
        let flags = self.header().flags.get();
        match flags.checked_add(TIMER_REF_ONE) {
            Some(flags) => {
                self.header().flags.set(flags);
                true
            }
            None => false,
        }
    }

    /// Gives back a timer entry's reference; may free the cell.
    pub(crate) fn release_timer_ref(self) {
        let header = self.header();
        header.flags.set(header.flags.get() - TIMER_REF_ONE);
        self.release_if_unused();
    }

    /// A waker for this task that borrows the loop's reference (no count).
    pub(crate) fn with_waker<R>(self, f: impl FnOnce(&Waker) -> R) -> R {
        // SAFETY: the raw waker points at a live cell; `ManuallyDrop` keeps
        // the borrowed waker from releasing a reference it never took, and a
        // clone taken by `f` takes its own.
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(waker::raw_waker(self.0)) });
        f(&waker)
    }
}

/// Adds a reference (a waker clone, or a remote-queue entry).
///
/// # Safety
/// `ptr` must point to a live cell on which the caller holds a reference.
pub(crate) unsafe fn retain(ptr: NonNull<Header>) {
    // SAFETY: the caller holds a reference, so the cell is alive.
    let old = unsafe { state(ptr) }.fetch_add(REF_ONE, Ordering::Relaxed);
    if old > u32::MAX / 2 {
        // As `Arc` does: an overflowing count would free a cell still in use.
        std::process::abort();
    }
}

/// Drops a reference; frees the cell if it was the last.
///
/// # Safety
/// The caller must own the reference it gives up and not use `ptr` after.
pub(crate) unsafe fn release(ptr: NonNull<Header>) {
    // SAFETY: the caller owns a reference, so the cell is alive until this
    // decrement gives it up (the reference is not used after it).
    let old = unsafe { state(ptr) }.fetch_sub(REF_ONE, Ordering::Release);
    if old / REF_ONE == 1 {
        // SAFETY: our decrement took the count to zero, and only the holder
        // of the last reference frees the cell: that is us, below.
        unsafe { acquire_before_free(ptr) };
        // SAFETY: the cell is still allocated and, after the fence, ours
        // alone. `vtable` is immutable; it is read through a raw place, with
        // no reference to the header made.
        let dealloc = unsafe { (*ptr::addr_of!((*ptr.as_ptr()).vtable)).dealloc };
        // SAFETY: `dealloc` is the entry of the cell's own vtable, so it
        // frees the cell as the type it was allocated as. The count is zero:
        // nobody else can reach the cell, and the loop dropped the future and
        // any output on its thread before its reference went (module doc);
        // the caller does not use `ptr` after this.
        unsafe { dealloc(ptr) };
    }
}

/// Called by the holder of a cell's last reference before freeing it: makes
/// every other holder's use of the cell happen before the free.
///
/// Each holder gave its reference up with a `Release` decrement (or one of
/// the `AcqRel` `REMOTE_QUEUED` updates), and every later change to `state`
/// is a read-modify-write, so each of them heads a release sequence that runs
/// up to the decrement that reached zero. An `Acquire` fence after that
/// decrement synchronizes with all of them, as in `Arc::drop`.
///
/// # Safety
/// The caller's decrement of `ptr`'s count must have reached zero, and the
/// cell not be freed yet.
#[cfg(not(jsloop_tsan))]
#[inline(always)]
unsafe fn acquire_before_free(_ptr: NonNull<Header>) {
    std::sync::atomic::fence(Ordering::Acquire);
}

/// ThreadSanitizer's [`acquire_before_free`]. TSan does not model fences, so
/// it would report the free as racing with the other holders' last uses of
/// the cell (the loop's `drop_output` against a remote thread's last
/// `drop_waker`). An `Acquire` load of `state` orders the same: no one else
/// holds a reference, so no one can change the count any more, and the load
/// reads the value our decrement wrote, the end of every one of those
/// release sequences. std's `Arc` does the same under
/// `cfg(sanitize = "thread")`; that cfg is unstable, so `build.rs` turns it
/// into `jsloop_tsan`.
///
/// # Safety
/// As the fence version.
#[cfg(jsloop_tsan)]
#[inline(always)]
unsafe fn acquire_before_free(ptr: NonNull<Header>) {
    // SAFETY: the caller has not freed the cell yet, so it is alive.
    unsafe { state(ptr) }.load(Ordering::Acquire);
}

/// Marks the task as queued remotely; `false` if it already was.
///
/// # Safety
/// `ptr` must point to a live cell on which the caller holds a reference.
pub(crate) unsafe fn set_remote_queued(ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller holds a reference, so the cell is alive.
    unsafe { state(ptr) }.fetch_or(REMOTE_QUEUED, Ordering::AcqRel) & REMOTE_QUEUED == 0
}

/// Clears the remote-queued bit when the loop takes the task off the queue:
/// a wake after this point queues it again.
///
/// # Safety
/// `ptr` must point to a live cell on which the caller holds a reference.
pub(crate) unsafe fn clear_remote_queued(ptr: NonNull<Header>) {
    // SAFETY: the caller holds a reference, so the cell is alive.
    unsafe { state(ptr) }.fetch_and(!REMOTE_QUEUED, Ordering::AcqRel);
}

/// The runtime id of a task, readable from any thread.
///
/// # Safety
/// `ptr` must point to a live (allocated, initialized) cell: a held
/// reference ensures it, as does owning the cell while freeing it.
pub(crate) unsafe fn runtime_id(ptr: NonNull<Header>) -> u32 {
    // SAFETY: the cell is alive (the contract), so `ptr` is a valid, aligned
    // header. Only this immutable field is read, never
    // the loop-side cells, and through a raw place (no `&Header` is made), so
    // the read races with no write on any thread.
    unsafe { ptr::addr_of!((*ptr.as_ptr()).runtime_id).read() }
}

/// Moves a finished task's output into `out`, which must be `Pending`, on
/// a thread that is not the loop's: a `JoinHandle` away from home, once the
/// loop has handed it the finished stage (`foreign.rs`).
///
/// # Safety
/// `T` must be the task's output type, and `Send` (the output was made on
/// the loop thread). The cell must be alive and the task finished with its
/// output unread; the loop's last touch of the stage must happen before
/// this call, and no other thread may touch the stage until it returns.
pub(crate) unsafe fn take_output_away<T>(
    ptr: NonNull<Header>,
    out: &mut Poll<Result<T, JoinError>>,
) {
    // SAFETY: the cell is alive (our contract). `vtable` is immutable; it is
    // read through a raw place, with no reference to the header made (the
    // loop may be writing its `Cell`s right now).
    let take_output = unsafe { (*ptr::addr_of!((*ptr.as_ptr()).vtable)).take_output };
    // SAFETY: `take_output` is the cell's own entry; its contract is
    // `stage`'s: nobody else touches the stage now (ours), and `out` is the
    // `Poll<Result<F::Output, JoinError>>` it casts back to (`T` is the
    // output type), valid for the write as a `&mut`.
    unsafe { take_output(ptr, (out as *mut Poll<Result<T, JoinError>>).cast()) }
}

/// A task's slot and generation (its id), readable from any thread: the
/// registry writes them once, when the task is spawned, before anything
/// can name the task on another thread, and never again.
///
/// # Safety
/// `ptr` must point to a live cell.
pub(crate) unsafe fn slot_and_generation(ptr: NonNull<Header>) -> (u32, u16) {
    // SAFETY: the cell is alive (our contract). The references made cover
    // these two fields alone (through raw places, not a `&Header`), and
    // nothing writes them any more (above), so the reads race with nothing.
    unsafe {
        let header = ptr.as_ptr();
        ((*ptr::addr_of!((*header).slot)).get(), (*ptr::addr_of!((*header).generation)).get())
    }
}

/// # Safety
/// `ptr` must point to a live cell.
unsafe fn state<'a>(ptr: NonNull<Header>) -> &'a AtomicU32 {
    // SAFETY: the caller guarantees the cell is alive, so `ptr` is a valid,
    // aligned header. The reference covers the atomic alone (made through a
    // raw place, not through a `&Header`), and an atomic may be shared with
    // every thread.
    unsafe { &*ptr::addr_of!((*ptr.as_ptr()).state) }
}

impl<F> TaskCell<F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    /// The layout the cell's memory is allocated (and freed) with.
    const LAYOUT: Layout = cell_layout(Layout::new::<Self>());

    const VTABLE: TaskVTable = TaskVTable {
        poll: Self::poll,
        drop_future: Self::drop_future,
        take_output: Self::take_output,
        drop_output: Self::drop_output,
        dealloc: Self::dealloc,
        type_name: std::any::type_name::<F>,
    };

    /// # Safety
    /// Cell alive, no other reference to the stage live, and no other
    /// thread touching it: the loop thread, or the thread the loop handed a
    /// finished stage to (`take_output_away`).
    unsafe fn stage<'a>(ptr: NonNull<Header>) -> &'a mut Stage<F> {
        // SAFETY: the cell is alive, and it is a `TaskCell<F>`: these
        // functions are reached only through `VTABLE`, which `TaskRef::new`
        // stores in cells of this `F` alone, and `repr(C)` puts the header at
        // the cell's address. No other thread touches the stage now, and the
        // caller holds no other reference to it (our contract), so the
        // `&mut` is unique.
        unsafe { &mut *(*ptr.cast::<Self>().as_ptr()).stage.get() }
    }

    /// # Safety
    /// As [`stage`](Self::stage), and the stage holds the future (the task
    /// is `LIVE`; the loop marks it `RUNNING` for the poll).
    unsafe fn poll(ptr: NonNull<Header>) -> bool {
        debug_assert!(TaskRef(ptr).header().flags.get() & LIVE != 0);
        // SAFETY: loop thread, cell alive (our contract). Nothing else holds
        // the stage: the entries that reach it run only when the task is not
        // `RUNNING` (`drop_future`) or not `LIVE` (`take_output`,
        // `drop_output`), so the future cannot reach its own stage.
        let stage = unsafe { Self::stage(ptr) };
        // SAFETY: the stage holds the future (our contract), which lives in
        // a heap cell that never moves and is dropped in place (`finish`),
        // so it is pinned.
        let future = unsafe { Pin::new_unchecked(&mut *stage.future) };
        let polled = TaskRef(ptr).with_waker(|waker| {
            let mut cx = Context::from_waker(waker);
            catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx)))
        });
        let outcome = match polled {
            Ok(Poll::Pending) => return false,
            Ok(Poll::Ready(output)) => Ok(output),
            // `process::exit` unwound through the poll: the task is cut
            // short, not failed; the loop unwinds on once it is settled.
            Err(payload) if payload.is::<crate::process::ProcessExit>() => {
                Err(JoinError::aborted())
            }
            Err(payload) => Err(JoinError::panic(payload)),
        };
        // SAFETY: `stage` is the cell's stage, holding the future where it
        // was pinned, and the poll's borrow of the future has ended.
        unsafe { Self::finish(stage, outcome) };
        true
    }

    /// Drops the future in place (catching a panicking destructor), then
    /// stores the outcome; the caller clears `LIVE`.
    ///
    /// # Safety
    /// `stage` must be a task cell's stage, holding the future where it was
    /// pinned (it is dropped there).
    unsafe fn finish(stage: &mut Stage<F>, outcome: Result<F::Output, JoinError>) {
        let dropped = if std::mem::needs_drop::<F>() {
            // SAFETY: the stage holds the future (our contract), and it is
            // dropped where it was pinned. It is not used again: the write
            // below replaces it, and nothing in between can unwind out of
            // here (a panicking destructor is caught), so it is never
            // dropped twice.
            catch_unwind(AssertUnwindSafe(|| unsafe { ManuallyDrop::drop(&mut stage.future) }))
        } else {
            Ok(())
        };
        let outcome = match dropped {
            Ok(()) => outcome,
            Err(payload) => Err(JoinError::panic(payload)),
        };
        // The future is gone (or treated as gone after its destructor
        // panicked): the outcome takes its place, nothing to drop.
        stage.outcome = ManuallyDrop::new(outcome);
    }

    /// # Safety
    /// As [`stage`](Self::stage), and the task is `LIVE` and not `RUNNING`
    /// (the stage holds the future, and no poll holds the stage).
    unsafe fn drop_future(ptr: NonNull<Header>) {
        // SAFETY: loop thread, cell alive, and no poll holds the stage (not
        // `RUNNING`): `stage`'s contract. What it returns is the cell's
        // stage, where the future (the task is `LIVE`) was pinned.
        unsafe { Self::finish(Self::stage(ptr), Err(JoinError::aborted())) };
    }

    /// Moves the outcome out, leaving the stage empty.
    ///
    /// # Safety
    /// As [`stage`](Self::stage), and the stage holds an outcome nobody
    /// took: the task finished (`finish` wrote it), and this is its one
    /// reader (the `Stage` doc).
    unsafe fn take_outcome(ptr: NonNull<Header>) -> Result<F::Output, JoinError> {
        // SAFETY: cell alive, no other thread at the stage, stage not
        // otherwise held (`stage`'s contract, ours); it holds an outcome,
        // read once, here.
        unsafe { ManuallyDrop::take(&mut Self::stage(ptr).outcome) }
    }

    /// # Safety
    /// As [`take_outcome`](Self::take_outcome), and `out` points to a valid
    /// `Poll<Result<F::Output, JoinError>>` (it is overwritten unread).
    unsafe fn take_output(ptr: NonNull<Header>, out: *mut ()) {
        let out = out.cast::<Poll<Result<F::Output, JoinError>>>();
        // SAFETY: our contract is `take_outcome`'s, and `out` is valid for
        // writes and aligned; it holds `Poll::Pending` (nothing to drop).
        unsafe { out.write(Poll::Ready(Self::take_outcome(ptr))) }
    }

    /// # Safety
    /// As [`take_outcome`](Self::take_outcome).
    unsafe fn drop_output(ptr: NonNull<Header>) -> Option<Box<dyn Any + Send>> {
        // SAFETY: our contract is `take_outcome`'s.
        match unsafe { Self::take_outcome(ptr) } {
            Ok(_) => None,
            Err(error) => error.try_into_panic().ok(),
        }
    }

    /// # Safety
    /// The caller gave up the cell's last reference (`release`, after
    /// `acquire_before_free`): nobody else can reach the cell, and nothing
    /// uses it after this.
    unsafe fn dealloc(ptr: NonNull<Header>) {
        // SAFETY: the cell is not freed yet (and is ours alone).
        let runtime_id = unsafe { runtime_id(ptr) };
        // Nothing in the cell to drop: the header owns nothing, and the
        // stage's future and outcome were dropped or taken on the loop
        // thread before its reference went (module doc; `Stage`).
        const { assert!(!std::mem::needs_drop::<Self>()) };
        let block = ptr.cast::<u8>();
        // On the loop thread the memory goes back to the runtime's cache.
        let recycled =
            context::with_core_of(runtime_id, |core| core.cells.recycle(block, Self::LAYOUT));
        if recycled != Some(true) {
            // SAFETY: `block` came from `CellCache::allocate(Self::LAYOUT)`
            // (`TaskRef::new`), whose blocks are global-allocator blocks of
            // that layout; nothing in it needs dropping (above), and no cache
            // took it back, so this frees it, once.
            unsafe { alloc::dealloc(block.as_ptr(), Self::LAYOUT) };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::*;

    /// Stands for the memory bench's oneshot task: an `async` block holding
    /// a receiver (an `Arc`) twice, plus its state byte: 24 bytes, 8-aligned,
    /// no niche the stage could use.
    struct OneshotLike(#[allow(dead_code)] [u64; 3]);

    impl Future for OneshotLike {
        type Output = ();

        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }

    /// The figures of BENCHMARKS.md's byte table: a change to the header
    /// shows up here first (`cargo test --lib task::raw -- --nocapture`).
    #[test]
    fn header_is_four_words_and_the_stage_has_no_tag() {
        let cell = Layout::new::<TaskCell<OneshotLike>>();
        println!(
            "header {} (vtable {}, location {}), 24-byte future's stage {}, its cell {} \
             (allocated as {})",
            size_of::<Header>(),
            size_of::<&TaskVTable>(),
            size_of::<&Location<'_>>(),
            size_of::<Stage<OneshotLike>>(),
            cell.size(),
            cell_layout(cell).size(),
        );
        assert_eq!(size_of::<Header>(), 32);
        assert_eq!(size_of::<Stage<OneshotLike>>(), size_of::<OneshotLike>());
        assert_eq!(cell_layout(cell).size(), 56);
    }
}
