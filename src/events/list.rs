//! The listeners of one event, in call order, and the snapshot an `emit`
//! calls.
//!
//! Node copies the listener array when `emit` starts (`arrayClone`), so a
//! listener that removes another, or adds one, does not change who is
//! called in that emit. Copying on every emit would cost an allocation, so
//! the list is copy-on-write instead: an emit's snapshot is a clone of the
//! `Rc` around the entries, and only an addition made *while* a snapshot is
//! alive copies them. (A lone listener needs no snapshot at all: the emit
//! holds just that one, as Node keeps a lone listener unwrapped.)
//!
//! Removal does not copy. A removed entry is stamped with the emit clock
//! (the number of emits started so far): the emits already running began
//! no later than the stamp and still call it; an emit begun after it skips
//! it (`removed_at < started`). While a snapshot shares the entries, the
//! stamped entry stays in them, counted as *stale*, and the emit that ends
//! with the entries to itself sweeps them out. That keeps a `once`
//! listener, which an emit removes before calling it, from copying the
//! list each time it fires. A removal after a copy stamps the copy only,
//! which is right: the emits holding the older entries began before it and
//! still call the listener. An emit whose snapshot holds no stale entries
//! has nothing to skip and reads no stamps, and one during which nothing
//! was removed has nothing to sweep. The common emit, to two or more
//! listeners none of which is stale or `once`, is told so once when it
//! starts ([`emit_plain`]): its loop does nothing per listener but call
//! it, through a pointer each entry keeps to its listener (found when it
//! was registered, not on every call through the `Rc`).
//!
//! A `once` listener registered while its event has no other listener is
//! not an entry at all: the list keeps it aside, boxed (*lone*), and the
//! emit that finds it takes it out, lets go of the list and calls it. That
//! is the common round trip (`once`, then the `emit` it waits for) and it
//! needs no shared entries, no reference count and no removal stamp: the
//! listener is out of the list before it runs, which is Node's `once`
//! rule, and no emit but that one can reach it. A listener registered
//! beside it moves it into the entries first, where keys keep the order.
//!
//! Order is kept by keys: appended listeners take keys from a counter that
//! only grows, prepended ones from one that only shrinks (below zero), so
//! every list is sorted by key and a removal is a binary search. The
//! counters are the emitter's ([`Keys`]), so a key names one listener of
//! that emitter for good: an id kept after removal matches nothing.

use std::cell::{Cell, RefMut};
use std::ptr::NonNull;
use std::rc::Rc;

/// `removed_at` of a listener still registered.
const LIVE: u64 = u64::MAX;

/// What a listener does when called.
pub(super) trait Call<A> {
    fn call(&self, payload: &A);
    /// Whether dropping it runs no user code (a `once` listener that fired
    /// has dropped its closure already).
    fn is_spent(&self) -> bool;
}

/// An `on` listener: called on every emit.
pub(super) struct Every<F>(pub(super) F);

impl<A, F: Fn(&A)> Call<A> for Every<F> {
    fn call(&self, payload: &A) {
        (self.0)(payload)
    }

    fn is_spent(&self) -> bool {
        false
    }
}

/// A `once` listener: the closure is taken out by its one call, so an emit
/// nested inside another cannot run it a second time (Node's `fired`).
pub(super) struct Once<F>(pub(super) Cell<Option<F>>);

impl<A, F: FnOnce(&A)> Call<A> for Once<F> {
    fn call(&self, payload: &A) {
        if let Some(listener) = self.0.take() {
            listener(payload);
        }
    }

    fn is_spent(&self) -> bool {
        let listener = self.0.take();
        let spent = listener.is_none();
        self.0.set(listener);
        spent
    }
}

/// One registered listener, as its list holds it.
pub(super) struct Entry<A> {
    key: i64,
    /// The emit clock when it was removed; [`LIVE`] until then. A `Cell`:
    /// removal stamps it while a snapshot shares the entries.
    removed_at: Cell<u64>,
    /// Removed before it is called.
    once: bool,
    /// Shared by the copies a change during an emit makes.
    call: Rc<dyn Call<A>>,
    /// `call`'s listener, found once: a call through the `Rc` would work
    /// out where the listener sits behind the counts (from its alignment,
    /// read from the vtable) on every call, a third of an emit's loop.
    target: NonNull<dyn Call<A>>,
}

impl<A> Entry<A> {
    fn new(key: i64, once: bool, call: Rc<dyn Call<A>>) -> Self {
        let target = NonNull::from(&*call);
        Entry { key, removed_at: Cell::new(LIVE), once, call, target }
    }

    fn is_live(&self) -> bool {
        self.removed_at.get() == LIVE
    }

    /// Calls the listener.
    #[inline(always)]
    fn call(&self, payload: &A) {
        // SAFETY: `target` points into the allocation of `self.call`, which
        // this entry keeps alive; it is only ever read through `&`, as
        // `Rc` allows.
        unsafe { self.target.as_ref() }.call(payload)
    }
}

impl<A> Clone for Entry<A> {
    fn clone(&self) -> Self {
        Entry {
            key: self.key,
            removed_at: self.removed_at.clone(),
            once: self.once,
            call: self.call.clone(),
            target: self.target,
        }
    }
}

/// The keys of one emitter's listeners: appended ones count up from 0,
/// prepended ones down from -1, so each list stays sorted by key.
pub(super) struct Keys {
    appended: Cell<i64>,
    prepended: Cell<i64>,
}

impl Keys {
    pub(super) fn new() -> Self {
        Keys { appended: Cell::new(0), prepended: Cell::new(-1) }
    }

    /// A key after every key so far, or with `prepend` before every one.
    pub(super) fn next(&self, prepend: bool) -> i64 {
        let (counter, step) = if prepend { (&self.prepended, -1) } else { (&self.appended, 1) };
        let key = counter.get();
        counter.set(key + step);
        key
    }
}

/// What orders an emitter's removals against its emits.
pub(super) struct Clock {
    /// Emits started so far: a removal is stamped with it.
    emits: Cell<u64>,
    /// Removals so far: an emit during which there were none has nothing
    /// to sweep.
    removals: Cell<u64>,
}

impl Clock {
    pub(super) fn new() -> Self {
        Clock { emits: Cell::new(0), removals: Cell::new(0) }
    }

    fn stamp_removal(&self, listener: &Entry<impl Sized>) {
        listener.removed_at.set(self.emits.get());
        self.removals.set(self.removals.get() + 1);
    }
}

type Entries<A> = Vec<Entry<A>>;

/// A lone `once` listener: the closure itself, called by value.
pub(super) type LoneCall<A> = Box<dyn FnOnce(&A)>;

/// The lone `once` listener of a list, with its key (for `off`).
struct Lone<A> {
    key: i64,
    call: LoneCall<A>,
}

/// Listeners taken out of a list whose closures are still alive, for the
/// caller to drop once it has let go of the emitter: their captures'
/// `Drop` may use it.
#[must_use = "drop the removed listeners after releasing the emitter"]
pub(super) struct Removed<A> {
    entries: Vec<Rc<dyn Call<A>>>,
    lone: Option<LoneCall<A>>,
}

/// The listeners of one event, in call order (sorted by key).
pub(super) struct ListenerList<A> {
    /// A `once` listener with no live listener beside it, kept out of
    /// `entries` (see the module doc).
    lone: Option<Lone<A>>,
    entries: Rc<Entries<A>>,
    /// Removed listeners still in `entries`, kept there for a snapshot.
    stale: usize,
    /// `once` listeners in `entries` (stale ones included): while there
    /// are none, an emit need not look for one to remove.
    onces: usize,
}

impl<A> ListenerList<A> {
    pub(super) fn new() -> Self {
        ListenerList { lone: None, entries: Rc::new(Vec::new()), stale: 0, onces: 0 }
    }

    /// The number of listeners registered.
    pub(super) fn len(&self) -> usize {
        self.entries.len() - self.stale + usize::from(self.lone.is_some())
    }

    /// Adds the `once` listener `listener` under `key` (from
    /// [`Keys::next`]): lone if the event has no other listener, else as
    /// [`insert`](Self::insert) does.
    #[inline]
    pub(super) fn insert_once(&mut self, key: i64, listener: impl FnOnce(&A) + 'static)
    where
        A: 'static,
    {
        if self.len() == 0 {
            self.lone = Some(Lone { key, call: Box::new(listener) });
        } else {
            self.insert(key, true, Rc::new(Once(Cell::new(Some(listener)))));
        }
    }

    /// Adds the listener `call` under `key` (from [`Keys::next`]) where the
    /// key sorts it: last, or first if prepended. Copies the entries if an
    /// emit is calling them.
    pub(super) fn insert(&mut self, key: i64, once: bool, call: Rc<dyn Call<A>>)
    where
        A: 'static,
    {
        if let Some(lone) = self.lone.take() {
            // Not alone any more: an entry like the others, ordered by key.
            self.insert(lone.key, true, Rc::new(Once(Cell::new(Some(lone.call)))));
        }
        self.onces += usize::from(once);
        let entries = Rc::make_mut(&mut self.entries);
        let entry = Entry::new(key, once, call);
        if key < 0 {
            entries.insert(0, entry);
        } else {
            entries.push(entry);
        }
    }

    /// Removes the listener with `key` and sweeps the list (`None` if it
    /// is not registered): `off`.
    pub(super) fn off(&mut self, key: i64, clock: &Clock) -> Option<Removed<A>> {
        if self.lone.as_ref().is_some_and(|lone| lone.key == key) {
            let lone = self.lone.take().map(|lone| lone.call);
            return Some(Removed { entries: Vec::new(), lone });
        }
        self.remove(key, clock).then(|| self.sweep())
    }

    /// Removes the entry with `key`; false if it is not registered.
    /// [`sweep`](Self::sweep) takes it out of the entries.
    fn remove(&mut self, key: i64, clock: &Clock) -> bool {
        let Ok(index) = self.entries.binary_search_by_key(&key, |listener| listener.key) else {
            return false;
        };
        let listener = &self.entries[index];
        if !listener.is_live() {
            return false;
        }
        clock.stamp_removal(listener);
        self.stale += 1;
        true
    }

    /// Removes every listener, and sweeps the list.
    pub(super) fn remove_all(&mut self, clock: &Clock) -> Removed<A> {
        for listener in self.entries.iter().filter(|listener| listener.is_live()) {
            clock.stamp_removal(listener);
        }
        self.stale = self.entries.len();
        let mut removed = self.sweep();
        removed.lone = self.lone.take().map(|lone| lone.call);
        removed
    }

    /// Takes the removed listeners out of the entries, unless a snapshot
    /// still shares them (the emit holding it sweeps when it ends). Returns
    /// the ones whose closures are still alive.
    #[inline(never)]
    fn sweep(&mut self) -> Removed<A> {
        let mut alive = Removed { entries: Vec::new(), lone: None };
        if self.stale == 0 {
            return alive;
        }
        let Some(entries) = Rc::get_mut(&mut self.entries) else {
            return alive;
        };
        // Move the live entries to the front, in order, then pop the rest.
        let mut kept = 0;
        for index in 0..entries.len() {
            if entries[index].is_live() {
                entries.swap(kept, index);
                kept += 1;
            }
        }
        while entries.len() > kept {
            let Some(removed) = entries.pop() else { break };
            self.onces -= usize::from(removed.once);
            if Rc::strong_count(&removed.call) == 1 && !removed.call.is_spent() {
                alive.entries.push(removed.call);
            }
        }
        self.stale = 0;
        alive
    }

    /// Starts an emit of a lone `once` listener, if the list has one:
    /// takes it out (it is removed before it runs), for the caller to call
    /// once it has let go of the emitter. Nothing else is needed: it is
    /// the only listener, no other emit can reach it, and the emit clock,
    /// which orders removals against the emits holding a snapshot, has no
    /// snapshot to order here.
    #[inline]
    pub(super) fn take_lone(&mut self) -> Option<LoneCall<A>> {
        self.lone.take().map(|lone| lone.call)
    }

    /// Starts an emit of a list with nothing to skip or remove, after
    /// [`take_lone`](Self::take_lone) found no lone listener: the entries
    /// to call, all of them, with [`emit_plain`]. `None` unless there are
    /// two or more, none removed and none `once` ([`start_emit`] does the
    /// rest).
    ///
    /// [`start_emit`]: Self::start_emit
    #[inline(always)]
    pub(super) fn start_plain_emit(&self, clock: &Clock) -> Option<Rc<Entries<A>>> {
        if self.stale != 0 || self.onces != 0 || self.entries.len() < 2 {
            return None;
        }
        clock.emits.set(clock.emits.get() + 1);
        Some(self.entries.clone())
    }

    /// Starts an emit, after [`take_lone`](Self::take_lone) found none:
    /// what it calls. A lone entry is handed out by itself, as Node stores
    /// a lone listener unwrapped: no snapshot to share, so a `once` one is
    /// taken out of the list at once (removed before it runs), with
    /// nothing left to sweep.
    #[inline]
    pub(super) fn start_emit(&mut self, clock: &Clock) -> Snapshot<A> {
        debug_assert!(self.lone.is_none(), "take_lone first");
        clock.emits.set(clock.emits.get() + 1);
        if self.stale == 0 && self.entries.len() == 1 {
            if !self.entries[0].once {
                return Snapshot::Lone(self.entries[0].call.clone());
            }
            if let Some(entries) = Rc::get_mut(&mut self.entries) {
                // Moved out, not cloned: no user code runs, no count moves.
                self.onces = 0;
                let lone = entries.pop().expect("one entry");
                return Snapshot::Lone(lone.call);
            }
            // An outer emit holds the entries: it sweeps when it ends.
            let call = self.entries[0].call.clone();
            clock.stamp_removal(&self.entries[0]);
            self.stale = 1;
            return Snapshot::Lone(call);
        }
        Snapshot::Shared {
            entries: self.entries.clone(),
            started: clock.emits.get(),
            stale: self.stale > 0,
            onces: self.onces > 0,
        }
    }
}

/// The listeners of one event as an emit found them.
pub(super) enum Snapshot<A> {
    /// The only one (removed already if it is a `once` listener).
    Lone(Rc<dyn Call<A>>),
    /// The entries, shared with the list until either changes.
    Shared {
        entries: Rc<Entries<A>>,
        /// The emit clock of this emit.
        started: u64,
        /// Some were removed before the emit: it must skip them. (Those
        /// removed during the emit are all called.)
        stale: bool,
        /// Some are `once` listeners, to be removed before they run.
        onces: bool,
    },
}

/// Calls the listeners of `snapshot` with `payload`, in order: Node's
/// `emit` after it has copied the listener array. `live` reaches the list
/// the snapshot came from, which the listeners may have changed (it is
/// `None` once the list is gone).
///
/// A `once` listener still registered is removed just before it is
/// called. A panicking listener unwinds out of here and the later ones are
/// not called; either way the list is swept on the way out.
// Not inlined into `EventEmitter::emit`: that keeps the lone `once`
// listener's path there free of this loop's registers.
#[inline(never)]
pub(super) fn emit<'a, A: 'a, L: Fn() -> Option<RefMut<'a, ListenerList<A>>> + Copy>(
    snapshot: Snapshot<A>,
    payload: &A,
    clock: &Clock,
    live: L,
) {
    let (entries, started, skip_stale, remove_onces) = match snapshot {
        Snapshot::Lone(call) => return call.call(payload),
        Snapshot::Shared { entries, started, stale, onces } => (entries, started, stale, onces),
    };
    let mut emitting =
        Emitting { entries: Some(entries), live, clock, removals: clock.removals.get() };
    for listener in emitting.entries.as_deref().map_or(&[][..], |entries| &entries[..]) {
        if skip_stale && listener.removed_at.get() < started {
            continue; // removed before this emit began
        }
        if remove_onces && listener.once && listener.is_live() {
            // Its entry in the live list: this one, unless a listener
            // added during the emit made the list a copy.
            if let Some(mut list) = (emitting.live)() {
                list.remove(listener.key, clock);
            }
        }
        listener.call(payload);
    }
    // The end, inlined here (the drop glue is not); `Drop` is for a panic.
    emitting.end();
    // Its end is done; `L` is `Copy`, so forgetting it leaks nothing.
    std::mem::forget(emitting);
}

/// Calls every entry of `entries` with `payload`, in order: [`emit`] for a
/// snapshot from [`ListenerList::start_plain_emit`], which has no removed
/// entry to skip and no `once` one to remove, so the loop reads nothing
/// but the listeners. (Those removed meanwhile are called: they were
/// registered when the emit began.) `live` as for [`emit`].
#[inline(never)]
pub(super) fn emit_plain<'a, A: 'a, L: Fn() -> Option<RefMut<'a, ListenerList<A>>> + Copy>(
    entries: Rc<Entries<A>>,
    payload: &A,
    clock: &Clock,
    live: L,
) {
    let mut emitting =
        Emitting { entries: Some(entries), live, clock, removals: clock.removals.get() };
    for listener in emitting.entries.as_deref().map_or(&[][..], |entries| &entries[..]) {
        listener.call(payload);
    }
    emitting.end();
    // Its end is done; `L` is `Copy`, so forgetting it leaks nothing.
    std::mem::forget(emitting);
}

/// Ends an emit, also when a listener panics: lets go of the snapshot,
/// then sweeps the list if anything was removed meanwhile. (Removals made
/// before the emit began, while an outer emit held the entries, are that
/// emit's to sweep: they happened during it.)
struct Emitting<'r, 'a, A: 'a, L: Fn() -> Option<RefMut<'a, ListenerList<A>>> + Copy> {
    entries: Option<Rc<Entries<A>>>,
    live: L,
    clock: &'r Clock,
    /// `clock.removals` when the emit began.
    removals: u64,
}

impl<'a, A: 'a, L: Fn() -> Option<RefMut<'a, ListenerList<A>>> + Copy> Drop
    for Emitting<'_, 'a, A, L>
{
    fn drop(&mut self) {
        self.end();
    }
}

impl<'a, A: 'a, L: Fn() -> Option<RefMut<'a, ListenerList<A>>> + Copy> Emitting<'_, 'a, A, L> {
    #[inline(always)]
    fn end(&mut self) {
        // Let go of the entries (the list may then sweep them in place).
        drop(self.entries.take());
        if self.clock.removals.get() != self.removals {
            sweep_after_emit(&self.live);
        }
    }
}

/// The end of an emit during which listeners were removed: takes them
/// out of the list, and drops them once it is released. Out of line: most
/// emits remove nothing.
#[cold]
#[inline(never)]
fn sweep_after_emit<'a, A: 'a>(live: &impl Fn() -> Option<RefMut<'a, ListenerList<A>>>) {
    let Some(mut list) = live() else {
        return;
    };
    let removed = list.sweep();
    drop(list);
    drop(removed);
}
