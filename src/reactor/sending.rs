//! Poll phase, OS side, on io_uring: one stream socket's write-behind
//! buffer, the bytes its writers handed over that the kernel has not sent
//! yet.
//!
//! A write copies into the buffer and returns at once; the driver keeps one
//! `SEND` in flight per socket, over the bytes that were queued when it was
//! armed, and arms the next as its completion is reaped: a partial send
//! goes on from where it stopped, and what writers queued meanwhile goes
//! out in one request. So a loop turn's writes cost no syscall of their
//! own; they ride on its wait. The buffer is bounded ([`CAPACITY`]): a
//! write that finds it full waits, as one on a full kernel buffer does,
//! for the completion that makes room.
//!
//! A failed `SEND` ends the stream for writing: its error is what every
//! later write, flush and close reports, and what was queued behind it is
//! dropped, as the kernel drops a reset socket's send queue. A shutdown of
//! the write side with bytes still queued waits for them (`shut_down`):
//! the peer reads them, then EOF.
//!
//! No `unsafe` and no ring here: this is the state the driver keeps per
//! socket. The bytes a `SEND` in flight points at stay put until its
//! completion (see [`Sending::start`]).

use std::io::{self, IoSlice};

/// Bytes a socket's buffer holds, queued and in flight, before writes wait.
pub(super) const CAPACITY: usize = 256 * 1024;

/// A drained buffer keeps at most this much memory (an idle connection
/// should cost little).
const KEPT: usize = 16 * 1024;

/// One socket's unsent bytes and the state of its `SEND`.
#[derive(Debug, Default)]
pub(super) struct Sending {
    /// The bytes of the `SEND` in flight (from `sent` on), or of the last
    /// one. Not touched while `armed`: the kernel reads them.
    in_flight: Vec<u8>,
    /// Of `in_flight`, how many the kernel took.
    sent: usize,
    /// Bytes written since the `SEND` in flight was armed.
    queued: Vec<u8>,
    /// A `SEND` is in flight: until its completion is reaped.
    armed: bool,
    /// The `SEND` that failed, and so every write after it.
    error: Option<i32>,
    /// The write side is shut down, or will be once the bytes are out.
    shut: bool,
    /// The shutdown waits for the bytes to go out.
    shutdown_due: bool,
    /// The socket leaves this driver for another loop's: no `SEND` is
    /// armed any more, what is unsent goes with it ([`Sending::take_unsent`]).
    leaving: bool,
    /// A writer found the buffer full, or a flush found bytes unsent: the
    /// next completion reports the socket writable.
    pub(super) waiting: bool,
}

impl Sending {
    /// Bytes not yet taken by the kernel.
    fn unsent(&self) -> usize {
        self.in_flight.len() - self.sent + self.queued.len()
    }

    /// Copies what fits of `bufs` into the buffer. `WouldBlock` when it is
    /// full (then the next completion reports the socket writable); the
    /// `SEND`'s error once one failed; `BrokenPipe` after a shutdown.
    pub(super) fn write(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.check()?;
        if self.shut {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let mut room = CAPACITY.saturating_sub(self.unsent());
        let wanted: usize = bufs.iter().map(|buf| buf.len()).sum();
        if wanted == 0 {
            return Ok(0);
        }
        if room == 0 {
            self.waiting = true;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let start = self.queued.len();
        for buf in bufs {
            let take = buf.len().min(room);
            self.queued.extend_from_slice(&buf[..take]);
            room -= take;
            if room == 0 {
                // Full now: whoever writes next waits for room.
                self.waiting = true;
                break;
            }
        }
        Ok(self.queued.len() - start)
    }

    /// Bytes carried over from the socket's last loop, ahead of anything
    /// written here (beyond the bound: they were already accepted).
    pub(super) fn adopt(&mut self, bytes: Vec<u8>, shut_down: bool) {
        debug_assert!(self.unsent() == 0 && !self.armed, "adopted by a fresh buffer only");
        self.queued = bytes;
        if shut_down {
            self.shut = true;
            self.shutdown_due = true;
        }
    }

    /// The next `SEND` to arm, if none is in flight and bytes wait: its
    /// bytes, which stay where they are, unchanged, until [`Sending::sent`]
    /// or [`Sending::failed`] reports its completion.
    pub(super) fn start(&mut self) -> Option<&[u8]> {
        if self.armed || self.leaving || self.error.is_some() {
            return None;
        }
        if self.sent == self.in_flight.len() {
            self.in_flight.clear();
            self.sent = 0;
            std::mem::swap(&mut self.in_flight, &mut self.queued);
        }
        if self.in_flight.is_empty() {
            return None;
        }
        self.armed = true;
        Some(&self.in_flight[self.sent..])
    }

    /// The `SEND` in flight took `n` bytes (perhaps fewer than asked).
    pub(super) fn sent(&mut self, n: usize) {
        debug_assert!(self.armed, "a completion for an armed SEND");
        self.armed = false;
        self.sent = (self.sent + n).min(self.in_flight.len());
        if self.unsent() == 0 {
            for buffer in [&mut self.in_flight, &mut self.queued] {
                buffer.clear();
                if buffer.capacity() > KEPT {
                    buffer.shrink_to(KEPT);
                }
            }
            self.sent = 0;
        }
    }

    /// The `SEND` in flight was cancelled before it took anything: its
    /// bytes are still to send.
    pub(super) fn cancelled(&mut self) {
        self.armed = false;
    }

    /// The `SEND` in flight failed with `code`: the stream is broken for
    /// writing and what it held is dropped.
    pub(super) fn failed(&mut self, code: i32) {
        self.armed = false;
        self.error.get_or_insert(code);
        self.in_flight = Vec::new();
        self.queued = Vec::new();
        self.sent = 0;
        self.shutdown_due = false;
    }

    /// Whether a `SEND` is in flight.
    pub(super) fn is_armed(&self) -> bool {
        self.armed
    }

    /// The error of a failed `SEND`, if one failed.
    fn check(&self) -> io::Result<()> {
        match self.error {
            Some(code) => Err(io::Error::from_raw_os_error(code)),
            None => Ok(()),
        }
    }

    /// Whether everything written has gone out: `WouldBlock` while bytes
    /// wait (the completion that sends the last reports the socket
    /// writable), the `SEND`'s error once one failed.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        self.check()?;
        if self.unsent() == 0 && !self.armed {
            return Ok(());
        }
        self.waiting = true;
        Err(io::ErrorKind::WouldBlock.into())
    }

    /// Shuts the write side down: `true` if the caller should do it now
    /// (nothing waits to go out), `false` if the driver does once the bytes
    /// are out ([`Sending::take_due_shutdown`]). Writes after it fail.
    pub(super) fn shut_down(&mut self) -> bool {
        self.shut = true;
        let now = self.unsent() == 0 && !self.armed || self.error.is_some();
        self.shutdown_due = !now;
        now
    }

    /// Whether a deferred shutdown is due now (everything went out); it is
    /// reported once.
    pub(super) fn take_due_shutdown(&mut self) -> bool {
        let due = self.shutdown_due && self.unsent() == 0 && !self.armed;
        if due {
            self.shutdown_due = false;
        }
        due
    }

    /// Whether nothing is left to do: no `SEND` in flight, nothing unsent,
    /// no shutdown owed.
    pub(super) fn is_done(&self) -> bool {
        !self.armed && (self.unsent() == 0 || self.error.is_some()) && !self.shutdown_due
    }

    /// The socket is leaving for another loop: no further `SEND` starts,
    /// so that once the one in flight completes, the rest can go along.
    pub(super) fn leave(&mut self) {
        self.leaving = true;
    }

    /// Everything unsent and whether a shutdown was owed, for the socket
    /// to carry to another loop; `None` while a `SEND` is in flight (its
    /// bytes are the kernel's).
    pub(super) fn take_unsent(&mut self) -> Option<(Vec<u8>, bool)> {
        if self.armed {
            return None;
        }
        let mut bytes = std::mem::take(&mut self.in_flight).split_off(self.sent);
        bytes.append(&mut self.queued);
        self.sent = 0;
        let shutdown = std::mem::take(&mut self.shutdown_due);
        Some((bytes, shutdown))
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        // The kernel may still read the bytes of a `SEND` in flight: leaked
        // rather than freed under it. The driver never drops an armed one
        // (it orphans it, or cancels and reaps first), so this is a net.
        if self.armed {
            std::mem::forget(std::mem::take(&mut self.in_flight));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Step {
        /// A write of this many bytes, in one or two slices.
        Write(usize, bool),
        /// The `SEND` in flight completes with this share (per mille) of
        /// what it asked.
        Complete(u16),
        /// Arm the next `SEND` (the driver does after writes and reaps).
        Start,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1usize..100_000, any::<bool>()).prop_map(|(n, split)| Step::Write(n, split)),
            (0u16..=1000).prop_map(Step::Complete),
            Just(Step::Start),
        ]
    }

    proptest! {
        #[test]
        fn the_kernel_gets_every_accepted_byte_once_in_order(
            steps in proptest::collection::vec(step(), 1..200),
        ) {
            // The model: the accepted bytes as one string, and what the
            // "kernel" took of it.
            let mut sending = Sending::default();
            let mut accepted: Vec<u8> = Vec::new();
            let mut wire: Vec<u8> = Vec::new();
            let mut asked: Option<Vec<u8>> = None;
            let mut next = 0u8;
            for step in steps {
                match step {
                    Step::Write(n, split) => {
                        let data: Vec<u8> = (0..n).map(|_| { next = next.wrapping_add(1); next }).collect();
                        let (a, b) = data.split_at(if split { n / 2 } else { n });
                        match sending.write(&[IoSlice::new(a), IoSlice::new(b)]) {
                            Ok(taken) => {
                                prop_assert!(taken > 0 && taken <= n);
                                accepted.extend_from_slice(&data[..taken]);
                                // Never beyond the bound.
                                prop_assert!(sending.unsent() <= CAPACITY);
                            }
                            Err(error) => {
                                prop_assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
                                prop_assert_eq!(sending.unsent(), CAPACITY);
                                prop_assert!(sending.waiting);
                            }
                        }
                    }
                    Step::Start => {
                        if let Some(bytes) = sending.start() {
                            prop_assert!(asked.is_none(), "two SENDs in flight");
                            asked = Some(bytes.to_vec());
                        }
                    }
                    Step::Complete(share) => {
                        if let Some(bytes) = asked.take() {
                            let n = bytes.len() * usize::from(share) / 1000;
                            wire.extend_from_slice(&bytes[..n]);
                            sending.sent(n);
                        }
                    }
                }
                prop_assert_eq!(wire.len() + sending.unsent(), accepted.len());
                prop_assert_eq!(&accepted[..wire.len()], &wire[..]);
            }
            // Drain: the SEND in flight completes, what is left goes out
            // in order.
            if let Some(bytes) = asked.take() {
                wire.extend_from_slice(&bytes);
                sending.sent(bytes.len());
            }
            while let Some(bytes) = sending.start() {
                wire.extend_from_slice(bytes);
                let n = bytes.len();
                sending.sent(n);
            }
            prop_assert_eq!(wire, accepted);
            prop_assert!(sending.is_done());
            prop_assert!(sending.flush().is_ok());
        }
    }

    #[test]
    fn a_failed_send_is_reported_by_every_write_and_flush_after_it() {
        let mut sending = Sending::default();
        sending.write(&[IoSlice::new(b"hello")]).unwrap();
        assert!(sending.start().is_some());
        sending.write(&[IoSlice::new(b" world")]).unwrap();
        sending.failed(libc::ECONNRESET);
        for _ in 0..2 {
            let error = sending.write(&[IoSlice::new(b"x")]).unwrap_err();
            assert_eq!(error.raw_os_error(), Some(libc::ECONNRESET));
            assert_eq!(sending.flush().unwrap_err().raw_os_error(), Some(libc::ECONNRESET));
        }
        assert!(sending.start().is_none(), "nothing is sent after the error");
        assert!(sending.is_done());
    }

    #[test]
    fn a_shutdown_waits_for_the_bytes_and_writes_after_it_fail() {
        let mut sending = Sending::default();
        assert!(sending.shut_down(), "nothing queued: shut down now");
        assert_eq!(
            sending.write(&[IoSlice::new(b"late")]).unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );

        let mut sending = Sending::default();
        sending.write(&[IoSlice::new(b"bytes")]).unwrap();
        let len = sending.start().unwrap().len();
        assert!(!sending.shut_down(), "bytes in flight: deferred");
        assert!(!sending.take_due_shutdown());
        assert!(!sending.is_done());
        sending.sent(len);
        assert!(sending.take_due_shutdown());
        assert!(!sending.take_due_shutdown(), "reported once");
        assert!(sending.is_done());
    }

    #[test]
    fn unsent_bytes_travel_but_not_those_in_flight() {
        let mut sending = Sending::default();
        sending.write(&[IoSlice::new(b"abcdef")]).unwrap();
        sending.start().unwrap();
        sending.write(&[IoSlice::new(b"gh")]).unwrap();
        assert!(sending.take_unsent().is_none(), "the kernel owns what is in flight");
        // It completed short: the rest is still to send, ahead of "gh".
        sending.sent(2);
        let (bytes, shutdown) = sending.take_unsent().unwrap();
        assert_eq!(bytes, b"cdefgh");
        assert!(!shutdown);
        let mut adopted = Sending::default();
        adopted.adopt(bytes, true);
        assert_eq!(adopted.start().unwrap(), b"cdefgh");
        adopted.sent(6);
        assert!(adopted.take_due_shutdown(), "the owed shutdown came along");
    }
}
