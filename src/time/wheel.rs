//! Timers phase, data side: the hierarchical timer wheel.
//!
//! This is the hierarchical timing wheel of Varghese & Lauck, shaped like the
//! one in tokio's time driver. Time is counted in 1 ms ticks as a `u64`. The
//! wheel has 11 levels of 64 slots; a slot on level `L` is `64^L` ticks wide, so
//! one level spans `64^(L+1)` ticks. Six bits per level times 11 levels is 66
//! bits, enough for every `u64` deadline (level 10 only ever uses slots 0..16).
//!
//! | level | slot width         | level spans          |
//! |-------|--------------------|----------------------|
//! | 0     | 1 ms               | 64 ms                |
//! | 1     | 64 ms              | ~4.1 s               |
//! | 2     | ~4.1 s  (2^12 ms)  | ~4.4 min             |
//! | 3     | ~4.4 min (2^18)    | ~4.7 h               |
//! | 4     | ~4.7 h  (2^24)     | ~12.4 days           |
//! | 5     | ~12.4 d (2^30)     | ~2.2 years           |
//! | 6     | ~2.2 y  (2^36)     | ~139 years           |
//! | 7..=9 | 2^42, 2^48, 2^54   | 2^48, 2^54, 2^60     |
//! | 10    | 2^60               | all of `u64`         |
//!
//! **Placement.** A pending deadline `d > elapsed` goes on the level that holds
//! the highest bit in which `d` and `elapsed` differ, in the slot given by `d`'s
//! six bits of that level. So `d` shares every bit above its level with
//! `elapsed`, and its slot is strictly after `elapsed`'s own slot on that level.
//! Two consequences: every entry on a lower level is earlier than every entry on
//! a higher level, and on one level the lowest set bit of the occupancy bitmap
//! is the earliest slot. (tokio rotates the bitmap by `elapsed`'s slot before
//! `trailing_zeros`; our placement never leaves an entry at or before
//! `elapsed`'s slot, so the rotation would always be by a no-op amount and is
//! left out.) Deadlines `<= elapsed` at insertion go to a separate *due* list,
//! which is drained first: everything on it is earlier than anything in the
//! wheel.
//!
//! **Advancing.** `drain_due(now)` repeatedly takes the earliest occupied slot
//! (lowest non-empty level, lowest bit). If its start is `> now` we stop and set
//! `elapsed = now`; this keeps the placement rule exact, because `now` is still
//! inside the same upper blocks as every remaining entry. Otherwise `elapsed`
//! jumps to the slot start and the slot's entries are *cascaded*: those whose
//! deadline is exactly the slot start fire, the rest are re-placed relative to
//! the new `elapsed` and land on strictly lower levels. Only occupied slots are
//! visited (found via the bitmaps), so there is no per-tick work.
//!
//! **Order of equal deadlines.** We keep every list in insertion order instead
//! of carrying a sequence number and sorting the drained batch. Insert appends,
//! so a list is in insertion order. When a slot is cascaded, all lower levels
//! are empty (they hold only deadlines before the slot's start, which were
//! processed first), so re-appending its entries in list order gives lists that
//! are again in insertion order. Slots are then fired in deadline order, and a
//! level-0 slot holds a single deadline, so the output is ordered by (deadline,
//! insertion). This costs nothing on the hot path and saves 8 bytes per entry.
//! The due list is the one exception: past deadlines can arrive in any order.
//! It is appended to like the others and, only if an append broke deadline
//! order, stable-sorted by deadline before the next drain (stability keeps
//! insertion order among equals).
//!
//! **Storage.** Entries live in a slab (`Vec<Entry<T>>`, `u32` indices, free
//! list threaded through `next`). Each slot, plus the due list, is an intrusive
//! doubly-linked list (head/tail indices, `NONE` sentinel), so insert and remove
//! are O(1) and allocate nothing once the slab has grown. Keys carry a per-slot
//! generation, bumped when an entry is freed; a slot whose generation would
//! wrap is retired rather than reused, so a stale key can never alias.

use std::fmt;

const LEVELS: usize = 11;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
/// "No entry" sentinel for links and list ends.
const NONE: u32 = u32::MAX;
/// List id of the due list; wheel slots are lists `level * SLOTS + slot`.
const DUE: usize = LEVELS * SLOTS;
const LISTS: usize = DUE + 1;

/// Identifies one timer in the wheel. Stale keys are detected, never aliased.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct TimerKey {
    index: u32,
    generation: u32,
}

struct Entry<T> {
    deadline: u64,
    prev: u32,
    /// Next in the entry's list; next free slot while vacant.
    next: u32,
    generation: u32,
    /// List id the entry is linked into (meaningless while vacant).
    list: u32,
    /// `None` while vacant.
    value: Option<T>,
}

#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List { head: NONE, tail: NONE };

pub(crate) struct TimerWheel<T> {
    entries: Vec<Entry<T>>,
    free: u32,
    lists: Box<[List; LISTS]>,
    /// Bit `s` of `occupied[l]` is set iff slot `s` of level `l` is non-empty.
    occupied: [u64; LEVELS],
    /// Time the wheel has advanced to; every wheel entry is `> elapsed`.
    elapsed: u64,
    len: usize,
    /// False when the due list may be out of deadline order.
    due_sorted: bool,
}

/// Level for a deadline `> elapsed`: the 6-bit group holding the highest
/// differing bit. `| 63` sends differences confined to bits 0..6 to level 0.
#[inline]
fn level_for(elapsed: u64, deadline: u64) -> usize {
    let masked = (elapsed ^ deadline) | (SLOTS as u64 - 1);
    (masked.ilog2() / SLOT_BITS) as usize
}

#[inline]
fn slot_for(deadline: u64, level: usize) -> usize {
    (deadline >> (level as u32 * SLOT_BITS)) as usize & (SLOTS - 1)
}

/// First tick of `slot` on `level`, in the same level-`(level + 1)` block as
/// `elapsed`. The start is rounded down to the level's width; no addition, so
/// no overflow even for the slot holding `u64::MAX`.
#[inline]
fn slot_start(elapsed: u64, level: usize, slot: usize) -> u64 {
    let shift = level as u32 * SLOT_BITS;
    // Bits of `elapsed` above this level; none for level 10 (60 + 6 >= 64).
    let block = u64::MAX.checked_shl(shift + SLOT_BITS).unwrap_or(0);
    (elapsed & block) | ((slot as u64) << shift)
}

impl<T> TimerWheel<T> {
    pub(crate) fn new() -> Self {
        TimerWheel {
            entries: Vec::new(),
            free: NONE,
            lists: Box::new([EMPTY; LISTS]),
            occupied: [0; LEVELS],
            elapsed: 0,
            len: 0,
            due_sorted: true,
        }
    }

    /// Insert a timer due at `deadline` (1 ms ticks). A deadline `<=` the
    /// wheel's elapsed time is due at the next `drain_due`. O(1).
    // Always inline: a sleep's register and cancel are the hottest timer
    // paths, and with the duration lists as a second caller LLVM stopped
    // inlining these (callgrind: sleep register + cancel +5 %).
    #[inline(always)]
    pub(crate) fn insert(&mut self, deadline: u64, value: T) -> TimerKey {
        // One pass: the list is chosen first, so the entry is written once,
        // already linked, instead of being stored and then re-read to link.
        let list = self.list_for(deadline);
        let tail = self.lists[list].tail;
        let (index, generation) = match self.free {
            NONE => {
                let index = self.entries.len();
                assert!(index < NONE as usize, "timer wheel: too many timers");
                self.entries.push(Entry {
                    deadline,
                    prev: tail,
                    next: NONE,
                    generation: 0,
                    list: list as u32,
                    value: Some(value),
                });
                (index as u32, 0)
            }
            index => {
                let e = self.entry_mut(index);
                let next_free = e.next;
                e.deadline = deadline;
                e.prev = tail;
                e.next = NONE;
                e.list = list as u32;
                e.value = Some(value);
                let generation = e.generation;
                self.free = next_free;
                (index, generation)
            }
        };
        self.len += 1;
        self.append(list, tail, index, deadline);
        TimerKey { index, generation }
    }

    /// Remove a pending timer; `None` if the key is stale. O(1).
    #[inline(always)]
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<T> {
        // One look-up of the entry serves the check, the value and the links
        // (this is the cancel path of every dropped `Sleep`).
        let e = self.entries.get_mut(key.index as usize)?;
        if e.generation != key.generation {
            return None;
        }
        let value = e.value.take()?;
        let (prev, next, list) = (e.prev, e.next, e.list as usize);
        // Freed through the same borrow (the links are copied out above;
        // `detach` touches only the neighbours and the list).
        if e.generation != u32::MAX {
            e.generation += 1;
            e.next = self.free;
            self.free = key.index;
        }
        self.len -= 1;
        self.detach(prev, next, list);
        Some(value)
    }

    /// The deadline of a pending timer (`None` if the key is stale).
    #[cfg(test)]
    pub(crate) fn deadline(&self, key: TimerKey) -> Option<u64> {
        self.live(key).map(|e| e.deadline)
    }

    /// The value of a pending timer, to update in place (`None` if stale).
    pub(crate) fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        let e = self.entries.get_mut(key.index as usize)?;
        if e.generation != key.generation {
            return None;
        }
        e.value.as_mut() // `None` for a retired slot
    }

    /// Advance to `now` and append every timer with deadline `<= now` to `out`,
    /// ordered by (deadline, insertion order). A `now` before the elapsed time
    /// only drains due-list entries `<= now` and leaves the elapsed time alone.
    #[inline]
    pub(crate) fn drain_due(&mut self, now: u64, out: &mut Vec<T>) {
        if self.len == 0 {
            // What the walk ends with when it finds nothing: a loop without
            // timers pays a comparison per turn, not a call.
            self.elapsed = self.elapsed.max(now);
        } else {
            self.drain_pending(now, out);
        }
    }

    /// [`drain_due`](Self::drain_due) with timers pending.
    fn drain_pending(&mut self, now: u64, out: &mut Vec<T>) {
        if self.lists[DUE].head != NONE {
            self.drain_due_list(now, out);
        }
        // Every wheel entry is > elapsed, so nothing more is due unless time moves.
        if now <= self.elapsed {
            return;
        }
        while let Some((level, slot)) = self.first_occupied() {
            let start = slot_start(self.elapsed, level, slot);
            if start > now {
                break;
            }
            // All lower levels are empty here (their entries were earlier), so
            // re-linking below appends to empty lists, keeping insertion order.
            self.elapsed = start;
            self.occupied[level] &= !(1 << slot);
            let list = std::mem::replace(&mut self.lists[level * SLOTS + slot], EMPTY);
            let mut cur = list.head;
            while cur != NONE {
                let e = &self.entries[cur as usize];
                let next = e.next;
                if e.deadline == start {
                    out.push(self.release(cur));
                } else {
                    self.link(cur); // lands on a level below `level`
                }
                cur = next;
            }
        }
        // Safe w.r.t. placement: every remaining slot starts after `now`.
        self.elapsed = now;
    }

    /// The smallest pending deadline, exact. O(levels) plus a scan of one slot
    /// (or of the due list when past deadlines were inserted out of order).
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        if self.len == 0 {
            return None; // without a scan of the eleven levels
        }
        let due = self.lists[DUE].head;
        if due != NONE {
            if self.due_sorted {
                return Some(self.entries[due as usize].deadline);
            }
            return self.deadlines(DUE).min();
        }
        let (level, slot) = self.first_occupied()?;
        if level == 0 {
            // A level-0 slot holds exactly one deadline: its start.
            return Some(slot_start(self.elapsed, 0, slot));
        }
        self.deadlines(level * SLOTS + slot).min()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every pending timer with its deadline, in no particular order (task
    /// dumps look for the sleeps of their tasks). O(entries).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &T)> + '_ {
        self.entries.iter().filter_map(|e| Some((e.deadline, e.value.as_ref()?)))
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[cfg(test)]
    fn live(&self, key: TimerKey) -> Option<&Entry<T>> {
        let e = self.entries.get(key.index as usize)?;
        (e.generation == key.generation && e.value.is_some()).then_some(e)
    }

    /// Earliest occupied slot: lowest non-empty level, lowest set bit.
    #[inline]
    fn first_occupied(&self) -> Option<(usize, usize)> {
        let level = self.occupied.iter().position(|&bits| bits != 0)?;
        Some((level, self.occupied[level].trailing_zeros() as usize))
    }

    /// Append entry `index` (unlinked) to the list its deadline belongs on
    /// right now.
    #[inline]
    fn link(&mut self, index: u32) {
        let deadline = self.entry(index).deadline;
        let list = self.list_for(deadline);
        let tail = self.lists[list].tail;
        let e = self.entry_mut(index);
        e.prev = tail;
        e.next = NONE;
        e.list = list as u32;
        self.append(list, tail, index, deadline);
    }

    /// The list a `deadline` belongs on right now, marked occupied.
    #[inline(always)]
    fn list_for(&mut self, deadline: u64) -> usize {
        if deadline <= self.elapsed {
            return DUE;
        }
        let level = level_for(self.elapsed, deadline);
        let slot = slot_for(deadline, level);
        // `level_for` is at most 63 / 6 = 10; the mask tells the compiler
        // (a no-op on the value, it drops the bounds check).
        let level = level.min(LEVELS - 1);
        self.occupied[level] |= 1 << slot;
        level * SLOTS + slot
    }

    /// Makes `index`, whose own links already say `prev: tail, next: NONE,
    /// list`, the tail of `list`.
    #[inline(always)]
    fn append(&mut self, list: usize, tail: u32, index: u32, deadline: u64) {
        if tail == NONE {
            self.lists[list].head = index;
        } else {
            let due = list == DUE;
            let t = self.entry_mut(tail);
            t.next = index;
            if due && t.deadline > deadline {
                self.due_sorted = false;
            }
        }
        self.lists[list].tail = index;
    }

    #[inline]
    fn unlink(&mut self, index: u32) {
        let e = &self.entries[index as usize];
        let (prev, next, list) = (e.prev, e.next, e.list as usize);
        self.detach(prev, next, list);
    }

    /// Unlinks the entry whose links are `prev` / `next` from `list`.
    #[inline]
    fn detach(&mut self, prev: u32, next: u32, list: usize) {
        if prev == NONE {
            self.lists[list].head = next;
        } else {
            self.entry_mut(prev).next = next;
        }
        if next == NONE {
            self.lists[list].tail = prev;
        } else {
            self.entry_mut(next).prev = prev;
        }
        if prev == NONE && next == NONE {
            if list == DUE {
                self.due_sorted = true;
            } else {
                self.occupied[list / SLOTS] &= !(1 << (list % SLOTS));
            }
        }
    }

    /// Free an (already unlinked) entry and return its value.
    #[inline]
    fn release(&mut self, index: u32) -> T {
        let value = self.entries[index as usize].value.take();
        self.free_slot(index);
        value.expect("timer wheel: released a vacant entry")
    }

    /// Puts an (unlinked, emptied) entry's slot on the free list.
    #[inline]
    fn free_slot(&mut self, index: u32) {
        let e = &mut self.entries[index as usize];
        // Bumping the generation makes outstanding keys stale. A slot whose
        // generation would wrap is retired (never reused) so keys never alias.
        if e.generation != u32::MAX {
            e.generation += 1;
            e.next = self.free;
            self.free = index;
        }
        self.len -= 1;
    }

    /// The entry at a *linked or free-listed* index: a list head or tail,
    /// an entry's `prev` / `next`, or `free`. Every such index is below
    /// `entries.len()`: it was the index of an entry when stored, and
    /// `entries` only grows (`push`; nothing truncates or removes). Keys,
    /// which come from outside, go through the checked `get_mut` instead.
    #[inline(always)]
    fn entry(&self, index: u32) -> &Entry<T> {
        debug_assert!((index as usize) < self.entries.len(), "timer wheel: dangling link");
        // SAFETY: `index` is a linked or free-listed index (the caller's
        // contract above), so it is in bounds: it named an entry when it was
        // stored and `entries` never shrinks.
        unsafe { self.entries.get_unchecked(index as usize) }
    }

    /// [`entry`](Self::entry), mutably; same contract.
    #[inline(always)]
    fn entry_mut(&mut self, index: u32) -> &mut Entry<T> {
        debug_assert!((index as usize) < self.entries.len(), "timer wheel: dangling link");
        // SAFETY: as in `entry`: a linked or free-listed index is below
        // `entries.len()`, which never decreases.
        unsafe { self.entries.get_unchecked_mut(index as usize) }
    }

    fn drain_due_list(&mut self, now: u64, out: &mut Vec<T>) {
        if !self.due_sorted {
            self.sort_due_list();
        }
        loop {
            let head = self.lists[DUE].head;
            if head == NONE || self.entries[head as usize].deadline > now {
                return;
            }
            self.unlink(head);
            out.push(self.release(head));
        }
    }

    /// Cold path: past deadlines were inserted out of order.
    #[cold]
    fn sort_due_list(&mut self) {
        let mut order = Vec::new();
        let mut cur = self.lists[DUE].head;
        while cur != NONE {
            order.push(cur);
            cur = self.entries[cur as usize].next;
        }
        // Stable: equal deadlines keep list order, which is insertion order.
        order.sort_by_key(|&i| self.entries[i as usize].deadline);
        self.lists[DUE] = EMPTY;
        self.due_sorted = true;
        for i in order {
            self.link(i); // deadline <= elapsed, so back onto the due list
        }
    }

    fn deadlines(&self, list: usize) -> impl Iterator<Item = u64> + '_ {
        let head = self.lists[list].head;
        std::iter::successors((head != NONE).then_some(head), |&i| {
            let next = self.entries[i as usize].next;
            (next != NONE).then_some(next)
        })
        .map(|i| self.entries[i as usize].deadline)
    }
}

impl<T> Default for TimerWheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for TimerWheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerWheel")
            .field("len", &self.len)
            .field("elapsed", &self.elapsed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    impl<T> TimerWheel<T> {
        /// Every entry sits on exactly the list its deadline maps to now,
        /// links are consistent, bitmaps match, and the count matches `len`.
        /// Walks only occupied lists (cheap under Miri): a non-empty list with
        /// a clear bit would leave `count` short of `len`.
        fn check_invariants(&self) {
            let mut lists = vec![DUE];
            for (level, &bits) in self.occupied.iter().enumerate() {
                let mut bits = bits;
                while bits != 0 {
                    lists.push(level * SLOTS + bits.trailing_zeros() as usize);
                    bits &= bits - 1;
                }
            }
            let mut count = 0;
            for list in lists {
                let (mut prev, mut cur) = (NONE, self.lists[list].head);
                assert!(cur != NONE || list == DUE, "empty list {list} marked occupied");
                while cur != NONE {
                    let e = &self.entries[cur as usize];
                    assert!(e.value.is_some());
                    assert_eq!((e.prev, e.list as usize), (prev, list));
                    let want = if e.deadline <= self.elapsed {
                        DUE
                    } else {
                        let level = level_for(self.elapsed, e.deadline);
                        level * SLOTS + slot_for(e.deadline, level)
                    };
                    assert_eq!(list, want, "misplaced deadline {}", e.deadline);
                    (prev, cur, count) = (cur, e.next, count + 1);
                }
                assert_eq!(self.lists[list].tail, prev);
            }
            assert_eq!(count, self.len);
        }
    }

    fn drain<T>(w: &mut TimerWheel<T>, now: u64) -> Vec<T> {
        let mut out = Vec::new();
        w.drain_due(now, &mut out);
        w.check_invariants();
        out
    }

    #[test]
    fn equal_deadlines_drain_in_insertion_order() {
        // The same deadline is inserted while the wheel stands at different
        // elapsed times, so the copies start on different levels and cascade.
        const D: u64 = 1_000_000;
        let mut w = TimerWheel::new();
        let mut now = 0;
        for i in 0..30u64 {
            w.insert(D, i);
            w.insert(D + 1, 1000 + i);
            w.insert(now + i, 2000 + i); // fires before D
            assert!(drain(&mut w, now).iter().all(|&v| v >= 2000));
            now = D - (D >> (i / 2 + 1)) - 3; // approaches D in big, then small steps
        }
        let fired: Vec<u64> = drain(&mut w, D).into_iter().filter(|&v| v < 1000).collect();
        assert_eq!(fired, (0..30).collect::<Vec<_>>());
        assert_eq!(drain(&mut w, D + 1), (1000..1030).collect::<Vec<_>>());
        assert!(w.is_empty());
    }

    #[test]
    fn never_fires_early() {
        let mut w = TimerWheel::new();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..if cfg!(miri) { 300 } else { 3000 } {
            let d = next() >> (next() % 64);
            w.insert(d, d);
        }
        let mut prev = 0u64;
        while !w.is_empty() {
            let now = prev.saturating_add(next() >> (next() % 64));
            for d in drain(&mut w, now) {
                assert!(d > prev || prev == 0 && d == 0);
                assert!(d <= now, "deadline {d} fired at {now}");
            }
            prev = now;
        }
    }

    #[test]
    fn deadline_u64_max_is_kept_and_removable() {
        let mut w = TimerWheel::new();
        let k = w.insert(u64::MAX, 1);
        assert_eq!((w.next_deadline(), w.deadline(k)), (Some(u64::MAX), Some(u64::MAX)));
        assert_eq!(drain(&mut w, u64::MAX - 1), Vec::<i32>::new());
        assert_eq!(w.next_deadline(), Some(u64::MAX));
        assert_eq!(w.remove(k), Some(1));
        assert!(w.is_empty() && w.next_deadline().is_none());
        w.insert(u64::MAX, 2);
        w.insert(u64::MAX - 1, 3);
        assert_eq!(drain(&mut w, u64::MAX - 1), vec![3]);
        assert_eq!(drain(&mut w, u64::MAX), vec![2]);
        // At the end of time everything inserted is already due.
        w.insert(u64::MAX, 4);
        w.insert(7, 5);
        assert_eq!(w.next_deadline(), Some(7));
        assert_eq!(drain(&mut w, u64::MAX), vec![5, 4]);
    }

    #[test]
    fn past_deadline_is_due_at_next_drain() {
        let mut w = TimerWheel::new();
        assert!(drain(&mut w, 1000).is_empty());
        w.insert(500, 'a');
        w.insert(1000, 'b');
        w.insert(200, 'c');
        w.insert(1001, 'd');
        w.insert(200, 'e');
        assert_eq!(w.next_deadline(), Some(200));
        // A `now` behind elapsed drains only what is due by then.
        assert_eq!(drain(&mut w, 300), vec!['c', 'e']);
        assert_eq!(w.next_deadline(), Some(500));
        assert_eq!(drain(&mut w, 1000), vec!['a', 'b']);
        assert_eq!(drain(&mut w, 1001), vec!['d']);
    }

    #[test]
    fn remove_is_idempotent_and_stale_keys_do_not_alias() {
        let mut w = TimerWheel::new();
        let k1 = w.insert(10, 1);
        assert_eq!(w.remove(k1), Some(1));
        assert_eq!(w.remove(k1), None);
        let k2 = w.insert(10, 2); // reuses k1's slot
        assert_ne!(k1, k2);
        assert_eq!((w.remove(k1), w.deadline(k1)), (None, None));
        assert_eq!((w.deadline(k2), w.get_mut(k1)), (Some(10), None));
        *w.get_mut(k2).unwrap() = 22;
        assert_eq!(drain(&mut w, 10), vec![22]);
        assert_eq!(w.get_mut(k2), None);
        assert_eq!((w.remove(k2), w.deadline(k2)), (None, None));
        let k3 = w.insert(20, 3);
        assert_eq!((w.remove(k1), w.remove(k2), w.len()), (None, None, 1));
        assert_eq!(w.remove(k3), Some(3));
        // A slot whose generation is exhausted is retired, not reused.
        let k4 = w.insert(1, 4);
        w.entries[k4.index as usize].generation = u32::MAX;
        let k4 = TimerKey { generation: u32::MAX, ..k4 };
        assert_eq!(w.remove(k4), Some(4));
        let k5 = w.insert(1, 5);
        assert_ne!(k5.index, k4.index);
        assert_eq!((w.remove(k4), w.deadline(k4), w.get_mut(k4)), (None, None, None));
    }

    #[test]
    fn cascade_from_high_levels_keeps_order() {
        // Each round inserts one timer per level (with duplicates), then jumps
        // far enough to cascade some slots. Later rounds only insert after the
        // last `now`, so the whole output must be sorted by (deadline, insertion).
        let (mut w, mut want, mut got, mut now) = (TimerWheel::new(), vec![], vec![], 0u64);
        for round in 0..4u64 {
            for level in (1..LEVELS as u32).rev() {
                for off in [5u64, 0, 5, 64, 0] {
                    let d = now + (1u64 << (6 * level)) + off;
                    want.push((d, want.len()));
                    w.insert(d, want.len() - 1);
                }
            }
            now += 4097 + round * 1_000_003;
            w.drain_due(now, &mut got);
            w.check_invariants();
        }
        for now in [1 << 30, 1 << 50, 1 << 62, u64::MAX] {
            w.drain_due(now, &mut got);
            w.check_invariants();
        }
        want.sort();
        assert_eq!(got, want.into_iter().map(|(_, i)| i).collect::<Vec<_>>());
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn million_timers_in_one_tick() {
        let mut w = TimerWheel::new();
        for i in 0..1_000_000u32 {
            w.insert(123_456_789, i);
        }
        assert_eq!(w.next_deadline(), Some(123_456_789));
        let mut out = Vec::new();
        w.drain_due(123_456_788, &mut out);
        assert!(out.is_empty());
        w.drain_due(123_456_789, &mut out);
        assert!(out.iter().copied().eq(0..1_000_000));
        assert!(w.is_empty());
    }

    #[test]
    fn next_deadline_is_exact() {
        let mut w = TimerWheel::new();
        assert_eq!(w.next_deadline(), None);
        let a = w.insert(1000, ()); // level 1, slot starting at 960
        w.insert(1500, ());
        assert_eq!(w.next_deadline(), Some(1000));
        w.remove(a);
        assert_eq!(w.next_deadline(), Some(1500));
        w.insert(70, ());
        assert_eq!(w.next_deadline(), Some(70));
        drain(&mut w, 1400);
        assert_eq!(w.next_deadline(), Some(1500));
        drain(&mut w, 1500);
        let far = (1u64 << 40) + 12_345;
        w.insert(far + 1, ());
        w.insert(far, ());
        assert_eq!(w.next_deadline(), Some(far));
        drain(&mut w, far - 1);
        assert_eq!(w.next_deadline(), Some(far));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(When),
        Remove(usize),
        Drain(When),
    }

    /// A time relative to the model's elapsed time.
    #[derive(Debug, Clone)]
    enum When {
        Ahead(u64),
        Past(u64),
        Max,
        NearMax(u64),
    }

    fn when(far_weight: u32) -> impl Strategy<Value = When> {
        prop_oneof![
            4 => (0u64..64).prop_map(When::Ahead),
            4 => (0u64..5000).prop_map(When::Ahead),
            far_weight => (0u64..1 << 40).prop_map(When::Ahead),
            1 => (0u64..5000).prop_map(When::Past),
            1 => Just(When::Max),
            1 => (0u64..5000).prop_map(When::NearMax),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => when(3).prop_map(Op::Insert),
            2 => any::<usize>().prop_map(Op::Remove),
            3 => when(1).prop_map(Op::Drain),
        ]
    }

    fn run(ops: Vec<Op>) {
        let mut w = TimerWheel::new();
        let mut model = BTreeSet::<(u64, usize)>::new();
        let mut keys = Vec::<(TimerKey, u64)>::new(); // value of timer i is i
        let mut elapsed = 0u64;
        for op in ops {
            let at = |when: &When| match *when {
                When::Ahead(x) => elapsed.saturating_add(x),
                When::Past(x) => elapsed.saturating_sub(x),
                When::Max => u64::MAX,
                When::NearMax(x) => u64::MAX - x,
            };
            match op {
                Op::Insert(when) => {
                    let d = at(&when);
                    model.insert((d, keys.len()));
                    keys.push((w.insert(d, keys.len()), d));
                }
                Op::Remove(i) if !keys.is_empty() => {
                    let i = i % keys.len();
                    let (key, d) = keys[i];
                    let live = model.remove(&(d, i));
                    assert_eq!(w.deadline(key), live.then_some(d));
                    assert_eq!(w.get_mut(key).copied(), live.then_some(i));
                    assert_eq!(w.remove(key), live.then_some(i));
                }
                Op::Remove(_) => {}
                Op::Drain(when) => {
                    let now = at(&when);
                    let later = match now.checked_add(1) {
                        Some(n) => model.split_off(&(n, 0)),
                        None => BTreeSet::new(),
                    };
                    let want: Vec<usize> = model.into_iter().map(|(_, i)| i).collect();
                    model = later;
                    assert_eq!(drain(&mut w, now), want);
                    elapsed = elapsed.max(now);
                }
            }
            w.check_invariants();
            assert_eq!(w.len(), model.len());
            assert_eq!(w.next_deadline(), model.first().map(|&(d, _)| d));
        }
    }

    proptest! {
        // 256 cases; 2 under Miri (each takes it some 9 s to interpret).
        #![proptest_config(crate::time::property_config(256, 2))]
        #[test]
        fn matches_reference_model(ops in prop::collection::vec(op(), 1..300)) {
            run(ops);
        }
    }
}
