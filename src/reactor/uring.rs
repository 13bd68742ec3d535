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
//! **Stream reads on the ring.** The first read of a stream socket on its
//! home loop (`stream_read`) turns the socket over to the ring: one
//! multishot `RECV` per socket, not one request per read, takes its bytes
//! into a ring of provided buffers shared by the loop's sockets; the reap
//! copies them out into the socket's queue (`received`), gives the buffer
//! back, and reports the socket readable, so the read that follows is a
//! copy, not a syscall. Its poll is re-armed for writability alone. A
//! `RECV` that found no buffer (`ENOBUFS`) is armed again after the next
//! reap, which has given buffers back; one over its queue's bound is
//! cancelled until the reader catches up. A socket that moves to another
//! loop leaves the ring synchronously (`leave`: `IORING_REGISTER_SYNC_CANCEL`
//! and a reap), taking its queued bytes along. Kernels without multishot
//! `RECV`, provided-buffer rings or synchronous cancel (Linux 6.0) keep
//! reading through the socket.
//!
//! **Stream writes on the ring.** The first write of a stream socket on
//! its home loop turns its writes over to the ring as well: a write copies
//! into the socket's bounded buffer (`sending`) and returns at once, and
//! one `SEND` per socket, submitted with the loop's next wait, takes what
//! was queued; its completion arms the next, from where a partial send
//! stopped. A writer that finds the buffer full, or a flush that finds
//! bytes unsent, is reported writable by the completion that changes it. A
//! shutdown of the write side waits for the bytes; so does a socket that is
//! closed with bytes unsent: the driver keeps a duplicate of its descriptor
//! and the bytes (an *orphan*) until they are out. Sends in flight keep the
//! loop alive, as libuv's write requests do. A socket that moves to
//! another loop cancels its `SEND` and takes its unsent bytes along.
//!
//! **Accepts on the ring.** The first accept of a listener on its home
//! loop turns it over to the ring as well: one multishot `ACCEPT` takes
//! connections off the backlog as they arrive, into the listener's queue
//! (`accepted`), and reports the listener readable, so an accept is a pop
//! (the peer's address, which a multishot request cannot return, comes
//! from `getpeername`). A full queue pauses the request; an error ends it
//! and is reported after the queued connections, and the next accept that
//! finds the queue empty arms it again, so a listener out of descriptors
//! retries when its caller's backoff says so, not in a loop. A listener
//! that moves to another loop takes its queue along.
//!
//! **Connects on the ring.** A `net` stream socket connects through the
//! ring where its reads could go there: it is registered without a poll,
//! and one `CONNECT`, submitted with the loop's next wait, replaces the
//! `connect`, the wait for writability and the `SO_ERROR` read that a
//! non-blocking connect costs otherwise. Its completion keeps the outcome
//! for the connecting task, reports the socket writable and arms its poll.
//! The address stays with the driver until that completion, also when the
//! socket is closed first (the request is cancelled, the address kept in
//! `abandoned` until its end is reaped). A socket that leaves for another
//! loop cancels its `CONNECT`; one that ended as it left takes its outcome
//! along, for the request consumed the socket's error.
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
//! source off the ring, so the submission queue sits behind a mutex; the
//! loop's wait reaps completions, and so do `leave` and `Drop`, under the
//! same lock. The memory the kernel writes, the eventfd read's counter and
//! the provided buffers, is owned here until no request in flight can
//! write it: a buffer is read only after the completion that names it, and
//! both are freed only once every request was cancelled and reaped, also
//! when the poller is dropped with requests in flight.

use std::alloc::Layout;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use io_uring::types::{BufRingEntry, CancelBuilder, Fd, SubmitArgs, Timespec};
use io_uring::{IoUring, Probe, cqueue, opcode, squeue};
use rustix::net::SocketAddrAny;

use super::accepted::Accepted;
use super::received::Received;
use super::sending::Sending;
use super::{Departure, Readiness};
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
/// Set in a removal's or cancel's `user_data`, beside the request's own.
const REMOVAL: u64 = 1 << 63;
/// Set in a `RECV`'s `user_data`, beside its socket's poll's.
const RECV: u64 = 1 << 62;
/// Set in a `SEND`'s `user_data`, beside its socket's poll's (an orphan's
/// keeps the one its socket had).
const SEND: u64 = 1 << 61;
/// Set in an `ACCEPT`'s `user_data`, beside its listener's poll's.
const ACCEPT: u64 = 1 << 60;
/// Set in a `CONNECT`'s `user_data`, beside its socket's poll's.
const CONNECT: u64 = 1 << 59;
/// Generations stay below this, so no request's `user_data` is `NOTIFY` or
/// `IGNORED` (bit 58 stays clear).
const GENERATIONS: u32 = 1 << 26;

/// How long dropping the driver waits for orphans' bytes to go out before
/// it cancels their `SEND`s.
const LINGER: Duration = Duration::from_secs(2);

/// The provided-buffer group the `RECV`s take from.
const BUFFER_GROUP: u16 = 0;
/// Provided buffers per ring (a power of two, as the kernel requires).
const BUFFERS: u16 = 256;
/// Bytes per provided buffer: 2 MiB in all, touched only where data lands.
const BUFFER_LEN: usize = 8192;

/// What a source's poll asks for (`poll(2)` bits; `ERR` and `HUP` are
/// always reported).
const POLL_MASK: u32 = (libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP | libc::POLLPRI) as u32;
/// What the poll of a socket whose reads come from its `RECV` asks for.
const WRITE_MASK: u32 = libc::POLLOUT as u32;

/// The loop's io_uring.
pub(super) struct Uring {
    ring: IoUring,
    /// Held while a `SubmissionQueue` view exists: any thread may push.
    submissions: Mutex<()>,
    /// Events reaped by the last wait. Its lock is also the right to view
    /// the completion queue.
    events: Mutex<Vec<Readiness>>,
    /// Per key: the requests armed for it. Its lock is taken after
    /// `events`' where both are held.
    polls: Mutex<Table>,
    /// Counted up by `notify`, drained by the ring's read.
    eventfd: OwnedFd,
    /// The eventfd read's destination, written by the kernel while the read
    /// is in flight. Boxed so it does not move; freed only after the read's
    /// completion was reaped (`Drop`).
    counter: Box<AtomicU64>,
    /// The eventfd read is in flight.
    notify_armed: AtomicBool,
    /// `SEND`s in flight, live sockets' and orphans': the loop stays alive.
    sends: AtomicUsize,
    /// Requests queued or in flight whose last completion was not reaped
    /// yet, the eventfd read aside: at zero the ring can deliver nothing
    /// but a notify, and the loop sleeps on its futex (`is_idle`). Every
    /// request ends with one completion without `IORING_CQE_F_MORE` (none
    /// is pushed with `CQE_SKIP_SUCCESS`).
    in_flight: AtomicUsize,
}

/// The sources on the ring and the buffers their reads share.
#[derive(Default)]
struct Table {
    slots: Vec<PollSlot>,
    /// Keys whose `RECV` ended for want of a buffer, to arm again after the
    /// next reap.
    starved: Vec<usize>,
    /// Closed sockets whose bytes are still going out.
    orphans: Vec<Orphan>,
    /// `CONNECT`s of sockets closed while they were in flight: each keeps
    /// its address until its completion is reaped. Boxed: the kernel holds
    /// the address's place, which must not move as the vector grows.
    #[allow(clippy::vec_box)]
    abandoned: Vec<Box<Connecting>>,
    streams: Streams,
}

/// A socket's `CONNECT`: the address the kernel reads, which the driver
/// owns until the request's completion, and what it came to.
#[derive(Debug)]
struct Connecting {
    /// The request's `user_data`.
    data: u64,
    address: SocketAddrAny,
    /// The completion's result, once reaped.
    outcome: Option<i32>,
    /// The socket is leaving for another loop (`leave`): the completion
    /// arms nothing here.
    leaving: bool,
}

/// A socket closed with bytes unsent: a duplicate of its descriptor (`None`
/// if none could be made: the `SEND` in flight is its last) keeps it open
/// until they are out.
struct Orphan {
    /// The `user_data` its `SEND`s carry, the one its socket's had.
    data: u64,
    fd: Option<OwnedFd>,
    sending: Box<Sending>,
}

/// Whether stream reads come through the ring: set up by the first one.
#[derive(Default)]
enum Streams {
    #[default]
    Untried,
    On(BufferRing),
    /// The kernel lacks what they need: sockets are read directly.
    Off,
}

/// The requests of one key.
#[derive(Debug, Default)]
struct PollSlot {
    fd: RawFd,
    generation: u32,
    /// A poll for this generation is armed (or queued to be).
    armed: bool,
    /// The socket's reads come from its `RECV` (`stream_read`).
    recv: Option<Box<Received>>,
    /// The socket's writes go through its `SEND` (`stream_write`).
    sending: Option<Box<Sending>>,
    /// The listener's connections come from its `ACCEPT` (`accept`).
    accepted: Option<Box<Accepted>>,
    /// The socket is being connected by its `CONNECT`, or was and nobody
    /// asked yet how it went (`register_connecting`).
    connecting: Option<Box<Connecting>>,
    /// The generation in its `SEND`s' `user_data`, fixed when `sending` is
    /// made: a later generation (the poll replaced as reads move to the
    /// ring) must not orphan a `SEND` in flight. (The key is the slot's:
    /// 32 bits here, not the 64 of the whole `user_data`, keep a slot at
    /// 48 bytes.)
    send_generation: u32,
}

/// The slot of `key` if it holds `fd`'s live registration.
fn live_slot<'a>(
    slots: &'a mut [PollSlot],
    key: usize,
    fd: BorrowedFd<'_>,
) -> Option<&'a mut PollSlot> {
    slots.get_mut(key).filter(|slot| slot.armed && slot.fd == fd.as_raw_fd())
}

impl PollSlot {
    /// Turns the socket's writes over to the ring: a fresh buffer, whose
    /// `SEND`s carry this generation's `user_data` for as long as it lives.
    fn start_sending(&mut self) {
        self.send_generation = self.generation;
        self.sending = Some(Box::default());
    }

    /// The `user_data` of its `SEND`s.
    fn send_data(&self, key: usize) -> u64 {
        (u64::from(self.send_generation) << 32) | key as u64 | SEND
    }

    fn user_data(&self, key: usize) -> u64 {
        (u64::from(self.generation) << 32) | key as u64
    }

    /// Whether `data` is the `user_data` of this slot's live `RECV`.
    fn is_live_recv(&self, key: usize, data: u64) -> bool {
        self.armed && self.recv.is_some() && self.user_data(key) | RECV == data
    }

    /// Whether `data` is the `user_data` of this slot's live `ACCEPT`.
    fn is_live_accept(&self, key: usize, data: u64) -> bool {
        self.armed && self.accepted.is_some() && self.user_data(key) | ACCEPT == data
    }

    /// Whether `data` is the `user_data` of this slot's live `SEND`.
    fn is_live_send(&self, key: usize, data: u64) -> bool {
        self.armed && self.sending.is_some() && self.send_data(key) == data
    }
}

/// The provided buffers the `RECV`s take from: a ring of `BUFFERS` entries
/// registered with the kernel, each naming one `BUFFER_LEN` slice of
/// `memory`. The kernel takes an entry when data arrives and names the
/// buffer in the completion (`cqueue::buffer_select`); the reap copies
/// the bytes out and puts the buffer back at the tail.
struct BufferRing {
    /// `BUFFERS` entries, page-aligned as the kernel requires; the tail is
    /// the first entry's last field (`BufRingEntry::tail`).
    entries: NonNull<BufRingEntry>,
    memory: NonNull<u8>,
    /// The next tail to publish.
    tail: u16,
}

// SAFETY: the pointers are owned allocations, touched only under the
// `polls` lock (the table holds the ring) and by the kernel.
unsafe impl Send for BufferRing {}

impl BufferRing {
    fn entries_layout() -> Layout {
        Layout::from_size_align(usize::from(BUFFERS) * size_of::<BufRingEntry>(), 4096)
            .expect("a page-aligned layout of a few pages")
    }

    fn memory_layout() -> Layout {
        Layout::from_size_align(usize::from(BUFFERS) * BUFFER_LEN, 64).expect("2 MiB")
    }

    /// Allocates the buffers and registers them with `ring` as
    /// `BUFFER_GROUP`.
    fn register(ring: &IoUring) -> io::Result<BufferRing> {
        let out_of_memory = || io::Error::from(io::ErrorKind::OutOfMemory);
        // SAFETY: both layouts have a non-zero size.
        let entries = NonNull::new(unsafe { std::alloc::alloc_zeroed(Self::entries_layout()) })
            .ok_or_else(out_of_memory)?
            .cast::<BufRingEntry>();
        // Zeroed, though the kernel writes each byte before it is read:
        // tools that cannot see the kernel's writes (valgrind) see defined
        // memory, and 2 MiB of zeroes come from fresh pages, touched only
        // where data lands.
        // SAFETY: as above.
        let Some(memory) = NonNull::new(unsafe { std::alloc::alloc_zeroed(Self::memory_layout()) })
        else {
            // SAFETY: allocated just above with this layout.
            unsafe { std::alloc::dealloc(entries.as_ptr().cast(), Self::entries_layout()) };
            return Err(out_of_memory());
        };
        let mut buffers = BufferRing { entries, memory, tail: 0 };
        // SAFETY: `entries` is page-aligned, `BUFFERS` entries long, and
        // stays allocated until `Uring::drop` has unregistered it.
        let registered = unsafe {
            ring.submitter().register_buf_ring_with_flags(
                entries.as_ptr() as u64,
                BUFFERS,
                BUFFER_GROUP,
                0,
            )
        };
        if let Err(error) = registered {
            // Dropping frees both: the kernel never saw them.
            drop(buffers);
            return Err(error);
        }
        for id in 0..BUFFERS {
            buffers.give_back(id);
        }
        Ok(buffers)
    }

    /// The first `len` bytes of buffer `id`, which a completion just named.
    fn bytes(&self, id: u16, len: usize) -> &[u8] {
        let id = usize::from(id % BUFFERS);
        // SAFETY: buffer `id` lies inside `memory`; the kernel wrote its
        // first `len` (at most `BUFFER_LEN`) bytes before posting the
        // completion naming it, and writes it again only once `give_back`
        // has put it back in the ring, after this borrow ends.
        unsafe {
            std::slice::from_raw_parts(
                self.memory.as_ptr().add(id * BUFFER_LEN),
                len.min(BUFFER_LEN),
            )
        }
    }

    /// Puts buffer `id` back at the tail, for the kernel to fill again.
    fn give_back(&mut self, id: u16) {
        let id = id % BUFFERS;
        let slot = usize::from(self.tail % BUFFERS);
        // SAFETY: `slot` is inside the ring, and the kernel does not read
        // entries past the published tail, so this one is ours to write;
        // only its address, length and id are written, never the tail
        // field the first entry shares.
        let entry = unsafe { &mut *self.entries.as_ptr().add(slot) };
        // SAFETY: inside `memory`, as in `bytes`.
        entry.set_addr(unsafe { self.memory.as_ptr().add(usize::from(id) * BUFFER_LEN) } as u64);
        entry.set_len(BUFFER_LEN as u32);
        entry.set_bid(id);
        self.tail = self.tail.wrapping_add(1);
        // SAFETY: the tail is a `u16` inside the first entry, aligned, and
        // read by the kernel concurrently: stored atomically, released so
        // the entry written above is seen before it.
        unsafe {
            let tail = BufRingEntry::tail(self.entries.as_ptr()).cast_mut();
            AtomicU16::from_ptr(tail).store(self.tail, Ordering::Release);
        }
    }
}

impl Drop for BufferRing {
    fn drop(&mut self) {
        // SAFETY: allocated in `register` with these layouts; the kernel no
        // longer reads or writes them (`Uring::drop` unregistered them, or
        // leaked this instead of dropping it).
        unsafe {
            std::alloc::dealloc(self.entries.as_ptr().cast(), Self::entries_layout());
            std::alloc::dealloc(self.memory.as_ptr(), Self::memory_layout());
        }
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
        // `COOP_TASKRUN` (Linux 5.19): a completion that arrives while the
        // loop runs user code (a `RECV` fed from another core) does not
        // interrupt it with an IPI to post its entry; the loop posts it at
        // its next entry into the kernel, as a waiting loop is still woken
        // at once. Under load from another process that interruption cost
        // a third of the HTTP throughput (BENCHMARKS.md, "COOP_TASKRUN").
        // The task work runs on the thread that submitted the request: a
        // socket dropped or moved on another thread submits there (and
        // with it what the loop had queued), so those requests' entries
        // wait for that thread's next entry into the kernel, at the latest
        // its next timer tick, instead of an IPI's. Older kernels refuse
        // the flag and get a ring without it.
        let ring = IoUring::builder()
            .setup_cqsize(CQ_ENTRIES)
            .setup_coop_taskrun()
            .build(SQ_ENTRIES)
            .or_else(|error| match error.raw_os_error() {
                Some(libc::EINVAL) => IoUring::builder().setup_cqsize(CQ_ENTRIES).build(SQ_ENTRIES),
                _ => Err(error),
            })
            .map_err(unavailable)?;
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
            polls: Mutex::new(Table::default()),
            eventfd,
            counter: Box::new(AtomicU64::new(0)),
            notify_armed: AtomicBool::new(false),
            sends: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
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
                if entry.get_user_data() != NOTIFY {
                    self.in_flight.fetch_add(1, Ordering::Relaxed);
                }
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

    /// Submits what is queued, if anything is: the loop stops.
    pub(super) fn submit_queued(&self) -> io::Result<()> {
        let empty = {
            let _guard = lock(&self.submissions);
            // SAFETY: the only `SubmissionQueue` view, made and dropped
            // under `submissions` as in `push`.
            unsafe { self.ring.submission_shared() }.is_empty()
        };
        if empty { Ok(()) } else { self.submit() }
    }

    /// Submits what is queued now, without waiting.
    fn submit(&self) -> io::Result<()> {
        match self.ring.submitter().submit() {
            Ok(_) => Ok(()),
            Err(error) if is_transient(&error) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Arms a multishot poll for `slot`'s current generation: for
    /// writability alone once its reads come from a `RECV` (or, for a
    /// listener, which is never writable, its connections from an
    /// `ACCEPT`).
    fn arm(&self, slot: &PollSlot, key: usize) -> io::Result<()> {
        let on_ring = slot.recv.is_some() || slot.accepted.is_some();
        let mask = if on_ring { WRITE_MASK } else { POLL_MASK };
        let entry = opcode::PollAdd::new(Fd(slot.fd), mask)
            .multi(true)
            .build()
            .user_data(slot.user_data(key));
        // SAFETY: a poll request points at no memory of ours.
        unsafe { self.push(&entry) }
    }

    /// Arms `slot`'s multishot `RECV` if it wants one.
    fn arm_recv(&self, slot: &mut PollSlot, key: usize) -> io::Result<bool> {
        let data = slot.user_data(key) | RECV;
        let fd = slot.fd;
        let Some(received) = slot.recv.as_deref_mut().filter(|r| r.wants_recv()) else {
            return Ok(false);
        };
        let entry = opcode::RecvMulti::new(Fd(fd), BUFFER_GROUP).build().user_data(data);
        // SAFETY: the `RECV` writes only into provided buffers, which the
        // driver owns until every request has ended (`Drop`).
        unsafe { self.push(&entry) }?;
        received.armed = true;
        Ok(true)
    }

    /// Arms `slot`'s multishot `ACCEPT` if it wants one; whether it did.
    fn arm_accept(&self, slot: &mut PollSlot, key: usize) -> io::Result<bool> {
        let data = slot.user_data(key) | ACCEPT;
        let fd = slot.fd;
        let Some(accepted) = slot.accepted.as_deref_mut().filter(|a| a.wants_accept()) else {
            return Ok(false);
        };
        let entry = opcode::AcceptMulti::new(Fd(fd))
            .flags(libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK)
            .build()
            .user_data(data);
        // SAFETY: without an address to fill in, an `ACCEPT` points at no
        // memory of ours; the descriptors it makes are taken over as its
        // completions are reaped (`on_accept`).
        unsafe { self.push(&entry) }?;
        accepted.armed = true;
        Ok(true)
    }

    /// Queues the cancel of the request (a `RECV`, an `ACCEPT`) whose
    /// `user_data` is `request`.
    fn cancel(&self, request: u64) -> io::Result<()> {
        let entry = opcode::AsyncCancel::new(request).build().user_data(REMOVAL | request);
        // SAFETY: a cancel points at no memory of ours.
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
        let mut table = lock(&self.polls);
        let slot = Uring::occupy(&mut table, fd, key)?;
        // Under the lock: a removal of this key cannot slip in between.
        self.arm(slot, key)
    }

    /// Registers the unconnected stream socket `fd` under `key` and
    /// connects it to `address` with a `CONNECT`, submitted with the loop's
    /// next wait; its poll is armed once the connect ends, and its
    /// completion reports the socket writable (`connect_outcome` says how
    /// it went). A socket whose connect ends while it is leaving for
    /// another loop is checked by that loop, as one connected through the
    /// socket is.
    pub(super) fn register_connecting(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        address: &SocketAddrAny,
    ) -> io::Result<()> {
        let mut table = lock(&self.polls);
        let slot = Uring::occupy(&mut table, fd, key)?;
        let data = slot.user_data(key) | CONNECT;
        let address = address.clone();
        let connecting = slot.connecting.insert(Box::new(Connecting {
            data,
            address,
            outcome: None,
            leaving: false,
        }));
        let entry = opcode::Connect::new(
            Fd(fd.as_raw_fd()),
            connecting.address.as_ptr().cast(),
            connecting.address.addr_len(),
        )
        .build()
        .user_data(data);
        // SAFETY: the address is boxed, and the box stays in the slot, or
        // in `abandoned` once the socket is closed, until this request's
        // completion is reaped (`on_connect`; `Drop` cancels and reaps
        // first, and leaks what it could not reap).
        unsafe { self.push(&entry) }
    }

    /// Whether sockets can be connected through this ring (as stream reads
    /// can: `streams_on`).
    pub(super) fn connects_streams(&self) -> bool {
        let mut table = lock(&self.polls);
        self.streams_on(&mut table.streams)
    }

    /// How the `CONNECT` of the socket under `key` ended, once it has; the
    /// answer is given once. `None` if the ring is not connecting it (it
    /// never did, or it said how it went, or the socket left for another
    /// loop while it was in flight): the socket itself tells.
    pub(super) fn connect_outcome(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
    ) -> Option<Poll<io::Result<()>>> {
        let mut table = lock(&self.polls);
        let slot = live_slot(&mut table.slots, key, fd)?;
        let Some(result) = slot.connecting.as_ref()?.outcome else {
            return Some(Poll::Pending);
        };
        slot.connecting = None;
        Some(Poll::Ready(outcome(result)))
    }

    /// A fresh slot for `fd` under `key`, with a new generation, nothing
    /// armed yet.
    fn occupy<'a>(
        table: &'a mut Table,
        fd: BorrowedFd<'_>,
        key: usize,
    ) -> io::Result<&'a mut PollSlot> {
        if u32::try_from(key).is_err() {
            return Err(io::Error::other("jsloop: more than 2^32 sources on one io_uring"));
        }
        if table.slots.len() <= key {
            table.slots.resize_with(key + 1, PollSlot::default);
        }
        let slot = &mut table.slots[key];
        slot.fd = fd.as_raw_fd();
        slot.generation = (slot.generation + 1) % GENERATIONS;
        slot.armed = true;
        slot.recv = None;
        slot.accepted = None;
        slot.sending = None;
        slot.connecting = None;
        Ok(slot)
    }

    /// Any thread. Submitted at once: the caller closes `fd` next, and the
    /// socket stays open for as long as a poll holds it.
    /// A `RECV` still in flight is cancelled with it; its completions give
    /// their buffers back as they are reaped. So is an `ACCEPT`: the
    /// connections it queued are closed, as the kernel closes those in a
    /// closed listener's backlog.
    pub(super) fn delete(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        let mut table = lock(&self.polls);
        let Table { slots, orphans, abandoned, .. } = &mut *table;
        let Some(slot) = live_slot(slots, key, fd) else {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        };
        slot.armed = false;
        let poll = slot.user_data(key);
        // A connect in flight: the kernel may read its address until the
        // cancel's end. Kept before anything here can fail.
        if let Some(connecting) = slot.connecting.take().filter(|c| c.outcome.is_none()) {
            let data = connecting.data;
            abandoned.push(connecting);
            self.cancel(data)?;
        }
        if slot.recv.take().is_some_and(|received| received.armed) {
            self.cancel(poll | RECV)?;
        }
        if slot.accepted.take().is_some_and(|accepted| accepted.armed) {
            self.cancel(poll | ACCEPT)?;
        }
        let sending = slot.sending.take();
        if let Some(sending) = sending.filter(|sending| !sending.is_done()) {
            // Closed with bytes unsent: they still go out (and the
            // shutdown it owes), from a descriptor of the driver's own.
            let fd = rustix::io::fcntl_dupfd_cloexec(fd, 0).ok();
            let mut orphan = Orphan { data: slot.send_data(key), fd, sending };
            if let Some(fd) = orphan.fd.as_ref().map(AsRawFd::as_raw_fd) {
                self.start_send(fd, orphan.data, &mut orphan.sending)?;
            }
            if orphan.sending.is_armed() {
                orphans.push(orphan);
            }
        }
        self.remove(poll)?;
        drop(table);
        self.submit()
    }

    /// Queues the removal of the poll whose `user_data` is `poll`.
    fn remove(&self, poll: u64) -> io::Result<()> {
        let entry = opcode::PollRemove::new(poll).build().user_data(REMOVAL | poll);
        // SAFETY: a poll removal points at no memory of ours.
        unsafe { self.push(&entry) }
    }

    /// A read of the stream socket `fd` registered under `key`, from the
    /// bytes its `RECV` brought: `None` if this socket is read directly
    /// (the kernel cannot do it through the ring, or it has not moved its
    /// reads to the ring and `on_home()` says this is not its loop's
    /// thread). The first read on its home loop moves the reads to the
    /// ring; it and every read that finds nothing queued would block, and
    /// the socket is reported readable when bytes or the end arrive.
    pub(super) fn stream_read(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        buf: &mut [u8],
        on_home: impl Fn() -> bool,
    ) -> Option<io::Result<usize>> {
        let mut table = lock(&self.polls);
        let Table { slots, streams, .. } = &mut *table;
        let slot = live_slot(slots, key, fd)?;
        let queued = match slot.recv.as_deref_mut() {
            Some(received) => received.read(buf),
            None if on_home() && self.streams_on(streams) => match self.take_reads(slot, key) {
                Ok(()) => None,
                Err(error) => return Some(Err(error)),
            },
            None => return None,
        };
        // The reader made room: a paused `RECV` goes on (submitted at once
        // off the loop's thread, where the loop may be asleep).
        let armed = match self.arm_recv(slot, key) {
            Ok(armed) => armed,
            Err(error) => return Some(Err(error)),
        };
        drop(table);
        if armed && !on_home() {
            if let Err(error) = self.submit() {
                return Some(Err(error));
            }
        }
        Some(queued.unwrap_or_else(|| Err(io::ErrorKind::WouldBlock.into())))
    }

    /// A connection accepted for the listener `fd` registered under `key`,
    /// from its `ACCEPT`'s queue: `None` if this listener accepts directly
    /// (the kernel cannot do it through the ring, or it has not moved its
    /// accepts to the ring and `on_home()` says this is not its loop's
    /// thread). The first accept on its home loop moves the accepts to the
    /// ring; it and every accept that finds the queue empty would block,
    /// and the listener is reported readable when a connection or an error
    /// arrives. An error is reported once; the request it ended is armed
    /// again by the next accept after it, not at once.
    pub(super) fn accept(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        on_home: impl Fn() -> bool,
    ) -> Option<io::Result<OwnedFd>> {
        let mut table = lock(&self.polls);
        let Table { slots, streams, .. } = &mut *table;
        let slot = live_slot(slots, key, fd)?;
        let taken = match slot.accepted.as_deref_mut() {
            Some(accepted) => accepted.take(),
            None if on_home() && self.streams_on(streams) => {
                if let Err(error) = self.take_accepts(slot, key) {
                    return Some(Err(error));
                }
                None
            }
            None => return None,
        };
        // A connection taken from a full queue, or none there: the request
        // goes on (submitted at once off the loop's thread, where the loop
        // may be asleep). Not after an error: the caller backs off first.
        if taken.as_ref().is_none_or(Result::is_ok) {
            let armed = match self.arm_accept(slot, key) {
                Ok(armed) => armed,
                Err(error) => return Some(Err(error)),
            };
            drop(table);
            if armed && !on_home() {
                if let Err(error) = self.submit() {
                    return Some(Err(error));
                }
            }
        }
        Some(taken.unwrap_or_else(|| Err(io::ErrorKind::WouldBlock.into())))
    }

    /// A write of `bufs` to the stream socket `fd` registered under `key`,
    /// into its write-behind buffer: `None` if this socket is written
    /// directly (the kernel cannot do it through the ring, or its writes
    /// have not moved to the ring and `on_home()` says this is not its
    /// loop's thread). The first write on its home loop moves the writes to
    /// the ring. `WouldBlock`: the buffer is full, wait for the writable
    /// event its next completion brings.
    pub(super) fn stream_write(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        bufs: &[io::IoSlice<'_>],
        on_home: impl Fn() -> bool,
    ) -> Option<io::Result<usize>> {
        let mut table = lock(&self.polls);
        let Table { slots, streams, .. } = &mut *table;
        let slot = live_slot(slots, key, fd)?;
        if slot.sending.is_none() {
            if !on_home() || !self.streams_on(streams) {
                return None;
            }
            slot.start_sending();
        }
        let (fd, data) = (slot.fd, slot.send_data(key));
        let sending = slot.sending.as_deref_mut()?;
        let written = sending.write(bufs);
        let was_armed = sending.is_armed();
        if let Err(error) = self.start_send(fd, data, sending) {
            return Some(Err(error));
        }
        let started = !was_armed && sending.is_armed();
        drop(table);
        // Off the loop's thread the loop may be asleep: submitted now.
        if started && !on_home() {
            if let Err(error) = self.submit() {
                return Some(Err(error));
            }
        }
        Some(written)
    }

    /// Whether every byte written to the socket under `key` went out (see
    /// `Sending::flush`); `None` if its writes are not on the ring.
    pub(super) fn stream_flush(&self, fd: BorrowedFd<'_>, key: usize) -> Option<io::Result<()>> {
        let mut table = lock(&self.polls);
        let slot = live_slot(&mut table.slots, key, fd)?;
        slot.sending.as_deref_mut().map(Sending::flush)
    }

    /// Shuts the socket's write side down once its unsent bytes are out:
    /// `true` if the driver will, `false` if the caller should now (nothing
    /// is unsent, or its writes are not on the ring).
    pub(super) fn defer_shutdown(&self, fd: BorrowedFd<'_>, key: usize) -> bool {
        let mut table = lock(&self.polls);
        let slot = live_slot(&mut table.slots, key, fd);
        slot.and_then(|slot| slot.sending.as_deref_mut()).is_some_and(|s| !s.shut_down())
    }

    /// The loop's thread, as a socket arrives from another loop: the bytes
    /// it left unsent there go out first, through this ring; given back if
    /// its writes cannot come here.
    pub(super) fn adopt_unsent(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        bytes: Vec<u8>,
        shut_down: bool,
    ) -> Result<(), Vec<u8>> {
        let mut table = lock(&self.polls);
        let Table { slots, streams, .. } = &mut *table;
        let Some(slot) = live_slot(slots, key, fd) else {
            return Err(bytes);
        };
        if slot.sending.is_some() || !self.streams_on(streams) {
            return Err(bytes);
        }
        slot.start_sending();
        let (fd, data) = (slot.fd, slot.send_data(key));
        if let Some(sending) = slot.sending.as_deref_mut() {
            sending.adopt(bytes, shut_down);
            // A push that failed leaves the bytes queued: the next write
            // arms.
            let _ = self.start_send(fd, data, sending);
        }
        Ok(())
    }

    /// Whether nothing is queued or in flight but the eventfd read: no
    /// wait could reap anything else (`Poller::is_idle`).
    pub(super) fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Whether `SEND`s are in flight (the loop stays alive for them).
    pub(super) fn has_sends_in_flight(&self) -> bool {
        self.sends.load(Ordering::Relaxed) > 0
    }

    /// Arms `sending`'s next `SEND` on `fd` under `data`, if bytes wait
    /// and none is in flight.
    fn start_send(&self, fd: RawFd, data: u64, sending: &mut Sending) -> io::Result<()> {
        let Some(bytes) = sending.start() else { return Ok(()) };
        // Longer than a `u32` (never, the buffer is bounded): a partial
        // send, and the next goes on.
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        let entry = opcode::Send::new(Fd(fd), bytes.as_ptr(), len)
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(data);
        // SAFETY: the bytes are `sending`'s, which leaves them where they
        // are, unchanged, until this `SEND`'s completion is reaped
        // (`Sending::start`); the driver drops no `Sending` with a `SEND`
        // in flight (a closed socket's becomes an orphan; `leave` and
        // `Drop` cancel and reap first), and `Sending`'s own drop leaks
        // them rather than free them under the kernel.
        match unsafe { self.push(&entry) } {
            Ok(()) => {
                self.sends.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(error) => {
                sending.cancelled();
                Err(error)
            }
        }
    }

    /// Whether stream reads can come through this ring, finding out (and
    /// registering the provided buffers) the first time.
    fn streams_on(&self, streams: &mut Streams) -> bool {
        if let Streams::Untried = streams {
            *streams = match self.stream_support() {
                Ok(buffers) => Streams::On(buffers),
                Err(_) => Streams::Off,
            };
        }
        matches!(streams, Streams::On(_))
    }

    /// The provided buffers, registered, if the kernel has what stream
    /// sockets on the ring need (`kernel_has_streams`).
    fn stream_support(&self) -> io::Result<BufferRing> {
        if !self.kernel_has_streams()? {
            return Err(io::ErrorKind::Unsupported.into());
        }
        BufferRing::register(&self.ring)
    }

    /// Whether the kernel has multishot `RECV` (`IORING_RECV_MULTISHOT`),
    /// `SEND`, multishot `ACCEPT` (5.19), `CONNECT`, provided-buffer rings
    /// and synchronous cancel, which all came by Linux 6.0: what stream
    /// sockets on the ring need.
    pub(super) fn kernel_has_streams(&self) -> io::Result<bool> {
        let mut probe = Probe::new();
        self.ring.submitter().register_probe(&mut probe)?;
        let needed = [
            opcode::RecvMulti::CODE,
            opcode::Send::CODE,
            opcode::AcceptMulti::CODE,
            opcode::Connect::CODE,
        ];
        if !needed.iter().all(|&code| probe.is_supported(code)) {
            return Ok(false);
        }
        // Synchronous cancel (6.0, as multishot `RECV`): cancelling nothing
        // says `ENOENT` where it exists, `EINVAL` where it does not.
        let nothing = CancelBuilder::user_data(IGNORED);
        match self.ring.submitter().register_sync_cancel(Some(Timespec::new()), nothing) {
            Err(error) if error.raw_os_error() == Some(libc::ENOENT) => Ok(true),
            Ok(()) => Ok(true),
            Err(error) if error.raw_os_error() == Some(libc::EINVAL) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Moves `slot`'s reads to the ring: its poll is replaced by one for
    /// writability (under a new generation, so the old one's completions
    /// are dropped) and a `RECV` is armed.
    fn take_reads(&self, slot: &mut PollSlot, key: usize) -> io::Result<()> {
        self.remove(slot.user_data(key))?;
        slot.generation = (slot.generation + 1) % GENERATIONS;
        slot.recv = Some(Box::default());
        self.arm(slot, key)?;
        self.arm_recv(slot, key).map(drop)
    }

    /// Moves `slot`'s accepts to the ring, as `take_reads` its reads: a
    /// poll that cannot fire (a listener is never writable) under a new
    /// generation, and an `ACCEPT`.
    fn take_accepts(&self, slot: &mut PollSlot, key: usize) -> io::Result<()> {
        self.remove(slot.user_data(key))?;
        slot.generation = (slot.generation + 1) % GENERATIONS;
        slot.accepted = Some(Box::default());
        self.arm(slot, key)?;
        self.arm_accept(slot, key).map(drop)
    }

    /// Any thread: takes the socket under `key` off the ring before it
    /// moves to another loop, and returns what its `RECV` brought that
    /// nobody read and what its writers queued that its `SEND` did not
    /// send. Both requests are cancelled synchronously and their last
    /// completions reaped, so no byte is left behind in flight.
    pub(super) fn leave(&self, fd: BorrowedFd<'_>, key: usize) -> Departure {
        let in_flight = {
            let mut table = lock(&self.polls);
            let Some(slot) = live_slot(&mut table.slots, key, fd) else {
                return Departure::default();
            };
            let data = slot.user_data(key);
            let send_data = slot.send_data(key);
            let recv = slot.recv.as_deref_mut().and_then(|received| {
                received.leaving = true;
                received.armed.then_some(data | RECV)
            });
            let send = slot.sending.as_deref_mut().and_then(|sending| {
                sending.leave();
                sending.is_armed().then_some(send_data)
            });
            let accept = slot.accepted.as_deref_mut().and_then(|accepted| {
                accepted.leaving = true;
                accepted.armed.then_some(data | ACCEPT)
            });
            let connect = slot.connecting.as_deref_mut().and_then(|connecting| {
                connecting.leaving = true;
                connecting.outcome.is_none().then_some(connecting.data)
            });
            [recv, send, accept, connect]
        };
        if in_flight.iter().any(Option::is_some) {
            // A request still in the submission queue (its loop stopped
            // before its next wait) is not the kernel's yet: no cancel
            // would find it.
            let _ = self.submit();
            for request in in_flight.into_iter().flatten() {
                // `ENOENT`: it ended on its own, its completion is queued.
                let _ = self.ring.submitter().register_sync_cancel(
                    Some(Timespec::new().sec(1)),
                    CancelBuilder::user_data(request),
                );
            }
            // Their last completions, and with them maybe events for other
            // sockets of the loop: which it then must look at, even if
            // it sleeps in a wait these completions would have ended.
            let _ = self.reap();
            self.notify();
        }
        let mut table = lock(&self.polls);
        let Some(slot) = table.slots.get_mut(key) else { return Departure::default() };
        let received = slot.recv.as_deref_mut().map(Received::take_bytes).unwrap_or_default();
        let accepted = slot.accepted.as_deref_mut().map(Accepted::take_all).unwrap_or_default();
        // Still in flight (a cancel that timed out, never seen): what it
        // holds goes out from here, as an orphan's would.
        let (unsent, shut_down) =
            slot.sending.as_deref_mut().and_then(Sending::take_unsent).unwrap_or_default();
        let connected = slot.connecting.take().and_then(|connecting| connecting.outcome);
        Departure { received, accepted, unsent, shut_down, connected: connected.map(outcome) }
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
        let mut table = lock(&self.polls);
        let mut result = Ok(());
        // SAFETY: the only `CompletionQueue` view: made only while `events`
        // is held. Its head moves past what was read when it drops, at the
        // end of the loop.
        for completion in unsafe { self.ring.completion_shared() } {
            if completion.user_data() != NOTIFY && !cqueue::more(completion.flags()) {
                let before = self.in_flight.fetch_sub(1, Ordering::Release);
                debug_assert!(before > 0, "a completion of a request never counted");
            }
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
                    // A request that was about to complete cannot be
                    // removed then (`EALREADY`): it still holds its socket,
                    // so try again; `ENOENT` says it has ended.
                    if completion.result() == -libc::EALREADY {
                        match data & !REMOVAL {
                            request if request & (RECV | ACCEPT | CONNECT) != 0 => {
                                self.cancel(request)?
                            }
                            poll => self.remove(poll)?,
                        }
                    }
                }
                data if data & RECV != 0 => {
                    self.on_recv(&mut table, &mut events, data, &completion)?;
                }
                data if data & SEND != 0 => {
                    self.on_send(&mut table, &mut events, data, completion.result())?;
                }
                data if data & ACCEPT != 0 => {
                    let more = cqueue::more(completion.flags());
                    self.on_accept(&mut table, &mut events, data, completion.result(), more)?;
                }
                data if data & CONNECT != 0 => {
                    self.on_connect(&mut table, &mut events, &completion)?;
                }
                data => {
                    let key = (data & u64::from(u32::MAX)) as usize;
                    let Some(slot) = table.slots.get(key) else { continue };
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
        // This reap gave buffers back: the sockets that found none try
        // again.
        for key in std::mem::take(&mut table.starved) {
            if let Some(slot) = table.slots.get_mut(key) {
                if let Some(received) = slot.recv.as_deref_mut() {
                    received.starved = false;
                }
                self.arm_recv(slot, key)?;
            }
        }
        result
    }

    /// One completion of a `RECV`: its bytes are copied into the socket's
    /// queue and its buffer given back at once, live or stale.
    fn on_recv(
        &self,
        table: &mut Table,
        events: &mut Vec<Readiness>,
        data: u64,
        completion: &cqueue::Entry,
    ) -> io::Result<()> {
        let Table { slots, starved, streams, .. } = table;
        let Streams::On(buffers) = streams else { return Ok(()) };
        let key = (data & u64::from(u32::MAX)) as usize;
        let result = completion.result();
        // Live or stale (a deleted socket's last words, an old
        // generation's), the buffer goes back at once.
        let mut live = slots.get_mut(key).filter(|slot| slot.is_live_recv(key, data));
        if let Some(id) = cqueue::buffer_select(completion.flags()) {
            if let Some(received) = live.as_mut().and_then(|slot| slot.recv.as_deref_mut()) {
                received.push(buffers.bytes(id, usize::try_from(result).unwrap_or(0)));
            }
            buffers.give_back(id);
        }
        let Some(slot) = live else { return Ok(()) };
        let Some(received) = slot.recv.as_deref_mut() else { return Ok(()) };
        let more = cqueue::more(completion.flags());
        if !more {
            received.armed = false;
            received.cancelling = false;
        }
        let readable = if result >= 0 {
            // Bytes, or EOF (a zero-length completion ends the `RECV`).
            if result == 0 {
                received.end(0);
            }
            true
        } else {
            match -result {
                // Paused, leaving, or deleted: only this `RECV` ends.
                libc::ECANCELED => false,
                libc::ENOBUFS => {
                    received.starved = true;
                    starved.push(key);
                    false
                }
                _ if is_transient_code(result) => false,
                code => {
                    received.end(code);
                    true
                }
            }
        };
        if received.is_full() && received.armed && !received.cancelling {
            received.cancelling = true;
            self.cancel(data)?;
        }
        if readable {
            events.push(readable_event(key, received.has_ended()));
        }
        self.arm_recv(slot, key).map(drop)
    }

    /// One completion of an `ACCEPT`: its connection is queued, live, or
    /// closed, stale (its listener was closed, as the kernel closes a
    /// closed listener's backlog); an error is queued to be reported.
    fn on_accept(
        &self,
        table: &mut Table,
        events: &mut Vec<Readiness>,
        data: u64,
        result: i32,
        more: bool,
    ) -> io::Result<()> {
        let key = (data & u64::from(u32::MAX)) as usize;
        // SAFETY: a non-negative result of an `ACCEPT` is a descriptor the
        // kernel made for this completion: nothing else owns it.
        let connection = (result >= 0).then(|| unsafe { OwnedFd::from_raw_fd(result) });
        let Some(slot) = table.slots.get_mut(key).filter(|slot| slot.is_live_accept(key, data))
        else {
            return Ok(());
        };
        let Some(accepted) = slot.accepted.as_deref_mut() else { return Ok(()) };
        if !more {
            accepted.armed = false;
            accepted.cancelling = false;
        }
        let arrived = match connection {
            Some(connection) => {
                accepted.push(connection);
                true
            }
            // Paused or leaving: only this `ACCEPT` ends.
            None if -result == libc::ECANCELED => false,
            None => {
                accepted.fail(-result);
                true
            }
        };
        if accepted.is_full() && accepted.armed && !accepted.cancelling {
            accepted.cancelling = true;
            self.cancel(data)?;
        }
        if arrived {
            events.push(readable_event(key, false));
        }
        // A request that ended with room in the queue goes on at once: a
        // pause whose reader emptied the queue before its cancel was reaped
        // (the reader now waits for this listener), or one the kernel ended.
        // Not after an error (`wants_accept`), nor for a listener leaving.
        self.arm_accept(slot, key).map(drop)
    }

    /// The completion of a `CONNECT`: a live socket's outcome is kept for
    /// `connect_outcome`, the socket reported writable and its poll armed;
    /// a closed socket's address is freed.
    fn on_connect(
        &self,
        table: &mut Table,
        events: &mut Vec<Readiness>,
        completion: &cqueue::Entry,
    ) -> io::Result<()> {
        let (data, result) = (completion.user_data(), completion.result());
        let key = (data & u64::from(u32::MAX)) as usize;
        let live = table.slots.get_mut(key).filter(|slot| {
            slot.armed && slot.connecting.as_ref().is_some_and(|connecting| connecting.data == data)
        });
        let Some(slot) = live else {
            table.abandoned.retain(|connecting| connecting.data != data);
            return Ok(());
        };
        let Some(connecting) = slot.connecting.as_deref_mut() else { return Ok(()) };
        if connecting.leaving {
            // Cancelled: the socket, still connecting in the kernel, tells
            // its new loop how it went. Ended just before: the outcome
            // goes along (`leave`), for the request read the socket's
            // error, which the kernel then cleared. No poll is armed on
            // this ring, whose removal of it might find it firing
            // (`EALREADY`) with no reap left here to try again.
            if -result == libc::ECANCELED {
                slot.connecting = None;
            } else {
                connecting.outcome = Some(result);
            }
            return Ok(());
        }
        connecting.outcome = Some(result);
        events.push(writable_event(key));
        // From here on it is watched as a socket registered connected is.
        self.arm(slot, key)
    }

    /// One completion of a `SEND`, a live socket's or an orphan's: the
    /// next is armed, a waiting writer hears that the socket is writable,
    /// and a finished orphan closes its descriptor.
    fn on_send(
        &self,
        table: &mut Table,
        events: &mut Vec<Readiness>,
        data: u64,
        result: i32,
    ) -> io::Result<()> {
        self.sends.fetch_sub(1, Ordering::Relaxed);
        let key = (data & u64::from(u32::MAX)) as usize;
        if let Some(slot) = table.slots.get_mut(key).filter(|slot| slot.is_live_send(key, data)) {
            let fd = slot.fd;
            let Some(sending) = slot.sending.as_deref_mut() else { return Ok(()) };
            if self.sent(sending, Some(fd), data, result)? {
                events.push(writable_event(key));
            }
            return Ok(());
        }
        let Some(index) = table.orphans.iter().position(|orphan| orphan.data == data) else {
            return Ok(());
        };
        let orphan = &mut table.orphans[index];
        let fd = orphan.fd.as_ref().map(AsRawFd::as_raw_fd);
        self.sent(&mut orphan.sending, fd, data, result)?;
        if !orphan.sending.is_armed() {
            // Done, failed, cancelled, or without a descriptor to go on.
            table.orphans.swap_remove(index);
        }
        Ok(())
    }

    /// Applies a `SEND`'s completion to `sending` and arms the next (on
    /// `fd`, if there is one); does a shutdown that waited for the bytes.
    /// Returns whether a writer waits to hear of it.
    fn sent(
        &self,
        sending: &mut Sending,
        fd: Option<RawFd>,
        data: u64,
        result: i32,
    ) -> io::Result<bool> {
        let go_on = match result {
            // Nothing taken of a non-empty buffer: no stream socket says
            // that and can go on; sending again would spin.
            0 => {
                sending.failed(libc::EPIPE);
                false
            }
            taken if taken > 0 => {
                sending.sent(taken.unsigned_abs() as usize);
                true
            }
            // Cancelled: the socket leaves the ring, or the ring goes.
            _ if -result == libc::ECANCELED => {
                sending.cancelled();
                false
            }
            _ if is_transient_code(result) => {
                sending.cancelled();
                true
            }
            _ => {
                sending.failed(-result);
                false
            }
        };
        if let Some(fd) = fd {
            if go_on {
                self.start_send(fd, data, sending)?;
            }
            if sending.take_due_shutdown() {
                // SAFETY: `fd` is open: a live socket's owner closes it only
                // after `delete`, which takes its `Sending` out under the
                // lock held here; an orphan's is the orphan's own.
                let fd = unsafe { BorrowedFd::borrow_raw(fd) };
                // The peer may be gone already: nothing left to tell it.
                let _ = rustix::net::shutdown(fd, rustix::net::Shutdown::Write);
            }
        }
        Ok(std::mem::take(&mut sending.waiting))
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

/// What a `CONNECT`'s result says.
fn outcome(result: i32) -> io::Result<()> {
    if result < 0 { Err(io::Error::from_raw_os_error(-result)) } else { Ok(()) }
}

/// A completion's news that the source under `key` is readable (a
/// `RECV`'s bytes or end, an `ACCEPT`'s connection or error), and whether
/// the peer will send nothing more.
fn readable_event(key: usize, read_closed: bool) -> Readiness {
    Readiness { key, readable: true, writable: false, read_closed, hangup_known: true }
}

/// A completion's news that the source under `key` is writable (a `SEND`
/// made room, a `CONNECT` ended).
fn writable_event(key: usize) -> Readiness {
    Readiness { key, readable: false, writable: true, read_closed: false, hangup_known: true }
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
        // Closed sockets' bytes still going out get a while to (every
        // socket is closed by now: each holds the loop's shared half, and
        // with it this driver).
        let deadline = Instant::now() + LINGER;
        let timespec = Timespec::new().nsec(50_000_000);
        while self.has_sends_in_flight() && Instant::now() < deadline {
            let _ =
                self.ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&timespec));
            let _ = self.reap();
        }
        // A `RECV` in flight may still write a provided buffer, a `SEND`
        // read its bytes: cancel every request, synchronously, and reap
        // (which frees the `SEND`s' bytes), before the buffers are
        // unregistered and freed.
        let table = self.polls.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Streams::On(buffers) = std::mem::take(&mut table.streams) {
            let cancelled = match self
                .ring
                .submitter()
                .register_sync_cancel(Some(Timespec::new().sec(5)), CancelBuilder::any())
            {
                Ok(()) => true,
                Err(error) => error.raw_os_error() == Some(libc::ENOENT),
            };
            let _ = self.reap();
            if cancelled && self.ring.submitter().unregister_buf_ring(BUFFER_GROUP).is_ok() {
                drop(buffers);
            } else {
                // Never seen here; leaked rather than written after free.
                std::mem::forget(buffers);
            }
        }
        // A `CONNECT` whose completion never came (never seen here) may
        // still read its address: leaked rather than freed under it.
        let table = self.polls.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        table.abandoned.drain(..).for_each(std::mem::forget);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_six_words() {
        // One per registered source, idle connections included (the
        // idle-connection memory in BENCHMARKS.md): the generation and
        // flags share a word, each role on the ring is one boxed pointer.
        assert_eq!(size_of::<PollSlot>(), 48);
    }
}
