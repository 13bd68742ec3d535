//! The wake bookkeeping under every combinator: one waker per child, and
//! the list of children woken since the combinator last looked, so that a
//! wake costs O(1) and polls only the child it belongs to.
//!
//! The first pass polls every child in input order. After that, only the
//! children whose wakers fired are polled, in the order they fired. Child
//! wakers are allocated lazily: a child that finishes on its first poll
//! without keeping its waker hands the same allocation to the next child,
//! so n ready children cost one waker, not n.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_task::{waker_ref, ArcWake};

/// Which children need a poll, and the wakers that say so.
pub(crate) struct WakeSet {
    shared: Arc<Shared>,
    /// `wakers[i]`: child `i`'s waker, once it has needed one of its own.
    wakers: Vec<Option<Arc<ChildWake>>>,
    /// A waker no child holds, ready for the next first poll.
    spare: Option<Arc<ChildWake>>,
    /// Children `next_unpolled..` have not had their first poll yet.
    next_unpolled: usize,
    /// Woken children, taken from `shared` a batch at a time.
    batch: VecDeque<usize>,
}

/// The part child wakers reach, possibly from other threads.
struct Shared {
    woken: Mutex<VecDeque<usize>>,
    /// The task polling the combinator.
    parent: Mutex<Option<Waker>>,
    /// The parent was woken since its last poll: later child wakes need
    /// not wake it again.
    parent_woken: AtomicBool,
}

struct ChildWake {
    index: usize,
    /// In `woken` (or about to be polled): a child is listed once.
    queued: AtomicBool,
    shared: Arc<Shared>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; stay usable regardless.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ArcWake for ChildWake {
    fn wake_by_ref(child: &Arc<Self>) {
        if child.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let shared = &child.shared;
        lock(&shared.woken).push_back(child.index);
        if !shared.parent_woken.swap(true, Ordering::AcqRel) {
            if let Some(parent) = lock(&shared.parent).as_ref() {
                parent.wake_by_ref();
            }
        }
    }
}

impl WakeSet {
    pub(crate) fn new(len: usize) -> Self {
        WakeSet {
            shared: Arc::new(Shared {
                woken: Mutex::default(),
                parent: Mutex::default(),
                parent_woken: AtomicBool::new(false),
            }),
            wakers: (0..len).map(|_| None).collect(),
            spare: None,
            next_unpolled: 0,
            batch: VecDeque::new(),
        }
    }

    /// Starts a poll of the combinator: records the task polling it.
    pub(crate) fn enter(&mut self, cx: &Context<'_>) {
        let mut parent = lock(&self.shared.parent);
        if !parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *parent = Some(cx.waker().clone());
        }
        drop(parent);
        // Cleared before the woken list is read: a wake after that read
        // wakes the parent again.
        self.shared.parent_woken.store(false, Ordering::Release);
    }

    /// The next child to poll: first every child once, in input order, then
    /// the woken ones in the order they were woken.
    pub(crate) fn next(&mut self) -> Option<usize> {
        if self.next_unpolled < self.wakers.len() {
            self.next_unpolled += 1;
            return Some(self.next_unpolled - 1);
        }
        if self.batch.is_empty() {
            std::mem::swap(&mut self.batch, &mut lock(&self.shared.woken));
        }
        self.batch.pop_front()
    }

    /// Polls child `index`'s `future` with the child's own waker.
    pub(crate) fn poll_child<F: Future + ?Sized>(
        &mut self,
        index: usize,
        future: Pin<&mut F>,
    ) -> Poll<F::Output> {
        if let Some(child) = &self.wakers[index] {
            // Clear before polling: a wake during the poll lists it again.
            child.queued.store(false, Ordering::Release);
            return future.poll(&mut Context::from_waker(&waker_ref(child)));
        }
        let mut child = match self.spare.take() {
            Some(mut spare) => {
                Arc::get_mut(&mut spare).expect("no one holds the spare waker").index = index;
                spare
            }
            None => Arc::new(ChildWake {
                index,
                queued: AtomicBool::new(false),
                shared: self.shared.clone(),
            }),
        };
        let poll = future.poll(&mut Context::from_waker(&waker_ref(&child)));
        match (&poll, Arc::get_mut(&mut child)) {
            // Done, its waker neither kept nor woken: the next child's.
            (Poll::Ready(_), Some(unused)) if !unused.queued.load(Ordering::Relaxed) => {
                self.spare = Some(child);
            }
            _ => self.wakers[index] = Some(child),
        }
        poll
    }
}
