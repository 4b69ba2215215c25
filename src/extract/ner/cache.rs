//! Per-thread cache of each word's atoms and word-level weight sums.
//!
//! Why: about two thirds of a token's features (the word, the lowercase and shape window,
//! affixes, clusters) depend on a single word of its ±2 window, and news vocabulary is
//! Zipfian. Summing those weight rows once per word and offset, and reusing the sums across
//! documents, replaces some 25 scattered table lookups per token with five vector additions.
//! The sums are integers (the model's `i16` weights added in `i32`), so scores are
//! bit-identical to resolving every feature; the cache changes speed, never output.
//!
//! Memory is bounded: once the next document could take the cache past [`CAPACITY`] words
//! (~27 MB per thread), it keeps only the words looked up most often since they were added
//! (at most [`KEEP`] of them; their counts are halved so that old favourites can age out) and
//! forgets the rest. Emptying it outright would throw away the common words that make it pay,
//! and a corpus's vocabulary passes the capacity again and again (Reuters-21578 alone has
//! ~48k distinct tokens). A document with more distinct words than the capacity only holds its
//! own words until the next document shrinks the cache back.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::features::{
    token_atoms, type_features, IdHasher, Resources, Scratch, TokenAtoms, WINDOW,
};
use super::model::{Acc, Joint, NT};

/// Words held at most between documents (~830 bytes each). In Reuters-21578 the 32k most
/// frequent of ~48k distinct tokens make 99.5% of running text, so a larger cache would add
/// memory for few extra hits.
pub(crate) const CAPACITY: usize = 1 << 15;

/// One cached word: its context-free atoms and, per window offset `d` (index `d + 2`), the
/// summed weights of the features it gives a position `d` tokens away.
#[derive(Debug, Clone)]
pub(crate) struct WordEntry {
    pub(crate) atoms: TokenAtoms,
    pub(crate) sums: [Acc; 5],
}

/// Where a word's entry is, and how often it was looked up.
#[derive(Debug, Clone, Copy)]
struct Slot {
    entry: u32,
    uses: u32,
}

/// The cache of one thread (see the module docs).
#[derive(Debug)]
pub(crate) struct WordCache {
    /// Words held at most between documents ([`CAPACITY`] but in tests).
    capacity: usize,
    /// Identity of the model the sums were computed with (0 = none yet).
    model: u64,
    /// Word key → its entry and how often it was looked up (halved at each eviction). The
    /// count sits beside the entry index, in the slot a lookup reads anyway (a separate array
    /// cost a cache miss per token). 64-bit keys keep the table small enough for L2; a new word
    /// matching one of the 32k held keys has odds of 2e-15.
    index: HashMap<u64, Slot, BuildHasherDefault<IdHasher>>,
    pub(crate) entries: Vec<WordEntry>,
    /// Sums for window offsets outside the sentence (index `d + 2`; index 2 stays zero).
    pub(crate) boundary: [Acc; 5],
    scratch: Scratch,
    feats: Vec<u64>,
    rows: Vec<u32>,
}

impl Default for WordCache {
    fn default() -> Self {
        WordCache::with_capacity(CAPACITY)
    }
}

impl WordCache {
    /// A cache holding at most `capacity` words between documents.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        WordCache {
            capacity,
            model: 0,
            index: HashMap::default(),
            entries: Vec::new(),
            boundary: Default::default(),
            scratch: Scratch::default(),
            feats: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// Makes room for a document of `n_tokens` tokens tagged with model `model`: a cache built
    /// for another model is emptied, one that could grow past its capacity evicts (or, when
    /// even the kept half leaves too little room, is emptied). Entry
    /// indexes stay valid until the next call.
    pub(crate) fn begin(&mut self, model: u64, joint: &Joint, n_tokens: usize) {
        if self.model != model {
            self.clear();
            self.model = model;
            // The whole capacity at once (address space only: pages are touched as entries
            // fill): growing by doubling copied the entries and faulted their pages in twice.
            self.entries.reserve_exact(self.capacity);
            self.index.reserve(self.capacity);
            for (k, &d) in WINDOW.iter().enumerate() {
                self.feats.clear();
                type_features(None, d, &mut self.feats);
                self.boundary[k] = sum(joint, &self.feats, &mut self.rows);
            }
        } else if self.entries.len() + n_tokens > self.capacity {
            if self.entries.len() <= self.capacity && self.keep() + n_tokens <= self.capacity {
                self.evict();
            } else {
                self.clear();
            }
        }
    }

    fn clear(&mut self) {
        self.index.clear();
        self.entries.clear();
        // After an unusually large document, give its memory back.
        self.index.shrink_to(self.capacity);
        self.entries.shrink_to(self.capacity);
    }

    /// Words an eviction keeps: half the capacity, so a full cache is evicted at most once
    /// per `capacity / 2` new words.
    fn keep(&self) -> usize {
        self.capacity / 2
    }

    /// Keeps the [`WordCache::keep`] most used words (ties: the earlier added), halving
    /// their counts.
    fn evict(&mut self) {
        let mut kept: Vec<(u64, Slot)> = self.index.drain().collect();
        kept.sort_unstable_by_key(|(_, s)| (std::cmp::Reverse(s.uses), s.entry));
        kept.truncate(self.keep());
        kept.sort_unstable_by_key(|(_, s)| s.entry);
        for (new, (key, slot)) in kept.iter().enumerate() {
            self.entries.swap(new, slot.entry as usize);
            let slot = Slot {
                entry: new as u32,
                uses: slot.uses / 2,
            };
            self.index.insert(*key, slot);
        }
        self.entries.truncate(kept.len());
    }

    /// Prefetches entry `e`'s atoms (see [`super::table::prefetch`]).
    #[inline(always)]
    pub(crate) fn prefetch_atoms(&self, e: usize) {
        if let Some(x) = self.entries.get(e) {
            let p = (&x.atoms as *const TokenAtoms).cast::<u8>();
            for off in (0..std::mem::size_of::<TokenAtoms>()).step_by(64) {
                // SAFETY: `off` is within the atoms, so the pointer stays inside `x`.
                super::table::prefetch(unsafe { &*p.add(off) });
            }
        }
    }

    /// Prefetches entry `e`'s sums (see [`super::table::prefetch`]).
    #[inline(always)]
    pub(crate) fn prefetch_sums(&self, e: usize) {
        if let Some(x) = self.entries.get(e) {
            let p = x.sums.as_ptr().cast::<u8>();
            for off in (0..std::mem::size_of::<[Acc; 5]>()).step_by(64) {
                // SAFETY: `off` is within the sums, so the pointer stays inside `x`.
                super::table::prefetch(unsafe { &*p.add(off) });
            }
        }
    }

    /// Index of `tok`'s entry, computing it on first sight.
    pub(crate) fn entry(&mut self, res: &Resources, joint: &Joint, tok: &str) -> u32 {
        let key = xxhash_rust::xxh3::xxh3_64(tok.as_bytes());
        if let Some(slot) = self.index.get_mut(&key) {
            slot.uses = slot.uses.saturating_add(1);
            return slot.entry;
        }
        let atoms = token_atoms(res, tok, &mut self.scratch);
        // All five offsets' features first, their table slots prefetched together, then
        // their weight rows: a new word's ~25 lookups land all over tables larger than L2,
        // and resolving offset by offset waited on each miss in turn. Same rows, same sums.
        self.feats.clear();
        let mut feat_ends = [0; 5];
        for (k, &d) in WINDOW.iter().enumerate() {
            type_features(Some(&atoms), d, &mut self.feats);
            feat_ends[k] = self.feats.len();
        }
        for &f in &self.feats {
            joint.prefetch_feature(f);
        }
        self.rows.clear();
        let mut row_ends = [0; 5];
        let mut from = 0;
        for (k, &end) in feat_ends.iter().enumerate() {
            joint.resolve(&self.feats[from..end], &mut self.rows);
            row_ends[k] = self.rows.len();
            from = end;
        }
        for &r in &self.rows {
            joint.prefetch_row(r);
        }
        let mut sums = [[[0; NT]; 2]; 5];
        let mut from = 0;
        for (k, &end) in row_ends.iter().enumerate() {
            sums[k] = sum_rows(joint, &self.rows[from..end]);
            from = end;
        }
        let e = self.entries.len() as u32;
        self.entries.push(WordEntry { atoms, sums });
        self.index.insert(key, Slot { entry: e, uses: 0 });
        e
    }
}

/// Both stages' summed weights of `feats`.
fn sum(joint: &Joint, feats: &[u64], rows: &mut Vec<u32>) -> Acc {
    rows.clear();
    joint.resolve(feats, rows);
    sum_rows(joint, rows)
}

/// Both stages' summed weights of resolved `rows`. Not inlined into the caller's loop over
/// offsets: there the additions compiled to scalar code (+1% of a run's instructions).
#[inline(never)]
fn sum_rows(joint: &Joint, rows: &[u32]) -> Acc {
    let mut a: Acc = [[0; NT]; 2];
    joint.accumulate(rows, &mut a, false);
    a
}

/// `a += b`, both stages.
#[inline(always)]
pub(crate) fn add(a: &mut Acc, b: &Acc) {
    for (x, y) in a.iter_mut().zip(b) {
        for (p, q) in x.iter_mut().zip(y) {
            *p += *q;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::ner::model::ModelData;

    fn joint() -> (ModelData, Joint) {
        let mut data = ModelData::default();
        data.stage1.prepare();
        data.stage2.prepare();
        let joint = Joint::new(&data.stage1, &data.stage2);
        (data, joint)
    }

    #[test]
    fn eviction_keeps_the_most_used_words() {
        let (data, joint) = joint();
        let mut cache = WordCache::with_capacity(8);
        cache.begin(1, &joint, 6);
        for w in ["the", "of", "a", "x1", "x2", "x3"] {
            cache.entry(&data.res, &joint, w);
        }
        for _ in 0..3 {
            cache.entry(&data.res, &joint, "the");
            cache.entry(&data.res, &joint, "of");
        }
        cache.entry(&data.res, &joint, "a");
        // 6 held + 4 coming > 8: keep the 4 most used, in the order they were added.
        cache.begin(1, &joint, 4);
        assert_eq!(cache.entries.len(), 4);
        let kept: Vec<u32> = ["the", "of", "a", "x1"]
            .iter()
            .map(|w| cache.entry(&data.res, &joint, w))
            .collect();
        assert_eq!(kept, [0, 1, 2, 3], "kept words are found, not recomputed");
        assert_eq!(cache.entries.len(), 4);
        let the = xxhash_rust::xxh3::xxh3_64(b"the");
        assert_eq!(
            cache.index[&the].uses,
            1 + 1,
            "counts halve at eviction (3 / 2), then count on"
        );
    }

    #[test]
    fn a_document_larger_than_half_the_cache_starts_it_afresh() {
        let (data, joint) = joint();
        let mut cache = WordCache::with_capacity(8);
        cache.begin(1, &joint, 3);
        for w in ["a", "b", "c"] {
            cache.entry(&data.res, &joint, w);
        }
        // 3 + 5 fit.
        cache.begin(1, &joint, 5);
        assert_eq!(cache.entries.len(), 3);
        // 3 + 6 do not, and neither do the kept half (4) + 6.
        cache.begin(1, &joint, 6);
        assert!(cache.entries.is_empty());
        // A new model never reuses sums.
        cache.entry(&data.res, &joint, "a");
        cache.begin(2, &joint, 1);
        assert!(cache.entries.is_empty());
    }
}
