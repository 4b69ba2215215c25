//! `[dedup]` configuration section: what counts as a duplicate and which copy survives.
//!
//! Defaults were tuned on the labelled Reuters near-duplicate dev set (see the constants in
//! this file for the figures); every field can be overridden in `pipeline.toml`.

use serde::{Deserialize, Serialize};

/// Default word n-gram size. 5-grams are the usual choice for news: short enough to survive
/// typo-level word edits, long enough that two different stories rarely share many.
pub const DEFAULT_SHINGLE_WORDS: u32 = 5;
/// Default number of MinHash functions; 128 gives a Jaccard estimate with standard error
/// <= 0.045 while keeping signatures at 256 bytes per doc in the index.
pub const DEFAULT_NUM_HASHES: u32 = 128;
/// Default LSH bands. 64 x 2 puts the LSH S-curve midpoint near Jaccard 0.13: a copy
/// truncated to 25% of its source (Jaccard ~0.2-0.25, containment ~1) is still a candidate
/// with probability >= 0.93. Candidates are then verified, so precision is set by the
/// thresholds, not by the banding. On the Reuters dev set 32 x 4 lost 4 points of pair
/// recall (mostly truncations) for no precision gain.
pub const DEFAULT_BANDS: u32 = 64;
/// Default rows per band (`bands * rows == num_hashes`).
pub const DEFAULT_ROWS: u32 = 2;
/// Default Jaccard acceptance threshold for verified candidates (see the field docs).
pub const DEFAULT_JACCARD_THRESHOLD: f32 = 0.5;
/// Default containment acceptance threshold (|A∩B| / min(|A|,|B|), estimated). On the
/// Reuters dev set true copies have containment p10 0.70 and hard negatives (shared site
/// boilerplate, wire templates) p90 0.48; 0.6 sits between, and the estimate must clear it
/// by `containment_margin_se` standard errors.
pub const DEFAULT_CONTAINMENT_THRESHOLD: f32 = 0.6;
/// Default minimum size ratio min(|A|,|B|)/max(|A|,|B|) for a containment-only match:
/// below ~0.2 the estimate J(|A|+|B|)/((1+J)min) amplifies MinHash error too much.
pub const DEFAULT_MIN_SIZE_RATIO: f32 = 0.2;
/// Default safety margin of the containment test, in standard errors of the estimate. The
/// estimate's error grows as the size ratio falls (a short doc vs a long one); without the
/// margin, pair precision on the raw dev text ranged 0.70-0.999 across hash seeds (short
/// docs sharing site boilerplate with many others cross the threshold by chance).
pub const DEFAULT_CONTAINMENT_MARGIN_SE: f32 = 1.0;
/// Default number of distinct clusters that makes an LSH bucket "crowded" (see field docs).
/// With it (and the "no containment bridging" rule in `index.rs`), raw-text pair precision
/// on the dev set stayed >= 0.998 over 5 seeds; on boilerplate-stripped text it changed nothing.
pub const DEFAULT_CROWDED_BUCKET_CLUSTERS: u32 = 3;
/// Default minimum number of distinct shingles for a doc to enter the LSH index.
pub const DEFAULT_MIN_SHINGLES: u32 = 5;
/// Default cap on how many bucket members are verified per band lookup. Bounds the work per
/// doc (<= bands x cap signature comparisons) when boilerplate or a heavily syndicated story
/// fills a bucket; on the dev set any cap >= 2 gave identical clusters, and at 8 the index
/// cost stayed flat (~10-15 us/doc) from 8k to 128k docs of 16-fold syndication.
pub const DEFAULT_MAX_CANDIDATES_PER_BAND: u32 = 8;
/// Default hash seed; persisted indexes pin it.
pub const DEFAULT_SEED: u64 = 0x6e65_7773_6d69_6c6c; // "newsmill"

/// What happens to duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Duplicates are removed from the output (listed in the `duplicates` table).
    Drop,
    /// Every doc is kept; clusters and representatives are only labelled.
    MarkOnly,
}

/// Which member of a cluster is the kept representative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepPolicy {
    /// The member seen first in input order.
    First,
    /// The member with the most characters (ties: first seen).
    Longest,
    /// The member with the smallest `published` string (ISO 8601 compares
    /// lexicographically; missing dates sort last; ties: first seen).
    Earliest,
}

/// The `[dedup]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    /// Run the stage at all. Default `true`.
    pub enabled: bool,
    /// `drop` removes duplicates, `mark_only` keeps every doc and labels clusters.
    /// Default `drop`.
    pub mode: Mode,
    /// Which cluster member is kept: `first`, `longest` or `earliest`. Default `first`.
    pub keep: KeepPolicy,
    /// Fold case before hashing. Pinned in a saved index. Default `true`.
    pub lowercase: bool,
    /// Treat punctuation and symbols as word separators (so quote, dash and ellipsis
    /// variants hash alike). When `false` each punctuation mark is its own token, with
    /// typographic quotes/dashes folded to ASCII. Pinned in a saved index. Default `true`.
    pub fold_punctuation: bool,
    /// Words per shingle (n-gram size), 1..=16. Pinned in a saved index. Default 5.
    pub shingle_words: u32,
    /// MinHash functions per signature, 8..=1024. Pinned in a saved index. Default 128.
    pub num_hashes: u32,
    /// LSH bands; `bands * rows` must equal `num_hashes`. More bands of fewer rows find
    /// lower-similarity candidates (truncations) at more index memory. Pinned. Default 64.
    pub bands: u32,
    /// Rows (hashes) per LSH band. Pinned. Default 2.
    pub rows: u32,
    /// A candidate pair is a duplicate when its estimated Jaccard similarity of shingle sets
    /// is at least this, in (0, 1]. Default 0.5. (Containment is never below Jaccard, and
    /// J >= 0.5 implies containment >= 0.67, so with the default containment settings this
    /// only matters once containment is switched off: classic MinHash uses 0.8 here with
    /// `containment_threshold = 1.0`, `min_size_ratio = 1.0`.)
    pub jaccard_threshold: f32,
    /// ...or when its estimated containment |A∩B|/min(|A|,|B|) is at least this (plus the
    /// margin below), in (0, 1]; catches truncated copies. Set this and `min_size_ratio` to
    /// 1.0 to use Jaccard only. Default 0.6.
    pub containment_threshold: f32,
    /// Containment matches also need min(|A|,|B|)/max(|A|,|B|) at least this, in [0, 1]:
    /// below it the MinHash containment estimate is too noisy to trust. Default 0.2.
    pub min_size_ratio: f32,
    /// The containment estimate must exceed `containment_threshold` by this many of its
    /// standard errors (delta method on the MinHash Jaccard estimate), in [0, 5]. Guards
    /// short-vs-long pairs, whose estimate is noisiest. Default 1.0.
    pub containment_margin_se: f32,
    /// An LSH bucket whose recent members (up to `max_candidates_per_band`) belong to at
    /// least this many different clusters is "crowded": its band values are shared by
    /// unrelated stories, as site boilerplate is. A pair seen only in crowded buckets may
    /// still match by Jaccard, but not by containment. 0 disables; else >= 2. Default 3.
    pub crowded_bucket_clusters: u32,
    /// Docs with fewer distinct shingles than this only get exact dedup (no LSH), so tiny
    /// texts cannot glue clusters together. Unit: shingles. Default 5.
    pub min_shingles: u32,
    /// At most this many most-recent members of one LSH bucket are verified per band, which
    /// keeps cost linear when many docs share a band (boilerplate). Default 8.
    pub max_candidates_per_band: u32,
    /// Seed of every hash function. Pinned in a saved index. Default "newsmill" in ASCII.
    pub seed: u64,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            enabled: true,
            mode: Mode::Drop,
            keep: KeepPolicy::First,
            lowercase: true,
            fold_punctuation: true,
            shingle_words: DEFAULT_SHINGLE_WORDS,
            num_hashes: DEFAULT_NUM_HASHES,
            bands: DEFAULT_BANDS,
            rows: DEFAULT_ROWS,
            jaccard_threshold: DEFAULT_JACCARD_THRESHOLD,
            containment_threshold: DEFAULT_CONTAINMENT_THRESHOLD,
            min_size_ratio: DEFAULT_MIN_SIZE_RATIO,
            containment_margin_se: DEFAULT_CONTAINMENT_MARGIN_SE,
            crowded_bucket_clusters: DEFAULT_CROWDED_BUCKET_CLUSTERS,
            min_shingles: DEFAULT_MIN_SHINGLES,
            max_candidates_per_band: DEFAULT_MAX_CANDIDATES_PER_BAND,
            seed: DEFAULT_SEED,
        }
    }
}

impl DedupConfig {
    /// Every problem with this section, each prefixed `[dedup] <option>:`; empty when valid.
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if !(1..=16).contains(&self.shingle_words) {
            errs.push(format!(
                "[dedup] shingle_words: must be in 1..=16, got {}",
                self.shingle_words
            ));
        }
        if !(8..=1024).contains(&self.num_hashes) {
            errs.push(format!(
                "[dedup] num_hashes: must be in 8..=1024, got {}",
                self.num_hashes
            ));
        }
        if self.bands == 0 || self.rows == 0 {
            errs.push(format!(
                "[dedup] bands: bands and rows must be >= 1 (got {} x {})",
                self.bands, self.rows
            ));
        } else if self.bands.checked_mul(self.rows) != Some(self.num_hashes) {
            errs.push(format!(
                "[dedup] bands: bands x rows must equal num_hashes (got {} x {} vs {})",
                self.bands, self.rows, self.num_hashes
            ));
        }
        for (name, v, lo_open) in [
            ("jaccard_threshold", self.jaccard_threshold, true),
            ("containment_threshold", self.containment_threshold, true),
            ("min_size_ratio", self.min_size_ratio, false),
        ] {
            let ok = if lo_open {
                v > 0.0 && v <= 1.0
            } else {
                (0.0..=1.0).contains(&v)
            };
            if !ok {
                let range = if lo_open { "(0, 1]" } else { "[0, 1]" };
                errs.push(format!("[dedup] {name}: must be in {range}, got {v}"));
            }
        }
        if !(0.0..=5.0).contains(&self.containment_margin_se) {
            errs.push(format!(
                "[dedup] containment_margin_se: must be in [0, 5], got {}",
                self.containment_margin_se
            ));
        }
        if self.crowded_bucket_clusters == 1 {
            errs.push(
                "[dedup] crowded_bucket_clusters: must be 0 (off) or >= 2, got 1".to_string(),
            );
        }
        if self.max_candidates_per_band == 0 {
            errs.push("[dedup] max_candidates_per_band: must be >= 1, got 0".to_string());
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert!(DedupConfig::default().validate().is_empty());
    }

    #[test]
    fn band_mismatch_is_named() {
        let cfg = DedupConfig {
            bands: 20,
            rows: 5,
            ..DedupConfig::default()
        };
        assert_eq!(
            cfg.validate(),
            vec!["[dedup] bands: bands x rows must equal num_hashes (got 20 x 5 vs 128)"]
        );
    }

    #[test]
    fn reports_every_problem() {
        let cfg = DedupConfig {
            jaccard_threshold: 1.5,
            containment_threshold: 0.0,
            shingle_words: 0,
            ..DedupConfig::default()
        };
        let errs = cfg.validate();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[1].contains("jaccard_threshold"));
    }

    #[test]
    fn toml_round_trip_and_unknown_key() {
        let cfg = DedupConfig::default();
        let text = toml::to_string(&cfg).expect("serialises");
        let back: DedupConfig = toml::from_str(&text).expect("parses");
        assert_eq!(back, cfg);
        let partial: DedupConfig =
            toml::from_str("mode = \"mark_only\"\nkeep = \"earliest\"").expect("parses");
        assert_eq!(partial.mode, Mode::MarkOnly);
        assert_eq!(partial.keep, KeepPolicy::Earliest);
        assert_eq!(partial.num_hashes, DEFAULT_NUM_HASHES);
        let err = toml::from_str::<DedupConfig>("threshhold = 0.3").expect_err("unknown key");
        assert!(err.to_string().contains("threshhold"), "{err}");
    }
}
