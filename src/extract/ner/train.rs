//! Training: averaged structured perceptron, two stages, early stopping on a dev set.
//!
//! Stage 1 learns from the base features. Stage 2 also sees the document-level label features
//! computed from stage-1 predictions; on the training set those predictions come from
//! jackknifing (each fold tagged by a stage-1 model trained on the other folds), so stage 2
//! learns how much to trust realistic, imperfect first-pass labels. For each stage the epoch with
//! the best dev F1 is kept (or the last epoch without a dev set), and [`TrainOptions::ensemble`]
//! such runs with different shuffle seeds are averaged weight by weight.
//!
//! Deterministic given [`TrainOptions::seed`]: sentence order is shuffled with a seeded
//! SplitMix64, fold assignment too, and feature rows are numbered in sorted hash order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::derive::build_resources;
use super::features::{atoms, base_features, doc_label_features, Resources, Scratch, TokenAtoms};
use super::model::{span_margin, spans_to_tags, tags_to_spans, viterbi, ModelData, Stage, NT};
use super::{tag_type, CoarseType, NerError, NerModel};
use crate::eval::conll::{chunks, read_conll, ConllDocument, ConllSentence};
use crate::extract::relations::{item_text, ner_tokens, read_conll04};

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainOptions {
    /// Maximum passes over the training data per stage (the best one on dev is kept). Default 14.
    pub epochs: usize,
    /// Seed for shuffling and fold assignment. Default 1.
    pub seed: u64,
    /// Jackknife folds used to produce stage-1 labels on the training set. Default 5.
    pub folds: usize,
    /// Models (different shuffle seeds) averaged per stage. Default 3.
    pub ensemble: usize,
    /// Features seen fewer times than this in training are dropped. Default 2.
    pub min_feature_count: u32,
    /// Folder with the gazetteer sources (`shared/data/gazetteer` layout); none = no gazetteer.
    pub gazetteer_dir: Option<PathBuf>,
    /// Unlabelled news (JSONL with a `text` field, optionally `.zst`) for word clusters and
    /// casing statistics; none = clusters from the training text only.
    pub unlabelled: Option<PathBuf>,
    /// Extra training sentences in CoNLL04's JSON format (AP/WSJ news, annotated with
    /// Peop/Org/Loc/Other), added to the CoNLL-2003 documents so the tagger also learns US
    /// newswire conventions (full names with titles, "City, State" places, bare surnames).
    /// Peop/Org/Loc map to PER/ORG/LOC; Other maps to MISC when it is a name (capitalised, no
    /// digits, not a date word) and is left untagged otherwise (dates and amounts are the
    /// numeric rules' job). None = CoNLL-2003 only.
    pub conll04: Option<PathBuf>,
    /// How many times the CoNLL04 sentences are repeated in the training set (their weight
    /// against CoNLL-2003's 14k sentences). Default 4 (the shipped model).
    pub conll04_repeat: usize,
    /// Print progress and per-epoch dev F1 to stderr. Default true.
    pub verbose: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 14,
            seed: 1,
            folds: 5,
            ensemble: 3,
            min_feature_count: 2,
            gazetteer_dir: None,
            unlabelled: None,
            conll04: None,
            conll04_repeat: 4,
            verbose: true,
        }
    }
}

/// Dev score after one epoch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochReport {
    /// 1 or 2.
    pub stage: u8,
    /// 1-based epoch.
    pub epoch: usize,
    /// Sentences whose prediction differed from gold during the epoch.
    pub mistakes: usize,
    /// Micro F1 on the dev set (0 without one).
    pub dev_f1: f64,
}

/// What training did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    /// Per-epoch history of both stages.
    pub epochs: Vec<EpochReport>,
    /// Epoch kept for stage 1 / stage 2.
    pub best_epoch: [usize; 2],
    /// Dev micro F1 of the final (stage-2) model; 0 without a dev set.
    pub dev_f1: f64,
    /// Feature rows kept in stage 1 / stage 2.
    pub n_features: [usize; 2],
    /// Training tokens.
    pub n_tokens: usize,
    /// Size of the written model file in bytes.
    pub model_bytes: u64,
}

/// A featurised document.
struct Doc {
    atoms: Vec<TokenAtoms>,
    sent_lens: Vec<usize>,
    feats: Vec<u64>,
    offs: Vec<u32>,
    /// Extra (doc-label) features for stage 2.
    xfeats: Vec<u64>,
    xoffs: Vec<u32>,
    gold: Vec<u8>,
    /// Gold spans per sentence, `(start, end, type)`.
    gold_spans: Vec<Vec<(usize, usize, usize)>>,
}

fn featurize(res: &Resources, docs: &[ConllDocument]) -> Vec<Doc> {
    let mut sc = Scratch::default();
    docs.iter()
        .map(|d| {
            let sents: Vec<Vec<&str>> = d
                .sentences
                .iter()
                .map(|s| s.tokens.iter().map(String::as_str).collect())
                .collect();
            let atoms = atoms(res, &sents, &mut sc);
            let (mut feats, mut offs) = (Vec::new(), Vec::new());
            base_features(&atoms, &sents, &mut feats, &mut offs);
            let mut gold = Vec::new();
            let mut gold_spans = Vec::new();
            for s in &d.sentences {
                let sp: Vec<(usize, usize, usize)> = chunks(&s.tags)
                    .into_iter()
                    .filter_map(|(a, b, t)| {
                        CoarseType::from_conll(&t).map(|ct| (a, b, ct as usize))
                    })
                    .collect();
                gold.extend(spans_to_tags(s.tokens.len(), &sp));
                gold_spans.push(sp);
            }
            Doc {
                atoms,
                sent_lens: d.sentences.iter().map(|s| s.tokens.len()).collect(),
                feats,
                offs,
                xfeats: Vec::new(),
                xoffs: Vec::new(),
                gold,
                gold_spans,
            }
        })
        .collect()
}

/// Token features as rows of a stage's index (features outside the index are dropped).
struct Rows {
    rows: Vec<u32>,
    offs: Vec<u32>,
}

fn to_rows(doc: &Doc, index: &HashMap<u64, u32>, with_extra: bool) -> Rows {
    let mut rows = Vec::with_capacity(doc.feats.len());
    let mut offs = Vec::with_capacity(doc.offs.len());
    let n = doc.offs.len().saturating_sub(1);
    for t in 0..n {
        offs.push(rows.len() as u32);
        let base = &doc.feats[doc.offs[t] as usize..doc.offs[t + 1] as usize];
        rows.extend(base.iter().filter_map(|f| index.get(f).copied()));
        if with_extra {
            let x = &doc.xfeats[doc.xoffs[t] as usize..doc.xoffs[t + 1] as usize];
            rows.extend(x.iter().filter_map(|f| index.get(f).copied()));
        }
    }
    offs.push(rows.len() as u32);
    Rows { rows, offs }
}

fn build_index(docs: &[&Doc], with_extra: bool, min_count: u32) -> HashMap<u64, u32> {
    let mut counts: HashMap<u64, u32> = HashMap::new();
    for d in docs {
        for f in &d.feats {
            *counts.entry(*f).or_default() += 1;
        }
        if with_extra {
            for f in &d.xfeats {
                *counts.entry(*f).or_default() += 1;
            }
        }
    }
    let mut kept: Vec<u64> = counts
        .into_iter()
        .filter(|(_, c)| *c >= min_count)
        .map(|(f, _)| f)
        .collect();
    kept.sort_unstable();
    kept.into_iter()
        .enumerate()
        .map(|(i, f)| (f, i as u32))
        .collect()
}

/// SplitMix64: tiny, seedable, good enough for shuffling.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// Averaged perceptron state.
struct Perceptron {
    w: Vec<f32>,
    acc: Vec<f64>,
    /// Live transition/boundary weights (in `live.trans/start/end`) used for decoding.
    live: Stage,
    tacc: Vec<f64>,
    sacc: Vec<f64>,
    eacc: Vec<f64>,
    c: f64,
}

impl Perceptron {
    fn new(n_rows: usize) -> Self {
        let mut live = Stage {
            trans: vec![0.0; NT * NT],
            start: vec![0.0; NT],
            end: vec![0.0; NT],
            ..Stage::default()
        };
        live.prepare();
        Perceptron {
            w: vec![0.0; n_rows * NT],
            acc: vec![0.0; n_rows * NT],
            live,
            tacc: vec![0.0; NT * NT],
            sacc: vec![0.0; NT],
            eacc: vec![0.0; NT],
            c: 1.0,
        }
    }

    fn emissions(&self, rows: &Rows, first: usize, n: usize, em: &mut Vec<[f32; NT]>) {
        em.clear();
        for t in first..first + n {
            let mut e = [0f32; NT];
            for &r in &rows.rows[rows.offs[t] as usize..rows.offs[t + 1] as usize] {
                let row = &self.w[r as usize * NT..r as usize * NT + NT];
                for (o, w) in e.iter_mut().zip(row) {
                    *o += *w;
                }
            }
            em.push(e);
        }
    }

    /// One perceptron step on a sentence; returns whether it was a mistake.
    fn learn(
        &mut self,
        rows: &Rows,
        first: usize,
        gold: &[u8],
        em: &mut Vec<[f32; NT]>,
        pred: &mut Vec<u8>,
    ) -> bool {
        self.emissions(rows, first, gold.len(), em);
        viterbi(&self.live, em, pred);
        let mistake = pred.as_slice() != gold;
        if mistake {
            let c = self.c;
            for (i, (&g, &p)) in gold.iter().zip(pred.iter()).enumerate() {
                if g == p {
                    continue;
                }
                let t = first + i;
                for &r in &rows.rows[rows.offs[t] as usize..rows.offs[t + 1] as usize] {
                    let b = r as usize * NT;
                    self.w[b + g as usize] += 1.0;
                    self.acc[b + g as usize] += c;
                    self.w[b + p as usize] -= 1.0;
                    self.acc[b + p as usize] -= c;
                }
            }
            let bump = |v: &mut Vec<f32>, a: &mut Vec<f64>, k: usize, d: f32| {
                v[k] += d;
                a[k] += c * f64::from(d);
            };
            bump(&mut self.live.start, &mut self.sacc, gold[0] as usize, 1.0);
            bump(&mut self.live.start, &mut self.sacc, pred[0] as usize, -1.0);
            let n = gold.len();
            bump(
                &mut self.live.end,
                &mut self.eacc,
                gold[n - 1] as usize,
                1.0,
            );
            bump(
                &mut self.live.end,
                &mut self.eacc,
                pred[n - 1] as usize,
                -1.0,
            );
            for i in 1..n {
                let gk = gold[i - 1] as usize * NT + gold[i] as usize;
                let pk = pred[i - 1] as usize * NT + pred[i] as usize;
                if gk != pk {
                    bump(&mut self.live.trans, &mut self.tacc, gk, 1.0);
                    bump(&mut self.live.trans, &mut self.tacc, pk, -1.0);
                }
            }
            // Illegal entries of start/end are -inf in `live`; restore finite values first.
            for v in self.live.start.iter_mut().chain(self.live.end.iter_mut()) {
                if !v.is_finite() {
                    *v = 0.0;
                }
            }
            self.live.prepare();
        }
        self.c += 1.0;
        mistake
    }

    /// The averaged weights as a decoding stage over `index`.
    fn averaged(&self, index: &HashMap<u64, u32>) -> Stage {
        let c = self.c;
        let avg = |w: &[f32], a: &[f64]| -> Vec<f32> {
            w.iter()
                .zip(a)
                .map(|(w, a)| {
                    if w.is_finite() {
                        (f64::from(*w) - a / c) as f32
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let full = avg(&self.w, &self.acc);
        // Keep only rows with some non-zero weight.
        let mut entries: Vec<(u64, u32)> = index.iter().map(|(f, r)| (*f, *r)).collect();
        entries.sort_unstable();
        let mut table = super::table::U64Map::with_capacity(entries.len() / 2);
        let mut weights = Vec::new();
        for (f, r) in entries {
            let row = &full[r as usize * NT..r as usize * NT + NT];
            if row.iter().any(|v| v.abs() > 1e-3) {
                table.insert(f, (weights.len() / NT) as u32);
                weights.extend_from_slice(row);
            }
        }
        let mut s = Stage {
            table,
            weights,
            trans: avg(&self.live.trans, &self.tacc),
            start: avg(&self.live.start, &self.sacc),
            end: avg(&self.live.end, &self.eacc),
            masked: Vec::new(),
        };
        s.prepare();
        s
    }
}

/// Decodes a featurised document with one stage (`extra` = include doc-label features).
fn decode(stage: &Stage, doc: &Doc, extra: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(doc.gold.len());
    let mut em: Vec<[f32; NT]> = Vec::new();
    let mut tags = Vec::new();
    let mut first = 0;
    for &n in &doc.sent_lens {
        em.clear();
        for t in first..first + n {
            let mut e = [0f32; NT];
            stage.emit(
                &doc.feats[doc.offs[t] as usize..doc.offs[t + 1] as usize],
                &mut e,
            );
            if extra {
                stage.emit(
                    &doc.xfeats[doc.xoffs[t] as usize..doc.xoffs[t + 1] as usize],
                    &mut e,
                );
            }
            em.push(e);
        }
        viterbi(stage, &em, &mut tags);
        out.extend_from_slice(&tags);
        first += n;
    }
    out
}

/// Micro F1 of predicted tags against gold spans.
fn f1(docs: &[Doc], preds: &[Vec<u8>]) -> f64 {
    let (mut g, mut p, mut c) = (0usize, 0usize, 0usize);
    for (d, pr) in docs.iter().zip(preds) {
        let mut first = 0;
        for (n, gs) in d.sent_lens.iter().zip(&d.gold_spans) {
            let ps = tags_to_spans(&pr[first..first + n]);
            g += gs.len();
            p += ps.len();
            c += ps.iter().filter(|s| gs.contains(s)).count();
            first += n;
        }
    }
    let pr = if p > 0 { c as f64 / p as f64 } else { 0.0 };
    let rc = if g > 0 { c as f64 / g as f64 } else { 0.0 };
    if pr + rc > 0.0 {
        2.0 * pr * rc / (pr + rc)
    } else {
        0.0
    }
}

struct StageResult {
    stage: Stage,
    best_epoch: usize,
    best_f1: f64,
    history: Vec<EpochReport>,
}

/// Trains one stage; with a dev set keeps the best epoch, else runs `epochs` (or `fixed`).
#[allow(clippy::too_many_arguments)]
fn train_stage(
    stage_no: u8,
    train: &[&Doc],
    dev: &[Doc],
    extra: bool,
    epochs: usize,
    min_count: u32,
    seed: u64,
    verbose: bool,
) -> StageResult {
    let index = build_index(train, extra, min_count);
    let rows: Vec<Rows> = train.iter().map(|d| to_rows(d, &index, extra)).collect();
    let mut order: Vec<(usize, usize, usize)> = Vec::new(); // (doc, first token, sentence idx)
    for (di, d) in train.iter().enumerate() {
        let mut first = 0;
        for (si, &n) in d.sent_lens.iter().enumerate() {
            if n > 0 {
                order.push((di, first, si));
            }
            first += n;
        }
    }
    let mut p = Perceptron::new(index.len());
    let mut rng = Rng(seed ^ u64::from(stage_no).wrapping_mul(0x1234_5678_9ABC));
    let (mut em, mut pred) = (Vec::new(), Vec::new());
    let mut best: Option<(f64, usize, Stage)> = None;
    let mut history = Vec::new();
    for epoch in 1..=epochs {
        rng.shuffle(&mut order);
        let mut mistakes = 0;
        for &(di, first, si) in &order {
            let n = train[di].sent_lens[si];
            let gold = &train[di].gold[first..first + n];
            if p.learn(&rows[di], first, gold, &mut em, &mut pred) {
                mistakes += 1;
            }
        }
        let dev_f1 = if dev.is_empty() {
            0.0
        } else {
            let st = p.averaged(&index);
            let preds: Vec<Vec<u8>> = dev.iter().map(|d| decode(&st, d, extra)).collect();
            let f = f1(dev, &preds);
            if best.as_ref().is_none_or(|b| f > b.0) {
                best = Some((f, epoch, st));
            }
            f
        };
        if verbose {
            eprintln!(
                "stage {stage_no} epoch {epoch:>2}: mistakes {mistakes:>6}  dev F1 {dev_f1:.4}"
            );
        }
        history.push(EpochReport {
            stage: stage_no,
            epoch,
            mistakes,
            dev_f1,
        });
    }
    match best {
        Some((f, e, st)) => StageResult {
            stage: st,
            best_epoch: e,
            best_f1: f,
            history,
        },
        None => StageResult {
            stage: p.averaged(&index),
            best_epoch: epochs,
            best_f1: 0.0,
            history,
        },
    }
}

/// Averages stages weight by weight (a feature missing from a stage counts as 0). Averaging
/// models trained on different sentence orders removes most of the perceptron's sensitivity
/// to the shuffle seed (±0.25 dev F1 between single runs).
fn average_stages(stages: &[Stage]) -> Stage {
    let n = stages.len().max(1) as f32;
    let mut keys: Vec<u64> = stages
        .iter()
        .flat_map(|s| s.table.sorted_entries().into_iter().map(|(k, _)| k))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut table = super::table::U64Map::with_capacity(keys.len());
    let mut weights = vec![0f32; keys.len() * NT];
    for (i, k) in keys.iter().enumerate() {
        table.insert(*k, i as u32);
        for s in stages {
            if let Some(r) = s.table.get(*k) {
                let src = &s.weights[r as usize * NT..(r as usize + 1) * NT];
                for (d, w) in weights[i * NT..(i + 1) * NT].iter_mut().zip(src) {
                    *d += w / n;
                }
            }
        }
    }
    let avg = |f: fn(&Stage) -> &Vec<f32>, len: usize| -> Vec<f32> {
        (0..len)
            .map(|j| {
                stages
                    .iter()
                    .map(|s| {
                        f(s).get(j)
                            .copied()
                            .filter(|v| v.is_finite())
                            .unwrap_or(0.0)
                    })
                    .sum::<f32>()
                    / n
            })
            .collect()
    };
    let mut out = Stage {
        table,
        weights,
        trans: avg(|s| &s.trans, NT * NT),
        start: avg(|s| &s.start, NT),
        end: avg(|s| &s.end, NT),
        masked: Vec::new(),
    };
    out.prepare();
    out
}

/// Trains `opts.ensemble` stages with different shuffle seeds and averages them.
fn train_ensemble(
    stage_no: u8,
    train: &[&Doc],
    dev: &[Doc],
    extra: bool,
    opts: &TrainOptions,
) -> StageResult {
    let runs: Vec<StageResult> = (0..opts.ensemble.max(1))
        .map(|r| {
            if opts.verbose {
                eprintln!("stage {stage_no}, run {}/{}", r + 1, opts.ensemble.max(1));
            }
            train_stage(
                stage_no,
                train,
                dev,
                extra,
                opts.epochs.max(1),
                opts.min_feature_count,
                opts.seed.wrapping_add(r as u64 * 1_000_003),
                opts.verbose,
            )
        })
        .collect();
    let stages: Vec<Stage> = runs.iter().map(|r| r.stage.clone()).collect();
    let stage = average_stages(&stages);
    let best_epoch = (runs.iter().map(|r| r.best_epoch).sum::<usize>() as f64 / runs.len() as f64)
        .round() as usize;
    let best_f1 = if dev.is_empty() {
        0.0
    } else {
        let preds: Vec<Vec<u8>> = dev.iter().map(|d| decode(&stage, d, extra)).collect();
        f1(dev, &preds)
    };
    if opts.verbose {
        eprintln!(
            "stage {stage_no}: averaged {} runs, dev F1 {best_f1:.4}",
            runs.len()
        );
    }
    StageResult {
        stage,
        best_epoch: best_epoch.max(1),
        best_f1,
        history: runs.into_iter().flat_map(|r| r.history).collect(),
    }
}

fn set_doc_labels(doc: &mut Doc, tags: &[u8]) {
    let types: Vec<u8> = tags.iter().map(|&t| tag_type(t)).collect();
    let (mut xf, mut xo) = (Vec::new(), Vec::new());
    doc_label_features(&doc.atoms, &types, &mut xf, &mut xo);
    doc.xfeats = xf;
    doc.xoffs = xo;
}

/// Month abbreviations that CoNLL04 tags `Other` (the full month and weekday names come from
/// the numeric rules' lists): date words are no names, the numeric rules own them.
const MONTH_ABBREVIATIONS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
];

/// CoNLL04 sentences as one-sentence training documents over the tokens newsmill's NER sees
/// for them ([`ner_tokens`]: a glued sentence-final period is split off and left outside the
/// entity), with IOB2 tags in CoNLL-2003's types.
pub fn conll04_documents(path: &Path) -> Result<Vec<ConllDocument>, NerError> {
    let items = read_conll04(path).map_err(|e| NerError::Data {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut docs = Vec::with_capacity(items.len());
    for it in &items {
        let (text, toks) = item_text(it);
        let nt = ner_tokens(&text, &toks);
        let words: Vec<&str> = nt.iter().map(|t| t.text(&text)).collect();
        let mut tags = vec!["O".to_string(); nt.len()];
        let mut ents = it.entities.clone();
        ents.sort();
        for (a, b, ty) in ents {
            let (cs, ce) = (toks[a].start, toks[b - 1].end);
            let first = nt.partition_point(|t| t.start < cs);
            let mut last = nt.partition_point(|t| t.end <= ce);
            while last > first + 1 && words[last - 1] == "." {
                last -= 1;
            }
            if first >= last {
                continue;
            }
            let span = &words[first..last];
            let label = match ty.as_str() {
                "Peop" => "PER",
                "Org" => "ORG",
                "Loc" => "LOC",
                _ if is_misc_name(span) => "MISC",
                _ => continue,
            };
            if tags[first..last].iter().any(|t| t != "O") {
                continue;
            }
            tags[first] = format!("B-{label}");
            for t in &mut tags[first + 1..last] {
                *t = format!("I-{label}");
            }
        }
        docs.push(ConllDocument {
            sentences: vec![ConllSentence {
                tokens: words.iter().map(|w| (*w).to_string()).collect(),
                tags,
            }],
        });
    }
    Ok(docs)
}

/// Whether a CoNLL04 `Other` span is a name CoNLL-2003 would tag MISC ("Civil War",
/// "Americans") rather than a date or an amount.
fn is_misc_name(span: &[&str]) -> bool {
    let starts_upper = span
        .first()
        .and_then(|w| w.chars().next())
        .is_some_and(char::is_uppercase);
    let has_digit = span.iter().any(|w| w.chars().any(|c| c.is_ascii_digit()));
    let date_word = span.iter().any(|w| {
        let l = w.trim_end_matches('.').to_lowercase();
        MONTH_ABBREVIATIONS.contains(&l.as_str()) || crate::extract::numeric::is_day_or_month(&l)
    });
    starts_upper && !has_digit && !date_word
}

/// Trains a model on `conll_train`, early-stopping on `conll_dev`, and writes it to `out`.
pub fn train(
    conll_train: &Path,
    conll_dev: Option<&Path>,
    out: &Path,
    opts: &TrainOptions,
) -> Result<TrainReport, NerError> {
    let data_err = |path: &Path, e: crate::eval::conll::ConllError| NerError::Data {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut train_docs = read_conll(conll_train).map_err(|e| data_err(conll_train, e))?;
    if let Some(p) = &opts.conll04 {
        let extra = conll04_documents(p)?;
        for _ in 0..opts.conll04_repeat.max(1) {
            train_docs.extend(extra.iter().cloned());
        }
    }
    let dev_docs = match conll_dev {
        Some(p) => read_conll(p).map_err(|e| data_err(p, e))?,
        None => Vec::new(),
    };
    let res = build_resources(opts, &train_docs)?;
    if opts.verbose {
        eprintln!(
            "resources: {} lexicon words, {} gazetteer phrases",
            res.lexicon.entries.len(),
            res.gazetteer.map.len()
        );
    }
    let mut train_f = featurize(&res, &train_docs);
    let mut dev_f = featurize(&res, &dev_docs);
    let n_tokens = train_f.iter().map(|d| d.gold.len()).sum();

    // Stage 1 on everything.
    let all: Vec<&Doc> = train_f.iter().collect();
    let s1 = train_ensemble(1, &all, &dev_f, false, opts);
    let mut history = s1.history.clone();

    // Jackknifed stage-1 labels for the training set.
    let folds = opts.folds.max(2);
    let mut fold_of: Vec<usize> = (0..train_f.len()).map(|i| i % folds).collect();
    Rng(opts.seed.wrapping_add(7)).shuffle(&mut fold_of);
    let mut labels: Vec<Vec<u8>> = vec![Vec::new(); train_f.len()];
    for k in 0..folds {
        let part: Vec<&Doc> = train_f
            .iter()
            .zip(&fold_of)
            .filter(|(_, f)| **f != k)
            .map(|(d, _)| d)
            .collect();
        let r = train_stage(
            1,
            &part,
            &[],
            false,
            s1.best_epoch,
            opts.min_feature_count,
            opts.seed.wrapping_add(k as u64),
            false,
        );
        for (i, d) in train_f.iter().enumerate() {
            if fold_of[i] == k {
                labels[i] = decode(&r.stage, d, false);
            }
        }
        if opts.verbose {
            eprintln!("jackknife fold {}/{folds} done", k + 1);
        }
    }
    for (d, l) in train_f.iter_mut().zip(&labels) {
        set_doc_labels(d, l);
    }
    for d in &mut dev_f {
        let l = decode(&s1.stage, d, false);
        set_doc_labels(d, &l);
    }

    // Stage 2.
    let all: Vec<&Doc> = train_f.iter().collect();
    let s2 = train_ensemble(2, &all, &dev_f, true, opts);
    history.extend(s2.history.clone());

    let (conf_slope, conf_bias) = fit_confidence(&s2.stage, &dev_f, &train_f);
    let n_features = [s1.stage.table.len(), s2.stage.table.len()];
    let model = NerModel::from_data(ModelData {
        res,
        stage1: s1.stage,
        stage2: s2.stage,
        conf_slope,
        conf_bias,
    });
    model.save(out)?;
    let model_bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    if opts.verbose {
        eprintln!(
            "stage 1 best epoch {} (dev F1 {:.4}); stage 2 best epoch {} (dev F1 {:.4}); {} bytes",
            s1.best_epoch, s1.best_f1, s2.best_epoch, s2.best_f1, model_bytes
        );
    }
    Ok(TrainReport {
        epochs: history,
        best_epoch: [s1.best_epoch, s2.best_epoch],
        dev_f1: s2.best_f1,
        n_features,
        n_tokens,
        model_bytes,
    })
}

/// Fits `confidence = logistic(a × margin + b)` to whether each predicted span is exactly right,
/// on the dev set (or the training set without one), by gradient descent on the log loss.
fn fit_confidence(stage: &Stage, dev: &[Doc], train: &[Doc]) -> (f32, f32) {
    let docs = if dev.is_empty() { train } else { dev };
    let mut samples: Vec<(f64, f64)> = Vec::new();
    for d in docs {
        let tags = decode(stage, d, true);
        let mut first = 0;
        for (n, gs) in d.sent_lens.iter().zip(&d.gold_spans) {
            let mut em = Vec::with_capacity(*n);
            for t in first..first + n {
                let mut e = [0f32; NT];
                stage.emit(&d.feats[d.offs[t] as usize..d.offs[t + 1] as usize], &mut e);
                stage.emit(
                    &d.xfeats[d.xoffs[t] as usize..d.xoffs[t + 1] as usize],
                    &mut e,
                );
                em.push(e);
            }
            let st = &tags[first..first + n];
            for sp in tags_to_spans(st) {
                let m = f64::from(span_margin(st, &em, sp.0, sp.1));
                samples.push((m, if gs.contains(&sp) { 1.0 } else { 0.0 }));
            }
            first += n;
        }
    }
    if samples.is_empty() {
        return (1.0, 0.0);
    }
    // Standardise the margin for well-conditioned descent, then fold the scaling back in.
    let n = samples.len() as f64;
    let mean = samples.iter().map(|s| s.0).sum::<f64>() / n;
    let sd = (samples.iter().map(|s| (s.0 - mean).powi(2)).sum::<f64>() / n)
        .sqrt()
        .max(1e-6);
    let (mut a, mut b) = (0.0f64, 0.0f64);
    for _ in 0..CONF_FIT_ITERS {
        let (mut ga, mut gb) = (0.0, 0.0);
        for &(m, y) in &samples {
            let z = (m - mean) / sd;
            let p = 1.0 / (1.0 + (-(a * z + b)).exp());
            ga += (p - y) * z;
            gb += p - y;
        }
        a -= CONF_FIT_RATE * ga / n;
        b -= CONF_FIT_RATE * gb / n;
    }
    ((a / sd) as f32, (b - a * mean / sd) as f32)
}

/// Gradient steps and step size of the confidence fit (converges well within this on CoNLL dev).
const CONF_FIT_ITERS: usize = 500;
const CONF_FIT_RATE: f64 = 1.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conll04_sentences_become_tagged_documents() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c04.json");
        std::fs::write(
            &p,
            r#"[{"tokens": ["Betsy", "Ross", "was", "born", "in", "Philadelphia.", "on", "Jan.", "1", ",", "in", "the", "Civil", "War"], "entities": [[0, 2, "Peop"], [5, 6, "Loc"], [7, 9, "Other"], [12, 14, "Other"]], "relations": []}]"#,
        )
        .unwrap();
        let docs = conll04_documents(&p).unwrap();
        assert_eq!(docs.len(), 1);
        let s = &docs[0].sentences[0];
        let pairs: Vec<(&str, &str)> = s
            .tokens
            .iter()
            .map(String::as_str)
            .zip(s.tags.iter().map(String::as_str))
            .collect();
        assert_eq!(pairs[0], ("Betsy", "B-PER"));
        assert_eq!(pairs[1], ("Ross", "I-PER"));
        // The glued period is split off and stays outside the place.
        assert_eq!(pairs[5], ("Philadelphia", "B-LOC"));
        assert_eq!(pairs[6], (".", "O"));
        // A date tagged Other is left to the numeric rules; a named event becomes MISC.
        assert!(pairs[8..10].iter().all(|p| p.1 == "O"), "{pairs:?}");
        assert_eq!(pairs[13], ("Civil", "B-MISC"));
        assert_eq!(pairs[14], ("War", "I-MISC"));
    }

    const TINY: &str = "-DOCSTART- -X- O O\n\nPeter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\nsaw VBD I-VP O\nParis NNP I-NP I-LOC\n. . O O\n\n\
-DOCSTART- -X- O O\n\nJohn NNP I-NP I-PER\nvisited VBD I-VP O\nLondon NNP I-NP I-LOC\n. . O O\n";

    #[test]
    fn trains_tiny_model_deterministically() {
        let dir = std::env::temp_dir().join(format!("ner_train_test_{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let data = dir.join("tiny.conll");
        std::fs::write(&data, TINY).expect("write");
        let opts = TrainOptions {
            epochs: 5,
            folds: 2,
            min_feature_count: 1,
            verbose: false,
            ..TrainOptions::default()
        };
        let (a, b) = (dir.join("a.bin"), dir.join("b.bin"));
        let ra = train(&data, Some(&data), &a, &opts).expect("train a");
        train(&data, Some(&data), &b, &opts).expect("train b");
        assert_eq!(std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
        assert!(
            ra.dev_f1 > 0.99,
            "memorises the training set: {}",
            ra.dev_f1
        );
        let m = NerModel::load(&a).expect("load");
        let spans = m.tag_document(&[vec!["Peter", "Blackburn", "saw", "Paris", "."]]);
        assert_eq!(spans[0].len(), 2);
        assert_eq!((spans[0][0].start, spans[0][0].end), (0, 2));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
