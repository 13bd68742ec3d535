//! The end of every checkpoint, for promises: Node's `unhandledRejection`
//! and `rejectionHandled` events.
//!
//! A [`Promise`](crate::promise::Promise) rejected while nothing handles it
//! (no reaction, no awaiter: V8's `has_handler`) is tracked by the loop of
//! the thread that rejected it. When a checkpoint has run its next-ticks
//! and microtasks dry, the loop reports, in rejection order, every tracked
//! promise that is still unhandled — unless a handler came in time — and
//! the ticks and microtasks the listeners queue run before the checkpoint
//! ends; a rejection they cause is reported in the same checkpoint. A
//! handler attached to a promise already reported makes the loop report it
//! handled at the end of that later checkpoint. That is Node's
//! `processTicksAndRejections` loop (`lib/internal/process/promises.js`).
//!
//! What a report does depends on the runtime's [`UnhandledRejections`]
//! mode, Node's `--unhandled-rejections`.

use std::cell::{Cell, RefCell};
use std::error::Error;
use std::fmt;
use std::sync::Arc;

use super::lifecycle::restore_listeners;
use crate::context;
use crate::event_loop::Core;
use crate::promise::ErasedState;
use crate::promise::{AnyPromise, Reason};

/// What the loop does with a rejection nothing handled by the end of its
/// checkpoint: Node's `--unhandled-rejections` modes, set with
/// [`Builder::unhandled_rejections`](crate::Builder::unhandled_rejections).
///
/// "Raised as an uncaught error" means: the runtime's
/// [`on_uncaught_panic`](crate::Builder::on_uncaught_panic) handler gets an
/// [`UnhandledRejection`] and the loop goes on, or, without a handler, the
/// loop panics with "jsloop: unhandled promise rejection: …" (the panic
/// unwinds out of `run`, as Node exits with code 1).
///
/// # Examples
///
/// ```
/// use jsloop::process::UnhandledRejections;
/// use jsloop::promise::Promise;
///
/// let rt = jsloop::Runtime::builder().unhandled_rejections(UnhandledRejections::None).build()?;
/// rt.run(async {
///     Promise::<(), _>::reject("nobody listens, and that is fine here");
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnhandledRejections {
    /// Node's default since v15: the [`on_unhandled_rejection`] listeners
    /// get it; if there are none, it is raised as an uncaught error.
    #[default]
    Throw,
    /// Raised as an uncaught error first; if the uncaught handler took it,
    /// the listeners get it too.
    Strict,
    /// The listeners get it, and a warning goes to stderr either way.
    Warn,
    /// Only the listeners get it.
    None,
}

/// An unhandled-rejection listener.
type UnhandledListener = Box<dyn FnMut(&Reason, &AnyPromise)>;
/// A rejection-handled listener.
type HandledListener = Box<dyn FnMut(&AnyPromise)>;

/// One loop's rejection tracker and its listeners.
#[derive(Default)]
pub(crate) struct Rejections {
    mode: Cell<UnhandledRejections>,
    /// Rejected with no handler, in rejection order, not yet reported.
    unhandled: RefCell<Vec<Arc<dyn ErasedState>>>,
    /// Reported, then handled: their `rejection_handled` is due.
    handled_late: RefCell<Vec<Arc<dyn ErasedState>>>,
    /// Either list holds something: the checkpoint's end has work.
    due: Cell<bool>,
    on_unhandled: RefCell<Vec<UnhandledListener>>,
    on_handled: RefCell<Vec<HandledListener>>,
    /// The rejection the uncaught handler is being given, for
    /// [`UnhandledRejection::promise`]; numbered so a stale payload finds
    /// nothing.
    raising: RefCell<Option<(u64, AnyPromise)>>,
    raised: Cell<u64>,
}

impl Rejections {
    /// The runtime builder's mode (the default is `Throw`).
    pub(crate) fn set_mode(&self, mode: UnhandledRejections) {
        self.mode.set(mode);
    }

    /// Whether the checkpoint's end has rejections to report.
    #[inline]
    pub(crate) fn is_due(&self) -> bool {
        self.due.get()
    }

    fn push(&self, list: &RefCell<Vec<Arc<dyn ErasedState>>>, state: Arc<dyn ErasedState>) {
        list.borrow_mut().push(state);
        self.due.set(true);
    }
}

/// A promise was rejected with no handler: the current loop tracks it. A
/// rejection on a thread without a loop is not tracked (no loop could
/// report it; await the promise to see it).
pub(crate) fn track_rejection(state: Arc<dyn ErasedState>) {
    on_current_loop(|tracker| tracker.push(&tracker.unhandled, state));
}

/// A handler was attached to a promise the loop already reported.
pub(crate) fn rejection_handled_late(state: Arc<dyn ErasedState>) {
    on_current_loop(|tracker| tracker.push(&tracker.handled_late, state));
}

/// Runs `f` on the tracker of the loop running on this thread, if any.
fn on_current_loop(f: impl FnOnce(&Rejections)) {
    let _ = context::try_with_current(|core| {
        if !core.is_shut_down() {
            f(&core.rejections);
        }
    });
}

impl Core {
    /// The end of a checkpoint, once its next-ticks and microtasks ran dry:
    /// reports the rejections handled late, then the ones still unhandled
    /// (only those tracked so far: the listeners' own wait for the next
    /// round). `true` if anything was reported: the checkpoint goes on.
    #[cold]
    pub(crate) fn report_rejections(&self) -> bool {
        let tracker = &self.rejections;
        let late = std::mem::take(&mut *tracker.handled_late.borrow_mut());
        let unhandled = std::mem::take(&mut *tracker.unhandled.borrow_mut());
        tracker.due.set(false);
        let mut reported = !late.is_empty();
        for state in late {
            let promise = AnyPromise::new(state);
            if !self.emit_rejection_handled(&promise) && self.warns() {
                eprintln!(
                    "(jsloop) warning: a promise rejection was handled asynchronously, after \
                     it was reported as unhandled: {promise:?}"
                );
            }
        }
        for state in unhandled {
            if !state.mark_reported() {
                continue; // a handler came in time
            }
            reported = true;
            let promise = AnyPromise::new(state);
            let reason = Reason::of(&promise);
            match tracker.mode.get() {
                UnhandledRejections::Throw => {
                    if !self.emit_unhandled_rejection(&reason, &promise) {
                        self.raise_unhandled(&reason, promise);
                    }
                }
                UnhandledRejections::Strict => {
                    self.raise_unhandled(&reason, promise.clone());
                    self.emit_unhandled_rejection(&reason, &promise);
                }
                UnhandledRejections::Warn => {
                    self.emit_unhandled_rejection(&reason, &promise);
                    eprintln!("(jsloop) warning: unhandled promise rejection: {reason}");
                }
                UnhandledRejections::None => {
                    self.emit_unhandled_rejection(&reason, &promise);
                }
            }
        }
        reported
    }

    /// Calls the unhandled-rejection listeners; `false` if there are none.
    /// Listeners added meanwhile wait for the next report.
    fn emit_unhandled_rejection(&self, reason: &Reason, promise: &AnyPromise) -> bool {
        let listeners = &self.rejections.on_unhandled;
        let mut called = std::mem::take(&mut *listeners.borrow_mut());
        for listener in &mut called {
            self.invoke(|| listener(reason, promise));
        }
        restore_listeners(listeners, called)
    }

    /// Calls the rejection-handled listeners; `false` if there are none.
    fn emit_rejection_handled(&self, promise: &AnyPromise) -> bool {
        let listeners = &self.rejections.on_handled;
        let mut called = std::mem::take(&mut *listeners.borrow_mut());
        for listener in &mut called {
            self.invoke(|| listener(promise));
        }
        restore_listeners(listeners, called)
    }

    /// Raises an unhandled rejection as an uncaught error.
    fn raise_unhandled(&self, reason: &Reason, promise: AnyPromise) {
        let tracker = &self.rejections;
        let id = tracker.raised.get() + 1;
        tracker.raised.set(id);
        let error =
            UnhandledRejection { message: reason.to_string(), reason_type: reason.type_name(), id };
        if !self.has_uncaught_handler() {
            panic!("jsloop: {error}");
        }
        *tracker.raising.borrow_mut() = Some((id, promise));
        self.unawaited_panic(Box::new(error));
        tracker.raising.borrow_mut().take();
    }
}

/// What the runtime's uncaught handler gets for a rejection nothing
/// handled ([`UnhandledRejections::Throw`] with no listener, or
/// [`Strict`](UnhandledRejections::Strict)): Node's `uncaughtException`
/// with origin `'unhandledRejection'`. Downcast the handler's payload to
/// it to tell the two origins apart.
///
/// It is `Send`, as a panic payload must be, so it carries the reason's
/// text and type; the promise itself (and so the reason's value) is there
/// only while the handler runs, on the loop's thread.
///
/// # Examples
///
/// ```
/// use jsloop::process::UnhandledRejection;
/// use jsloop::promise::Promise;
///
/// let rt = jsloop::Runtime::builder()
///     .on_uncaught_panic(|payload| match payload.downcast::<UnhandledRejection>() {
///         Ok(rejection) => {
///             let code = rejection.promise().and_then(|p| p.reason()?.downcast::<u16>());
///             println!("{rejection} (code {code:?})");
///         }
///         Err(_) => println!("a callback panicked"),
///     })
///     .build()?;
/// rt.run(async {
///     Promise::<(), u16>::reject(503);
///     jsloop::set_immediate(|| println!("the loop goes on"));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct UnhandledRejection {
    message: String,
    reason_type: &'static str,
    id: u64,
}

impl UnhandledRejection {
    /// The reason as text (see [`Reason`]'s `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The name of the reason's type.
    pub fn reason_type(&self) -> &'static str {
        self.reason_type
    }

    /// The promise, while the uncaught handler that got this runs (on the
    /// loop's thread); `None` afterwards and elsewhere.
    pub fn promise(&self) -> Option<AnyPromise> {
        context::try_with_current(|core| match &*core.rejections.raising.borrow() {
            Some((id, promise)) if *id == self.id => Some(promise.clone()),
            _ => None,
        })
        .flatten()
    }
}

impl fmt::Display for UnhandledRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unhandled promise rejection: {}", self.message)
    }
}

impl Error for UnhandledRejection {}

/// Registers a listener for rejections nothing handled by the end of their
/// checkpoint: Node's `process.on('unhandledRejection', (reason, promise)
/// => …)`. While one is registered, the default mode
/// ([`UnhandledRejections::Throw`]) no longer raises them. A panic in the
/// listener is an uncaught error like any callback's.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use jsloop::promise::Promise;
///
/// jsloop::run(async {
///     jsloop::process::on_unhandled_rejection(|reason, _promise| {
///         println!("unhandled: {reason}");
///     });
///     Promise::<(), _>::reject("nobody caught me".to_string());
/// });
/// ```
pub fn on_unhandled_rejection(listener: impl FnMut(&Reason, &AnyPromise) + 'static) {
    context::with_current(|core| {
        core.rejections.on_unhandled.borrow_mut().push(Box::new(listener))
    });
}

/// Registers a listener for rejections that got a handler after they were
/// reported unhandled: Node's `process.on('rejectionHandled', (promise) =>
/// …)`, called at the end of the checkpoint in which the handler was
/// attached. Without a listener, a warning goes to stderr when the
/// runtime's warnings are on.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use jsloop::promise::Promise;
///
/// jsloop::run(async {
///     jsloop::process::on_unhandled_rejection(|_, _| println!("1: unhandled"));
///     jsloop::process::on_rejection_handled(|_| println!("2: handled after all"));
///     let late = Promise::<(), _>::reject("late");
///     jsloop::set_immediate(move || {
///         late.catch(|_| ());
///     });
/// });
/// ```
pub fn on_rejection_handled(listener: impl FnMut(&AnyPromise) + 'static) {
    context::with_current(|core| core.rejections.on_handled.borrow_mut().push(Box::new(listener)));
}
