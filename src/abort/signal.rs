//! `AbortSignal`: the side that listens, and the `aborted()` future.

use std::any::Any;
use std::borrow::Borrow;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::AbortReason;
use crate::listeners::{ListenerKey, Listeners};
use crate::progress::wake_as_reaction;

/// A signal that work should stop: JS's `AbortSignal`. Get one from an
/// [`AbortController`](crate::AbortController), or from
/// [`AbortSignal::timeout`] / [`AbortSignal::any`].
///
/// `is_aborted()` and `reason()` are JS's `signal.aborted` and
/// `signal.reason`; [`add_listener`](AbortSignal::add_listener) is
/// `addEventListener('abort', …)`; [`aborted`](AbortSignal::aborted) is a
/// future of the abort. Clones are handles to the same signal.
///
/// # Examples
///
/// ```
/// use jsloop::AbortController;
///
/// jsloop::run(async {
///     let controller = AbortController::new();
///     let signal = controller.signal();
///     jsloop::queue_microtask(move || controller.abort("done"));
///     let reason = signal.aborted().await;
///     assert_eq!(reason.to_string(), "done");
///     assert!(signal.is_aborted());
/// });
/// ```
#[derive(Clone, Default)]
pub struct AbortSignal {
    state: Rc<SignalState>,
}

/// The DOM's model of `AbortSignal.any` ("dependent" signals): a signal
/// from `any` follows plain signals only (the sources of a composite it is
/// given, not the composite), and a plain signal keeps its dependents in
/// creation order, weakly, so that its abort runs its own listeners first
/// and then theirs.
#[derive(Default)]
struct SignalState {
    reason: RefCell<Option<AbortReason>>,
    listeners: RefCell<Listeners<Listener>>,
    /// Made by [`AbortSignal::any`].
    dependent: Cell<bool>,
    /// A dependent signal's plain sources, kept alive by it: a timeout
    /// signal only the composite holds must still fire.
    sources: RefCell<Vec<Rc<SignalState>>>,
    /// A plain signal's dependents, in creation order (dropped and aborted
    /// ones are pruned when another is added).
    dependents: RefCell<Vec<Weak<SignalState>>>,
}

impl SignalState {
    /// Makes `dependent` follow this plain signal (once).
    fn add_dependent(self: &Rc<Self>, dependent: &Rc<SignalState>) {
        let mut sources = dependent.sources.borrow_mut();
        if sources.iter().any(|source| Rc::ptr_eq(source, self)) {
            return;
        }
        sources.push(self.clone());
        let mut dependents = self.dependents.borrow_mut();
        dependents.retain(|d| d.upgrade().is_some_and(|d| d.reason.borrow().is_none()));
        dependents.push(Rc::downgrade(dependent));
    }
}

enum Listener {
    Callback(Box<dyn FnOnce(&AbortReason)>),
    /// A task waiting in [`Aborted`] or [`Abortable`](super::Abortable).
    Wake(Waker),
}

/// Identifies a listener added with [`AbortSignal::add_listener`], to
/// remove it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ListenerId(ListenerKey);

impl AbortSignal {
    /// Whether the signal was aborted: JS's `signal.aborted`.
    pub fn is_aborted(&self) -> bool {
        self.state.reason.borrow().is_some()
    }

    /// The abort reason, once aborted: JS's `signal.reason`.
    pub fn reason(&self) -> Option<AbortReason> {
        self.state.reason.borrow().clone()
    }

    /// `Err(reason)` if aborted: JS's `signal.throwIfAborted()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let controller = jsloop::AbortController::new();
    /// assert!(controller.signal().throw_if_aborted().is_ok());
    /// controller.abort(jsloop::abort::AbortReason::default());
    /// assert!(controller.signal().throw_if_aborted().is_err());
    /// ```
    pub fn throw_if_aborted(&self) -> Result<(), AbortReason> {
        self.reason().map_or(Ok(()), Err)
    }

    /// Runs `listener` when the signal is aborted, after the listeners
    /// added before it: `addEventListener('abort', listener)`. On an
    /// aborted signal it never runs, as in JS.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// let controller = jsloop::AbortController::new();
    /// let signal = controller.signal();
    /// for name in ["first", "second", "removed"] {
    ///     let log = log.clone();
    ///     let id = signal.add_listener(move |_| log.borrow_mut().push(name));
    ///     if name == "removed" {
    ///         assert!(signal.remove_listener(id));
    ///     }
    /// }
    /// controller.abort("stop");
    /// assert_eq!(*log.borrow(), ["first", "second"]);
    /// ```
    pub fn add_listener(&self, listener: impl FnOnce(&AbortReason) + 'static) -> ListenerId {
        self.add(Listener::Callback(Box::new(listener)))
    }

    /// Removes a listener that has not run: `removeEventListener`. Returns
    /// whether it was still there. Removing a listener while the signal
    /// dispatches (from an earlier listener) keeps it from running, as in
    /// the DOM.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        let removed = self.state.listeners.borrow_mut().remove(id.0);
        removed.is_some()
    }

    fn add(&self, listener: Listener) -> ListenerId {
        let mut listeners = self.state.listeners.borrow_mut();
        let key = listeners.add(listener);
        if self.is_aborted() {
            // Too late to ever run: drop it (after the borrow ends).
            let late = listeners.remove(key);
            drop(listeners);
            drop(late);
        }
        ListenerId(key)
    }

    /// A future of the abort: ready with the reason once the signal is
    /// aborted (at once if it is already).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// jsloop::run(async {
    ///     let controller = jsloop::AbortController::new();
    ///     let signal = controller.signal();
    ///     jsloop::set_timeout(Duration::from_millis(1), move || controller.abort("late"));
    ///     assert_eq!(signal.aborted().await.to_string(), "late");
    /// });
    /// ```
    pub fn aborted(&self) -> Aborted {
        Aborted { waiting: AbortWait::new(self) }
    }

    /// A signal aborted already, with `reason`: `AbortSignal.abort(reason)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let signal = jsloop::AbortSignal::abort("too late");
    /// assert!(signal.is_aborted());
    /// assert_eq!(signal.reason().unwrap().to_string(), "too late");
    /// ```
    pub fn abort(reason: impl Into<AbortReason>) -> AbortSignal {
        let signal = AbortSignal::default();
        signal.dispatch(reason.into());
        signal
    }

    /// A signal that aborts by itself after `delay`, with
    /// [`AbortReason::timed_out`]: `AbortSignal.timeout(ms)`. Its timer
    /// does not keep the loop alive (Node unrefs it too): it bounds work
    /// that keeps the loop alive by itself (a sleep, a socket, a pool job),
    /// and `run` does not wait for it otherwise.
    ///
    /// # Panics
    ///
    /// Outside a runtime: "no jsloop runtime is running on this thread".
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::{abortable, time::sleep, AbortSignal};
    ///
    /// jsloop::run(async {
    ///     let signal = AbortSignal::timeout(Duration::from_millis(5));
    ///     let slow = abortable(sleep(Duration::from_secs(60)), &signal).await;
    ///     assert!(slow.unwrap_err().is_timeout());
    /// });
    /// ```
    pub fn timeout(delay: Duration) -> AbortSignal {
        let signal = AbortSignal::default();
        let weak = Rc::downgrade(&signal.state);
        crate::set_timeout(delay, move || {
            if let Some(signal) = AbortSignal::upgrade(&weak) {
                signal.dispatch(AbortReason::timed_out());
            }
        })
        .unref();
        signal
    }

    /// A signal that aborts as soon as any of `signals` does, with its
    /// reason: `AbortSignal.any(signals)`. If one is aborted already, so is
    /// the new signal, with the reason of the first such in `signals`.
    ///
    /// As in the DOM, the abort of a source runs the source's own listeners
    /// first, then those of the signals made from it, in the order they were
    /// made; a signal made from such a signal follows the original sources.
    /// The new signal keeps its sources alive (so `any([timeout(d), ..])`
    /// fires even if only it is kept); they hold it weakly.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::{AbortController, AbortSignal};
    ///
    /// let user = AbortController::new();
    /// let shutdown = AbortController::new();
    /// let either = AbortSignal::any([user.signal(), shutdown.signal()]);
    /// shutdown.abort("shutting down");
    /// assert_eq!(either.reason().unwrap().to_string(), "shutting down");
    /// ```
    pub fn any<I>(signals: I) -> AbortSignal
    where
        I: IntoIterator,
        I::Item: Borrow<AbortSignal>,
    {
        let combined = AbortSignal::default();
        combined.state.dependent.set(true);
        let signals: Vec<AbortSignal> = signals.into_iter().map(|s| s.borrow().clone()).collect();
        if let Some(reason) = signals.iter().find_map(AbortSignal::reason) {
            *combined.state.reason.borrow_mut() = Some(reason);
            return combined;
        }
        for signal in &signals {
            if signal.state.dependent.get() {
                let sources: Vec<_> = signal.state.sources.borrow().clone();
                for source in sources {
                    source.add_dependent(&combined.state);
                }
            } else {
                signal.state.add_dependent(&combined.state);
            }
        }
        combined
    }

    fn upgrade(weak: &Weak<SignalState>) -> Option<AbortSignal> {
        weak.upgrade().map(|state| AbortSignal { state })
    }

    /// Aborts: sets the reason, then runs the listeners present now, in
    /// order, skipping any removed meanwhile. Once only.
    /// The signals made from it by `any` get the reason at once, and run
    /// their listeners after its own (the DOM's "signal abort").
    pub(crate) fn dispatch(&self, reason: AbortReason) {
        if self.is_aborted() {
            return;
        }
        *self.state.reason.borrow_mut() = Some(reason.clone());
        let dependents: Vec<AbortSignal> = std::mem::take(&mut *self.state.dependents.borrow_mut())
            .iter()
            .filter_map(AbortSignal::upgrade)
            .filter(|dependent| !dependent.is_aborted())
            .collect();
        for dependent in &dependents {
            *dependent.state.reason.borrow_mut() = Some(reason.clone());
        }
        let mut first_panic = None;
        self.run_listeners(&reason, &mut first_panic);
        for dependent in &dependents {
            dependent.run_listeners(&reason, &mut first_panic);
        }
        if let Some(payload) = first_panic {
            resume_unwind(payload);
        }
    }

    /// Runs the listeners present now, in order, skipping any removed
    /// meanwhile; keeps the first panic for the caller to rethrow once all
    /// have run.
    fn run_listeners(&self, reason: &AbortReason, first_panic: &mut Option<Box<dyn Any + Send>>) {
        let keys: Vec<ListenerKey> = self.state.listeners.borrow().keys().collect();
        for key in keys {
            let listener = self.state.listeners.borrow_mut().remove(key);
            match listener {
                Some(Listener::Callback(callback)) => {
                    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(reason))) {
                        first_panic.get_or_insert(crate::process::rethrow_loop_exit(payload));
                    }
                }
                Some(Listener::Wake(waker)) => wake_as_reaction(&waker),
                None => {}
            }
        }
    }
}

impl fmt::Debug for AbortSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortSignal").field("reason", &*self.state.reason.borrow()).finish()
    }
}

/// A task's registration with a signal, removed when dropped: what
/// [`Aborted`] and [`Abortable`](super::Abortable) wait with.
pub(crate) struct AbortWait {
    signal: AbortSignal,
    key: Option<ListenerKey>,
}

impl AbortWait {
    pub(crate) fn new(signal: &AbortSignal) -> Self {
        AbortWait { signal: signal.clone(), key: None }
    }

    /// The reason if aborted, else registers (or refreshes) `cx`'s waker.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<AbortReason> {
        if let Some(reason) = self.signal.reason() {
            return Poll::Ready(reason);
        }
        let mut listeners = self.signal.state.listeners.borrow_mut();
        match self.key.and_then(|key| listeners.get_mut(key)) {
            Some(Listener::Wake(waker)) => waker.clone_from(cx.waker()),
            _ => self.key = Some(listeners.add(Listener::Wake(cx.waker().clone()))),
        }
        Poll::Pending
    }
}

impl Drop for AbortWait {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let removed = self.signal.state.listeners.borrow_mut().remove(key);
            drop(removed);
        }
    }
}

/// The future of [`AbortSignal::aborted`]: the reason, once aborted.
#[must_use = "futures do nothing unless awaited"]
pub struct Aborted {
    waiting: AbortWait,
}

impl Future for Aborted {
    type Output = AbortReason;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<AbortReason> {
        self.waiting.poll(cx)
    }
}

impl fmt::Debug for Aborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aborted").field("signal", &self.waiting.signal).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::AbortSignal;
    use crate::AbortController;

    #[test]
    fn any_signals_let_go_of_their_sources_when_dropped_or_aborted() {
        let long_lived = AbortController::new();
        for _ in 0..100 {
            drop(AbortSignal::any([long_lived.signal()]));
        }
        assert!(long_lived.signal().state.listeners.borrow().is_empty());

        let other = AbortController::new();
        let combined = AbortSignal::any([long_lived.signal(), other.signal()]);
        other.abort("done");
        assert!(combined.is_aborted());
        assert!(long_lived.signal().state.listeners.borrow().is_empty());
    }
}
