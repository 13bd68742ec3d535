//! Signals, loop side: the loop's wake pipe, read in the poll phase, and
//! the listeners and streams each delivery goes to.
//!
//! A loop that listens for a signal has one [`Driver`] (made on first use:
//! a loop that never listens pays nothing). Its wake pipe's read end is a
//! source on the loop's poller with a [`loop_waker`] parked on it, so a
//! byte from a signal handler (`handler.rs`) makes the poll phase run
//! [`Driver::deliver`] as the macrotask of that readiness event, its
//! checkpoint after it. A delivery drains the pipe, then takes the flag of
//! each signal the loop listens for (in the order the loop first listened
//! for them) and hands each signal that came to its streams (their tasks
//! run in the checkpoint) and to its `on_signal` listeners, in the order
//! they were added: Node's synchronous `emit` of `process.on('SIGINT')`.
//!
//! Liveness: the pipe's source is ref'd while a ref'd stream waits
//! (`ctrl_c().await`, a polled [`Signal`](super::Signal)), so those keep
//! the loop alive; a listener alone does not, as in Node.

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::SignalKind;
use super::handler::Registration;
use crate::event_loop::Core;
use crate::io::Async;
use crate::io::source::READ;
use crate::listeners::{ListenerKey, Listeners};
use crate::process::loop_waker::loop_waker;

/// An `on_signal` listener (taken out of its cell while it runs).
pub(crate) type Listener = Rc<RefCell<dyn FnMut()>>;

/// The loop's signal state: a field of the loop's `Core`, empty until the
/// first `signal` / `ctrl_c` / `on_signal` (or a child watched through
/// `SIGCHLD`) on this loop.
#[derive(Default)]
pub(crate) struct LoopSignals {
    driver: RefCell<Option<Rc<Driver>>>,
}

impl LoopSignals {
    /// This loop's driver, made on first use.
    ///
    /// # Errors
    ///
    /// If the wake pipe cannot be made or registered (out of descriptors).
    pub(crate) fn driver(&self, core: &Core) -> io::Result<Rc<Driver>> {
        if let Some(driver) = &*self.driver.borrow() {
            return Ok(driver.clone());
        }
        let driver = Driver::new(core)?;
        *self.driver.borrow_mut() = Some(driver.clone());
        Ok(driver)
    }

    /// The wake pipe's reader was woken: deliver what came.
    fn deliver(&self, core: &Core) {
        let driver = self.driver.borrow().clone();
        if let Some(driver) = driver {
            driver.deliver(core);
        }
    }
}

/// One loop's signal listening.
pub(crate) struct Driver {
    /// The loop, to tell a stream whose runtime is gone.
    core: Weak<Core>,
    /// The wake pipe's read end, on the loop's poller.
    reader: Async<OwnedFd>,
    /// Its write end (non-blocking), shared by this loop's handler actions.
    writer: Arc<OwnedFd>,
    /// Parked on `reader`: runs [`Driver::deliver`] on the loop.
    waker: Waker,
    /// Per signal listened for, in the order first listened for.
    slots: RefCell<Vec<Slot>>,
    /// Ref'd streams with a waker: while non-zero, `reader` is ref'd.
    waiting: Cell<usize>,
}

/// One signal a loop listens for.
struct Slot {
    kind: SignalKind,
    /// The handler action; dropped (unregistered) with the slot, once the
    /// last listener and stream of this signal are gone.
    registration: Registration,
    listeners: Listeners<Listener>,
    streams: Listeners<Rc<Subscriber>>,
}

impl Driver {
    fn new(core: &Core) -> io::Result<Rc<Driver>> {
        let (reader, writer) = UnixStream::pair()?;
        // A handler must never block on a full pipe.
        writer.set_nonblocking(true)?;
        let reader = Async::new(OwnedFd::from(reader))?;
        // Only a waiting stream keeps the loop alive (see the module doc).
        reader.unref();
        let driver = Rc::new(Driver {
            core: core.weak(),
            reader,
            writer: Arc::new(OwnedFd::from(writer)),
            waker: loop_waker(core.id(), |core| core.signals.deliver(core)),
            slots: RefCell::default(),
            waiting: Cell::new(0),
        });
        driver.arm();
        Ok(driver)
    }

    /// Drains the wake pipe and parks the waker on it for the next byte.
    fn arm(&self) {
        let mut cx = Context::from_waker(&self.waker);
        let mut buf = [0; 64];
        loop {
            let read = |fd: &OwnedFd| Ok(rustix::io::read(fd, &mut buf)?);
            match self.reader.poll_op(READ, Some(64), &mut cx, read) {
                Poll::Ready(Ok(n)) if n > 0 => continue,
                // Waiting for the next byte; or the pipe broke (the runtime
                // is gone): nothing more can come.
                Poll::Pending | Poll::Ready(_) => return,
            }
        }
    }

    /// The poll-phase macrotask of a byte on the wake pipe.
    fn deliver(&self, core: &Core) {
        // Drain first, then take the flags (see `handler.rs`).
        self.arm();
        // A panicking listener (with no panic handler to take it) unwinds out
        // of the loop; the signals not yet delivered wait for its next poll
        // phase, woken by a byte of our own.
        let redeliver = RedeliverOnUnwind(&self.writer);
        let kinds: Vec<SignalKind> = self.slots.borrow().iter().map(|slot| slot.kind).collect();
        for kind in kinds {
            let came = self.with_slot(kind, |slot| slot.registration.take());
            if came == Some(true) {
                self.emit(core, kind);
            }
        }
        std::mem::forget(redeliver);
    }

    /// Hands one signal to its streams, then runs its listeners.
    fn emit(&self, core: &Core, kind: SignalKind) {
        // Copies: a listener may add or remove listeners (and a removed one
        // still runs this time, as with an `emit` in Node).
        let Some((streams, listeners)) = self.with_slot(kind, |slot| {
            let streams: Vec<Rc<Subscriber>> = slot.streams.iter().cloned().collect();
            let listeners: Vec<Listener> = slot.listeners.iter().cloned().collect();
            (streams, listeners)
        }) else {
            return;
        };
        for stream in streams {
            stream.deliver(self);
        }
        for listener in listeners {
            core.invoke(|| {
                if let Ok(mut listener) = listener.try_borrow_mut() {
                    listener();
                }
            });
        }
    }

    fn with_slot<R>(&self, kind: SignalKind, f: impl FnOnce(&mut Slot) -> R) -> Option<R> {
        self.slots.borrow_mut().iter_mut().find(|slot| slot.kind == kind).map(f)
    }

    /// Runs `f` on `kind`'s slot, registering a handler action first if
    /// this loop does not listen for `kind` yet.
    fn with_new_or_slot<R>(
        &self,
        kind: SignalKind,
        f: impl FnOnce(&mut Slot) -> R,
    ) -> io::Result<R> {
        let mut slots = self.slots.borrow_mut();
        let index = match slots.iter().position(|slot| slot.kind == kind) {
            Some(index) => index,
            None => {
                let registration = Registration::new(kind, self.writer.clone())?;
                slots.push(Slot {
                    kind,
                    registration,
                    listeners: Listeners::new(),
                    streams: Listeners::new(),
                });
                slots.len() - 1
            }
        };
        Ok(f(&mut slots[index]))
    }

    /// Stops listening for `kind` once nothing listens for it any more.
    fn release_if_unused(&self, kind: SignalKind) {
        let mut slots = self.slots.borrow_mut();
        if let Some(index) = slots.iter().position(|slot| slot.kind == kind) {
            if slots[index].listeners.is_empty() && slots[index].streams.is_empty() {
                slots.remove(index);
            }
        }
    }

    /// Adds an `on_signal` listener.
    pub(crate) fn add_listener(
        &self,
        kind: SignalKind,
        listener: Listener,
    ) -> io::Result<ListenerKey> {
        self.with_new_or_slot(kind, |slot| slot.listeners.add(listener))
    }

    /// Takes out an `on_signal` listener; `false` if it was not there.
    pub(crate) fn remove_listener(&self, kind: SignalKind, key: ListenerKey) -> bool {
        let removed = self.with_slot(kind, |slot| slot.listeners.remove(key)).flatten();
        // Dropped after the slots' borrow: a listener's captures may hold
        // streams, whose drop reaches the slots again.
        let found = removed.is_some();
        drop(removed);
        self.release_if_unused(kind);
        found
    }

    /// Adds a stream.
    pub(crate) fn subscribe(&self, kind: SignalKind) -> io::Result<(ListenerKey, Rc<Subscriber>)> {
        let subscriber = Rc::new(Subscriber::default());
        let key = self.with_new_or_slot(kind, |slot| slot.streams.add(subscriber.clone()))?;
        Ok((key, subscriber))
    }

    /// Takes out a stream (being dropped).
    pub(crate) fn unsubscribe(&self, kind: SignalKind, key: ListenerKey, subscriber: &Subscriber) {
        subscriber.clear_waker(self);
        self.with_slot(kind, |slot| slot.streams.remove(key));
        self.release_if_unused(kind);
    }

    /// Whether the runtime this driver belongs to still exists.
    pub(crate) fn runtime_alive(&self) -> bool {
        self.core.strong_count() != 0
    }

    /// A waiting ref'd stream came or went.
    fn count_waiting(&self, waiting: bool) {
        let before = self.waiting.get();
        let after = if waiting { before + 1 } else { before - 1 };
        self.waiting.set(after);
        if (before == 0) != (after == 0) {
            if after == 0 {
                self.reader.unref();
            } else {
                self.reader.ref_();
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Unregister the actions before their pipe's read end closes.
        self.slots.get_mut().clear();
    }
}

/// Writes a byte to the wake pipe if dropped by an unwinding panic.
struct RedeliverOnUnwind<'a>(&'a OwnedFd);

impl Drop for RedeliverOnUnwind<'_> {
    fn drop(&mut self) {
        let _ = rustix::io::write(self.0, &[1]);
    }
}

/// A stream's end of a slot: whether a delivery came that it has not
/// taken, and the waker of the task waiting for one.
#[derive(Default)]
pub(crate) struct Subscriber {
    delivered: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    /// Waiting keeps the loop alive (the default).
    unrefd: Cell<bool>,
    /// Counted in the driver's `waiting`.
    counted: Cell<bool>,
}

impl Subscriber {
    /// `Ready` if a delivery came since the last one taken, else waits.
    pub(crate) fn poll(&self, driver: &Driver, cx: &mut Context<'_>) -> Poll<()> {
        if self.delivered.replace(false) {
            return Poll::Ready(());
        }
        match &mut *self.waker.borrow_mut() {
            Some(waker) => waker.clone_from(cx.waker()),
            slot => *slot = Some(cx.waker().clone()),
        }
        self.recount(driver);
        Poll::Pending
    }

    /// The task stopped waiting (its `recv` future was dropped).
    pub(crate) fn clear_waker(&self, driver: &Driver) {
        let waker = self.waker.take();
        self.recount(driver);
        drop(waker);
    }

    /// Whether waiting keeps the loop alive.
    pub(crate) fn set_refd(&self, driver: &Driver, refd: bool) {
        self.unrefd.set(!refd);
        self.recount(driver);
    }

    fn deliver(&self, driver: &Driver) {
        self.delivered.set(true);
        let waker = self.waker.take();
        self.recount(driver);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn recount(&self, driver: &Driver) {
        let waiting = !self.unrefd.get() && self.waker.borrow().is_some();
        if self.counted.replace(waiting) != waiting {
            driver.count_waiting(waiting);
        }
    }
}
