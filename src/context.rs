//! The runtime running on this thread: the thread-local the free functions
//! (`spawn`, `set_timeout`, ...) and same-thread wakes go through; and the
//! thread's tag, by which a `JoinHandle` knows it is on its loop's thread.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::event_loop::Core;

/// The panic message of every free function called outside a runtime.
pub(crate) const NO_RUNTIME: &str = "no jsloop runtime is running on this thread";

thread_local! {
    /// The core of the runtime inside `run` / `block_on` on this thread.
    static CURRENT: Cell<Option<NonNull<Core>>> = const { Cell::new(None) };
}

/// Marks `core` as running on this thread until dropped.
pub(crate) struct Enter<'a> {
    _core: PhantomData<&'a Core>,
}

/// Makes `core` the current runtime; panics if one already runs here.
pub(crate) fn enter(core: &Core) -> Enter<'_> {
    CURRENT.with(|current| {
        assert_not_running();
        current.set(Some(NonNull::from(core)));
    });
    Enter { _core: PhantomData }
}

/// Panics with a clear message if a runtime already runs on this thread.
pub(crate) fn assert_not_running() {
    if CURRENT.with(Cell::get).is_some() {
        panic!(
            "jsloop: cannot start a runtime from within a runtime (nested `run` / `block_on`); \
             await the future instead, or spawn it"
        );
    }
}

impl Drop for Enter<'_> {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(None));
    }
}

/// Runs `f` with the current runtime, if one is running on this thread.
#[inline]
pub(crate) fn try_with_current<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = CURRENT.with(Cell::get)?;
    // SAFETY: `CURRENT` holds a pointer only between `enter` and the drop of
    // its `Enter` guard, which borrows the core for that whole time; and it
    // is read only on this thread.
    Some(f(unsafe { core.as_ref() }))
}

/// Runs `f` with the current runtime; panics outside one. (Inlined: every
/// `queue_microtask`, `set_timeout` and `spawn` goes through it.)
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(&Core) -> R) -> R {
    match try_with_current(f) {
        Some(result) => result,
        None => panic!("{NO_RUNTIME}"),
    }
}

/// Whether the runtime with `id` is the one running on this thread.
#[inline]
pub(crate) fn runs_here(id: u32) -> bool {
    with_core_of(id, |_| ()).is_some()
}

/// Runs `f` if the runtime with `id` is the one running on this thread.
#[inline]
pub(crate) fn with_core_of<R>(id: u32, f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = CURRENT.with(Cell::get)?;
    // SAFETY: as in `try_with_current`.
    let core = unsafe { core.as_ref() };
    (core.id() == id).then(|| f(core))
}

thread_local! {
    /// This thread's [`thread_tag`], `0` until first asked for. A plain
    /// `Cell` with a const initializer: no destructor, so it can still be
    /// read while the thread's other thread-locals are being destroyed (a
    /// `JoinHandle` dropped from one).
    static THREAD_TAG: Cell<usize> = const { Cell::new(0) };
}

/// A number that names the calling thread and no other, ever: a
/// `JoinHandle` compares it with its home thread's to know whether it may
/// touch its task cell directly. Unlike a thread-local's address, a tag is
/// never reused by a later thread. Tags are odd, so a word can hold either
/// a tag or an (aligned, even) pointer and say which (`task/foreign.rs`).
#[inline]
pub(crate) fn thread_tag() -> usize {
    let tag = THREAD_TAG.with(Cell::get);
    if tag != 0 { tag } else { assign_thread_tag() }
}

#[cold]
#[inline(never)]
fn assign_thread_tag() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Relaxed: the counter only has to hand out distinct values.
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let tag = NEXT.fetch_add(2, Ordering::Relaxed);
    if tag > usize::MAX / 2 {
        // Wrapping would hand a live thread's tag to another (as `Arc` does
        // for its count: not reachable on 64-bit, 2^30 threads on 32-bit).
        std::process::abort();
    }
    THREAD_TAG.with(|cell| cell.set(tag));
    tag
}
