//! Accepting at the descriptor limit: a listener out of descriptors pauses
//! instead of letting its callers spin.
//!
//! An `accept` that fails with `EMFILE` / `ENFILE` (or `ENOBUFS` / `ENOMEM`)
//! leaves the connection in the backlog, so the listener stays readable and
//! the next `accept` fails the same way at once: a server that retries in a
//! loop, as most do, would spin at 100 % CPU, and on a single-threaded loop
//! it would never yield, so the connections whose closing would free a
//! descriptor could not even run. libuv answers with its reserve-descriptor
//! trick, closing the pending connections (Node's servers never see the
//! error). We keep the connection and report the error, then hold the
//! listener's reads back: its next `accept` waits until this loop closes a
//! descriptor (an `Async`, a socket, dropped) or until a backoff timer runs
//! out, whichever comes first. The backoff doubles with each failure in a
//! row, from `FIRST_PAUSE` to `LONGEST_PAUSE`, for descriptors freed where
//! the loop cannot see (a `std::fs::File` dropped, another process), and
//! starts over after an accept that works.
//!
//! On io_uring the loop's driver accepts for the listener (a multishot
//! `ACCEPT`, see `reactor::uring`), and an accept takes the next connection
//! it queued, with the peer's address from `getpeername`; a connection
//! whose peer reset it before that is skipped, its address gone with it,
//! as if it had never arrived. Out of descriptors, the driver's request
//! ends with the error, and the next accept, once the pause is over, arms
//! it again.
//!
//! The backoff timer is `unref`'d: it never keeps the loop alive on its
//! own. A task waiting in `accept` does, through the listener's readiness,
//! unless the listener was `unref`'d, exactly as without the pause.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use rustix::io::Errno;

use crate::context;
use crate::io::Async;
use crate::time::set_timeout;

/// The pause after the first failure of a run, in milliseconds.
const FIRST_PAUSE_MS: u32 = 1;

/// The longest pause, in milliseconds: the most a descriptor freed out of
/// the loop's sight waits to be noticed.
const LONGEST_PAUSE_MS: u32 = 100;

/// A listener's backoff state. Atomics, because a listener may move to
/// another thread (`Send + Sync`); its backoff timer stays with the loop
/// that set it and, once stale, finds the pause over and does nothing.
pub(crate) struct AcceptBackoff {
    /// The next pause's length.
    next_pause_ms: AtomicU32,
    /// Which pause is current: bumped by each pause and by each accept
    /// that works, so the timer of an earlier pause resumes nothing.
    pause: Arc<AtomicU64>,
}

impl AcceptBackoff {
    pub(crate) fn new() -> AcceptBackoff {
        AcceptBackoff {
            next_pause_ms: AtomicU32::new(FIRST_PAUSE_MS),
            pause: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The next connection of `listener`, registered with the loop, and
    /// its peer's address: taken from those the loop's driver accepted, or
    /// with the non-blocking `accept` where it accepts none; `peer` gives
    /// the address of one the driver accepted (see the module doc).
    pub(crate) async fn accept<L: AsFd, S: AsFd + From<OwnedFd>, A>(
        &self,
        listener: &Async<L>,
        accept: impl Fn(&L) -> io::Result<(S, A)>,
        peer: impl Fn(&S) -> io::Result<A>,
    ) -> io::Result<(Async<S>, A)> {
        let accepted = listener.read_with(|l| next_connection(listener, l, &accept, &peer)).await;
        match &accepted {
            Ok(_) => self.reset(),
            Err(error) if out_of_resources(error) => self.pause(listener),
            Err(_) => {}
        }
        let (connection, peer, non_blocking) = accepted?;
        // The driver's are made non-blocking: no `ioctl` for them.
        let connection =
            if non_blocking { Async::registered(connection)? } else { Async::new(connection)? };
        Ok((connection, peer))
    }

    fn pause<L: AsFd>(&self, listener: &Async<L>) {
        // Off any loop (the listener polled by another executor) there is
        // no timer to end a pause, and no loop for a spin to starve.
        if context::try_with_current(|_| ()).is_none() {
            return;
        }
        let resume = listener.hold_reads();
        let pause = self.next_pause_ms.load(Ordering::Relaxed);
        self.next_pause_ms.store((pause * 2).min(LONGEST_PAUSE_MS), Ordering::Relaxed);
        let current = self.pause.fetch_add(1, Ordering::AcqRel) + 1;
        let pauses = self.pause.clone();
        let timer = set_timeout(Duration::from_millis(pause.into()), move || {
            if pauses.load(Ordering::Acquire) == current {
                resume.resume();
            }
        });
        timer.unref();
    }

    fn reset(&self) {
        if self.next_pause_ms.swap(FIRST_PAUSE_MS, Ordering::Relaxed) != FIRST_PAUSE_MS {
            // A pause ran: its timer, if it has not fired, must not resume.
            self.pause.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// One try at the next connection of `listener` (whose object is `l`):
/// from the driver, whose connections are non-blocking already (the
/// flag says so), or through `accept`.
fn next_connection<L: AsFd, S: From<OwnedFd>, A>(
    listener: &Async<L>,
    l: &L,
    accept: impl Fn(&L) -> io::Result<(S, A)>,
    peer: impl Fn(&S) -> io::Result<A>,
) -> io::Result<(S, A, bool)> {
    loop {
        let connection = match listener.accept_from_driver() {
            None => return accept(l).map(|(connection, peer)| (connection, peer, false)),
            Some(taken) => S::from(taken?),
        };
        // `ENOTCONN`: reset by its peer while queued; the next one.
        if let Ok(peer) = peer(&connection) {
            return Ok((connection, peer, true));
        }
    }
}

/// Errors that say "out of descriptors or kernel memory, try later": the
/// pending connection stays, so retrying at once fails again.
fn out_of_resources(error: &io::Error) -> bool {
    matches!(
        Errno::from_io_error(error),
        Some(Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM)
    )
}
