//! A read-mostly open-addressing map from 64-bit hashes to `u32` values.
//!
//! Why not `HashMap`: keys are already well-mixed 64-bit hashes, so hashing them again is wasted
//! time on the hot tagging path, and a flat power-of-two table with linear probing keeps lookups to
//! one or two cache lines. Key 0 marks an empty slot; [`fix_key`] maps a real 0 hash elsewhere.

/// Maps a hash to a non-zero key (0 is the empty-slot marker).
#[inline]
pub(crate) fn fix_key(h: u64) -> u64 {
    if h == 0 {
        0x9E37_79B9_7F4A_7C15
    } else {
        h
    }
}

pub(crate) use crate::util::prefetch;

/// Open-addressing hash table `u64 -> u32`, load factor ≤ 0.5.
#[derive(Debug, Clone, Default)]
pub(crate) struct U64Map {
    /// `(key, value)` interleaved so a lookup touches one cache line, not two.
    slots: Vec<(u64, u32)>,
    shift: u32,
    len: usize,
}

impl U64Map {
    /// An empty table sized for `n` entries.
    pub(crate) fn with_capacity(n: usize) -> Self {
        let cap = (n.max(4) * 2).next_power_of_two();
        U64Map {
            slots: vec![(0, 0); cap],
            shift: 64 - cap.trailing_zeros(),
            len: 0,
        }
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn slot(&self, key: u64) -> usize {
        crate::util::fib_slot(key, self.shift)
    }

    /// Inserts or overwrites `key`.
    pub(crate) fn insert(&mut self, key: u64, val: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let key = fix_key(key);
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            if self.slots[i].0 == 0 {
                self.slots[i] = (key, val);
                self.len += 1;
                return;
            }
            if self.slots[i].0 == key {
                self.slots[i].1 = val;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Hints the CPU to fetch `key`'s home slot (see [`prefetch`]).
    #[inline]
    pub(crate) fn prefetch(&self, key: u64) {
        if !self.slots.is_empty() {
            prefetch(&self.slots[self.slot(fix_key(key))]);
        }
    }

    /// Value stored for `key`.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let key = fix_key(key);
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let (k, v) = self.slots[i];
            if k == key {
                return Some(v);
            }
            if k == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let old = std::mem::take(self);
        *self = U64Map::with_capacity(old.len.max(4) * 2);
        for &(k, v) in &old.slots {
            if k != 0 {
                self.insert(k, v);
            }
        }
    }

    /// The keys, in slot order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().map(|(k, _)| *k).filter(|k| *k != 0)
    }

    /// Entries sorted by key (deterministic serialisation order).
    pub(crate) fn sorted_entries(&self) -> Vec<(u64, u32)> {
        let mut v: Vec<(u64, u32)> = self
            .slots
            .iter()
            .filter(|(k, _)| *k != 0)
            .copied()
            .collect();
        v.sort_unstable();
        v
    }
}

/// Read-only, compact variant for the tagging hot path: each 8-byte slot packs a 32-bit key
/// fingerprint and the value, so the table is half the size of [`U64Map`] and more of it stays
/// in cache. A false match needs a 32-bit fingerprint collision at the probed slot (about 1 in
/// 4·10⁹ lookups of an absent key) and merely adds one unrelated weight row; it is
/// deterministic like everything else.
#[derive(Debug, Clone, Default)]
pub(crate) struct FpMap {
    slots: Vec<u64>,
    shift: u32,
}

impl FpMap {
    /// Builds the table from `(key, value)` pairs; values must be below `u32::MAX`.
    pub(crate) fn new(entries: &[(u64, u32)]) -> Self {
        let cap = (entries.len().max(4) * 2).next_power_of_two();
        let mut m = FpMap {
            slots: vec![0; cap],
            shift: 64 - cap.trailing_zeros(),
        };
        let mask = cap - 1;
        for &(k, v) in entries {
            let k = fix_key(k);
            let packed = (u64::from(k as u32) << 32) | (u64::from(v) + 1);
            let mut i = m.slot(k);
            while m.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            m.slots[i] = packed;
        }
        m
    }

    #[inline]
    fn slot(&self, key: u64) -> usize {
        crate::util::fib_slot(key, self.shift)
    }

    /// Asks the CPU to start loading `key`'s first slot: the table is larger than the L2
    /// cache, and a tagged document's lookups are known before any is needed.
    #[inline]
    pub(crate) fn prefetch(&self, key: u64) {
        if !self.slots.is_empty() {
            prefetch(&self.slots[self.slot(fix_key(key))]);
        }
    }

    /// Value stored for `key` (or for a key sharing its fingerprint and probe chain).
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let key = fix_key(key);
        let fp = key as u32;
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if (s >> 32) as u32 == fp {
                return Some((s as u32).wrapping_sub(1));
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_grow() {
        let mut m = U64Map::with_capacity(2);
        for i in 0..1000u64 {
            m.insert(i.wrapping_mul(7919), i as u32);
        }
        assert_eq!(m.len(), 1000);
        assert_eq!(m.get(7919 * 5), Some(5));
        assert_eq!(m.get(0), Some(0));
        assert_eq!(m.get(3), None);
        m.insert(7919 * 5, 42);
        assert_eq!(m.get(7919 * 5), Some(42));
        assert_eq!(m.sorted_entries().len(), 1000);
        let f = FpMap::new(&m.sorted_entries());
        assert_eq!(f.get(7919 * 5), Some(42));
        assert_eq!(f.get(7919 * 999), Some(999));
        assert_eq!(f.get(0), Some(0));
        assert_eq!(f.get(3), None);
    }
}
