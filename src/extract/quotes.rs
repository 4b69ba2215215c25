//! Quotations: direct speech in quotation marks and reported speech ("X said that ..."),
//! each attributed to a speaker mention when one can be found.
//!
//! Input: clean text, tokens, sentence token ranges and the extract stage's [`Mention`]s.
//! Output: [`Quote`]s sorted by (start, end). No config section.
//!
//! - **direct**: a span between “…” (or a pair of straight `"` in one paragraph) of at least
//!   [`MIN_QUOTE_WORDS`] words, with a speech verb right after it (`“…,” said X`, `"…," X said`)
//!   or right before it (`X said: “…”`). Scare quotes without a verb are not quotes.
//! - **reported**: a speech verb outside quotation marks with a subject before it
//!   (`X said (that) …`, `X added …`, `X told reporters …`) or an inverted tail
//!   (`…, said X`); the quote is the clause after (or before) the verb, within the sentence.
//!
//! The speaker is a PERSON, ORG or GPE mention; a sentence-initial "He"/"She" resolves to the
//! first PERSON of the nearest earlier sentence that has one. When the speaker is a plain
//! noun phrase ("The committee said"), `speaker` is `None` and `speaker_text` holds the phrase.
//! Deterministic; never panics on any input.

use std::borrow::Cow;
use std::ops::Range;

use crate::doc::{EntityType, Mention};
use crate::extract::relations::token_span;
use crate::extract::tokens::Token;

/// Shorter quoted spans are names or scare quotes ("the so-called “deal”"), not speech.
pub const MIN_QUOTE_WORDS: usize = 3;

/// Longest direct quote considered, in chars; an unpaired quotation mark must not swallow
/// the rest of the article.
const MAX_QUOTE_CHARS: usize = 3000;

/// Longest noun-phrase speaker ("A spokesperson for the Iraq Prime Minister's office"), tokens.
const MAX_SPEAKER_PHRASE_TOKENS: usize = 10;

/// Speech verbs (lowercase, as they appear).
const SPEECH_VERBS: &[&str] = &[
    "said",
    "says",
    "say",
    "added",
    "adds",
    "told",
    "tells",
    "stated",
    "states",
    "announced",
    "warned",
    "claimed",
    "argued",
    "insisted",
    "noted",
    "explained",
    "asserted",
    "declared",
    "stressed",
    "wrote",
    "acknowledged",
    "confirmed",
    "denied",
    "replied",
    "urged",
    "commented",
    "remarked",
    "emphasized",
    "emphasised",
    "maintained",
];

/// One quotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// Sentence where the quote starts.
    pub sentence: usize,
    /// Speaker, as an index into the mentions.
    pub speaker: Option<usize>,
    /// Speaker's surface text (the mention's, or a noun phrase such as "The committee").
    pub speaker_text: Option<String>,
    /// The quoted or reported text, without quotation marks.
    pub quote: String,
    /// First char of the quoted text.
    pub start: usize,
    /// One past its last char.
    pub end: usize,
    /// The speech verb, lowercase ("said").
    pub verb: String,
    /// `"direct"` or `"reported"`.
    pub kind: &'static str,
}

struct Ctx<'a> {
    text: &'a str,
    tokens: &'a [Token],
    sentences: &'a [Range<usize>],
    mentions: &'a [Mention],
    /// (token start, token end, mention) for speaker-capable mentions.
    spans: Vec<(usize, usize, usize)>,
}

impl Ctx<'_> {
    fn word(&self, i: usize) -> &str {
        self.tokens.get(i).map(|t| t.text(self.text)).unwrap_or("")
    }
    fn lower(&self, i: usize) -> Cow<'_, str> {
        crate::extract::tokens::lowercase(self.word(i))
    }
    fn is_verb(&self, i: usize) -> bool {
        const SPEECH: crate::extract::tokens::WordSet =
            crate::extract::tokens::WordSet::new(SPEECH_VERBS);
        SPEECH.contains_lowercase(self.word(i))
    }
    /// `self.lower(i) == target`, without a copy.
    fn is(&self, i: usize, target: &str) -> bool {
        crate::extract::tokens::lowercase_is(self.word(i), target)
    }
    /// `targets.contains(&self.lower(i))`, without a copy.
    fn is_any(&self, i: usize, targets: &[&str]) -> bool {
        crate::extract::tokens::lowercase_in(self.word(i), targets)
    }
    fn sentence_of(&self, tok: usize) -> Option<usize> {
        let i = self.sentences.partition_point(|r| r.end <= tok);
        self.sentences
            .get(i)
            .filter(|r| r.contains(&tok))
            .map(|_| i)
    }
    fn starting_at(&self, t: usize) -> Option<usize> {
        self.spans.iter().find(|s| s.0 == t).map(|s| s.2)
    }
    fn ending_at(&self, t: usize) -> Option<(usize, usize)> {
        self.spans.iter().find(|s| s.1 == t).map(|s| (s.0, s.2))
    }
    fn slice(&self, a: usize, b: usize) -> String {
        if a >= b || b > self.tokens.len() {
            return String::new();
        }
        self.text
            .get(self.tokens[a].byte_start..self.tokens[b - 1].byte_end)
            .unwrap_or("")
            .to_string()
    }
    fn speaker_of_mention(&self, m: usize) -> (Option<usize>, Option<String>) {
        (Some(m), Some(self.mentions[m].text.clone()))
    }
    /// A pronoun at `t` that starts its sentence, resolved.
    fn pronoun(&self, t: usize) -> Option<(Option<usize>, Option<String>)> {
        let si = self.sentence_of(t)?;
        if self.sentences[si].start != t
            || !crate::extract::relations::is_person_pronoun(self.word(t))
        {
            return None;
        }
        let m = crate::extract::relations::pronoun_antecedent(si, self.mentions)?;
        Some(self.speaker_of_mention(m))
    }
    /// Speaker whose phrase ends right before token `v` (the verb), within sentence `r`.
    fn speaker_before(
        &self,
        r: &Range<usize>,
        v: usize,
    ) -> Option<(Option<usize>, Option<String>)> {
        // "X said", "X also said".
        let mut e = v;
        while e > r.start && self.is_any(e - 1, &["also", "later", "then", "has", "had", "have"]) {
            e -= 1;
        }
        if let Some((ms, m)) = self.ending_at(e) {
            // "The Joint Operations Command in Iraq said": the place is not the speaker.
            let after_prep =
                ms > r.start && self.is_any(ms - 1, &["in", "of", "for", "from", "at", "with"]);
            if !after_prep {
                return Some(self.speaker_of_mention(m));
            }
        }
        if e > r.start {
            if let Some(p) = self.pronoun(e - 1) {
                return Some(p);
            }
        }
        // "X, the foreign minister, said": a clause-initial mention.
        let mut s = r.start;
        if self.is_any(s, &["the", "a", "an"]) {
            s += 1;
        }
        if let Some(m) = self.starting_at(s) {
            if e - s <= MAX_SPEAKER_PHRASE_TOKENS {
                return Some(self.speaker_of_mention(m));
            }
        }
        // "The committee said": a short noun phrase from the sentence start.
        let first = self.word(r.start);
        if e > r.start
            && e - r.start <= MAX_SPEAKER_PHRASE_TOKENS
            && first.chars().next().is_some_and(char::is_uppercase)
            && (r.start..e).all(|i| !matches!(self.word(i), "," | ";" | ":"))
        {
            return Some((None, Some(self.slice(r.start, e))));
        }
        None
    }
    /// Speaker right after token `v` ("said X", "said the government on Sunday").
    fn speaker_after(&self, r: &Range<usize>, v: usize) -> Option<(Option<usize>, Option<String>)> {
        let t = v + 1;
        if let Some(m) = self.starting_at(t) {
            return Some(self.speaker_of_mention(m));
        }
        if self.is_any(t, &["he", "she"]) {
            let si = self.sentence_of(t)?;
            let m = crate::extract::relations::pronoun_antecedent(si + 1, self.mentions)
                .filter(|&m| self.mentions[m].sentence <= si)?;
            return Some(self.speaker_of_mention(m));
        }
        if self.is_any(t, &["the", "a", "an"]) {
            let mut e = t + 1;
            while e < r.end
                && e < t + MAX_SPEAKER_PHRASE_TOKENS
                && !matches!(
                    self.lower(e).as_ref(),
                    "," | "." | "on" | "in" | "at" | "that" | ";" | "\u{201c}" | "\""
                )
            {
                e += 1;
            }
            if e > t + 1 {
                if let Some(m) = (t + 1..e).find_map(|i| self.starting_at(i)) {
                    return Some(self.speaker_of_mention(m));
                }
                return Some((None, Some(self.slice(t, e))));
            }
        }
        None
    }
}

fn is_open(c: char) -> bool {
    matches!(c, '\u{201c}' | '"' | '\u{ab}')
}

fn closing_for(c: char) -> char {
    match c {
        '\u{201c}' => '\u{201d}',
        '\u{ab}' => '\u{bb}',
        _ => '"',
    }
}

/// Quoted spans as token index pairs (open mark token, close mark token).
fn quote_marks(c: &Ctx) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.tokens.len() {
        let w = c.word(i);
        let ch = w.chars().next().unwrap_or(' ');
        if is_open(ch) && w.chars().count() == 1 {
            let close = closing_for(ch);
            let mut j = i + 1;
            let mut found = None;
            while j < c.tokens.len() && c.tokens[j].start - c.tokens[i].end <= MAX_QUOTE_CHARS {
                let wj = c.word(j);
                if wj.starts_with(close) && wj.chars().count() == 1 {
                    found = Some(j);
                    break;
                }
                // A straight quote may not cross a paragraph break.
                if ch == '"'
                    && c.text
                        .get(c.tokens[j - 1].byte_end..c.tokens[j].byte_start)
                        .is_some_and(|g| g.contains("\n\n"))
                {
                    break;
                }
                j += 1;
            }
            if let Some(j) = found {
                out.push((i, j));
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn trim_punct(c: &Ctx, a: usize, mut b: usize) -> usize {
    while b > a
        && matches!(
            c.word(b - 1),
            "," | "." | ";" | ":" | "!" | "?" | "-" | "--"
        )
    {
        b -= 1;
    }
    b
}

/// All quotes of a document, sorted by (start, end).
pub fn extract_quotes(
    text: &str,
    tokens: &[Token],
    sentences: &[Range<usize>],
    mentions: &[Mention],
) -> Vec<Quote> {
    let spans = mentions
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            matches!(
                m.etype,
                EntityType::Person | EntityType::Org | EntityType::Gpe
            )
        })
        .filter_map(|(i, m)| token_span(tokens, m.start, m.end).map(|r| (r.start, r.end, i)))
        .collect();
    let c = Ctx {
        text,
        tokens,
        sentences,
        mentions,
        spans,
    };
    let mut out = Vec::new();
    let marks = quote_marks(&c);
    let mut used_verbs = std::collections::BTreeSet::new();
    let inside = |t: usize| marks.iter().any(|&(a, b)| t > a && t < b);
    for &(a, b) in &marks {
        let qa = a + 1;
        let qb = trim_punct(&c, qa, b);
        if qb < qa + MIN_QUOTE_WORDS {
            continue;
        }
        let Some(si) = c.sentence_of(qa) else {
            continue;
        };
        let sr = c.sentences[si].clone();
        let after_sent = c
            .sentence_of(b + 1)
            .map(|s| c.sentences[s].clone())
            .unwrap_or(sr.clone());
        let mut found = None;
        // “…,” said X   /   “…,” X said
        let mut v = b + 1;
        if c.word(v) == "," {
            v += 1;
        }
        if c.is_verb(v) {
            if let Some(sp) = c.speaker_after(&after_sent, v) {
                found = Some((v, sp));
            }
        } else if let Some(m) = c.starting_at(v) {
            let e = c.spans.iter().find(|s| s.2 == m).map(|s| s.1).unwrap_or(v);
            if c.is_verb(e) {
                found = Some((e, c.speaker_of_mention(m)));
            }
        } else if c.is_any(v, &["he", "she"]) && c.is_verb(v + 1) {
            // “…,” he said
            if let Some(sp) = c.speaker_after(&after_sent, v.saturating_sub(1)) {
                found = Some((v + 1, sp));
            }
        }
        // X said: “…”
        if found.is_none() && a > 0 {
            let mut v = a - 1;
            if matches!(c.word(v), ":" | ",") && v > 0 {
                v -= 1;
            }
            if c.is(v, "reporters") && v > 0 {
                v -= 1;
            }
            if c.is_verb(v) {
                let vs = c
                    .sentence_of(v)
                    .map(|s| c.sentences[s].clone())
                    .unwrap_or(sr.clone());
                if let Some(sp) = c.speaker_before(&vs, v) {
                    found = Some((v, sp));
                }
            }
        }
        let Some((v, (speaker, speaker_text))) = found else {
            continue;
        };
        used_verbs.insert(v);
        out.push(Quote {
            sentence: si,
            speaker,
            speaker_text,
            quote: c.slice(qa, qb),
            start: tokens[qa].start,
            end: tokens[qb - 1].end,
            verb: c.lower(v).into_owned(),
            kind: "direct",
        });
    }
    // Reported speech.
    for (si, r) in sentences.iter().enumerate() {
        if r.end > tokens.len() {
            continue;
        }
        for v in r.clone() {
            if !c.is_verb(v) || used_verbs.contains(&v) || inside(v) {
                continue;
            }
            if marks.iter().any(|&(a, b)| {
                a >= r.start && b < r.end && (a == v + 1 || a == v + 2 || b + 1 == v || b + 2 == v)
            }) {
                continue;
            }
            // Inverted: "…, said the government on Sunday."
            if v > r.start && c.word(v - 1) == "," {
                if let Some((speaker, speaker_text)) = c.speaker_after(r, v) {
                    let qb = trim_punct(&c, r.start, v - 1);
                    if qb >= r.start + MIN_QUOTE_WORDS {
                        out.push(Quote {
                            sentence: si,
                            speaker,
                            speaker_text,
                            quote: c.slice(r.start, qb),
                            start: tokens[r.start].start,
                            end: tokens[qb - 1].end,
                            verb: c.lower(v).into_owned(),
                            kind: "reported",
                        });
                    }
                    continue;
                }
            }
            let Some((speaker, speaker_text)) = c.speaker_before(r, v) else {
                continue;
            };
            let mut qa = v + 1;
            if c.is_any(v, &["told", "tells"]) {
                // "told reporters", "told Reuters", "told him"
                if let Some(m) = c.starting_at(qa) {
                    qa = c
                        .spans
                        .iter()
                        .find(|s| s.2 == m)
                        .map(|s| s.1)
                        .unwrap_or(qa + 1);
                } else {
                    qa += 1;
                }
            }
            while qa < r.end && c.is_any(qa, &["that", "on", ",", ":"]) {
                // "said on Sunday that": skip a short time phrase too.
                if c.is(qa, "on") {
                    qa += 2;
                } else {
                    qa += 1;
                }
            }
            let qb = trim_punct(&c, qa, r.end);
            if qb < qa + MIN_QUOTE_WORDS || qa >= r.end {
                continue;
            }
            out.push(Quote {
                sentence: si,
                speaker,
                speaker_text,
                quote: c.slice(qa, qb),
                start: tokens[qa].start,
                end: tokens[qb - 1].end,
                verb: c.lower(v).into_owned(),
                kind: "reported",
            });
            break;
        }
    }
    out.sort_by(|a, b| (a.start, a.end, &a.verb).cmp(&(b.start, b.end, &b.verb)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::sentences::split_sentences;
    use crate::extract::tokens::tokenize;
    use crate::extract::{ExtractConfig, Extractor};
    use std::path::Path;

    fn run(text: &str) -> (Vec<Mention>, Vec<Quote>) {
        let x = Extractor::from_config(&ExtractConfig::default(), Path::new(".")).unwrap();
        let toks = tokenize(text);
        let sents = split_sentences(text, &toks);
        let m = x.process_tokens(text, None, &toks, &sents).mentions;
        let q = extract_quotes(text, &toks, &sents, &m);
        (m, q)
    }

    fn speaker<'a>(m: &'a [Mention], q: &Quote) -> &'a str {
        q.speaker.map(|i| m[i].entity.name.as_str()).unwrap_or("")
    }

    #[test]
    fn pronoun_speaker_resolves_to_previous_person() {
        let (m, q) = run("Angela Merkel the Chancellor of Germany also voiced concern about the plan. She said the talks must continue before any vote in Berlin.");
        let q = q
            .iter()
            .find(|q| q.quote.contains("the talks must continue"))
            .expect("quote");
        assert_eq!(speaker(&m, q), "Angela Merkel");
        assert_eq!(q.kind, "reported");
        assert_eq!(q.verb, "said");
    }

    #[test]
    fn direct_quotes_in_three_shapes() {
        let text = "\u{201c}We will not accept this deal,\u{201d} said Boris Johnson on Monday. Emmanuel Macron said: \u{201c}France stands ready to help.\u{201d} \"The market is calm today,\" Janet Yellen said.";
        let (m, q) = run(text);
        let d: Vec<&Quote> = q.iter().filter(|q| q.kind == "direct").collect();
        assert_eq!(d.len(), 3, "{q:#?}");
        assert_eq!(d[0].quote, "We will not accept this deal");
        assert_eq!(speaker(&m, d[0]), "Boris Johnson");
        assert_eq!(speaker(&m, d[1]), "Emmanuel Macron");
        assert_eq!(speaker(&m, d[2]), "Janet Yellen");
        for x in &d {
            let s: String = text.chars().skip(x.start).take(x.end - x.start).collect();
            assert_eq!(s, x.quote);
        }
    }

    #[test]
    fn inverted_reported_speech_keeps_a_noun_phrase_speaker() {
        let (_, q) = run("Four countries agreed to set up a joint office in Baghdad, said the government on Sunday.");
        assert_eq!(q.len(), 1, "{q:#?}");
        assert_eq!(q[0].speaker, None);
        assert_eq!(q[0].speaker_text.as_deref(), Some("the government"));
        assert!(q[0].quote.starts_with("Four countries agreed"));
    }

    #[test]
    fn scare_quotes_and_empty_input_give_nothing() {
        assert!(run("").1.is_empty());
        assert!(
            run("The so-called \u{201c}deal\u{201d} was signed in Paris.")
                .1
                .is_empty()
        );
    }

    #[test]
    fn told_reporters_and_pronoun_after_direct_quote() {
        let text = "Boris Johnson visited the factory on Monday. \u{201c}This is a great day for the town,\u{201d} he said. Angela Merkel told reporters that the deal was fair to everyone.";
        let x = Extractor::from_config(&ExtractConfig::default(), Path::new(".")).unwrap();
        let toks = tokenize(text);
        let sents = split_sentences(text, &toks);
        let m = x.process_tokens(text, None, &toks, &sents).mentions;
        let q = extract_quotes(text, &toks, &sents, &m);
        let name = |q: &Quote| q.speaker.map(|i| m[i].entity.name.clone());
        let d = q.iter().find(|q| q.kind == "direct").expect("direct quote");
        assert_eq!(d.quote, "This is a great day for the town");
        assert_eq!(name(d).as_deref(), Some("Boris Johnson"));
        let r = q.iter().find(|q| q.verb == "told").expect("told");
        assert_eq!(r.quote, "the deal was fair to everyone");
        assert_eq!(name(r).as_deref(), Some("Angela Merkel"));
    }
}
