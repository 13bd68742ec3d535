//! `for await (const x of iterable)` over promises, join handles or any
//! futures: their outputs one by one, in input order.

use std::collections::VecDeque;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The outputs of `futures` in input order, as a
/// [`Stream`](futures_core::Stream): JS's `for await (const x of
/// [p1, p2, ...])`. Each is awaited only once the ones before it have
/// given their output, but all of them were started by whoever made them
/// (a [`Promise`](super::Promise)'s or a task's work runs on regardless,
/// as in JS); a plain future does nothing until its turn. An error is an
/// item like any other (a `JoinError` of an aborted task stays in its
/// place).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures::StreamExt;
/// use jsloop::promise::{in_order, Promise};
///
/// jsloop::run(async {
///     let slow = Promise::new(|resolve, _: jsloop::promise::Reject<&str, ()>| {
///         jsloop::set_timeout(Duration::from_millis(5), move || resolve("slow, first"));
///     });
///     let fast = Promise::resolve("fast, second");
///     let outputs: Vec<_> = in_order([slow, fast]).collect().await;
///     assert_eq!(outputs, [Ok("slow, first"), Ok("fast, second")]);
/// });
/// ```
pub fn in_order<I>(futures: I) -> InOrder<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    InOrder { futures: futures.into_iter().map(|f| Box::pin(f.into_future())).collect() }
}

/// The stream of [`in_order`].
#[must_use = "streams do nothing unless polled"]
pub struct InOrder<F> {
    futures: VecDeque<Pin<Box<F>>>,
}

impl<F: Future> futures_core::Stream for InOrder<F> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let Some(next) = self.futures.front_mut() else { return Poll::Ready(None) };
        let output = std::task::ready!(next.as_mut().poll(cx));
        self.futures.pop_front();
        Poll::Ready(Some(output))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.futures.len(), Some(self.futures.len()))
    }
}

impl<F> std::fmt::Debug for InOrder<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InOrder").field("left", &self.futures.len()).finish()
    }
}
