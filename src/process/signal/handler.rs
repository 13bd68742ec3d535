//! Signals, handler side: what runs inside the OS signal handler.
//!
//! The process's handlers belong to signal-hook-registry (the registry
//! tokio uses), which runs every action registered for a signal, whoever
//! registered it, and saves `errno` around them. Each loop listening for a
//! signal registers one action of its own; several loops (threads) on one
//! signal each get it. The action only records that the signal came (an
//! atomic flag) and writes one byte to its loop's wake pipe, whose read end
//! is registered on that loop's poller: the loop sees it in its next poll
//! phase, or at once if it sleeps there.
//!
//! The flag is set before the byte is written, and the loop drains the pipe
//! before it takes the flags: a signal racing with a delivery is either
//! taken by it or leaves a byte that wakes the loop again. The write is
//! unconditional (a full pipe only means a wake is already pending), so the
//! flag gates no wake. Several signals of one kind before the loop looks
//! are one delivery: a flag, not a count, as in tokio.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use signal_hook_registry::SigId;

use super::SignalKind;
use crate::sync::{AtomicBool, Ordering};

/// One action registered with signal-hook-registry, unregistered on drop.
pub(crate) struct Registration {
    id: SigId,
    /// Set by the handler: the signal came since the loop last looked.
    came: Arc<AtomicBool>,
}

impl Registration {
    /// Registers an action for `kind` that flags it and writes a byte to
    /// `wake` (a non-blocking pipe or socket end).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for the signals no handler may take (`SIGKILL`,
    /// `SIGSTOP`) and those that cannot be handled by returning from the
    /// handler (`SIGILL`, `SIGFPE`, `SIGSEGV`): signal-hook-registry's
    /// `FORBIDDEN` list. The OS's error (`EINVAL`) for a number that is no
    /// signal.
    pub(crate) fn new(kind: SignalKind, wake: Arc<OwnedFd>) -> io::Result<Registration> {
        let signal = kind.as_raw();
        if signal_hook_registry::FORBIDDEN.contains(&signal) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "cannot listen for {kind}: SIGKILL and SIGSTOP cannot be caught, and SIGILL, \
                     SIGFPE and SIGSEGV cannot be handled outside the faulting code"
                ),
            ));
        }
        let came = Arc::new(AtomicBool::new(false));
        let action = {
            let came = came.clone();
            move || {
                came.store(true, Ordering::Release);
                // Full (a wake is pending anyway) or closed (the loop is
                // going away): either way nothing is left to do.
                let _ = rustix::io::write(&*wake, &[1]);
            }
        };
        // SAFETY: `register` needs an async-signal-safe action. This one does
        // an atomic store and one write(2) on a non-blocking descriptor it
        // keeps open: no allocation, no lock, no panic (the result is
        // ignored), and the `Arc`s it holds are only dropped by `unregister`,
        // outside the handler.
        let id = unsafe { signal_hook_registry::register(signal, action) }.map_err(|error| {
            io::Error::new(error.kind(), format!("cannot listen for {kind}: {error}"))
        })?;
        Ok(Registration { id, came })
    }

    /// Whether the signal came since the last call (and clears that).
    pub(crate) fn take(&self) -> bool {
        self.came.swap(false, Ordering::AcqRel)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        signal_hook_registry::unregister(self.id);
    }
}
