//! The cross-thread wake handshake's primitives, switchable to loom.
//!
//! The parts of the loop that another thread can touch — the remote queue,
//! its `notified` flag, the poller stand-in, the queued flags of the main
//! future and of combinator children, a socket's readiness marks — are
//! built from these types, so `--cfg jsloop_loom` can model a remote wake
//! racing with the loop going to sleep, or with the poll that clears the
//! flag. The rest lives on the loop thread, or behind a plain mutex taken
//! on both sides of its handshake (a socket's waiters).

#[cfg(jsloop_loom)]
pub(crate) use loom::sync::{
    Condvar, Mutex,
    atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering},
};

#[cfg(not(jsloop_loom))]
pub(crate) use std::sync::{
    Mutex,
    atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering},
};

/// Where the loop's park has no futex (`reactor::park`).
#[cfg(all(not(jsloop_loom), any(miri, not(target_os = "linux"))))]
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

/// "Already queued" for a wake that may come from any thread: the waker
/// that finds it clear queues the future; the loop clears it right before
/// the poll.
#[derive(Debug)]
pub struct QueuedFlag(AtomicBool);

impl QueuedFlag {
    /// A flag, set or clear.
    pub fn new(queued: bool) -> QueuedFlag {
        QueuedFlag(AtomicBool::new(queued))
    }

    /// Marks the future queued; `true` if this call did (the caller queues
    /// it), `false` if it already was (the caller returns early).
    pub fn mark_queued(&self) -> bool {
        !self.0.swap(true, Ordering::AcqRel)
    }

    /// Called right before the poll. A read-modify-write with `Acquire`: a
    /// waker that published data and then found the flag still set
    /// returned early, and this poll must see that data. A plain `store`
    /// would not order the poll's reads after it: a lost wake.
    pub fn clear_for_poll(&self) {
        self.0.swap(false, Ordering::AcqRel);
    }
}

/// A request, from any thread, that the loop stop (`Worker::terminate`):
/// set before the poller is notified, read by the loop after every wait,
/// so a loop asleep in the poller cannot miss it.
#[derive(Debug, Default)]
pub struct StopRequest(AtomicBool);

impl StopRequest {
    /// Asks the loop sleeping in (or about to sleep in) `poller` to stop.
    pub fn request(&self, poller: &crate::reactor::Poller) {
        self.0.store(true, Ordering::Release);
        poller.notify();
    }

    /// Whether a stop was asked for (the loop thread, at its boundaries).
    #[inline]
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
