//! Per-thread cache of each word's atoms and word-level weight sums.
//!
//! Why: about two thirds of a token's features (the word, the lowercase and shape window,
//! affixes, clusters) depend on a single word of its ±2 window, and news vocabulary is
//! Zipfian. Summing those weight rows once per word and offset, and reusing the sums across
//! documents, replaces some 25 scattered table lookups per token with five vector additions.
//! The sums are integers (the model's `i16` weights added in `i32`), so scores are
//! bit-identical to resolving every feature; the cache changes speed, never output.
//!
//! Memory is bounded: the cache is emptied between documents once it would pass
//! [`CAPACITY`] words (~27 MB per thread), and a document with more distinct words than that
//! only holds its own words until the next document shrinks the cache back.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::features::{
    token_atoms, type_features, IdHasher, Resources, Scratch, TokenAtoms, WINDOW,
};
use super::model::{Acc, Joint, NT};

/// Words kept before the cache is emptied (~830 bytes each). Reuters-21578 has ~40k
/// distinct tokens, and the most frequent 32k cover nearly all running text, so a larger
/// cache would add memory for few extra hits.
pub(crate) const CAPACITY: usize = 1 << 15;

/// One cached word: its context-free atoms and, per window offset `d` (index `d + 2`), the
/// summed weights of the features it gives a position `d` tokens away.
#[derive(Debug, Clone)]
pub(crate) struct WordEntry {
    pub(crate) atoms: TokenAtoms,
    pub(crate) sums: [Acc; 5],
}

/// The cache of one thread (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct WordCache {
    /// Identity of the model the sums were computed with (0 = none yet).
    model: u64,
    index: HashMap<u128, u32, BuildHasherDefault<IdHasher>>,
    pub(crate) entries: Vec<WordEntry>,
    /// Sums for window offsets outside the sentence (index `d + 2`; index 2 stays zero).
    pub(crate) boundary: [Acc; 5],
    scratch: Scratch,
    feats: Vec<u64>,
    rows: Vec<u32>,
}

impl WordCache {
    /// Makes room for a document of `n_tokens` tokens tagged with model `model`: a cache built
    /// for another model, or one that would grow past [`CAPACITY`], is emptied first. Entry
    /// indexes stay valid until the next call.
    pub(crate) fn begin(&mut self, model: u64, joint: &Joint, n_tokens: usize) {
        if self.model != model {
            self.clear();
            self.model = model;
            for (k, &d) in WINDOW.iter().enumerate() {
                self.feats.clear();
                type_features(None, d, &mut self.feats);
                self.boundary[k] = sum(joint, &self.feats, &mut self.rows);
            }
        } else if self.entries.len() + n_tokens > CAPACITY || self.entries.len() > CAPACITY {
            self.clear();
        }
    }

    fn clear(&mut self) {
        self.index.clear();
        self.entries.clear();
        // After an unusually large document, give its memory back.
        self.index.shrink_to(CAPACITY);
        self.entries.shrink_to(CAPACITY);
    }

    /// Index of `tok`'s entry, computing it on first sight.
    pub(crate) fn entry(&mut self, res: &Resources, joint: &Joint, tok: &str) -> u32 {
        let key = xxhash_rust::xxh3::xxh3_128(tok.as_bytes());
        if let Some(&e) = self.index.get(&key) {
            return e;
        }
        let atoms = token_atoms(res, tok, &mut self.scratch);
        let mut sums = [[[0; NT]; 2]; 5];
        for (k, &d) in WINDOW.iter().enumerate() {
            self.feats.clear();
            type_features(Some(&atoms), d, &mut self.feats);
            sums[k] = sum(joint, &self.feats, &mut self.rows);
        }
        let e = self.entries.len() as u32;
        self.entries.push(WordEntry { atoms, sums });
        self.index.insert(key, e);
        e
    }
}

/// Both stages' summed weights of `feats`.
fn sum(joint: &Joint, feats: &[u64], rows: &mut Vec<u32>) -> Acc {
    rows.clear();
    joint.resolve(feats, rows);
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
