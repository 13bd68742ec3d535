//! Listeners in registration order, each removable by the key it got when
//! added: a promise's reactions and awaiters, an abort signal's listeners.
//!
//! JavaScript runs both in the order they were added, so the order is part
//! of the contract. Keys only grow, which keeps the list sorted by key: a
//! removal is a binary search that leaves a hole, and holes are swept out
//! once they make up half the list (amortized O(log n) per removal, where a
//! plain `Vec::remove` would be O(n)).

/// The key an added listener is known by; later keys are greater.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) struct ListenerKey(u64);

/// Listeners in the order they were added.
pub(crate) struct Listeners<T> {
    entries: Vec<(ListenerKey, Option<T>)>,
    holes: usize,
    next_key: u64,
}

/// Sweeping a few holes is not worth a pass over the list.
const MIN_HOLES_TO_SWEEP: usize = 16;

impl<T> Listeners<T> {
    pub(crate) const fn new() -> Self {
        Listeners { entries: Vec::new(), holes: 0, next_key: 0 }
    }

    /// Adds `listener` after every listener already there.
    pub(crate) fn add(&mut self, listener: T) -> ListenerKey {
        let key = ListenerKey(self.next_key);
        self.next_key += 1;
        self.entries.push((key, Some(listener)));
        key
    }

    fn position(&self, key: ListenerKey) -> Option<usize> {
        self.entries.binary_search_by_key(&key.0, |(k, _)| k.0).ok()
    }

    /// The listener added under `key`, if it is still there.
    pub(crate) fn get_mut(&mut self, key: ListenerKey) -> Option<&mut T> {
        let index = self.position(key)?;
        self.entries[index].1.as_mut()
    }

    /// Takes out the listener added under `key`, if it is still there.
    pub(crate) fn remove(&mut self, key: ListenerKey) -> Option<T> {
        let index = self.position(key)?;
        let listener = self.entries[index].1.take()?;
        self.holes += 1;
        if self.holes >= MIN_HOLES_TO_SWEEP && self.holes * 2 >= self.entries.len() {
            self.entries.retain(|(_, listener)| listener.is_some());
            self.holes = 0;
        }
        Some(listener)
    }

    /// Whether no listener is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.len() == self.holes
    }

    /// The keys of the listeners present, in the order they were added.
    pub(crate) fn keys(&self) -> impl Iterator<Item = ListenerKey> + '_ {
        self.entries.iter().filter(|(_, listener)| listener.is_some()).map(|(key, _)| *key)
    }

    /// The listeners present, in the order they were added.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().filter_map(|(_, listener)| listener.as_ref())
    }

    /// Takes out every entry, in key order, removed ones as `None`, and
    /// goes on in `spare` (emptied first; its capacity is what it keeps):
    /// for a caller that runs the entries one by one and may still take
    /// one out by key meanwhile (the frame phase, `src/frame.rs`). Keys
    /// keep growing, so the entries taken out are all below the next key.
    pub(crate) fn replace_entries(
        &mut self,
        mut spare: Vec<(ListenerKey, Option<T>)>,
    ) -> Vec<(ListenerKey, Option<T>)> {
        spare.clear();
        self.holes = 0;
        std::mem::replace(&mut self.entries, spare)
    }

    /// Takes out every listener, in the order they were added.
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = T> + use<T> {
        self.holes = 0;
        std::mem::take(&mut self.entries).into_iter().filter_map(|(_, listener)| listener)
    }
}

impl<T> Default for Listeners<T> {
    fn default() -> Self {
        Listeners::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Listeners;

    #[test]
    fn removal_keeps_the_order_of_the_rest() {
        let mut listeners = Listeners::new();
        let keys: Vec<_> = (0..100).map(|i| listeners.add(i)).collect();
        for key in keys.iter().step_by(3) {
            assert!(listeners.remove(*key).is_some());
            assert!(listeners.remove(*key).is_none(), "a key is removed once");
        }
        assert_eq!(listeners.get_mut(keys[1]), Some(&mut 1));
        assert_eq!(listeners.get_mut(keys[0]), None);
        let rest: Vec<_> = listeners.take_all().collect();
        let expected: Vec<_> = (0..100).filter(|i| i % 3 != 0).collect();
        assert_eq!(rest, expected);
        // Keys keep growing after a `take_all`: an old key finds nothing.
        let new_key = listeners.add(7);
        assert_eq!(listeners.remove(keys[5]), None);
        assert_eq!(listeners.remove(new_key), Some(7));
    }
}
