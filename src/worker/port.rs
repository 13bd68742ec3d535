//! Poll phase source: `MessageChannel` and `MessagePort`, Node's
//! `worker_threads` ports.
//!
//! A post pushes into the receiving port's [`Inbox`] and, once per batch,
//! announces the port to the loop that owns it (a `RemoteEvent::Port`
//! through the runtime's remote queue, even from the loop's own thread:
//! delivery is never synchronous). The poll phase then delivers the batch —
//! the messages queued when it reached the port, no more — one macrotask
//! each with a checkpoint after it, as Node's `MessagePort::OnMessage`
//! drains a uv_async. Messages posted meanwhile form the next batch, so a
//! ping-pong between two ports cannot starve timers.
//!
//! A port is `Send` until the first receive (`recv`, the stream,
//! `on_message`, `on_close`) on a runtime binds it to that runtime.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll};

use futures_core::Stream;

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
}

/// One port's receiving side, shared by the port and its peer (which posts
/// into it).
struct PortShared<T> {
    id: u64,
    inbox: Inbox<T>,
    owner: OnceLock<Owner>,
    /// `unref` clears it: a listener or waiter no longer keeps the loop
    /// alive.
    refed: AtomicBool,
}

impl<T: Send + 'static> PortShared<T> {
    fn new() -> Arc<Self> {
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
            Owner { runtime_id: core.id(), shared: Arc::downgrade(&core.shared) }
        });
        assert!(
            owner.runtime_id == core.id(),
            "jsloop: this MessagePort belongs to another runtime (the first one that received \
             on it); receive on it only there, or post to it from here"
        );
        if fresh {
            core.ports.slots.borrow_mut().insert(self.id, PortSlot::default());
            // Posted before the port had a loop: nobody was told yet.
            if self.inbox.has_messages() || self.inbox.is_closed() {
                self.announce();
            }
        }
    }

    /// Runs `f` on the port's slot in `core`, if it still has one.
    fn with_slot<R>(&self, core: &Core, f: impl FnOnce(&mut PortSlot) -> R) -> Option<R> {
        core.ports.slots.borrow_mut().get_mut(&self.id).map(f)
    }

    /// Counts the port in the loop's refs while it has a receiver and is
    /// ref'd.
    fn sync_ref(&self, core: &Core) {
        let refed = self.refed.load(Ordering::Acquire);
        self.with_slot(core, |slot| {
            let wants = refed && (slot.listening || slot.waiter.is_some());
            core.ports.set_counted(slot, wants);
        });
    }

    fn poll_recv(self: &Arc<Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
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
                Poll::Pending
            });
            match polled {
                // No slot: the close was delivered.
                None => Poll::Ready(None),
                Some(Poll::Pending) => {
                    self.sync_ref(core);
                    if self.inbox.has_messages() {
                        self.announce();
                    }
                    Poll::Pending
                }
                Some(ready) => ready,
            }
        })
    }

    /// A `recv` future gone before its message: stop waiting.
    fn cancel_recv(&self) {
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
            }
            (listener, waiter)
        }) else {
            return;
        };
        if let Some(waiter) = waiter {
            // No longer waiting: the woken task is what keeps the loop
            // alive now, and it runs in this checkpoint.
            self.sync_ref(core);
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
        let Some(mut slot) = core.ports.slots.borrow_mut().remove(&self.id) else { return };
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
type Listener<T> = Box<dyn FnMut(T)>;

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
        let leftover = match slots.get_mut(&self.port.id) {
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

/// Two entangled ports: what one posts, the other receives (Node's
/// `new MessageChannel()`).
///
/// # Examples
///
/// ```
/// use jsloop::worker::MessageChannel;
///
/// jsloop::run(async {
///     let MessageChannel { port1, port2 } = MessageChannel::new();
///     port1.post_message("hello").unwrap();
///     assert_eq!(port2.recv().await, Some("hello"));
/// });
/// ```
///
/// The message type must be `Send`, since the ports may be on two threads:
///
/// ```compile_fail
/// use jsloop::worker::MessageChannel;
///
/// let channel = MessageChannel::<std::rc::Rc<u8>>::new();
/// ```
#[derive(Debug)]
pub struct MessageChannel<T: Send + 'static> {
    /// One end.
    pub port1: MessagePort<T>,
    /// The other end.
    pub port2: MessagePort<T>,
}

impl<T: Send + 'static> MessageChannel<T> {
    /// Two new entangled ports, bound to no loop yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let channel = jsloop::worker::MessageChannel::<u32>::new();
    /// channel.port1.post_message(7).unwrap();
    /// assert_eq!(jsloop::worker::receive_message_on_port(&channel.port2), Some(7));
    /// ```
    pub fn new() -> Self {
        let (one, two) = (PortShared::new(), PortShared::new());
        MessageChannel {
            port1: MessagePort { own: one.clone(), peer: two.clone() },
            port2: MessagePort { own: two, peer: one },
        }
    }
}

impl<T: Send + 'static> Default for MessageChannel<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// One end of a [`MessageChannel`] (Node's `MessagePort`).
///
/// Posting works from any thread. Receiving (`recv`, the [`Stream`] impl,
/// [`on_message`](Self::on_message), [`on_close`](Self::on_close)) binds
/// the port to the runtime it first happens on; after that, receiving on
/// another runtime panics (post to it instead). Each message is delivered
/// in the owning loop's poll phase as its own macrotask, a checkpoint after
/// it. Dropping a port closes it.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use jsloop::worker::MessageChannel;
///
/// jsloop::run(async {
///     let MessageChannel { port1, mut port2 } = MessageChannel::new();
///     std::thread::spawn(move || {
///         for n in 0..3 {
///             port1.post_message(n).unwrap();
///         }
///         // Dropping port1 closes the channel: port2's stream ends.
///     });
///     let all: Vec<u32> = (&mut port2).collect().await;
///     assert_eq!(all, [0, 1, 2]);
/// });
/// ```
pub struct MessagePort<T: Send + 'static> {
    /// This port's inbox (what the peer posted).
    own: Arc<PortShared<T>>,
    /// The peer's inbox (where this port posts).
    peer: Arc<PortShared<T>>,
}

impl<T: Send + 'static> MessagePort<T> {
    /// Sends `message` to the other port. Never blocks; from any thread.
    ///
    /// # Errors
    ///
    /// [`PostError`], holding the message, if either port was closed or
    /// dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let jsloop::worker::MessageChannel { port1, port2 } = jsloop::worker::MessageChannel::new();
    /// port1.post_message(1).unwrap();
    /// drop(port2);
    /// assert_eq!(port1.post_message(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn post_message(&self, message: T) -> Result<(), PostError<T>> {
        self.peer.inbox.post(message).map_err(PostError)?;
        self.peer.announce();
        Ok(())
    }

    /// Waits for the next message; `None` once the channel is closed and
    /// every message was received. While it waits, the port keeps the loop
    /// alive (unless [`unref`](Self::unref)'d).
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime other than the port's.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::run(async {
    ///     let jsloop::worker::MessageChannel { port1, port2 } =
    ///         jsloop::worker::MessageChannel::new();
    ///     port1.post_message('a').unwrap();
    ///     port1.close();
    ///     assert_eq!(port2.recv().await, Some('a'));
    ///     assert_eq!(port2.recv().await, None);
    /// });
    /// ```
    pub fn recv(&self) -> Recv<'_, T> {
        Recv { port: self, waiting: false }
    }

    /// Sets the listener (Node's `port.on('message', ..)`, replacing any
    /// earlier one): called once per message, each in its own macrotask.
    /// Messages posted before it was set are delivered now. While set, the
    /// port keeps the loop alive (unless [`unref`](Self::unref)'d) until
    /// the channel closes. On a closed port it is dropped unused.
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime other than the port's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// let seen = Rc::new(RefCell::new(Vec::new()));
    /// jsloop::run({
    ///     let seen = seen.clone();
    ///     async move {
    ///         let jsloop::worker::MessageChannel { port1, port2 } =
    ///             jsloop::worker::MessageChannel::new();
    ///         port1.post_message("m1").unwrap();
    ///         let port = Rc::new(port2);
    ///         let closer = port.clone();
    ///         port.on_message(move |m| {
    ///             seen.borrow_mut().push(m);
    ///             closer.close(); // without this the listener keeps the loop alive
    ///         });
    ///     }
    /// });
    /// assert_eq!(*seen.borrow(), ["m1"]);
    /// ```
    pub fn on_message(&self, listener: impl FnMut(T) + 'static) {
        context::with_current(|core| {
            self.own.bind(core);
            let listener: Listener<T> = Box::new(listener);
            let previous = self.own.with_slot(core, |slot| {
                slot.listening = true;
                slot.listener.replace(Box::new(listener))
            });
            drop(previous);
            self.own.sync_ref(core);
            if self.own.inbox.has_messages() {
                self.own.announce();
            }
        });
    }

    /// Adds a close listener (Node's `port.on('close', ..)`): it runs once
    /// the channel is closed, from either end — on the closing port in a
    /// microtask after `close`, on the other once its queued messages were
    /// delivered. Added after that, it never runs.
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime other than the port's.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::run(async {
    ///     let jsloop::worker::MessageChannel { port1, port2 } =
    ///         jsloop::worker::MessageChannel::<()>::new();
    ///     port1.on_close(|| println!("port1 closed"));
    ///     port2.on_close(|| println!("port2 closed"));
    ///     port1.close();
    /// });
    /// ```
    pub fn on_close(&self, listener: impl FnOnce() + 'static) {
        context::with_current(|core| {
            self.own.bind(core);
            self.own.with_slot(core, |slot| slot.on_close.push(Box::new(listener)));
        });
    }

    /// Closes the channel (Node's `port.close()`): posting fails from now
    /// on, at both ends. This port's undelivered messages are dropped; the
    /// other port still receives what was posted to it, then its stream
    /// ends. Both ports' [`on_close`](Self::on_close) listeners run.
    /// Closing twice does nothing more.
    ///
    /// # Examples
    ///
    /// ```
    /// let jsloop::worker::MessageChannel { port1, port2 } = jsloop::worker::MessageChannel::new();
    /// port2.close();
    /// assert!(port1.post_message(1).is_err());
    /// ```
    pub fn close(&self) {
        self.peer.inbox.close(false);
        self.peer.announce();
        self.own.inbox.close(true);
        let own = self.own.clone();
        let here = self.own.on_owner(|_| {
            crate::queue_microtask(move || {
                context::with_current(|core| own.deliver_close(core));
            });
        });
        if here.is_none() {
            self.own.announce();
        }
    }

    /// Stops a listener or a waiting receiver from keeping the loop alive
    /// (Node's `port.unref()`). Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::run(async {
    ///     let channel = jsloop::worker::MessageChannel::<u8>::new();
    ///     channel.port2.on_message(|_| unreachable!());
    ///     channel.port2.unref(); // else `run` would wait for a message forever
    ///     std::mem::forget(channel); // (dropping would close it anyway)
    /// });
    /// ```
    pub fn unref(&self) {
        self.set_ref(false);
    }

    /// Undoes [`unref`](Self::unref) (Node's `port.ref()`). Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// let channel = jsloop::worker::MessageChannel::<u8>::new();
    /// channel.port2.unref();
    /// channel.port2.ref_();
    /// ```
    pub fn ref_(&self) {
        self.set_ref(true);
    }

    fn set_ref(&self, refed: bool) {
        self.own.refed.store(refed, Ordering::Release);
        // Off the owning loop's thread, the loop settles it in its poll phase.
        if self.own.on_owner(|core| self.own.sync_ref(core)).is_none() {
            self.own.announce();
        }
    }
}

impl<T: Send + 'static> Drop for MessagePort<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T: Send + 'static> fmt::Debug for MessagePort<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessagePort").field("id", &self.own.id).finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Stream for MessagePort<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.own.poll_recv(cx)
    }
}

/// The future of [`MessagePort::recv`].
///
/// # Examples
///
/// ```
/// jsloop::run(async {
///     let channel = jsloop::worker::MessageChannel::new();
///     channel.port1.post_message(5).unwrap();
///     let recv: jsloop::worker::Recv<'_, i32> = channel.port2.recv();
///     assert_eq!(recv.await, Some(5));
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Recv<'a, T: Send + 'static> {
    port: &'a MessagePort<T>,
    waiting: bool,
}

impl<T: Send + 'static> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let polled = self.port.own.poll_recv(cx);
        self.waiting = polled.is_pending();
        polled
    }
}

impl<T: Send + 'static> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if self.waiting {
            self.port.own.cancel_recv();
        }
    }
}

/// Takes the oldest message queued at `port` synchronously, or `None` if
/// there is none (Node's `receiveMessageOnPort`). A message taken this way
/// never reaches the listener or `recv`. It does not bind the port.
///
/// # Examples
///
/// ```
/// use jsloop::worker::{receive_message_on_port, MessageChannel};
///
/// let MessageChannel { port1, port2 } = MessageChannel::new();
/// assert_eq!(receive_message_on_port(&port2), None);
/// port1.post_message("q1").unwrap();
/// port1.post_message("q2").unwrap();
/// assert_eq!(receive_message_on_port(&port2), Some("q1"));
/// assert_eq!(receive_message_on_port(&port2), Some("q2"));
/// ```
pub fn receive_message_on_port<T: Send + 'static>(port: &MessagePort<T>) -> Option<T> {
    port.own.inbox.take()
}

/// A message that could not be posted because the channel is closed; it
/// holds the message.
///
/// # Examples
///
/// ```
/// let channel = jsloop::worker::MessageChannel::new();
/// channel.port2.close();
/// let error = channel.port1.post_message(String::from("late")).unwrap_err();
/// assert_eq!(error.to_string(), "the message port's channel is closed");
/// assert_eq!(error.into_inner(), "late");
/// ```
pub struct PostError<T>(pub T);

impl<T> PostError<T> {
    /// The message that was not posted.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = jsloop::worker::PostError(3);
    /// assert_eq!(error.into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for PostError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PostError { .. }")
    }
}

impl<T> fmt::Display for PostError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the message port's channel is closed")
    }
}

impl<T> std::error::Error for PostError<T> {}
