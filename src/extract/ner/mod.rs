//! Statistical named-entity tagger (PER, ORG, LOC, MISC), trained and run in pure Rust.
//!
//! Input: a document as sentences of token strings (from `extract::tokens`/`extract::sentences`).
//! Output: per sentence, [`Span`]s over token indices with a coarse CoNLL type and a confidence.
//!
//! Model: two averaged structured perceptrons over BIOES tags with first-order Viterbi decoding.
//! The first pass uses token, window, shape, affix, word-cluster, casing and gazetteer features;
//! the second pass adds what the first pass predicted for the same word elsewhere in the
//! document (so "Clinton" in a headline agrees with "Bill Clinton" in the body). Word clusters,
//! casing statistics and gazetteers are derived at training time and embedded in the model file,
//! so [`NerModel::load`] needs nothing else.
//!
//! Speed: each thread keeps a bounded cache of per-word weight sums (`cache.rs`), so a token
//! costs five vector additions plus its ~10 context features instead of ~35 table lookups;
//! Viterbi visits only the legal BIOES bigrams, each block of tags in SIMD lanes. Both give
//! bit-identical scores and paths. The tagger is bound by memory latency more than by
//! arithmetic (the word cache and feature table are larger than L2), so a document's cache
//! entries and table slots are looked up first and prefetched a few tokens ahead of use.
//!
//! Guarantees: deterministic (same model + input = same spans, independent of threads);
//! [`NerModel`] is `Send + Sync` and tagging never panics on any input. Training is deterministic
//! given [`TrainOptions::seed`] (byte-identical model files).
//!
//! ```no_run
//! use std::path::Path;
//! use newsmill::extract::ner::NerModel;
//! use newsmill::extract::{sentences::split_sentences, tokens::tokenize};
//!
//! let model = NerModel::load(Path::new("data/models/ner-conll2003.bin"))?;
//! let text = "John Kerry met Sergey Lavrov in New York.";
//! let tokens = tokenize(text);
//! let sentences: Vec<Vec<&str>> = split_sentences(text, &tokens)
//!     .into_iter()
//!     .map(|r| tokens[r].iter().map(|t| t.text(text)).collect())
//!     .collect();
//! for (sent, spans) in sentences.iter().zip(model.tag_document(&sentences)) {
//!     for s in spans {
//!         println!("{} {:?} {:.2}", sent[s.start..s.end].join(" "), s.label, s.confidence);
//!     }
//! }
//! # Ok::<(), newsmill::extract::ner::NerError>(())
//! ```

mod cache;
mod derive;
mod features;
mod lexicon;
mod model;
mod table;
mod train;

use std::path::{Path, PathBuf};

pub use train::{train, EpochReport, TrainOptions, TrainReport};

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cache::WordCache;
use features::{atoms_with, base_context_features, doc_label_features, TokenAtoms};
use model::{span_margin, tags_to_spans, viterbi, Acc, Joint, ModelData, NT};

/// Coarse entity type, as in CoNLL-2003.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CoarseType {
    /// Person.
    Per,
    /// Organisation.
    Org,
    /// Location (countries, cities, regions, ...).
    Loc,
    /// Other names: nationalities, events, products, ...
    Misc,
}

impl CoarseType {
    /// All types in tag-index order.
    pub const ALL: [CoarseType; 4] = [
        CoarseType::Per,
        CoarseType::Org,
        CoarseType::Loc,
        CoarseType::Misc,
    ];

    /// The CoNLL type name (`PER`, `ORG`, `LOC`, `MISC`).
    pub fn conll_name(self) -> &'static str {
        match self {
            CoarseType::Per => "PER",
            CoarseType::Org => "ORG",
            CoarseType::Loc => "LOC",
            CoarseType::Misc => "MISC",
        }
    }

    /// Parses a CoNLL type name.
    pub fn from_conll(name: &str) -> Option<CoarseType> {
        CoarseType::ALL.into_iter().find(|t| t.conll_name() == name)
    }
}

/// An entity mention inside one sentence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// First token index in the sentence.
    pub start: usize,
    /// One past the last token index.
    pub end: usize,
    /// Entity type.
    pub label: CoarseType,
    /// Confidence in (0, 1): a logistic of the span's mean emission margin (chosen tag over
    /// the best alternative), fitted at training time so that it estimates the probability
    /// that the span is exactly right on the dev set.
    pub confidence: f32,
}

/// Errors loading, saving or training a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NerError {
    /// The file could not be read or written.
    #[error("NER model {path}: {source}")]
    Io {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file is not a valid model (bad magic, checksum, or payload).
    #[error("NER model {path}: corrupt: {reason}")]
    Corrupt {
        /// File involved.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file was written by an incompatible version.
    #[error("NER model {path}: format version {found}, this build reads version {expected}")]
    Version {
        /// File involved.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// Training or resource data could not be read.
    #[error("NER training data {path}: {reason}")]
    Data {
        /// File involved.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A trained tagger. Immutable after loading; share it by reference across threads.
#[derive(Debug, Clone)]
pub struct NerModel {
    /// For a loaded model, the stages hold only their decoding tables: the weights live in
    /// `joint`, built straight from the file (see `model::from_bytes_for_tagging`).
    data: ModelData,
    joint: Joint,
    /// The file a loaded model came from, which is what [`NerModel::save`] writes back (its
    /// `f32` stage tables, which a re-serialisation would need, are never built).
    file: Option<Arc<[u8]>>,
    /// Distinguishes models in the per-thread word caches (clones share it: same weights).
    id: u64,
}

/// Source of [`NerModel::id`]s.
static NEXT_MODEL_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Word-level weight sums, reused across the documents a thread tags.
    static WORD_CACHE: RefCell<WordCache> = RefCell::new(WordCache::default());
}

/// Tokens ahead whose word-cache entry is prefetched (the window reads an entry from two
/// tokens before it to two after).
const ENTRY_LOOKAHEAD: usize = 4;

/// Logistic function.
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl NerModel {
    /// Loads a model file written by [`train`].
    pub fn load(path: &Path) -> Result<Self, NerError> {
        let bytes = std::fs::read(path).map_err(|source| NerError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses model bytes (e.g. from `include_bytes!`); `origin` names the source in errors.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Self, NerError> {
        let (data, joint) = model::from_bytes_for_tagging(bytes, origin)?;
        let id = NEXT_MODEL_ID.fetch_add(1, Ordering::Relaxed);
        Ok(NerModel {
            data,
            joint,
            file: Some(Arc::from(bytes)),
            id,
        })
    }

    /// Writes the model file (atomically: temp name, then rename).
    pub fn save(&self, path: &Path) -> Result<(), NerError> {
        let io = |source| NerError::Io {
            path: path.to_path_buf(),
            source,
        };
        let tmp = path.with_extension("tmp");
        let bytes = match &self.file {
            Some(f) => f.to_vec(),
            None => model::to_bytes(&self.data).map_err(|reason| NerError::Corrupt {
                path: path.to_path_buf(),
                reason,
            })?,
        };
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    pub(crate) fn from_data(data: ModelData) -> Self {
        let joint = Joint::new(&data.stage1, &data.stage2);
        let id = NEXT_MODEL_ID.fetch_add(1, Ordering::Relaxed);
        NerModel {
            data,
            joint,
            file: None,
            id,
        }
    }

    /// Tags one document given as sentences of tokens. Returns one span list per sentence,
    /// spans sorted by start and non-overlapping.
    pub fn tag_document(&self, sentences: &[Vec<&str>]) -> Vec<Vec<Span>> {
        // A fresh cache when the thread's is unavailable (re-entered, or the thread is
        // shutting down): slower, same result, never a panic.
        WORD_CACHE
            .try_with(|c| match c.try_borrow_mut() {
                Ok(mut cache) => Some(self.tag_with(&mut cache, sentences)),
                Err(_) => None,
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| self.tag_with(&mut WordCache::default(), sentences))
    }

    fn tag_with(&self, cache: &mut WordCache, sentences: &[Vec<&str>]) -> Vec<Vec<Span>> {
        let d = &self.data;
        let (toks, mut acc) = self.first_pass_sums(cache, sentences);
        // Pass 1.
        let mut types = Vec::with_capacity(toks.len());
        let mut em1: Vec<[f32; NT]> = Vec::new();
        let mut tags = Vec::new();
        let mut first = 0;
        for sent in sentences {
            em1.clear();
            em1.extend(
                acc[first..first + sent.len()]
                    .iter()
                    .map(|a| self.joint.scores(a, 0)),
            );
            viterbi(&d.stage1, &em1, &mut tags);
            types.extend(tags.iter().map(|&t| tag_type(t)));
            first += sent.len();
        }
        // Pass 2, with document-level label features.
        let (mut xf, mut xo) = (
            Vec::with_capacity(toks.len()),
            Vec::with_capacity(toks.len() + 1),
        );
        doc_label_features(&toks, &types, &mut xf, &mut xo);
        let mut rows = Vec::with_capacity(xf.len());
        let mut row_offs = Vec::with_capacity(xo.len());
        self.joint.resolve_all(&xf, &xo, &mut rows, &mut row_offs);
        let em2: Vec<[f32; NT]> = acc
            .iter_mut()
            .enumerate()
            .map(|(t, a)| {
                let r = rows.get(row_offs[t]..row_offs[t + 1]).unwrap_or(&[]);
                self.joint.accumulate(r, a, true);
                self.joint.scores(a, 1)
            })
            .collect();
        let mut out = Vec::with_capacity(sentences.len());
        let mut first = 0;
        for sent in sentences {
            let em = &em2[first..first + sent.len()];
            viterbi(&d.stage2, em, &mut tags);
            out.push(self.spans(&tags, em));
            first += sent.len();
        }
        out
    }

    /// Every token's atoms and its summed first-pass feature weights for both stages: cached
    /// word-level sums of its ±2 window plus the resolved context features.
    fn first_pass_sums(
        &self,
        cache: &mut WordCache,
        sentences: &[Vec<&str>],
    ) -> (Vec<TokenAtoms>, Vec<Acc>) {
        let n: usize = sentences.iter().map(Vec::len).sum();
        cache.begin(self.id, &self.joint, n);
        // Entries first, then their atoms: the copies can then be prefetched ahead, as the
        // cache is far larger than L2 and most of a token's time went to waiting for them.
        let mut ids = Vec::with_capacity(n);
        for tok in sentences.iter().flatten() {
            ids.push(cache.entry(&self.data.res, &self.joint, tok) as usize);
        }
        let mut next = 0;
        let toks = atoms_with(&self.data.res, sentences, |_| {
            if let Some(&e) = ids.get(next + ENTRY_LOOKAHEAD) {
                cache.prefetch_atoms(e);
            }
            let a = cache.entries[ids[next]].atoms;
            next += 1;
            a
        });
        // About 12 context features a token (Reuters); reserved so they are not regrown.
        let (mut feats, mut offs) = (Vec::with_capacity(n * 12), Vec::with_capacity(n + 1));
        base_context_features(&toks, sentences, &mut feats, &mut offs);
        // All rows first, so the table's cache misses overlap instead of stalling one by one.
        let mut rows = Vec::with_capacity(feats.len());
        let mut row_offs = Vec::with_capacity(offs.len());
        self.joint
            .resolve_all(&feats, &offs, &mut rows, &mut row_offs);
        let mut acc: Vec<Acc> = Vec::with_capacity(n);
        let lens: Vec<usize> = sentences.iter().map(Vec::len).collect();
        let w = Window {
            joint: &self.joint,
            cache,
            ids: &ids,
            rows: &rows,
            row_offs: &row_offs,
        };
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { w.sum_avx2(&lens, &mut acc) };
            return (toks, acc);
        }
        w.sum(&lens, &mut acc);
        (toks, acc)
    }

    fn spans(&self, tags: &[u8], em: &[[f32; NT]]) -> Vec<Span> {
        let (a, b) = (self.data.conf_slope, self.data.conf_bias);
        tags_to_spans(tags)
            .into_iter()
            .map(|(s, e, ty)| Span {
                start: s,
                end: e,
                label: CoarseType::ALL[ty.min(3)],
                confidence: sigmoid(a * span_margin(tags, em, s, e) + b),
            })
            .collect()
    }
}

/// What the per-token sums of a document read: its tokens' word-cache entries and its
/// resolved context feature rows.
struct Window<'a> {
    joint: &'a Joint,
    cache: &'a WordCache,
    ids: &'a [usize],
    rows: &'a [u32],
    row_offs: &'a [usize],
}

impl Window<'_> {
    /// Per token, its own word sums, its ±2 neighbours' (or the sentence-boundary sums) and
    /// its context rows. `lens` are the sentence lengths.
    #[inline(always)]
    fn sum(&self, lens: &[usize], acc: &mut Vec<Acc>) {
        let entries = &self.cache.entries;
        let mut first = 0;
        for &len in lens {
            for k in 0..len {
                let t = first + k;
                // The entry whose sums the window reaches next, and a later token's rows.
                if let Some(&e) = self.ids.get(t + ENTRY_LOOKAHEAD) {
                    self.cache.prefetch_sums(e);
                }
                if let Some(rs) = self.row_offs.get(t + 2..t + 4) {
                    for &r in self.rows.get(rs[0]..rs[1]).unwrap_or(&[]) {
                        self.joint.prefetch_row(r);
                    }
                }
                let mut a = entries[self.ids[t]].sums[2];
                for (slot, dk) in [(0usize, -2isize), (1, -1), (3, 1), (4, 2)] {
                    let j = k as isize + dk;
                    let src = if j >= 0 && (j as usize) < len {
                        &entries[self.ids[first + j as usize]].sums[slot]
                    } else {
                        &self.cache.boundary[slot]
                    };
                    cache::add(&mut a, src);
                }
                let r = self
                    .rows
                    .get(self.row_offs[t]..self.row_offs[t + 1])
                    .unwrap_or(&[]);
                self.joint.accumulate(r, &mut a, false);
                acc.push(a);
            }
            first += len;
        }
    }

    /// [`Window::sum`] compiled for AVX2: the same integer additions, twice as wide.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn sum_avx2(&self, lens: &[usize], acc: &mut Vec<Acc>) {
        self.sum(lens, acc);
    }
}

/// Entity type index + 1 of a tag (0 for O).
pub(crate) fn tag_type(t: u8) -> u8 {
    model::untag(t as usize).map_or(0, |(_, ty)| ty as u8 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn model_is_send_sync() {
        assert_send_sync::<NerModel>();
    }

    #[test]
    fn missing_file_names_path() {
        let err = NerModel::load(Path::new("/nonexistent/ner.bin")).expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/ner.bin"));
    }

    #[test]
    fn empty_model_tags_nothing_without_panicking() {
        let mut data = ModelData::default();
        data.stage1.prepare();
        data.stage2.prepare();
        let m = NerModel::from_data(data);
        let out = m.tag_document(&[vec!["Hello", "World"], vec![], vec!["x"]]);
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(Vec::is_empty));
    }

    /// Same spans from several threads (skips without the shipped model).
    #[test]
    fn shipped_model_is_thread_independent() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models/ner-conll2003.bin");
        if !path.exists() {
            eprintln!("skipping: needs {}", path.display());
            return;
        }
        let m = NerModel::load(&path).expect("shipped model loads");
        let doc = vec![
            vec!["SOCCER", "-", "JAPAN", "GET", "LUCKY", "WIN", "."],
            vec![
                "Peter",
                "Blackburn",
                "of",
                "the",
                "European",
                "Commission",
                "met",
                "Japan",
                "'s",
                "coach",
                "in",
                "Brussels",
                ".",
            ],
        ];
        let one = m.tag_document(&doc);
        let names: Vec<(usize, usize, CoarseType)> =
            one[1].iter().map(|s| (s.start, s.end, s.label)).collect();
        assert!(names.contains(&(0, 2, CoarseType::Per)), "{names:?}");
        assert!(names.contains(&(11, 12, CoarseType::Loc)), "{names:?}");
        assert!(one[1]
            .iter()
            .all(|s| s.confidence > 0.0 && s.confidence < 1.0));
        std::thread::scope(|sc| {
            let hs: Vec<_> = (0..3).map(|_| sc.spawn(|| m.tag_document(&doc))).collect();
            for h in hs {
                assert_eq!(h.join().expect("thread"), one);
            }
        });
    }

    /// The word-cache path sums exactly the weights of every first-pass feature, on a cold
    /// and a warm cache, for every sample document.
    #[test]
    fn cached_sums_equal_full_feature_sums() {
        use crate::extract::{sentences::split_sentences, tokens::tokenize};
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let model = root.join("data/models/ner-conll2003.bin");
        let sample = root.join("data/sample/articles.jsonl");
        if !model.exists() || !sample.exists() {
            eprintln!("skipping: needs the shipped model and sample corpus");
            return;
        }
        let m = NerModel::load(&model).expect("shipped model loads");
        let full = |sentences: &[Vec<&str>]| -> Vec<Acc> {
            let toks = features::atoms(&m.data.res, sentences, &mut features::Scratch::default());
            let (mut f, mut o) = (Vec::new(), Vec::new());
            features::base_features(&toks, sentences, &mut f, &mut o);
            o.windows(2)
                .map(|w| {
                    let mut rows = Vec::new();
                    m.joint.resolve(&f[w[0] as usize..w[1] as usize], &mut rows);
                    let mut a: Acc = [[0; NT]; 2];
                    m.joint.accumulate(&rows, &mut a, false);
                    a
                })
                .collect()
        };
        let text = std::fs::read_to_string(&sample).expect("sample reads");
        // The default cache, and a tiny one that evicts and empties itself between documents.
        for mut cache in [WordCache::default(), WordCache::with_capacity(300)] {
            let mut docs = 0;
            for pass in 0..2 {
                for line in text.lines() {
                    // The sample deliberately holds malformed records; they are not documents.
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                        continue;
                    };
                    let body = v["text"].as_str().unwrap_or_default();
                    let tokens = tokenize(body);
                    let mut sents: Vec<Vec<&str>> = split_sentences(body, &tokens)
                        .into_iter()
                        .map(|r| tokens[r].iter().map(|t| t.text(body)).collect())
                        .collect();
                    // A one-token and an all-caps sentence exercise the boundary sums and flags.
                    sents.push(vec!["Kerry"]);
                    sents.push(vec!["KENYA", "SIGNS", "RAIL", "DEAL"]);
                    let (toks, cached) = m.first_pass_sums(&mut cache, &sents);
                    assert_eq!(toks.len(), cached.len());
                    assert!(cached == full(&sents), "pass {pass}: sums differ");
                    docs += 1;
                }
            }
            assert!(docs >= 4);
        }
    }

    #[test]
    fn coarse_type_names_round_trip() {
        for t in CoarseType::ALL {
            assert_eq!(CoarseType::from_conll(t.conll_name()), Some(t));
            assert_eq!(CoarseType::ALL[t as usize], t);
        }
    }
}
