//! Article-body extraction metric: word-shingle precision/recall per page, averaged over pages.
//!
//! Same definition as `shared/tools/article_score.py` (the scrapinghub article-extraction-benchmark
//! metric), so figures from `newsmill eval` and from the Python script can be compared directly:
//!
//! * tokens are maximal runs of word characters (letters, digits, underscore), case kept;
//! * shingles are all runs of [`SHINGLE_LEN`] consecutive tokens; a text with 1..3 tokens gives one
//!   shingle of all its tokens, an empty text none;
//! * per page the shingle multisets give tp/fp/fn, normalised by tp+fp+fn so each page weighs the
//!   same; page precision and recall follow the script's edge cases;
//! * [`aggregate`] averages page precision over pages with a non-empty prediction and page recall
//!   over pages with a non-empty truth; F1 is computed from those two means.
//!
//! Word characters follow Python's `\w` (letters, numbers, `_`): Rust's `char::is_alphanumeric`
//! also accepts combining marks (Devanagari vowel signs, Arabic harakat) and circled letters
//! (`ⓒ`), so those are excluded here. With that the Rust and Python figures on the 60 dev pages
//! are identical to 1e-12.

use std::collections::HashMap;

/// Shingle length in tokens (the benchmark uses 4).
pub const SHINGLE_LEN: usize = 4;

/// Normalised per-page counts (tp, fp, fn), each divided by tp+fp+fn (all 0 when both texts are empty).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PageCounts {
    /// Shingles found in both texts (share of all shingles compared).
    pub tp: f64,
    /// Shingles only in the extracted text (excess over the truth).
    pub fp: f64,
    /// Shingles only in the ground truth (missing from the extraction).
    pub fn_: f64,
}

/// Averages over a set of pages, as the benchmark reports them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ExtractScore {
    /// Mean page precision over pages whose prediction has at least one shingle.
    pub precision: f64,
    /// Mean page recall over pages whose truth has at least one shingle.
    pub recall: f64,
    /// Harmonic mean of `precision` and `recall` (not a mean of page F1s).
    pub f1: f64,
    /// Number of pages scored.
    pub pages: usize,
    /// Pages with an empty prediction but a non-empty truth (they count 0 in recall).
    pub empty_predictions: usize,
}

/// Is `c` a word character in the sense of Python's `\w` (see the module doc)?
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    let circled_letter = matches!(c, '\u{24B6}'..='\u{24E9}' | '\u{1F130}'..='\u{1F189}');
    c.is_alphanumeric() && !circled_letter && !unicode_normalization::char::is_combining_mark(c)
}

/// Word tokens of `text`: maximal runs of word characters (letters, numbers, `_`).
pub fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let word = is_word_char(c);
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(&text[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Multiset of shingles of `text` (shingle → count). Only counts are read from it, so the
/// HashMap's iteration order never reaches any output.
fn shingles<'a>(toks: &'a [&'a str]) -> HashMap<&'a [&'a str], usize> {
    let mut m = HashMap::new();
    if toks.is_empty() {
        return m;
    }
    if toks.len() < SHINGLE_LEN {
        m.insert(toks, 1);
        return m;
    }
    for w in toks.windows(SHINGLE_LEN) {
        *m.entry(w).or_insert(0) += 1;
    }
    m
}

/// Normalised tp/fp/fn of one page.
pub fn page_counts(extracted: &str, truth: &str) -> PageCounts {
    let (tt, pt) = (tokens(truth), tokens(extracted));
    let (t, p) = (shingles(&tt), shingles(&pt));
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for (k, &pc) in &p {
        let tc = t.get(k).copied().unwrap_or(0);
        tp += pc.min(tc);
        fp += pc.saturating_sub(tc);
    }
    for (k, &tc) in &t {
        let pc = p.get(k).copied().unwrap_or(0);
        fn_ += tc.saturating_sub(pc);
    }
    let s = (tp + fp + fn_) as f64;
    if s == 0.0 {
        return PageCounts::default();
    }
    PageCounts {
        tp: tp as f64 / s,
        fp: fp as f64 / s,
        fn_: fn_ as f64 / s,
    }
}

fn precision_of(c: PageCounts) -> f64 {
    if c.fp == 0.0 && c.fn_ == 0.0 {
        1.0
    } else if c.tp == 0.0 && c.fp == 0.0 {
        0.0
    } else {
        c.tp / (c.tp + c.fp)
    }
}

fn recall_of(c: PageCounts) -> f64 {
    if c.fp == 0.0 && c.fn_ == 0.0 {
        1.0
    } else if c.tp == 0.0 && c.fn_ == 0.0 {
        0.0
    } else {
        c.tp / (c.tp + c.fn_)
    }
}

/// Page precision and recall of `extracted` against `truth`.
pub fn page_scores(extracted: &str, truth: &str) -> (f64, f64) {
    let c = page_counts(extracted, truth);
    (precision_of(c), recall_of(c))
}

/// Averages page counts the way the benchmark does (see the module doc).
pub fn aggregate(counts: &[PageCounts]) -> ExtractScore {
    let mean = |v: &[f64]| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let ps: Vec<f64> = counts
        .iter()
        .filter(|c| c.tp + c.fp > 0.0)
        .map(|&c| precision_of(c))
        .collect();
    let rs: Vec<f64> = counts
        .iter()
        .filter(|c| c.tp + c.fn_ > 0.0)
        .map(|&c| recall_of(c))
        .collect();
    let (precision, recall) = (mean(&ps), mean(&rs));
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    ExtractScore {
        precision,
        recall,
        f1,
        pages: counts.len(),
        empty_predictions: counts
            .iter()
            .filter(|c| c.tp + c.fp == 0.0 && c.fn_ > 0.0)
            .count(),
    }
}

/// Scores `(extracted, truth)` pairs in the given order.
pub fn score_pages<'a, I>(pairs: I) -> ExtractScore
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let counts: Vec<PageCounts> = pairs.into_iter().map(|(e, t)| page_counts(e, t)).collect();
    aggregate(&counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_on_non_word_characters() {
        assert_eq!(
            tokens("Hello, wörld! it's 2024_x"),
            vec!["Hello", "wörld", "it", "s", "2024_x"]
        );
        assert!(tokens(" ,.; ").is_empty());
        // circled letters and combining marks are not word characters (as in Python)
        assert_eq!(tokens("ⓒ 2019 नमस्ते"), vec!["2019", "नमस", "त"]);
    }

    #[test]
    fn identical_text_scores_one() {
        assert_eq!(
            page_counts("one two three four five", "one two three four five"),
            PageCounts {
                tp: 1.0,
                fp: 0.0,
                fn_: 0.0
            }
        );
        assert_eq!(page_scores("a b", "a b"), (1.0, 1.0));
    }

    #[test]
    fn prefix_prediction_has_full_precision_partial_recall() {
        // truth has 3 shingles, the prediction 2 of them
        let c = page_counts("a b c d e", "a b c d e f");
        assert!(
            (c.tp * 3.0 - 2.0).abs() < 1e-12 && c.fp == 0.0 && (c.fn_ * 3.0 - 1.0).abs() < 1e-12
        );
        let (p, r) = page_scores("a b c d e", "a b c d e f");
        assert!((p - 1.0).abs() < 1e-12 && (r - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn shingles_are_compared_as_multisets() {
        let c = page_counts("x y z w x y z w", "x y z w");
        assert_eq!(
            c,
            PageCounts {
                tp: 0.2,
                fp: 0.8,
                fn_: 0.0
            }
        );
    }

    #[test]
    fn empty_prediction_is_left_out_of_precision() {
        let s = score_pages([("a b c d e", "a b c d e"), ("", "k l m n")]);
        assert_eq!((s.precision, s.recall), (1.0, 0.5));
        assert!((s.f1 - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.empty_predictions, 1);
    }

    #[test]
    fn short_texts_form_one_shingle() {
        assert_eq!(page_scores("a b c", "a b c"), (1.0, 1.0));
        assert_eq!(page_scores("a b c", "a b d"), (0.0, 0.0));
    }
}
