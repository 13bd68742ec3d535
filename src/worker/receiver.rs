//! Poll phase, one port's receiving end: the [`Inbox`] its peer posts
//! into, the loop it is bound to, and how the poll phase delivers to it.
//!
//! `PortShared` is held by the port (which receives from it) and by its
//! peer (which posts into it), on any threads. Everything that runs user
//! code or touches the loop's per-port state (`PortSlot`) happens on the
//! owning loop's thread, reached through `context::with_current`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll, Waker};

use super::inbox::Inbox;
use super::loop_ports::PortSlot;
use crate::context;
use crate::event_loop::Core;
use crate::remote::{RemoteEvent, Shared};

/// What the poll phase asks of a port it was told about (the event loop's
/// view of a `PortShared<T>`, whatever its `T`).
pub(crate) trait PortDelivery: Send + Sync {
    /// Starts a batch: the number of messages queued now. Also settles the
    /// port's ref, which `unref` from another thread left to the loop.
    fn start_batch(&self, core: &Core) -> usize;
    /// A message is queued and a listener or a waiting receiver takes it.
    fn ready_for_next(&self, core: &Core) -> bool;
    /// Hands the oldest message over: calls the listener, or lets the
    /// waiting receiver take it.
    fn deliver_next(&self, core: &Core);
    /// The channel is closed and every message was delivered.
    fn close_due(&self, core: &Core) -> bool;
    /// Node's `'close'`: runs the close listeners, ends the stream, and the
    /// port stops keeping the loop alive.
    fn deliver_close(&self, core: &Core);
}

/// Port ids, for the loop's slots; never reused.
static NEXT_PORT_ID: AtomicU64 = AtomicU64::new(1);

/// The loop a port is bound to.
struct Owner {
    runtime_id: u32,
    shared: Weak<Shared>,
    /// The port's index in that loop's slots.
    slot: u32,
}

/// One port's receiving side, shared by the port and its peer (which posts
/// into it).
pub(super) struct PortShared<T> {
    /// Its key in the owning loop's slots (and its name in `Debug`).
    pub(super) id: u64,
    inbox: Inbox<T>,
    owner: OnceLock<Owner>,
    /// `unref` clears it: a listener or waiter no longer keeps the loop
    /// alive.
    refed: AtomicBool,
}

impl<T: Send + 'static> PortShared<T> {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(PortShared {
            id: NEXT_PORT_ID.fetch_add(1, Ordering::Relaxed),
            inbox: Inbox::new(),
            owner: OnceLock::new(),
            refed: AtomicBool::new(true),
        })
    }

    /// Tells the owning loop to look at this port, once per batch. An
    /// unbound port tells nobody: binding looks at the inbox.
    fn announce(self: &Arc<Self>) {
        let Some(owner) = self.owner.get() else { return };
        if self.inbox.mark_notified() {
            if let Some(shared) = owner.shared.upgrade() {
                shared.push(RemoteEvent::Port(self.clone()));
            }
        }
    }

    /// Runs `f` if this thread runs the loop the port is bound to.
    fn on_owner<R>(&self, f: impl FnOnce(&Core) -> R) -> Option<R> {
        let owner = self.owner.get()?;
        context::try_with_current(|core| (core.id() == owner.runtime_id).then(|| f(core)))?
    }

    /// Binds the port to `core` on its first receive there; panics if it
    /// belongs to another runtime.
    fn bind(self: &Arc<Self>, core: &Core) {
        let mut fresh = false;
        let owner = self.owner.get_or_init(|| {
            fresh = true;
            let slot = core.ports.slots.borrow_mut().insert(self.id);
            Owner { runtime_id: core.id(), shared: Arc::downgrade(&core.shared), slot }
        });
        assert!(
            owner.runtime_id == core.id(),
            "jsloop: this MessagePort belongs to another runtime (the first one that received \
             on it); receive on it only there, or post to it from here"
        );
        if fresh {
            // Posted before the port had a loop: nobody was told yet.
            if self.inbox.has_messages() || self.inbox.is_closed() {
                self.announce();
            }
        }
    }

    /// Runs `f` on the port's slot in `core` (the loop it is bound to), if
    /// it still has one.
    fn with_slot<R>(&self, core: &Core, f: impl FnOnce(&mut PortSlot) -> R) -> Option<R> {
        let slot = self.owner.get()?.slot;
        core.ports.slots.borrow_mut().get_mut(slot, self.id).map(f)
    }

    /// Counts the port in the loop's refs while it has a receiver and is
    /// ref'd.
    fn sync_ref(&self, core: &Core) {
        self.with_slot(core, |slot| self.count_ref(core, slot));
    }

    /// [`sync_ref`](Self::sync_ref) with the slot at hand (one map lookup
    /// per message saved on the delivery path).
    fn count_ref(&self, core: &Core, slot: &mut PortSlot) {
        let wants = self.refed.load(Ordering::Acquire) && (slot.listening || slot.waiter.is_some());
        core.ports.set_counted(slot, wants);
    }

    pub(super) fn poll_recv(self: &Arc<Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        context::with_current(|core| {
            self.bind(core);
            let polled = self.with_slot(core, |slot| {
                if slot.permits > 0 {
                    slot.permits -= 1;
                    if let Some(message) = self.inbox.take() {
                        return Poll::Ready(Some(message));
                    }
                    // `receive_message_on_port` took it first.
                    slot.permits = 0;
                }
                match &slot.waiter {
                    Some(waiter) if waiter.will_wake(cx.waker()) => {}
                    _ => slot.waiter = Some(cx.waker().clone()),
                }
                self.count_ref(core, slot);
                Poll::Pending
            });
            match polled {
                // No slot: the close was delivered.
                None => Poll::Ready(None),
                Some(Poll::Pending) => {
                    // Left over from a batch nobody was waiting for. Not
                    // while the port is announced (mid-batch, each `recv`
                    // lands here): that batch takes them.
                    if !self.inbox.is_notified() && self.inbox.has_messages() {
                        self.announce();
                    }
                    Poll::Pending
                }
                Some(ready) => ready,
            }
        })
    }

    /// Queues `message` for this port (from its peer, on any thread) and
    /// announces the batch; gives it back if the channel is closed.
    pub(super) fn post(self: &Arc<Self>, message: T) -> Result<(), T> {
        self.inbox.post(message)?;
        // Announced already: the batch takes this message along
        // (`Inbox::is_notified`). Saves a swap per post in a burst.
        if !self.inbox.is_notified() {
            self.announce();
        }
        Ok(())
    }

    /// `receive_message_on_port`: the oldest message, taken at once.
    pub(super) fn take(&self) -> Option<T> {
        self.inbox.take()
    }

    /// `on_message`: binds the port and sets its listener; messages that
    /// were waiting for one are announced.
    pub(super) fn set_listener(self: &Arc<Self>, listener: Listener<T>) {
        context::with_current(|core| {
            self.bind(core);
            let previous = self.with_slot(core, |slot| {
                slot.listening = true;
                slot.listener.replace(Box::new(listener))
            });
            // Dropped outside the slots' borrow: it may own ports.
            drop(previous);
            self.sync_ref(core);
            if self.inbox.has_messages() {
                self.announce();
            }
        });
    }

    /// `on_close`: binds the port and adds a close listener.
    pub(super) fn add_close_listener(self: &Arc<Self>, listener: Box<dyn FnOnce()>) {
        context::with_current(|core| {
            self.bind(core);
            self.with_slot(core, |slot| slot.on_close.push(listener));
        });
    }

    /// The peer closed: what is queued is still delivered, then the close.
    pub(super) fn closed_by_peer(self: &Arc<Self>) {
        self.inbox.close(false);
        self.announce();
    }

    /// This port closed: its queue is dropped, and its close is delivered
    /// in a microtask when closed on its loop's thread (before the peer's,
    /// which waits for the peer loop's poll phase, as Node's close of the
    /// closing handle comes first), else in its loop's next poll phase.
    pub(super) fn closed_here(self: &Arc<Self>) {
        self.inbox.close(true);
        let own = self.clone();
        let here = self.on_owner(|_| {
            crate::queue_microtask(move || {
                context::with_current(|core| own.deliver_close(core));
            });
        });
        if here.is_none() {
            self.announce();
        }
    }

    /// `ref_` / `unref`. Off the owning loop's thread, the loop settles the
    /// count at its next look at the port.
    pub(super) fn set_ref(self: &Arc<Self>, refed: bool) {
        self.refed.store(refed, Ordering::Release);
        if self.on_owner(|core| self.sync_ref(core)).is_none() {
            self.announce();
        }
    }

    /// `WorkerExit`: if this loop still owes the port's listener a message,
    /// or the port its close, asks for that delivery and for `waker` to be
    /// woken after it (a remote call queued behind the announcement), and
    /// says `true`. Node drains a worker's port right before `'exit'`.
    pub(super) fn wake_after_deliveries(self: &Arc<Self>, waker: &Waker) -> bool {
        let owed = self.on_owner(|core| {
            self.with_slot(core, |slot| {
                (slot.listening && self.inbox.has_messages()) || self.inbox.is_finished()
            })
        });
        if owed.flatten() != Some(true) {
            return false;
        }
        let Some(shared) = self.owner.get().and_then(|owner| owner.shared.upgrade()) else {
            return false;
        };
        self.announce();
        let waker = waker.clone();
        shared.push(RemoteEvent::Call(Box::new(move |_| waker.wake())));
        true
    }

    /// A `recv` future gone before its message: stop waiting.
    pub(super) fn cancel_recv(&self) {
        self.on_owner(|core| {
            self.with_slot(core, |slot| slot.waiter = None);
            self.sync_ref(core);
        });
    }
}

impl<T: Send + 'static> PortDelivery for PortShared<T> {
    fn start_batch(&self, core: &Core) -> usize {
        let queued = self.inbox.start_batch();
        self.sync_ref(core);
        queued
    }

    fn ready_for_next(&self, core: &Core) -> bool {
        self.with_slot(core, |slot| slot.listener.is_some() || slot.waiter.is_some())
            .unwrap_or(false)
            && self.inbox.has_messages()
    }

    fn deliver_next(&self, core: &Core) {
        let Some((listener, waiter)) = self.with_slot(core, |slot| {
            let listener = slot.listener.take();
            let waiter = if listener.is_none() { slot.waiter.take() } else { None };
            if waiter.is_some() {
                slot.permits += 1;
                // No longer waiting: the woken task is what keeps the loop
                // alive now, and it runs in this checkpoint.
                self.count_ref(core, slot);
            }
            (listener, waiter)
        }) else {
            return;
        };
        if let Some(waiter) = waiter {
            waiter.wake();
            return;
        }
        let Some(listener) = listener else { return };
        // Put back even if the listener panics (Node keeps a listener that
        // threw), unless it was replaced or the port closed meanwhile.
        let mut running = RunningListener { port: self, core, listener: Some(listener) };
        if let Some(message) = self.inbox.take() {
            let call = running.listener.as_mut().and_then(|l| l.downcast_mut::<Listener<T>>());
            (call.expect("jsloop: a port's listener has the port's message type"))(message);
        }
    }

    fn close_due(&self, core: &Core) -> bool {
        self.with_slot(core, |_| ()).is_some() && self.inbox.is_finished()
    }

    fn deliver_close(&self, core: &Core) {
        let Some(index) = self.owner.get().map(|owner| owner.slot) else { return };
        let Some(mut slot) = core.ports.slots.borrow_mut().remove(index, self.id) else { return };
        core.ports.set_counted(&mut slot, false);
        // Dropped and called outside the slots' borrow: they may touch ports.
        if let Some(waiter) = slot.waiter.take() {
            waiter.wake();
        }
        drop(slot.listener.take());
        for on_close in slot.on_close.drain(..) {
            on_close();
        }
    }
}

/// The listener of a `MessagePort<T>`.
pub(super) type Listener<T> = Box<dyn FnMut(T)>;

/// A listener taken out of its slot to run; dropping this puts it back.
struct RunningListener<'a, T> {
    port: &'a PortShared<T>,
    core: &'a Core,
    listener: Option<Box<dyn std::any::Any>>,
}

impl<T> Drop for RunningListener<'_, T> {
    fn drop(&mut self) {
        let listener = self.listener.take();
        let mut slots = self.core.ports.slots.borrow_mut();
        let index = self.port.owner.get().map_or(u32::MAX, |owner| owner.slot);
        let leftover = match slots.get_mut(index, self.port.id) {
            Some(slot) if slot.listening && slot.listener.is_none() => {
                slot.listener = listener;
                None
            }
            _ => listener,
        };
        drop(slots);
        drop(leftover);
    }
}
