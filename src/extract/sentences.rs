//! Sentence splitting over [`Token`]s.
//!
//! Input: the text and its tokens from `extract::tokens::tokenize`. Output: sentences as token
//! index ranges that are non-empty, contiguous, in order and cover every token.
//!
//! Rules, in order:
//! - a paragraph break (two or more newlines between tokens) always ends a sentence;
//! - `.`, `!`, `?` and runs like `...`/`?!` end a sentence, together with closing quotes and
//!   brackets that follow them;
//! - a token with an attached period ("U.S.", "Inc.") ends a sentence only when the next token
//!   looks like a sentence start: a capitalised common word ("The", "He", "In") or an opening
//!   quote followed by a capital. Titles ("Mr.", "Gen.") and initials ("J.") never end one.
//!
//! Linear time, no allocation besides the output; never panics.

use std::ops::Range;

use super::tokens::Token;

/// Title abbreviations that always precede a name, so never end a sentence.
const TITLES: &[&str] = &[
    "mr.", "mrs.", "ms.", "dr.", "prof.", "gen.", "col.", "lt.", "sgt.", "capt.", "cmdr.", "adm.",
    "maj.", "brig.", "gov.", "sen.", "rep.", "rev.", "st.", "hon.", "pres.", "no.", "nos.", "vs.",
];

/// Capitalised words that usually start a sentence rather than continue a name; used to decide
/// whether "U.S. The ..." is a boundary. Short closed-class list.
const SENTENCE_STARTERS: &[&str] = &[
    "the",
    "a",
    "an",
    "in",
    "on",
    "at",
    "he",
    "she",
    "it",
    "they",
    "we",
    "i",
    "you",
    "this",
    "that",
    "these",
    "those",
    "but",
    "and",
    "or",
    "however",
    "there",
    "his",
    "her",
    "its",
    "their",
    "our",
    "some",
    "many",
    "most",
    "for",
    "as",
    "after",
    "before",
    "when",
    "while",
    "if",
    "what",
    "who",
    "officials",
    "analysts",
    "under",
    "meanwhile",
    "also",
    "both",
    "one",
    "two",
    "last",
    "earlier",
    "later",
    "since",
    "by",
    "with",
    "from",
    "to",
    "of",
    "no",
    "not",
    "all",
    "such",
    "other",
];

fn is_closer(s: &str) -> bool {
    matches!(
        s,
        "\"" | "'" | "''" | ")" | "]" | "}" | "\u{201D}" | "\u{2019}" | "\u{00BB}"
    )
}

fn is_opener(s: &str) -> bool {
    matches!(
        s,
        "\"" | "``" | "(" | "[" | "\u{201C}" | "\u{2018}" | "\u{00AB}"
    )
}

fn is_terminal(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| matches!(c, '.' | '!' | '?' | '\u{2026}'))
}

fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

/// True when the token after an attached-period abbreviation looks like a new sentence.
fn looks_like_start(text: &str, tokens: &[Token], k: usize) -> bool {
    let Some(t) = tokens.get(k) else {
        return true;
    };
    let s = t.text(text);
    if is_opener(s) {
        return tokens
            .get(k + 1)
            .is_some_and(|n| starts_upper(n.text(text)));
    }
    if !starts_upper(s) {
        return false;
    }
    let lower = s.to_lowercase();
    SENTENCE_STARTERS.contains(&lower.as_str())
}

/// Whether the gap between two tokens holds a paragraph break (2+ newlines).
fn paragraph_break(text: &str, a: &Token, b: &Token) -> bool {
    text.get(a.byte_end..b.byte_start)
        .is_some_and(|gap| gap.bytes().filter(|&c| c == b'\n').count() >= 2)
}

/// Splits tokens into sentences (token index ranges).
pub fn split_sentences(text: &str, tokens: &[Token]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < tokens.len() {
        let s = tokens[i].text(text);
        let mut end_here = false;
        if is_terminal(s) {
            end_here = true;
        } else if s.len() > 1 && s.ends_with('.') {
            let lower = s.to_lowercase();
            let initial = s.chars().count() == 2 && starts_upper(s);
            if !initial && !TITLES.contains(&lower.as_str()) {
                end_here = looks_like_start(text, tokens, i + 1);
            }
        }
        if end_here {
            // Keep closing quotes/brackets with the sentence they close.
            while i + 1 < tokens.len()
                && is_closer(tokens[i + 1].text(text))
                && !paragraph_break(text, &tokens[i], &tokens[i + 1])
            {
                i += 1;
            }
        } else if i + 1 < tokens.len() && paragraph_break(text, &tokens[i], &tokens[i + 1]) {
            end_here = true;
        }
        if end_here || i + 1 == tokens.len() {
            out.push(start..i + 1);
            start = i + 1;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::tokens::tokenize;

    fn sents(s: &str) -> Vec<String> {
        let t = tokenize(s);
        split_sentences(s, &t)
            .into_iter()
            .map(|r| t[r].iter().map(|x| x.text(s)).collect::<Vec<_>>().join(" "))
            .collect()
    }

    #[test]
    fn abbreviations_do_not_end_sentences() {
        assert_eq!(
            sents("Mr. J. Smith of the U.S. Army met Gen. Lee in Sept. 1996. He left."),
            vec![
                "Mr. J. Smith of the U.S. Army met Gen. Lee in Sept. 1996 .",
                "He left ."
            ]
        );
    }

    #[test]
    fn abbreviation_before_sentence_start_ends() {
        assert_eq!(
            sents("It was sold to the U.S. The next day it rained."),
            vec!["It was sold to the U.S.", "The next day it rained ."]
        );
    }

    #[test]
    fn quotes_stay_and_paragraphs_split() {
        assert_eq!(
            sents("\"We won.\" She smiled\n\nHeadline here\nwrapped line"),
            vec!["\" We won . \"", "She smiled", "Headline here wrapped line"]
        );
    }

    #[test]
    fn covers_all_tokens_and_handles_empty() {
        assert!(split_sentences("", &[]).is_empty());
        let s = "a. b! c? ... d";
        let t = tokenize(s);
        let r = split_sentences(s, &t);
        assert_eq!(r.first().map(|x| x.start), Some(0));
        assert_eq!(r.last().map(|x| x.end), Some(t.len()));
        for w in r.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
    }
}
