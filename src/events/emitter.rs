//! `EventEmitter<T, E>`: Node's `EventEmitter`, its events and listeners.

use std::borrow::Cow;
use std::cell::{RefCell, RefMut};
use std::convert::Infallible;
use std::fmt;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};

use super::list::{self, Clock, Every, Keys, ListenerList};
use super::names::EventLists;

/// An event emitter: listeners registered by event name, called
/// synchronously by [`emit`](Self::emit). Node's `EventEmitter`.
///
/// Every event of one emitter carries a payload of type `T` (a tuple for
/// several arguments, an enum if events differ); listeners get `&T`.
/// Errors are the separate, typed `'error'` event (payload `E`, see
/// [`emit_error`](Self::emit_error)), which is why the name `"error"` is
/// not an ordinary event here. With the default `E =`
/// [`Infallible`](std::convert::Infallible) the emitter has no errors;
/// Rust applies that default only to a type written out, so name the
/// payload type (`EventEmitter::<T>::new()`) unless `E` is inferred.
///
/// The emitter belongs to the loop thread (it is `!Send`); a clone is
/// another handle to the same emitter, as a JS object is shared by
/// reference. It needs no runtime, except for [`events::once`], whose
/// promise does.
///
/// Names are `&'static str` or `String` (anything
/// `Into<Cow<'static, str>>`); registering returns a [`ListenerId`], which
/// is how [`off`](Self::off) names the listener (Node compares functions).
///
/// [`events::once`]: super::once
///
/// # Examples
///
/// ```
/// use jsloop::events::EventEmitter;
///
/// let ee = EventEmitter::<&str>::new();
/// ee.on("greet", |name| println!("hello, {name}"));
/// ee.once("greet", |_| println!("only the first time"));
/// assert!(ee.emit("greet", "world")); // both listeners ran, in order
/// assert!(ee.emit("greet", "again")); // just the first
/// assert!(!ee.emit("leave", "nobody listens"));
/// ```
pub struct EventEmitter<T, E = Infallible> {
    pub(super) inner: Rc<Inner<T, E>>,
}

pub(super) struct Inner<T, E> {
    /// Which emitter a [`ListenerId`] is from.
    pub(super) id: u64,
    pub(super) keys: Keys,
    events: RefCell<EventLists<T>>,
    /// `'error'` listeners.
    pub(super) errors: RefCell<ListenerList<E>>,
    /// `errorMonitor` listeners: called before `errors`, and even when
    /// there is none.
    pub(super) monitors: RefCell<ListenerList<E>>,
    /// Orders removals against emits, across all events (see `list.rs`:
    /// it tells an emit which removed listeners it still calls).
    pub(super) clock: Clock,
}

/// Identifies a registered listener, to remove it with
/// [`EventEmitter::off`]. Ids are never reused: one names one listener of
/// one emitter.
///
/// # Examples
///
/// ```
/// use jsloop::events::EventEmitter;
///
/// let ee = EventEmitter::<u32>::new();
/// let id = ee.on("tick", |n| println!("tick {n}"));
/// assert!(ee.off(id));
/// assert!(!ee.off(id)); // already removed
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ListenerId {
    pub(super) emitter: u64,
    pub(super) list: ListOf,
    pub(super) key: i64,
}

/// Emitter ids; never reused.
static NEXT_EMITTER_ID: AtomicU64 = AtomicU64::new(0);

/// Which of an emitter's lists a listener is in.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum ListOf {
    /// An event's, by slot.
    Event(u32),
    Error,
    ErrorMonitor,
}

const ERROR_NAME: &str = concat!(
    "jsloop::events: \"error\" is the error event: listen with `on_error` and emit ",
    "with `emit_error` (its payload is the emitter's error type)"
);

/// Panics on `"error"`, which names the typed error event.
#[inline]
fn event_name(name: &str) -> &str {
    assert!(name != "error", "{ERROR_NAME}");
    name
}

impl<T: 'static, E: 'static> EventEmitter<T, E> {
    /// A new emitter with no listeners: `new EventEmitter()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let ee = jsloop::events::EventEmitter::<(), String>::new();
    /// assert_eq!(ee.listener_count("anything"), 0);
    /// ```
    pub fn new() -> Self {
        EventEmitter {
            inner: Rc::new(Inner {
                id: NEXT_EMITTER_ID.fetch_add(1, Ordering::Relaxed),
                keys: Keys::new(),
                events: RefCell::new(EventLists::new()),
                errors: RefCell::new(ListenerList::new()),
                monitors: RefCell::new(ListenerList::new()),
                clock: Clock::new(),
            }),
        }
    }

    /// Calls `listener` on every emit of `name`, after the listeners
    /// already there: `emitter.on(name, listener)`. A listener added during
    /// an emit of `name` is first called by the next one.
    ///
    /// # Panics
    ///
    /// If `name` is `"error"` (use [`on_error`](Self::on_error)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let total = Rc::new(Cell::new(0));
    /// let ee = jsloop::events::EventEmitter::<i32>::new();
    /// let sum = total.clone();
    /// ee.on("add", move |n| sum.set(sum.get() + n));
    /// ee.emit("add", 2);
    /// ee.emit("add", 3);
    /// assert_eq!(total.get(), 5);
    /// ```
    pub fn on(
        &self,
        name: impl Into<Cow<'static, str>>,
        listener: impl Fn(&T) + 'static,
    ) -> ListenerId {
        self.add(name.into(), listener, false)
    }

    /// Calls `listener` on the next emit of `name` only: it is removed just
    /// before it is called. `emitter.once(name, listener)`.
    ///
    /// # Panics
    ///
    /// If `name` is `"error"` (use [`once_error`](Self::once_error)).
    ///
    /// # Examples
    ///
    /// ```
    /// let ee = jsloop::events::EventEmitter::<i32>::new();
    /// ee.once("ready", |v| println!("ready with {v}"));
    /// assert_eq!(ee.listener_count("ready"), 1);
    /// assert!(ee.emit("ready", 1));
    /// assert_eq!(ee.listener_count("ready"), 0);
    /// assert!(!ee.emit("ready", 2));
    /// ```
    pub fn once(
        &self,
        name: impl Into<Cow<'static, str>>,
        listener: impl FnOnce(&T) + 'static,
    ) -> ListenerId {
        self.add_once(name.into(), listener, false)
    }

    /// Like [`on`](Self::on), but `listener` goes before the listeners
    /// already there: `emitter.prependListener(name, listener)`.
    ///
    /// # Panics
    ///
    /// If `name` is `"error"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// let order = Rc::new(RefCell::new(Vec::new()));
    /// let ee = jsloop::events::EventEmitter::<()>::new();
    /// let (a, b) = (order.clone(), order.clone());
    /// ee.on("x", move |()| a.borrow_mut().push("added"));
    /// ee.prepend_listener("x", move |()| b.borrow_mut().push("prepended"));
    /// ee.emit("x", ());
    /// assert_eq!(*order.borrow(), ["prepended", "added"]);
    /// ```
    pub fn prepend_listener(
        &self,
        name: impl Into<Cow<'static, str>>,
        listener: impl Fn(&T) + 'static,
    ) -> ListenerId {
        self.add(name.into(), listener, true)
    }

    /// Like [`once`](Self::once), but `listener` goes before the listeners
    /// already there: `emitter.prependOnceListener(name, listener)`.
    ///
    /// # Panics
    ///
    /// If `name` is `"error"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// let order = Rc::new(RefCell::new(Vec::new()));
    /// let ee = jsloop::events::EventEmitter::<i32>::new();
    /// let (a, b) = (order.clone(), order.clone());
    /// ee.on("x", move |n: &i32| a.borrow_mut().push(format!("on {n}")));
    /// ee.prepend_once_listener("x", move |n| b.borrow_mut().push(format!("first once {n}")));
    /// ee.emit("x", 1);
    /// ee.emit("x", 2);
    /// assert_eq!(*order.borrow(), ["first once 1", "on 1", "on 2"]);
    /// ```
    pub fn prepend_once_listener(
        &self,
        name: impl Into<Cow<'static, str>>,
        listener: impl FnOnce(&T) + 'static,
    ) -> ListenerId {
        self.add_once(name.into(), listener, true)
    }

    /// Registers `listener` under `name`: last, or first with `prepend`.
    fn add(
        &self,
        name: Cow<'static, str>,
        listener: impl Fn(&T) + 'static,
        prepend: bool,
    ) -> ListenerId {
        event_name(&name);
        let key = self.inner.keys.next(prepend);
        let mut events = self.inner.events.borrow_mut();
        let (slot, list) = events.get_or_insert(name);
        list.insert(key, false, Rc::new(Every(listener)));
        ListenerId { emitter: self.inner.id, list: ListOf::Event(slot), key }
    }

    /// Registers the `once` listener `listener` under `name`: last, or
    /// first with `prepend`.
    fn add_once(
        &self,
        name: Cow<'static, str>,
        listener: impl FnOnce(&T) + 'static,
        prepend: bool,
    ) -> ListenerId {
        event_name(&name);
        let key = self.inner.keys.next(prepend);
        let mut events = self.inner.events.borrow_mut();
        let (slot, list) = events.get_or_insert(name);
        list.insert_once(key, listener);
        ListenerId { emitter: self.inner.id, list: ListOf::Event(slot), key }
    }
}

impl<T, E> EventEmitter<T, E> {
    /// Removes a listener: `emitter.off(name, listener)` /
    /// `removeListener`. Returns whether it was registered (false for an
    /// id already removed, a `once` listener that has run, or an id of
    /// another emitter). An emit already under way still calls it (it works
    /// on the listeners as they were when it began); later emits do not.
    /// Works for every kind of listener, error listeners included.
    ///
    /// The listener's closure is dropped here, or when the emits calling it
    /// end.
    ///
    /// # Examples
    ///
    /// ```
    /// let ee = jsloop::events::EventEmitter::<u8>::new();
    /// let id = ee.on("data", |v| println!("{v}"));
    /// assert!(ee.off(id));
    /// assert!(!ee.emit("data", 1));
    /// ```
    pub fn off(&self, id: ListenerId) -> bool {
        if id.emitter != self.inner.id {
            return false;
        }
        let clock = &self.inner.clock;
        match id.list {
            ListOf::Event(slot) => remove(
                RefMut::filter_map(self.inner.events.borrow_mut(), |events| events.slot_mut(slot))
                    .ok(),
                id.key,
                clock,
            ),
            ListOf::Error => remove(Some(self.inner.errors.borrow_mut()), id.key, clock),
            ListOf::ErrorMonitor => remove(Some(self.inner.monitors.borrow_mut()), id.key, clock),
        }
    }

    /// Calls the listeners of `name` with `&payload`, synchronously, in
    /// order: `emitter.emit(name, ...args)`. Returns whether there were
    /// any (Node's return value).
    ///
    /// The listeners called are those registered when `emit` began: one
    /// that a listener removes still runs in this emit, one that a listener
    /// adds does not (Node copies the array). A `once` listener is removed
    /// just before it runs, so an emit re-entered from an earlier listener
    /// runs it there and this one skips it.
    ///
    /// A listener that panics unwinds out of `emit` (Node's throw): the
    /// listeners after it are not called, and the emitter stays usable.
    ///
    /// # Panics
    ///
    /// If `name` is `"error"` (use [`emit_error`](Self::emit_error)), or
    /// if a listener panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let ee = Rc::new(jsloop::events::EventEmitter::<&str>::new());
    /// let handle = ee.clone();
    /// ee.on("data", move |v| {
    ///     println!("got {v}");
    ///     handle.on("data", |v| println!("late listener got {v}")); // from the next emit
    /// });
    /// ee.emit("data", "a"); // got a
    /// ee.emit("data", "b"); // got b, late listener got b
    /// ```
    pub fn emit(&self, name: &str, payload: T) -> bool {
        let mut events = self.inner.events.borrow_mut();
        // `"error"` is checked only when no list is found: registering
        // under it panics, so it never has one.
        let Some((slot, list)) = events.get_mut(name) else {
            event_name(name);
            return false;
        };
        if let Some(lone) = list.take_lone() {
            // Out of the list already; called (and dropped) with the
            // emitter free, so it may register, remove or emit.
            drop(events);
            lone(&payload);
            return true;
        }
        if let Some(entries) = list.start_plain_emit(&self.inner.clock) {
            drop(events);
            list::emit_plain(entries, &payload, &self.inner.clock, move || {
                RefMut::filter_map(self.inner.events.borrow_mut(), |events| events.slot_mut(slot))
                    .ok()
            });
            return true;
        }
        if list.len() == 0 {
            return false;
        }
        let snapshot = list.start_emit(&self.inner.clock);
        drop(events);
        list::emit(snapshot, &payload, &self.inner.clock, || {
            RefMut::filter_map(self.inner.events.borrow_mut(), |events| events.slot_mut(slot)).ok()
        });
        true
    }

    /// The number of listeners of `name`: `emitter.listenerCount(name)`.
    ///
    /// # Panics
    ///
    /// If `name` is `"error"` (use
    /// [`error_listener_count`](Self::error_listener_count)).
    ///
    /// # Examples
    ///
    /// ```
    /// let ee = jsloop::events::EventEmitter::<()>::new();
    /// ee.on("a", |()| {});
    /// ee.once("a", |()| {});
    /// assert_eq!(ee.listener_count("a"), 2);
    /// assert_eq!(ee.listener_count("b"), 0);
    /// ```
    pub fn listener_count(&self, name: &str) -> usize {
        let events = self.inner.events.borrow();
        events.get(event_name(name)).map_or(0, |(_, list)| list.len())
    }

    /// Removes every listener of `name`: `removeAllListeners(name)`. An
    /// emit of `name` under way still calls them.
    ///
    /// # Panics
    ///
    /// If `name` is `"error"` (error listeners go with
    /// [`off`](Self::off) or [`clear`](Self::clear)).
    ///
    /// # Examples
    ///
    /// ```
    /// let ee = jsloop::events::EventEmitter::<()>::new();
    /// ee.on("a", |()| {});
    /// ee.on("a", |()| {});
    /// ee.remove_all_listeners("a");
    /// assert!(!ee.emit("a", ()));
    /// ```
    pub fn remove_all_listeners(&self, name: &str) {
        let mut events = self.inner.events.borrow_mut();
        let Some((_, list)) = events.get_mut(event_name(name)) else {
            return;
        };
        let removed = list.remove_all(&self.inner.clock);
        drop(events);
        drop(removed);
    }

    /// Removes every listener of every event, the error listeners and
    /// monitors included: `removeAllListeners()` with no name.
    ///
    /// # Examples
    ///
    /// ```
    /// let ee = jsloop::events::EventEmitter::<(), String>::new();
    /// ee.on("a", |()| {});
    /// ee.on_error(|e| eprintln!("{e}"));
    /// ee.clear();
    /// assert_eq!(ee.listener_count("a") + ee.error_listener_count(), 0);
    /// ```
    pub fn clear(&self) {
        let mut removed = Vec::new();
        for list in self.inner.events.borrow_mut().lists_mut() {
            removed.push(list.remove_all(&self.inner.clock));
        }
        let mut errors_removed = Vec::new();
        for list in [&self.inner.errors, &self.inner.monitors] {
            let mut list = list.borrow_mut();
            errors_removed.push(list.remove_all(&self.inner.clock));
        }
        // Dropped last: a closure's captures may use the emitter.
        drop((removed, errors_removed));
    }

    pub(super) fn downgrade(&self) -> WeakEmitter<T, E> {
        WeakEmitter(Rc::downgrade(&self.inner))
    }
}

/// Removes `key` from `list` and sweeps it; the listener, if its closure is
/// still alive, is dropped after the list's borrow ends (its captures'
/// `Drop` may use the emitter).
fn remove<A>(list: Option<RefMut<'_, ListenerList<A>>>, key: i64, clock: &Clock) -> bool {
    let Some(mut list) = list else {
        return false;
    };
    let Some(removed) = list.off(key, clock) else {
        return false;
    };
    drop(list);
    drop(removed);
    true
}

/// A handle that does not keep the emitter alive: for the listeners that
/// the helpers ([`once`](super::once), [`on`](super::on)) register, which
/// remove each other.
pub(super) struct WeakEmitter<T, E>(Weak<Inner<T, E>>);

impl<T, E> WeakEmitter<T, E> {
    pub(super) fn off(&self, id: ListenerId) {
        if let Some(inner) = self.0.upgrade() {
            EventEmitter { inner }.off(id);
        }
    }
}

impl<T: 'static, E: 'static> Default for EventEmitter<T, E> {
    fn default() -> Self {
        EventEmitter::new()
    }
}

impl<T, E> Clone for EventEmitter<T, E> {
    fn clone(&self) -> Self {
        EventEmitter { inner: self.inner.clone() }
    }
}

impl<T, E> fmt::Debug for EventEmitter<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let events = self.inner.events.borrow();
        let mut counts: Vec<(&str, usize)> = events.counts().collect();
        counts.sort_unstable();
        f.debug_struct("EventEmitter")
            .field("listeners", &counts)
            .field("error_listeners", &self.inner.errors.borrow().len())
            .field("error_monitors", &self.inner.monitors.borrow().len())
            .finish()
    }
}
