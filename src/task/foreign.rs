//! A `JoinHandle` away from its loop: what it holds, and its operations
//! forwarded through the loop.
//!
//! A handle touches its task cell's loop-side fields (plain `Cell`s) only
//! where that is safe, which [`may_touch`] decides: on the thread of the
//! task's runtime (its *home*; at once while the runtime runs there, which
//! is the fast path), or anywhere once the runtime is gone. A handle whose
//! output is `Send` is `Send` itself, and anywhere else each operation
//! becomes a [`LoopOp`] that the loop carries out in its poll phase (a
//! `RemoteEvent::Call`):
//!
//! | operation away from home | what the loop does |
//! |---|---|
//! | first poll or `is_finished` | a *watch*: makes the handle's [`Relay`] the task's awaiter (or finishes the relay at once if the task has) |
//! | `abort` | the home thread's `abort` |
//! | dropping the handle, or reading the output | gives up the handle's hold (`HANDLE`), as the home thread's drop does |
//!
//! The relay tells the handle that the task finished; the handle then reads
//! the output out of the cell itself ([`raw::take_output_away`]). The loop
//! never touches a finished task's stage while the handle holds the task,
//! and the relay's mutex orders the loop's last write of the stage (the
//! task's end) before that read. The first watch makes the handle
//! *forwarded* for good ([`Hold`]), even back at home: only a handle that
//! never needed one takes the direct path.
//!
//! **When the runtime is gone.** An op the loop never runs is dropped: in
//! the runtime's shutdown, with its queue, or at once when the runtime has
//! already left the table. By then every task has finished (shutdown drops
//! every future first) and the loop has stopped touching cells, so a
//! dropped op does its work where it is dropped, on any thread: a watch
//! finishes its relay, an abort does nothing (the task was aborted by the
//! shutdown, or had finished), a release gives up the hold directly, the
//! one thing still naming the cell. What orders the shutdown before that
//! work: the queue's drain in the shutdown runs on the loop thread; a
//! queue dropped later goes with the last `Arc<Shared>`, after the core's;
//! and `Runtime::drop` leaves the runtime table only after the shutdown,
//! so a lookup that fails (the table's mutex) comes after it. A handle that
//! finds its runtime gone touches the cell itself for the same reason.

use std::mem;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use super::awaiters;
use super::join::{JoinError, abort_here, release_hold};
use super::raw::{self, Header, LIVE, TaskRef};
use crate::context;
use crate::remote::{self, RemoteEvent};
use crate::sync::{self, Mutex};

/// Whether the caller may touch `task`'s loop-side fields: it runs on the
/// task's loop thread, or the task's runtime is gone (module doc).
#[inline]
pub(super) fn may_touch(task: TaskRef) -> bool {
    // SAFETY: the caller holds the task, so the cell is alive.
    let runtime_id = unsafe { raw::runtime_id(task.as_ptr()) };
    context::runs_here(runtime_id) || may_touch_idle(runtime_id)
}

/// [`may_touch`] when the runtime is not running on this thread: it may be
/// this thread's all the same (between `run`s), or gone.
#[cold]
#[inline(never)]
fn may_touch_idle(runtime_id: u32) -> bool {
    match remote::lookup(runtime_id) {
        Some(shared) => shared.home == context::thread_tag(),
        // Gone: shut down before it left the table, which our lookup saw.
        None => true,
    }
}

/// What a `JoinHandle` holds, in one word, so that a handle stays one
/// pointer (as cheap to return and to store as before it could move):
///
/// - null: nothing, the output has been read;
/// - a task cell's address: the handle holds the task (its `HANDLE` flag),
///   and touches the cell itself where [`may_touch`] allows;
/// - a [`Forward`]'s address with the low bit set: forwarded, for good.
///   The forward names the cell, and the handle still holds the task (the
///   same hold) through it; the word owns one `Arc` count of the forward.
///
/// Atomic because a handle is `Sync`: the switch to forwarded can happen
/// through `&JoinHandle`, on any thread.
pub(super) struct Hold(AtomicPtr<()>);

/// A [`Hold`] read.
pub(super) enum Held<'a> {
    Done,
    Task(TaskRef),
    Forwarded(&'a Forward),
}

/// The tag of a forwarded [`Hold`]: cells and forwards are aligned to more
/// than 2, so their addresses have the bit clear.
const FORWARDED: usize = 1;

impl Hold {
    #[inline]
    pub(super) fn new(task: TaskRef) -> Hold {
        Hold(AtomicPtr::new(task.as_ptr().as_ptr().cast()))
    }

    /// What the handle holds. `Acquire`: a forward published by another
    /// thread is seen whole.
    #[inline]
    pub(super) fn get(&self) -> Held<'_> {
        let word = self.0.load(Ordering::Acquire);
        if word.addr() & FORWARDED != 0 {
            // SAFETY: a tagged word is an `Arc<Forward>` published by
            // `forward` (the `Acquire` above pairs with its swap), and the
            // word keeps its count until `clear`, which needs `&mut self`:
            // the forward outlives this borrow of `self`.
            return Held::Forwarded(unsafe { &*word.map_addr(|addr| addr & !FORWARDED).cast() });
        }
        match NonNull::new(word.cast::<Header>()) {
            Some(cell) => Held::Task(TaskRef::from_ptr(cell)),
            None => Held::Done,
        }
    }

    /// The task, if the handle holds it directly (neither forwarded nor
    /// done). Through `&mut`, a plain read: the fast paths of `poll` and
    /// `drop` test the word's bits with nothing in between.
    #[inline]
    pub(super) fn task_mut(&mut self) -> Option<TaskRef> {
        let word = *self.0.get_mut();
        if word.addr() & FORWARDED != 0 {
            return None;
        }
        NonNull::new(word.cast::<Header>()).map(TaskRef::from_ptr)
    }

    /// Whether the handle holds nothing (its output was read).
    #[inline]
    pub(super) fn is_done(&mut self) -> bool {
        self.0.get_mut().is_null()
    }

    /// The handle has given up the task it held directly (not forwarded).
    #[inline]
    pub(super) fn clear_task(&mut self) {
        debug_assert!(matches!(self.get(), Held::Task(_)));
        *self.0.get_mut() = ptr::null_mut();
    }

    /// The handle has given up the task: it holds nothing now.
    pub(super) fn clear(&mut self) {
        let word = mem::replace(self.0.get_mut(), ptr::null_mut());
        if word.addr() & FORWARDED != 0 {
            let forward = word.map_addr(|addr| addr & !FORWARDED).cast::<Forward>();
            // SAFETY: the word owned one count of this `Arc<Forward>` (made
            // by `Arc::into_raw` in `forward`); it holds none now.
            drop(unsafe { Arc::from_raw(forward) });
        }
    }
}

/// A forwarded handle's side of its task: the cell, and the relay that
/// tells when the task finished. Made the task's awaiter as a [`Waker`].
pub(super) struct Forward {
    task: NonNull<Header>,
    relay: Relay,
}

// SAFETY: a `Forward` carries its cell's address for the handle (which uses
// it under the handle's own rules) and dereferences nothing itself: waking
// it only finishes the relay, a mutex.
unsafe impl Send for Forward {}
// SAFETY: as for `Send`; `&Forward` reaches the relay and the address only.
unsafe impl Sync for Forward {}

impl Forward {
    pub(super) fn task(&self) -> TaskRef {
        TaskRef::from_ptr(self.task)
    }
}

/// The task's awaiter is woken exactly when it finishes (`Core::settle`).
impl Wake for Forward {
    fn wake(self: Arc<Self>) {
        self.relay.finish();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.relay.finish();
    }
}

/// How a forwarded handle learns that its task finished: a flag, and the
/// handle's waker while it waits. (Public for the loom model in
/// `tests/loom.rs`.)
#[derive(Debug, Default)]
pub struct Relay {
    state: Mutex<RelayState>,
}

#[derive(Debug, Default)]
struct RelayState {
    /// The task's outcome is in its cell, and the loop will not touch the
    /// stage again while the handle holds the task.
    finished: bool,
    waiter: Option<Waker>,
}

impl Relay {
    /// The task finished (or the runtime is gone, which finished it):
    /// wakes the waiting handle. What the caller did before happens before
    /// the handle's next look at the relay (the mutex).
    pub fn finish(&self) {
        let waiter = {
            let mut state = sync::lock(&self.state);
            state.finished = true;
            state.waiter.take()
        };
        // Woken outside the lock: the waiter may poll on this very thread.
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }

    /// Whether [`finish`](Self::finish) was called.
    pub fn is_finished(&self) -> bool {
        sync::lock(&self.state).finished
    }

    /// Ready once finished; else keeps `cx`'s waker for `finish` to wake.
    pub fn poll_finished(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = sync::lock(&self.state);
        if state.finished {
            return Poll::Ready(());
        }
        if !state.waiter.as_ref().is_some_and(|waiter| waiter.will_wake(cx.waker())) {
            state.waiter = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// The handle's forward, made (and its watch sent) the first time it is
/// needed. Threads sharing `&JoinHandle` may race here: one wins the swap
/// of the word, and only it sends a watch.
///
/// # Panics
///
/// If the handle holds nothing (its output was read).
fn forward(hold: &Hold) -> &Forward {
    let task = match hold.get() {
        Held::Forwarded(forward) => return forward,
        Held::Task(task) => task,
        Held::Done => panic!("`JoinHandle` polled after it completed"),
    };
    let forward = Arc::new(Forward { task: task.as_ptr(), relay: Relay::default() });
    let raw = Arc::into_raw(forward.clone());
    let tagged = raw.cast_mut().cast::<()>().map_addr(|addr| addr | FORWARDED);
    let untagged = task.as_ptr().as_ptr().cast::<()>();
    // AcqRel: the winner publishes the forward it made (`Hold::get`).
    match hold.0.compare_exchange(untagged, tagged, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => LoopOp::counted(task, OpKind::Watch(forward)).send(),
        Err(_) => {
            // Another thread forwarded the handle first; ours was never
            // published, so this is its only owner.
            // SAFETY: `raw` came from `Arc::into_raw` above.
            drop(unsafe { Arc::from_raw(raw) });
        }
    }
    match hold.get() {
        Held::Forwarded(forward) => forward,
        _ => unreachable!("jsloop: a JoinHandle un-forwarded itself"),
    }
}

/// `JoinHandle::poll` where the handle may not touch its cell (or is
/// forwarded).
#[cold]
#[inline(never)]
pub(super) fn poll<T>(hold: &mut Hold, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
    let forward = forward(hold);
    if forward.relay.poll_finished(cx).is_pending() {
        return Poll::Pending;
    }
    let task = forward.task();
    let mut output = Poll::Pending;
    // SAFETY: `T` is the task's output type (the handle was made for it), and
    // `Send`: a `JoinHandle<T>` leaves its loop's thread only if it is
    // `Send`, that is if `T` is (and on that thread the handle is not
    // forwarded, unless it left and came back: `T: Send` all the same). The
    // relay finished: the task is finished, and the loop handed its stage
    // over (its last write happens before this, through the relay's mutex)
    // and will not touch it while we hold the task; the output is unread
    // (we still hold the task).
    unsafe { raw::take_output_away(task.as_ptr(), &mut output) };
    hold.clear();
    LoopOp::release(task, true).send();
    output
}

/// `JoinHandle::is_finished` where the handle may not touch its cell:
/// `false` until the loop has seen the watch and the task has finished.
#[cold]
#[inline(never)]
pub(super) fn is_finished(hold: &Hold) -> bool {
    forward(hold).relay.is_finished()
}

/// `JoinHandle::abort` where the handle may not touch its cell.
#[cold]
#[inline(never)]
pub(super) fn abort(task: TaskRef) {
    LoopOp::counted(task, OpKind::Abort).send();
}

/// Dropping a `JoinHandle` that may not touch its cell (or is forwarded):
/// the loop releases its hold, as the home thread's drop would (a panic
/// nobody read is reported there).
#[cold]
#[inline(never)]
pub(super) fn drop_handle(hold: &mut Hold) {
    let task = match hold.get() {
        Held::Task(task) => task,
        Held::Forwarded(forward) => forward.task(),
        Held::Done => return,
    };
    hold.clear();
    LoopOp::release(task, false).send();
}

/// Something a handle away from home has the task's loop do (module doc).
struct LoopOp {
    task: NonNull<Header>,
    kind: OpKind,
}

enum OpKind {
    /// Make the forward the task's awaiter. Owns a counted reference.
    Watch(Arc<Forward>),
    /// The home thread's `abort`. Owns a counted reference.
    Abort,
    /// Give up the handle's hold on the task: the op owns that hold now.
    Release { output_read: bool },
    /// Carried out.
    Done,
}

// SAFETY: a `LoopOp` touches its cell's loop-side fields only where the
// module doc allows: run by the loop on its thread (`carry_out(true)`, from
// the `Call`), or, dropped unrun, after the runtime's shutdown and ordered
// after it, when a release's hold is the last thing naming the cell (and a
// watch or an abort touches none of them). Anywhere else it touches only
// the atomic count; the forward is `Send + Sync`.
unsafe impl Send for LoopOp {}

impl LoopOp {
    /// An op that needs the cell alive until it is carried out, with a
    /// counted reference of its own: the handle may give up its hold first.
    fn counted(task: TaskRef, kind: OpKind) -> LoopOp {
        // SAFETY: the handle asking holds the task, so the cell is alive; the
        // reference taken is the op's, given up in `carry_out`.
        unsafe { raw::retain(task.as_ptr()) };
        LoopOp { task: task.as_ptr(), kind }
    }

    /// The handle's hold, handed to the loop to give up.
    fn release(task: TaskRef, output_read: bool) -> LoopOp {
        LoopOp { task: task.as_ptr(), kind: OpKind::Release { output_read } }
    }

    /// Hands the op to the task's loop; if the runtime is gone, the op is
    /// dropped here, and so carried out here (module doc).
    fn send(self) {
        // SAFETY: the op holds the task (a counted reference, or the
        // handle's hold), so the cell is alive.
        let runtime_id = unsafe { raw::runtime_id(self.task) };
        remote::deliver(
            runtime_id,
            RemoteEvent::Call(Box::new(move |_core| {
                let mut op = self;
                op.carry_out(true);
            })),
        );
    }

    /// Does the op's work: as the loop (`on_loop`: in its poll phase, the
    /// runtime running), or as its stand-in after the runtime's shutdown.
    fn carry_out(&mut self, on_loop: bool) {
        let task = TaskRef::from_ptr(self.task);
        let counted = match mem::replace(&mut self.kind, OpKind::Done) {
            OpKind::Watch(forward) => {
                if on_loop && task.header().flags.get() & LIVE != 0 {
                    // A waker left by a poll at home, before the handle
                    // moved, has nobody behind it any more.
                    awaiters::replace(task, Waker::from(forward));
                } else {
                    forward.relay.finish();
                }
                true
            }
            OpKind::Abort => {
                if on_loop {
                    abort_here(task);
                }
                true
            }
            OpKind::Release { output_read } => {
                release_hold(task, output_read);
                false
            }
            OpKind::Done => false,
        };
        if counted {
            // SAFETY: the op owned this reference (`counted`) and does not
            // use the cell after.
            unsafe { raw::release(self.task) };
        }
    }
}

/// Dropped unrun: the runtime shut down (module doc).
impl Drop for LoopOp {
    fn drop(&mut self) {
        self.carry_out(false);
    }
}
