//! Poll phase, a socket's readiness marks: one atomic word per direction,
//! shared by the operations (any thread) and the loop's events.
//!
//! *Ready*: an event came that no waiter has taken yet. *Drained*: an
//! operation found nothing to do since the last event, so trying again
//! before the next one would be a wasted syscall. The bits above the two
//! marks count events (the *tick*). An operation reads the marks before it
//! runs and, if it hits `WouldBlock`, marks the direction drained only if
//! the tick has not moved (tokio's readiness does the same): when a socket
//! is used on one thread while its loop takes events on another, an event
//! landing between the `WouldBlock` and its mark is kept, not wiped out.
//! Reading the marks takes no lock.

use crate::sync::{AtomicU32, Ordering};

/// A direction's mark: an event came that no waiter has taken yet.
const READY: u32 = 1;
/// A direction's mark: an operation found nothing to do since the last event.
const DRAINED: u32 = 2;
/// Both marks: what is left is the tick.
const MARKS: u32 = READY | DRAINED;
/// One event in a direction's tick.
const TICK_ONE: u32 = 4;

/// One direction's marks and tick.
#[derive(Debug)]
pub struct Marks(AtomicU32);

/// The marks as an operation saw them before it ran: what it may clear
/// afterwards if no event came meanwhile.
#[derive(Clone, Copy, Debug)]
pub struct Seen(u32);

impl Marks {
    /// A new socket's direction: assumed ready until an operation says
    /// otherwise.
    pub fn new() -> Marks {
        Marks(AtomicU32::new(READY))
    }

    /// The marks before an operation, if it is worth trying (not drained
    /// since the last event).
    pub fn may_be_ready(&self) -> Option<Seen> {
        let marks = self.0.load(Ordering::Acquire);
        (marks & DRAINED == 0).then_some(Seen(marks))
    }

    /// The operation that saw `seen` found nothing to do: wait for the next
    /// event, unless one came since.
    pub fn mark_drained(&self, seen: Seen) {
        let tick = seen.0 & !MARKS;
        self.update(|marks| (marks & !MARKS == tick).then_some(tick | DRAINED));
    }

    /// Forgets the readiness seen so far, whatever came: the next wait waits
    /// for a new event (a connect just started, reads held back).
    pub fn expect_event(&self) {
        self.update(|marks| Some(marks & !READY | DRAINED));
    }

    /// An event (or a hand-made one): ready, not drained, one tick on.
    pub fn set_ready(&self) {
        self.update(|marks| Some((marks & !MARKS).wrapping_add(TICK_ONE) | READY));
    }

    /// Bytes were kept back in user space by an operation that saw `seen`
    /// (`None`: one that found the direction drained already): ready, not
    /// drained, one tick on, so that no operation that saw an older tick
    /// can mark the direction drained over them. The new marks if no event
    /// came since `seen` (then the next `mark_drained` of them means
    /// "drained since that operation"), else `None`.
    pub fn keep_ready(&self, seen: Option<Seen>) -> Option<Seen> {
        let mut fresh = None;
        self.update(|marks| {
            let next = (marks & !MARKS).wrapping_add(TICK_ONE) | READY;
            let unchanged = seen.is_some_and(|seen| seen.0 & !MARKS == marks & !MARKS);
            fresh = unchanged.then_some(Seen(next));
            Some(next)
        });
        fresh
    }

    /// Whether the direction is marked ready; with `consume`, also takes the
    /// mark (atomically, so an event landing meanwhile is not lost).
    pub fn take_ready(&self, consume: bool) -> bool {
        if !consume {
            return self.0.load(Ordering::Acquire) & READY != 0;
        }
        let taken = self.0.fetch_update(Ordering::AcqRel, Ordering::Acquire, |marks| {
            (marks & READY != 0).then_some(marks & !READY)
        });
        taken.is_ok()
    }

    fn update(&self, f: impl FnMut(u32) -> Option<u32>) {
        // `None` from `f`: nothing to change.
        let _ = self.0.fetch_update(Ordering::AcqRel, Ordering::Acquire, f);
    }
}

impl Default for Marks {
    fn default() -> Marks {
        Marks::new()
    }
}

#[cfg(all(test, not(jsloop_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_wouldblock_clears_readiness_only_if_no_event_came_since() {
        let marks = Marks::new();
        let seen = marks.may_be_ready().unwrap();
        marks.mark_drained(seen);
        assert!(marks.may_be_ready().is_none(), "drained: not worth trying");
        assert!(!marks.take_ready(false));

        let seen = Seen(marks.0.load(Ordering::Relaxed));
        marks.set_ready(); // an event between the op and its mark
        marks.mark_drained(seen);
        assert!(marks.may_be_ready().is_some(), "the event was wiped out");
        assert!(marks.take_ready(true));
        assert!(!marks.take_ready(true), "taken once");
    }

    #[test]
    fn expect_event_waits_for_a_new_event_whatever_came() {
        let marks = Marks::new();
        marks.set_ready();
        marks.expect_event();
        assert!(marks.may_be_ready().is_none());
        assert!(!marks.take_ready(false));
        marks.set_ready();
        assert!(marks.take_ready(false));
    }

    #[test]
    fn bytes_kept_back_outlast_every_older_operations_drained_mark() {
        let marks = Marks::new();
        let older = marks.may_be_ready().unwrap(); // another reader, before
        let seen = marks.may_be_ready().unwrap();
        let fresh = marks.keep_ready(Some(seen)).expect("no event came");
        marks.mark_drained(older); // that reader's `WouldBlock`, late
        assert!(marks.may_be_ready().is_some(), "drained over bytes kept back");
        marks.mark_drained(fresh); // the kept bytes used up
        assert!(marks.may_be_ready().is_none());

        // An event between the operation and the keep: nothing to claim.
        let seen = marks.may_be_ready();
        marks.set_ready();
        assert!(marks.keep_ready(seen).is_none());
        // Kept from a direction already drained: ready again, nothing to claim.
        marks.mark_drained(marks.may_be_ready().unwrap());
        assert!(marks.keep_ready(None).is_none());
        assert!(marks.may_be_ready().is_some());
    }

    #[test]
    fn the_tick_wraps_without_touching_the_marks() {
        let marks = Marks(AtomicU32::new(!MARKS)); // the highest tick
        marks.set_ready();
        assert_eq!(marks.0.load(Ordering::Relaxed), READY);
    }
}
