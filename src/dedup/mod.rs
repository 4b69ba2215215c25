//! Deduplication stage: exact and near-duplicate detection with a persistent index.
//!
//! **Input**: each doc's text (the caller chooses what to sign, normally the clean body)
//! plus a [`DocMeta`] (key = xxh3 of `doc_id`, `n_chars`, `published`).
//! **Output**: one [`Assignment`] per doc (cluster id, kept or duplicate, kind, similarity),
//! which fills `documents.cluster_id` and the `duplicates` table.
//! **Config**: the `[dedup]` section, [`DedupConfig`].
//!
//! Two phases, as DESIGN.md asks, so shard-then-merge needs no rewrite:
//! 1. [`Signer::sign`] (pure, `Send + Sync`, run in parallel): an xxh3 hash of the
//!    normalised token stream (exact copies) and a MinHash sketch of word shingles.
//! 2. [`DedupIndex::add`] (in input order) finds candidates through the exact-hash map and
//!    LSH bands, verifies them by estimated Jaccard *or* containment (truncated copies; with
//!    a noise margin, and never on the evidence of boilerplate-crowded buckets alone), and
//!    joins matches transitively; [`DedupIndex::finish`] picks each cluster's kept member by
//!    [`KeepPolicy`] and returns the decisions.
//!
//! Sharded runs persist phase 1 per shard (signatures Parquet, with [`DedupIndex::band_hashes`])
//! and replay phase 2 in `newsmill merge`, in the single-run input order.
//!
//! **Guarantees**: results depend only on the texts, their input order and the config — not
//! on thread count or batch boundaries. Cost is linear in corpus size (bucket walks are
//! capped). Memory: ~1.1 KB per doc held with the defaults (256 B signature, the rest LSH
//! buckets); ~0.7 KB with `bands = 32, rows = 4` at some recall cost on truncations. The index ([`DedupIndex::save`]/[`DedupIndex::load`]) is versioned, pins the
//! signature parameters and is checksummed; docs from earlier runs always stay the kept
//! member of their cluster.
//!
//! ```
//! use newsmill::dedup::{DedupConfig, DedupIndex, DocMeta, Signer};
//! let cfg = DedupConfig::default();
//! let signer = Signer::from_config(&cfg).expect("default config is valid");
//! let mut index = DedupIndex::new(&cfg);
//! for (key, text) in [(1, "Oil rose two pct today, traders said."), (2, "oil rose  two pct today traders said")] {
//!     index.add(DocMeta { key, n_chars: text.len() as u64, published: None }, &signer.sign(text));
//! }
//! let out = index.finish();
//! assert!(out[0].keep && !out[1].keep);
//! ```

mod buckets;
mod cluster;
mod config;
mod index;
mod normalize;
mod persist;
mod signature;

pub use config::{DedupConfig, KeepPolicy, Mode};
pub use index::{Assignment, DedupIndex, DocMeta, DupKind};
pub use signature::{Signature, Signer};

use std::path::PathBuf;

/// Everything that can go wrong in the dedup stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DedupError {
    /// The `[dedup]` section does not validate (messages joined by "; ").
    #[error("invalid dedup config: {0}")]
    Config(String),
    /// Reading or writing the index file failed.
    #[error("dedup index {}: {source}", path.display())]
    Io {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The index file is damaged or not an index.
    #[error("dedup index {} is corrupt: {reason}", path.display())]
    Corrupt {
        /// File involved.
        path: PathBuf,
        /// What check failed.
        reason: String,
    },
    /// The index file was written by another format version.
    #[error("dedup index {} has format version {found}, this build reads {expected}", path.display())]
    Version {
        /// File involved.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build writes.
        expected: u32,
    },
    /// The index was built with other signature parameters; its signatures cannot be compared.
    #[error("dedup index {} was built with other parameters ({detail}); use the saved values or start a new state dir", path.display())]
    ParamMismatch {
        /// File involved.
        path: PathBuf,
        /// Each differing parameter with saved and configured value.
        detail: String,
    },
}
