//! A promise's shared state: its outcome once settled, the reactions and
//! awaiters waiting for it, and how many handles can still settle it.
//!
//! The state sits behind a mutex because a promise may be settled from any
//! thread; everything that runs JavaScript-side work (reaction callbacks,
//! awaiting tasks) stays on a loop thread, reached through its waker. When
//! the last handle that could settle a pending promise is dropped, the
//! promise is *abandoned*: it stays pending forever, as in JS, and its
//! reactions are woken once so their tasks end instead of lingering.
//!
//! It also keeps V8's `has_handler` bit: a rejection that finds no handler
//! is handed to the loop's rejection tracker (`process::rejections`), and a
//! handler attached after the loop reported it tells the tracker again.

use std::any::Any;
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
    /// Settled, and `Promise::take` moved the outcome out.
    Taken,
}

/// Why reading a taken promise panics.
const TAKEN: &str = "jsloop: this promise's outcome was moved out by `Promise::take`, which is \
                     for a promise's last reader; await or `then` it before the `take`, or \
                     clone the outcome (await the promise instead)";

/// Someone waiting for the promise to settle.
enum Waiter {
    /// A task awaiting it: woken on settlement, dropped on abandonment.
    Await(Waker),
    /// A reaction task (`then` and friends): woken either way.
    Reaction(Waker),
}

/// Whether anything handles the promise's rejection (V8's `has_handler`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Handling {
    /// No reaction or awaiter has been attached yet.
    Unhandled,
    /// Rejected with no handler, and the loop reported it as unhandled.
    Reported,
    /// A reaction or an awaiter was attached.
    Handled,
}

struct Inner<T, E> {
    phase: Phase<T, E>,
    waiters: Listeners<Waiter>,
    handling: Handling,
}

impl<T, E> Inner<T, E> {
    /// A handler is being attached; `true` if the loop had already
    /// reported the rejection (it then reports it handled, late).
    fn attach_handler(&mut self) -> bool {
        std::mem::replace(&mut self.handling, Handling::Handled) == Handling::Reported
    }
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

impl<T: 'static, E: 'static> State<T, E> {
    /// A new promise's state; an already rejected one (`Promise::reject`)
    /// is an unhandled rejection at once, as in V8.
    pub(crate) fn new(phase: Phase<T, E>) -> Arc<Self> {
        let rejected = matches!(phase, Phase::Settled(Err(_)));
        let state = Arc::new(State {
            inner: Mutex::new(Inner {
                phase,
                waiters: Listeners::new(),
                handling: Handling::Unhandled,
            }),
            settlers: AtomicUsize::new(0),
        });
        if rejected {
            crate::process::track_rejection(state.clone());
        }
        state
    }

    /// Settles a pending promise (or, with `adoption`, one that follows
    /// another promise) and wakes its waiters in registration order. A
    /// promise settles once: later calls drop `outcome`. A rejection
    /// nothing handles yet goes to the loop's rejection tracker.
    pub(crate) fn settle(self: &Arc<Self>, outcome: Result<T, E>, adoption: bool) {
        let mut inner = self.lock();
        let allowed = match inner.phase {
            Phase::Pending => !adoption,
            Phase::Adopting => adoption,
            Phase::Settled(_) | Phase::Abandoned | Phase::Taken => false,
        };
        if !allowed {
            drop(inner);
            drop(outcome);
            return;
        }
        let unhandled = outcome.is_err() && inner.handling == Handling::Unhandled;
        inner.phase = Phase::Settled(outcome);
        let waiters: Vec<Waiter> = inner.waiters.take_all().collect();
        drop(inner);
        if unhandled {
            crate::process::track_rejection(self.clone());
        }
        for waiter in waiters {
            match waiter {
                Waiter::Await(waker) | Waiter::Reaction(waker) => wake_as_reaction(&waker),
            }
        }
    }

    /// Registers a reaction task's waker, or hands it back to be woken at
    /// once if the promise has settled (or can no longer settle).
    pub(crate) fn add_reaction(self: &Arc<Self>, waker: Waker) -> Option<Waker> {
        let mut inner = self.lock();
        let late = inner.attach_handler();
        let woken = match inner.phase {
            Phase::Pending | Phase::Adopting => {
                inner.waiters.add(Waiter::Reaction(waker));
                None
            }
            Phase::Settled(_) | Phase::Abandoned | Phase::Taken => Some(waker),
        };
        drop(inner);
        if late {
            crate::process::rejection_handled_late(self.clone());
        }
        woken
    }
}

impl<T, E> State<T, E> {
    fn lock(&self) -> MutexGuard<'_, Inner<T, E>> {
        // Only reading a taken outcome (a documented panic) panics while
        // holding the lock; stay usable regardless.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
        !matches!(self.lock().phase, Phase::Settled(_) | Phase::Taken)
    }

    /// A short name of the phase, for `Debug`.
    pub(crate) fn describe(&self) -> &'static str {
        match self.lock().phase {
            Phase::Pending | Phase::Adopting => "<pending>",
            Phase::Settled(Ok(_)) => "<fulfilled>",
            Phase::Settled(Err(_)) => "<rejected>",
            Phase::Abandoned => "<pending, abandoned>",
            Phase::Taken => "<settled, taken>",
        }
    }

    /// Polls an awaiter: the outcome if settled, else (re)registers its
    /// waker under `key`. An abandoned promise stays pending without one.
    ///
    /// `first_poll` makes an already settled promise cost one microtask turn
    /// anyway (V8's `await`): the awaiter wakes itself and reads the outcome
    /// on its next poll, after whatever was queued before it.
    /// The first poll attaches a handler, as V8's `await` does. `read` gets
    /// the outcome out of a settled phase: a clone, or (`Promise::take`)
    /// the outcome itself.
    pub(crate) fn poll_await(
        self: &Arc<Self>,
        key: &mut Option<ListenerKey>,
        first_poll: bool,
        cx: &mut Context<'_>,
        read: fn(&mut Phase<T, E>) -> Result<T, E>,
    ) -> Poll<Result<T, E>>
    where
        T: 'static,
        E: 'static,
    {
        let mut guard = self.lock();
        if first_poll {
            if guard.attach_handler() {
                drop(guard);
                crate::process::rejection_handled_late(self.clone());
                guard = self.lock();
            }
            if matches!(guard.phase, Phase::Settled(_)) {
                drop(guard);
                wake_as_reaction(cx.waker());
                return Poll::Pending;
            }
        }
        let inner = &mut *guard;
        match &inner.phase {
            Phase::Settled(_) => {
                // Settling took every waiter out already.
                *key = None;
                Poll::Ready(read(&mut inner.phase))
            }
            Phase::Abandoned => Poll::Pending,
            Phase::Taken => panic!("{TAKEN}"),
            Phase::Pending | Phase::Adopting => {
                match key.and_then(|key| inner.waiters.get_mut(key)) {
                    Some(Waiter::Await(waker)) => waker.clone_from(cx.waker()),
                    _ => *key = Some(inner.waiters.add(Waiter::Await(cx.waker().clone()))),
                }
                Poll::Pending
            }
        }
    }

    /// Drops an awaiter's registration (its future was dropped).
    pub(crate) fn remove_awaiter(&self, key: ListenerKey) {
        let removed = self.lock().waiters.remove(key);
        drop(removed);
    }
}

/// [`State::poll_await`]'s `read` for `await`: a clone of the outcome.
pub(crate) fn clone_outcome<T: Clone, E: Clone>(phase: &mut Phase<T, E>) -> Result<T, E> {
    match phase {
        Phase::Settled(outcome) => outcome.clone(),
        _ => unreachable!("read a promise that has not settled"),
    }
}

/// [`State::poll_await`]'s `read` for `Promise::take`: the outcome itself.
pub(crate) fn take_outcome<T, E>(phase: &mut Phase<T, E>) -> Result<T, E> {
    match std::mem::replace(phase, Phase::Taken) {
        Phase::Settled(outcome) => outcome,
        _ => unreachable!("took a promise that has not settled"),
    }
}

impl<T: Clone + 'static, E: Clone + 'static> State<T, E> {
    /// What a reaction task sees when it runs.
    pub(crate) fn reacted(&self) -> Reacted<T, E> {
        match &self.lock().phase {
            Phase::Settled(outcome) => Reacted::Settled(outcome.clone()),
            Phase::Abandoned => Reacted::Abandoned,
            Phase::Pending | Phase::Adopting => Reacted::Pending,
            Phase::Taken => panic!("{TAKEN}"),
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
}

impl<T: 'static, E: 'static> Settler<T, E> {
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

/// A promise seen without its types: what the rejection tracker and
/// [`AnyPromise`](crate::promise::AnyPromise) hold.
pub(crate) trait ErasedState {
    /// Marks a rejection the loop is about to report; `false` if a handler
    /// was attached since it was tracked (then there is nothing to report).
    fn mark_reported(&self) -> bool;
    /// Calls `f` with the rejection reason, if the promise is rejected.
    /// The lock is held meanwhile: `f` must not reach the promise.
    fn with_reason(&self, f: &mut dyn FnMut(&dyn Any));
    /// The reason's type name.
    fn reason_type(&self) -> &'static str;
    /// The promise again, typed, behind `dyn Any` (a `Promise<T, E>`).
    fn to_promise(self: Arc<Self>) -> Box<dyn Any>;
    /// A short name of the phase, for `Debug`.
    fn phase_name(&self) -> &'static str;
}

impl<T: 'static, E: 'static> ErasedState for State<T, E> {
    fn mark_reported(&self) -> bool {
        let mut inner = self.lock();
        let unhandled = inner.handling == Handling::Unhandled;
        if unhandled {
            inner.handling = Handling::Reported;
        }
        unhandled
    }

    fn with_reason(&self, f: &mut dyn FnMut(&dyn Any)) {
        if let Phase::Settled(Err(reason)) = &self.lock().phase {
            f(reason);
        }
    }

    fn reason_type(&self) -> &'static str {
        std::any::type_name::<E>()
    }

    fn to_promise(self: Arc<Self>) -> Box<dyn Any> {
        Box::new(crate::promise::Promise::from_state(self))
    }

    fn phase_name(&self) -> &'static str {
        self.describe()
    }
}
