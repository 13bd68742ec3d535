//! Poll phase, OS side, under Miri (which cannot run `epoll`) and loom
//! (which cannot model it): a stand-in with the real poller's sticky-notify
//! shape, built from a mutex and a condvar. It has no I/O (registering a
//! source fails with `Unsupported`).

use std::io;
use std::time::Duration;

use super::{IoDriver, Readiness};

/// Stand-in poller for Miri and loom: a flag guarded by a mutex, and a
/// condvar the loop sleeps on. `notify` sets the flag, `wait` consumes it.
pub struct Poller {
    notified: crate::sync::Mutex<bool>,
    condvar: crate::sync::Condvar,
}

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

    /// The stand-in, whatever the choice: there is no OS driver here.
    pub(crate) fn with_driver(_choice: IoDriver) -> io::Result<Self> {
        Self::new()
    }

    /// The stand-in stands for a readiness driver.
    pub(crate) fn driver(&self) -> IoDriver {
        IoDriver::Epoll
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

    /// No I/O here: there are never events.
    pub(crate) fn take_events(&self, _out: &mut Vec<Readiness>) {}

    /// No sources are ever registered here.
    pub(crate) fn is_edge_triggered(&self) -> bool {
        false
    }

    /// No sockets, so nothing is ever being sent.
    pub(crate) fn has_sends_in_flight(&self) -> bool {
        false
    }

    /// No submission queue: nothing waits to be handed over.
    pub(crate) fn submit_queued(&self) -> io::Result<()> {
        Ok(())
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
