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
//! A direction with a waiter keeps the loop alive (a ref'd handle, in
//! libuv's words) unless its source was `unref`'d. Dropping a waiting future
//! takes its waker out, so nothing stale is woken later.
//!
//! Some readiness the poller cannot report: that a retry may now succeed
//! because a descriptor was freed (a listener out of descriptors) or a
//! backoff ran out. [`Source::make_ready`] marks it by hand, as an event
//! would, and [`Source::make_ready_on_next_close`] has the next close of a
//! descriptor of this loop (an `Async` dropped) do so.

use std::cell::{Cell, RefCell};
use std::io;
#[cfg(not(any(miri, jsloop_loom)))]
use std::os::fd::AsFd;
#[cfg(all(not(target_os = "linux"), not(any(miri, jsloop_loom))))]
use std::os::fd::AsRawFd;
use std::os::fd::{BorrowedFd, RawFd};
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

#[cfg(not(any(miri, jsloop_loom)))]
use crate::context;
use crate::event_loop::Core;
use crate::listeners::{ListenerKey, Listeners};
use crate::reactor::{Poller, Readiness};

/// Index of the read direction.
pub(crate) const READ: usize = 0;
/// Index of the write direction.
pub(crate) const WRITE: usize = 1;

/// The message of an operation on a socket whose runtime is gone.
const RUNTIME_GONE: &str = "the jsloop runtime this socket was registered with is gone";

/// A socket registered with the loop's poller.
pub(crate) struct Source {
    key: usize,
    /// The descriptor watched, to name the socket in task dumps (only
    /// read by them; `Async` owns it).
    fd: RawFd,
    core: Weak<Core>,
    directions: RefCell<[Direction; 2]>,
    /// Waiting on this source keeps the loop alive.
    refd: Cell<bool>,
    /// Registered edge-triggered (else oneshot).
    edge: bool,
    /// The peer said it will send nothing more (Linux reports it).
    read_closed: Cell<bool>,
    /// The last event could not say whether the peer hung up.
    hangup_unknown: Cell<bool>,
}

#[derive(Default)]
struct Direction {
    /// A readiness event came that no waiter has taken yet.
    ready: bool,
    /// An operation found nothing to do since the last event.
    drained: bool,
    /// Futures waiting for `ready` (`readable()`, `read_with`, ...).
    waiters: Listeners<Waker>,
    /// The waker of the `poll_readable` / `poll_read` style callers, which
    /// have nowhere to keep a key.
    poller: Option<Waker>,
}

impl Direction {
    fn has_waiters(&self) -> bool {
        self.poller.is_some() || !self.waiters.is_empty()
    }
}

/// The loop's table of registered sources.
#[derive(Default)]
pub(crate) struct IoSources {
    slots: RefCell<Vec<Option<Weak<Source>>>>,
    free: RefCell<Vec<usize>>,
    /// Keys freed since the last batch of events was dispatched: reused
    /// only after it, so that an event for a closed socket never reaches a
    /// new one under the same key.
    freed: RefCell<Vec<usize>>,
    /// Directions of ref'd sources with at least one waiter.
    waiting: Cell<usize>,
    /// Events taken from the poller, being dispatched (buffer reused).
    events: RefCell<Vec<Readiness>>,
    /// The first of `events` not dispatched yet: a panic escaping a
    /// callback leaves the rest for the next poll phase, so no readiness
    /// edge is lost.
    next_event: Cell<usize>,
    /// Directions to mark ready when the loop next closes a descriptor.
    ready_on_close: RefCell<Vec<(Weak<Source>, usize)>>,
}

impl IoSources {
    /// Whether some task waits on a ref'd source (the loop stays alive).
    pub(crate) fn has_refs(&self) -> bool {
        self.waiting.get() != 0
    }

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

    fn get(&self, key: usize) -> Option<Rc<Source>> {
        self.slots.borrow().get(key)?.as_ref()?.upgrade()
    }

    fn count_waiting(&self, delta: isize) {
        self.waiting.set(self.waiting.get().wrapping_add_signed(delta));
    }

    /// Shows a task dump every waiter of every open socket: its
    /// descriptor, direction ([`READ`] / [`WRITE`]) and waker. Sources and
    /// directions that are being changed right now (a foreign waker's
    /// `clone` can run inside `poll_ready`) are skipped, never panicked on.
    pub(crate) fn visit_waiters(&self, mut visit: impl FnMut(RawFd, usize, &Waker)) {
        // Upgraded first and inspected after the table's borrow ends.
        let sources: Vec<Rc<Source>> = match self.slots.try_borrow() {
            Ok(slots) => slots.iter().flatten().filter_map(Weak::upgrade).collect(),
            Err(_) => return,
        };
        for source in &sources {
            let Ok(directions) = source.directions.try_borrow() else { continue };
            for (direction, entry) in directions.iter().enumerate() {
                for waker in entry.waiters.iter().chain(&entry.poller) {
                    visit(source.fd, direction, waker);
                }
            }
        }
    }

    /// The loop closed one of its descriptors: whoever waits for a free one
    /// may retry now.
    pub(crate) fn descriptor_closed(&self) {
        let waiting = self.ready_on_close.take();
        for (source, direction) in waiting {
            if let Some(source) = source.upgrade() {
                source.make_ready(direction);
            }
        }
    }
}

impl IoSources {
    /// Takes the I/O events of the last poller wait; the poll phase then
    /// dispatches them one at a time.
    pub(crate) fn take_events(&self, poller: &Poller) {
        poller.take_events(&mut self.events.borrow_mut());
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
        events.clear();
        self.next_event.set(0);
        self.free.borrow_mut().append(&mut self.freed.borrow_mut());
        None
    }

    /// Events a panic left undispatched: the next poll phase must not sleep.
    pub(crate) fn has_undispatched(&self) -> bool {
        self.next_event.get() < self.events.borrow().len()
    }

    /// Marks a source ready and wakes its waiters: an I/O callback.
    pub(crate) fn dispatch(&self, event: Readiness) {
        if let Some(source) = self.get(event.key) {
            if event.read_closed {
                source.read_closed.set(true);
            }
            source.hangup_unknown.set(!event.hangup_known);
            // A oneshot registration is disarmed by any event: waiters of
            // the other direction re-arm it when they poll again.
            let oneshot = !source.edge;
            source.fire(READ, event.readable, oneshot);
            source.fire(WRITE, event.writable, oneshot);
        }
    }
}

impl Source {
    /// Registers `fd` with the current runtime's poller.
    ///
    /// The caller must deregister (`Source::deregister`) before `fd` is
    /// closed; `Async` does, in its `Drop` and `into_inner`.
    #[cfg(not(any(miri, jsloop_loom)))]
    pub(crate) fn register(fd: BorrowedFd<'_>) -> io::Result<Rc<Source>> {
        context::with_current(|core| {
            let key = core.io.reserve();
            let poller = &core.shared.poller;
            let edge = poller.is_edge_triggered();
            if let Err(error) = add_to_poller(poller, fd, key) {
                core.io.release(key);
                return Err(error);
            }
            let source = Rc::new(Source {
                key,
                fd: std::os::fd::AsRawFd::as_raw_fd(&fd),
                core: core.weak(),
                directions: RefCell::default(),
                refd: Cell::new(true),
                edge,
                read_closed: Cell::new(false),
                hangup_unknown: Cell::new(!cfg!(target_os = "linux")),
            });
            // Until an operation says otherwise, assume it may be ready.
            for direction in source.directions.borrow_mut().iter_mut() {
                direction.ready = true;
            }
            core.io.slots.borrow_mut()[key] = Some(Rc::downgrade(&source));
            Ok(source)
        })
    }

    /// Without a real poller (Miri, loom) there is no I/O.
    #[cfg(any(miri, jsloop_loom))]
    pub(crate) fn register(_fd: BorrowedFd<'_>) -> io::Result<Rc<Source>> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "no I/O under Miri or loom"))
    }

    /// Removes `fd` from the poller (before it is closed or handed back).
    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>) {
        #[cfg(not(any(miri, jsloop_loom)))]
        if let Some(core) = self.core.upgrade() {
            // It can only fail if it was never added (or already closed).
            let _ = core.shared.poller.delete(fd.as_fd());
        }
        #[cfg(any(miri, jsloop_loom))]
        let _ = fd;
    }

    /// Whether a transfer shorter than asked proves the direction drained
    /// (a write: the send buffer full; a read: the receive buffer empty),
    /// so that the next one can wait for an event without a syscall that
    /// would only say `WouldBlock`. Only with edge-triggered readiness, and
    /// for reads only while hang-ups are reported (Linux's own events): a
    /// FIN that came with the data would otherwise never be announced again.
    pub(crate) fn short_transfer_drains(&self, direction: usize) -> bool {
        self.edge && (direction == WRITE || (cfg!(target_os = "linux") && !self.read_closed.get()))
    }

    /// Whether an operation is worth trying (not drained since the last
    /// event).
    pub(crate) fn may_be_ready(&self, direction: usize) -> bool {
        !self.directions.borrow()[direction].drained
    }

    /// An operation hit `WouldBlock` (or proved the direction drained):
    /// wait for the next event.
    pub(crate) fn mark_drained(&self, direction: usize) {
        let entry = &mut self.directions.borrow_mut()[direction];
        entry.drained = true;
        entry.ready = false;
    }

    /// A waiter took the readiness event (`readable()` resolved).
    pub(crate) fn take_ready(&self, direction: usize) {
        self.directions.borrow_mut()[direction].ready = false;
    }

    /// Ready if the direction is marked ready; else registers `cx`'s waker
    /// (under `key`, or as the single poll waker when `key` is `None`).
    pub(crate) fn poll_ready(
        &self,
        direction: usize,
        fd: BorrowedFd<'_>,
        key: Option<&mut Option<ListenerKey>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let Some(core) = self.core.upgrade() else {
            return Poll::Ready(Err(io::Error::other(RUNTIME_GONE)));
        };
        let mut directions = self.directions.borrow_mut();
        let entry = &mut directions[direction];
        if entry.ready {
            return Poll::Ready(Ok(()));
        }
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
        if !had_waiters && self.refd.get() {
            core.io.count_waiting(1);
        }
        let interest = [directions[READ].has_waiters(), directions[WRITE].has_waiters()];
        drop(directions);
        if !self.edge {
            #[cfg(not(any(miri, jsloop_loom)))]
            if let Err(error) =
                core.shared.poller.modify(fd, self.key, interest[READ], interest[WRITE])
            {
                // Not armed: take the registration back out.
                match registered {
                    Some(key) => self.remove_waiter(direction, key),
                    None if !keyed => self.remove_poll_waiter(direction),
                    None => {}
                }
                return Poll::Ready(Err(error));
            }
        }
        #[cfg(any(miri, jsloop_loom))]
        let _ = (fd, interest, keyed, registered);
        Poll::Pending
    }

    /// Takes out the poll-style waiter (its caller gave up).
    #[cfg_attr(any(miri, jsloop_loom), allow(dead_code))]
    fn remove_poll_waiter(&self, direction: usize) {
        let mut directions = self.directions.borrow_mut();
        let entry = &mut directions[direction];
        let removed = entry.poller.take();
        let now_idle = removed.is_some() && !entry.has_waiters();
        drop(directions);
        drop(removed);
        self.went_idle(now_idle);
    }

    /// Takes out a waiter whose future was dropped.
    pub(crate) fn remove_waiter(&self, direction: usize, key: ListenerKey) {
        let mut directions = self.directions.borrow_mut();
        let entry = &mut directions[direction];
        let removed = entry.waiters.remove(key);
        let now_idle = removed.is_some() && !entry.has_waiters();
        drop(directions);
        drop(removed);
        self.went_idle(now_idle);
    }

    /// A direction lost its last waiter: it no longer keeps the loop alive.
    fn went_idle(&self, now_idle: bool) {
        if now_idle && self.refd.get() {
            if let Some(core) = self.core.upgrade() {
                core.io.count_waiting(-1);
            }
        }
    }

    /// A readiness event for `direction` (or, for a oneshot registration, an
    /// event for the other one: its waiters must poll again to re-arm).
    fn fire(&self, direction: usize, ready: bool, oneshot: bool) {
        if !ready && !oneshot {
            return;
        }
        let mut directions = self.directions.borrow_mut();
        let entry = &mut directions[direction];
        if ready {
            entry.ready = true;
            entry.drained = false;
        }
        let had_waiters = entry.has_waiters();
        let waiters: Vec<Waker> = entry.waiters.take_all().chain(entry.poller.take()).collect();
        drop(directions);
        if had_waiters && self.refd.get() {
            if let Some(core) = self.core.upgrade() {
                core.io.count_waiting(-1);
            }
        }
        for waker in waiters {
            waker.wake();
        }
    }

    /// Marks `direction` ready and wakes its waiters, as a readiness event
    /// would: for readiness the poller cannot report. A spurious mark costs
    /// one operation that finds `WouldBlock`, after which the direction waits
    /// for a real event again.
    pub(crate) fn make_ready(&self, direction: usize) {
        self.fire(direction, true, false);
    }

    /// Has the loop's next descriptor close mark `direction` ready (once).
    pub(crate) fn make_ready_on_next_close(self: &Rc<Self>, direction: usize) {
        let Some(core) = self.core.upgrade() else { return };
        let mut waiting = core.io.ready_on_close.borrow_mut();
        let this = Rc::downgrade(self);
        if !waiting.iter().any(|(source, d)| *d == direction && source.ptr_eq(&this)) {
            waiting.push((this, direction));
        }
    }

    /// The descriptor this source watched is being closed (its `Async` is
    /// dropped).
    pub(crate) fn closing(&self) {
        if let Some(core) = self.core.upgrade() {
            core.io.descriptor_closed();
        }
    }

    /// Whether waiting on this source keeps the loop alive (the default).
    pub(crate) fn set_refd(&self, refd: bool) {
        if self.refd.replace(refd) == refd {
            return;
        }
        let directions = self.directions.borrow();
        let waiting = directions.iter().filter(|d| d.has_waiters()).count() as isize;
        drop(directions);
        if let Some(core) = self.core.upgrade() {
            core.io.count_waiting(if refd { waiting } else { -waiting });
        }
    }

    pub(crate) fn is_refd(&self) -> bool {
        self.refd.get()
    }
}

/// Linux: the loop's own registration (edge-triggered, with `EPOLLRDHUP`).
#[cfg(all(target_os = "linux", not(any(miri, jsloop_loom))))]
fn add_to_poller(poller: &Poller, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
    poller.register(fd, key)
}

/// Elsewhere: through polling. Edge-triggered sources listen for both
/// directions for good; oneshot ones are armed by each wait.
#[cfg(all(not(target_os = "linux"), not(any(miri, jsloop_loom))))]
fn add_to_poller(poller: &Poller, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
    let edge = poller.is_edge_triggered();
    let interest = polling::Event::new(key, edge, edge);
    // SAFETY: `polling` requires the source to be deleted from the poller
    // before it is closed. `Async` owns the I/O object and calls
    // `Source::deregister` before dropping it or handing it back.
    unsafe { poller.os().add_with_mode(fd.as_raw_fd(), interest, poller.mode()) }
}

impl Drop for Source {
    fn drop(&mut self) {
        if let Some(core) = self.core.upgrade() {
            if self.refd.get() {
                let waiting = self.directions.get_mut().iter().filter(|d| d.has_waiters()).count();
                core.io.count_waiting(-(waiting as isize));
            }
            core.io.release(self.key);
        }
    }
}
