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
//! The backoff timer is `unref`'d: it never keeps the loop alive on its
//! own. A task waiting in `accept` does, through the listener's readiness,
//! unless the listener was `unref`'d, exactly as without the pause.

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

use rustix::io::Errno;

use crate::io::Async;
use crate::time::{Timer, set_timeout};

/// The pause after the first failure of a run.
const FIRST_PAUSE: Duration = Duration::from_millis(1);

/// The longest pause: the most a descriptor freed out of the loop's sight
/// waits to be noticed.
const LONGEST_PAUSE: Duration = Duration::from_millis(100);

/// A listener's backoff state.
pub(crate) struct AcceptBackoff {
    /// The next pause's length.
    next_pause: Cell<Duration>,
    /// The timer that ends the current pause, if one is running.
    timer: RefCell<Option<Timer>>,
}

impl AcceptBackoff {
    pub(crate) fn new() -> AcceptBackoff {
        AcceptBackoff { next_pause: Cell::new(FIRST_PAUSE), timer: RefCell::new(None) }
    }

    /// Runs the non-blocking accept `op` on `listener` (see the module doc).
    pub(crate) async fn accept<L: AsFd, R>(
        &self,
        listener: &Async<L>,
        op: impl FnMut(&L) -> io::Result<R>,
    ) -> io::Result<R> {
        let accepted = listener.read_with(op).await;
        match &accepted {
            Ok(_) => self.reset(),
            Err(error) if out_of_resources(error) => self.pause(listener),
            Err(_) => {}
        }
        accepted
    }

    fn pause<L: AsFd>(&self, listener: &Async<L>) {
        let resume = listener.hold_reads();
        let pause = self.next_pause.get();
        self.next_pause.set((pause * 2).min(LONGEST_PAUSE));
        let timer = set_timeout(pause, move || resume.resume());
        timer.unref();
        if let Some(previous) = self.timer.replace(Some(timer)) {
            previous.clear();
        }
    }

    fn reset(&self) {
        self.next_pause.set(FIRST_PAUSE);
        if let Some(timer) = self.timer.take() {
            timer.clear();
        }
    }
}

impl Drop for AcceptBackoff {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.get_mut().take() {
            timer.clear();
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
