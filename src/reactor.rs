//! Poll phase, OS side: the poller the loop sleeps in.
//!
//! The loop blocks in [`Poller::wait`] during the poll phase, until the next
//! timer deadline or until another thread calls [`Poller::notify`] (a remote
//! wake, a dropped `KeepAlive`). A notify that arrives while the loop is
//! *not* waiting is remembered, so the next `wait` returns at once: that is
//! what makes the remote-wake handshake free of lost wakeups.
//!
//! It is also where I/O readiness comes from: sockets are registered with
//! it (see `io::source`), and each `wait` collects their events, which the
//! poll phase then dispatches one by one, a checkpoint after each. Sources
//! are registered edge-triggered where the OS allows it (epoll, kqueue): one
//! registration for the life of the socket and no re-arming syscall per
//! wait; elsewhere oneshot, re-armed by each wait.
//!
//! On a normal build this is `polling::Poller` (epoll / kqueue / IOCP). Under
//! Miri (which cannot run `epoll`) and loom (which cannot model it), a stand-in
//! with the same sticky-notify shape is built from a mutex and a condvar; it
//! has no I/O (registering a source fails with `Unsupported`).

use std::io;
#[cfg(not(any(miri, jsloop_loom)))]
use std::os::fd::BorrowedFd;
use std::time::Duration;

/// How many events one Linux `epoll_wait` takes at most.
#[cfg(all(target_os = "linux", not(any(miri, jsloop_loom))))]
const EPOLL_BATCH: usize = 256;

/// The `epoll_data` of polling's own notifier (and of its timerfd): its
/// reserved key `usize::MAX`, widened as polling widens every key. On a
/// 32-bit target that is `0xffff_ffff`, not `u64::MAX`; a check against
/// `u64::MAX` there would miss every notify after the first (polling's
/// oneshot notifier is re-armed only by its own wait).
#[cfg(all(target_os = "linux", not(any(miri, jsloop_loom))))]
const POLLING_NOTIFY_DATA: u64 = usize::MAX as u64;

/// One readiness event: the source's key and which directions are ready.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Readiness {
    pub(crate) key: usize,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// The peer will send nothing more (FIN, hang-up or error).
    pub(crate) read_closed: bool,
    /// `read_closed` is known: Linux's own `epoll_wait` reports
    /// `EPOLLRDHUP`; events that come through polling cannot say.
    pub(crate) hangup_known: bool,
}

/// The loop's poller: `polling::Poller` plus a reusable event buffer.
#[cfg(not(any(miri, jsloop_loom)))]
pub struct Poller {
    poller: polling::Poller,
    /// Events from the last `wait`; only the loop thread calls `wait`.
    events: std::sync::Mutex<polling::Events>,
    /// Sources are registered edge-triggered (else oneshot, re-armed).
    edge: bool,
    /// Linux: events of our own `epoll_wait` on polling's epoll descriptor.
    #[cfg(target_os = "linux")]
    epoll_events: std::sync::Mutex<Vec<Readiness>>,
}

#[cfg(not(any(miri, jsloop_loom)))]
impl Poller {
    /// Creates the poller.
    ///
    /// # Errors
    /// Fails if the OS poller cannot be created.
    pub fn new() -> io::Result<Self> {
        let poller = polling::Poller::new()?;
        let edge = poller.supports_edge();
        Ok(Poller {
            poller,
            events: std::sync::Mutex::new(polling::Events::new()),
            edge,
            #[cfg(target_os = "linux")]
            epoll_events: std::sync::Mutex::new(Vec::with_capacity(EPOLL_BATCH)),
        })
    }

    /// Blocks until `timeout` passes (`None`: forever) or `notify` is called.
    ///
    /// # Errors
    /// Fails if the OS wait fails (not for `EINTR`).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        return self.wait_epoll(timeout);
        #[cfg(not(target_os = "linux"))]
        return self.wait_polling(timeout);
    }

    /// `polling`'s own wait, which also collects the I/O events.
    fn wait_polling(&self, timeout: Option<Duration>) -> io::Result<()> {
        let mut events = crate::sync::lock(&self.events);
        events.clear();
        match self.poller.wait(&mut events, timeout) {
            Ok(_) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Linux: `epoll_wait` on polling's epoll descriptor directly. polling's
    /// own wait spends four more syscalls per call (arming its timerfd,
    /// re-arming its notifier); this costs one, and hands over to polling
    /// only when its notifier (key `usize::MAX`, reserved by polling) fired,
    /// so that polling clears and re-arms it.
    #[cfg(target_os = "linux")]
    fn wait_epoll(&self, timeout: Option<Duration>) -> io::Result<()> {
        use rustix::event::Timespec;
        use rustix::event::epoll::{self, EventFlags as Flags};
        use std::mem::MaybeUninit;
        use std::os::fd::AsFd;

        // At most `i32::MAX` ms: longer ones need `epoll_pwait2`, which old
        // kernels and some seccomp profiles refuse. Waking early is harmless.
        let timeout = timeout
            .map(|t| t.min(Duration::from_millis(i32::MAX as u64)))
            .map(|t| Timespec { tv_sec: t.as_secs() as i64, tv_nsec: t.subsec_nanos().into() });
        // More events than fit stay queued in the kernel for the next wait.
        let mut buffer = [MaybeUninit::<epoll::Event>::uninit(); EPOLL_BATCH];
        let events = match epoll::wait(self.poller.as_fd(), &mut buffer[..], timeout.as_ref()) {
            Ok((events, _)) => &*events,
            Err(rustix::io::Errno::INTR) => &[],
            Err(errno) => return Err(errno.into()),
        };
        let mut notified = false;
        let mut ready = crate::sync::lock(&self.epoll_events);
        for event in events {
            let key = event.data.u64();
            if key == POLLING_NOTIFY_DATA {
                notified = true;
                continue;
            }
            // The flags polling itself maps to readable / writable.
            let flags = event.flags;
            ready.push(Readiness {
                // Our own keys: `register` widened a `usize`.
                key: key as usize,
                readable: flags
                    .intersects(Flags::IN | Flags::HUP | Flags::ERR | Flags::PRI | Flags::RDHUP),
                writable: flags.intersects(Flags::OUT | Flags::HUP | Flags::ERR),
                read_closed: flags.intersects(Flags::RDHUP | Flags::HUP | Flags::ERR),
                hangup_known: true,
            });
        }
        drop(ready);
        if notified {
            return self.wait_polling(Some(Duration::ZERO));
        }
        Ok(())
    }

    /// Moves the I/O events of the last `wait` into `out`.
    pub(crate) fn take_events(&self, out: &mut Vec<Readiness>) {
        #[cfg(target_os = "linux")]
        out.append(&mut crate::sync::lock(&self.epoll_events));
        let mut events = crate::sync::lock(&self.events);
        out.extend(events.iter().map(|event| Readiness {
            key: event.key,
            readable: event.readable,
            writable: event.writable,
            read_closed: false,
            hangup_known: false,
        }));
        events.clear();
    }

    /// The OS poller, for registering a source (`io::source`).
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn os(&self) -> &polling::Poller {
        &self.poller
    }

    /// Linux: registers `fd` under `key`, edge-triggered, for both
    /// directions and for the peer's hang-up (`EPOLLRDHUP`, which polling's
    /// interest set lacks and which lets a short read prove a socket
    /// drained). The loop's own `epoll_wait` reads these events.
    #[cfg(target_os = "linux")]
    pub(crate) fn register(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        use rustix::event::epoll::{self, EventData, EventFlags as Flags};
        use std::os::fd::AsFd;
        let interest = Flags::IN | Flags::OUT | Flags::RDHUP | Flags::ET;
        epoll::add(self.poller.as_fd(), fd, EventData::new_u64(key as u64), interest)?;
        Ok(())
    }

    /// The mode sources are registered in.
    pub(crate) fn mode(&self) -> polling::PollMode {
        if self.edge { polling::PollMode::Edge } else { polling::PollMode::Oneshot }
    }

    /// Whether sources are edge-triggered (no re-arming per wait).
    pub(crate) fn is_edge_triggered(&self) -> bool {
        self.edge || cfg!(target_os = "linux")
    }

    /// Sets the interest of a registered source (re-arms a oneshot one).
    pub(crate) fn modify(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        let event = polling::Event::new(key, readable, writable);
        self.poller.modify_with_mode(fd, event, self.mode())
    }

    /// Removes a registered source.
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.poller.delete(fd)
    }

    /// Wakes the loop from `wait`, or makes its next `wait` return at once.
    pub fn notify(&self) {
        // Failing to write the eventfd / pipe only happens when it is full,
        // and a full one already guarantees the loop wakes up.
        let _ = self.poller.notify();
    }
}

/// Stand-in poller for Miri and loom: a flag guarded by a mutex, and a
/// condvar the loop sleeps on. `notify` sets the flag, `wait` consumes it.
#[cfg(any(miri, jsloop_loom))]
pub struct Poller {
    notified: crate::sync::Mutex<bool>,
    condvar: crate::sync::Condvar,
}

#[cfg(any(miri, jsloop_loom))]
impl Poller {
    /// Creates the poller.
    ///
    /// # Errors
    /// Fails if the OS poller cannot be created.
    pub fn new() -> io::Result<Self> {
        Ok(Poller {
            notified: crate::sync::Mutex::new(false),
            condvar: crate::sync::Condvar::new(),
        })
    }

    /// Blocks until `timeout` passes (`None`: forever) or `notify` is called.
    ///
    /// # Errors
    /// Fails if the OS wait fails (not for `EINTR`).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
        let mut notified = crate::sync::lock(&self.notified);
        match timeout {
            None => {
                while !*notified {
                    notified = self.condvar.wait(notified).unwrap_or_else(|e| e.into_inner());
                }
            }
            Some(timeout) if !*notified && !timeout.is_zero() => {
                notified = wait_timeout(&self.condvar, notified, timeout);
            }
            Some(_) => {}
        }
        *notified = false;
        Ok(())
    }

    /// Wakes the loop from `wait`, or makes its next `wait` return at once.
    pub fn notify(&self) {
        *crate::sync::lock(&self.notified) = true;
        self.condvar.notify_one();
    }

    /// No I/O here: there are never events.
    pub(crate) fn take_events(&self, _out: &mut Vec<Readiness>) {}

    /// No sources are ever registered here.
    pub(crate) fn is_edge_triggered(&self) -> bool {
        false
    }
}

#[cfg(all(miri, not(jsloop_loom)))]
fn wait_timeout<'a>(
    condvar: &std::sync::Condvar,
    guard: std::sync::MutexGuard<'a, bool>,
    timeout: Duration,
) -> std::sync::MutexGuard<'a, bool> {
    match condvar.wait_timeout(guard, timeout) {
        Ok((guard, _)) => guard,
        Err(poisoned) => poisoned.into_inner().0,
    }
}

#[cfg(jsloop_loom)]
fn wait_timeout<'a>(
    _condvar: &loom::sync::Condvar,
    guard: loom::sync::MutexGuard<'a, bool>,
    _timeout: Duration,
) -> loom::sync::MutexGuard<'a, bool> {
    // loom has no clock: a timed wait is modelled as an immediate timeout.
    guard
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller").finish_non_exhaustive()
    }
}

#[cfg(all(test, target_os = "linux", not(any(miri, jsloop_loom))))]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn pollings_notifier_carries_the_epoll_data_the_loop_checks_for() {
        use rustix::event::epoll;
        use std::mem::MaybeUninit;
        use std::os::fd::AsFd;

        let poller = polling::Poller::new().unwrap();
        poller.notify().unwrap();
        let mut buffer = [MaybeUninit::<epoll::Event>::uninit(); 4];
        let zero = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
        let (events, _) = epoll::wait(poller.as_fd(), &mut buffer[..], Some(&zero)).unwrap();
        let data: Vec<u64> = events.iter().map(|event| event.data.u64()).collect();
        assert_eq!(data, [POLLING_NOTIFY_DATA]);
    }

    #[test]
    fn every_notify_wakes_a_wait_not_only_the_first() {
        // Each notify goes through polling's hand-over, which re-arms its
        // oneshot notifier; a missed hand-over loses every later notify.
        let poller = Poller::new().unwrap();
        let mut events = Vec::new();
        for _ in 0..3 {
            poller.notify();
            let start = Instant::now();
            poller.wait(Some(Duration::from_secs(10))).unwrap();
            assert!(start.elapsed() < Duration::from_secs(5), "a notify did not wake the wait");
            poller.take_events(&mut events);
            assert!(events.is_empty(), "the notifier surfaced as I/O: {events:?}");
        }
    }
}
