//! An emitter's listener lists, one per event name.
//!
//! Lists live in slots, so a [`ListenerId`](super::ListenerId) can name its
//! list by index and `off` needs no name. A list that empties keeps its
//! slot (and its capacity): registering a `once` listener and emitting it,
//! over and over, allocates nothing but the listener. Empty lists are
//! freed in a batch when the slots have doubled since the last batch, so
//! an emitter that sees many short-lived names (`"reply:17"`) holds at
//! most about twice the lists it needs. A freed slot is reused; an old id
//! that points at it matches none of the new list's keys.
//!
//! Most names are string literals, and an emitter has few. So before it
//! hashes, a lookup compares the name's address and length with those of
//! the `&'static str` names of the first [`SCANNED`] slots: a `&str` at the
//! address of a `'static` one, with its length, *is* that name (static
//! memory is never reused), without reading a byte of it.

use std::borrow::Cow;
use std::collections::HashMap;

use super::list::ListenerList;

/// Free empty lists no more often than this many new slots.
const MIN_SLOTS_BEFORE_FREEING: usize = 16;
/// Slots whose static names a lookup compares by address.
const SCANNED: usize = 8;

pub(super) struct EventLists<T> {
    by_name: HashMap<Cow<'static, str>, u32>,
    slots: Vec<Slot<T>>,
    /// Slots not in use.
    free: Vec<u32>,
    /// Free the empty lists when a new name would need more slots.
    free_at: usize,
}

struct Slot<T> {
    /// `None`: free, listed in `free`.
    list: Option<ListenerList<T>>,
    /// Address and length of its name if that is a `&'static str`, else
    /// [`NOT_STATIC`].
    static_name: (usize, usize),
}

/// No `&str` is at address 0.
const NOT_STATIC: (usize, usize) = (0, 0);

/// Address and length of `name`.
fn address(name: &str) -> (usize, usize) {
    (name.as_ptr() as usize, name.len())
}

impl<T> EventLists<T> {
    pub(super) fn new() -> Self {
        EventLists {
            by_name: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            free_at: MIN_SLOTS_BEFORE_FREEING,
        }
    }

    #[inline(always)]
    fn find(&self, name: &str) -> Option<u32> {
        let at = address(name);
        for (index, slot) in self.slots.iter().take(SCANNED).enumerate() {
            if slot.static_name == at {
                return Some(index as u32);
            }
        }
        self.find_hashed(name)
    }

    // Out of line: the scan above, inlined, stays a few instructions.
    #[inline(never)]
    fn find_hashed(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// The slot and list of `name`, if it has one.
    pub(super) fn get(&self, name: &str) -> Option<(u32, &ListenerList<T>)> {
        let slot = self.find(name)?;
        self.slots[slot as usize].list.as_ref().map(|list| (slot, list))
    }

    /// The slot and list of `name`, if it has one, to change.
    #[inline]
    pub(super) fn get_mut(&mut self, name: &str) -> Option<(u32, &mut ListenerList<T>)> {
        let slot = self.find(name)?;
        self.slots[slot as usize].list.as_mut().map(|list| (slot, list))
    }

    /// The list in `slot`, if the slot is in use.
    pub(super) fn slot_mut(&mut self, slot: u32) -> Option<&mut ListenerList<T>> {
        self.slots.get_mut(slot as usize)?.list.as_mut()
    }

    /// The slot and list of `name`, made if it has none.
    // Always inline: where the name is a literal, its `Cow` is then known
    // to be borrowed, and a hit has nothing to drop.
    #[inline(always)]
    pub(super) fn get_or_insert(&mut self, name: Cow<'static, str>) -> (u32, &mut ListenerList<T>) {
        let slot = match self.find(&name) {
            Some(slot) => slot,
            None => self.new_slot(name),
        };
        let list = self.slots[slot as usize].list.as_mut().expect("a named slot is in use");
        (slot, list)
    }

    #[cold]
    fn new_slot(&mut self, name: Cow<'static, str>) -> u32 {
        if self.free.is_empty() && self.slots.len() >= self.free_at {
            self.free_empty_lists();
        }
        let static_name = match name {
            Cow::Borrowed(name) => address(name),
            Cow::Owned(_) => NOT_STATIC,
        };
        let slot = Slot { list: Some(ListenerList::new()), static_name };
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index as usize] = slot;
                index
            }
            None => {
                self.slots.push(slot);
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 event names")
            }
        };
        self.by_name.insert(name, index);
        index
    }

    /// Frees every empty list. An emit still calling one keeps its own
    /// snapshot, whose listeners are all removed.
    fn free_empty_lists(&mut self) {
        let slots = &mut self.slots;
        let free = &mut self.free;
        self.by_name.retain(|_, &mut index| {
            let slot = &mut slots[index as usize];
            if slot.list.as_ref().is_some_and(|list| list.len() > 0) {
                return true;
            }
            *slot = Slot { list: None, static_name: NOT_STATIC };
            free.push(index);
            false
        });
        self.free_at = MIN_SLOTS_BEFORE_FREEING.max(2 * (self.slots.len() - self.free.len()));
    }

    /// Every list in use.
    pub(super) fn lists_mut(&mut self) -> impl Iterator<Item = &mut ListenerList<T>> {
        self.slots.iter_mut().filter_map(|slot| slot.list.as_mut())
    }

    /// The names that have listeners, with their counts.
    pub(super) fn counts(&self) -> impl Iterator<Item = (&str, usize)> {
        self.by_name.iter().filter_map(|(name, &index)| {
            let count = self.slots[index as usize].list.as_ref()?.len();
            (count > 0).then_some((&**name, count))
        })
    }
}
