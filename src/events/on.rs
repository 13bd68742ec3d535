//! `events.on(emitter, name)`: the emits of one event as a stream.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;

use super::emitter::EventEmitter;
use super::subscription::Subscription;
use crate::abort::{self, AbortSignal};
use crate::progress::wake_as_reaction;

/// The emits of `name` as a [`Stream`]: Node's `events.on(emitter, name)`,
/// which `for await` reads. Each emit pushes a clone of its payload, `Ok`;
/// payloads emitted while nobody polls are buffered, in order, and none is
/// lost. An [`emit_error`](EventEmitter::emit_error) pushes `Err` and ends
/// the stream after it (Node's iterator throws); otherwise it never ends.
/// Dropping the stream removes its listeners.
///
/// The listener runs inside `emit`; the task polling the stream wakes as a
/// microtask after it, like code awaiting a promise.
///
/// # Panics
///
/// If `name` is `"error"`.
///
/// # Examples
///
/// ```
/// use jsloop::events::{self, EventEmitter};
///
/// jsloop::run(async {
///     let ee = EventEmitter::<u32, String>::new();
///     let mut ticks = events::on(&ee, "tick");
///     ee.emit("tick", 1); // buffered: nobody polls yet
///     ee.emit("tick", 2);
///     ee.emit_error("stopped".to_string()).unwrap();
///     assert_eq!(ticks.recv().await, Some(Ok(1)));
///     assert_eq!(ticks.recv().await, Some(Ok(2)));
///     assert_eq!(ticks.recv().await, Some(Err("stopped".to_string())));
///     assert_eq!(ticks.recv().await, None);
/// });
/// ```
pub fn on<T: Clone + 'static, E: Clone + 'static>(
    emitter: &EventEmitter<T, E>,
    name: impl Into<Cow<'static, str>>,
) -> On<T, E> {
    let feed = Rc::new(RefCell::new(Feed { queue: VecDeque::new(), ended: false, waker: None }));
    let subscription = Subscription::new(emitter);
    let event = emitter.on(name, {
        let feed = feed.clone();
        move |payload: &T| push(&feed, Ok(payload.clone()), false)
    });
    let error = emitter.on_error({
        let (feed, subscription) = (feed.clone(), subscription.clone());
        move |error: &E| {
            subscription.cancel();
            push(&feed, Err(error.clone()), true);
        }
    });
    subscription.set(event, error);
    On { feed, subscription, abort: None }
}

/// Like [`on`], but the stream also ends when `signal` aborts (after the
/// payloads already buffered), and its listeners are removed then: Node's
/// `events.on(emitter, name, { signal })`, whose iterator throws an
/// `AbortError` there. On a signal already aborted it ends at once.
///
/// # Panics
///
/// If `name` is `"error"`.
///
/// # Examples
///
/// ```
/// use jsloop::events::{self, EventEmitter};
/// use jsloop::AbortController;
///
/// jsloop::run(async {
///     let ee = EventEmitter::<&str>::new();
///     let controller = AbortController::new();
///     let mut lines = events::on_with_signal(&ee, "line", &controller.signal());
///     ee.emit("line", "first");
///     controller.abort("enough");
///     assert_eq!(ee.listener_count("line"), 0);
///     assert_eq!(lines.recv().await, Some(Ok("first")));
///     assert_eq!(lines.recv().await, None);
/// });
/// ```
pub fn on_with_signal<T: Clone + 'static, E: Clone + 'static>(
    emitter: &EventEmitter<T, E>,
    name: impl Into<Cow<'static, str>>,
    signal: &AbortSignal,
) -> On<T, E> {
    let mut stream = on(emitter, name);
    if signal.is_aborted() {
        stream.unsubscribe();
        end(&stream.feed);
        return stream;
    }
    let (feed, subscription) = (stream.feed.clone(), stream.subscription.clone());
    let id = signal.add_listener(move |_| {
        subscription.cancel();
        end(&feed);
    });
    stream.abort = Some((signal.clone(), id));
    stream
}

/// The stream of [`on`] and [`on_with_signal`]: `Ok(payload)` per emit,
/// `Err(error)` and then the end on an error.
///
/// # Examples
///
/// ```
/// use jsloop::events::{self, EventEmitter, On};
///
/// jsloop::run(async {
///     let ee = EventEmitter::<char>::new();
///     let mut letters: On<char> = events::on(&ee, "letter");
///     jsloop::queue_microtask(move || {
///         ee.emit("letter", 'a');
///     });
///     assert_eq!(letters.recv().await, Some(Ok('a')));
/// });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct On<T, E = std::convert::Infallible> {
    feed: Rc<RefCell<Feed<T, E>>>,
    subscription: Rc<Subscription<T, E>>,
    abort: Option<(AbortSignal, abort::ListenerId)>,
}

/// What the listeners hand to the stream.
struct Feed<T, E> {
    queue: VecDeque<Result<T, E>>,
    /// No more items after `queue`.
    ended: bool,
    /// The task polling the stream, while it waits.
    waker: Option<Waker>,
}

/// Queues `item` (then ends, with `last`) and wakes the waiting task.
fn push<T, E>(feed: &RefCell<Feed<T, E>>, item: Result<T, E>, last: bool) {
    let mut feed = feed.borrow_mut();
    if feed.ended {
        return;
    }
    feed.queue.push_back(item);
    feed.ended = last;
    let waker = feed.waker.take();
    drop(feed);
    if let Some(waker) = waker {
        wake_as_reaction(&waker);
    }
}

/// Ends the stream after what is queued.
fn end<T, E>(feed: &RefCell<Feed<T, E>>) {
    let mut feed = feed.borrow_mut();
    feed.ended = true;
    let waker = feed.waker.take();
    drop(feed);
    if let Some(waker) = waker {
        wake_as_reaction(&waker);
    }
}

impl<T, E> On<T, E> {
    /// The next item: `Some(Ok(payload))`, `Some(Err(error))`, or `None`
    /// once the stream has ended. The inherent form of
    /// `StreamExt::next`, so reading the stream needs no other crate.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::events::{self, EventEmitter};
    ///
    /// jsloop::run(async {
    ///     let ee = EventEmitter::<u8>::new();
    ///     let mut bytes = events::on(&ee, "byte");
    ///     ee.emit("byte", 7);
    ///     // `for await (const [byte] of on(ee, 'byte'))`:
    ///     while let Some(Ok(byte)) = bytes.recv().await {
    ///         println!("got {byte}");
    ///         # return;
    ///     }
    /// });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T, E> {
        Recv { stream: self }
    }

    /// Removes the listeners: on the emitter, and on the abort signal.
    fn unsubscribe(&mut self) {
        self.subscription.cancel();
        if let Some((signal, id)) = self.abort.take() {
            signal.remove_listener(id);
        }
    }
}

impl<T, E> Stream for On<T, E> {
    type Item = Result<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T, E>>> {
        let mut feed = self.feed.borrow_mut();
        if let Some(item) = feed.queue.pop_front() {
            return Poll::Ready(Some(item));
        }
        if feed.ended {
            return Poll::Ready(None);
        }
        match &mut feed.waker {
            Some(waker) => waker.clone_from(cx.waker()),
            waiting => *waiting = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T, E> Drop for On<T, E> {
    fn drop(&mut self) {
        self.unsubscribe();
    }
}

impl<T, E> fmt::Debug for On<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let feed = self.feed.borrow();
        f.debug_struct("On")
            .field("buffered", &feed.queue.len())
            .field("ended", &feed.ended)
            .finish()
    }
}

/// The future of [`On::recv`].
///
/// # Examples
///
/// ```
/// use jsloop::events::{self, EventEmitter, Recv};
///
/// jsloop::run(async {
///     let ee = EventEmitter::<()>::new();
///     let mut pings = events::on(&ee, "ping");
///     ee.emit("ping", ());
///     let recv: Recv<'_, (), _> = pings.recv();
///     assert_eq!(recv.await, Some(Ok(())));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Recv<'a, T, E> {
    stream: &'a mut On<T, E>,
}

impl<T, E> Future for Recv<'_, T, E> {
    type Output = Option<Result<T, E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.stream).poll_next(cx)
    }
}
