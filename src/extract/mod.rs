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

pub mod entities;
pub mod gazetteer;
pub mod linker;
pub mod ner;
pub mod numeric;
pub mod quotes;
pub mod relations;
pub mod sentences;
pub mod tokens;
pub mod typing;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::doc::{Doc, Mention};
use entities::EntityResolver;
use gazetteer::{Gazetteer, GazetteerError};
use ner::{NerError, NerModel};
use quotes::Quote;
use relations::{RelError, Relation, RelationExtractor};

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
    /// Gazetteer folder (the `data/gazetteers/` layout); empty = the built-in gazetteers.
    /// Relative paths are resolved against the config file's directory. Default empty.
    pub gazetteer_dir: String,
    /// Drop model mentions with a confidence below this, in [0, 1]. Default 0.
    pub min_confidence: f32,
    /// Sentences longer than this (tokens) are tagged in chunks. Default 300.
    pub max_sentence_tokens: usize,
    /// Extract relations between entities (`relations` table). Default true.
    pub relations: bool,
    /// Relation model file; empty = the built-in model. Default empty.
    pub relation_model: String,
    /// Drop relations with a confidence below this, in [0, 1]. Default 0.5.
    pub relation_min_confidence: f32,
    /// Extract quotes with their speakers (`quotes` table). Default true.
    pub quotes: bool,
}

impl Default for ExtractConfig {
    fn default() -> Self {
        ExtractConfig {
            enabled: true,
            ner_model: String::new(),
            gazetteer_dir: String::new(),
            min_confidence: 0.0,
            max_sentence_tokens: MAX_SENTENCE_TOKENS_DEFAULT,
            relations: true,
            relation_model: String::new(),
            relation_min_confidence: 0.5,
            quotes: true,
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
        if !(0.0..=1.0).contains(&self.relation_min_confidence) {
            errs.push(format!(
                "[extract] relation_min_confidence: must be in [0, 1], got {}",
                self.relation_min_confidence
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
    /// The gazetteers could not be loaded.
    #[error(transparent)]
    Gazetteer(#[from] GazetteerError),
    /// The relation model could not be loaded.
    #[error(transparent)]
    Relations(#[from] RelError),
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
    /// Relations between the mentions (indices into `mentions`).
    pub relations: Vec<Relation>,
    /// Quotes, with speakers as indices into `mentions`.
    pub quotes: Vec<Quote>,
}

/// The extract stage, built once from `[extract]`.
#[derive(Debug)]
pub struct Extractor {
    cfg: ExtractConfig,
    ner: NerModel,
    resolver: EntityResolver,
    relations: Option<RelationExtractor>,
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
        let gaz = if cfg.gazetteer_dir.is_empty() {
            Gazetteer::builtin()?
        } else {
            let p = PathBuf::from(&cfg.gazetteer_dir);
            let p = if p.is_absolute() { p } else { base_dir.join(p) };
            Gazetteer::load(&p)?
        };
        let gaz = Arc::new(gaz);
        let relations = if !cfg.relations {
            None
        } else if cfg.relation_model.is_empty() {
            Some(RelationExtractor::builtin(Arc::clone(&gaz))?)
        } else {
            let p = PathBuf::from(&cfg.relation_model);
            let p = if p.is_absolute() { p } else { base_dir.join(p) };
            Some(RelationExtractor::load(&p, Arc::clone(&gaz))?)
        };
        Ok(Extractor {
            cfg: cfg.clone(),
            ner,
            resolver: EntityResolver::new(gaz),
            relations,
        })
    }

    /// The tagger, for evaluation.
    pub fn ner(&self) -> &NerModel {
        &self.ner
    }

    /// The relation extractor, when relations are enabled.
    pub fn relation_extractor(&self) -> Option<&RelationExtractor> {
        self.relations.as_ref()
    }

    /// Extract from one document.
    pub fn process(&self, doc: &Doc) -> Extraction {
        let text = doc.text.as_str();
        let toks = tokens::tokenize(text);
        let sents = self.chunked_sentences(text, &toks);
        self.process_tokens(text, doc.published.as_deref(), &toks, &sents)
    }

    /// Extract from text already split into tokens and sentences (token index ranges), as
    /// evaluation on pre-tokenised corpora needs.
    pub fn process_tokens(
        &self,
        text: &str,
        published: Option<&str>,
        toks: &[tokens::Token],
        sents: &[std::ops::Range<usize>],
    ) -> Extraction {
        let words: Vec<Vec<&str>> = sents
            .iter()
            .map(|r| toks[r.clone()].iter().map(|t| t.text(text)).collect())
            .collect();
        let mut spans = self.ner.tag_document(&words);
        if self.cfg.min_confidence > 0.0 {
            for s in &mut spans {
                s.retain(|sp| sp.confidence >= self.cfg.min_confidence);
            }
        }
        let mentions = self.resolver.resolve(text, published, toks, sents, &spans);
        let relations = match &self.relations {
            Some(rx) => {
                let mut r = rx.extract(text, toks, sents, &mentions);
                r.retain(|r| r.confidence >= self.cfg.relation_min_confidence);
                r
            }
            None => Vec::new(),
        };
        let quotes = if self.cfg.quotes {
            quotes::extract_quotes(text, toks, sents, &mentions)
        } else {
            Vec::new()
        };
        Extraction {
            n_tokens: toks.len(),
            n_sentences: sents.len(),
            mentions,
            relations,
            quotes,
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
pub(crate) mod tests {
    use super::*;
    use crate::doc::EntityType;

    /// The `text` of every record of the sample corpus, for tests that check an extraction
    /// shortcut against the plain path on real articles.
    pub(crate) fn sample_texts() -> Vec<String> {
        let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample/articles.jsonl");
        std::fs::read_to_string(sample)
            .expect("sample corpus")
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["text"].as_str().map(str::to_string))
            .collect()
    }

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
