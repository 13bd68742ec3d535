//! Poll phase, OS side, on io_uring (Linux): the loop sleeps in one
//! `io_uring_enter`, which also submits everything queued since the last.
//!
//! Readiness comes from one multishot `POLL_ADD` per source, for both
//! directions and the peer's hang-up. Like an edge-triggered epoll
//! registration it reports the readiness the socket has when it is armed,
//! then each new wake-up, so the sources above see the same events from
//! either driver. Registering costs no syscall of its own: the request rides
//! on the loop's next wait. A multishot request the kernel ends (its CQE
//! without `F_MORE`, as when the completion queue overflowed) is armed again
//! as its end is reaped.
//!
//! `notify` adds to an eventfd whose counter a `READ` on the ring consumes:
//! a remote wake costs the thread that sends it one `write`, and the loop
//! nothing beyond the wait it was in.
//!
//! Taking a source off: its poll is removed with `POLL_REMOVE`, submitted at
//! once, because an armed poll holds a reference to the socket and would
//! keep it open after its descriptor is closed. Each poll's `user_data`
//! carries its key and a generation, so completions still in flight for a
//! removed poll are recognised and dropped, also once the key is reused.
//!
//! All of jsloop's io_uring `unsafe` is in this file. Any thread may take a
//! source off the ring, so the submission queue sits behind a mutex; only
//! the loop's wait (and `Drop`) reaps completions. The one buffer the kernel
//! writes, the eventfd read's counter, is owned here until that read's
//! completion is reaped, also when the poller is dropped.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use io_uring::types::{Fd, SubmitArgs, Timespec};
use io_uring::{IoUring, Probe, cqueue, opcode, squeue};

use super::Readiness;
use crate::sync::lock;

/// Submission queue entries: a loop turn's registrations, re-arms and
/// removals; more in one turn submit early (`push`).
const SQ_ENTRIES: u32 = 256;
/// Completion queue entries: a wait reaps at most this many before the
/// kernel holds the rest back (`IORING_FEAT_NODROP`, required).
const CQ_ENTRIES: u32 = 4096;

/// The `user_data` of the eventfd read.
const NOTIFY: u64 = u64::MAX;
/// The `user_data` of the cancel in `Drop`, whose completion says nothing.
const IGNORED: u64 = u64::MAX - 1;
/// Set in a poll removal's `user_data`, beside the poll's own.
const REMOVAL: u64 = 1 << 63;
/// Generations stay below this, so no poll's or removal's `user_data` is
/// `NOTIFY` or `IGNORED`.
const GENERATIONS: u32 = 1 << 30;

/// What a source's poll asks for (`poll(2)` bits; `ERR` and `HUP` are
/// always reported).
const POLL_MASK: u32 = (libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP | libc::POLLPRI) as u32;

/// The loop's io_uring.
pub(super) struct Uring {
    ring: IoUring,
    /// Held while a `SubmissionQueue` view exists: any thread may push.
    submissions: Mutex<()>,
    /// Events reaped by the last wait. Its lock is also the right to view
    /// the completion queue.
    events: Mutex<Vec<Readiness>>,
    /// Per key: the poll armed for it.
    polls: Mutex<Vec<PollSlot>>,
    /// Counted up by `notify`, drained by the ring's read.
    eventfd: OwnedFd,
    /// The eventfd read's destination, written by the kernel while the read
    /// is in flight. Boxed so it does not move; freed only after the read's
    /// completion was reaped (`Drop`).
    counter: Box<AtomicU64>,
    /// The eventfd read is in flight.
    notify_armed: AtomicBool,
}

/// The poll of one key.
#[derive(Clone, Copy, Debug, Default)]
struct PollSlot {
    fd: RawFd,
    generation: u32,
    /// A poll for this generation is armed (or queued to be).
    armed: bool,
}

impl PollSlot {
    fn user_data(&self, key: usize) -> u64 {
        (u64::from(self.generation) << 32) | key as u64
    }
}

impl Uring {
    /// Sets up a ring and checks that the kernel has what the driver uses:
    /// multishot poll, `POLL_REMOVE`, `READ`, `ASYNC_CANCEL`, waits with a
    /// timeout (`EXT_ARG`) and completions never dropped (`NODROP`). A
    /// kernel without one of them is refused, never given a ring that half
    /// works.
    ///
    /// # Errors
    /// `Unsupported` naming what is missing, or the setup's own error
    /// (`EPERM` under a seccomp profile or `io_uring_disabled`, `ENOMEM`
    /// over the memlock limit, `ENOSYS` before Linux 5.1).
    pub(super) fn new() -> io::Result<Uring> {
        let unavailable = |error: io::Error| {
            io::Error::new(error.kind(), format!("jsloop: io_uring is unavailable: {error}"))
        };
        // Not `COOP_TASKRUN`: it defers the end of a removed poll, and with
        // it the close of its socket, to the loop's next wait.
        let ring =
            IoUring::builder().setup_cqsize(CQ_ENTRIES).build(SQ_ENTRIES).map_err(unavailable)?;
        let params = ring.params();
        let mut probe = Probe::new();
        ring.submitter().register_probe(&mut probe).map_err(unavailable)?;
        let missing = [
            (!params.is_feature_nodrop()).then_some("IORING_FEAT_NODROP"),
            (!params.is_feature_ext_arg()).then_some("IORING_FEAT_EXT_ARG"),
            // No feature bit says "multishot poll"; both came with 5.13.
            (!params.is_feature_resource_tagging()).then_some("multishot poll (Linux 5.13)"),
            (!probe.is_supported(opcode::PollAdd::CODE)).then_some("POLL_ADD"),
            (!probe.is_supported(opcode::PollRemove::CODE)).then_some("POLL_REMOVE"),
            (!probe.is_supported(opcode::Read::CODE)).then_some("READ"),
            (!probe.is_supported(opcode::AsyncCancel::CODE)).then_some("ASYNC_CANCEL"),
        ];
        if let Some(missing) = missing.into_iter().flatten().next() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("jsloop: io_uring is unavailable: the kernel lacks {missing}"),
            ));
        }
        // Blocking on purpose: on an `O_NONBLOCK` file io_uring's read
        // fails with `EAGAIN` instead of waiting for the counter.
        let eventfd = rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC)?;
        Ok(Uring {
            ring,
            submissions: Mutex::new(()),
            events: Mutex::new(Vec::new()),
            polls: Mutex::new(Vec::new()),
            eventfd,
            counter: Box::new(AtomicU64::new(0)),
            notify_armed: AtomicBool::new(false),
        })
    }

    /// Queues `entry`; a full queue is submitted first to make room.
    ///
    /// # Safety
    /// Every buffer `entry` points to stays valid until its completion is
    /// reaped.
    unsafe fn push(&self, entry: &squeue::Entry) -> io::Result<()> {
        let _guard = lock(&self.submissions);
        loop {
            // SAFETY: the only `SubmissionQueue` view: it is made only while
            // `submissions` is held, and dropped (which publishes the tail)
            // before the guard.
            let mut queue = unsafe { self.ring.submission_shared() };
            // SAFETY: this function's contract, passed on.
            if unsafe { queue.push(entry) }.is_ok() {
                return Ok(());
            }
            drop(queue);
            match self.ring.submitter().submit() {
                Ok(_) => {}
                Err(error) if is_transient(&error) => std::thread::yield_now(),
                Err(error) => return Err(error),
            }
        }
    }

    /// Submits what is queued now, without waiting.
    fn submit(&self) -> io::Result<()> {
        match self.ring.submitter().submit() {
            Ok(_) => Ok(()),
            Err(error) if is_transient(&error) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Arms a multishot poll for `slot`'s current generation.
    fn arm(&self, slot: &PollSlot, key: usize) -> io::Result<()> {
        let entry = opcode::PollAdd::new(Fd(slot.fd), POLL_MASK)
            .multi(true)
            .build()
            .user_data(slot.user_data(key));
        // SAFETY: a poll request points at no memory of ours.
        unsafe { self.push(&entry) }
    }

    pub(super) fn register(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        // A poll on a regular file or a directory reports it ready for
        // ever; epoll refuses those, and so does this driver, with epoll's
        // error, so that callers send them to the worker pool on either.
        use rustix::fs::FileType;
        let kind = FileType::from_raw_mode(rustix::fs::fstat(fd)?.st_mode);
        if matches!(kind, FileType::RegularFile | FileType::Directory) {
            return Err(io::Error::from_raw_os_error(libc::EPERM));
        }
        if u32::try_from(key).is_err() {
            return Err(io::Error::other("jsloop: more than 2^32 sources on one io_uring"));
        }
        let mut polls = lock(&self.polls);
        if polls.len() <= key {
            polls.resize(key + 1, PollSlot::default());
        }
        let slot = &mut polls[key];
        slot.fd = fd.as_raw_fd();
        slot.generation = (slot.generation + 1) % GENERATIONS;
        slot.armed = true;
        let slot = *slot;
        // Under the lock: a removal of this key cannot slip in between.
        self.arm(&slot, key)
    }

    /// Any thread. Submitted at once: the caller closes `fd` next, and the
    /// socket stays open for as long as a poll holds it.
    pub(super) fn delete(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        let mut polls = lock(&self.polls);
        let slot = match polls.get_mut(key) {
            Some(slot) if slot.armed && slot.fd == fd.as_raw_fd() => slot,
            _ => return Err(io::Error::from(io::ErrorKind::NotFound)),
        };
        slot.armed = false;
        self.remove(slot.user_data(key))?;
        drop(polls);
        self.submit()
    }

    /// Queues the removal of the poll whose `user_data` is `poll`.
    fn remove(&self, poll: u64) -> io::Result<()> {
        let entry = opcode::PollRemove::new(poll).build().user_data(REMOVAL | poll);
        // SAFETY: a poll removal points at no memory of ours.
        unsafe { self.push(&entry) }
    }

    pub(super) fn is_edge_triggered(&self) -> bool {
        true
    }

    pub(super) fn notify(&self) {
        // Fails only when the counter would overflow, and a counter that
        // high already wakes the loop.
        let _ = rustix::io::write(&self.eventfd, &1u64.to_ne_bytes());
    }

    /// Keeps a read of the eventfd in flight, so a notify completes it.
    fn arm_notify(&self) -> io::Result<()> {
        if self.notify_armed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let entry =
            opcode::Read::new(Fd(self.eventfd.as_raw_fd()), self.counter.as_ptr().cast(), 8)
                .build()
                .user_data(NOTIFY);
        // SAFETY: `counter` is boxed and freed only after this read's
        // completion is reaped (`reap` clears `notify_armed` on it, and
        // `Drop` cancels and reaps a read still in flight).
        unsafe { self.push(&entry) }?;
        self.notify_armed.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// The loop thread only. Submits what is queued and waits for a
    /// completion or `timeout`, then reaps.
    pub(super) fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.arm_notify()?;
        let submitter = self.ring.submitter();
        let waited = match timeout {
            Some(timeout) if timeout.is_zero() => submitter.submit(),
            Some(timeout) => {
                let timespec = Timespec::new().sec(timeout.as_secs()).nsec(timeout.subsec_nanos());
                submitter.submit_with_args(1, &SubmitArgs::new().timespec(&timespec))
            }
            None => submitter.submit_and_wait(1),
        };
        match waited {
            Ok(_) => {}
            Err(error) if error.raw_os_error() == Some(libc::ETIME) || is_transient(&error) => {}
            Err(error) => return Err(error),
        }
        self.reap()
    }

    /// Turns the completions into readiness events, re-arming the polls
    /// the kernel ended.
    fn reap(&self) -> io::Result<()> {
        let mut events = lock(&self.events);
        let polls = lock(&self.polls);
        let mut result = Ok(());
        // SAFETY: the only `CompletionQueue` view: made only while `events`
        // is held. Its head moves past what was read when it drops, at the
        // end of the loop.
        for completion in unsafe { self.ring.completion_shared() } {
            match completion.user_data() {
                NOTIFY => {
                    self.notify_armed.store(false, Ordering::Relaxed);
                    let code = -completion.result();
                    if code > 0 && code != libc::EINTR && code != libc::ECANCELED {
                        result = Err(io::Error::from_raw_os_error(code));
                    }
                }
                IGNORED => {}
                data if data & REMOVAL != 0 => {
                    // A poll that was about to complete cannot be removed
                    // then (`EALREADY`): it still holds its socket, so try
                    // again; `ENOENT` says it has ended.
                    if completion.result() == -libc::EALREADY {
                        self.remove(data & !REMOVAL)?;
                    }
                }
                data => {
                    let key = (data & u64::from(u32::MAX)) as usize;
                    let Some(slot) = polls.get(key) else { continue };
                    if !slot.armed || slot.user_data(key) != data {
                        // A removed poll's last words.
                        continue;
                    }
                    let ended = !cqueue::more(completion.flags());
                    match readiness(key, completion.result()) {
                        Some(event) => events.push(event),
                        // Out of memory, say: the socket is tried, and the
                        // operation reports what is wrong.
                        None => events.push(Readiness {
                            key,
                            readable: true,
                            writable: true,
                            read_closed: false,
                            hangup_known: false,
                        }),
                    }
                    if ended && completion.result() >= 0 || is_transient_code(completion.result()) {
                        // Under `polls`' lock: no removal slips in between.
                        self.arm(slot, key)?;
                    }
                }
            }
        }
        result
    }

    pub(super) fn take_events(&self, out: &mut Vec<Readiness>) {
        out.append(&mut lock(&self.events));
    }
}

/// A poll completion's readiness (`None` for an error).
fn readiness(key: usize, result: i32) -> Option<Readiness> {
    let mask = u32::try_from(result).ok()?;
    let any = |bits: i16| mask & bits as u32 != 0;
    Some(Readiness {
        key,
        readable: any(libc::POLLIN
            | libc::POLLHUP
            | libc::POLLERR
            | libc::POLLPRI
            | libc::POLLRDHUP),
        writable: any(libc::POLLOUT | libc::POLLHUP | libc::POLLERR),
        read_closed: any(libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR),
        hangup_known: true,
    })
}

/// Errors of `io_uring_enter` that a later call gets past: interrupted, or
/// out of resources until completions are reaped.
fn is_transient(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EINTR | libc::EAGAIN | libc::EBUSY))
}

/// A poll that failed for want of memory or completion space: worth arming
/// again.
fn is_transient_code(result: i32) -> bool {
    matches!(-result, libc::ENOMEM | libc::EAGAIN | libc::EBUSY)
}

impl Drop for Uring {
    fn drop(&mut self) {
        // The eventfd read may still write `counter`: cancel it and reap
        // until its completion says it no longer can.
        if !*self.notify_armed.get_mut() {
            return;
        }
        let cancel = opcode::AsyncCancel::new(NOTIFY).build().user_data(IGNORED);
        // SAFETY: a cancel points at no memory of ours.
        let queued = unsafe { self.push(&cancel) }.is_ok();
        let timespec = Timespec::new().nsec(100_000_000);
        for _ in 0..(if queued { 50 } else { 0 }) {
            let _ =
                self.ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&timespec));
            // SAFETY: `&mut self`: no other view of the completion queue.
            let reaped = unsafe { self.ring.completion_shared() }.any(|c| c.user_data() == NOTIFY);
            if reaped {
                return;
            }
        }
        // Never seen here; if it were, a leaked counter is better than a
        // kernel write into freed memory.
        std::mem::forget(std::mem::replace(&mut self.counter, Box::new(AtomicU64::new(0))));
    }
}
