//! Poll phase, loop side: a socket registered with the poller, its
//! readiness, and the tasks waiting for it.
//!
//! Each direction (read, write) keeps two marks. *Ready*: a readiness event
//! came that no waiter has taken yet. *Drained*: an operation hit
//! `WouldBlock` (or a short transfer proved the buffer empty) since the last
//! event, so trying again before the next event would be a wasted syscall.
//! Operations are tried unless drained; a task waits for *ready*; the event
//! that sets it wakes every waiter through the microtask ring, and the poll
//! phase runs a checkpoint after each event, as Node runs one after each
//! I/O callback.
//!
//! The marks are atomic (`io::marks`): operations read them without a
//! lock, and an event that lands between a `WouldBlock` and its mark is
//! kept. The waiters sit behind the source's mutex, which an event holds
//! while it sets *ready* and takes them, and a waiter holds while it checks
//! *ready* and registers: so no wake falls between the two.
//!
//! A direction with a waiter keeps the loop alive (a ref'd handle, in
//! libuv's words) unless its source was `unref`'d. Dropping a waiting future
//! takes its waker out, so nothing stale is woken later.
//!
//! **Sockets move.** A source is `Send + Sync`: its state sits behind a
//! mutex, and it names its *home*, the loop whose poller it is registered
//! with, by that loop's shared half and the key it has there. Readiness
//! follows the loop that waits: when a task on another loop finds the
//! socket not ready, the socket is registered with that loop's poller
//! under a new key and deleted from the old one, which frees the old key
//! at its next poll phase (events already taken for it are recognised as
//! stale and ignored). Waiters of the old loop stay and are woken from the
//! new one, like any cross-thread wake. A wait from a thread running no
//! loop (another executor) leaves the socket where it is: its home's poll
//! phase delivers the event, so that loop must be running. When a runtime
//! is dropped, every waiter of its sockets is woken: polled again on a
//! loop, the socket moves there; polled anywhere else, it reports that its
//! runtime is gone.
//!
//! **Stream reads and writes the driver makes.** On io_uring the driver
//! receives a stream socket's bytes itself once its reads moved to the ring
//! (see `reactor::uring`): [`Source::stream_read`] takes them from there,
//! and a readable event says more came. Once its writes moved there too,
//! [`Source::stream_write`] hands the bytes to the driver's write-behind
//! buffer, [`Source::stream_flush`] waits until they are out, and a
//! writable event says there is room. A socket that moves to another loop
//! takes along the bytes its old loop's ring received and nobody read, and
//! reads them first, and the bytes it did not send yet, which go out first:
//! through the new loop's ring, or written here ahead of anything else.
//! Likewise a listener's accepts, once they moved to the ring:
//! [`Source::accept`] takes the connections the driver accepted, and a
//! listener that moves takes those nobody took along, to be taken first.
//!
//! Some readiness the poller cannot report: that a retry may now succeed
//! because a descriptor was freed (a listener out of descriptors) or a
//! backoff ran out. [`Source::make_ready`] marks it by hand, as an event
//! would, and [`Source::make_ready_on_next_close`] has the next close of a
//! descriptor registered with the same loop (an `Async` dropped) do so.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
#[cfg(not(any(miri, jsloop_loom)))]
use std::os::fd::AsFd;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use super::marks::{Marks, Seen};
use crate::context;
#[cfg(not(any(miri, jsloop_loom)))]
use crate::event_loop::Core;
use crate::listeners::{ListenerKey, Listeners};
use crate::reactor::{IoDriver, Readiness};
use crate::remote::Shared;

/// Index of the read direction.
pub(crate) const READ: usize = 0;
/// Index of the write direction.
pub(crate) const WRITE: usize = 1;

/// The message of an operation on a socket whose runtime is gone.
const RUNTIME_GONE: &str = "the jsloop runtime this socket was registered with is gone";

/// A stream read into a buffer smaller than this goes through the thread's
/// read-ahead buffer (see [`Source::read_socket`]). Larger buffers, such as
/// the 8 KiB of `BufReader`s and hyper, read the socket directly: they
/// rarely fill up, and a bulk transfer would copy half its bytes twice.
const SMALL_READ: usize = 4 * 1024;

/// What a read through the read-ahead buffer asks the kernel for.
const READ_AHEAD: usize = 16 * 1024;

thread_local! {
    /// The read-ahead buffer of the thread's stream reads, allocated by the
    /// first one that needs it.
    static READ_AHEAD_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// What a read or write moved, and whether that proved the direction
/// drained: fewer bytes than the kernel was asked for (see
/// [`Source::short_transfer`]).
pub(crate) struct Transfer {
    pub(crate) n: usize,
    pub(crate) short: bool,
}

impl Transfer {
    /// `n` bytes of the `len` the kernel was asked for.
    #[inline]
    pub(crate) fn asked(n: usize, len: usize) -> Transfer {
        Transfer { n, short: 0 < n && n < len }
    }

    /// `n` bytes moved in user space, or by an operation that says nothing
    /// about what is left.
    #[inline]
    pub(crate) fn proving_nothing(n: usize) -> Transfer {
        Transfer { n, short: false }
    }
}

/// A socket registered with a loop's poller.
pub(crate) struct Source {
    /// The descriptor watched, to name the socket in task dumps and to
    /// move it to another poller (`Async` owns it).
    fd: RawFd,
    /// Registered edge-triggered (else oneshot).
    edge: bool,
    /// Each direction's readiness marks.
    marks: [Marks; 2],
    /// The peer said it will send nothing more (Linux reports it).
    read_closed: AtomicBool,
    /// The last event could not say whether the peer hung up.
    hangup_unknown: AtomicBool,
    /// Stream reads and writes look at the state first (`stream_read`,
    /// `stream_write`): its home's driver may read and write for it, or it
    /// carries something (from its last loop, or bytes read ahead).
    driver_streams: AtomicBool,
    state: Mutex<SourceState>,
}

struct SourceState {
    home: Home,
    directions: [Direction; 2],
    /// Waiting on this source keeps its home loop alive.
    refd: bool,
    /// What it brought from its last loop or read ahead and has not used
    /// up: boxed, and `None` almost always (a socket that never moved and
    /// whose reader's buffer took what came, or one that has caught up).
    carried: Option<Box<Carried>>,
}

/// What a source brought from its last loop's driver, or read ahead of its
/// reader.
#[derive(Default)]
struct Carried {
    /// Bytes received that nobody read (from the last loop's driver, or
    /// past a small read's buffer): the next reads get them first.
    received: VecDeque<u8>,
    /// The read ahead that left `received` here found the socket drained,
    /// with the marks as `Seen` before it: once they are read, the next
    /// read waits for an event, unless one came since.
    drained_behind: Option<Seen>,
    /// Bytes not sent, where this home's driver would not take them:
    /// written before anything else.
    unsent: Vec<u8>,
    /// The write side is shut down once `unsent` is out.
    shut_down: bool,
    /// Connections accepted for this listener that nobody took: the next
    /// accepts get them first.
    accepts: VecDeque<OwnedFd>,
    /// How the last loop's driver's connect of this socket ended, where
    /// it did as the socket left (`connect_outcome` tells it).
    connected: Option<io::Result<()>>,
}

impl Carried {
    fn is_empty(&self) -> bool {
        self.received.is_empty()
            && self.unsent.is_empty()
            && !self.shut_down
            && self.accepts.is_empty()
            && self.connected.is_none()
    }
}

/// The loop a source is registered with, and its key there.
struct Home {
    shared: Arc<Shared>,
    key: usize,
}

#[derive(Default)]
struct Direction {
    /// Futures waiting for `READY` (`readable()`, `read_with`, ...).
    waiters: Listeners<Waker>,
    /// The waker of the `poll_readable` / `poll_read` style callers, which
    /// have nowhere to keep a key.
    poller: Option<Waker>,
}

impl Direction {
    fn has_waiters(&self) -> bool {
        self.poller.is_some() || !self.waiters.is_empty()
    }

    /// Takes every waiter out (to wake them once the lock is released).
    fn take_waiters(&mut self, into: &mut Woken) {
        // Most sockets only ever have the poll-style waiter: skip the list
        // then (holes left in it stay bounded by its sweeping).
        if !self.waiters.is_empty() {
            for waker in self.waiters.take_all() {
                into.push(waker);
            }
        }
        if let Some(waker) = self.poller.take() {
            into.push(waker);
        }
    }
}

/// The wakers an event takes out, to wake once the source's lock is
/// released. An event usually wakes one task per direction: those fit
/// inline, so an event allocates nothing (a `Vec` here was a malloc and a
/// free per readiness event).
#[derive(Default)]
struct Woken {
    inline: [Option<Waker>; 2],
    more: Vec<Waker>,
}

impl Woken {
    fn push(&mut self, waker: Waker) {
        match self.inline.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(waker),
            None => self.more.push(waker),
        }
    }

    fn wake_all(self) {
        let [first, second] = self.inline;
        if let Some(waker) = first {
            waker.wake();
        }
        if let Some(waker) = second {
            waker.wake();
        }
        if !self.more.is_empty() {
            for waker in self.more {
                waker.wake();
            }
        }
    }
}

impl SourceState {
    /// How many directions have a waiter: what this source adds to its
    /// home's liveness count while ref'd.
    fn waiting_directions(&self) -> usize {
        self.directions.iter().filter(|d| d.has_waiters()).count()
    }
}

/// The part of a loop's I/O state that any thread may touch, in the loop's
/// shared half: sockets move, and are dropped, on other threads.
#[derive(Default)]
pub(crate) struct SharedIo {
    /// Directions of ref'd sources with at least one waiter.
    waiting: AtomicUsize,
    /// Keys given up by sources dropped or moved away, for the loop to free
    /// at its next poll phase; `has_released` says the list is not empty
    /// without taking its lock.
    released: Mutex<Vec<usize>>,
    has_released: AtomicBool,
    /// Directions to mark ready when a descriptor of this loop is next
    /// closed.
    ready_on_close: Mutex<Vec<(Weak<Source>, usize)>>,
    /// The runtime was dropped: its poll phase will never run again.
    gone: AtomicBool,
}

impl SharedIo {
    /// Whether some task waits on a ref'd source (the loop stays alive).
    pub(crate) fn has_refs(&self) -> bool {
        self.waiting.load(Ordering::Acquire) != 0
    }

    fn count_waiting(&self, n: usize) {
        self.waiting.fetch_add(n, Ordering::AcqRel);
    }

    /// `n` directions stopped waiting. If that was the last wait and this
    /// thread is not running the loop, the loop may sleep in its poller
    /// waiting for exactly this: wake it to re-check whether it is alive.
    fn uncount_waiting(&self, n: usize, shared: &Shared) {
        if n != 0
            && self.waiting.fetch_sub(n, Ordering::AcqRel) == n
            && context::with_core_of(shared.id, |_| ()).is_none()
        {
            shared.poller.notify();
        }
    }

    fn release_key(&self, key: usize) {
        lock(&self.released).push(key);
        self.has_released.store(true, Ordering::Release);
    }
}

impl std::fmt::Debug for SharedIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedIo").field("waiting", &self.waiting).finish_non_exhaustive()
    }
}

/// Locks a source's state or list, ignoring poisoning: each update leaves
/// it consistent before anything that could panic (a waker) runs.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The loop's table of the sources registered with its poller (loop
/// thread only).
#[derive(Default)]
pub(crate) struct IoSources {
    slots: RefCell<Vec<Option<Weak<Source>>>>,
    free: RefCell<Vec<usize>>,
    /// Keys freed since the last batch of events was dispatched: reused
    /// only after it, so that an event for a closed socket never reaches a
    /// new one under the same key.
    freed: RefCell<Vec<usize>>,
    /// Events taken from the poller, being dispatched (buffer reused).
    events: RefCell<Vec<Readiness>>,
    /// The first of `events` not dispatched yet: a panic escaping a
    /// callback leaves the rest for the next poll phase, so no readiness
    /// edge is lost.
    next_event: Cell<usize>,
}

impl IoSources {
    #[cfg(not(any(miri, jsloop_loom)))]
    fn reserve(&self) -> usize {
        if let Some(key) = self.free.borrow_mut().pop() {
            return key;
        }
        let mut slots = self.slots.borrow_mut();
        slots.push(None);
        slots.len() - 1
    }

    fn release(&self, key: usize) {
        self.slots.borrow_mut()[key] = None;
        self.freed.borrow_mut().push(key);
    }

    fn get(&self, key: usize) -> Option<Arc<Source>> {
        self.slots.borrow().get(key)?.as_ref()?.upgrade()
    }

    /// Shows a task dump every waiter of every open socket: its
    /// descriptor, direction ([`READ`] / [`WRITE`]) and waker. Sources
    /// being changed right now (a foreign waker's `clone` can run inside
    /// `poll_ready`, or another thread holds the lock) are skipped, never
    /// waited for.
    pub(crate) fn visit_waiters(&self, mut visit: impl FnMut(RawFd, usize, &Waker)) {
        // Upgraded first and inspected after the table's borrow ends.
        let sources: Vec<Arc<Source>> = match self.slots.try_borrow() {
            Ok(slots) => slots.iter().flatten().filter_map(Weak::upgrade).collect(),
            Err(_) => return,
        };
        for source in &sources {
            let Ok(state) = source.state.try_lock() else { continue };
            for (direction, entry) in state.directions.iter().enumerate() {
                for waker in entry.waiters.iter().chain(&entry.poller) {
                    visit(source.fd, direction, waker);
                }
            }
        }
    }

    /// Takes the I/O events of the last poller wait; the poll phase then
    /// dispatches them one at a time. Keys that sources gave up since the
    /// last batch are freed first.
    pub(crate) fn take_events(&self, shared: &Shared) {
        // Loaded first: a swap is a locked instruction every loop turn.
        let has_released = &shared.io.has_released;
        if has_released.load(Ordering::Relaxed) && has_released.swap(false, Ordering::AcqRel) {
            let released = std::mem::take(&mut *lock(&shared.io.released));
            for key in released {
                self.release(key);
            }
        }
        shared.poller.take_events(&mut self.events.borrow_mut());
    }

    /// The next event taken from the poller and not yet dispatched. At the
    /// end of the batch the buffer empties, and the keys freed meanwhile
    /// can be reused.
    pub(crate) fn next_event(&self) -> Option<Readiness> {
        let next = self.next_event.get();
        let mut events = self.events.borrow_mut();
        if let Some(&event) = events.get(next) {
            self.next_event.set(next + 1);
            return Some(event);
        }
        if next != 0 {
            events.clear();
            self.next_event.set(0);
        }
        let mut freed = self.freed.borrow_mut();
        if !freed.is_empty() {
            self.free.borrow_mut().append(&mut freed);
        }
        None
    }

    /// Events a panic left undispatched: the next poll phase must not sleep.
    pub(crate) fn has_undispatched(&self) -> bool {
        self.next_event.get() < self.events.borrow().len()
    }

    /// Marks a source ready and wakes its waiters: an I/O callback of the
    /// loop whose shared half is `here`.
    pub(crate) fn dispatch(&self, event: Readiness, here: &Arc<Shared>) {
        if let Some(source) = self.get(event.key) {
            source.on_event(event, here);
        }
    }

    /// The runtime is being dropped: no poll phase will deliver events to
    /// its sources any more. Their waiters are woken, to move to a loop
    /// that runs or to learn that the runtime is gone.
    pub(crate) fn shut_down(&self, shared: &Shared) {
        shared.io.gone.store(true, Ordering::Release);
        let sources: Vec<Arc<Source>> =
            self.slots.borrow().iter().flatten().filter_map(Weak::upgrade).collect();
        for source in sources {
            source.wake_all();
        }
    }
}

impl Source {
    /// Registers `fd` with the current runtime's poller.
    ///
    /// The caller must deregister (`Source::deregister`) before `fd` is
    /// closed; `Async` does, in its `Drop` and `into_inner`.
    #[cfg(not(any(miri, jsloop_loom)))]
    pub(crate) fn register(fd: BorrowedFd<'_>) -> io::Result<Arc<Source>> {
        Source::register_with(fd, |poller, key| poller.register(fd, key))
    }

    /// Registers `fd`, an unconnected stream socket, with the current
    /// runtime's poller, whose driver connects it to `address`: `None`,
    /// nothing registered, where the driver does not connect sockets.
    /// The caller waits for writability, then asks `connect_outcome`.
    #[cfg(not(any(miri, jsloop_loom)))]
    pub(crate) fn register_connecting(
        fd: BorrowedFd<'_>,
        address: &rustix::net::SocketAddrAny,
    ) -> io::Result<Option<Arc<Source>>> {
        if !context::with_current(|core| core.shared.poller.connects_streams()) {
            return Ok(None);
        }
        Source::register_with(fd, |poller, key| poller.register_connecting(fd, key, address))
            .map(Some)
    }

    /// Without a real poller (Miri, loom) no driver connects.
    #[cfg(any(miri, jsloop_loom))]
    pub(crate) fn register_connecting(
        _fd: BorrowedFd<'_>,
        _address: &rustix::net::SocketAddrAny,
    ) -> io::Result<Option<Arc<Source>>> {
        Ok(None)
    }

    /// How the home driver's connect of this socket ended (`Pending` while
    /// it goes on), told once; `None` where the driver is not connecting
    /// it (never was, told already, or the socket moved to another loop
    /// meanwhile): the socket itself tells.
    pub(crate) fn connect_outcome(&self, fd: BorrowedFd<'_>) -> Option<Poll<io::Result<()>>> {
        let mut state = self.state();
        if let Some(connected) = state.carried.as_deref_mut().and_then(|c| c.connected.take()) {
            self.update_driver_streams(&mut state);
            return Some(Poll::Ready(connected));
        }
        #[cfg(not(any(miri, jsloop_loom)))]
        {
            state.home.shared.poller.connect_outcome(fd, state.home.key)
        }
        #[cfg(any(miri, jsloop_loom))]
        {
            let _ = fd;
            None
        }
    }

    /// Registers `fd` with the current runtime's poller by `add`, under a
    /// key of its own.
    #[cfg(not(any(miri, jsloop_loom)))]
    fn register_with(
        fd: BorrowedFd<'_>,
        add: impl FnOnce(&crate::reactor::Poller, usize) -> io::Result<()>,
    ) -> io::Result<Arc<Source>> {
        context::with_current(|core| {
            let key = core.io.reserve();
            let poller = &core.shared.poller;
            let edge = poller.is_edge_triggered();
            if let Err(error) = add(poller, key) {
                core.io.release(key);
                return Err(error);
            }
            let source = Arc::new(Source {
                fd: std::os::fd::AsRawFd::as_raw_fd(&fd),
                edge,
                // Until an operation says otherwise, assume it may be ready.
                marks: [Marks::new(), Marks::new()],
                read_closed: AtomicBool::new(false),
                hangup_unknown: AtomicBool::new(!cfg!(target_os = "linux")),
                driver_streams: AtomicBool::new(false),
                state: Mutex::new(SourceState {
                    home: Home { shared: core.shared.clone(), key },
                    directions: Default::default(),
                    refd: true,
                    carried: None,
                }),
            });
            source.update_driver_streams(&mut source.state());
            core.io.slots.borrow_mut()[key] = Some(Arc::downgrade(&source));
            Ok(source)
        })
    }

    /// Without a real poller (Miri, loom) there is no I/O.
    #[cfg(any(miri, jsloop_loom))]
    pub(crate) fn register(_fd: BorrowedFd<'_>) -> io::Result<Arc<Source>> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "no I/O under Miri or loom"))
    }

    fn state(&self) -> MutexGuard<'_, SourceState> {
        lock(&self.state)
    }

    /// Removes `fd` from its home's poller (before it is closed or handed
    /// back).
    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>) {
        #[cfg(not(any(miri, jsloop_loom)))]
        {
            let mut state = self.state();
            // Bytes carried from its last loop that no write sent since:
            // one last try, as the socket closes (`shutdown` says so).
            let _ = self.send_unsent(&mut state, fd);
            // It can only fail if it was never added (or already closed).
            let _ = state.home.shared.poller.delete(fd.as_fd(), state.home.key);
        }
        #[cfg(any(miri, jsloop_loom))]
        let _ = fd;
    }

    /// A read of this stream socket from bytes already in user space: those
    /// it carried from its last loop or read ahead, then those its home's
    /// driver received. `None`: read the socket itself.
    #[inline]
    pub(crate) fn stream_read(
        &self,
        fd: BorrowedFd<'_>,
        buf: &mut [u8],
    ) -> Option<io::Result<Transfer>> {
        // Inlined: on epoll every read passes here, and only this load.
        if !self.driver_streams.load(Ordering::Acquire) {
            return None;
        }
        self.read_from_user_space(fd, buf)
    }

    /// `stream_read` where the bytes may be in user space.
    fn read_from_user_space(
        &self,
        fd: BorrowedFd<'_>,
        buf: &mut [u8],
    ) -> Option<io::Result<Transfer>> {
        let mut state = self.state();
        if let Some(read) = self.read_carried(&mut state, buf) {
            return Some(read);
        }
        #[cfg(not(any(miri, jsloop_loom)))]
        {
            let home = &state.home;
            let on_home = || context::with_core_of(home.shared.id, |_| ()).is_some();
            let read = home.shared.poller.stream_read(fd, home.key, buf, on_home)?;
            // The driver's own queue: an event announces what comes next.
            Some(read.map(|n| Transfer::asked(n, buf.len())))
        }
        #[cfg(any(miri, jsloop_loom))]
        {
            let _ = fd;
            None
        }
    }

    /// A read from the bytes carried or read ahead, if there are any. Taking
    /// them says nothing of the socket, unless they were read ahead of a
    /// drained one and are now used up (`Carried::drained_behind`).
    fn read_carried(
        &self,
        state: &mut SourceState,
        buf: &mut [u8],
    ) -> Option<io::Result<Transfer>> {
        let carried = state.carried.as_deref_mut().filter(|c| !c.received.is_empty())?;
        let read = io::Read::read(&mut carried.received, buf);
        if carried.received.is_empty() {
            if let Some(seen) = carried.drained_behind.take() {
                self.short_transfer(READ, seen);
            }
        }
        self.update_driver_streams(state);
        Some(read.map(Transfer::proving_nothing))
    }

    /// A read of the stream socket itself, once `stream_read` found nothing
    /// in user space. A buffer smaller than [`SMALL_READ`] reads through
    /// the thread's 16 KiB read-ahead buffer, as libuv reads a stream into
    /// 64 KiB: asking the kernel for more than the caller's buffer holds
    /// lets a short read prove the socket drained even when the caller's
    /// buffer fills, so the caller's next read waits for an event instead
    /// of making a syscall that only says `WouldBlock` (a 64-byte echo
    /// read into 64 bytes made two reads per message, now one). What the
    /// caller's buffer cannot take waits in `carried` for its next reads.
    pub(crate) fn read_socket(&self, fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Transfer> {
        // Under the lock: no other read of this socket gets past bytes
        // read ahead here before they are in `carried`. So `carried` is
        // looked at again here: `stream_read`'s lock-free flag may have
        // said "nothing" just before another thread kept bytes back.
        let mut state = self.state();
        if let Some(read) = self.read_carried(&mut state, buf) {
            return read;
        }
        let read_directly = |buf: &mut [u8]| -> io::Result<Transfer> {
            let n = rustix::io::read(fd, &mut *buf)?;
            Ok(Transfer::asked(n, buf.len()))
        };
        if buf.is_empty() || buf.len() >= SMALL_READ {
            return read_directly(buf);
        }
        let seen = self.may_be_ready(READ);
        let read_ahead = READ_AHEAD_BUFFER.try_with(|ahead| -> io::Result<Transfer> {
            let mut ahead = ahead.borrow_mut();
            if ahead.is_empty() {
                ahead.resize(READ_AHEAD, 0);
            }
            let n = rustix::io::read(fd, &mut ahead[..])?;
            let taken = n.min(buf.len());
            buf[..taken].copy_from_slice(&ahead[..taken]);
            let read = Transfer::asked(n, READ_AHEAD);
            if taken == n {
                return Ok(read);
            }
            // The direction stays ready while these bytes wait, also
            // against a read on another thread that saw the marks before
            // and found nothing (its drained mark would hide them: epoll
            // reports no edge for bytes that left the kernel). The read
            // that takes the last of them marks it drained, if this one
            // proved it was and no event came since.
            let carried = state.carried.get_or_insert_default();
            carried.received.extend(&ahead[taken..n]);
            let fresh = self.marks[READ].keep_ready(seen);
            carried.drained_behind = fresh.filter(|_| read.short);
            self.update_driver_streams(&mut state);
            Ok(Transfer::proving_nothing(taken))
        });
        // The thread's locals are being torn down: read directly.
        read_ahead.unwrap_or_else(|_| read_directly(buf))
    }

    /// An accept on this listener from the connections already accepted:
    /// those it carried from its last loop, then those its home's driver
    /// accepted. `None`: accept from the socket itself.
    pub(crate) fn accept(&self, fd: BorrowedFd<'_>) -> Option<io::Result<OwnedFd>> {
        if !self.driver_streams.load(Ordering::Acquire) {
            return None;
        }
        let mut state = self.state();
        if let Some(connection) = state.carried.as_deref_mut().and_then(|c| c.accepts.pop_front()) {
            self.update_driver_streams(&mut state);
            return Some(Ok(connection));
        }
        #[cfg(not(any(miri, jsloop_loom)))]
        {
            let home = &state.home;
            let on_home = || context::with_core_of(home.shared.id, |_| ()).is_some();
            home.shared.poller.accept(fd, home.key, on_home)
        }
        #[cfg(any(miri, jsloop_loom))]
        {
            let _ = fd;
            None
        }
    }

    /// A write of this stream socket into its home driver's write-behind
    /// buffer, after the bytes it carried unsent from its last loop.
    /// `None`: write the socket itself.
    #[inline]
    pub(crate) fn stream_write(
        &self,
        fd: BorrowedFd<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Option<io::Result<usize>> {
        // Inlined: on epoll every write passes here, and only this load.
        if !self.driver_streams.load(Ordering::Acquire) {
            return None;
        }
        self.write_to_user_space(fd, bufs)
    }

    /// `stream_write` where the bytes may go to user space.
    fn write_to_user_space(
        &self,
        fd: BorrowedFd<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Option<io::Result<usize>> {
        let mut state = self.state();
        if let Err(error) = self.send_unsent(&mut state, fd) {
            return Some(Err(error));
        }
        #[cfg(not(any(miri, jsloop_loom)))]
        {
            let home = &state.home;
            let on_home = || context::with_core_of(home.shared.id, |_| ()).is_some();
            home.shared.poller.stream_write(fd, home.key, bufs, on_home)
        }
        #[cfg(any(miri, jsloop_loom))]
        {
            let _ = bufs;
            None
        }
    }

    /// Whether everything written went out (`WouldBlock` until then, a
    /// writable event following), or `None`: nothing waits in user space.
    pub(crate) fn stream_flush(&self, fd: BorrowedFd<'_>) -> Option<io::Result<()>> {
        if !self.driver_streams.load(Ordering::Acquire) {
            return None;
        }
        let mut state = self.state();
        if let Err(error) = self.send_unsent(&mut state, fd) {
            return Some(Err(error));
        }
        #[cfg(not(any(miri, jsloop_loom)))]
        {
            state.home.shared.poller.stream_flush(fd, state.home.key)
        }
        #[cfg(any(miri, jsloop_loom))]
        None
    }

    /// Shuts the write side down once the bytes written are out: `true`
    /// if that is left to the driver (or to the write that sends the
    /// carried bytes), `false` if the caller should shut it down now.
    pub(crate) fn defer_shutdown(&self, fd: BorrowedFd<'_>) -> bool {
        if !self.driver_streams.load(Ordering::Acquire) {
            return false;
        }
        let mut state = self.state();
        if let Err(error) = self.send_unsent(&mut state, fd) {
            if error.kind() == io::ErrorKind::WouldBlock {
                // Bytes wait (nothing else blocks): `carried` holds them.
                if let Some(carried) = state.carried.as_deref_mut() {
                    carried.shut_down = true;
                }
                return true;
            }
        }
        #[cfg(not(any(miri, jsloop_loom)))]
        {
            state.home.shared.poller.defer_shutdown(fd, state.home.key)
        }
        #[cfg(any(miri, jsloop_loom))]
        false
    }

    /// Writes the bytes carried unsent from the last loop, then the
    /// shutdown they held back: `WouldBlock` while the socket has no room.
    /// Another error drops them, as the kernel drops a broken socket's
    /// send queue, and is the caller's to report.
    fn send_unsent(&self, state: &mut SourceState, fd: BorrowedFd<'_>) -> io::Result<()> {
        let Some(carried) =
            state.carried.as_deref_mut().filter(|c| !c.unsent.is_empty() || c.shut_down)
        else {
            return Ok(());
        };
        let sent = Self::write_all_now(&mut carried.unsent, fd).and_then(|()| {
            if std::mem::take(&mut carried.shut_down) {
                rustix::net::shutdown(fd, rustix::net::Shutdown::Write)?;
            }
            Ok(())
        });
        if sent.as_ref().is_err_and(|error| error.kind() != io::ErrorKind::WouldBlock) {
            carried.unsent = Vec::new();
            carried.shut_down = false;
        }
        self.update_driver_streams(state);
        sent
    }

    /// Sends `bytes` until they are out or the socket has no room.
    fn write_all_now(bytes: &mut Vec<u8>, fd: BorrowedFd<'_>) -> io::Result<()> {
        while !bytes.is_empty() {
            let sent = rustix::net::send(fd, bytes, rustix::net::SendFlags::NOSIGNAL)?;
            bytes.drain(..sent);
        }
        Ok(())
    }

    /// Sets `driver_streams` from `state`, the one rule for it: the home's
    /// driver may read and write for the socket (io_uring), or it carries
    /// something (from its last loop, or read ahead); drops what it carried
    /// once that is used up.
    fn update_driver_streams(&self, state: &mut SourceState) {
        if state.carried.as_deref().is_some_and(Carried::is_empty) {
            state.carried = None;
        }
        let driver = state.home.shared.poller.driver() == IoDriver::IoUring;
        let carries = state.carried.is_some();
        self.driver_streams.store(driver || carries, Ordering::Release);
    }

    /// The marks before an operation, if it is worth trying (not drained
    /// since the last event).
    pub(crate) fn may_be_ready(&self, direction: usize) -> Option<Seen> {
        self.marks[direction].may_be_ready()
    }

    /// The operation that saw `seen` hit `WouldBlock`: wait for the next
    /// event, unless one came since.
    pub(crate) fn mark_drained(&self, direction: usize, seen: Seen) {
        self.marks[direction].mark_drained(seen);
    }

    /// Forgets the readiness seen so far: the next wait waits for a new
    /// event (a connect just started, reads held back).
    pub(crate) fn expect_event(&self, direction: usize) {
        self.marks[direction].expect_event();
    }

    /// The operation that saw `seen` moved fewer bytes than asked. With
    /// edge-triggered readiness that proves the direction drained (a write:
    /// the send buffer full; a read: the receive buffer empty), so the next
    /// one can wait for an event without a syscall that would only say
    /// `WouldBlock`; for reads only while hang-ups are reported (Linux's own
    /// events, not those through polling's hand-over): a FIN that came with
    /// the data would otherwise never be announced again.
    pub(crate) fn short_transfer(&self, direction: usize, seen: Seen) {
        let hangups_reported = !self.read_closed.load(Ordering::Acquire)
            && !self.hangup_unknown.load(Ordering::Acquire);
        if self.edge && (direction == WRITE || hangups_reported) {
            self.mark_drained(direction, seen);
        }
    }

    /// Ready if the direction is marked ready; else registers `cx`'s waker
    /// (under `key`, or as the single poll waker when `key` is `None`).
    /// On a loop other than its home, the source first moves to that loop
    /// (the module doc).
    ///
    /// `consume` takes the event (`readable()`): the next wait waits for a
    /// new one; else the mark stays for the operation that follows.
    pub(crate) fn poll_ready(
        self: &Arc<Self>,
        direction: usize,
        fd: BorrowedFd<'_>,
        key: Option<&mut Option<ListenerKey>>,
        consume: bool,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let mut state = self.state();
        if let Err(error) = self.follow_current_loop(&mut state, fd) {
            return Poll::Ready(Err(error));
        }
        if self.marks[direction].take_ready(consume) {
            return Poll::Ready(Ok(()));
        }
        let entry = &mut state.directions[direction];
        let had_waiters = entry.has_waiters();
        let keyed = key.is_some();
        let mut registered = None;
        match key {
            Some(key) => match key.and_then(|k| entry.waiters.get_mut(k)) {
                Some(waker) => waker.clone_from(cx.waker()),
                None => {
                    *key = Some(entry.waiters.add(cx.waker().clone()));
                    registered = *key;
                }
            },
            None => match &mut entry.poller {
                Some(waker) => waker.clone_from(cx.waker()),
                slot => *slot = Some(cx.waker().clone()),
            },
        }
        if !had_waiters && state.refd {
            state.home.shared.io.count_waiting(1);
        }
        if !self.edge {
            #[cfg(not(any(miri, jsloop_loom)))]
            {
                let interest =
                    [state.directions[READ].has_waiters(), state.directions[WRITE].has_waiters()];
                let home = &state.home;
                if let Err(error) =
                    home.shared.poller.modify(fd, home.key, interest[READ], interest[WRITE])
                {
                    // Not armed: take the registration back out.
                    drop(state);
                    match registered {
                        Some(key) => self.remove_waiter(direction, key),
                        None if !keyed => self.remove_poll_waiter(direction),
                        None => {}
                    }
                    return Poll::Ready(Err(error));
                }
            }
        }
        #[cfg(any(miri, jsloop_loom))]
        let _ = (fd, keyed, registered);
        Poll::Pending
    }

    /// Moves the source to the loop running on this thread if that is not
    /// its home. On a thread running no loop it stays, unless its home is
    /// gone: then there is no poll phase left to wait for.
    fn follow_current_loop(
        self: &Arc<Self>,
        state: &mut SourceState,
        fd: BorrowedFd<'_>,
    ) -> io::Result<()> {
        #[cfg(not(any(miri, jsloop_loom)))]
        let moved = context::try_with_current(|core| {
            if Arc::ptr_eq(&state.home.shared, &core.shared) {
                Ok(())
            } else {
                self.move_to(state, core, fd)
            }
        });
        #[cfg(any(miri, jsloop_loom))]
        let moved: Option<io::Result<()>> = {
            let _ = fd;
            None
        };
        match moved {
            Some(result) => result,
            None if state.home.shared.io.gone.load(Ordering::Acquire) => {
                Err(io::Error::other(RUNTIME_GONE))
            }
            None => Ok(()),
        }
    }

    /// Registers the source with `core`'s poller under a new key and takes
    /// it off its old home's, with its share of the old loop's liveness.
    #[cfg(not(any(miri, jsloop_loom)))]
    fn move_to(
        self: &Arc<Self>,
        state: &mut SourceState,
        core: &Core,
        fd: BorrowedFd<'_>,
    ) -> io::Result<()> {
        let key = core.io.reserve();
        if let Err(error) = core.shared.poller.register(fd, key) {
            core.io.release(key);
            return Err(error);
        }
        core.io.slots.borrow_mut()[key] = Some(Arc::downgrade(self));
        let old = std::mem::replace(&mut state.home, Home { shared: core.shared.clone(), key });
        // Registered with the new poller first: had that failed, the source
        // would still be watched by the old one. What the old one's driver
        // received comes along, to be read first, and makes the socket
        // readable now: no event will announce it.
        let departure = old.shared.poller.leave(fd, old.key);
        let carried = state.carried.get_or_insert_default();
        if !departure.received.is_empty() || !departure.accepted.is_empty() {
            carried.received.extend(departure.received);
            carried.accepts.extend(departure.accepted);
            self.marks[READ].set_ready();
        }
        // What it did not send goes out first: through this loop's driver
        // if it sends for sockets, else written by the next write here.
        carried.connected = departure.connected;
        carried.unsent.extend(departure.unsent);
        carried.shut_down |= departure.shut_down;
        if !carried.unsent.is_empty() {
            let unsent = std::mem::take(&mut carried.unsent);
            match core.shared.poller.adopt_unsent(fd, key, unsent, carried.shut_down) {
                Ok(()) => carried.shut_down = false,
                Err(unsent) => carried.unsent = unsent,
            }
        }
        // What is left is written now, as far as it goes (a shutdown owed
        // with nothing before it, at once); the rest by the next write.
        let _ = self.send_unsent(state, fd);
        self.update_driver_streams(state);
        let _ = old.shared.poller.delete(fd, old.key);
        old.shared.io.release_key(old.key);
        if state.refd {
            let waiting = state.waiting_directions();
            core.shared.io.count_waiting(waiting);
            old.shared.io.uncount_waiting(waiting, &old.shared);
        }
        // A new edge-triggered registration reports the readiness the
        // socket has now, so no edge is lost in the move; a oneshot one is
        // armed by `poll_ready`, right after.
        Ok(())
    }

    /// Takes out the poll-style waiter (its caller gave up).
    #[cfg_attr(any(miri, jsloop_loom), allow(dead_code))]
    fn remove_poll_waiter(&self, direction: usize) {
        let mut state = self.state();
        let removed = state.directions[direction].poller.take();
        Self::went_idle(state, direction, removed);
    }

    /// Takes out a waiter whose future was dropped.
    pub(crate) fn remove_waiter(&self, direction: usize, key: ListenerKey) {
        let mut state = self.state();
        let removed = state.directions[direction].waiters.remove(key);
        Self::went_idle(state, direction, removed);
    }

    /// After a waiter was taken out: a direction left without waiters no
    /// longer keeps the loop alive. The waker is dropped after the lock.
    fn went_idle(state: MutexGuard<'_, SourceState>, direction: usize, removed: Option<Waker>) {
        if removed.is_some() && state.refd && !state.directions[direction].has_waiters() {
            let home = state.home.shared.clone();
            drop(state);
            home.io.uncount_waiting(1, &home);
        } else {
            drop(state);
        }
        drop(removed);
    }

    /// An event from the poll phase of the loop whose shared half is
    /// `here`: ignored if the source has moved away since it was taken.
    fn on_event(&self, event: Readiness, here: &Arc<Shared>) {
        let mut state = self.state();
        if event.key != state.home.key || !Arc::ptr_eq(&state.home.shared, here) {
            return;
        }
        if event.read_closed {
            self.read_closed.store(true, Ordering::Release);
        }
        self.hangup_unknown.store(!event.hangup_known, Ordering::Release);
        // A oneshot registration is disarmed by any event: waiters of the
        // other direction re-arm it when they poll again.
        let oneshot = !self.edge;
        let mut woken = Woken::default();
        self.fire(&mut state, READ, event.readable, oneshot, &mut woken);
        self.fire(&mut state, WRITE, event.writable, oneshot, &mut woken);
        Self::wake(state, woken);
    }

    /// A readiness event for `direction` (or, for a oneshot registration, an
    /// event for the other one: its waiters must poll again to re-arm):
    /// collects the waiters to wake.
    fn fire(
        &self,
        state: &mut SourceState,
        direction: usize,
        ready: bool,
        oneshot: bool,
        woken: &mut Woken,
    ) {
        if !ready && !oneshot {
            return;
        }
        if ready {
            self.marks[direction].set_ready();
        }
        let entry = &mut state.directions[direction];
        if entry.has_waiters() {
            entry.take_waiters(woken);
            if state.refd {
                // Uncounted under the lock, before the wakes: on its own
                // loop (where events come from) this never notifies.
                let home = &state.home.shared;
                home.io.uncount_waiting(1, home);
            }
        }
    }

    /// Wakes `woken` once the lock is released: a waker may poll, and so
    /// lock this source, at once.
    fn wake(state: MutexGuard<'_, SourceState>, woken: Woken) {
        drop(state);
        woken.wake_all();
    }

    /// Marks `direction` ready and wakes its waiters, as a readiness event
    /// would: for readiness the poller cannot report. A spurious mark costs
    /// one operation that finds `WouldBlock`, after which the direction waits
    /// for a real event again.
    pub(crate) fn make_ready(&self, direction: usize) {
        let mut state = self.state();
        let mut woken = Woken::default();
        self.fire(&mut state, direction, true, false, &mut woken);
        Self::wake(state, woken);
    }

    /// Wakes every waiter without marking anything ready: they poll again
    /// and find out where the source stands (its runtime was dropped).
    fn wake_all(&self) {
        let mut state = self.state();
        let mut woken = Woken::default();
        let waiting = state.waiting_directions();
        for entry in &mut state.directions {
            entry.take_waiters(&mut woken);
        }
        if state.refd {
            let home = state.home.shared.clone();
            home.io.uncount_waiting(waiting, &home);
        }
        Self::wake(state, woken);
    }

    /// Has the next close of a descriptor registered with this source's
    /// home loop mark `direction` ready (once).
    pub(crate) fn make_ready_on_next_close(self: &Arc<Self>, direction: usize) {
        let home = self.state().home.shared.clone();
        let mut waiting = lock(&home.io.ready_on_close);
        let this = Arc::downgrade(self);
        if !waiting.iter().any(|(source, d)| *d == direction && source.ptr_eq(&this)) {
            waiting.push((this, direction));
        }
    }

    /// The descriptor this source watched is being closed (its `Async` is
    /// dropped): whoever waits for a free descriptor on its loop may retry.
    pub(crate) fn closing(&self) {
        let home = self.state().home.shared.clone();
        let waiting = std::mem::take(&mut *lock(&home.io.ready_on_close));
        for (source, direction) in waiting {
            if let Some(source) = source.upgrade() {
                source.make_ready(direction);
            }
        }
    }

    /// Whether waiting on this source keeps the loop alive (the default).
    pub(crate) fn set_refd(&self, refd: bool) {
        let mut state = self.state();
        if std::mem::replace(&mut state.refd, refd) == refd {
            return;
        }
        let waiting = state.waiting_directions();
        let home = &state.home.shared;
        if refd {
            home.io.count_waiting(waiting);
        } else {
            home.io.uncount_waiting(waiting, home);
        }
    }

    pub(crate) fn is_refd(&self) -> bool {
        self.state().refd
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        let home = &state.home;
        if state.refd {
            home.shared.io.uncount_waiting(state.waiting_directions(), &home.shared);
        }
        // On its own loop the key goes straight back to the table; from
        // anywhere else the loop frees it at its next poll phase.
        let key = home.key;
        if context::with_core_of(home.shared.id, |core| core.io.release(key)).is_none() {
            home.shared.io.release_key(key);
        }
    }
}
