//! Poll phase, loop side of message ports: what the loop keeps for each
//! port bound to it (listener, waiting receiver, close listeners) and how
//! many of them keep it alive.
//!
//! A port's listener is `!Send`, so it cannot live in the port (which may
//! cross threads); it lives here, in the loop that owns the port, keyed by
//! the port's id. Nothing here is touched unless a port is bound to the
//! loop, so a loop without ports pays one `Cell` read in `is_alive`.
//!
//! The slots are a slab: a port learns its index when it binds, so the
//! several look-ups of each delivered message are an index and an id
//! compare (the id tells a freed and reused index from the port's own),
//! not a hash probe.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::task::Waker;

/// The ports bound to one loop.
#[derive(Default)]
pub(crate) struct LoopPorts {
    /// Bound ports with a listener or a waiting receiver, and ref'd: while
    /// non-zero the loop stays alive (a ref'd libuv handle).
    refs: Cell<usize>,
    /// What the loop holds for each bound port; removed once the port's
    /// close has been delivered.
    pub(super) slots: RefCell<PortSlots>,
}

/// The bound ports' slots, by the index each port got when it bound.
#[derive(Default)]
pub(crate) struct PortSlots {
    /// `(port id, slot)`; `None` where a port's close was delivered.
    entries: Vec<Option<(u64, PortSlot)>>,
    /// Indices of `None` entries, reused before `entries` grows.
    free: Vec<u32>,
}

impl PortSlots {
    /// A fresh slot for port `id`; returns its index.
    pub(super) fn insert(&mut self, id: u64) -> u32 {
        let entry = Some((id, PortSlot::default()));
        match self.free.pop() {
            Some(index) => {
                self.entries[index as usize] = entry;
                index
            }
            None => {
                self.entries.push(entry);
                u32::try_from(self.entries.len() - 1).expect("fewer than 2^32 ports on one loop")
            }
        }
    }

    /// Port `id`'s slot at `index`, unless its close was delivered (the
    /// index may hold another port's slot by then).
    #[inline]
    pub(super) fn get_mut(&mut self, index: u32, id: u64) -> Option<&mut PortSlot> {
        match self.entries.get_mut(index as usize) {
            Some(Some((owner, slot))) if *owner == id => Some(slot),
            _ => None,
        }
    }

    /// Takes port `id`'s slot out; its index is free for the next port.
    pub(super) fn remove(&mut self, index: u32, id: u64) -> Option<PortSlot> {
        self.get_mut(index, id)?;
        let (_, slot) = self.entries[index as usize].take()?;
        self.free.push(index);
        Some(slot)
    }
}

impl LoopPorts {
    /// `true` while a bound port keeps the loop alive.
    #[inline]
    pub(crate) fn keep_alive(&self) -> bool {
        self.refs.get() != 0
    }

    /// Counts `slot` in or out of the loop's refs as `wants` says.
    pub(super) fn set_counted(&self, slot: &mut PortSlot, wants: bool) {
        if slot.counted != wants {
            slot.counted = wants;
            self.refs.set(if wants { self.refs.get() + 1 } else { self.refs.get() - 1 });
        }
    }
}

/// The loop's half of one bound port.
#[derive(Default)]
pub(super) struct PortSlot {
    /// The `on_message` listener, a `Box<dyn FnMut(T)>` (taken out while it
    /// runs, so it may touch its own port).
    pub(super) listener: Option<Box<dyn Any>>,
    /// A listener is attached (also while it runs and `listener` is empty).
    pub(super) listening: bool,
    /// The task waiting in `recv` / the stream.
    pub(super) waiter: Option<Waker>,
    /// Deliveries made to the waiting receiver and not yet taken: each
    /// lets `recv` take one message from the inbox (no copy of it here, so
    /// no allocation per message).
    pub(super) permits: usize,
    /// `on_close` listeners, run once when the close is delivered.
    pub(super) on_close: Vec<Box<dyn FnOnce()>>,
    /// Counted in [`LoopPorts::refs`].
    counted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn a_freed_index_reused_by_another_port_is_not_the_old_ports_slot() {
        let mut slots = PortSlots::default();
        let first = slots.insert(1);
        assert!(slots.remove(first, 1).is_some());
        let second = slots.insert(2);
        assert_eq!(second, first, "the index is reused");
        assert!(slots.get_mut(first, 1).is_none(), "port 1's close was delivered");
        assert!(slots.remove(first, 1).is_none());
        assert!(slots.get_mut(second, 2).is_some(), "port 2 keeps its slot");
    }

    proptest! {
        /// Against a map from port id to index: every live port finds its
        /// own slot (told apart by a mark written into it), a closed one
        /// finds none, whatever the order of binds and closes.
        #[test]
        #[cfg_attr(miri, ignore = "safe code, and quadratic per case: minutes under Miri")]
        fn every_live_port_finds_its_own_slot(
            steps in proptest::collection::vec((any::<bool>(), any::<prop::sample::Index>()), 1..200),
        ) {
            let mut slots = PortSlots::default();
            let mut live: HashMap<u64, u32> = HashMap::new();
            let mut closed: Vec<(u64, u32)> = Vec::new();
            let mut next_id = 1u64;
            for (bind, pick) in steps {
                if bind || live.is_empty() {
                    let index = slots.insert(next_id);
                    slots.get_mut(index, next_id).expect("just bound").permits = next_id as usize;
                    live.insert(next_id, index);
                    next_id += 1;
                } else {
                    let mut ids: Vec<u64> = live.keys().copied().collect();
                    ids.sort_unstable();
                    let id = ids[pick.index(ids.len())];
                    let index = live.remove(&id).expect("live");
                    let slot = slots.remove(index, id).expect("a live port has its slot");
                    prop_assert_eq!(slot.permits, id as usize);
                    closed.push((id, index));
                }
                for (&id, &index) in &live {
                    let slot = slots.get_mut(index, id);
                    prop_assert_eq!(slot.map(|slot| slot.permits), Some(id as usize));
                }
                for &(id, index) in &closed {
                    prop_assert!(slots.get_mut(index, id).is_none());
                }
            }
        }
    }
}
