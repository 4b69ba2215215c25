//! Extract stage: clean text → tokens, sentences, typed entity mentions resolved to
//! canonical entities (and, later, relations and quotes).
//!
//! Input: a kept, cleaned [`Doc`] (`text`, `published`). Output: an [`Extraction`] with char
//! offsets into `Doc::text`. Config: `[extract]` ([`ExtractConfig`]).
//!
//! Per document: [`tokens::tokenize`] → [`sentences::split_sentences`] → the statistical
//! tagger ([`ner::NerModel`], PER/ORG/LOC/MISC) → fine typing, numeric rules and canonical
//! entity resolution. Pure per document: the model and gazetteers are read-only resources
//! loaded once in [`Extractor::from_config`], so documents are processed in parallel with
//! identical results for any thread count.

pub mod ner;
pub mod sentences;
pub mod tokens;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::doc::{Doc, EntityRef, EntityType, Mention};
use ner::{CoarseType, NerError, NerModel};

/// The NER model shipped with newsmill (trained on CoNLL-2003; see
/// `data/models/ner-conll2003.md`), embedded so the binary works from any directory.
const BUILTIN_NER_MODEL: &[u8] = include_bytes!("../../data/models/ner-conll2003.bin");

/// Sentences longer than this many tokens are tagged in chunks, which bounds the tagger's
/// work per call on pathological input (tables, lists without punctuation).
const MAX_SENTENCE_TOKENS_DEFAULT: usize = 300;

/// `[extract]`: entity extraction settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtractConfig {
    /// Run extraction (mentions, entities). Default true.
    pub enabled: bool,
    /// NER model file; empty = the built-in model. Relative paths are resolved against the
    /// config file's directory. Default empty.
    pub ner_model: String,
    /// Drop model mentions with a confidence below this, in [0, 1]. Default 0.
    pub min_confidence: f32,
    /// Sentences longer than this (tokens) are tagged in chunks. Default 300.
    pub max_sentence_tokens: usize,
}

impl Default for ExtractConfig {
    fn default() -> Self {
        ExtractConfig {
            enabled: true,
            ner_model: String::new(),
            min_confidence: 0.0,
            max_sentence_tokens: MAX_SENTENCE_TOKENS_DEFAULT,
        }
    }
}

impl ExtractConfig {
    /// Problems with the section, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if !(0.0..=1.0).contains(&self.min_confidence) {
            errs.push(format!(
                "[extract] min_confidence: must be in [0, 1], got {}",
                self.min_confidence
            ));
        }
        if self.max_sentence_tokens < 10 {
            errs.push(format!(
                "[extract] max_sentence_tokens: must be at least 10, got {}",
                self.max_sentence_tokens
            ));
        }
        errs
    }
}

/// Errors building the extract stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The NER model could not be loaded.
    #[error(transparent)]
    Model(#[from] NerError),
}

/// What extraction found in one document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extraction {
    /// Tokens in the text.
    pub n_tokens: usize,
    /// Sentences in the text.
    pub n_sentences: usize,
    /// Entity mentions, sorted by start, non-overlapping.
    pub mentions: Vec<Mention>,
}

/// The extract stage, built once from `[extract]`.
#[derive(Debug)]
pub struct Extractor {
    cfg: ExtractConfig,
    ner: NerModel,
}

impl Extractor {
    /// Load the model (built-in or from `cfg.ner_model`, resolved against `base_dir`).
    pub fn from_config(cfg: &ExtractConfig, base_dir: &Path) -> Result<Extractor, ExtractError> {
        let ner = if cfg.ner_model.is_empty() {
            NerModel::from_bytes(BUILTIN_NER_MODEL, Path::new("<built-in ner-conll2003.bin>"))?
        } else {
            let p = PathBuf::from(&cfg.ner_model);
            let p = if p.is_absolute() { p } else { base_dir.join(p) };
            NerModel::load(&p)?
        };
        Ok(Extractor {
            cfg: cfg.clone(),
            ner,
        })
    }

    /// The tagger, for evaluation.
    pub fn ner(&self) -> &NerModel {
        &self.ner
    }

    /// Extract from one document.
    pub fn process(&self, doc: &Doc) -> Extraction {
        let text = doc.text.as_str();
        let toks = tokens::tokenize(text);
        let sents = self.chunked_sentences(text, &toks);
        let words: Vec<Vec<&str>> = sents
            .iter()
            .map(|r| toks[r.clone()].iter().map(|t| t.text(text)).collect())
            .collect();
        let spans = self.ner.tag_document(&words);
        let mut mentions = Vec::new();
        for (si, (range, spans)) in sents.iter().zip(&spans).enumerate() {
            for s in spans {
                if s.confidence < self.cfg.min_confidence {
                    continue;
                }
                let first = toks[range.start + s.start];
                let last = toks[range.start + s.end - 1];
                let surface = &text[first.byte_start..last.byte_end];
                let etype = match s.label {
                    CoarseType::Per => EntityType::Person,
                    CoarseType::Org => EntityType::Org,
                    CoarseType::Loc => EntityType::Gpe,
                    CoarseType::Misc => EntityType::Misc,
                };
                let key = format!("{}\u{1f}{}", etype.as_str(), surface.to_lowercase());
                mentions.push(Mention {
                    start: first.start,
                    end: last.end,
                    text: surface.to_string(),
                    etype,
                    sentence: si,
                    confidence: s.confidence,
                    entity: EntityRef {
                        id: xxh3_64(key.as_bytes()),
                        name: surface.to_string(),
                        etype,
                        geo: None,
                        value: None,
                    },
                });
            }
        }
        Extraction {
            n_tokens: toks.len(),
            n_sentences: sents.len(),
            mentions,
        }
    }

    /// Sentence token ranges, with over-long sentences cut into chunks.
    fn chunked_sentences(&self, text: &str, toks: &[tokens::Token]) -> Vec<std::ops::Range<usize>> {
        let max = self.cfg.max_sentence_tokens;
        let mut out = Vec::new();
        for r in sentences::split_sentences(text, toks) {
            let mut s = r.start;
            while r.end - s > max {
                out.push(s..s + max);
                s += max;
            }
            if s < r.end {
                out.push(s..r.end);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extractor() -> Extractor {
        Extractor::from_config(&ExtractConfig::default(), Path::new(".")).unwrap()
    }

    #[test]
    fn offsets_slice_back_to_mention_text() {
        let x = extractor();
        let doc = Doc {
            text: "Secretary of State John Kerry met Sergey Lavrov in New York on Monday.\n\nKerry said the talks with Russia were useful.".into(),
            ..Doc::default()
        };
        let e = x.process(&doc);
        assert!(!e.mentions.is_empty());
        for m in &e.mentions {
            let s: String = doc
                .text
                .chars()
                .skip(m.start)
                .take(m.end - m.start)
                .collect();
            assert_eq!(s, m.text);
        }
        assert!(e
            .mentions
            .iter()
            .any(|m| m.text == "John Kerry" && m.etype == EntityType::Person));
    }

    #[test]
    fn degenerate_documents_do_not_panic() {
        let x = extractor();
        for text in [
            String::new(),
            "   ".to_string(),
            "WORLD LEADERS GATHER IN GENEVA FOR TALKS".to_string(),
            "Die Regierung in Berlin hat am Dienstag beschlossen.".to_string(),
            "word ".repeat(5000),
        ] {
            let doc = Doc {
                text,
                ..Doc::default()
            };
            let _ = x.process(&doc);
        }
    }

    #[test]
    fn missing_model_file_names_the_path() {
        let cfg = ExtractConfig {
            ner_model: "no/such/model.bin".into(),
            ..ExtractConfig::default()
        };
        let err = Extractor::from_config(&cfg, Path::new("/tmp")).unwrap_err();
        assert!(err.to_string().contains("no/such/model.bin"), "{err}");
    }
}
