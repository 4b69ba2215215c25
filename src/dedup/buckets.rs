//! One LSH band's buckets: band key → the most recently added document with that key.
//!
//! An open-addressing table of `(key, doc)` pairs rather than a general hash map, because a
//! document is added to every band at once (64 bands by default) and each band's table is
//! large and cold: [`BandMap::prefetch`] lets the caller start fetching all of a document's
//! slots before inserting into any of them, so the misses overlap instead of following one
//! another.

/// Marks an empty slot (document numbers stay below it: the index counts them in `u32`).
const EMPTY: u32 = u32::MAX;

/// The band table. Linear probing over a power-of-two slot array at most 3/4 full: about the
/// bytes per entry of a SwissTable (8 per slot, no control bytes).
#[derive(Debug, Clone, Default)]
pub(crate) struct BandMap {
    /// `(key, doc)`; `doc == EMPTY` marks a free slot.
    slots: Vec<(u32, u32)>,
    len: usize,
}

impl BandMap {
    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of the slot array.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<(u32, u32)>()
    }

    #[inline]
    fn home(&self, key: u32) -> usize {
        let bits = self.slots.len().trailing_zeros();
        crate::util::fib_slot(u64::from(key), 64 - bits)
    }

    /// Hints the CPU to fetch `key`'s home slot; changes nothing.
    #[inline]
    pub(crate) fn prefetch(&self, key: u32) {
        if self.slots.len() > 1 {
            crate::util::prefetch(&self.slots[self.home(key)]);
        }
    }

    /// Sets `key`'s document to `doc` (not [`EMPTY`]) and returns the one it replaces.
    pub(crate) fn insert(&mut self, key: u32, doc: u32) -> Option<u32> {
        debug_assert_ne!(doc, EMPTY);
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let (k, d) = self.slots[i];
            if d == EMPTY {
                self.slots[i] = (key, doc);
                self.len += 1;
                return None;
            }
            if k == key {
                self.slots[i].1 = doc;
                return Some(d);
            }
            i = (i + 1) & mask;
        }
    }

    /// The document stored for `key`.
    #[cfg(test)]
    pub(crate) fn get(&self, key: u32) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let (k, d) = self.slots[i];
            if d == EMPTY {
                return None;
            }
            if k == key {
                return Some(d);
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![(0, EMPTY); cap]);
        self.len = 0;
        for (k, d) in old {
            if d != EMPTY {
                self.insert(k, d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn behaves_like_a_hash_map() {
        let mut m = BandMap::default();
        let mut want: HashMap<u32, u32> = HashMap::new();
        assert_eq!(m.get(7), None);
        let mut x = 0x9E37_79B9u32;
        for doc in 0..50_000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            // Few distinct keys early (replacements), then mostly new ones; key 0 included.
            let key = if doc < 2_000 { x % 300 } else { x };
            m.prefetch(key);
            assert_eq!(m.insert(key, doc), want.insert(key, doc), "doc {doc}");
        }
        assert_eq!(m.len(), want.len());
        for (&k, &d) in &want {
            assert_eq!(m.get(k), Some(d));
        }
        assert!(m.heap_bytes() <= 16 * want.len().next_power_of_two());
    }
}
