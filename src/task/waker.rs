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

static TASK_WAKER: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

pub(crate) fn raw_waker(ptr: NonNull<Header>) -> RawWaker {
    RawWaker::new(ptr.as_ptr().cast_const().cast(), &TASK_WAKER)
}

fn header_ptr(data: *const ()) -> NonNull<Header> {
    // SAFETY: every raw waker built with `TASK_WAKER` carries a non-null
    // task cell pointer (`raw_waker`).
    unsafe { NonNull::new_unchecked(data.cast_mut().cast()) }
}

unsafe fn clone_waker(data: *const ()) -> RawWaker {
    let ptr = header_ptr(data);
    // SAFETY: the waker being cloned holds a reference, so the cell is alive.
    raw::retain(ptr);
    raw_waker(ptr)
}

unsafe fn wake(data: *const ()) {
    wake_by_ref(data);
    drop_waker(data);
}

unsafe fn wake_by_ref(data: *const ()) {
    let ptr = header_ptr(data);
    // SAFETY: the waker holds a reference, so the cell is alive.
    let runtime_id = raw::runtime_id(ptr);
    let scheduled_here = context::with_core_of(runtime_id, |core| {
        // On the runtime's own thread while it runs: the cell's loop-side
        // fields are ours to touch.
        core.schedule_woken(TaskRef::from_ptr(ptr));
    });
    if scheduled_here.is_none() {
        // SAFETY: as above; the waker's reference keeps the cell alive.
        wake_remote(ptr, runtime_id);
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
    if raw::set_remote_queued(ptr) {
        // The remote queue entry owns a reference of its own.
        raw::retain(ptr);
        remote::deliver(runtime_id, RemoteEvent::Wake(RemoteTask::new(ptr)));
    }
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker owns the reference it gives up.
    raw::release(header_ptr(data));
}
