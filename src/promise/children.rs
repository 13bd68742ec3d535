//! The engine under the combinators: many child futures, each with its own
//! waker, so a wake polls only the child it belongs to (O(1) per wake, not
//! a re-poll of every child).

use std::collections::VecDeque;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

/// Children that are still pending, polled in the order their wakes came.
pub(crate) struct Children<F: Future> {
    /// `None` once a child has produced its output.
    futures: Vec<Option<Pin<Box<F>>>>,
    /// Each child's waker, and the same `ChildWake` to reset its flag.
    wakers: Vec<(Waker, Arc<ChildWake>)>,
    ready: Arc<ReadyList>,
    pending: usize,
}

/// Indices of children woken since they were last polled, and the waker of
/// the task polling the combinator.
#[derive(Default)]
struct ReadyList {
    indices: Mutex<VecDeque<usize>>,
    parent: Mutex<Option<Waker>>,
}

struct ChildWake {
    index: usize,
    /// In `ready.indices` already: a child is queued at most once.
    queued: AtomicBool,
    ready: Arc<ReadyList>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Wake for ChildWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            lock(&self.ready.indices).push_back(self.index);
        }
        if let Some(parent) = lock(&self.ready.parent).as_ref() {
            parent.wake_by_ref();
        }
    }
}

impl<F: Future> Children<F> {
    pub(crate) fn new<I>(children: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoFuture<IntoFuture = F>,
    {
        let futures: Vec<_> =
            children.into_iter().map(|c| Some(Box::pin(c.into_future()))).collect();
        let ready = Arc::new(ReadyList::default());
        // Every child starts out ready: the first poll polls them all, in
        // input order.
        let wakers = (0..futures.len())
            .map(|index| {
                let child = Arc::new(ChildWake {
                    index,
                    queued: AtomicBool::new(true),
                    ready: ready.clone(),
                });
                (Waker::from(child.clone()), child)
            })
            .collect();
        lock(&ready.indices).extend(0..futures.len());
        Children { pending: futures.len(), futures, wakers, ready }
    }

    pub(crate) fn len(&self) -> usize {
        self.futures.len()
    }

    /// The next child to finish, with its input index; `None` when all have.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, F::Output)>> {
        if self.pending == 0 {
            return Poll::Ready(None);
        }
        {
            let mut parent = lock(&self.ready.parent);
            if !parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *parent = Some(cx.waker().clone());
            }
        }
        loop {
            let Some(index) = lock(&self.ready.indices).pop_front() else {
                return Poll::Pending;
            };
            let Some(future) = self.futures[index].as_mut() else { continue };
            let (waker, child) = &self.wakers[index];
            // Clear before polling: a wake during the poll queues it again.
            child.queued.store(false, Ordering::Release);
            if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(waker)) {
                self.futures[index] = None;
                self.pending -= 1;
                return Poll::Ready(Some((index, output)));
            }
        }
    }

    /// Polls to the next finished child.
    pub(crate) async fn next(&mut self) -> Option<(usize, F::Output)> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }
}
