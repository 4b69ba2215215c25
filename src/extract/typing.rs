//! Fine typing: coarse model spans (PER/ORG/LOC/MISC) plus gazetteer evidence become DESIGN.md's
//! types (PERSON, ORG, GPE, LOC, NORP, EVENT, MISC), and the gazetteer adds high-confidence
//! names the model missed.
//!
//! Input: one sentence's token texts, the model's spans for it and the [`Gazetteer`].
//! Output: [`Candidate`]s (token ranges, type, gazetteer hit) for the linker.
//!
//! Rules (model label → type):
//! - PER → PERSON, leading titles trimmed ("President Bashar al-Assad" → "Bashar al-Assad");
//!   a PER span that is a listed organisation or a demonym takes the list's type.
//! - ORG → ORG ("ORG stays ORG": "Russia" as a team stays ORG); a listed organisation keeps its
//!   canonical name; a lone demonym becomes NORP.
//! - LOC → GPE for countries, cities and US states, ORG/NORP/EVENT for listed names, else LOC.
//! - MISC → NORP for demonyms and listed groups ("Russian", "Sunnis"), GPE for places, EVENT for
//!   listed events or names ending in an event word ("... Summit"), else MISC.
//!
//! Gazetteer-only mentions (model missed them) are added, never overlapping a model span, for
//! exact-case matches that start with a capital letter or digit of: countries (canonical names
//! and curated aliases such as "U.S."), former countries, demonyms, listed organisations, groups
//! and events, US states, and cities of ≥ 1M people or capitals of ≥ 100k. Never added: weak
//! aliases (native spellings like "Suisse", acronyms like "ICC"), city/state aliases,
//! subdivisions, and place names that are common words or first names ("Male", "Victoria").
//! Short acronyms ("IS", "UN") are skipped in shouted (all-caps) text, and a single word glued
//! to another capitalised word is skipped as part of a longer name ("Christian Bale") — except
//! unambiguous countries, which headlines glue to title-case words ("Iraq Create New ...").

use std::ops::Range;

use crate::doc::EntityType;
use crate::extract::gazetteer::{Gazetteer, Hit, HitKind, TitleKind, BIG_CITY_POPULATION};
use crate::extract::ner::{CoarseType, Span};

/// Confidence given to gazetteer-only mentions: the lists are curated, but a name out of
/// context can still be wrong. Hand-set, below typical model confidence on clear names.
pub const GAZETTEER_CONFIDENCE: f32 = 0.85;
/// Confidence of acronym-only gazetteer mentions ("IS", "UN"), which are riskier.
pub const ACRONYM_CONFIDENCE: f32 = 0.75;

/// Capitals and big cities below this population are never added without the model: small
/// capitals are often ordinary names ("Hamilton", "Stanley", "Douglas"). GeoNames figures.
pub const MIN_ADDED_CITY_POPULATION: u64 = 100_000;

/// Place names that are also common words or first names; the gazetteer never adds them alone
/// and applies the glued-to-a-capitalised-word test even to countries among them.
const AMBIGUOUS_PLACES: &[&str] = &[
    "Male",
    "Kingston",
    "Victoria",
    "Hamilton",
    "Georgetown",
    "Jordan",
    "Chad",
    "Georgia",
    "India",
    "Israel",
    "Kenya",
    "Niger",
    "Lima",
    "Santiago",
    "Florence",
    "Nancy",
    "Austin",
    "Phoenix",
    "Mobile",
    "Reading",
    "Split",
    "Nice",
    "Bath",
    "Orange",
    "Eugene",
];

/// Last words that mark a MISC name as an event.
const EVENT_WORDS: &[&str] = &[
    "War",
    "Summit",
    "Games",
    "Olympics",
    "Cup",
    "Championship",
    "Championships",
    "Conference",
    "Election",
    "Elections",
    "Revolution",
    "Uprising",
    "Crisis",
    "Festival",
    "Forum",
    "Talks",
    "Open",
    "Marathon",
    "Massacre",
    "Spring",
];

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The statistical model.
    Model,
    /// A gazetteer match the model missed.
    Gazetteer,
    /// A numeric rule.
    Rule,
}

/// A typed mention before linking.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Global token index range (exclusive end).
    pub tokens: Range<usize>,
    /// Sentence index.
    pub sentence: usize,
    /// Fine type.
    pub etype: EntityType,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// Gazetteer entry the mention names, if any.
    pub hit: Option<Hit>,
    /// Normalised value for numeric types.
    pub value: Option<String>,
    /// Where it came from.
    pub origin: Origin,
}

fn starts_upper(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

fn is_shouted(w: &str) -> bool {
    w.chars().filter(|c| c.is_alphabetic()).count() >= 2 && !w.chars().any(char::is_lowercase)
}

/// The best hit for these words, if any.
fn best_hit(gaz: &Gazetteer, words: &[&str]) -> Option<Hit> {
    gaz.lookup(words).first().copied()
}

/// Fine type of one model span over `words` (the span's token texts). Returns the type, the
/// gazetteer hit it names, and how many leading tokens to drop (titles, "the").
pub fn type_span(
    gaz: &Gazetteer,
    words: &[&str],
    label: CoarseType,
) -> (EntityType, Option<Hit>, usize) {
    let mut skip = 0;
    if label == CoarseType::Per {
        while let Some((n, _)) = gaz.title_at(&words[skip..]) {
            if skip + n >= words.len() {
                break;
            }
            skip += n;
        }
    }
    if words.len() > skip + 1 && matches!(words[skip], "the" | "The") {
        skip += 1;
    }
    let w = &words[skip..];
    let hit = best_hit(gaz, w);
    let kind = hit.map(|h| h.kind);
    let list_type = hit.and_then(|h| gaz.entity(h)).map(|e| e.etype);
    let single = w.len() == 1;
    let (t, keep_hit) = match label {
        CoarseType::Per => match kind {
            Some(HitKind::Org) => (list_type.unwrap_or(EntityType::Org), true),
            Some(HitKind::Demonym) => (EntityType::Norp, true),
            _ => (EntityType::Person, false),
        },
        CoarseType::Org => match kind {
            Some(HitKind::Org) => (list_type.unwrap_or(EntityType::Org), true),
            Some(HitKind::Demonym) if single => (EntityType::Norp, true),
            _ => (EntityType::Org, false),
        },
        CoarseType::Loc => match kind {
            Some(
                HitKind::Country
                | HitKind::City
                | HitKind::State
                | HitKind::FormerCountry
                | HitKind::Subdivision,
            ) => (EntityType::Gpe, true),
            Some(HitKind::Org) => (list_type.unwrap_or(EntityType::Org), true),
            Some(HitKind::Demonym) => (EntityType::Norp, true),
            None => (EntityType::Loc, false),
        },
        CoarseType::Misc => match kind {
            Some(HitKind::Demonym) => (EntityType::Norp, true),
            Some(HitKind::Org) => (list_type.unwrap_or(EntityType::Org), true),
            Some(HitKind::Country | HitKind::City | HitKind::State | HitKind::FormerCountry) => {
                (EntityType::Gpe, true)
            }
            Some(HitKind::Subdivision) => (EntityType::Misc, false),
            None if w.len() > 1 && w.last().is_some_and(|l| EVENT_WORDS.contains(l)) => {
                (EntityType::Event, false)
            }
            None => (EntityType::Misc, false),
        },
    };
    (t, hit.filter(|_| keep_hit), skip)
}

/// Leading words of a person span that end a title begun before it: the tagger sometimes
/// starts "Secretary of State John Kerry" at "State". Returns how many span words to drop
/// (never all of them).
fn title_overlap(gaz: &Gazetteer, before: &[&str], span: &[&str]) -> usize {
    for k in 1..=before.len().min(MAX_TITLE_LEAD) {
        let start = before.len() - k;
        let joined: Vec<&str> = before[start..].iter().chain(span).copied().collect();
        if let Some((n, _)) = gaz.title_at(&joined) {
            if n > k && n - k < span.len() {
                return n - k;
            }
        }
    }
    0
}

/// Words before a person span searched for the start of a title that runs into it.
const MAX_TITLE_LEAD: usize = 3;

/// Candidates from the model's spans for one sentence (`sent` = its global token range; span
/// indices are sentence-relative). Invalid or overlapping spans are dropped (the earlier, then
/// more confident, wins).
pub fn model_candidates(
    gaz: &Gazetteer,
    words: &[&str],
    sent: &Range<usize>,
    sentence: usize,
    spans: &[Span],
) -> Vec<Candidate> {
    let len = sent.end.saturating_sub(sent.start);
    let mut spans: Vec<&Span> = spans
        .iter()
        .filter(|s| s.start < s.end && s.end <= len)
        .collect();
    spans.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.confidence.total_cmp(&a.confidence))
    });
    let mut out: Vec<Candidate> = Vec::new();
    let mut covered_to = 0;
    for s in spans {
        if s.start < covered_to {
            continue;
        }
        covered_to = s.end;
        let mut a = sent.start + s.start;
        let b = sent.start + s.end;
        if s.label == CoarseType::Per {
            a += title_overlap(gaz, &words[sent.start..a], &words[a..b]);
        }
        let (etype, hit, skip) = type_span(gaz, &words[a..b], s.label);
        out.push(Candidate {
            tokens: a + skip..b,
            sentence,
            etype,
            confidence: s.confidence.clamp(0.0, 1.0),
            hit,
            value: None,
            origin: Origin::Model,
        });
    }
    out
}

/// Gazetteer-only candidates in `sent`, skipping tokens where `taken[i]` (global index) is set.
pub fn gazetteer_candidates(
    gaz: &Gazetteer,
    words: &[&str],
    sent: &Range<usize>,
    sentence: usize,
    taken: &[bool],
) -> Vec<Candidate> {
    candidates_with(gaz, words, sent, sentence, taken, true)
}

/// [`gazetteer_candidates`], with the skip of words that cannot start a name on or off (off:
/// every word is looked up; the tests check both give the same candidates).
fn candidates_with(
    gaz: &Gazetteer,
    words: &[&str],
    sent: &Range<usize>,
    sentence: usize,
    taken: &[bool],
    skip: bool,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut i = sent.start;
    while i < sent.end {
        // `accept` turns down every match whose first word does not look like a name's
        // start; skipping those words before the lookup (three tokens in four) changes
        // nothing else, as a failed match also moves on by one word.
        if taken[i] || (skip && !starts_like_a_name(words[i])) {
            i += 1;
            continue;
        }
        let Some((n, hits)) = gaz.longest_at(&words[i..sent.end]) else {
            i += 1;
            continue;
        };
        let span = i..i + n;
        if taken[span.clone()].iter().any(|t| *t) {
            i += 1;
            continue;
        }
        let surface = &words[span.clone()];
        // The folded index is for typing model spans; additions need the exact spelling.
        let exact = !gaz.lookup_exact(surface).is_empty();
        match accept(gaz, words, sent, span.clone(), hits) {
            Some((hit, etype, conf)) if exact => {
                out.push(Candidate {
                    tokens: span,
                    sentence,
                    etype,
                    confidence: conf,
                    hit: Some(hit),
                    value: None,
                    origin: Origin::Gazetteer,
                });
                i += n;
            }
            _ => i += 1,
        }
    }
    out
}

/// Whether a gazetteer match may begin with `word`: a capital or a digit, or the Arabic
/// article of "al-Assad".
fn starts_like_a_name(word: &str) -> bool {
    let first_char_ok = word
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
    first_char_ok || word.starts_with("al-")
}

/// Decides whether a gazetteer match at `span` becomes a mention (see the module docs).
fn accept(
    gaz: &Gazetteer,
    words: &[&str],
    sent: &Range<usize>,
    span: Range<usize>,
    hits: &[Hit],
) -> Option<(Hit, EntityType, f32)> {
    let hit = *hits.first()?;
    let surface = &words[span.clone()];
    let first = surface.first()?;
    if !starts_like_a_name(first) {
        return None;
    }
    let ent = gaz.entity(hit)?;
    let prev = (span.start > sent.start).then(|| words[span.start - 1]);
    let next = (span.end < sent.end).then(|| words[span.end]);
    let acronym = surface.len() == 1
        && is_shouted(first)
        && first.chars().filter(|c| c.is_alphabetic()).count() <= 4;
    if acronym {
        // Shouted text: "WHAT IS GOING ON" must not yield Islamic State.
        let shouting =
            |w: Option<&str>| w.is_some_and(|w| is_shouted(w) && gaz.lookup(&[w]).is_empty());
        if shouting(prev) || shouting(next) {
            return None;
        }
    }
    // A single capitalised word glued to other capitalised words is part of a longer name.
    let glued = surface.len() == 1 && !acronym && {
        let next_cap = next.is_some_and(|w| starts_upper(w) && w.chars().any(char::is_lowercase))
            && gaz
                .title_at(&words[span.end..sent.end])
                .is_none_or(|(_, k)| k == TitleKind::Honorific);
        let prev_cap = prev.is_some_and(|w| starts_upper(w) && w.chars().any(char::is_lowercase))
            && span.start > sent.start + 1
            && gaz.title_at(&[prev.unwrap_or_default()]).is_none();
        next_cap || prev_cap
    };
    let conf = if acronym {
        ACRONYM_CONFIDENCE
    } else {
        GAZETTEER_CONFIDENCE
    };
    if !hit.addable {
        return None;
    }
    let ambiguous = surface.len() == 1 && AMBIGUOUS_PLACES.contains(first);
    match hit.kind {
        // Countries rarely start longer names, and headlines glue them to capitalised words
        // ("Iraq Create New ..."), so only ambiguous ones must stand alone.
        HitKind::Country if !(ambiguous && glued) => Some((hit, ent.etype, conf)),
        HitKind::FormerCountry if !glued => Some((hit, EntityType::Gpe, conf)),
        HitKind::Demonym | HitKind::Org if !glued => Some((hit, ent.etype, conf)),
        HitKind::City
            if hit.primary
                && !glued
                && !ambiguous
                && gaz.population(hit) >= MIN_ADDED_CITY_POPULATION
                && (gaz.is_capital(hit) || gaz.population(hit) >= BIG_CITY_POPULATION) =>
        {
            Some((hit, EntityType::Gpe, conf))
        }
        HitKind::State if hit.primary && !glued && !ambiguous => Some((hit, EntityType::Gpe, conf)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::gazetteer::tests::shipped;
    use crate::extract::tokens::tokenize;

    fn words(s: &str) -> Vec<String> {
        tokenize(s).iter().map(|t| t.text(s).to_string()).collect()
    }

    fn typed(g: &Gazetteer, s: &str, label: CoarseType) -> (EntityType, Option<String>, usize) {
        let w = words(s);
        let w: Vec<&str> = w.iter().map(String::as_str).collect();
        let (t, h, skip) = type_span(g, &w, label);
        (
            t,
            h.and_then(|h| g.entity(h)).map(|e| e.name.to_string()),
            skip,
        )
    }

    fn added(g: &Gazetteer, s: &str) -> Vec<(String, EntityType)> {
        let w = words(s);
        let w: Vec<&str> = w.iter().map(String::as_str).collect();
        let taken = vec![false; w.len()];
        gazetteer_candidates(g, &w, &(0..w.len()), 0, &taken)
            .into_iter()
            .map(|c| (w[c.tokens].join(" "), c.etype))
            .collect()
    }

    /// Skipping words that cannot start a name finds exactly the candidates that looking
    /// up every word finds: on every sample article (with and without some words taken by
    /// model mentions) and on a text mixing listed names that start in lower case
    /// ("al-Qaeda") with digit-initial and lower-case words.
    #[test]
    fn skipping_non_name_words_finds_the_same_candidates() {
        let g = shipped();
        let mut texts = crate::extract::tests::sample_texts();
        texts.push(
            "al-Qaeda and al-Assad met the de Gaulle camp in the Hague, and iPhone maker \
             Apple, 3M and the 7-Eleven chain in New York; the US and U.S. and EU too."
                .into(),
        );
        let mut found = 0;
        for text in &texts {
            let w = words(text);
            let w: Vec<&str> = w.iter().map(String::as_str).collect();
            for every in [0, 3, 7] {
                let taken: Vec<bool> = (0..w.len()).map(|i| every > 0 && i % every == 1).collect();
                let all = 0..w.len();
                let fast = candidates_with(g, &w, &all, 0, &taken, true);
                assert_eq!(fast, candidates_with(g, &w, &all, 0, &taken, false));
                found += fast.len();
            }
        }
        assert!(found > 50, "the texts should hold gazetteer names: {found}");
    }

    #[test]
    fn model_labels_become_fine_types() {
        let g = shipped();
        assert_eq!(
            typed(g, "Russian", CoarseType::Misc),
            (EntityType::Norp, Some("Russian".into()), 0)
        );
        assert_eq!(typed(g, "Syrians", CoarseType::Misc).0, EntityType::Norp);
        assert_eq!(
            typed(g, "Baghdad", CoarseType::Loc),
            (EntityType::Gpe, Some("Baghdad".into()), 0)
        );
        assert_eq!(typed(g, "Middle East", CoarseType::Loc).0, EntityType::Loc);
        assert_eq!(
            typed(g, "Russia", CoarseType::Org),
            (EntityType::Org, None, 0)
        );
        assert_eq!(
            typed(g, "NATO", CoarseType::Loc),
            (
                EntityType::Org,
                Some("North Atlantic Treaty Organization".into()),
                0
            )
        );
        assert_eq!(
            typed(g, "G20 Summit", CoarseType::Misc).0,
            EntityType::Event
        );
        assert_eq!(typed(g, "Sunnis", CoarseType::Misc).0, EntityType::Norp);
    }

    #[test]
    fn person_titles_are_trimmed() {
        let g = shipped();
        assert_eq!(
            typed(g, "President Bashar al-Assad", CoarseType::Per),
            (EntityType::Person, None, 1)
        );
        assert_eq!(
            typed(g, "Secretary of State John Kerry", CoarseType::Per).2,
            3
        );
        assert_eq!(
            typed(g, "President", CoarseType::Per).2,
            0,
            "never trims to nothing"
        );
    }

    #[test]
    fn titles_begun_before_a_person_span_are_trimmed_from_it() {
        let g = shipped();
        let before = ["Secretary", "of"];
        assert_eq!(title_overlap(g, &before, &["State", "John", "Kerry"]), 1);
        assert_eq!(
            title_overlap(g, &["the", "Foreign"], &["Minister", "Lavrov"]),
            1
        );
        assert_eq!(title_overlap(g, &["met"], &["John", "Kerry"]), 0);
        assert_eq!(
            title_overlap(g, &before, &["State"]),
            0,
            "never trims to nothing"
        );
    }

    #[test]
    fn gazetteer_adds_what_model_missed() {
        let g = shipped();
        assert_eq!(
            added(
                g,
                "The U.S. and Russia fight IS near Baghdad , said Syrian officials ."
            ),
            vec![
                ("U.S.".to_string(), EntityType::Gpe),
                ("Russia".to_string(), EntityType::Gpe),
                ("IS".to_string(), EntityType::Org),
                ("Baghdad".to_string(), EntityType::Gpe),
                ("Syrian".to_string(), EntityType::Norp),
            ]
        );
        assert_eq!(
            added(g, "the Iraq Prime Minister said"),
            vec![("Iraq".to_string(), EntityType::Gpe)]
        );
    }

    #[test]
    fn ambiguous_words_are_not_added() {
        let g = shipped();
        assert!(added(g, "WHAT IS GOING ON").is_empty());
        assert!(added(g, "it is what it is , who knows").is_empty());
        assert!(
            added(g, "Christian Bale met Jordan Spieth").is_empty(),
            "{:?}",
            added(g, "Christian Bale met Jordan Spieth")
        );
        assert!(
            added(g, "in the Bagdad area").is_empty(),
            "aliases of cities are not added"
        );
        assert!(added(g, "Male workers and Hamilton said").is_empty());
        assert!(
            added(g, "Banque Suisse and the ICC said").is_empty(),
            "weak aliases"
        );
        assert_eq!(
            added(g, "Iraq Create New Alliance"),
            vec![("Iraq".to_string(), EntityType::Gpe)]
        );
    }
}
