//! Task wakers: how a wake reaches the microtask ring.
//!
//! A [`Waker`](std::task::Waker) for a task is the task cell's pointer plus
//! this vtable. Waking on the loop thread while the task's runtime runs there
//! pushes the task onto the microtask ring (unless it is already queued, and
//! within the checkpoint's wake budget: `src/progress.rs`);
//! waking from anywhere else sends it through the runtime's remote queue and
//! wakes the poller. A wake after the runtime is gone finds no runtime and
//! does nothing.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable};

use super::raw::{self, Header, TaskRef};
use crate::context;
use crate::remote::{self, RemoteEvent, RemoteTask};

pub(super) static TASK_WAKER: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

pub(crate) fn raw_waker(ptr: NonNull<Header>) -> RawWaker {
    RawWaker::new(ptr.as_ptr().cast_const().cast(), &TASK_WAKER)
}

pub(super) fn header_ptr(data: *const ()) -> NonNull<Header> {
    // SAFETY: every raw waker built with `TASK_WAKER` carries a non-null
    // task cell pointer (`raw_waker`).
    unsafe { NonNull::new_unchecked(data.cast_mut().cast()) }
}

unsafe fn clone_waker(data: *const ()) -> RawWaker {
    let ptr = header_ptr(data);
    // SAFETY: the waker being cloned holds a reference (or, `with_waker`'s,
    // borrows the loop's), so the cell is alive; the clone owns the
    // reference taken here.
    unsafe { raw::retain(ptr) };
    raw_waker(ptr)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: `data` is a live waker of this vtable (`RawWakerVTable`'s
    // contract), and `wake` consumes it: it owns a reference, which keeps the
    // cell alive for the wake.
    unsafe { wake_by_ref(data) };
    // SAFETY: the consumed waker's reference is ours to give up, and `data`
    // is not used after.
    unsafe { drop_waker(data) };
}

unsafe fn wake_by_ref(data: *const ()) {
    let ptr = header_ptr(data);
    // SAFETY: the waker holds a reference, so the cell is alive.
    let runtime_id = unsafe { raw::runtime_id(ptr) };
    let scheduled_here = context::with_core_of(runtime_id, |core| {
        // On the runtime's own thread while it runs: the cell's loop-side
        // fields are ours to touch.
        core.schedule_woken(TaskRef::from_ptr(ptr));
    });
    if scheduled_here.is_none() {
        // SAFETY: as above; the waker's reference keeps the cell alive.
        unsafe { wake_remote(ptr, runtime_id) };
    }
}

/// A wake from another thread (or after the runtime stopped running): out
/// of line, so the local wake above keeps to a few registers.
///
/// # Safety
///
/// `ptr` must be a live task cell the caller holds a reference to.
#[cold]
#[inline(never)]
unsafe fn wake_remote(ptr: NonNull<Header>, runtime_id: u32) {
    // SAFETY: the caller holds a reference on the live cell `ptr`.
    if unsafe { raw::set_remote_queued(ptr) } {
        // The remote queue entry owns a reference of its own.
        // SAFETY: as above: the cell is alive and the caller holds a
        // reference.
        unsafe { raw::retain(ptr) };
        // SAFETY: the reference just taken is handed to the `RemoteTask`,
        // which is its only owner; the cell is alive.
        remote::deliver(runtime_id, RemoteEvent::Wake(unsafe { RemoteTask::new(ptr) }));
    }
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker owns the reference it gives up, and is gone after
    // this (a borrowed waker is never dropped: `with_waker`).
    unsafe { raw::release(header_ptr(data)) };
}
