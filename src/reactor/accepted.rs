//! Poll phase, OS side, on io_uring: a listener's connections that its
//! multishot `ACCEPT` took from the kernel's backlog, queued until
//! `accept` calls take them.
//!
//! The state is pure (the ring is `uring`'s): which connections wait, in
//! the order the kernel accepted them, the error that ended the request
//! (`EMFILE`, say), reported after them, and whether a request is in
//! flight. A request ends on an error, on a cancel, or when the kernel
//! stops it; it is armed again by the next `accept` that finds the queue
//! empty (or takes a connection from a queue that was full), never right
//! after an error was reported: the caller backs off first (`net::accept`),
//! so a listener out of descriptors cannot spin on a request that fails at
//! once.
//!
//! The queue is bounded: a request that fills it is cancelled, and the
//! connections beyond stay in the kernel's backlog, where they hold no
//! descriptor, until the server catches up.

use std::collections::VecDeque;
use std::io;
use std::os::fd::OwnedFd;

/// Connections queued before the `ACCEPT` is paused.
const BACKLOG: usize = 64;

/// A listener's accepted connections and its `ACCEPT`'s state.
#[derive(Debug, Default)]
pub(super) struct Accepted {
    queue: VecDeque<OwnedFd>,
    /// The error that ended the request, reported after the queue.
    error: Option<i32>,
    /// A request is in flight (or queued to be).
    pub(super) armed: bool,
    /// Its cancel (the queue filled up) is in flight.
    pub(super) cancelling: bool,
    /// The listener is moving to another loop: no new request.
    pub(super) leaving: bool,
}

impl Accepted {
    /// A connection the request accepted.
    pub(super) fn push(&mut self, connection: OwnedFd) {
        self.queue.push_back(connection);
    }

    /// The request ended with the error `code` (an errno).
    pub(super) fn fail(&mut self, code: i32) {
        self.error = Some(code);
    }

    /// The next connection, else the error that ended the request, else
    /// `None`: wait for the next completion.
    pub(super) fn take(&mut self) -> Option<io::Result<OwnedFd>> {
        match self.queue.pop_front() {
            Some(connection) => Some(Ok(connection)),
            None => self.error.take().map(|code| Err(io::Error::from_raw_os_error(code))),
        }
    }

    /// Whether the queue holds as many as it should: the request pauses.
    pub(super) fn is_full(&self) -> bool {
        self.queue.len() >= BACKLOG
    }

    /// Whether a request should be armed: none is, none is leaving, the
    /// queue has room and no error waits to be reported.
    pub(super) fn wants_accept(&self) -> bool {
        !self.armed && !self.leaving && !self.is_full() && self.error.is_none()
    }

    /// The connections nobody took, for the listener's next loop.
    pub(super) fn take_all(&mut self) -> Vec<OwnedFd> {
        self.queue.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn descriptor() -> OwnedFd {
        std::fs::File::open("/dev/null").unwrap().into()
    }

    #[test]
    fn connections_come_out_in_order_then_the_error_once() {
        let mut accepted = Accepted::default();
        let (a, b) = (descriptor(), descriptor());
        let (raw_a, raw_b) = (a.as_raw_fd(), b.as_raw_fd());
        accepted.push(a);
        accepted.push(b);
        accepted.fail(libc::EMFILE);
        assert_eq!(accepted.take().unwrap().unwrap().as_raw_fd(), raw_a);
        assert_eq!(accepted.take().unwrap().unwrap().as_raw_fd(), raw_b);
        let error = accepted.take().unwrap().unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EMFILE));
        assert!(accepted.take().is_none());
    }

    #[test]
    fn no_new_request_while_one_is_armed_an_error_waits_or_the_queue_is_full() {
        let mut accepted = Accepted::default();
        assert!(accepted.wants_accept());
        accepted.armed = true;
        assert!(!accepted.wants_accept());
        accepted.armed = false;
        accepted.fail(libc::EMFILE);
        assert!(!accepted.wants_accept(), "an error is reported before the next request");
        assert!(accepted.take().unwrap().is_err());
        assert!(accepted.wants_accept());
        for _ in 0..BACKLOG {
            accepted.push(descriptor());
        }
        assert!(accepted.is_full());
        assert!(!accepted.wants_accept());
        assert!(accepted.take().unwrap().is_ok());
        assert!(accepted.wants_accept());
        accepted.leaving = true;
        assert!(!accepted.wants_accept());
        assert_eq!(accepted.take_all().len(), BACKLOG - 1);
        assert!(accepted.take().is_none());
    }
}
