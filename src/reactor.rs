//! Poll phase, OS side: the poller the loop sleeps in.
//!
//! The loop blocks in [`Poller::wait`] during the poll phase, until the next
//! timer deadline or until another thread calls [`Poller::notify`] (a remote
//! wake, a dropped `KeepAlive`). A notify that arrives while the loop is
//! *not* waiting is remembered, so the next `wait` returns at once: that is
//! what makes the remote-wake handshake free of lost wakeups.
//!
//! On a normal build this is `polling::Poller` (epoll / kqueue / IOCP). Under
//! Miri (which cannot run `epoll`) and loom (which cannot model it), a stand-in
//! with the same sticky-notify shape is built from a mutex and a condvar.

use std::io;
use std::time::Duration;

/// The loop's poller: `polling::Poller` plus a reusable event buffer.
#[cfg(not(any(miri, jsloop_loom)))]
pub struct Poller {
    poller: polling::Poller,
    /// Events from the last `wait`; only the loop thread calls `wait`.
    events: std::sync::Mutex<polling::Events>,
}

#[cfg(not(any(miri, jsloop_loom)))]
impl Poller {
    /// Creates the poller.
    ///
    /// # Errors
    /// Fails if the OS poller cannot be created.
    pub fn new() -> io::Result<Self> {
        Ok(Poller {
            poller: polling::Poller::new()?,
            events: std::sync::Mutex::new(polling::Events::new()),
        })
    }

    /// Blocks until `timeout` passes (`None`: forever) or `notify` is called.
    ///
    /// # Errors
    /// Fails if the OS wait fails (not for `EINTR`).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
        let mut events = crate::sync::lock(&self.events);
        events.clear();
        match self.poller.wait(&mut events, timeout) {
            Ok(_) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Wakes the loop from `wait`, or makes its next `wait` return at once.
    pub fn notify(&self) {
        // Failing to write the eventfd / pipe only happens when it is full,
        // and a full one already guarantees the loop wakes up.
        let _ = self.poller.notify();
    }
}

/// Stand-in poller for Miri and loom: a flag guarded by a mutex, and a
/// condvar the loop sleeps on. `notify` sets the flag, `wait` consumes it.
#[cfg(any(miri, jsloop_loom))]
pub struct Poller {
    notified: crate::sync::Mutex<bool>,
    condvar: crate::sync::Condvar,
}

#[cfg(any(miri, jsloop_loom))]
impl Poller {
    /// Creates the poller.
    ///
    /// # Errors
    /// Fails if the OS poller cannot be created.
    pub fn new() -> io::Result<Self> {
        Ok(Poller {
            notified: crate::sync::Mutex::new(false),
            condvar: crate::sync::Condvar::new(),
        })
    }

    /// Blocks until `timeout` passes (`None`: forever) or `notify` is called.
    ///
    /// # Errors
    /// Fails if the OS wait fails (not for `EINTR`).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
        let mut notified = crate::sync::lock(&self.notified);
        match timeout {
            None => {
                while !*notified {
                    notified = self.condvar.wait(notified).unwrap_or_else(|e| e.into_inner());
                }
            }
            Some(timeout) if !*notified && !timeout.is_zero() => {
                notified = wait_timeout(&self.condvar, notified, timeout);
            }
            Some(_) => {}
        }
        *notified = false;
        Ok(())
    }

    /// Wakes the loop from `wait`, or makes its next `wait` return at once.
    pub fn notify(&self) {
        *crate::sync::lock(&self.notified) = true;
        self.condvar.notify_one();
    }
}

#[cfg(all(miri, not(jsloop_loom)))]
fn wait_timeout<'a>(
    condvar: &std::sync::Condvar,
    guard: std::sync::MutexGuard<'a, bool>,
    timeout: Duration,
) -> std::sync::MutexGuard<'a, bool> {
    match condvar.wait_timeout(guard, timeout) {
        Ok((guard, _)) => guard,
        Err(poisoned) => poisoned.into_inner().0,
    }
}

#[cfg(jsloop_loom)]
fn wait_timeout<'a>(
    _condvar: &loom::sync::Condvar,
    guard: loom::sync::MutexGuard<'a, bool>,
    _timeout: Duration,
) -> loom::sync::MutexGuard<'a, bool> {
    // loom has no clock: a timed wait is modelled as an immediate timeout.
    guard
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller").finish_non_exhaustive()
    }
}
