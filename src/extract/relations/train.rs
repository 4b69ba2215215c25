//! Training the relation classifier on CoNLL04 (`[{"tokens", "entities", "relations"}]`,
//! see `shared/data/conll04/PROVENANCE.md`), and the dataset helpers evaluation shares.
//!
//! Examples come from every ordered candidate pair of a sentence (see `features.rs`). With
//! [`TrainOptions::ner_spans`], each sentence is used twice: once with the gold entity spans
//! and once with the spans the production NER finds, mapped to CoNLL04's span conventions as
//! evaluation maps them ([`dataset_span`]) and labelled by exact span match with a gold
//! relation, so the classifier learns from the kind of mentions it will see at run time.
//! Several perceptrons, one per shuffle seed, are averaged into the model. Training is
//! deterministic: a fixed-seed xorshift shuffles examples each epoch.

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use xxhash_rust::xxh3::xxh3_64;

use super::features::{
    candidate_pairs, normalised_words, pair_features, sentence_args, token_span, trigger_masks,
    BetweenCache, Coarse,
};
use super::model::{Example, RelModel, Trainer, LABELS};
use super::RelError;
use crate::doc::{EntityRef, EntityType, Mention};
use crate::extract::gazetteer::{Gazetteer, HitKind};
use crate::extract::tokens::Token;
use crate::extract::{ExtractConfig, Extractor};

/// Features whose averaged weights are all below this are dropped from the model file
/// (perceptron weights are sums of ±1 updates, so this drops features that barely moved:
/// the file shrinks from 1.0 MB to 0.35 MB and valid F1 stays 0.433).
const PRUNE_WEIGHT: f32 = 1.0;

/// Training epochs and the ensemble's shuffle seeds. Chosen by 5-fold cross-validation on
/// CoNLL04 train (classifier trained on four folds, scored on the fifth through the
/// production path; pooled strict micro F1 with the built-in tagger / the CoNLL-2003-only
/// one): 1 seed × 15 epochs 0.740 / 0.422, × 10 0.746 / 0.429, × 25 0.738 / 0.423;
/// 3 seeds × 10 0.749 / 0.440; 5 seeds × 10 0.748 / 0.440 (valid 0.613, the steadiest;
/// measured before the geography and mention-order features).
const EPOCHS: usize = 10;
/// See [`EPOCHS`].
const SEEDS: [u64; 5] = [7, 1007, 2007, 3007, 4007];

/// Decision margins tried on the dev file: `MARGIN_STEPS × MARGIN_STEP`, i.e. -30 to +10 in
/// steps of 0.25 (perceptron margins on CoNLL04 fall in about -30..30).
const MARGIN_STEPS: std::ops::RangeInclusive<i32> = -120..=40;
/// See [`MARGIN_STEPS`].
const MARGIN_STEP: f32 = 0.25;

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Passes over the training examples. Default 10.
    pub epochs: usize,
    /// One perceptron is trained per shuffle seed and the model is their average. Default
    /// 7, 1007, 2007, 3007, 4007.
    pub seeds: Vec<u64>,
    /// Also train on the production NER's spans (and tune on them). Default true.
    pub ner_spans: bool,
    /// Train on the gold entity spans. Default true.
    pub gold_spans: bool,
    /// NER model whose spans are trained on with `ner_spans`; None = the built-in one. A
    /// tagger that never saw the CoNLL04 training sentences gives the realistic, imperfect
    /// spans the classifier must cope with (the built-in tagger was partly trained on them).
    pub ner_model: Option<std::path::PathBuf>,
    /// NER model whose spans the decision margins are tuned on (the dev set); None = the
    /// built-in one, which is what production runs.
    pub dev_ner_model: Option<std::path::PathBuf>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: EPOCHS,
            seeds: SEEDS.to_vec(),
            ner_spans: true,
            gold_spans: true,
            ner_model: None,
            dev_ner_model: None,
        }
    }
}

/// Precision/recall counts of one label.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelScore {
    /// Label name.
    pub label: String,
    /// Correct predictions.
    pub correct: usize,
    /// Predictions.
    pub pred: usize,
    /// Gold relations.
    pub gold: usize,
}

impl LabelScore {
    /// (precision, recall, F1).
    pub fn prf(&self) -> (f64, f64, f64) {
        let p = if self.pred > 0 {
            self.correct as f64 / self.pred as f64
        } else {
            0.0
        };
        let r = if self.gold > 0 {
            self.correct as f64 / self.gold as f64
        } else {
            0.0
        };
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        (p, r, f)
    }
}

/// What training measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Training examples (candidate pairs) per epoch.
    pub examples: usize,
    /// Stored features.
    pub features: usize,
    /// Model file size in bytes.
    pub bytes: usize,
    /// Decision margins per label (index 0 unused) chosen on the dev file.
    pub margins: [f32; 6],
    /// Dev scores per label (classifier only), then "micro".
    pub dev: Vec<LabelScore>,
}

/// One CoNLL04 item.
#[derive(Debug, Clone, Deserialize)]
pub struct Conll04Item {
    /// Tokens.
    pub tokens: Vec<String>,
    /// `[start, end, type]`, token offsets, end exclusive.
    pub entities: Vec<(usize, usize, String)>,
    /// `[head start, head end, tail start, tail end, type]`.
    pub relations: Vec<(usize, usize, usize, usize, String)>,
}

/// The sentence ranges of a one-sentence item: `[0..n]`.
pub fn one_sentence(n: usize) -> Vec<Range<usize>> {
    std::iter::once(0..n).collect()
}

/// Read a CoNLL04 JSON array.
pub fn read_conll04(path: &Path) -> Result<Vec<Conll04Item>, RelError> {
    let bytes = std::fs::read(path).map_err(|source| RelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let items: Vec<Conll04Item> = serde_json::from_slice(&bytes).map_err(|e| RelError::Data {
        path: path.to_path_buf(),
        item: 0,
        reason: e.to_string(),
    })?;
    for (i, it) in items.iter().enumerate() {
        let n = it.tokens.len();
        let bad = it.entities.iter().any(|e| e.0 >= e.1 || e.1 > n)
            || it.relations.iter().any(|r| r.1 > n || r.3 > n);
        if bad {
            return Err(RelError::Data {
                path: path.to_path_buf(),
                item: i,
                reason: "span outside the tokens".into(),
            });
        }
    }
    Ok(items)
}

/// The item's text (tokens joined by single spaces) and tokens; one sentence.
pub fn item_text(item: &Conll04Item) -> (String, Vec<Token>) {
    let (text, toks, _) = crate::extract::tokens::join_sentences(&[item.tokens.as_slice()]);
    (text, toks)
}

/// The tokens newsmill's NER should see for an item: the dataset's tokens, except that a
/// sentence-final period glued to a word ("Boise.", "Kosovo.") is split off as newsmill's
/// tokenizer would (abbreviations such as "Conn." stay whole). Mentions found over these
/// tokens map back to dataset tokens by char offsets ([`token_span`]).
pub fn ner_tokens(text: &str, toks: &[Token]) -> Vec<Token> {
    let mut out = Vec::with_capacity(toks.len() + 4);
    for t in toks {
        let w = t.text(text);
        let sub = crate::extract::tokens::tokenize(w);
        let split = sub.len() == 2 && sub[1].text(w) == "." && w.ends_with('.');
        if split {
            for s in sub {
                out.push(Token {
                    start: t.start + s.start,
                    end: t.start + s.end,
                    byte_start: t.byte_start + s.byte_start,
                    byte_end: t.byte_start + s.byte_end,
                });
            }
        } else {
            out.push(*t);
        }
    }
    out
}

/// Gold entities as mentions (Peop→PERSON, Org→ORG, Loc→GPE, Other→MISC; id from the text).
pub fn gold_mentions(item: &Conll04Item, text: &str, toks: &[Token]) -> Vec<Mention> {
    let mut ents = item.entities.clone();
    ents.sort();
    ents.into_iter()
        .map(|(s, e, t)| {
            let etype = match t.as_str() {
                "Peop" => EntityType::Person,
                "Org" => EntityType::Org,
                "Loc" => EntityType::Gpe,
                _ => EntityType::Misc,
            };
            let surface = text
                .get(toks[s].byte_start..toks[e - 1].byte_end)
                .unwrap_or("")
                .to_string();
            let key = format!("{}\u{1f}{}", etype.as_str(), surface.to_lowercase());
            Mention {
                start: toks[s].start,
                end: toks[e - 1].end,
                text: surface.clone(),
                etype,
                sentence: 0,
                confidence: 1.0,
                entity: EntityRef {
                    id: xxh3_64(key.as_bytes()),
                    name: surface,
                    etype,
                    geo: None,
                    value: None,
                },
            }
        })
        .collect()
}

/// CoNLL04's span of a mention found over dataset tokens `span` (newsmill's own span
/// conventions mapped to the dataset's, counted on `train.CoNLL04.json` only): a person gets
/// a directly preceding title CoNLL04 keeps inside ([`CONLL04_TITLES`], unless a capitalised
/// modifier precedes the title), and a lone place abbreviation at the end of an item takes the
/// split-off final period. `coarse` is the mention's relation type, None for other types.
pub fn dataset_span(
    gaz: &Gazetteer,
    tokens: &[String],
    span: Range<usize>,
    coarse: Option<Coarse>,
) -> Range<usize> {
    let titled = coarse == Some(Coarse::Per)
        && span.start > 0
        && CONLL04_TITLES.contains(&tokens[span.start - 1].as_str())
        && !modified_title(tokens, span.start - 1);
    let dotted =
        coarse == Some(Coarse::Loc) && abbreviation_takes_final_period(gaz, tokens, span.clone());
    span.start - usize::from(titled)..span.end + usize::from(dotted)
}

/// Titles CoNLL04 includes in person spans: those its training split has inside a `Peop` span
/// at least twice and at least twice as often as just before one (President 43:17, Mr. 6:0,
/// Mrs. 6:0, Ms. 5:0, Officer 3:1, Rev. 3:0, Gen. 3:0; left out: Dr. 5:5, Sen. 5:9, Judge
/// 0:9, Gov. 1:7, Lt. 0:6, Rep. 0:3). Counted on `train.CoNLL04.json` only.
pub const CONLL04_TITLES: [&str; 7] =
    ["President", "Mr.", "Mrs.", "Ms.", "Officer", "Rev.", "Gen."];

/// Whether the place mention over dataset tokens `span` includes the item's final "." token.
/// CoNLL04 train, items ending in a lone "." right after a Loc: a lone AP-style place
/// abbreviation without its period ("Mich", "N.Y") keeps the period 13 times of 16
/// ("HUNTINGTON , Ind ." → "Ind ."); the same abbreviation ending a joined "City , State"
/// span never does (0 of 27, "Staunton , Va"), nor does any other place (0 of 89). An
/// abbreviation is a word that, with its period, is a US state's or country's alias in the
/// gazetteer ("Mich." → Michigan, "U.S." → United States).
fn abbreviation_takes_final_period(gaz: &Gazetteer, tokens: &[String], span: Range<usize>) -> bool {
    let n = tokens.len();
    if span.end + 1 != n || tokens[n - 1] != "." || span.is_empty() {
        return false;
    }
    if tokens[span.clone()].iter().any(|w| w == ",") {
        return false;
    }
    let word = format!("{}.", tokens[span.end - 1]);
    gaz.lookup_exact(&[word.as_str()])
        .iter()
        .any(|h| !h.primary && matches!(h.kind, HitKind::State | HitKind::Country))
}

/// Whether the title of office at `title` follows a capitalised modifier ("Haitian President
/// Jean Bertrand Aristide", "Senate President Firmin Jean-Louis"; not at the item's start):
/// CoNLL04 train then leaves the title outside the person 6 times of 7, where a bare
/// "President" is inside 42 times of 54. Courtesy titles take no modifier: a capital before
/// "Ms." ends something else ("Grants , N.M. Ms. Calico").
fn modified_title(tokens: &[String], title: usize) -> bool {
    !matches!(tokens[title].as_str(), "Mr." | "Mrs." | "Ms.")
        && title >= 2
        && tokens[title - 1]
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
}

/// CoNLL04 type of a coarse argument type.
fn conll_of(c: Coarse) -> &'static str {
    match c {
        Coarse::Per => "Peop",
        Coarse::Org => "Org",
        Coarse::Loc => "Loc",
    }
}

/// Gold label index of the pair of token spans, if the types also agree.
fn gold_label(item: &Conll04Item, s: (usize, usize, Coarse), o: (usize, usize, Coarse)) -> usize {
    let ty = |a: usize, b: usize| {
        item.entities
            .iter()
            .find(|e| e.0 == a && e.1 == b)
            .map(|e| e.2.as_str())
    };
    if ty(s.0, s.1) != Some(conll_of(s.2)) || ty(o.0, o.1) != Some(conll_of(o.2)) {
        return 0;
    }
    item.relations
        .iter()
        .find(|r| (r.0, r.1, r.2, r.3) == (s.0, s.1, o.0, o.1))
        .and_then(|r| {
            let name = match r.4.as_str() {
                "Work_For" => "works_for",
                "Kill" => "killed",
                "OrgBased_In" => "based_in",
                "Live_In" => "lives_in",
                "Located_In" => "located_in",
                _ => return None,
            };
            LABELS.iter().position(|l| *l == name)
        })
        .unwrap_or(0)
}

/// Candidate examples of one item under the given mentions. With `ner_spans`, the mentions
/// are newsmill's (not the gold ones) and their spans are mapped to CoNLL04's conventions
/// ([`dataset_span`]) before they are matched with the gold relations, as evaluation does.
fn examples(
    item: &Conll04Item,
    text: &str,
    data_toks: &[Token],
    toks: &[Token],
    mentions: &[Mention],
    gaz: &Gazetteer,
    ner_spans: bool,
) -> Vec<Example> {
    let sents = one_sentence(toks.len());
    let per = sentence_args(gaz, text, toks, &sents, mentions);
    let words = normalised_words(text, toks);
    let triggers = trigger_masks(&words);
    let mut out = Vec::new();
    let args = &per[0];
    // Argument spans in dataset tokens, for the gold labels.
    let data_span = |a: &super::features::Arg| {
        token_span(data_toks, toks[a.tok_start].start, toks[a.tok_end - 1].end).map(|r| {
            let r = if ner_spans {
                dataset_span(gaz, &item.tokens, r, Some(a.coarse))
            } else {
                r
            };
            (r.start, r.end, a.coarse)
        })
    };
    let mut cache = BetweenCache::for_sentence(&sents[0]);
    for (i, j) in candidate_pairs(args) {
        let mut feats = Vec::new();
        pair_features(
            &words, &triggers, &sents[0], args, i, j, &mut cache, &mut feats,
        );
        let (a, b) = (&args[i], &args[j]);
        let gold = match (data_span(a), data_span(b)) {
            (Some(x), Some(y)) => gold_label(item, x, y),
            _ => 0,
        };
        out.push(Example {
            feats,
            s: a.coarse,
            o: b.coarse,
            gold,
        });
    }
    out
}

/// The production extractor with `model` as its NER (None = the built-in model).
fn load_ner(model: Option<&Path>) -> Result<Extractor, RelError> {
    let cfg = ExtractConfig {
        ner_model: model.map(|p| p.display().to_string()).unwrap_or_default(),
        ..ExtractConfig::default()
    };
    Extractor::from_config(&cfg, Path::new(".")).map_err(|e| RelError::BadModel {
        path: model.map_or_else(|| "<built-in ner>".into(), Path::to_path_buf),
        reason: e.to_string(),
    })
}

fn mention_sets(
    items: &[Conll04Item],
    ner: Option<&Extractor>,
    gold_spans: bool,
    gaz: &Gazetteer,
) -> Vec<Vec<Example>> {
    items
        .iter()
        .map(|it| {
            let (text, toks) = item_text(it);
            let gold = gold_mentions(it, &text, &toks);
            let mut ex = if gold_spans {
                examples(it, &text, &toks, &toks, &gold, gaz, false)
            } else {
                Vec::new()
            };
            if let Some(x) = ner {
                let nt = ner_tokens(&text, &toks);
                let m = x
                    .process_tokens(&text, None, &nt, &one_sentence(nt.len()))
                    .mentions;
                ex.extend(examples(it, &text, &toks, &nt, &m, gaz, true));
            }
            ex
        })
        .collect()
}

/// Strict dev scores of the model at `margin`: each gold relation counted once per item.
fn dev_scores(
    model: &RelModel,
    items: &[Conll04Item],
    sets: &[Vec<Example>],
    margins: &[f32; 6],
) -> Vec<LabelScore> {
    let mut s: Vec<LabelScore> = LABELS
        .iter()
        .map(|l| LabelScore {
            label: (*l).to_string(),
            ..LabelScore::default()
        })
        .collect();
    for (it, exs) in items.iter().zip(sets) {
        for r in &it.relations {
            let l = match r.4.as_str() {
                "Work_For" => 1,
                "Kill" => 2,
                "OrgBased_In" => 3,
                "Live_In" => 4,
                _ => 5,
            };
            s[l].gold += 1;
        }
        for e in exs {
            let (l, m) = model.decide(&e.feats, e.s, e.o);
            if l > 0 && m > margins[l] {
                s[l].pred += 1;
                if l == e.gold {
                    s[l].correct += 1;
                }
            }
        }
    }
    let mut micro = LabelScore {
        label: "micro".into(),
        ..LabelScore::default()
    };
    for x in &s[1..] {
        micro.correct += x.correct;
        micro.pred += x.pred;
        micro.gold += x.gold;
    }
    let mut out: Vec<LabelScore> = s.into_iter().skip(1).collect();
    out.push(micro);
    out
}

/// Train on `train_json`, pick the decision margin on `dev_json` (when given), write the
/// model to `out`.
pub fn train(
    train_json: &Path,
    dev_json: Option<&Path>,
    out: &Path,
    opts: &TrainOptions,
) -> Result<Report, RelError> {
    let items = read_conll04(train_json)?;
    let gaz = Gazetteer::builtin().map_err(|e| RelError::BadModel {
        path: "<built-in gazetteer>".into(),
        reason: e.to_string(),
    })?;
    let ner = if opts.ner_spans {
        Some(load_ner(opts.ner_model.as_deref())?)
    } else {
        None
    };
    let dev_ner = match (&ner, &opts.dev_ner_model, &opts.ner_model) {
        (None, _, _) => None,
        (Some(_), None, None) => None,
        (Some(_), p, _) => Some(load_ner(p.as_deref())?),
    };
    let mut all: Vec<Example> =
        mention_sets(&items, ner.as_ref(), opts.gold_spans || ner.is_none(), &gaz)
            .into_iter()
            .flatten()
            .collect();
    let mut runs = Vec::new();
    for &seed in &opts.seeds {
        let mut trainer = Trainer::default();
        let mut state = seed.max(1);
        for _ in 0..opts.epochs {
            // Fisher-Yates with xorshift64: deterministic for a seed.
            for i in (1..all.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                all.swap(i, (state % (i as u64 + 1)) as usize);
            }
            for e in &all {
                trainer.step(e);
            }
        }
        runs.push(trainer.finish(0.0));
    }
    let mut model = RelModel::average(&runs, PRUNE_WEIGHT);
    let mut report = Report {
        examples: all.len(),
        ..Report::default()
    };
    if let Some(dev) = dev_json {
        let ditems = read_conll04(dev)?;
        // Tune on what production sees: NER spans only when available, else gold spans.
        let sets: Vec<Vec<Example>> = ditems
            .iter()
            .map(|it| {
                let (text, toks) = item_text(it);
                match dev_ner.as_ref().or(ner.as_ref()) {
                    Some(x) => {
                        let nt = ner_tokens(&text, &toks);
                        let m = x
                            .process_tokens(&text, None, &nt, &one_sentence(nt.len()))
                            .mentions;
                        examples(it, &text, &toks, &nt, &m, &gaz, true)
                    }
                    None => {
                        let m = gold_mentions(it, &text, &toks);
                        examples(it, &text, &toks, &toks, &m, &gaz, false)
                    }
                }
            })
            .collect();
        // Coordinate ascent on micro F1, one label's margin at a time, two rounds; ties keep
        // the first (lowest) margin so the result is deterministic.
        let micro = |m: &[f32; 6]| {
            dev_scores(&model, &ditems, &sets, m)
                .last()
                .map(|x| x.prf().2)
                .unwrap_or(0.0)
        };
        let mut margins = [0f32; 6];
        for _ in 0..2 {
            for l in 1..LABELS.len() {
                let mut best = (f64::MIN, margins[l]);
                for k in MARGIN_STEPS {
                    let mut m = margins;
                    m[l] = k as f32 * MARGIN_STEP;
                    let f = micro(&m);
                    if f > best.0 + 1e-9 {
                        best = (f, m[l]);
                    }
                }
                margins[l] = best.1;
            }
        }
        model.margins = margins;
        report.dev = dev_scores(&model, &ditems, &sets, &model.margins);
    }
    let bytes = model.to_bytes();
    std::fs::write(out, &bytes).map_err(|source| RelError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    report.features = model.n_features();
    report.bytes = bytes.len();
    report.margins = model.margins;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn usual_title_joins_a_person_unless_a_modifier_precedes_it() {
        let gaz = Gazetteer::builtin().unwrap();
        let t = toks("He met President Bill Clinton and Haitian President Jean Aristide .");
        assert_eq!(dataset_span(&gaz, &t, 3..5, Some(Coarse::Per)), 2..5);
        assert_eq!(dataset_span(&gaz, &t, 8..10, Some(Coarse::Per)), 8..10);
        // Only persons take titles.
        assert_eq!(dataset_span(&gaz, &t, 3..5, Some(Coarse::Org)), 3..5);
    }

    #[test]
    fn lone_place_abbreviation_takes_the_final_period() {
        let gaz = Gazetteer::builtin().unwrap();
        let t = toks("ROYAL OAK , Mich .");
        assert_eq!(dataset_span(&gaz, &t, 3..4, Some(Coarse::Loc)), 3..5);
        // A joined "City , State" span, a full name, or a non-final position keep their end.
        assert_eq!(dataset_span(&gaz, &t, 0..4, Some(Coarse::Loc)), 0..4);
        let t = toks("He lives in Ohio .");
        assert_eq!(dataset_span(&gaz, &t, 3..4, Some(Coarse::Loc)), 3..4);
        let t = toks("From Mich . to Ohio");
        assert_eq!(dataset_span(&gaz, &t, 1..2, Some(Coarse::Loc)), 1..2);
        let t = toks("Aid from the U.S .");
        assert_eq!(dataset_span(&gaz, &t, 3..4, Some(Coarse::Loc)), 3..5);
        assert_eq!(dataset_span(&gaz, &t, 3..4, None), 3..4);
    }
}
