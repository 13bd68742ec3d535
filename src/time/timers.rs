//! Timers phase: the timer queue (which hands due timers to the loop), `set_timeout` / `set_interval` and their
//! `Timer` handles.
//!
//! Node's rules, as libuv and `lib/internal/timers.js` have them:
//! - a delay under 1 ms, or over `TIMEOUT_MAX` (2^31 - 1 ms), becomes 1 ms,
//!   and fractions of a millisecond are dropped;
//! - a new timer counts from the clock read fresh at creation, not from the
//!   loop's cached `now`;
//! - timers are kept in one list per duration, and due lists run in
//!   (expiry, list id) order, each from its head while the head is due
//!   (`timer_lists.rs` has the whole model), so a timer created during the
//!   phase waits for the next one;
//! - an interval's next start is the clock read just before its callback:
//!   no catch-up after a slow callback.
//!
//! `Sleep` futures are not Node timers: each is its own wheel entry, and
//! the wheel orders them by (deadline, insertion) among the lists.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::rc::{Rc, Weak};
use std::task::Waker;
use std::time::Duration;

use super::clock::{Clock, NEVER};
use super::timer_lists::{DurationList, Head, TimerLists};
use super::wheel::{TimerKey, TimerWheel};
use crate::context;
use crate::event_loop::Core;
use crate::task::raw::TaskRef;

/// Node's `TIMEOUT_MAX` (2^31 - 1 ms), the longest delay one timer takes as
/// given: longer ones are replaced by 1 ms.
pub(crate) const TIMEOUT_MAX: Duration = Duration::from_millis((1 << 31) - 1);

/// What the wheel holds.
pub(crate) enum TimerEntry {
    /// The list of one duration's `set_timeout` / `set_interval` timers,
    /// waiting for its expiry.
    List(Rc<DurationList>),
    /// A `Sleep` polled by its own task: the task itself, holding one of
    /// its loop-side timer references (no waker clone, no atomics).
    Task(TimerTask),
    /// A `Sleep` polled through some other waker.
    Wake(Waker),
}

/// A task named by a timer entry, holding one of its timer references.
pub(crate) struct TimerTask(TaskRef);

impl TimerTask {
    pub(crate) fn task(&self) -> TaskRef {
        self.0
    }
}

impl Drop for TimerTask {
    fn drop(&mut self) {
        // Fired, removed or cleared: the entry gives its reference back.
        self.0.release_timer_ref();
    }
}

impl TimerEntry {
    /// The entry for a `Sleep` to wake `waker`; `task` is the running task
    /// when `waker` is its own waker.
    pub(crate) fn waking(waker: &Waker, task: Option<TaskRef>) -> TimerEntry {
        match task {
            Some(task) if task.try_retain_timer_ref() => TimerEntry::Task(TimerTask(task)),
            _ => TimerEntry::Wake(waker.clone()),
        }
    }

    /// A sleep keeps the loop alive; a list does not itself (its ref'd
    /// timers are counted one by one, as Node's `refCount`).
    fn is_ref(&self) -> bool {
        !matches!(self, TimerEntry::List(_))
    }
}

/// The wheel, the duration lists, and what liveness needs to know.
#[derive(Default)]
pub(crate) struct TimerQueue {
    wheel: RefCell<TimerWheel<TimerEntry>>,
    lists: TimerLists,
    /// Pending timers that keep the loop alive: ref'd sleeps in the wheel
    /// and ref'd armed callback timers.
    refs: Cell<usize>,
    /// Armed callback timers (in lists).
    callbacks: Cell<usize>,
    /// Lists in the wheel (to tell timers from lists in its length).
    lists_in_wheel: Cell<usize>,
    /// The due entries of the running phase, taken one at a time so that a
    /// panic escaping a callback leaves the rest here for the next phase
    /// (they run first, still in order). A list stays at the front while
    /// its due timers run.
    due: RefCell<VecDeque<TimerEntry>>,
    /// The callback timer whose callback runs now (Node's "not destroyed
    /// yet, not in a list"): clearing it may still end its list.
    running: RefCell<Option<Rc<TimerState>>>,
    /// Reused buffer the wheel hands its due entries in.
    collected: RefCell<Vec<TimerEntry>>,
    /// Timers ever armed (`jsloop::metrics`).
    armed: Cell<u64>,
}

impl TimerQueue {
    /// Puts a sleep's `entry` in the wheel at `deadline`, which must not be
    /// the end of time: an entry there could never fire, yet would count as
    /// a pending timer (keeping the loop alive) and give virtual time a
    /// deadline to jump to. Inlined: a sleep's register and cancel are the
    /// hot path, and the heuristics stop inlining it as the module grows.
    #[inline]
    pub(crate) fn insert(&self, deadline: u64, entry: TimerEntry) -> TimerKey {
        debug_assert_ne!(deadline, NEVER, "a timer at the end of time was queued");
        if entry.is_ref() {
            self.refs.set(self.refs.get() + 1);
        }
        self.armed.set(self.armed.get() + 1);
        self.wheel.borrow_mut().insert(deadline, entry)
    }

    /// Removes a pending sleep; `false` if it already fired or was removed.
    #[inline]
    pub(crate) fn remove(&self, key: TimerKey) -> bool {
        let removed = self.wheel.borrow_mut().remove(key);
        match removed {
            Some(entry) => {
                if entry.is_ref() {
                    self.refs.set(self.refs.get() - 1);
                }
                true
            }
            None => false,
        }
    }

    /// Makes a pending `Sleep`'s entry wake `waker` (whose task, if it is
    /// the running task's own waker, is `task`); `false` if it already fired.
    pub(crate) fn update_waker(&self, key: TimerKey, waker: &Waker, task: Option<TaskRef>) -> bool {
        let mut wheel = self.wheel.borrow_mut();
        let Some(entry) = wheel.get_mut(key) else { return false };
        let unchanged = match (&*entry, task) {
            (TimerEntry::Task(stored), Some(task)) => stored.task() == task,
            (TimerEntry::Wake(stored), None) => stored.will_wake(waker),
            _ => false,
        };
        if !unchanged {
            let replaced = std::mem::replace(entry, TimerEntry::waking(waker, task));
            drop(wheel);
            drop(replaced);
        }
        true
    }

    /// Timers ever armed.
    pub(crate) fn armed(&self) -> u64 {
        self.armed.get()
    }

    /// Pending timers: sleeps in the wheel and armed callback timers
    /// (ref'd or not).
    pub(crate) fn len(&self) -> usize {
        self.wheel.borrow().len() - self.lists_in_wheel.get() + self.callbacks.get()
    }

    /// Shows a task dump every pending entry with its deadline tick
    /// (`None`: already due, collected by the running timers phase). Skips
    /// a part of the queue that is being changed right now (a foreign
    /// waker's `clone` can run inside [`update_waker`](Self::update_waker)):
    /// a dump never panics on a busy `RefCell`.
    pub(crate) fn visit(&self, mut visit: impl FnMut(Option<u64>, &TimerEntry)) {
        if let Ok(wheel) = self.wheel.try_borrow() {
            wheel.iter().for_each(|(deadline, entry)| visit(Some(deadline), entry));
        }
        if let Ok(due) = self.due.try_borrow() {
            due.iter().for_each(|entry| visit(None, entry));
        }
    }

    /// Ref'd timers are pending, or due timers a panic left behind.
    pub(crate) fn has_refs(&self) -> bool {
        self.refs.get() != 0 || !self.due.borrow().is_empty()
    }

    /// The earliest deadline; 0 (due now) while a panic left due timers.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        if !self.due.borrow().is_empty() {
            return Some(0);
        }
        self.wheel.borrow().next_deadline()
    }

    /// Drops every timer (shutdown). Their `Timer` handles may live on:
    /// they are marked unarmed, so a later `clear` / `unref` finds nothing.
    pub(crate) fn clear(&self) {
        let mut entries: Vec<TimerEntry> = self.due.take().into();
        self.wheel.borrow_mut().drain_due(u64::MAX, &mut entries);
        self.refs.set(0);
        self.callbacks.set(0);
        self.lists_in_wheel.set(0);
        let running = self.running.take();
        // Every timer is unarmed before any callback is dropped: a guard a
        // callback captured may `unref` or `clear` another timer as it goes.
        let lists = self.lists.take_all();
        let timers: Vec<_> = lists.iter().flat_map(|list| list.armed()).collect();
        timers.iter().for_each(|timer| timer.armed.set(false));
        let callbacks: Vec<_> = timers.iter().filter_map(|timer| timer.callback.take()).collect();
        drop(callbacks);
        drop((timers, lists, running, entries));
    }

    fn ref_changed(&self, is_ref: bool) {
        let refs = self.refs.get();
        self.refs.set(if is_ref { refs + 1 } else { refs - 1 });
    }

    /// A callback timer went in (`armed`) or out of its list.
    fn count(&self, timer: &TimerState, armed: bool) {
        let callbacks = self.callbacks.get();
        self.callbacks.set(if armed { callbacks + 1 } else { callbacks - 1 });
        if timer.is_ref.get() {
            self.ref_changed(armed);
        }
    }
}

impl TimerQueue {
    /// Takes every entry due at `now` out of the wheel, in (deadline,
    /// insertion) order, for [`next_due`](TimerQueue::next_due) to hand out;
    /// `false` if there is nothing to hand out (the phase then asks no
    /// further: most turns of a busy loop have no timer due). A list's
    /// timers stay armed in it until they run.
    pub(crate) fn collect_due(&self, now: u64) -> bool {
        self.running.take();
        // Borrowed in place: nothing below runs user code or drops an entry.
        let mut collected = self.collected.borrow_mut();
        self.wheel.borrow_mut().drain_due(now, &mut collected);
        if collected.is_empty() {
            // Entries a panic left behind in the last phase run first.
            return !self.due.borrow().is_empty();
        }
        let mut refs = 0;
        for entry in collected.iter() {
            match entry {
                TimerEntry::List(list) => {
                    list.key.set(None);
                    self.lists_in_wheel.set(self.lists_in_wheel.get() - 1);
                }
                TimerEntry::Task(_) | TimerEntry::Wake(_) => refs += 1,
            }
        }
        self.refs.set(self.refs.get() - refs);
        self.due.borrow_mut().extend(collected.drain(..));
        true
    }

    /// The next collected timer that has something to run; `now` is the
    /// phase's loop time, against which list heads are due, and `clock`
    /// gives an interval its next start.
    pub(crate) fn next_due(&self, now: u64, clock: &Clock) -> Option<DueTimer> {
        // The previous callback has returned.
        self.running.take();
        loop {
            // Popped in its own statement: the callback may touch the queue.
            let entry = self.due.borrow_mut().pop_front()?;
            let list = match entry {
                TimerEntry::Wake(waker) => return Some(DueTimer::Wake(waker)),
                TimerEntry::Task(task) => return Some(DueTimer::Task(task)),
                TimerEntry::List(list) => list,
            };
            let Some(timer) = self.run_list(&list, now) else { continue };
            // The list stays first while it has due timers.
            self.due.borrow_mut().push_front(TimerEntry::List(list));
            let due = match timer.callback.take() {
                Some(TimerCallback::Once(callback)) => DueTimer::Timeout(callback, timer.location),
                Some(TimerCallback::Repeat(callback)) => {
                    // Node's next start: the clock read before the callback,
                    // so a slow callback delays later ticks instead of
                    // bursting.
                    let next = Some(clock.now_ticks());
                    DueTimer::Repeatable(DueRepeatable { timer: timer.clone(), callback, next })
                }
                Some(TimerCallback::Refreshable(callback)) => DueTimer::Repeatable(DueRepeatable {
                    timer: timer.clone(),
                    callback,
                    next: None,
                }),
                // Its callback was lost to a panic that escaped it.
                None => continue,
            };
            self.running.replace(Some(timer));
            return Some(due);
        }
    }

    /// One step of Node's `listOnTimeout`: the list's head timer if it is
    /// due (out of the list now), else the list waits again or ends.
    fn run_list(&self, list: &Rc<DurationList>, now: u64) -> Option<Rc<TimerState>> {
        match list.take_due(now) {
            Head::Due(timer) => {
                timer.armed.set(false);
                self.count(&timer, false);
                Some(timer)
            }
            Head::Waits(start) => {
                // Behind every list already waiting for that tick: Node
                // gives the list a new id.
                let expiry = start.saturating_add(list.delay_ms()).max(now.saturating_add(1));
                if expiry == NEVER {
                    self.abandon(list);
                } else {
                    self.queue_list(list, expiry);
                }
                None
            }
            Head::Empty => {
                self.lists.delete(list);
                None
            }
        }
    }

    /// A repeatable timer's callback ran: an interval goes back in its list
    /// from the start read before the callback (even if the callback
    /// refreshed it, as in Node) unless the callback cleared it. A
    /// refreshable timeout's callback is kept for a later `refresh`.
    pub(crate) fn rearm(&self, due: DueRepeatable) {
        let DueRepeatable { timer, callback, next } = due;
        if timer.cleared.get() {
            return;
        }
        let kind = if next.is_some() { TimerCallback::Repeat } else { TimerCallback::Refreshable };
        timer.callback.set(Some(kind(callback)));
        if let Some(start) = next {
            self.unlink(&timer);
            self.arm(&timer, start);
        }
    }

    /// Appends `timer` to its duration's list, started at tick `start`
    /// (Node's `insert`), making the list if there is none.
    fn arm(&self, timer: &Rc<TimerState>, start: u64) {
        let epoch = timer.epoch.get().wrapping_add(1);
        timer.epoch.set(epoch);
        let expiry = start.saturating_add(timer.delay_ms);
        if expiry == NEVER {
            // A `Duration::MAX` timer, or a clock within `TIMEOUT_MAX` of
            // the end of time (a virtual one moved that far): the end of
            // time never comes, so the timer stays unarmed, as a cleared
            // one does.
            return;
        }
        timer.start.set(start);
        let (list, started) = self.lists.get_or_start(timer.delay_ms);
        if started {
            self.queue_list(&list, expiry);
        }
        list.push(timer.clone(), epoch);
        timer.armed.set(true);
        self.count(timer, true);
        self.armed.set(self.armed.get() + 1);
    }

    /// Takes `timer` out of its list, which stays even if empty (Node's
    /// `L.remove`); the list it left, `None` if it was not armed.
    fn unlink(&self, timer: &TimerState) -> Option<Rc<DurationList>> {
        timer.epoch.set(timer.epoch.get().wrapping_add(1));
        if !timer.armed.replace(false) {
            return None;
        }
        self.count(timer, false);
        let list = self.lists.get(timer.delay_ms)?;
        list.unlinked();
        Some(list)
    }

    /// Clears `timer` (Node's `unenroll`): out of its list, and the list of
    /// its duration ends if that left it empty, also when the timer was the
    /// one running (its list may just have run dry).
    fn unenroll(&self, timer: &TimerState) {
        let list = match self.unlink(timer) {
            Some(list) => list,
            None if self.is_running(timer) => match self.lists.get(timer.delay_ms) {
                Some(list) => list,
                None => return,
            },
            None => return,
        };
        if list.is_empty() {
            if let Some(key) = list.key.take() {
                self.wheel.borrow_mut().remove(key);
                self.lists_in_wheel.set(self.lists_in_wheel.get() - 1);
            }
            self.lists.delete(&list);
        }
    }

    fn is_running(&self, timer: &TimerState) -> bool {
        self.running.borrow().as_deref().is_some_and(|running| std::ptr::eq(running, timer))
    }

    /// Puts `list` in the wheel to wait for `expiry`.
    fn queue_list(&self, list: &Rc<DurationList>, expiry: u64) {
        let key = self.wheel.borrow_mut().insert(expiry, TimerEntry::List(list.clone()));
        list.key.set(Some(key));
        self.lists_in_wheel.set(self.lists_in_wheel.get() + 1);
    }

    /// A list that could only wait for the end of time (a virtual clock
    /// moved next to it): its timers are unarmed and it ends, so it neither
    /// keeps the loop alive nor gives virtual time a deadline.
    fn abandon(&self, list: &Rc<DurationList>) {
        let timers = list.armed();
        timers.iter().for_each(|timer| drop(self.unlink(timer)));
        self.lists.delete(list);
        // They can never run: their callbacks go (after the bookkeeping, as
        // a destructor may touch timers), so no stale place holds one.
        let callbacks: Vec<_> = timers.iter().filter_map(|timer| timer.callback.take()).collect();
        drop(callbacks);
    }
}

/// What the timers phase runs for one due timer (`src/event_loop.rs`).
pub(crate) enum DueTimer {
    /// A `Sleep` polled through some other waker: wake it.
    Wake(Waker),
    /// A `Sleep` polled by its own task: queue the task (the reference the
    /// entry holds goes back when this is dropped, after).
    Task(TimerTask),
    /// A `set_timeout` callback, and where it was set.
    Timeout(Box<dyn FnOnce()>, &'static Location<'static>),
    /// A `set_interval` or `Refreshable` timeout callback;
    /// [`TimerQueue::rearm`] after it ran.
    Repeatable(DueRepeatable),
}

/// An interval whose tick is due, or a refreshable timeout, its callback
/// taken out while it runs.
pub(crate) struct DueRepeatable {
    timer: Rc<TimerState>,
    pub(crate) callback: Box<dyn FnMut()>,
    /// An interval's next start; `None` for a refreshable timeout.
    next: Option<u64>,
}

impl DueRepeatable {
    /// Where `set_interval` / `set_timeout` was called.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.timer.location
    }

    /// Whether this is an interval's tick (else a refreshable timeout).
    pub(crate) fn is_interval(&self) -> bool {
        self.next.is_some()
    }
}

/// Makes a timer: `set_timeout` / `set_interval`.
fn new_timer(
    core: &Core,
    delay: Duration,
    callback: TimerCallback,
    location: &'static Location<'static>,
) -> Timer {
    let delay_ms = node_delay_ms(delay);
    let timer = Rc::new(TimerState {
        core: core.weak(),
        location,
        delay_ms,
        start: Cell::new(0),
        armed: Cell::new(false),
        epoch: Cell::new(0),
        is_ref: Cell::new(true),
        cleared: Cell::new(false),
        runs_once: matches!(callback, TimerCallback::Once(_)),
        callback: Cell::new(Some(callback)),
    });
    // A new timer counts from the clock read now, not the cached `now`.
    let start = core.clock.now_ticks();
    core.timers.arm(&timer, start);
    Timer { state: timer }
}

/// Node's delay rules: whole milliseconds, and 1 ms for anything under 1 ms
/// or over `TIMEOUT_MAX`; but `Duration::MAX` is the end of time, as it is
/// for `time::sleep` ([`NEVER`]: such a timer is never armed).
fn node_delay_ms(delay: Duration) -> u64 {
    if delay == Duration::MAX {
        return NEVER;
    }
    match delay.as_millis() {
        0 => 1,
        ms if ms > TIMEOUT_MAX.as_millis() => 1,
        ms => ms as u64,
    }
}

enum TimerCallback {
    Once(Box<dyn FnOnce()>),
    /// An interval's.
    Repeat(Box<dyn FnMut()>),
    /// A timeout's that `refresh` may run again ([`Refreshable`]).
    Refreshable(Box<dyn FnMut()>),
}

/// What [`set_timeout`] accepts: any `FnOnce()` closure, or a
/// [`Refreshable`] `FnMut()` one.
pub trait TimeoutCallback: 'static {
    #[doc(hidden)]
    fn into_timer_callback(self) -> TimeoutKind;
}

/// The stored form of a [`TimeoutCallback`] (not public API).
#[doc(hidden)]
pub struct TimeoutKind(TimerCallback);

impl std::fmt::Debug for TimeoutKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TimeoutKind(..)")
    }
}

impl<F: FnOnce() + 'static> TimeoutCallback for F {
    fn into_timer_callback(self) -> TimeoutKind {
        TimeoutKind(TimerCallback::Once(Box::new(self)))
    }
}

/// A timeout callback that can run again: Node's timeout, whose
/// [`refresh`](Timer::refresh) re-arms it after it fired (or from inside
/// it). A plain closure given to [`set_timeout`] is an `FnOnce` and runs at
/// most once.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use jsloop::time::Refreshable;
///
/// let runs = Rc::new(RefCell::new(0));
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.run({
///     let runs = runs.clone();
///     async move {
///         let me = Rc::new(RefCell::new(None::<jsloop::Timer>));
///         let this = me.clone();
///         let timer = jsloop::set_timeout(Duration::from_millis(3), Refreshable(move || {
///             *runs.borrow_mut() += 1;
///             if *runs.borrow() < 3 {
///                 this.borrow().as_ref().unwrap().refresh(); // again in 3 ms
///             }
///         }));
///         *me.borrow_mut() = Some(timer);
///     }
/// });
/// assert_eq!(*runs.borrow(), 3);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Refreshable<F>(pub F);

impl<F: FnMut() + 'static> TimeoutCallback for Refreshable<F> {
    fn into_timer_callback(self) -> TimeoutKind {
        TimeoutKind(TimerCallback::Refreshable(Box::new(self.0)))
    }
}

impl<F> std::fmt::Debug for Refreshable<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Refreshable(..)")
    }
}

pub(crate) struct TimerState {
    core: Weak<Core>,
    /// Where `set_timeout` / `set_interval` was called.
    location: &'static Location<'static>,
    delay_ms: u64,
    /// The tick it was last armed at (Node's `_idleStart`).
    start: Cell<u64>,
    /// In its duration's list, waiting.
    armed: Cell<bool>,
    /// Bumped by every arm and unlink, so that the places it left in its
    /// list are stale.
    epoch: Cell<u32>,
    is_ref: Cell<bool>,
    cleared: Cell<bool>,
    /// A plain `set_timeout` callback: an `FnOnce`, gone once it ran.
    runs_once: bool,
    /// Taken out while the callback runs (so it may clear its own timer),
    /// and for good once a timeout has fired.
    callback: Cell<Option<TimerCallback>>,
}

impl TimerState {
    /// The tick it was last armed at.
    pub(super) fn start(&self) -> u64 {
        self.start.get()
    }

    /// Whether it is armed, and a place it took at `epoch` is its place.
    pub(super) fn is_armed_at(&self, epoch: u32) -> bool {
        self.armed.get() && self.epoch.get() == epoch
    }
}

/// Runs `callback` once after `delay`: `setTimeout(callback, delay)`.
///
/// Node's rules apply: the delay is truncated to whole milliseconds, a delay
/// under 1 ms or over 2^31 - 1 ms (about 24.8 days, Node's `TIMEOUT_MAX`)
/// becomes 1 ms, and timers run in Node's order: each duration has one list
/// in creation order, and due lists run by (expiry, creation), each timer
/// followed by a microtask checkpoint. The timer keeps the loop alive until
/// it fires unless [`Timer::unref`] is called. Dropping the returned
/// [`Timer`] does not cancel it.
///
/// `Duration::MAX` is the one exception to the 1 ms rule: it means never,
/// as it does for [`time::sleep`](crate::time::sleep). Such a timer never
/// fires and does not keep the loop alive (JS has no such value: its
/// `setTimeout(f, Infinity)` is a 1 ms timer, so port that as 1 ms).
///
/// # Panics
///
/// Panics outside a runtime. A panic inside `callback` propagates out of
/// `run` / `block_on` unless a handler was set with
/// [`Builder::on_uncaught_panic`](crate::Builder::on_uncaught_panic).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// jsloop::run(async {
///     jsloop::set_timeout(Duration::from_millis(2), || println!("3: second timer"));
///     jsloop::set_timeout(Duration::ZERO, || println!("2: a 0 ms timer is a 1 ms timer"));
///     println!("1: script");
/// });
/// ```
#[track_caller]
pub fn set_timeout(delay: Duration, callback: impl TimeoutCallback) -> Timer {
    let location = Location::caller();
    let TimeoutKind(callback) = callback.into_timer_callback();
    context::with_current(|core| new_timer(core, delay, callback, location))
}

/// Runs `callback` every `period`: `setInterval(callback, period)`.
///
/// The delay rules of [`set_timeout`] apply (a zero period is 1 ms). The next
/// run is scheduled from the loop time just before the callback, so a slow
/// callback delays the following runs rather than causing a burst. It runs
/// until [`Timer::clear`] (or [`clear_interval`]) is called.
///
/// # Panics
///
/// As [`set_timeout`]. With a panic handler set on the builder, an interval
/// whose callback panicked is still rescheduled.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// jsloop::run(async {
///     let count = Rc::new(Cell::new(0));
///     let slot: Rc<Cell<Option<jsloop::Timer>>> = Rc::default();
///     let interval = jsloop::set_interval(Duration::from_millis(1), {
///         let (count, slot) = (count.clone(), slot.clone());
///         move || {
///             count.set(count.get() + 1);
///             if count.get() == 3 {
///                 jsloop::clear_interval(&slot.take().unwrap());
///             }
///         }
///     });
///     slot.set(Some(interval));
/// });
/// ```
#[track_caller]
pub fn set_interval(period: Duration, callback: impl FnMut() + 'static) -> Timer {
    let location = Location::caller();
    let callback = TimerCallback::Repeat(Box::new(callback));
    context::with_current(|core| new_timer(core, period, callback, location))
}

/// Cancels a timeout: `clearTimeout(timer)`. Same as [`Timer::clear`].
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// let ms = Duration::from_millis;
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.run({
///     let log = log.clone();
///     async move {
///         let l = log.clone();
///         let later = jsloop::set_timeout(ms(10), move || l.borrow_mut().push("10 ms"));
///         jsloop::set_timeout(ms(5), move || {
///             jsloop::clear_timeout(&later); // it would have fired 5 ms from now
///             log.borrow_mut().push("5 ms");
///         });
///     }
/// });
/// assert_eq!(*log.borrow(), ["5 ms"]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn clear_timeout(timer: &Timer) {
    timer.clear();
}

/// Cancels an interval: `clearInterval(timer)`. Same as [`Timer::clear`].
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// let count = Rc::new(Cell::new(0));
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.run({
///     let count = count.clone();
///     async move {
///         let interval = jsloop::set_interval(Duration::from_millis(10), move || {
///             count.set(count.get() + 1);
///         });
///         jsloop::set_timeout(Duration::from_millis(35), move || {
///             jsloop::clear_interval(&interval);
///         });
///     }
/// });
/// assert_eq!(count.get(), 3); // at 10, 20 and 30 ms; `run` then returns
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn clear_interval(timer: &Timer) {
    timer.clear();
}

/// The handle of a [`set_timeout`] or [`set_interval`] timer, like Node's
/// `Timeout` object. Clones refer to the same timer.
///
/// Dropping it does not cancel the timer.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// let fired = Rc::new(Cell::new(0));
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.run({
///     let fired = fired.clone();
///     async move {
///         let timer = jsloop::set_timeout(Duration::from_millis(1), {
///             let fired = fired.clone();
///             move || fired.set(fired.get() + 1)
///         });
///         // Dropping a handle does not cancel its timer ...
///         let dropped = jsloop::set_timeout(Duration::from_millis(1), move || {
///             fired.set(fired.get() + 10);
///         });
///         drop(dropped);
///         // ... and a clone cancels the same timer as the original.
///         timer.clone().clear();
///     }
/// });
/// assert_eq!(fired.get(), 10);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Timer {
    state: Rc<TimerState>,
}

impl Timer {
    /// Cancels the timer. Clearing a timer that already fired, or clearing
    /// twice, does nothing. A timer due later in the same timers phase is
    /// still cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// jsloop::run(async {
    ///     let timer = jsloop::set_timeout(Duration::from_millis(1), || unreachable!());
    ///     timer.clear();
    ///     timer.clear();
    /// });
    /// ```
    pub fn clear(&self) {
        let state = &self.state;
        if state.cleared.replace(true) {
            return;
        }
        if let Some(core) = state.core.upgrade() {
            core.timers.unenroll(state);
        }
        // After the queue is consistent again: dropping the callback runs
        // the destructors of what it captured, which may touch timers.
        drop(state.callback.take());
    }

    /// Restarts the timer's countdown from now, with its original delay and
    /// ref state: `timeout.refresh()`. On a timeout made with a
    /// [`Refreshable`] callback or an interval it works as in Node, also
    /// from inside the callback or after the timeout fired (it fires
    /// again). On a cleared timer it does nothing.
    ///
    /// # Panics
    ///
    /// On a plain timeout whose callback ran or is running: that callback
    /// was an `FnOnce` and cannot run again (make it [`Refreshable`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// jsloop::run(async {
    ///     let timer = jsloop::set_timeout(Duration::from_millis(5), || println!("fired"));
    ///     timer.refresh(); // counts 5 ms from here
    /// });
    /// ```
    pub fn refresh(&self) -> &Self {
        let state = &self.state;
        let Some(core) = state.core.upgrade() else { return self };
        if state.cleared.get() || core.is_shut_down() {
            return self;
        }
        if state.runs_once {
            let callback = state.callback.take();
            let spent = callback.is_none();
            state.callback.set(callback);
            assert!(
                !spent,
                "jsloop: Timer::refresh on a timeout whose callback already ran: it was an \
                 `FnOnce` and cannot run again; give `set_timeout` a \
                 `jsloop::time::Refreshable(FnMut)` callback to refresh it after it fired"
            );
        }
        // To the end of its duration's list, from a fresh clock read.
        core.timers.unlink(state);
        let start = core.clock.now_ticks();
        core.timers.arm(&self.state, start);
        self
    }

    /// Lets the loop end while this timer is still pending, like
    /// `timeout.unref()`. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // `run` returns at once: the only timer does not keep the loop alive.
    /// jsloop::run(async {
    ///     jsloop::set_timeout(Duration::from_secs(3600), || unreachable!()).unref();
    /// });
    /// ```
    pub fn unref(&self) -> &Self {
        self.set_ref(false);
        self
    }

    /// Makes the timer keep the loop alive again (the default). Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    ///
    /// let fired = Rc::new(Cell::new(false));
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.run({
    ///     let fired = fired.clone();
    ///     async move {
    ///         let timer = jsloop::set_timeout(Duration::from_secs(60), move || fired.set(true));
    ///         timer.unref();
    ///         timer.ref_(); // `run` waits for it after all
    ///     }
    /// });
    /// assert!(fired.get());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ref_(&self) -> &Self {
        self.set_ref(true);
        self
    }

    /// `true` if the timer keeps the loop alive.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// jsloop::run(async {
    ///     let timer = jsloop::set_timeout(Duration::from_secs(3600), || unreachable!());
    ///     assert!(timer.has_ref());
    ///     timer.unref();
    ///     assert!(!timer.has_ref()); // `run` will not wait an hour for it
    /// });
    /// ```
    pub fn has_ref(&self) -> bool {
        self.state.is_ref.get()
    }

    fn set_ref(&self, is_ref: bool) {
        let state = &self.state;
        if state.is_ref.replace(is_ref) == is_ref {
            return;
        }
        if state.armed.get() {
            if let Some(core) = state.core.upgrade() {
                core.timers.ref_changed(is_ref);
            }
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("delay_ms", &self.state.delay_ms)
            .field("armed", &self.state.armed.get())
            .field("has_ref", &self.state.is_ref.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_delay_rules() {
        assert_eq!(node_delay_ms(Duration::ZERO), 1);
        assert_eq!(node_delay_ms(Duration::from_micros(999)), 1);
        assert_eq!(node_delay_ms(Duration::from_micros(1999)), 1);
        assert_eq!(node_delay_ms(Duration::from_millis(30)), 30);
        assert_eq!(node_delay_ms(TIMEOUT_MAX), TIMEOUT_MAX.as_millis() as u64);
        assert_eq!(node_delay_ms(TIMEOUT_MAX + Duration::from_millis(1)), 1);
        assert_eq!(node_delay_ms(Duration::MAX - Duration::from_nanos(1)), 1);
        assert_eq!(node_delay_ms(Duration::MAX), NEVER);
    }
}
