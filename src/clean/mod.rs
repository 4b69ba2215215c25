//! Clean stage: raw article text → normalised, furniture-free, whole-paragraph text, plus a
//! keep/reject verdict.
//!
//! Input: a [`Doc`] fresh from `read/`. Output: the same doc with `text` and `title`
//! rewritten and `lang` set, and a [`Verdict`]. Config: `[clean]` ([`CleanConfig`]).
//!
//! Steps, in order: char normalisation (control/zero-width chars out, exotic spaces to
//! spaces, NFC; curly quotes kept unless configured), paragraph reconstruction (hard-wrapped
//! newswire lines re-joined), boilerplate removal (built-in and configured patterns, and
//! per-source [`Furniture`] learned from the corpus), quality filters (empty, too short, too
//! long, too many non-letters) and language identification with an optional allow-list.
//!
//! [`Cleaner::process`] is a pure function of the doc, the config and the learned furniture,
//! so documents can be cleaned in parallel in any order with the same result.

mod boilerplate;
mod config;
mod furniture;
pub mod html;
mod language;
mod normalize;
mod paragraphs;

pub use boilerplate::BoilerplateMatcher;
pub use config::CleanConfig;
pub use furniture::{source_key, Furniture, FurnitureLearner};
pub use language::{detect as detect_language, LangGuess};
pub use normalize::normalize_chars;
pub use paragraphs::paragraphs;

use serde::Serialize;

use crate::doc::{Doc, RejectReason, Verdict};

/// Errors building the clean stage from its config.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CleanError {
    /// A boilerplate pattern that does not compile.
    #[error("[clean] patterns: {0}")]
    Pattern(#[from] regex::Error),
}

/// What the clean stage did, summed over documents.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CleanStats {
    /// Chars removed or replaced by char normalisation.
    pub chars_normalized: u64,
    /// Hard line breaks re-joined into paragraphs.
    pub lines_unwrapped: u64,
    /// Paragraphs removed by boilerplate patterns.
    pub boilerplate_pattern_removed: u64,
    /// Paragraphs removed as learned per-source furniture.
    pub boilerplate_repeated_removed: u64,
    /// Title lines found again at the start of the body and removed.
    pub title_repeats_removed: u64,
    /// Agency sign-offs ("... said. REUTER") cut from the end of the last paragraph.
    pub signoffs_removed: u64,
    /// HTML pages whose article text was extracted.
    pub html_pages: u64,
    /// HTML pages where extraction found nothing and the whole page's text was used.
    pub html_fallbacks: u64,
}

impl CleanStats {
    /// Add another batch's counts.
    pub fn add(&mut self, o: &CleanStats) {
        self.chars_normalized += o.chars_normalized;
        self.lines_unwrapped += o.lines_unwrapped;
        self.boilerplate_pattern_removed += o.boilerplate_pattern_removed;
        self.boilerplate_repeated_removed += o.boilerplate_repeated_removed;
        self.title_repeats_removed += o.title_repeats_removed;
        self.signoffs_removed += o.signoffs_removed;
        self.html_pages += o.html_pages;
        self.html_fallbacks += o.html_fallbacks;
    }
}

/// The clean stage, built once from `[clean]`.
#[derive(Debug, Clone)]
pub struct Cleaner {
    cfg: CleanConfig,
    html: html::HtmlExtractor,
    boilerplate: BoilerplateMatcher,
    languages: Vec<&'static str>,
}

impl Cleaner {
    /// Compile patterns and check the language list.
    pub fn from_config(cfg: &CleanConfig) -> Result<Cleaner, CleanError> {
        let boilerplate = BoilerplateMatcher::new(
            cfg.builtin_patterns,
            &cfg.patterns,
            cfg.max_boilerplate_line_chars,
        )?;
        let languages = cfg
            .languages
            .iter()
            .filter_map(|l| language::is_known_code(l))
            .collect();
        Ok(Cleaner {
            cfg: cfg.clone(),
            html: html::HtmlExtractor::from_config(&cfg.html),
            boilerplate,
            languages,
        })
    }

    /// The config this cleaner was built from.
    pub fn config(&self) -> &CleanConfig {
        &self.cfg
    }

    /// Normalised paragraphs of a raw text, before any removal; shared by cleaning and
    /// furniture learning so both see paragraphs the same way.
    fn split(&self, text: &str, stats: &mut CleanStats) -> Vec<String> {
        let (norm, changed) = normalize_chars(text, self.cfg.nfc, self.cfg.straighten_quotes);
        stats.chars_normalized += changed;
        let (paras, joined) = paragraphs(&norm, self.cfg.unwrap_lines);
        stats.lines_unwrapped += joined;
        paras
    }

    /// The paragraphs of a raw document that furniture learning should count, with the
    /// document's source key; `None` for documents without a source. Pure, so a batch can
    /// be prepared in parallel and fed to [`FurnitureLearner::observe`] in input order.
    /// Pattern boilerplate is excluded first, so learning sees what patterns leave.
    pub fn furniture_sample(&self, doc: &Doc) -> Option<(u64, Vec<String>)> {
        let key = source_key(doc.source.as_deref(), doc.url.as_deref())?;
        let mut scratch = CleanStats::default();
        let paras: Vec<String> = self
            .split(&doc.text, &mut scratch)
            .into_iter()
            .filter(|p| !self.boilerplate.is_boilerplate(p))
            .collect();
        Some((key, paras))
    }

    /// Feed one raw document to a furniture learner (see [`Cleaner::furniture_sample`]).
    pub fn observe(&self, doc: &Doc, learner: &mut FurnitureLearner) {
        if let Some((key, paras)) = self.furniture_sample(doc) {
            learner.observe(key, &paras, self.cfg.max_boilerplate_line_chars);
        }
    }

    /// Clean one document in place and decide whether it is kept.
    pub fn process(&self, doc: &mut Doc, furniture: &Furniture, stats: &mut CleanStats) -> Verdict {
        if let Some(page) = doc.html.take() {
            if let Some(v) = self.extract_page(doc, &page, stats) {
                return v;
            }
        }
        let key = source_key(doc.source.as_deref(), doc.url.as_deref());
        if let Some(t) = doc.title.take() {
            let (t, _) = normalize_chars(&t, self.cfg.nfc, self.cfg.straighten_quotes);
            let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
            doc.title = (!t.is_empty()).then_some(t);
        }
        let paras = self.split(&doc.text, stats);
        let mut kept: Vec<String> = Vec::with_capacity(paras.len());
        for p in paras {
            if self.boilerplate.is_boilerplate(&p) {
                stats.boilerplate_pattern_removed += 1;
            } else if furniture.contains(key, &p) {
                stats.boilerplate_repeated_removed += 1;
            } else {
                kept.push(p);
            }
        }
        // Scraped bodies often repeat the headline as their first line.
        if let (Some(title), Some(first)) = (doc.title.as_deref(), kept.first()) {
            if first == title && kept.len() > 1 {
                kept.remove(0);
                stats.title_repeats_removed += 1;
            }
        }
        if self.cfg.builtin_patterns {
            if let Some(last) = kept.last_mut() {
                if let Some(cut) = boilerplate::trailing_signoff(last) {
                    last.truncate(cut);
                    stats.signoffs_removed += 1;
                }
            }
        }
        doc.text = kept.join("\n\n");
        self.judge(doc)
    }

    /// Replace a page by its article text and fill metadata the input did not have.
    /// Returns a verdict only when the page cannot become a document.
    fn extract_page(
        &self,
        doc: &mut Doc,
        page: &crate::doc::RawPage,
        stats: &mut CleanStats,
    ) -> Option<Verdict> {
        match self.html.extract(
            &page.bytes,
            page.content_type.as_deref(),
            doc.url.as_deref(),
        ) {
            Ok(x) => {
                stats.html_pages += 1;
                if x.used_fallback {
                    stats.html_fallbacks += 1;
                }
                doc.text = x.text;
                doc.title = doc.title.take().or(x.title);
                doc.published = doc.published.take().or(x.published);
                doc.author = doc.author.take().or(x.author);
                doc.source = doc.source.take().or(x.site_name);
                doc.url = doc.url.take().or(x.canonical_url);
                None
            }
            Err(e) => {
                let reason = match e {
                    html::HtmlError::Binary { .. } => RejectReason::BinaryContent,
                    html::HtmlError::Undecodable { .. } => RejectReason::UndecodableBytes,
                    _ => RejectReason::EmptyText,
                };
                Some(Verdict::Reject(reason, e.to_string()))
            }
        }
    }

    fn judge(&self, doc: &mut Doc) -> Verdict {
        let text = &doc.text;
        if text.is_empty() {
            return Verdict::Reject(
                RejectReason::EmptyText,
                "no text left after cleaning".into(),
            );
        }
        let TextCounts {
            chars: n_chars,
            words,
            letters,
            other,
        } = TextCounts::of(text);
        if n_chars > self.cfg.max_chars {
            return Verdict::Reject(
                RejectReason::TooLong,
                format!("{n_chars} chars > max_chars {}", self.cfg.max_chars),
            );
        }
        if words < self.cfg.min_words {
            return Verdict::Reject(
                RejectReason::TooShort,
                format!("{words} words < min_words {}", self.cfg.min_words),
            );
        }
        let ratio = other as f64 / (letters + other).max(1) as f64;
        if ratio > self.cfg.max_non_letter_ratio {
            return Verdict::Reject(
                RejectReason::TooManyNonLetters,
                format!(
                    "non-letter ratio {ratio:.2} > max_non_letter_ratio {}",
                    self.cfg.max_non_letter_ratio
                ),
            );
        }
        let guess = detect_language(text, self.cfg.lang_sample_chars);
        doc.lang = guess.map(|g| g.code.to_string());
        if !self.languages.is_empty() {
            match guess {
                Some(g) if self.languages.contains(&g.code) => {}
                Some(g) => {
                    return Verdict::Reject(
                        RejectReason::WrongLanguage,
                        format!(
                            "language {} (confidence {:.2}) not in languages [{}]",
                            g.code,
                            g.confidence,
                            self.languages.join(", ")
                        ),
                    )
                }
                None => {
                    return Verdict::Reject(
                        RejectReason::WrongLanguage,
                        "language could not be identified".into(),
                    )
                }
            }
        }
        Verdict::Keep
    }
}

/// What the quality filters measure, in one pass over the text.
#[derive(Debug, Default, PartialEq, Eq)]
struct TextCounts {
    chars: usize,
    /// Whitespace-separated words with at least one letter or digit.
    words: usize,
    letters: usize,
    /// Chars that are neither letters nor whitespace.
    other: usize,
}

impl TextCounts {
    fn of(text: &str) -> TextCounts {
        if text.is_ascii() {
            // Byte classes equal to the char ones on ASCII (`char::is_whitespace` includes
            // the vertical tab 0x0B, which `u8::is_ascii_whitespace` does not).
            Self::tally(text.bytes().map(|c| {
                (
                    matches!(c, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' '),
                    c.is_ascii_alphanumeric(),
                    c.is_ascii_alphabetic(),
                )
            }))
        } else {
            Self::tally(
                text.chars()
                    .map(|c| (c.is_whitespace(), c.is_alphanumeric(), c.is_alphabetic())),
            )
        }
    }

    /// Counts over each char's (whitespace, alphanumeric, alphabetic) classes.
    fn tally(classes: impl Iterator<Item = (bool, bool, bool)>) -> TextCounts {
        let mut n = TextCounts::default();
        let (mut in_word, mut word_alnum) = (false, false);
        for (space, alnum, alpha) in classes {
            n.chars += 1;
            if space {
                n.words += usize::from(in_word && word_alnum);
                (in_word, word_alnum) = (false, false);
                continue;
            }
            in_word = true;
            word_alnum |= alnum;
            if alpha {
                n.letters += 1;
            } else {
                n.other += 1;
            }
        }
        n.words += usize::from(in_word && word_alnum);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filters' original definitions, one pass each.
    fn counts_by_definition(text: &str) -> TextCounts {
        TextCounts {
            chars: text.chars().count(),
            words: text
                .split_whitespace()
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .count(),
            letters: text.chars().filter(|c| c.is_alphabetic()).count(),
            other: text
                .chars()
                .filter(|c| !c.is_alphabetic() && !c.is_whitespace())
                .count(),
        }
    }

    #[test]
    fn one_pass_counts_match_the_definitions() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        for t in [
            "",
            " ",
            "Shr 34 cts vs 1.19 dlrs\n\nNet 807,000 vs 2,858,000",
            "-- ... !!! a",
            "tab\tvt\x0bff\x0ccr\r end",
            every_ascii.as_str(),
            "Zürich\u{a0}hält 3,5 %\u{2003}— «Ja» 東京 ١٢٣",
        ] {
            assert_eq!(TextCounts::of(t), counts_by_definition(t), "{t:?}");
        }
    }

    fn doc(text: &str) -> Doc {
        Doc {
            doc_id: "d".into(),
            text: text.into(),
            ..Doc::default()
        }
    }

    fn clean(cfg: &CleanConfig, d: &mut Doc) -> Verdict {
        Cleaner::from_config(cfg).unwrap().process(
            d,
            &Furniture::default(),
            &mut CleanStats::default(),
        )
    }

    const BODY: &str = "The finance ministry said on Tuesday that exports rose sharply in the third quarter, helped by strong demand for machinery and cars from neighbouring countries.";

    #[test]
    fn removes_footer_and_keeps_body() {
        let mut d = doc(&format!(
            "{BODY}\n\nLeave a Reply\n\n© 2006-2016 Mideast Time."
        ));
        let mut stats = CleanStats::default();
        let v = Cleaner::from_config(&CleanConfig::default())
            .unwrap()
            .process(&mut d, &Furniture::default(), &mut stats);
        assert_eq!(v, Verdict::Keep);
        assert_eq!(d.text, BODY);
        assert_eq!(d.lang.as_deref(), Some("en"));
        assert_eq!(stats.boilerplate_pattern_removed, 2);
    }

    #[test]
    fn rejects_with_reasons() {
        let cfg = CleanConfig::default();
        assert!(matches!(
            clean(&cfg, &mut doc("  \n Leave a Reply \n")),
            Verdict::Reject(RejectReason::EmptyText, _)
        ));
        assert!(matches!(
            clean(&cfg, &mut doc("Too short to be news.")),
            Verdict::Reject(RejectReason::TooShort, _)
        ));
        assert!(matches!(
            clean(
                &cfg,
                &mut doc(&"12,345 67.8 90 | 1,234 -- 5.6 7 8 ".repeat(10))
            ),
            Verdict::Reject(RejectReason::TooManyNonLetters, _)
        ));
        let de = CleanConfig {
            languages: vec!["en".into()],
            ..CleanConfig::default()
        };
        assert!(matches!(
            clean(&de, &mut doc("Die Bundesregierung hat am Dienstag einen neuen Haushaltsentwurf vorgelegt, der deutlich höhere Ausgaben für Bildung und Forschung vorsieht, teilte das Ministerium mit.")),
            Verdict::Reject(RejectReason::WrongLanguage, _)
        ));
    }

    #[test]
    fn learned_furniture_is_removed_per_source() {
        let c = Cleaner::from_config(&CleanConfig::default()).unwrap();
        let mut learner = FurnitureLearner::default();
        for i in 0..4 {
            let mut d = doc(&format!(
                "{BODY} Story {i}.\n\nGazette: independent since 1998"
            ));
            d.source = Some("gazette".into());
            c.observe(&d, &mut learner);
        }
        let furniture = learner.finish(3, 0.05);
        let mut d = doc(&format!("{BODY}\n\nGazette: independent since 1998"));
        d.source = Some("gazette".into());
        let mut stats = CleanStats::default();
        assert_eq!(c.process(&mut d, &furniture, &mut stats), Verdict::Keep);
        assert_eq!(d.text, BODY);
        assert_eq!(stats.boilerplate_repeated_removed, 1);
    }

    #[test]
    fn title_is_normalised_and_not_repeated_in_body() {
        let mut d = doc(&format!("Exports\u{00a0}Rise\n\n{BODY}"));
        d.title = Some(" Exports\u{00a0}Rise ".into());
        assert_eq!(clean(&CleanConfig::default(), &mut d), Verdict::Keep);
        assert_eq!(d.title.as_deref(), Some("Exports Rise"));
        assert_eq!(d.text, BODY);
    }
}
