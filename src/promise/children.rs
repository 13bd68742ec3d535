//! Many children of one type (the `IntoIterator` form of the combinators):
//! pinned in place side by side, each polled only when its waker fires.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::wake_set::WakeSet;

/// The children still pending, and which of them to poll next.
pub(crate) struct Children<F: Future> {
    /// `None` once a child has produced its output (dropped in place).
    futures: Pin<Box<[Option<F>]>>,
    wakes: WakeSet,
    pending: usize,
}

impl<F: Future> Children<F> {
    pub(crate) fn new<I>(children: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoFuture<IntoFuture = F>,
    {
        let futures: Box<[Option<F>]> =
            children.into_iter().map(|child| Some(child.into_future())).collect();
        let len = futures.len();
        Children { futures: Box::into_pin(futures), wakes: WakeSet::new(len), pending: len }
    }

    pub(crate) fn len(&self) -> usize {
        self.futures.len()
    }

    /// The next child to finish, with its input index; `None` when all have.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, F::Output)>> {
        if self.pending == 0 {
            return Poll::Ready(None);
        }
        self.wakes.enter(cx);
        while let Some(index) = self.wakes.next() {
            let mut slot = slot(self.futures.as_mut(), index);
            // A child that finished can still be listed by a late wake.
            let Some(future) = slot.as_mut().as_pin_mut() else { continue };
            if let Poll::Ready(output) = self.wakes.poll_child(index, future) {
                slot.set(None);
                self.pending -= 1;
                return Poll::Ready(Some((index, output)));
            }
        }
        Poll::Pending
    }

    /// Polls to the next finished child.
    pub(crate) async fn next(&mut self) -> Option<(usize, F::Output)> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }
}

/// Slot `index` of a pinned slice, pinned.
fn slot<F>(slots: Pin<&mut [Option<F>]>, index: usize) -> Pin<&mut Option<F>> {
    // SAFETY: the slots live in one boxed slice that is never moved or
    // reallocated, so each slot stays where it was pinned; a slot's future
    // is only ever dropped in place (`Pin::set(None)`, or the slice's own
    // drop), never moved out.
    unsafe { slots.map_unchecked_mut(|slots| &mut slots[index]) }
}
