//! Relations between entity mentions: who holds which position, works for, leads, meets,
//! killed whom, where organisations are based and places are located.
//!
//! Input: a document's clean text, its tokens, sentence token ranges and the entity
//! [`Mention`]s of the extract stage (sorted, non-overlapping). Output: [`Relation`]s, each
//! naming its subject (and usually its object) by index into those mentions, with an evidence
//! char span inside one sentence, a confidence and the method that found it. No config
//! section yet: the model is built in (`data/models/relations-conll04.bin`, see its `.md`).
//!
//! Two methods run on every sentence:
//! - **patterns** (`method = "pattern:<name>"`, see `patterns.rs`): high-precision news
//!   constructions built on the gazetteer's position titles ("Secretary of State John Kerry",
//!   "Syria's President Bashar al-Assad", "X, chief executive of Y", "Y-based X", "X met Y").
//! - **classifier** (`method = "classifier"`): an averaged perceptron over ordered pairs of
//!   PERSON/ORG/GPE/LOC mentions of one sentence, trained on CoNLL04 ([`train()`]); it predicts
//!   the five CoNLL04 relations (works_for, killed, based_in, lives_in, located_in), at most
//!   one per pair of mentions of a sentence (the pair's highest-margin reading, either
//!   direction).
//!
//! Candidate pairs are capped at `features::MAX_PAIRS_PER_SENTENCE` (400) ordered pairs per
//! sentence, nearest first, and limited to pairs within `features::MAX_PAIR_GAP_TOKENS` (40)
//! tokens, so a sentence listing many names costs bounded work.
//!
//! Guarantees: a relation never links an entity (canonical id) to itself; the evidence span
//! lies inside the relation's sentence; a subject may be a mention in an earlier sentence
//! when the sentence starts with a pronoun ("He met Lavrov" → the last PERSON subject);
//! output is sorted by (sentence, start, end, subject, predicate, object), so it does not
//! depend on threads or hash order. [`RelationExtractor`] is `Send + Sync`.
//!
//! # Predicates
//! | predicate | subject → object | example |
//! |---|---|---|
//! | `holds_position` | PERSON → title text (no entity id) | "Secretary of State John Kerry" → "Secretary of State" |
//! | `works_for` | PERSON → ORG/GPE | "Sergey Lavrov the foreign minister of Russia" → Russia |
//! | `leader_of` | PERSON → GPE/ORG | "Syria's President Bashar al-Assad" → Syria |
//! | `member_of` | PERSON/ORG → ORG | "Ann Lee, a member of the Labour Party" → Labour Party |
//! | `located_in` | GPE/LOC → GPE/LOC | "Baghdad, Iraq" → Iraq |
//! | `based_in` | ORG → GPE/LOC (text when glued: "London-based") | "Greenpeace, which is based in Amsterdam" → Amsterdam |
//! | `lives_in` | PERSON → GPE/LOC | "Mary Smith, who lives in Boston" → Boston |
//! | `killed` | PERSON → PERSON | "Booth, who assassinated Lincoln" → Lincoln |
//! | `meets` | PERSON → PERSON | "Kerry met Lavrov in New York" → Lavrov |
//! | `citizen_of` | PERSON → GPE | "Ann Lee, a citizen of Canada" → Canada |
//! | `ally_of` | any → GPE/ORG/PERSON | "Assad, a longstanding ally of Russia" → Russia |
//! | `said` | PERSON/ORG → quote text | produced by `extract::quotes`, listed for the vocabulary |

mod features;
mod model;
mod patterns;
mod train;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::doc::{EntityType, Mention};
use crate::extract::gazetteer::Gazetteer;
use crate::extract::tokens::Token;

pub use features::{token_span, Coarse, MAX_PAIRS_PER_SENTENCE, MAX_PAIR_GAP_TOKENS};
pub use model::{RelModel, FORMAT_VERSION};
pub use train::{
    dataset_span, gold_mentions, item_text, ner_tokens, one_sentence, read_conll04, train,
    Conll04Item, LabelScore, Report, TrainOptions, CONLL04_TITLES,
};

/// The relation model shipped with newsmill (CoNLL04; see `data/models/relations-conll04.md`).
const BUILTIN_MODEL: &[u8] = include_bytes!("../../../data/models/relations-conll04.bin");

/// Confidence of pattern relations: they are checked constructions, not guesses.
const PATTERN_CONFIDENCE: f32 = 0.9;

/// Perceptron margins (score of the relation minus score of "none") are mapped to a
/// confidence by a logistic curve centred on 0 with this scale: 0.5 means the relation
/// scores as high as "no relation". The decision margins tuned for CoNLL04 F1 are negative
/// (recall-oriented), so classifier relations can have confidence below 0.5; filter on
/// `confidence` for precision. 4 is about the spread of margins on CoNLL04 valid.
const CONFIDENCE_SCALE: f32 = 4.0;

/// How many sentences back a sentence-initial pronoun looks for its PERSON antecedent.
const PRONOUN_LOOKBACK_SENTENCES: usize = 3;

/// A relation type; see the module docs for one example of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Predicate {
    /// PERSON → position title (text).
    HoldsPosition,
    /// PERSON → employer (ORG/GPE).
    WorksFor,
    /// PERSON → the GPE/ORG they head.
    LeaderOf,
    /// PERSON/ORG → ORG they belong to.
    MemberOf,
    /// Place → enclosing place.
    LocatedIn,
    /// ORG → place of its seat.
    BasedIn,
    /// PERSON → place of residence.
    LivesIn,
    /// PERSON → PERSON killed.
    Killed,
    /// PERSON → PERSON met.
    Meets,
    /// PERSON → country of citizenship.
    CitizenOf,
    /// Entity → its ally.
    AllyOf,
    /// Speaker → quote (see `extract::quotes`).
    Said,
}

impl Predicate {
    /// Stable snake_case name used in the tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Predicate::HoldsPosition => "holds_position",
            Predicate::WorksFor => "works_for",
            Predicate::LeaderOf => "leader_of",
            Predicate::MemberOf => "member_of",
            Predicate::LocatedIn => "located_in",
            Predicate::BasedIn => "based_in",
            Predicate::LivesIn => "lives_in",
            Predicate::Killed => "killed",
            Predicate::Meets => "meets",
            Predicate::CitizenOf => "citizen_of",
            Predicate::AllyOf => "ally_of",
            Predicate::Said => "said",
        }
    }

    /// The predicate of a classifier label (index into the model's labels).
    fn from_label(l: usize) -> Option<Predicate> {
        match l {
            1 => Some(Predicate::WorksFor),
            2 => Some(Predicate::Killed),
            3 => Some(Predicate::BasedIn),
            4 => Some(Predicate::LivesIn),
            5 => Some(Predicate::LocatedIn),
            _ => None,
        }
    }
}

/// The object of a relation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RelObject {
    /// Index into the document's mentions.
    Mention(usize),
    /// Free text with no entity id: a position title, or a place glued into one token
    /// ("London-based"); char offsets into the text.
    Text {
        /// The text.
        text: String,
        /// First char offset.
        start: usize,
        /// One past the last char offset.
        end: usize,
    },
}

/// One relation instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    /// Sentence holding the evidence.
    pub sentence: usize,
    /// Index into the mentions.
    pub subject: usize,
    /// Relation type.
    pub predicate: Predicate,
    /// Object mention or text.
    pub object: RelObject,
    /// Evidence span start (char offset), inside `sentence`.
    pub start: usize,
    /// Evidence span end (char offset), inside `sentence`.
    pub end: usize,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// `"classifier"` or `"pattern:<name>"`.
    pub method: &'static str,
}

/// Errors loading or training the relation model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelError {
    /// A model file is not a valid relation model.
    #[error("{path}: bad relation model: {reason}")]
    BadModel {
        /// Model file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A dataset file could not be parsed.
    #[error("{path}: item {item}: {reason}")]
    Data {
        /// Dataset file.
        path: PathBuf,
        /// 0-based item index in the JSON array (0 for whole-file problems).
        item: usize,
        /// What is wrong.
        reason: String,
    },
}

/// The relation stage: patterns plus the trained classifier. Read-only, `Send + Sync`.
#[derive(Debug)]
pub struct RelationExtractor {
    model: RelModel,
    gaz: Arc<Gazetteer>,
}

impl RelationExtractor {
    /// The built-in CoNLL04 model.
    pub fn builtin(gaz: Arc<Gazetteer>) -> Result<Self, RelError> {
        let model =
            RelModel::from_bytes(BUILTIN_MODEL, Path::new("<built-in relations-conll04.bin>"))?;
        Ok(RelationExtractor { model, gaz })
    }

    /// A model file written by [`train()`].
    pub fn load(path: &Path, gaz: Arc<Gazetteer>) -> Result<Self, RelError> {
        let bytes = std::fs::read(path).map_err(|source| RelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(RelationExtractor {
            model: RelModel::from_bytes(&bytes, path)?,
            gaz,
        })
    }

    /// From an already parsed model (training and tests).
    pub fn with_model(model: RelModel, gaz: Arc<Gazetteer>) -> Self {
        RelationExtractor { model, gaz }
    }

    /// The gazetteer (position titles), for evaluation's span conventions.
    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gaz
    }

    /// The classifier.
    pub fn model(&self) -> &RelModel {
        &self.model
    }

    /// Relations of one document (see the module docs for the guarantees).
    pub fn extract(
        &self,
        text: &str,
        tokens: &[Token],
        sentences: &[Range<usize>],
        mentions: &[Mention],
    ) -> Vec<Relation> {
        let mut out = patterns::find(&self.gaz, text, tokens, sentences, mentions);
        out.extend(self.classify(text, tokens, sentences, mentions));
        finish(out, mentions)
    }

    /// Classifier relations only (evaluation and training use this).
    pub fn classify(
        &self,
        text: &str,
        tokens: &[Token],
        sentences: &[Range<usize>],
        mentions: &[Mention],
    ) -> Vec<Relation> {
        let mut out = Vec::new();
        let per_sent = features::sentence_args(&self.gaz, text, tokens, sentences, mentions);
        let mut feats = Vec::new();
        // Words and triggers of the sentences with a pair to classify (most have none).
        let mut words = vec![std::borrow::Cow::Borrowed(""); tokens.len()];
        let mut triggers = vec![0u8; tokens.len()];
        let mut cache = features::BetweenCache::default();
        // Sized once for the longest sentence with pairs, not regrown sentence by sentence.
        let longest = sentences
            .iter()
            .zip(&per_sent)
            .filter(|(_, a)| a.len() >= 2)
            .map(|(s, _)| s.len())
            .max()
            .unwrap_or(0);
        cache.reserve(longest);
        for (si, args) in per_sent.iter().enumerate() {
            let Some(sent) = sentences.get(si) else {
                continue;
            };
            if args.len() < 2 {
                continue;
            }
            features::fill_sentence_words(text, tokens, sent, &mut words, &mut triggers);
            cache.reset(sent);
            // (margin, subject, object, label) of every pair that passes its margin.
            let mut found: Vec<(f32, usize, usize, usize)> = Vec::new();
            for (i, j) in features::candidate_pairs(args) {
                // Pairs no label's type signature admits (money and a date, a place and a
                // person in that order) cannot come out: skip their features.
                if !(1..6).any(|l| model::label_allowed(l, args[i].coarse, args[j].coarse)) {
                    continue;
                }
                features::pair_features(
                    &words, &triggers, sent, args, i, j, &mut cache, &mut feats,
                );
                let (label, margin) = self.model.decide(&feats, args[i].coarse, args[j].coarse);
                if Predicate::from_label(label).is_none() {
                    continue;
                }
                let threshold = self.model.margins[label];
                if margin <= threshold {
                    continue;
                }
                found.push((margin, i, j, label));
            }
            // Joint decision: two mentions take at most one relation, in one direction (no
            // CoNLL04 pair has two, and "A killed B" excludes "B killed A"); the pair's
            // highest-margin reading wins.
            found.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
            let mut taken: Vec<(usize, usize)> = Vec::new();
            for (margin, i, j, label) in found {
                let key = (i.min(j), i.max(j));
                if taken.contains(&key) {
                    continue;
                }
                taken.push(key);
                let Some(p) = Predicate::from_label(label) else {
                    continue;
                };
                let (a, b) = (&args[i], &args[j]);
                let lo = a.tok_start.min(b.tok_start);
                let hi = a.tok_end.max(b.tok_end);
                out.push(Relation {
                    sentence: si,
                    subject: a.mention,
                    predicate: p,
                    object: RelObject::Mention(b.mention),
                    start: tokens[lo].start,
                    end: tokens[hi - 1].end,
                    confidence: 1.0 / (1.0 + (-margin / CONFIDENCE_SCALE).exp()),
                    method: "classifier",
                });
            }
        }
        out
    }
}

/// Drop self-links and duplicates (first method wins: patterns come first), then sort.
fn finish(rels: Vec<Relation>, mentions: &[Mention]) -> Vec<Relation> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for r in rels {
        let sid = mentions[r.subject].entity.id;
        let okey = match &r.object {
            RelObject::Mention(o) => {
                if mentions[*o].entity.id == sid {
                    continue;
                }
                (mentions[*o].entity.id, String::new())
            }
            RelObject::Text { text, .. } => (0, text.to_lowercase()),
        };
        if seen.insert((r.sentence, sid, r.predicate, okey)) {
            out.push(r);
        }
    }
    out.sort_by(|a, b| {
        (
            a.sentence,
            a.start,
            a.end,
            a.subject,
            a.predicate,
            &a.object,
        )
            .cmp(&(
                b.sentence,
                b.start,
                b.end,
                b.subject,
                b.predicate,
                &b.object,
            ))
    });
    out
}

/// The PERSON a sentence-initial pronoun in `sentence` refers to: the first PERSON mention
/// of the nearest earlier sentence (within [`PRONOUN_LOOKBACK_SENTENCES`]) that has one.
pub(crate) fn pronoun_antecedent(sentence: usize, mentions: &[Mention]) -> Option<usize> {
    let lo = sentence.saturating_sub(PRONOUN_LOOKBACK_SENTENCES);
    (lo..sentence).rev().find_map(|s| {
        mentions
            .iter()
            .position(|m| m.sentence == s && m.etype == EntityType::Person)
    })
}

/// True for subject pronouns that refer to one person.
pub(crate) fn is_person_pronoun(w: &str) -> bool {
    matches!(w, "He" | "She" | "he" | "she")
}

#[cfg(test)]
mod tests;
