//! The loop's maps keyed by its own integers (port ids, timer durations):
//! a `HashMap` with Fibonacci hashing, one multiplication per lookup.
//!
//! The keys are counters and small numbers the loop chose, not keys an
//! attacker picks, so SipHash's flood resistance buys nothing here; it cost
//! a fifth of a port message's delivery and more than the rest of a
//! `set_timeout`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` from the loop's `u64` keys.
pub(crate) type IntMap<V> = HashMap<u64, V, BuildHasherDefault<IntHasher>>;

/// Fibonacci hashing of a `u64` key.
#[derive(Default)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    /// The trait's general case; the maps only hash `u64` keys.
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(byte));
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
