//! Poll phase, OS side: the poller the loop sleeps in, on one of two
//! drivers.
//!
//! The loop blocks in [`Poller::wait`] during the poll phase, until the next
//! timer deadline or until another thread calls [`Poller::notify`] (a remote
//! wake, a dropped `KeepAlive`). A notify that arrives while the loop is
//! *not* waiting is remembered, so the next `wait` returns at once: that is
//! what makes the remote-wake handshake free of lost wakeups.
//!
//! It is also where I/O readiness comes from: sockets are registered with
//! it (see `io::source`), and each `wait` collects their events, which the
//! poll phase then dispatches one by one, a checkpoint after each.
//!
//! Two drivers give the same events in the same shape:
//! - `epoll`: readiness through `epoll_wait` (on other Unixes, `polling`'s
//!   kqueue / event ports);
//! - `uring` (Linux): the same readiness from multishot poll requests on an
//!   io_uring, where registering a socket rides on the next wait instead of
//!   costing a syscall of its own, and a remote wake is consumed by the ring;
//!   it also receives stream sockets' bytes itself (`stream_read`), so a
//!   read is a copy out of user space, and sends what they write from a
//!   buffer of its own (`stream_write`), so a write is a copy into one;
//!   a listener's connections it accepts itself (`accept`), so an accept
//!   is a pop off a queue, and it connects sockets itself
//!   (`register_connecting`).
//!
//! Which one a runtime gets is [`IoDriver`]'s choice, made once in
//! `Builder::build`. Under Miri (which cannot run `epoll`) and loom (which
//! cannot model it) a stand-in with the same sticky-notify shape replaces
//! both (`stand_in`).

use std::io;
#[cfg(not(any(miri, jsloop_loom)))]
use std::os::fd::BorrowedFd;
#[cfg(not(any(miri, jsloop_loom)))]
use std::time::Duration;

#[cfg(all(jsloop_uring, not(any(miri, jsloop_loom))))]
mod accepted;
#[cfg(not(any(miri, jsloop_loom)))]
mod epoll;
#[cfg(any(jsloop_loom, not(miri)))]
mod park;
#[cfg(all(jsloop_uring, not(any(miri, jsloop_loom))))]
mod received;
#[cfg(all(jsloop_uring, not(any(miri, jsloop_loom))))]
mod sending;
#[cfg(any(miri, jsloop_loom))]
mod stand_in;
#[cfg(all(jsloop_uring, not(any(miri, jsloop_loom))))]
mod uring;

#[cfg(jsloop_loom)]
pub use park::{Park, Place};
#[cfg(any(miri, jsloop_loom))]
pub use stand_in::Poller;

/// The environment variable [`IoDriver::Auto`] reads: `epoll` or
/// `io_uring` forces that driver.
const DRIVER_VAR: &str = "JSLOOP_IO";

/// Which OS interface a runtime's poll phase waits on
/// ([`Builder::io_driver`](crate::Builder::io_driver)).
///
/// Both deliver the same readiness events at the same place in the loop,
/// so programs print the same lines in the same order on either; they
/// differ in the syscalls a loop turn costs.
///
/// # Examples
///
/// ```
/// use jsloop::{IoDriver, Runtime};
///
/// let rt = Runtime::builder().io_driver(IoDriver::Epoll).build()?;
/// assert_eq!(rt.io_driver(), IoDriver::Epoll);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IoDriver {
    /// The default: `JSLOOP_IO=epoll` or `JSLOOP_IO=io_uring` in the
    /// environment forces that driver (any other value is an
    /// `InvalidInput` error from `build`); unset, io_uring where the kernel
    /// runs stream sockets on the ring (Linux 6.0 and later), else epoll,
    /// also where io_uring is refused (a seccomp profile, the
    /// `kernel.io_uring_disabled` sysctl): never an error for want of it.
    /// On the ring TCP echo does about 1.3× epoll's round trips and hyper
    /// under `wrk` about 1.04× its requests (BENCHMARKS.md), at some 120
    /// more heap bytes per idle connection.
    #[default]
    Auto,
    /// Readiness through `epoll` (on other Unixes: kqueue or event ports,
    /// through `polling`). Available everywhere.
    Epoll,
    /// Readiness through multishot poll requests on an io_uring (Linux 5.13
    /// or later with `EXT_ARG` and `NODROP`, which 5.11 brought); on
    /// Linux 6.0 and later TCP and Unix stream reads come from one
    /// multishot `RECV` per socket into buffers the ring provides, copied
    /// out to the reader (no syscall per read), and writes go
    /// write-behind: copied into a bounded per-socket buffer (256 KiB)
    /// that one `SEND` at a time drains, so a write returns at once, a
    /// failed send's error comes from the next write, `flush` or `close`,
    /// and `flush` waits until the kernel took every byte; `net` listeners
    /// accept through one multishot `ACCEPT` each, into a queue their
    /// `accept` pops (no `accept4` per connection), and `net` streams
    /// connect through one `CONNECT` (no `connect`, `SO_ERROR` read or
    /// `getpeername` of their own). Where io_uring is
    /// unavailable (an old kernel, a seccomp profile, the
    /// `kernel.io_uring_disabled` sysctl), `build` fails with the reason.
    IoUring,
}

impl IoDriver {
    /// What `Auto` stands for here: the environment's forced driver, or
    /// `Auto` itself (try io_uring, fall back to epoll).
    fn or_environment(self) -> io::Result<IoDriver> {
        if self != IoDriver::Auto {
            return Ok(self);
        }
        match std::env::var(DRIVER_VAR) {
            Ok(value) => IoDriver::parse(&value),
            Err(_) => Ok(IoDriver::Auto),
        }
    }

    /// A `JSLOOP_IO` value.
    fn parse(value: &str) -> io::Result<IoDriver> {
        match value.trim() {
            "epoll" => Ok(IoDriver::Epoll),
            "io_uring" => Ok(IoDriver::IoUring),
            "" | "auto" => Ok(IoDriver::Auto),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{DRIVER_VAR}={value:?} names no I/O driver (epoll, io_uring, auto)"),
            )),
        }
    }
}

/// One readiness event: the source's key and which directions are ready.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Readiness {
    pub(crate) key: usize,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// The peer will send nothing more (FIN, hang-up or error).
    pub(crate) read_closed: bool,
    /// `read_closed` is known: Linux's own `epoll_wait` and io_uring's
    /// poll report `RDHUP`; events that come through polling cannot say.
    pub(crate) hangup_known: bool,
}

/// What a socket leaving a poller takes along (`Poller::leave`): bytes
/// its driver received that nobody read, bytes its writers handed over
/// that the driver did not send, and whether a shutdown of its write side
/// waits for them; for a listener, the connections its driver accepted
/// that nobody took; for a socket its driver was connecting, how that
/// connect ended, if it did (the kernel has cleared the socket's error).
#[cfg(not(any(miri, jsloop_loom)))]
#[derive(Debug, Default)]
pub(crate) struct Departure {
    pub(crate) received: Vec<u8>,
    pub(crate) accepted: Vec<std::os::fd::OwnedFd>,
    pub(crate) unsent: Vec<u8>,
    pub(crate) shut_down: bool,
    pub(crate) connected: Option<io::Result<()>>,
}

/// The loop's poller, on the driver chosen when it was built.
#[cfg(not(any(miri, jsloop_loom)))]
pub struct Poller {
    driver: Driver,
    /// Where the loop sleeps: in `driver`, or on a futex while nothing
    /// is registered with it and nothing is in flight (`park`).
    park: park::Park,
    /// Sources registered and not deleted yet. Counted up on the loop
    /// thread only (sources register on their loop), down from any.
    registered: std::sync::atomic::AtomicUsize,
    /// A wait in `driver` may have left events to take: set by each such
    /// wait, cleared when they are taken. A loop parked on the futex
    /// (nothing registered) then skips the driver's event buffer and its
    /// lock. Loop thread only; atomic because the poller is shared.
    driver_waited: std::sync::atomic::AtomicBool,
}

#[cfg(not(any(miri, jsloop_loom)))]
enum Driver {
    Epoll(epoll::Epoll),
    /// Boxed: the ring's state is several times epoll's.
    #[cfg(jsloop_uring)]
    Uring(Box<uring::Uring>),
}

/// Runs `$body` with `$d` bound to the poller's driver, whichever it is.
#[cfg(not(any(miri, jsloop_loom)))]
macro_rules! on_driver {
    ($poller:expr, $d:ident => $body:expr) => {
        match &$poller.driver {
            Driver::Epoll($d) => $body,
            #[cfg(jsloop_uring)]
            Driver::Uring($d) => $body,
        }
    };
}

#[cfg(not(any(miri, jsloop_loom)))]
impl Poller {
    /// Creates the poller `choice` asks for.
    ///
    /// # Errors
    /// `InvalidInput` for a bad `JSLOOP_IO`; io_uring's setup error when it
    /// was forced and is unavailable; the OS error if epoll cannot be set
    /// up.
    pub(crate) fn with_driver(choice: IoDriver) -> io::Result<Self> {
        let driver = match choice.or_environment()? {
            IoDriver::Epoll => Driver::Epoll(epoll::Epoll::new()?),
            #[cfg(jsloop_uring)]
            IoDriver::IoUring => Driver::Uring(Box::new(uring::Uring::new()?)),
            #[cfg(not(jsloop_uring))]
            IoDriver::IoUring => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "jsloop: the io_uring driver needs Linux on x86_64, aarch64, riscv64, loongarch64 or powerpc64",
                ));
            }
            IoDriver::Auto => Poller::auto_driver()?,
        };
        Ok(Poller {
            driver,
            park: park::Park::new(),
            registered: Default::default(),
            driver_waited: Default::default(),
        })
    }

    /// What `Auto` picks: the ring where the kernel runs stream sockets
    /// on it (Linux 6.0: there it wins every socket benchmark,
    /// BENCHMARKS.md, "I/O drivers"), else epoll, also where io_uring is
    /// refused (a seccomp profile, `io_uring_disabled`, the memlock limit).
    fn auto_driver() -> io::Result<Driver> {
        #[cfg(jsloop_uring)]
        if let Ok(ring) = uring::Uring::new() {
            if ring.kernel_has_streams().unwrap_or(false) {
                return Ok(Driver::Uring(Box::new(ring)));
            }
        }
        Ok(Driver::Epoll(epoll::Epoll::new()?))
    }

    /// The driver this poller runs on (never `Auto`).
    pub(crate) fn driver(&self) -> IoDriver {
        match self.driver {
            Driver::Epoll(_) => IoDriver::Epoll,
            #[cfg(jsloop_uring)]
            Driver::Uring(_) => IoDriver::IoUring,
        }
    }

    /// Blocks until `timeout` passes (`None`: forever) or `notify` is called.
    ///
    /// # Errors
    /// Fails if the OS wait fails (not for `EINTR`).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
        use park::Place;
        use std::sync::atomic::Ordering;
        let place = if self.is_idle() { Place::Futex } else { Place::Driver };
        if let Place::Driver = place {
            self.driver_waited.store(true, Ordering::Relaxed);
        }
        if timeout == Some(Duration::ZERO) {
            // No sleep: nothing to announce (a notify now would wake a
            // sleeper that is not there), only the mark to take.
            self.park.woke();
            return match place {
                Place::Futex => Ok(()),
                Place::Driver => on_driver!(self, d => d.wait(timeout)),
            };
        }
        if !self.park.settle(place) {
            // Notified while awake: no sleep, but what the driver has.
            return match place {
                Place::Futex => Ok(()),
                Place::Driver => on_driver!(self, d => d.wait(Some(Duration::ZERO))),
            };
        }
        let waited = match place {
            Place::Futex => self.park.sleep_on_futex(timeout),
            Place::Driver => on_driver!(self, d => d.wait(timeout)),
        };
        self.park.woke();
        waited
    }

    /// Nothing registered and nothing in flight: the driver could deliver
    /// nothing, so the loop may sleep on the futex. The count is read
    /// first: a source deleted on another thread counts down after its
    /// last requests were queued, so a zero it reads sees those.
    fn is_idle(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.registered.load(Ordering::Acquire) == 0
            && match &self.driver {
                Driver::Epoll(_) => true,
                #[cfg(jsloop_uring)]
                Driver::Uring(ring) => ring.is_idle(),
            }
    }

    /// A source was registered (`result` is the registration's).
    fn count_registered(&self, result: io::Result<()>) -> io::Result<()> {
        if result.is_ok() {
            self.registered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        result
    }

    /// Moves the I/O events of the last `wait` into `out`.
    pub(crate) fn take_events(&self, out: &mut Vec<Readiness>) {
        use std::sync::atomic::Ordering;
        // A load and a store, not a swap: only the loop thread touches it.
        if self.driver_waited.load(Ordering::Relaxed) {
            self.driver_waited.store(false, Ordering::Relaxed);
            on_driver!(self, d => d.take_events(out))
        }
    }

    /// Registers `fd` under `key` for both directions, edge-triggered where
    /// the driver allows it (see `is_edge_triggered`).
    ///
    /// The caller deletes it (`delete`) before `fd` is closed.
    pub(crate) fn register(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        self.count_registered(on_driver!(self, d => d.register(fd, key)))
    }

    /// Whether the driver connects stream sockets itself
    /// (`register_connecting`). Only the ring does, where it reads for
    /// them.
    pub(crate) fn connects_streams(&self) -> bool {
        match &self.driver {
            Driver::Epoll(_) => false,
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => ring.connects_streams(),
        }
    }

    /// Registers the unconnected stream socket `fd` under `key` and has
    /// the driver connect it to `address`; a writable event says it ended,
    /// and `connect_outcome` how. Only where `connects_streams`; elsewhere
    /// `Unsupported`.
    #[cfg_attr(not(jsloop_uring), allow(unused_variables))]
    pub(crate) fn register_connecting(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        address: &rustix::net::SocketAddrAny,
    ) -> io::Result<()> {
        match &self.driver {
            Driver::Epoll(_) => Err(io::ErrorKind::Unsupported.into()),
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => {
                self.count_registered(ring.register_connecting(fd, key, address))
            }
        }
    }

    /// How the driver's connect of the socket `fd` under `key` ended
    /// (`Pending` while it goes on), told once; `None` where the driver is
    /// not connecting it: the socket itself tells.
    #[cfg_attr(not(jsloop_uring), allow(unused_variables))]
    pub(crate) fn connect_outcome(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
    ) -> Option<std::task::Poll<io::Result<()>>> {
        match &self.driver {
            Driver::Epoll(_) => None,
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => ring.connect_outcome(fd, key),
        }
    }

    /// Whether sources are edge-triggered (no re-arming per wait).
    pub(crate) fn is_edge_triggered(&self) -> bool {
        on_driver!(self, d => d.is_edge_triggered())
    }

    /// Sets the interest of a registered source (re-arms a oneshot one;
    /// only sources that are not edge-triggered need it).
    pub(crate) fn modify(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        match &self.driver {
            Driver::Epoll(epoll) => epoll.modify(fd, key, readable, writable),
            // Always edge-triggered: never re-armed by hand.
            #[cfg(jsloop_uring)]
            Driver::Uring(_) => Ok(()),
        }
    }

    /// Removes the source registered as `fd` under `key`. Callable from
    /// any thread.
    /// (epoll deletes by descriptor; only the ring needs `key`.)
    #[cfg_attr(not(jsloop_uring), allow(unused_variables))]
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        // Only a deletion that found the source counts down: a count too
        // high costs a wait in the driver, one too low a missed event.
        let (deleted, found) = match &self.driver {
            Driver::Epoll(epoll) => {
                let deleted = epoll.delete(fd);
                let found = deleted.is_ok();
                (deleted, found)
            }
            // The ring says `NotFound` for a source it does not hold; any
            // other error came after the source was taken off, with the
            // requests it queued counted in flight.
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => {
                let deleted = ring.delete(fd, key);
                let found = !matches!(&deleted, Err(e) if e.kind() == io::ErrorKind::NotFound);
                (deleted, found)
            }
        };
        if found {
            self.registered.fetch_sub(1, std::sync::atomic::Ordering::Release);
        }
        deleted
    }

    /// A read of the stream socket `fd` (registered under `key`) from the
    /// bytes the driver received for it, or `None`: read the socket
    /// itself. Only the ring reads for sockets, and only for those whose
    /// reads it took over, which it does at the first read on the socket's
    /// home loop (`on_home` says whether this thread runs it; asked only
    /// when it matters). `WouldBlock` then means: wait for the next
    /// readable event.
    #[cfg_attr(not(jsloop_uring), allow(unused_variables))]
    pub(crate) fn stream_read(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        buf: &mut [u8],
        on_home: impl Fn() -> bool,
    ) -> Option<io::Result<usize>> {
        match &self.driver {
            Driver::Epoll(_) => None,
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => ring.stream_read(fd, key, buf, on_home),
        }
    }

    /// A connection the driver accepted for the listener `fd` (registered
    /// under `key`), or `None`: accept from the socket itself. Only the
    /// ring accepts for listeners, for those it took over at their first
    /// accept on their home loop (as `stream_read`). `WouldBlock` then
    /// means: wait for the readable event of the next connection.
    #[cfg_attr(not(jsloop_uring), allow(unused_variables))]
    pub(crate) fn accept(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        on_home: impl Fn() -> bool,
    ) -> Option<io::Result<std::os::fd::OwnedFd>> {
        match &self.driver {
            Driver::Epoll(_) => None,
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => ring.accept(fd, key, on_home),
        }
    }

    /// A write to the stream socket `fd` (registered under `key`) into the
    /// driver's write-behind buffer, or `None`: write the socket itself.
    /// Only the ring sends for sockets, for those whose writes it took
    /// over at their first write on their home loop (as `stream_read`).
    /// `WouldBlock` then means: the buffer is full, wait for the writable
    /// event that says it has room.
    #[cfg_attr(not(jsloop_uring), allow(unused_variables))]
    pub(crate) fn stream_write(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        bufs: &[io::IoSlice<'_>],
        on_home: impl Fn() -> bool,
    ) -> Option<io::Result<usize>> {
        match &self.driver {
            Driver::Epoll(_) => None,
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => ring.stream_write(fd, key, bufs, on_home),
        }
    }

    /// Whether everything written through `stream_write` went out:
    /// `WouldBlock` until then (a writable event follows), the error of a
    /// send that failed; `None` if the driver does not send for it.
    #[cfg_attr(not(jsloop_uring), allow(unused_variables))]
    pub(crate) fn stream_flush(&self, fd: BorrowedFd<'_>, key: usize) -> Option<io::Result<()>> {
        match &self.driver {
            Driver::Epoll(_) => None,
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => ring.stream_flush(fd, key),
        }
    }

    /// Has the driver shut the socket's write side down once the bytes it
    /// holds for it are out: `true` if it will, `false` if the caller
    /// should shut it down now.
    #[cfg_attr(not(jsloop_uring), allow(unused_variables))]
    pub(crate) fn defer_shutdown(&self, fd: BorrowedFd<'_>, key: usize) -> bool {
        match &self.driver {
            Driver::Epoll(_) => false,
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => ring.defer_shutdown(fd, key),
        }
    }

    /// On the loop's thread, for a socket just registered here from
    /// another loop: sends the bytes it left unsent there (then shuts its
    /// write side down if `shut_down`), ahead of anything written here.
    /// The bytes come back if this driver does not send for sockets.
    #[cfg_attr(not(jsloop_uring), allow(unused_variables))]
    pub(crate) fn adopt_unsent(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        bytes: Vec<u8>,
        shut_down: bool,
    ) -> Result<(), Vec<u8>> {
        match &self.driver {
            Driver::Epoll(_) => Err(bytes),
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => ring.adopt_unsent(fd, key, bytes, shut_down),
        }
    }

    /// Whether the driver is still sending bytes written to sockets (also
    /// closed ones'): the loop stays alive for them.
    pub(crate) fn has_sends_in_flight(&self) -> bool {
        match &self.driver {
            Driver::Epoll(_) => false,
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => ring.has_sends_in_flight(),
        }
    }

    /// Hands the kernel what the driver queued and has not submitted (a
    /// write-behind `SEND`): the loop stops, and its next wait, which
    /// would have carried them, may be far off or never come.
    pub(crate) fn submit_queued(&self) -> io::Result<()> {
        match &self.driver {
            Driver::Epoll(_) => Ok(()),
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => ring.submit_queued(),
        }
    }

    /// Before the source `fd` under `key` moves to another poller: stops
    /// the driver reading and sending for it, and returns what it holds
    /// (the socket reads the bytes received first, and sends the unsent
    /// ones first, on its new loop). Callable from any thread.
    #[cfg_attr(not(jsloop_uring), allow(unused_variables))]
    pub(crate) fn leave(&self, fd: BorrowedFd<'_>, key: usize) -> Departure {
        match &self.driver {
            Driver::Epoll(_) => Departure::default(),
            #[cfg(jsloop_uring)]
            Driver::Uring(ring) => ring.leave(fd, key),
        }
    }

    /// Wakes the loop from `wait`, or makes its next `wait` return at once.
    pub fn notify(&self) {
        if self.park.notify() {
            on_driver!(self, d => d.notify())
        }
    }
}

#[cfg(not(any(miri, jsloop_loom)))]
impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller").field("driver", &self.driver()).finish_non_exhaustive()
    }
}

#[cfg(all(test, not(any(miri, jsloop_loom))))]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Both drivers where this machine has both.
    fn drivers() -> Vec<Poller> {
        let mut pollers = vec![Poller::with_driver(IoDriver::Epoll).unwrap()];
        if let Ok(ring) = Poller::with_driver(IoDriver::IoUring) {
            pollers.push(ring);
        }
        pollers
    }

    /// Each driver twice: idle (its loop sleeps on the futex) and with a
    /// listener registered that never becomes ready (it sleeps in the
    /// driver). Epoll's first: a ring dropped on a thread leaves the
    /// kernel's task work there, which interrupts that thread's next
    /// `epoll_wait` (`EINTR`, an early return, harmless to a loop but not
    /// to a test of timeouts).
    fn pollers() -> Vec<std::sync::Arc<Poller>> {
        use std::os::fd::AsFd;
        let mut pollers = Vec::new();
        let both = drivers().into_iter().zip(drivers());
        for (busy, poller) in both.flat_map(|(idle, busy)| [(false, idle), (true, busy)]) {
            if busy {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                poller.register(listener.as_fd(), 3).unwrap();
                // Closed with the test process; a poll holding it is fine.
                std::mem::forget(listener);
            }
            assert_eq!(poller.is_idle(), !busy, "{poller:?}");
            pollers.push(std::sync::Arc::new(poller));
        }
        pollers
    }

    #[test]
    fn a_poller_is_idle_until_something_registers_and_again_once_it_left() {
        use std::os::fd::AsFd;
        for poller in drivers() {
            assert!(poller.is_idle(), "{poller:?}: idle when new");
            let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            poller.register(b.as_fd(), 5).unwrap();
            assert!(!poller.is_idle(), "{poller:?}: a source is registered");
            // Traffic on it, then its deletion: every request the ring
            // made for it ends, counted back to zero by the waits that
            // reap them (a count too low would put a loop with sockets
            // to sleep on the futex, deaf to them).
            std::io::Write::write_all(&mut a, b"x").unwrap();
            let _ = wait_for_events(&poller);
            poller.delete(b.as_fd(), 5).unwrap();
            // The ring's poll and its removal end only when a wait reaps
            // them: until then it must not count as idle.
            let ring = poller.driver() == IoDriver::IoUring;
            assert_eq!(poller.is_idle(), !ring, "{poller:?}: idle with requests in flight");
            let deadline = Instant::now() + Duration::from_secs(10);
            while !poller.is_idle() {
                assert!(Instant::now() < deadline, "{poller:?}: never idle after the delete");
                poller.wait(Some(Duration::from_millis(10))).unwrap();
            }
            // A delete that finds nothing counts nothing down.
            assert!(poller.delete(b.as_fd(), 5).is_err(), "{poller:?}");
            assert!(poller.is_idle(), "{poller:?}");
        }
    }

    #[test]
    fn every_notify_wakes_a_wait_not_only_the_first() {
        // A notify whose wake-up is consumed must leave the next one armed
        // (polling's oneshot notifier is re-armed by a hand-over; the
        // ring's eventfd read by the wait that reaped it).
        for poller in pollers() {
            let mut events = Vec::new();
            for _ in 0..3 {
                poller.notify();
                let start = Instant::now();
                poller.wait(Some(Duration::from_secs(10))).unwrap();
                assert!(start.elapsed() < Duration::from_secs(5), "{poller:?}: a notify was lost");
                poller.take_events(&mut events);
                assert!(events.is_empty(), "{poller:?}: the notifier surfaced as I/O: {events:?}");
            }
        }
    }

    #[test]
    fn a_notify_from_another_thread_wakes_a_wait_without_timeout() {
        for poller in pollers() {
            let notifier = poller.clone();
            let thread = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                notifier.notify();
            });
            poller.wait(None).unwrap();
            thread.join().unwrap();
        }
    }

    #[test]
    fn a_wait_with_a_timeout_and_nothing_ready_returns_after_it() {
        for poller in pollers() {
            let start = Instant::now();
            poller.wait(Some(Duration::from_millis(30))).unwrap();
            let idle = poller.is_idle();
            assert!(
                start.elapsed() >= Duration::from_millis(25),
                "{poller:?} (idle: {idle}) woke early"
            );
        }
    }

    #[test]
    fn a_registered_socket_reports_readiness_then_nothing_once_deleted() {
        use std::io::Write;
        use std::os::fd::AsFd;
        for poller in pollers() {
            let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            b.set_nonblocking(true).unwrap();
            poller.register(b.as_fd(), 7).unwrap();
            // Writable at once: an edge-triggered registration reports the
            // readiness the socket has when it is added.
            let events = wait_for_events(&poller);
            assert!(events.iter().any(|e| e.key == 7 && e.writable), "{poller:?}: {events:?}");
            a.write_all(b"x").unwrap();
            let events = wait_for_events(&poller);
            assert!(events.iter().any(|e| e.key == 7 && e.readable), "{poller:?}: {events:?}");
            poller.delete(b.as_fd(), 7).unwrap();
            a.write_all(b"y").unwrap();
            poller.wait(Some(Duration::from_millis(20))).unwrap();
            let mut events = Vec::new();
            poller.take_events(&mut events);
            assert!(events.is_empty(), "{poller:?}: an event after delete: {events:?}");
        }
    }

    #[test]
    fn a_bad_driver_variable_is_an_error_that_names_it() {
        // Parsed as a value: the process environment is shared by tests.
        let error = IoDriver::parse("nope").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("JSLOOP_IO"), "{error}");
    }

    fn wait_for_events(poller: &Poller) -> Vec<Readiness> {
        let mut events = Vec::new();
        for _ in 0..100 {
            poller.wait(Some(Duration::from_millis(50))).unwrap();
            poller.take_events(&mut events);
            if !events.is_empty() {
                break;
            }
        }
        events
    }
}
