//! A promise's shared state: its outcome once settled, the reactions and
//! awaiters waiting for it, and how many handles can still settle it.
//!
//! The state sits behind a mutex because a promise may be settled from any
//! thread; everything that runs JavaScript-side work (reaction callbacks,
//! awaiting tasks) stays on a loop thread, reached through its waker. When
//! the last handle that could settle a pending promise is dropped, the
//! promise is *abandoned*: it stays pending forever, as in JS, and its
//! reactions are woken once so their tasks end instead of lingering.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::listeners::{ListenerKey, Listeners};
use crate::progress::wake_as_reaction;

/// Where a promise is in its life.
pub(crate) enum Phase<T, E> {
    /// Nothing has resolved it yet.
    Pending,
    /// Resolved with another promise it now follows (JS's "already
    /// resolved"): only that adoption can settle it.
    Adopting,
    Settled(Result<T, E>),
    /// Pending, and every handle that could settle it is gone.
    Abandoned,
}

/// Someone waiting for the promise to settle.
enum Waiter {
    /// A task awaiting it: woken on settlement, dropped on abandonment.
    Await(Waker),
    /// A reaction task (`then` and friends): woken either way.
    Reaction(Waker),
}

struct Inner<T, E> {
    phase: Phase<T, E>,
    waiters: Listeners<Waiter>,
}

pub(crate) struct State<T, E> {
    inner: Mutex<Inner<T, E>>,
    /// Live [`Settler`]s.
    settlers: AtomicUsize,
}

/// What a reaction finds when its task runs.
pub(crate) enum Reacted<T, E> {
    Settled(Result<T, E>),
    Abandoned,
    /// A spurious poll: the promise has not settled yet.
    Pending,
}

impl<T, E> State<T, E> {
    pub(crate) fn new(phase: Phase<T, E>) -> Arc<Self> {
        Arc::new(State {
            inner: Mutex::new(Inner { phase, waiters: Listeners::new() }),
            settlers: AtomicUsize::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T, E>> {
        // Nothing panics while holding the lock; stay usable regardless.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Settles a pending promise (or, with `adoption`, one that follows
    /// another promise) and wakes its waiters in registration order. A
    /// promise settles once: later calls drop `outcome`.
    pub(crate) fn settle(&self, outcome: Result<T, E>, adoption: bool) {
        let mut inner = self.lock();
        let allowed = match inner.phase {
            Phase::Pending => !adoption,
            Phase::Adopting => adoption,
            Phase::Settled(_) | Phase::Abandoned => false,
        };
        if !allowed {
            drop(inner);
            drop(outcome);
            return;
        }
        inner.phase = Phase::Settled(outcome);
        let waiters: Vec<Waiter> = inner.waiters.take_all().collect();
        drop(inner);
        for waiter in waiters {
            match waiter {
                Waiter::Await(waker) | Waiter::Reaction(waker) => wake_as_reaction(&waker),
            }
        }
    }

    /// Marks a pending promise as following another; false if it was
    /// already resolved.
    fn start_adopting(&self) -> bool {
        let mut inner = self.lock();
        let pending = matches!(inner.phase, Phase::Pending);
        if pending {
            inner.phase = Phase::Adopting;
        }
        pending
    }

    /// The last settler is gone: a promise still pending is abandoned.
    fn abandon(&self) {
        let mut inner = self.lock();
        if !matches!(inner.phase, Phase::Pending | Phase::Adopting) {
            return;
        }
        inner.phase = Phase::Abandoned;
        let waiters: Vec<Waiter> = inner.waiters.take_all().collect();
        drop(inner);
        for waiter in waiters {
            match waiter {
                // Nothing will ever wake an awaiter again; dropping its waker
                // lets `block_on` see that no one can.
                Waiter::Await(waker) => drop(waker),
                Waiter::Reaction(waker) => wake_as_reaction(&waker),
            }
        }
    }

    pub(crate) fn is_pending(&self) -> bool {
        !matches!(self.lock().phase, Phase::Settled(_))
    }

    /// A short name of the phase, for `Debug`.
    pub(crate) fn describe(&self) -> &'static str {
        match self.lock().phase {
            Phase::Pending | Phase::Adopting => "<pending>",
            Phase::Settled(Ok(_)) => "<fulfilled>",
            Phase::Settled(Err(_)) => "<rejected>",
            Phase::Abandoned => "<pending, abandoned>",
        }
    }

    /// Registers a reaction task's waker, or hands it back to be woken at
    /// once if the promise has settled (or can no longer settle).
    pub(crate) fn add_reaction(&self, waker: Waker) -> Option<Waker> {
        let mut inner = self.lock();
        match inner.phase {
            Phase::Pending | Phase::Adopting => {
                inner.waiters.add(Waiter::Reaction(waker));
                None
            }
            Phase::Settled(_) | Phase::Abandoned => Some(waker),
        }
    }

    /// Drops an awaiter's registration (its future was dropped).
    pub(crate) fn remove_awaiter(&self, key: ListenerKey) {
        let removed = self.lock().waiters.remove(key);
        drop(removed);
    }
}

impl<T: Clone, E: Clone> State<T, E> {
    /// What a reaction task sees when it runs.
    pub(crate) fn reacted(&self) -> Reacted<T, E> {
        match &self.lock().phase {
            Phase::Settled(outcome) => Reacted::Settled(outcome.clone()),
            Phase::Abandoned => Reacted::Abandoned,
            Phase::Pending | Phase::Adopting => Reacted::Pending,
        }
    }

    /// Polls an awaiter: the outcome if settled, else (re)registers its
    /// waker under `key`. An abandoned promise stays pending without one.
    ///
    /// `first_poll` makes an already settled promise cost one microtask turn
    /// anyway (V8's `await`): the awaiter wakes itself and reads the outcome
    /// on its next poll, after whatever was queued before it.
    pub(crate) fn poll_await(
        &self,
        key: &mut Option<ListenerKey>,
        first_poll: bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, E>> {
        let mut guard = self.lock();
        if first_poll && matches!(guard.phase, Phase::Settled(_)) {
            drop(guard);
            wake_as_reaction(cx.waker());
            return Poll::Pending;
        }
        let inner = &mut *guard;
        match &inner.phase {
            Phase::Settled(outcome) => {
                // Settling took every waiter out already.
                *key = None;
                Poll::Ready(outcome.clone())
            }
            Phase::Abandoned => Poll::Pending,
            Phase::Pending | Phase::Adopting => {
                match key.and_then(|key| inner.waiters.get_mut(key)) {
                    Some(Waiter::Await(waker)) => waker.clone_from(cx.waker()),
                    _ => *key = Some(inner.waiters.add(Waiter::Await(cx.waker().clone()))),
                }
                Poll::Pending
            }
        }
    }
}

/// A handle that can settle the promise; counted, so that dropping the last
/// one abandons a pending promise.
pub(crate) struct Settler<T, E> {
    state: Arc<State<T, E>>,
}

impl<T, E> Settler<T, E> {
    pub(crate) fn new(state: &Arc<State<T, E>>) -> Self {
        state.settlers.fetch_add(1, Ordering::Relaxed);
        Settler { state: state.clone() }
    }

    pub(crate) fn state(&self) -> &Arc<State<T, E>> {
        &self.state
    }

    /// Settles the promise unless it is already resolved.
    pub(crate) fn settle(&self, outcome: Result<T, E>) {
        self.state.settle(outcome, false);
    }

    /// Settles a promise that follows another (its adoption reaction).
    pub(crate) fn settle_adopted(&self, outcome: Result<T, E>) {
        self.state.settle(outcome, true);
    }

    /// Marks the promise as following another; false if already resolved.
    pub(crate) fn start_adopting(&self) -> bool {
        self.state.start_adopting()
    }
}

impl<T, E> Clone for Settler<T, E> {
    fn clone(&self) -> Self {
        Settler::new(&self.state)
    }
}

impl<T, E> Drop for Settler<T, E> {
    fn drop(&mut self) {
        if self.state.settlers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.state.abandon();
        }
    }
}
