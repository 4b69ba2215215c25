//! Word-level resources embedded in the model: distributional word clusters with casing
//! statistics, and gazetteer phrases.
//!
//! Both are derived at training time (see `derive.rs`) from unlabelled news text and the fact
//! lists in `shared/data/gazetteer/`, and stored in the model file, so a model is self-contained.
//! Keys are hashes of lowercased words/phrases ([`word_key`]), never the text itself.

use super::table::U64Map;

/// Seed of every persisted word/phrase hash; changing it invalidates models.
const WORD_SEED: u64 = 0x6e65_7773_6d69_6c6c; // "newsmill"

/// Number of cluster granularities per word (coarse to fine).
pub(crate) const N_CLUSTER_LEVELS: usize = 3;

/// How a word is usually written in running text (not sentence-initial, not in headlines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum CaseClass {
    /// Not enough evidence.
    Unknown = 0,
    /// Almost always lowercase: a common word.
    Lower = 1,
    /// Almost always capitalised: likely a name.
    Title = 2,
    /// Almost always all caps: an acronym.
    Upper = 3,
    /// Seen both ways.
    Mixed = 4,
}

impl CaseClass {
    pub(crate) fn from_u8(v: u8) -> CaseClass {
        match v {
            1 => CaseClass::Lower,
            2 => CaseClass::Title,
            3 => CaseClass::Upper,
            4 => CaseClass::Mixed,
            _ => CaseClass::Unknown,
        }
    }
}

/// What the lexicon knows about one lowercased word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LexEntry {
    /// Cluster ids, coarse to fine (`u16::MAX` = none).
    pub(crate) clusters: [u16; N_CLUSTER_LEVELS],
    /// Usual casing.
    pub(crate) case: CaseClass,
}

/// Word clusters and casing keyed by lowercased word.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lexicon {
    pub(crate) map: U64Map,
    pub(crate) entries: Vec<LexEntry>,
}

impl Lexicon {
    /// Adds a word (by key); later additions of the same key win.
    pub(crate) fn insert(&mut self, key: u64, e: LexEntry) {
        let idx = self.entries.len() as u32;
        self.entries.push(e);
        self.map.insert(key, idx);
    }

    /// Entry for a lowercased word key.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<&LexEntry> {
        self.map.get(key).and_then(|i| self.entries.get(i as usize))
    }
}

/// Gazetteer categories, one bit each.
pub(crate) const GAZ_CATEGORIES: [&str; 7] = [
    "country",
    "demonym",
    "city",
    "big_city",
    "region",
    "continent",
    "capital",
];

/// Phrases (1..=`max_len` tokens, lowercased, joined by single spaces) to a category bit set.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gazetteer {
    pub(crate) map: U64Map,
    pub(crate) max_len: usize,
}

impl Gazetteer {
    /// Adds `bits` to a phrase's categories.
    pub(crate) fn add(&mut self, key: u64, bits: u32, n_tokens: usize) {
        let old = self.map.get(key).unwrap_or(0);
        self.map.insert(key, old | bits);
        self.max_len = self.max_len.max(n_tokens);
    }
}

/// Hash of a lowercased word (callers lowercase).
#[inline]
pub(crate) fn word_key(lower: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(lower.as_bytes(), WORD_SEED)
}

/// Extends a phrase key with the next lowercased token (phrase keys are chained word keys, so
/// matching never builds strings).
#[inline]
pub(crate) fn phrase_extend(prefix: u64, next_word_key: u64) -> u64 {
    let x = (prefix ^ next_word_key.rotate_left(17)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    x ^ (x >> 32)
}

/// Key of a phrase given as its lowercased tokens.
pub(crate) fn phrase_key<S: AsRef<str>>(tokens: &[S]) -> u64 {
    let mut k = 0u64;
    for (i, t) in tokens.iter().enumerate() {
        let w = word_key(t.as_ref());
        k = if i == 0 { w } else { phrase_extend(k, w) };
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrase_key_matches_incremental() {
        let k = phrase_key(&["new", "york"]);
        assert_eq!(k, phrase_extend(word_key("new"), word_key("york")));
        assert_ne!(k, phrase_key(&["york", "new"]));
    }

    #[test]
    fn gazetteer_merges_bits() {
        let mut g = Gazetteer::default();
        g.add(phrase_key(&["georgia"]), 1, 1);
        g.add(phrase_key(&["georgia"]), 4, 1);
        assert_eq!(g.map.get(phrase_key(&["georgia"])), Some(5));
    }
}
