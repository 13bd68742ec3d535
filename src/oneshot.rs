//! A one-value channel between threads, awaited by any executor: how a
//! task spawned through a `Spawner`, or a worker's whole loop, hands its
//! outcome back.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::sync::{self, Mutex};

struct Inner<T> {
    value: Option<T>,
    /// The sender is gone (it sent, or was dropped without sending).
    closed: bool,
    receiver: Option<Waker>,
}

/// Sends the one value; dropped without sending, it closes the channel.
pub(crate) struct Sender<T> {
    inner: Arc<Mutex<Inner<T>>>,
}

/// Resolves to the value, or `None` if the sender was dropped without one.
pub(crate) struct Receiver<T> {
    inner: Arc<Mutex<Inner<T>>>,
}

pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Mutex::new(Inner { value: None, closed: false, receiver: None }));
    (Sender { inner: inner.clone() }, Receiver { inner })
}

impl<T> Sender<T> {
    pub(crate) fn send(self, value: T) {
        sync::lock(&self.inner).value = Some(value);
        // Dropping closes and wakes the receiver.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let receiver = {
            let mut inner = sync::lock(&self.inner);
            inner.closed = true;
            inner.receiver.take()
        };
        // Woken outside the lock: the receiver may poll on this thread.
        if let Some(receiver) = receiver {
            receiver.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The sender sent or is gone.
    pub(crate) fn is_closed(&self) -> bool {
        sync::lock(&self.inner).closed
    }

    /// Ready once the sender sent or is gone, leaving the value in place
    /// for [`take`](Self::take).
    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut inner = sync::lock(&self.inner);
        if inner.closed {
            return Poll::Ready(());
        }
        if !inner.receiver.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
            inner.receiver = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The value, if it was sent and not taken yet.
    pub(crate) fn take(&self) -> Option<T> {
        sync::lock(&self.inner).value.take()
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.poll_closed(cx).map(|()| self.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_sent_from_another_thread_arrives() {
        let (tx, rx) = channel();
        let thread = std::thread::spawn(move || tx.send(7));
        assert_eq!(futures::executor::block_on(rx), Some(7));
        thread.join().unwrap();
    }

    #[test]
    fn a_dropped_sender_closes_with_nothing() {
        let (tx, rx) = channel::<u8>();
        assert!(!rx.is_closed());
        drop(tx);
        assert!(rx.is_closed());
        assert_eq!(futures::executor::block_on(rx), None);
    }
}
