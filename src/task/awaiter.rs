//! The awaiter slot: where a task cell keeps the waker of whoever awaits
//! its `JoinHandle`, woken when the task settles (`Core::settle`).
//!
//! One word instead of a `Cell<Option<Waker>>`'s two, 8 bytes of every task
//! cell: the awaiter is almost always another task of the same loop, whose
//! waker is its cell pointer and the task waker vtable (`waker.rs`), so the
//! slot stores just the pointer; any other waker is boxed.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::ptr;
use std::task::Waker;

use super::waker::{TASK_WAKER, header_ptr, raw_waker};

/// Low bit of an [`AwaiterSlot`] word: the word is a boxed waker's address.
const BOXED: usize = 1;

/// The waker of whoever awaits a task's `JoinHandle`, in one word where a
/// `Cell<Option<Waker>>` takes two (8 bytes of every task cell):
///
/// - null: no awaiter;
/// - a task cell's address (low bit clear): that task's waker, which is
///   how one task awaiting another is stored; the word owns the reference
///   the waker owned;
/// - a `Box<Waker>`'s address with the low bit set: any other waker (the
///   main future's, a moved handle's forward, another executor's).
///
/// Both kinds of address are at least 8-aligned, so the low bit is free.
/// Loop thread only, like the header's other `Cell`s.
pub(crate) struct AwaiterSlot(Cell<*mut ()>);

impl AwaiterSlot {
    /// No awaiter.
    pub(crate) const fn new() -> AwaiterSlot {
        AwaiterSlot(Cell::new(ptr::null_mut()))
    }

    /// Takes the awaiter out, leaving none.
    // Inline: every finished task with a handle takes (mostly nothing).
    #[inline]
    pub(crate) fn take(&self) -> Option<Waker> {
        let word = self.0.replace(ptr::null_mut());
        if word.is_null() {
            return None;
        }
        // SAFETY: the word is the slot's own (`encode` made it), and the
        // slot gives it up here.
        unsafe { decode(word) }
    }

    /// Stores `waker`, returning the awaiter it replaces.
    pub(crate) fn replace(&self, waker: Option<Waker>) -> Option<Waker> {
        // SAFETY: as for `take`.
        unsafe { decode(self.0.replace(encode(waker))) }
    }

    /// Makes `waker` the awaiter: keeps the stored one if it wakes the same
    /// task (no clone, no box), else stores a clone.
    pub(crate) fn register(&self, waker: &Waker) {
        if !self.inspect(|stored| stored.is_some_and(|stored| stored.will_wake(waker))) {
            drop(self.replace(Some(waker.clone())));
        }
    }

    /// Looks at the awaiter without cloning or unboxing it.
    pub(crate) fn inspect<R>(&self, f: impl FnOnce(Option<&Waker>) -> R) -> R {
        // Out of the slot while `f` looks, so that nothing `f` does to the
        // slot can free the waker it is looking at.
        let out = Lent { slot: self, word: self.0.replace(ptr::null_mut()) };
        if out.word.is_null() {
            f(None)
        } else if out.word.addr() & BOXED == 0 {
            // SAFETY: an untagged word is a task cell on which the word owns
            // a reference (`encode`), held by `out` until after `f`: the
            // waker made from it is valid, and `ManuallyDrop` keeps the
            // borrowed one from giving the reference up.
            let waker =
                ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker(header_ptr(out.word))) });
            f(Some(&waker))
        } else {
            // SAFETY: a tagged word is a `Box<Waker>` the word owns
            // (`encode`), held by `out` until after `f`.
            f(Some(unsafe { &*out.word.map_addr(|addr| addr & !BOXED).cast::<Waker>() }))
        }
    }
}

/// An awaiter word lent out of its slot by [`AwaiterSlot::inspect`]; put
/// back when dropped (also on unwind), unless the slot got a new awaiter
/// meanwhile, which then wins.
struct Lent<'a> {
    slot: &'a AwaiterSlot,
    word: *mut (),
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if self.slot.0.get().is_null() {
            self.slot.0.set(self.word);
        } else {
            // SAFETY: `word` came from the slot (so from `encode`), and
            // nothing else has it: it is given up here, once.
            drop(unsafe { decode(self.word) });
        }
    }
}

impl Drop for AwaiterSlot {
    #[inline]
    fn drop(&mut self) {
        drop(self.take());
    }
}

/// The word that stores `waker` (see [`AwaiterSlot`]); it owns what the
/// waker owned.
fn encode(waker: Option<Waker>) -> *mut () {
    match waker {
        None => ptr::null_mut(),
        Some(waker) if ptr::eq(waker.vtable(), &TASK_WAKER) => {
            // The waker's reference moves into the word.
            ManuallyDrop::new(waker).data().cast_mut()
        }
        Some(waker) => Box::into_raw(Box::new(waker)).cast::<()>().map_addr(|addr| addr | BOXED),
    }
}

/// The waker a word stores, taking over what the word owned.
///
/// # Safety
/// `word` must come from [`encode`] and not have been decoded before.
unsafe fn decode(word: *mut ()) -> Option<Waker> {
    if word.is_null() {
        None
    } else if word.addr() & BOXED == 0 {
        // SAFETY: the word is a task waker's data, a task cell, and owns the
        // reference that waker owned (`encode`): the waker rebuilt here owns
        // it again.
        Some(unsafe { Waker::from_raw(raw_waker(header_ptr(word))) })
    } else {
        // SAFETY: a tagged word is a `Box<Waker>`'s address (`encode`),
        // decoded once (our contract), so the box is taken back once.
        Some(*unsafe { Box::from_raw(word.map_addr(|addr| addr & !BOXED).cast::<Waker>()) })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    use super::AwaiterSlot;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A waker that is not a task's goes in a box, and comes back out.
    #[test]
    fn a_foreign_awaiter_is_boxed_and_given_back() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let slot = AwaiterSlot::new();
        assert!(slot.inspect(|awaiter| awaiter.is_none()));
        slot.register(&waker);
        // (The data pointer, not `will_wake`: Miri gives a vtable a new
        // address per use, so `will_wake` may say no there.)
        assert!(
            slot.inspect(|awaiter| awaiter.is_some_and(|stored| stored.data() == waker.data()))
        );
        // The same waker again: one clone stored, still.
        slot.register(&waker);
        assert_eq!(Arc::strong_count(&count), 3);
        slot.take().expect("the awaiter").wake();
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        assert!(slot.take().is_none());
        assert!(slot.replace(Some(waker)).is_none());
        // Dropping the slot drops the boxed waker.
        drop(slot);
        assert_eq!(Arc::strong_count(&count), 1);
    }
}
