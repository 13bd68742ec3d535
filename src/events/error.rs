//! The `'error'` event: typed listeners, the error monitor, and Node's rule
//! that an error nobody listens to is not silently dropped.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::rc::Rc;

use super::emitter::{EventEmitter, ListOf, ListenerId};
use super::list::{self, Every, ListenerList};

/// An error emitted with no `'error'` listener, handed back by
/// [`EventEmitter::emit_error`]: where Node's `emit('error', err)` throws
/// `err`, jsloop returns it, and the `Result` must be used.
///
/// # Examples
///
/// ```
/// use jsloop::events::{EventEmitter, UnhandledError};
///
/// let ee = EventEmitter::<(), String>::new();
/// let Err(UnhandledError(error)) = ee.emit_error("disk full".to_string()) else {
///     unreachable!("no one listens")
/// };
/// assert_eq!(error, "disk full");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct UnhandledError<E>(pub E);

impl<E: fmt::Display> fmt::Display for UnhandledError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unhandled 'error' event (no 'error' listener): {}", self.0)
    }
}

impl<E: Error + 'static> Error for UnhandledError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

impl<T: 'static, E: 'static> EventEmitter<T, E> {
    /// Calls `listener` on every [`emit_error`](Self::emit_error), after the
    /// error listeners already there: `emitter.on('error', listener)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let ee = jsloop::events::EventEmitter::<(), String>::new();
    /// ee.on_error(|e| eprintln!("failed: {e}"));
    /// assert!(ee.emit_error("boom".into()).is_ok());
    /// ```
    pub fn on_error(&self, listener: impl Fn(&E) + 'static) -> ListenerId {
        self.add_error(ListOf::Error, |list, key| {
            list.insert(key, false, Rc::new(Every(listener)));
        })
    }

    /// Calls `listener` on the next [`emit_error`](Self::emit_error) only:
    /// `emitter.once('error', listener)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let ee = jsloop::events::EventEmitter::<(), &str>::new();
    /// ee.once_error(|e| eprintln!("first failure: {e}"));
    /// assert!(ee.emit_error("one").is_ok());
    /// assert!(ee.emit_error("two").is_err()); // nobody listens any more
    /// ```
    pub fn once_error(&self, listener: impl FnOnce(&E) + 'static) -> ListenerId {
        self.add_error(ListOf::Error, |list, key| list.insert_once(key, listener))
    }

    /// Calls `listener` on every [`emit_error`](Self::emit_error), before
    /// the error listeners, and also when there are none (then the error
    /// still comes back unhandled): Node's
    /// `emitter.on(events.errorMonitor, listener)`, for logging and
    /// metrics. It does not count as an error listener.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let seen = Rc::new(Cell::new(0));
    /// let ee = jsloop::events::EventEmitter::<(), &str>::new();
    /// let count = seen.clone();
    /// ee.on_error_monitor(move |_| count.set(count.get() + 1));
    /// assert!(ee.emit_error("unheard").is_err()); // monitored, still unhandled
    /// assert_eq!(seen.get(), 1);
    /// ```
    pub fn on_error_monitor(&self, listener: impl Fn(&E) + 'static) -> ListenerId {
        self.add_error(ListOf::ErrorMonitor, |list, key| {
            list.insert(key, false, Rc::new(Every(listener)));
        })
    }

    /// Registers a listener in the `kind` list, by `insert`ing it with a
    /// new key.
    fn add_error(
        &self,
        kind: ListOf,
        insert: impl FnOnce(&mut ListenerList<E>, i64),
    ) -> ListenerId {
        let key = self.inner.keys.next(false);
        let list =
            if kind == ListOf::ErrorMonitor { &self.inner.monitors } else { &self.inner.errors };
        insert(&mut list.borrow_mut(), key);
        ListenerId { emitter: self.inner.id, list: kind, key }
    }

    /// Emits the `'error'` event: `emitter.emit('error', error)`. The
    /// error monitors run first, then the error listeners, synchronously,
    /// with the same snapshot rule as [`emit`](Self::emit).
    ///
    /// Node's rule: an error with no `'error'` listener must not vanish.
    /// Node throws it out of `emit`; here it comes back as
    /// `Err(`[`UnhandledError`]`(error))`, a `Result` the caller must use
    /// (`?` it, log it, or `expect` it to crash as Node would). Monitors do
    /// not count as listeners.
    ///
    /// # Panics
    ///
    /// If a listener panics (the panic unwinds out of here).
    ///
    /// # Examples
    ///
    /// ```
    /// let ee = jsloop::events::EventEmitter::<(), String>::new();
    /// match ee.emit_error("no error listener".to_string()) {
    ///     Ok(()) => unreachable!(),
    ///     Err(unhandled) => println!("emit_error returned: {}", unhandled.0),
    /// }
    /// ee.on_error(|e| println!("handled: {e}"));
    /// ee.emit_error("now someone listens".to_string()).expect("handled");
    /// ```
    pub fn emit_error(&self, error: E) -> Result<(), UnhandledError<E>> {
        self.emit_to(&self.inner.monitors, &error);
        if self.emit_to(&self.inner.errors, &error) { Ok(()) } else { Err(UnhandledError(error)) }
    }

    /// Emits `error` to the listeners of `list`; false if there were none.
    fn emit_to(&self, list: &RefCell<ListenerList<E>>, error: &E) -> bool {
        let mut listeners = list.borrow_mut();
        if let Some(lone) = listeners.take_lone() {
            drop(listeners);
            lone(error);
            return true;
        }
        if listeners.len() == 0 {
            return false;
        }
        let snapshot = listeners.start_emit(&self.inner.clock);
        drop(listeners);
        list::emit(snapshot, error, &self.inner.clock, || Some(list.borrow_mut()));
        true
    }

    /// The number of `'error'` listeners (monitors not counted):
    /// `emitter.listenerCount('error')`.
    ///
    /// # Examples
    ///
    /// ```
    /// let ee = jsloop::events::EventEmitter::<(), String>::new();
    /// let id = ee.on_error(|_| {});
    /// assert_eq!(ee.error_listener_count(), 1);
    /// ee.off(id);
    /// assert_eq!(ee.error_listener_count(), 0);
    /// ```
    pub fn error_listener_count(&self) -> usize {
        self.inner.errors.borrow().len()
    }
}
