//! `[clean]` section.

use serde::{Deserialize, Serialize};

use super::html::HtmlConfig;

/// `[clean]`: text normalisation, boilerplate removal and quality filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CleanConfig {
    /// Apply Unicode NFC normalisation. Default true.
    pub nfc: bool,
    /// Replace curly quotes and apostrophes with ASCII ones. Default false: the text's own
    /// typography is kept.
    pub straighten_quotes: bool,
    /// Re-join hard-wrapped lines (newswire wraps at ~65 chars) into whole paragraphs.
    /// Default true.
    pub unwrap_lines: bool,
    /// Use the built-in boilerplate line patterns ("Leave a Reply", "© 2006-2016 Site",
    /// share/subscribe/cookie lines, agency sign-offs). Default true.
    pub builtin_patterns: bool,
    /// Extra boilerplate patterns: regular expressions matched case-insensitively against
    /// each whole trimmed line. Default none.
    pub patterns: Vec<String>,
    /// Lines longer than this (chars) are never treated as boilerplate: furniture is short,
    /// news paragraphs are not. Default 200.
    pub max_boilerplate_line_chars: usize,
    /// Learn per-source furniture: a line repeated in many documents of the same source
    /// (the `source` field, else the URL's host) is removed. Default true.
    pub repeated_lines: bool,
    /// A line is furniture when it occurs in at least this many documents of its source...
    /// Default 3.
    pub repeated_min_docs: u32,
    /// ...and in at least this share of the source's sampled documents. Default 0.05.
    pub repeated_min_share: f64,
    /// Documents read (from the start of the input) to learn repeated lines. Learning
    /// memory is bounded by this sample. Default 50000.
    pub repeated_sample_docs: u64,
    /// Reject documents with fewer words than this after cleaning. Default 15.
    pub min_words: usize,
    /// Reject documents with more chars than this after cleaning. Default 1000000.
    pub max_chars: usize,
    /// Reject documents where the share of chars that are neither letters nor whitespace
    /// exceeds this (tables, code, binary junk). In [0, 1]; default 0.4.
    pub max_non_letter_ratio: f64,
    /// Language allow-list (ISO 639-1 codes, e.g. ["en"]). Empty keeps every language.
    /// Default empty.
    pub languages: Vec<String>,
    /// Chars of text (from the start) used for language identification. Default 2000.
    pub lang_sample_chars: usize,
    /// `[clean.html]`: main-text extraction for HTML inputs.
    pub html: HtmlConfig,
}

impl Default for CleanConfig {
    fn default() -> Self {
        CleanConfig {
            nfc: true,
            straighten_quotes: false,
            unwrap_lines: true,
            builtin_patterns: true,
            patterns: Vec::new(),
            max_boilerplate_line_chars: 200,
            repeated_lines: true,
            repeated_min_docs: 3,
            repeated_min_share: 0.05,
            repeated_sample_docs: 50_000,
            min_words: 15,
            max_chars: 1_000_000,
            max_non_letter_ratio: 0.4,
            languages: Vec::new(),
            lang_sample_chars: 2000,
            html: HtmlConfig::default(),
        }
    }
}

impl CleanConfig {
    /// Problems with the section, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if !(0.0..=1.0).contains(&self.max_non_letter_ratio) {
            errs.push(format!(
                "[clean] max_non_letter_ratio: must be in [0, 1], got {}",
                self.max_non_letter_ratio
            ));
        }
        if !(0.0..=1.0).contains(&self.repeated_min_share) {
            errs.push(format!(
                "[clean] repeated_min_share: must be in [0, 1], got {}",
                self.repeated_min_share
            ));
        }
        if self.repeated_min_docs < 2 {
            errs.push(format!(
                "[clean] repeated_min_docs: must be at least 2, got {}",
                self.repeated_min_docs
            ));
        }
        if self.max_chars == 0 {
            errs.push("[clean] max_chars: must be positive".into());
        }
        for (i, p) in self.patterns.iter().enumerate() {
            if let Err(e) = regex::Regex::new(p) {
                errs.push(format!("[clean] patterns[{i}]: invalid regex {p:?}: {e}"));
            }
        }
        errs.extend(self.html.validate());
        for l in &self.languages {
            if super::language::is_known_code(l).is_none() {
                errs.push(format!(
                    "[clean] languages: unknown ISO 639-1 code {l:?} (e.g. \"en\", \"de\")"
                ));
            }
        }
        errs
    }
}
