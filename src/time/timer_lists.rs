//! Timers phase, Node's side: one list of `set_timeout` / `set_interval`
//! timers per duration, as `lib/internal/timers.js` keeps them.
//!
//! Node does not order its timers one by one. A timer is appended to the
//! list for its duration (made on first use), stamped with its start, a
//! fresh whole-millisecond clock read. The lists wait in a priority queue
//! by (expiry, id), where a list's expiry is its first timer's at creation.
//! The timers phase takes the lists in that order and runs each from its
//! head while the head is due; the first timer that is not yet due sends
//! its list back to wait, with a new expiry and a new id (so behind every
//! list already waiting for that millisecond). A list goes away when a run
//! finds it empty or `clear` takes its last timer, and the next timer of
//! that duration starts a new one. A `refresh` moves a timer to the end of
//! its list without ever removing the list.
//!
//! jsloop keeps the same lists and lets the timer wheel be the priority
//! queue: a waiting list is one wheel entry at its expiry, and the wheel's
//! (deadline, insertion) order is Node's (expiry, id), because a list goes
//! into the wheel exactly when Node gives it an id. The queue side of the
//! rules (who counts, who runs) is in `timers.rs`; this file is the lists.
//!
//! A list is a `VecDeque` of (timer, epoch). A cleared or refreshed timer's
//! old place stays behind, stale (the timer's epoch moved on), and the run
//! skips it, so clearing is O(1); a list compacts itself once stale places
//! outnumber live ones, which bounds the waste.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use super::timers::TimerState;
use super::wheel::TimerKey;
use crate::int_map::IntMap;

/// Node's `timerListMap`: the live list of each duration.
///
/// An ended list nobody else holds stays in the map, vacant, to be the
/// next list of its duration: a timer set and cleared again and again (a
/// socket's idle timeout) then makes no list, no allocation, no map entry.
/// Vacant lists are dropped once there are many of them.
#[derive(Default)]
pub(crate) struct TimerLists {
    by_delay: RefCell<IntMap<Rc<DurationList>>>,
    vacant: Cell<usize>,
}

/// Vacant lists kept before they are dropped.
const MAX_VACANT: usize = 64;

impl TimerLists {
    /// The list of `delay_ms` timers, if there is one.
    #[inline]
    pub(crate) fn get(&self, delay_ms: u64) -> Option<Rc<DurationList>> {
        self.by_delay.borrow().get(&delay_ms).filter(|list| !list.gone.get()).cloned()
    }

    /// The list of `delay_ms` timers, and whether it just started (it must
    /// then go in the wheel): a new one, or its vacant one reused.
    #[inline]
    pub(crate) fn get_or_start(&self, delay_ms: u64) -> (Rc<DurationList>, bool) {
        let mut by_delay = self.by_delay.borrow_mut();
        if let Some(list) = by_delay.get(&delay_ms) {
            let started = list.gone.replace(false);
            if started {
                self.vacant.set(self.vacant.get() - 1);
            }
            return (list.clone(), started);
        }
        let list = Rc::new(DurationList {
            delay_ms,
            places: RefCell::default(),
            live: Cell::new(0),
            key: Cell::new(None),
            gone: Cell::new(false),
        });
        by_delay.insert(delay_ms, list.clone());
        (list, true)
    }

    /// Ends `list`: later timers of its duration start a new one. It must
    /// be empty and out of the wheel.
    pub(crate) fn delete(&self, list: &Rc<DurationList>) {
        debug_assert_eq!(list.live.get(), 0, "a list with armed timers was deleted");
        debug_assert!(list.key.get().is_none(), "a list in the wheel was deleted");
        if list.gone.replace(true) {
            return;
        }
        // The map's and the caller's are the only references: nothing can
        // reach the list but the map, so it can stay there, vacant.
        if Rc::strong_count(list) == 2 && self.vacant.get() < MAX_VACANT {
            // Dropping a stale place runs no user code (see `Place`).
            let mut places = list.places.borrow_mut();
            if !places.is_empty() {
                places.clear();
            }
            drop(places);
            self.vacant.set(self.vacant.get() + 1);
            return;
        }
        self.by_delay.borrow_mut().remove(&list.delay_ms);
        if self.vacant.get() == MAX_VACANT {
            self.by_delay.borrow_mut().retain(|_, list| !list.gone.get());
            self.vacant.set(0);
        }
    }

    /// Takes every list out (shutdown).
    pub(crate) fn take_all(&self) -> Vec<Rc<DurationList>> {
        let lists: Vec<_> = self.by_delay.borrow_mut().drain().map(|(_, list)| list).collect();
        lists.iter().for_each(|list| list.gone.set(true));
        self.vacant.set(0);
        lists
    }
}

/// One duration's timers in the order they were armed (Node's
/// `TimersList`).
pub(crate) struct DurationList {
    delay_ms: u64,
    places: RefCell<VecDeque<Place>>,
    /// Armed timers in `places` (the rest are stale).
    live: Cell<usize>,
    /// Where the list waits in the wheel; `None` while a timers phase runs
    /// it, and once it is gone.
    pub(crate) key: Cell<Option<TimerKey>>,
    /// Ended: no timer is put in it again, unless it waits in the map,
    /// vacant, to be its duration's next list.
    gone: Cell<bool>,
}

/// A timer's place in its list; stale once the timer's epoch moved on.
///
/// A stale place may hold the last reference to its timer, but dropping it
/// runs no user code: a timer leaves its list armed (its callback is about
/// to run), cleared (`Timer::clear` drops the callback, and its handle
/// holds the timer until then) or refreshed (its live place holds it too); `TimerQueue::abandon` drops the callbacks it
/// strands. So places are dropped with the list borrowed.
struct Place {
    timer: Rc<TimerState>,
    epoch: u32,
}

impl Place {
    fn is_live(&self) -> bool {
        self.timer.is_armed_at(self.epoch)
    }
}

/// What the head of a list says when a timers phase reaches it.
pub(crate) enum Head {
    /// This timer is due: it is out of the list now, and will run.
    Due(Rc<TimerState>),
    /// The first live timer is not due; it started at this tick.
    Waits(u64),
    /// No timer left.
    Empty,
}

impl DurationList {
    pub(crate) fn delay_ms(&self) -> u64 {
        self.delay_ms
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.live.get() == 0
    }

    /// Appends `timer`, armed at `epoch` (Node's `L.append`).
    #[inline]
    pub(crate) fn push(&self, timer: Rc<TimerState>, epoch: u32) {
        debug_assert!(!self.gone.get(), "a timer was put in a deleted list");
        self.places.borrow_mut().push_back(Place { timer, epoch });
        self.live.set(self.live.get() + 1);
    }

    /// One of its timers was cleared or refreshed: its place went stale.
    pub(crate) fn unlinked(&self) {
        let live = self.live.get() - 1;
        self.live.set(live);
        let mut places = self.places.borrow_mut();
        // The last timers armed are the likeliest cleared (a timeout set and
        // cleared at once): their places go now, at no cost.
        while places.back().is_some_and(|place| !place.is_live()) {
            places.pop_back();
        }
        if places.len() > 2 * live + 16 {
            places.retain(Place::is_live);
        }
    }

    /// Takes the head timer if it is due at `now`, skipping stale places
    /// (Node's `listOnTimeout` step: `now - start >= msecs`).
    #[inline]
    pub(crate) fn take_due(&self, now: u64) -> Head {
        loop {
            let Some(place) = self.places.borrow_mut().pop_front() else { return Head::Empty };
            if !place.is_live() {
                continue;
            }
            let start = place.timer.start();
            if now.saturating_sub(start) < self.delay_ms {
                self.places.borrow_mut().push_front(place);
                return Head::Waits(start);
            }
            self.live.set(self.live.get() - 1);
            return Head::Due(place.timer);
        }
    }

    /// The armed timers, in list order (shutdown).
    pub(crate) fn armed(&self) -> Vec<Rc<TimerState>> {
        let places = self.places.borrow();
        places.iter().filter(|place| place.is_live()).map(|place| place.timer.clone()).collect()
    }
}

#[cfg(test)]
mod tests;
