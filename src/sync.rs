//! The cross-thread wake handshake's primitives, switchable to loom.
//!
//! Only the part of the loop that another thread can touch — the remote
//! queue, its `notified` flag and the poller stand-in — is built from these
//! types, so `--cfg jsloop_loom` can model a remote wake racing with the loop going
//! to sleep. Everything else in the crate lives on the loop thread.

#[cfg(jsloop_loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, Ordering},
    Condvar, Mutex,
};

#[cfg(not(jsloop_loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, Ordering},
    Mutex,
};

#[cfg(all(miri, not(jsloop_loom)))]
pub(crate) use std::sync::Condvar;

/// Locks a mutex, ignoring poisoning: the data behind our mutexes (queued
/// wakes, a notify flag) stays consistent even if a holder panicked.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuardOf<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(jsloop_loom)]
pub(crate) type MutexGuardOf<'a, T> = loom::sync::MutexGuard<'a, T>;
#[cfg(not(jsloop_loom))]
pub(crate) type MutexGuardOf<'a, T> = std::sync::MutexGuard<'a, T>;
