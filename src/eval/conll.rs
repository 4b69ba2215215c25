//! CoNLL-2003 reading and conlleval-compatible scoring.
//!
//! Input: files in the CoNLL-2003 column format (`TOKEN POS CHUNK NER`, IOB1 or IOB2 tags,
//! `-DOCSTART-` lines between documents, blank lines between sentences). Only the first and the
//! last column are used, so the reader also accepts `token tag` files.
//!
//! Scoring follows the `conlleval` definition exactly: a phrase starts at `B-X`, or at `I-X` after
//! `O`, a sentence boundary or another type; a predicted phrase is correct only when its start,
//! end and type equal a gold phrase's. Precision/recall/F1 are reported per type and micro-averaged.
//! Counts were cross-checked against `shared/tools/conll_score.py`.
//!
//! Determinism: per-type rows are sorted by type name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::extract::ner::{CoarseType, NerError, NerModel, Span};

/// Errors while reading CoNLL data or writing predictions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConllError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A line does not look like CoNLL data.
    #[error("{path}:{line}: {reason}")]
    Format {
        /// File involved.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The model failed (only when evaluating).
    #[error(transparent)]
    Model(#[from] NerError),
}

/// One sentence: tokens and their gold tags (as written in the file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConllSentence {
    /// Token texts.
    pub tokens: Vec<String>,
    /// NER tags, same length as `tokens`.
    pub tags: Vec<String>,
}

/// One `-DOCSTART-`-delimited document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConllDocument {
    /// Sentences in file order.
    pub sentences: Vec<ConllSentence>,
}

/// Reads a CoNLL file into documents.
pub fn read_conll(path: &Path) -> Result<Vec<ConllDocument>, ConllError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConllError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_conll(&text, path)
}

/// Parses CoNLL text; `path` is only used in error messages.
pub fn parse_conll(text: &str, path: &Path) -> Result<Vec<ConllDocument>, ConllError> {
    let mut docs: Vec<ConllDocument> = Vec::new();
    let mut doc = ConllDocument::default();
    let mut sent = ConllSentence::default();
    for (i, line) in text.lines().enumerate() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else {
            if !sent.tokens.is_empty() {
                doc.sentences.push(std::mem::take(&mut sent));
            }
            continue;
        };
        if first == "-DOCSTART-" {
            if !sent.tokens.is_empty() {
                doc.sentences.push(std::mem::take(&mut sent));
            }
            if !doc.sentences.is_empty() {
                docs.push(std::mem::take(&mut doc));
            }
            continue;
        }
        let Some(tag) = fields.last() else {
            return Err(ConllError::Format {
                path: path.to_path_buf(),
                line: i + 1,
                reason: format!("expected at least `token tag`, got {line:?}"),
            });
        };
        if tag != "O" && parse_tag(tag).is_none() {
            return Err(ConllError::Format {
                path: path.to_path_buf(),
                line: i + 1,
                reason: format!("unsupported tag {tag:?}: expected O, B-TYPE or I-TYPE"),
            });
        }
        sent.tokens.push(first.to_string());
        sent.tags.push(tag.to_string());
    }
    if !sent.tokens.is_empty() {
        doc.sentences.push(sent);
    }
    if !doc.sentences.is_empty() {
        docs.push(doc);
    }
    Ok(docs)
}

/// Splits `B-PER` into (`'B'`, `"PER"`); `None` for `O` or malformed tags.
fn parse_tag(tag: &str) -> Option<(char, &str)> {
    let (prefix, typ) = tag.split_once('-')?;
    match prefix {
        "B" if !typ.is_empty() => Some(('B', typ)),
        "I" if !typ.is_empty() => Some(('I', typ)),
        _ => None,
    }
}

/// Phrases `(start, end_exclusive, type)` of one sentence's tags, as conlleval finds them.
/// Malformed tags count as `O`.
pub fn chunks<S: AsRef<str>>(tags: &[S]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    for (i, tag) in tags.iter().enumerate() {
        let parsed = parse_tag(tag.as_ref());
        let begins = match (parsed, open) {
            (Some(('B', _)), _) => true,
            (Some((_, t)), Some((_, cur))) => t != cur,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if let Some((s, cur)) = open {
            if parsed.is_none() || begins {
                out.push((s, i, cur.to_string()));
                open = None;
            }
        }
        if begins {
            open = parsed.map(|(_, t)| (i, t));
        }
    }
    if let Some((s, cur)) = open {
        out.push((s, tags.len(), cur.to_string()));
    }
    out
}

/// Gold/predicted/correct phrase counts for one type (or overall).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Gold phrases.
    pub gold: usize,
    /// Predicted phrases.
    pub pred: usize,
    /// Predicted phrases exactly matching a gold phrase.
    pub correct: usize,
}

impl Counts {
    /// Precision in [0, 1]; 0 when nothing was predicted (conlleval convention).
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.pred)
    }
    /// Recall in [0, 1]; 0 when there is no gold phrase.
    pub fn recall(&self) -> f64 {
        ratio(self.correct, self.gold)
    }
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// A conlleval-style evaluation result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Tokens scored.
    pub tokens: usize,
    /// Tokens whose predicted tag string equals the gold one.
    pub tokens_correct: usize,
    /// Micro-averaged counts over all types.
    pub overall: Counts,
    /// Counts per type, sorted by type name.
    pub per_type: BTreeMap<String, Counts>,
}

impl Report {
    /// Adds one sentence's gold and predicted tags (equal lengths; extra tags are ignored).
    pub fn add_sentence<G: AsRef<str>, P: AsRef<str>>(&mut self, gold: &[G], pred: &[P]) {
        let n = gold.len().min(pred.len());
        self.tokens += n;
        self.tokens_correct += (0..n)
            .filter(|&i| gold[i].as_ref() == pred[i].as_ref())
            .count();
        let g = chunks(&gold[..n]);
        let p = chunks(&pred[..n]);
        for (_, _, t) in &g {
            self.per_type.entry(t.clone()).or_default().gold += 1;
            self.overall.gold += 1;
        }
        for c in &p {
            let e = self.per_type.entry(c.2.clone()).or_default();
            e.pred += 1;
            self.overall.pred += 1;
            if g.contains(c) {
                e.correct += 1;
                self.overall.correct += 1;
            }
        }
    }

    /// Token accuracy in [0, 1].
    pub fn accuracy(&self) -> f64 {
        ratio(self.tokens_correct, self.tokens)
    }

    /// Human-readable summary in the layout of conlleval's output.
    pub fn to_text(&self) -> String {
        let o = &self.overall;
        let mut s = format!(
            "processed {} tokens with {} phrases; found: {} phrases; correct: {}.\n\
             accuracy: {:6.2}%; precision: {:6.2}%; recall: {:6.2}%; FB1: {:6.2}\n",
            self.tokens,
            o.gold,
            o.pred,
            o.correct,
            100.0 * self.accuracy(),
            100.0 * o.precision(),
            100.0 * o.recall(),
            100.0 * o.f1()
        );
        for (t, c) in &self.per_type {
            let _ = writeln!(
                s,
                "{t:>17}: precision: {:6.2}%; recall: {:6.2}%; FB1: {:6.2}  {}",
                100.0 * c.precision(),
                100.0 * c.recall(),
                100.0 * c.f1(),
                c.pred
            );
        }
        s
    }
}

/// Renders spans as IOB1 tags (`I-X`, `B-X` only right after a phrase of the same type), the
/// encoding of the CoNLL-2003 files, so tag accuracy is comparable with the gold column.
pub fn spans_to_iob1(n_tokens: usize, spans: &[Span]) -> Vec<String> {
    let mut tags = vec!["O".to_string(); n_tokens];
    let mut prev_end_type: Option<(usize, CoarseType)> = None;
    for s in spans {
        let end = s.end.min(n_tokens);
        for (k, tag) in tags.iter_mut().enumerate().take(end).skip(s.start) {
            let adjacent = prev_end_type == Some((s.start, s.label));
            let prefix = if k == s.start && adjacent { "B" } else { "I" };
            *tag = format!("{prefix}-{}", s.label.conll_name());
        }
        prev_end_type = Some((end, s.label));
    }
    tags
}

/// Tags every document of a CoNLL file with `model` and scores it against the gold column.
/// With `predictions_out`, also writes `token gold pred` lines (blank line between sentences),
/// readable by `conll_score.py` and conlleval.
pub fn evaluate(
    model: &NerModel,
    conll: &Path,
    predictions_out: Option<&Path>,
) -> Result<Report, ConllError> {
    let docs = read_conll(conll)?;
    let mut report = Report::default();
    let mut out = String::new();
    for doc in &docs {
        let sents: Vec<Vec<&str>> = doc
            .sentences
            .iter()
            .map(|s| s.tokens.iter().map(String::as_str).collect())
            .collect();
        let spans = model.tag_document(&sents);
        score_document(
            doc,
            &spans,
            &mut report,
            predictions_out.is_some().then_some(&mut out),
        );
    }
    write_predictions(predictions_out, &out)?;
    Ok(report)
}

/// Add one document's predicted spans (one list per sentence) to `report`, and append its
/// `token gold pred` lines to `out` when given.
pub fn score_document(
    doc: &ConllDocument,
    spans: &[Vec<Span>],
    report: &mut Report,
    mut out: Option<&mut String>,
) {
    for (i, s) in doc.sentences.iter().enumerate() {
        let pred = spans_to_iob1(s.tokens.len(), spans.get(i).map_or(&[][..], Vec::as_slice));
        report.add_sentence(&s.tags, &pred);
        if let Some(out) = out.as_deref_mut() {
            for ((tok, g), p) in s.tokens.iter().zip(&s.tags).zip(&pred) {
                let _ = writeln!(out, "{tok} {g} {p}");
            }
            out.push('\n');
        }
    }
}

/// Write prediction lines to `path` (nothing when `None`).
pub fn write_predictions(path: Option<&Path>, out: &str) -> Result<(), ConllError> {
    if let Some(path) = path {
        let io = |source| ConllError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut f = std::fs::File::create(path).map_err(io)?;
        f.write_all(out.as_bytes()).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "-DOCSTART- -X- O O\n\n\
U.N. NNP I-NP I-ORG\nofficial NN I-NP O\nEkeus NNP I-NP I-PER\nheads VBZ I-VP O\n\
for IN I-PP O\nBaghdad NNP I-NP I-LOC\n. . O O\n\n\
-DOCSTART- -X- O O\n\n\
John NNP I-NP I-PER\nSmith NNP I-NP I-PER\nand CC O O\nMary NNP I-NP I-PER\n\
met VBD I-VP O\nin IN I-PP O\nNew NNP I-NP I-LOC\nYork NNP I-NP I-LOC\nTimes NNP I-NP I-ORG\n";

    #[test]
    fn reads_documents_and_sentences() {
        let docs = parse_conll(SAMPLE, Path::new("x")).expect("valid sample");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].sentences.len(), 1);
        assert_eq!(docs[0].sentences[0].tokens[0], "U.N.");
        assert_eq!(docs[1].sentences[0].tags[8], "I-ORG");
    }

    #[test]
    fn chunks_follow_conlleval() {
        let c = |t: &[&str]| chunks(t);
        assert_eq!(
            c(&["I-PER", "I-PER", "O", "I-LOC"]),
            vec![(0, 2, "PER".into()), (3, 4, "LOC".into())]
        );
        assert_eq!(
            c(&["I-PER", "B-PER", "I-PER"]),
            vec![(0, 1, "PER".into()), (1, 3, "PER".into())]
        );
        assert_eq!(
            c(&["I-PER", "I-ORG"]),
            vec![(0, 1, "PER".into()), (1, 2, "ORG".into())]
        );
        assert_eq!(
            c(&["B-MISC", "I-ORG", "I-ORG"]),
            vec![(0, 1, "MISC".into()), (1, 3, "ORG".into())]
        );
    }

    #[test]
    fn known_counts_match_reference_scorer() {
        // Same example as conll_score.py's self-test: 7 gold, 7 predicted, 5 correct.
        let docs = parse_conll(SAMPLE, Path::new("x")).expect("valid sample");
        let preds = [
            vec!["I-ORG", "O", "I-PER", "O", "O", "I-PER", "O"],
            vec![
                "B-PER", "I-PER", "O", "I-PER", "O", "O", "I-LOC", "O", "I-ORG",
            ],
        ];
        let mut r = Report::default();
        for (d, p) in docs.iter().zip(&preds) {
            r.add_sentence(&d.sentences[0].tags, p);
        }
        assert_eq!(
            (r.overall.gold, r.overall.pred, r.overall.correct),
            (7, 7, 5)
        );
        assert!((r.overall.f1() - 5.0 / 7.0).abs() < 1e-12);
        let per = &r.per_type["PER"];
        assert_eq!((per.gold, per.pred, per.correct), (3, 4, 3));
        assert_eq!(r.per_type["LOC"].f1(), 0.0);
        assert_eq!(r.per_type["ORG"].f1(), 1.0);
        assert_eq!((r.tokens, r.tokens_correct), (16, 13));
    }

    #[test]
    fn rejects_bad_tag_with_line() {
        let err = parse_conll("a X\n", Path::new("f.conll")).expect_err("bad tag");
        assert!(err.to_string().starts_with("f.conll:1:"), "{err}");
    }

    /// Scores the shipped model on CoNLL-2003 dev when both are present (skips otherwise).
    #[test]
    fn shipped_model_scores_on_dev() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let model = root.join("data/models/ner-conll2003.bin");
        let dev = Path::new("/work/shared/data/conll2003/eng.testa");
        if !model.exists() || !dev.exists() {
            eprintln!("skipping: needs {} and {}", model.display(), dev.display());
            return;
        }
        let m = NerModel::load(&model).expect("shipped model loads");
        let r = evaluate(&m, dev, None).expect("evaluates");
        assert_eq!(r.overall.gold, 5942, "eng.testa has 5942 phrases");
        assert!(r.overall.f1() > 0.90, "dev F1 {}", r.overall.f1());
    }

    #[test]
    fn iob1_rendering_marks_adjacent_phrases() {
        let s = |start, end, label| Span {
            start,
            end,
            label,
            confidence: 1.0,
        };
        let tags = spans_to_iob1(
            4,
            &[
                s(0, 1, CoarseType::Per),
                s(1, 2, CoarseType::Per),
                s(3, 4, CoarseType::Loc),
            ],
        );
        assert_eq!(tags, vec!["I-PER", "B-PER", "O", "I-LOC"]);
    }
}
