//! Poll phase source: `MessageChannel` and `MessagePort`, Node's
//! `worker_threads` ports.
//!
//! A post pushes into the receiving port's inbox and, once per batch,
//! announces the port to the loop that owns it (a `RemoteEvent::Port`
//! through the runtime's remote queue, even from the loop's own thread:
//! delivery is never synchronous). The poll phase then delivers the batch —
//! the messages queued when it reached the port, no more — one macrotask
//! each with a checkpoint after it, as Node's `MessagePort::OnMessage`
//! drains a uv_async. Messages posted meanwhile form the next batch, so a
//! ping-pong between two ports cannot starve timers.
//!
//! A port may move between threads until the first receive (`recv`, the
//! stream, `on_message`, `on_close`) on a runtime binds it to that runtime;
//! the loop-side state (listeners, the waiting task) lives in that loop
//! (`receiver.rs`, `loop_ports.rs`), so the port itself stays `Send`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::receiver::PortShared;

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
        self.peer.post(message).map_err(PostError)
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
        self.own.set_listener(Box::new(listener));
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
        self.own.add_close_listener(Box::new(listener));
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
        self.peer.closed_by_peer();
        self.own.closed_here();
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
        self.own.set_ref(false);
    }

    /// See `PortShared::wake_after_deliveries`: for `WorkerExit`.
    pub(super) fn wake_after_deliveries(&self, waker: &std::task::Waker) -> bool {
        self.own.wake_after_deliveries(waker)
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
        self.own.set_ref(true);
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
    port.own.take()
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
