//! The tasks waiting on one standard stream.
//!
//! A stream's handles are shared by the whole loop, so several tasks may
//! wait on it at once, where the poller and a pool job keep one waker per
//! wait (the last task to poll). They are handed this list's waker instead,
//! which wakes every task that waited: each polls again, and the ones that
//! still cannot go on wait again.

use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// The tasks waiting on a stream, and the one waker that wakes them all.
pub(super) struct Waiters {
    list: Arc<WakeList>,
    waker: Waker,
}

/// Woken from the loop thread only (a readiness event, a pool delivery),
/// but a `Waker` must be `Send + Sync`, hence the mutex.
#[derive(Default)]
struct WakeList(Mutex<Vec<Waker>>);

impl Wake for WakeList {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waiting = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for waker in waiting {
            waker.wake();
        }
    }
}

impl Default for Waiters {
    fn default() -> Waiters {
        let list = Arc::<WakeList>::default();
        Waiters { waker: Waker::from(list.clone()), list }
    }
}

impl Waiters {
    /// Polls `poll` with the shared waker; if it is pending, `cx`'s task
    /// waits too.
    pub(super) fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        let result = poll(&mut Context::from_waker(&self.waker));
        if result.is_pending() {
            let mut waiting = self.list.0.lock().unwrap_or_else(PoisonError::into_inner);
            if !waiting.iter().any(|waker| waker.will_wake(cx.waker())) {
                waiting.push(cx.waker().clone());
            }
        }
        result
    }
}
