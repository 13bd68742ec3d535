//! Poll phase, OS side, on readiness: the loop sleeps in `epoll_wait`
//! (Linux) or in `polling`'s wait (kqueue, event ports elsewhere).
//!
//! Sources are registered edge-triggered where the OS allows it (epoll,
//! kqueue): one registration for the life of the socket and no re-arming
//! syscall per wait; elsewhere oneshot, re-armed by each wait. `notify` is
//! sticky: a notify while the loop is not waiting makes its next wait return
//! at once. On Linux it writes an eventfd of the loop's own, registered
//! edge-triggered, so a remote wake costs one `write` and the wait it ends
//! (each write is a new edge; the counter is never read back). Elsewhere it
//! is polling's notifier.

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use super::Readiness;

/// How many events one Linux `epoll_wait` takes at most.
#[cfg(target_os = "linux")]
const EPOLL_BATCH: usize = 256;

/// The `epoll_data` of polling's own notifier (and of its timerfd): its
/// reserved key `usize::MAX`, widened as polling widens every key. On a
/// 32-bit target that is `0xffff_ffff`, not `u64::MAX`; a check against
/// `u64::MAX` there would miss every notify after the first (polling's
/// oneshot notifier is re-armed only by its own wait).
#[cfg(target_os = "linux")]
const POLLING_NOTIFY_DATA: u64 = usize::MAX as u64;

/// The `epoll_data` of the loop's own eventfd (Linux). Source keys are
/// table indexes, far below it, and polling's reserved key is `usize::MAX`.
#[cfg(target_os = "linux")]
const WAKE_DATA: u64 = usize::MAX as u64 - 1;

/// `polling::Poller` plus a reusable event buffer.
pub(super) struct Epoll {
    poller: polling::Poller,
    /// Events from the last `wait`; only the loop thread calls `wait`.
    events: std::sync::Mutex<polling::Events>,
    /// Sources are registered edge-triggered (else oneshot, re-armed).
    edge: bool,
    /// Linux: events of our own `epoll_wait` on polling's epoll descriptor.
    #[cfg(target_os = "linux")]
    epoll_events: std::sync::Mutex<Vec<Readiness>>,
    /// Linux: what `notify` writes (module doc).
    #[cfg(target_os = "linux")]
    wake: std::os::fd::OwnedFd,
}

impl Epoll {
    pub(super) fn new() -> io::Result<Self> {
        let poller = polling::Poller::new()?;
        let edge = poller.supports_edge();
        #[cfg(target_os = "linux")]
        let wake = {
            use rustix::event::epoll::{self, EventData, EventFlags as Flags};
            use rustix::event::{EventfdFlags, eventfd};
            use std::os::fd::AsFd;
            let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
            let data = EventData::new_u64(WAKE_DATA);
            epoll::add(poller.as_fd(), &wake, data, Flags::IN | Flags::ET)?;
            wake
        };
        Ok(Epoll {
            poller,
            events: std::sync::Mutex::new(polling::Events::new()),
            edge,
            #[cfg(target_os = "linux")]
            epoll_events: std::sync::Mutex::new(Vec::with_capacity(EPOLL_BATCH)),
            #[cfg(target_os = "linux")]
            wake,
        })
    }

    pub(super) fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
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
            if key == WAKE_DATA {
                // A notify: nothing to dispatch, the wait has ended.
                continue;
            }
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

    pub(super) fn take_events(&self, out: &mut Vec<Readiness>) {
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

    /// Linux: registers `fd` under `key`, edge-triggered, for both
    /// directions and for the peer's hang-up (`EPOLLRDHUP`, which polling's
    /// interest set lacks and which lets a short read prove a socket
    /// drained). The loop's own `epoll_wait` reads these events.
    #[cfg(target_os = "linux")]
    pub(super) fn register(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        use rustix::event::epoll::{self, EventData, EventFlags as Flags};
        use std::os::fd::AsFd;
        let interest = Flags::IN | Flags::OUT | Flags::RDHUP | Flags::ET;
        epoll::add(self.poller.as_fd(), fd, EventData::new_u64(key as u64), interest)?;
        Ok(())
    }

    /// Elsewhere: through polling. Edge-triggered sources listen for both
    /// directions for good; oneshot ones are armed by each wait.
    #[cfg(not(target_os = "linux"))]
    pub(super) fn register(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let interest = polling::Event::new(key, self.edge, self.edge);
        // SAFETY: `polling` requires the source to be deleted from the poller
        // before it is closed. `Async` owns the I/O object and calls
        // `Source::deregister` before dropping it or handing it back, and a
        // source that moves deletes itself from the poller it leaves.
        unsafe { self.poller.add_with_mode(fd.as_raw_fd(), interest, self.mode()) }
    }

    /// The mode polling registers and re-arms sources in.
    fn mode(&self) -> polling::PollMode {
        if self.edge { polling::PollMode::Edge } else { polling::PollMode::Oneshot }
    }

    pub(super) fn is_edge_triggered(&self) -> bool {
        self.edge || cfg!(target_os = "linux")
    }

    pub(super) fn modify(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        let event = polling::Event::new(key, readable, writable);
        self.poller.modify_with_mode(fd, event, self.mode())
    }

    pub(super) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.poller.delete(fd)
    }

    pub(super) fn notify(&self) {
        // Failing to write the eventfd / pipe only happens when it is full,
        // and a full one already guarantees the loop wakes up.
        #[cfg(target_os = "linux")]
        let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
        #[cfg(not(target_os = "linux"))]
        let _ = self.poller.notify();
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

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
}
