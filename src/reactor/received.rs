//! Poll phase, OS side, on io_uring: the bytes one stream socket's
//! multishot `RECV` brought in, waiting for its reader.
//!
//! The driver copies each completion's bytes out of the provided buffer
//! they landed in and gives the buffer back to the kernel at once, in the
//! same reap: so a reader that is slow, or gone to sleep, never holds the
//! ring's buffers, which every socket of the loop shares. What a reader
//! has not taken yet waits here, bounded: above [`HIGH`] bytes the driver
//! cancels the socket's `RECV` (the kernel's own receive buffer and TCP's
//! window then hold the peer back, as they do for a socket nobody reads),
//! and it arms a new one once the reader has taken the queue below [`LOW`].
//!
//! No `unsafe` and no ring here: this is the state the driver keeps per
//! socket, and the rules for when its `RECV` should be in flight.

use std::collections::VecDeque;
use std::io;

/// Queued bytes above which the socket's `RECV` is cancelled.
pub(super) const HIGH: usize = 256 * 1024;
/// Queued bytes below which a paused socket's `RECV` is armed again.
pub(super) const LOW: usize = HIGH / 2;

/// One socket's received bytes and the state of its `RECV`.
#[derive(Debug, Default)]
pub(super) struct Received {
    bytes: VecDeque<u8>,
    /// How the stream ended: `Some(0)` at EOF, else the error code, which
    /// one read reports before the stream reads as ended (as a socket's
    /// pending error does).
    end: Option<i32>,
    /// A multishot `RECV` is in flight: until its completion without
    /// `F_MORE` is reaped.
    pub(super) armed: bool,
    /// The in-flight `RECV`'s cancel is queued.
    pub(super) cancelling: bool,
    /// The last `RECV` ended for want of a provided buffer: the driver arms
    /// it again after its next reap, once buffers came back.
    pub(super) starved: bool,
    /// The socket is leaving this ring (moving to another loop): its
    /// `RECV` is never armed again.
    pub(super) leaving: bool,
}

impl Received {
    /// Bytes a completion brought.
    pub(super) fn push(&mut self, bytes: &[u8]) {
        self.bytes.extend(bytes);
    }

    /// The `RECV` ended the stream: `0` for EOF, else an error code.
    pub(super) fn end(&mut self, code: i32) {
        self.end.get_or_insert(code);
    }

    /// Whether the stream has ended (EOF or an error): no `RECV` is armed
    /// again.
    pub(super) fn has_ended(&self) -> bool {
        self.end.is_some()
    }

    /// Takes what a read of `buf.len()` bytes gets: queued bytes first,
    /// then the end (an error once, then EOF). `None`: nothing yet, the
    /// read would block.
    pub(super) fn read(&mut self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        if buf.is_empty() {
            return Some(Ok(0));
        }
        if !self.bytes.is_empty() {
            // `VecDeque`'s own `Read`: two `memcpy`s at most.
            return Some(io::Read::read(&mut self.bytes, buf));
        }
        match self.end? {
            0 => Some(Ok(0)),
            code => {
                self.end = Some(0);
                Some(Err(io::Error::from_raw_os_error(code)))
            }
        }
    }

    /// Whether the queue is over [`HIGH`]: the `RECV` should be cancelled.
    pub(super) fn is_full(&self) -> bool {
        self.bytes.len() >= HIGH
    }

    /// Whether a `RECV` should be armed now: none is in flight or waiting
    /// for buffers, the stream goes on, the socket stays, and the reader
    /// has room.
    pub(super) fn wants_recv(&self) -> bool {
        !self.armed
            && !self.starved
            && !self.leaving
            && self.end.is_none()
            && self.bytes.len() < LOW
    }

    /// Everything queued, for the socket to carry to another loop.
    pub(super) fn take_bytes(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn reads_give_back_every_byte_pushed_in_order(
            steps in proptest::collection::vec((any::<bool>(), 1usize..300), 1..200),
        ) {
            // The model: one flat byte string, pushed at the back and read
            // from the front.
            let mut received = Received::default();
            let mut model: VecDeque<u8> = VecDeque::new();
            let mut next = 0u8;
            let mut out = Vec::new();
            let mut expected: Vec<u8> = Vec::new();
            for (push, len) in steps {
                if push {
                    let chunk: Vec<u8> = (0..len).map(|_| { next = next.wrapping_add(1); next }).collect();
                    received.push(&chunk);
                    model.extend(&chunk);
                } else {
                    let mut buf = vec![0; len];
                    match received.read(&mut buf) {
                        Some(Ok(n)) => {
                            prop_assert!(n > 0 && n <= len);
                            out.extend_from_slice(&buf[..n]);
                            expected.extend(model.drain(..n));
                        }
                        Some(Err(error)) => prop_assert!(false, "no end was pushed: {error}"),
                        None => prop_assert!(model.is_empty()),
                    }
                }
            }
            prop_assert_eq!(out, expected);
            prop_assert_eq!(received.take_bytes(), Vec::from(model));
        }
    }

    #[test]
    fn an_error_is_read_once_after_the_bytes_then_the_stream_reads_as_ended() {
        let mut received = Received::default();
        received.push(b"ab");
        received.end(libc::ECONNRESET);
        // A second end (the cancel that follows, say) changes nothing.
        received.end(0);
        let mut buf = [0; 8];
        assert_eq!(received.read(&mut buf).unwrap().unwrap(), 2);
        let error = received.read(&mut buf).unwrap().unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ECONNRESET));
        assert_eq!(received.read(&mut buf).unwrap().unwrap(), 0);
        assert_eq!(received.read(&mut buf).unwrap().unwrap(), 0);
        assert!(!received.wants_recv(), "an ended stream is never received from again");
    }

    #[test]
    fn a_full_queue_pauses_the_recv_until_the_reader_takes_it_below_low() {
        let mut received = Received::default();
        assert!(received.wants_recv());
        received.push(&vec![7; HIGH]);
        assert!(received.is_full());
        assert!(!received.wants_recv());
        let mut buf = vec![0; HIGH - LOW];
        assert_eq!(received.read(&mut buf).unwrap().unwrap(), HIGH - LOW);
        assert!(!received.wants_recv(), "at LOW exactly it still waits");
        assert_eq!(received.read(&mut [0; 1]).unwrap().unwrap(), 1);
        assert!(received.wants_recv());
        received.leaving = true;
        assert!(!received.wants_recv(), "a socket leaving the ring is not armed again");
    }

    #[test]
    fn an_empty_read_returns_at_once_and_nothing_queued_would_block() {
        let mut received = Received::default();
        assert_eq!(received.read(&mut []).unwrap().unwrap(), 0);
        assert!(received.read(&mut [0; 4]).is_none());
    }
}
