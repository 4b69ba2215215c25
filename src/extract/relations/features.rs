//! Candidate pairs and their sparse features for the relation classifier.
//!
//! A candidate is an ordered pair (subject, object) of entity mentions in one sentence.
//! Features are strings hashed with xxh3-64 (seed [`FEATURE_SEED`]) so the model file stores
//! only `u64` keys; the strings describe the words and entity types between and around the
//! pair, their distance and order, trigger-word stems and classes (`TRIGGERS`), punctuation,
//! apposition and possessives, whether each argument is the other's nearest mention of its
//! type, and the gazetteer's geography of place arguments (kind of place, same country).

use std::borrow::Cow;
use std::ops::Range;

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::doc::{EntityType, Mention};
use crate::extract::gazetteer::{Gazetteer, HitKind};
use crate::extract::tokens::Token;

/// Seed of the feature hash; part of the model format (changing it invalidates models).
pub const FEATURE_SEED: u64 = 0x6e65_7773_6d69_6c6c;

/// Pairs farther apart than this many tokens are not candidates. CoNLL04 train (measured):
/// 97.8% of related pairs are within 30 tokens, 99.2% within 40.
pub const MAX_PAIR_GAP_TOKENS: usize = 40;

/// At most this many ordered pairs per sentence, nearest first, so a sentence listing 50
/// names costs a bounded amount of work (20 entities give 380 ordered pairs, all kept).
pub const MAX_PAIRS_PER_SENTENCE: usize = 400;

/// Coarse argument type used by features and type constraints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Coarse {
    /// PERSON.
    Per,
    /// ORG.
    Org,
    /// GPE or LOC.
    Loc,
}

impl Coarse {
    /// Coarse type of an entity type; `None` for types that take no relation.
    pub fn of(t: EntityType) -> Option<Coarse> {
        match t {
            EntityType::Person => Some(Coarse::Per),
            EntityType::Org => Some(Coarse::Org),
            EntityType::Gpe | EntityType::Loc => Some(Coarse::Loc),
            _ => None,
        }
    }
    fn tag(self) -> &'static str {
        match self {
            Coarse::Per => "PER",
            Coarse::Org => "ORG",
            Coarse::Loc => "LOC",
        }
    }
}

/// A mention placed on the token grid of its sentence.
#[derive(Debug, Clone, Copy)]
pub struct Arg {
    /// Index into the document's mentions.
    pub mention: usize,
    /// First token (document token index).
    pub tok_start: usize,
    /// One past the last token.
    pub tok_end: usize,
    /// Coarse type.
    pub coarse: Coarse,
    /// Canonical entity id.
    pub id: u64,
    /// For places the gazetteer knows: their country code and what kind of place they are.
    pub place: Option<Place>,
}

/// What the gazetteer says about a place mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// ISO 3166-1 alpha-2 code of the country the place is in (or is).
    pub country: [u8; 2],
    /// "country", "state", "region" or "city".
    pub kind: &'static str,
}

/// The gazetteer's reading of a place mention's words (its best hit), if any.
fn place_of(gaz: &Gazetteer, words: &[&str]) -> Option<Place> {
    let hit = *gaz.lookup(words).first()?;
    let kind = match hit.kind {
        HitKind::Country => "country",
        HitKind::State => "state",
        HitKind::Subdivision => "region",
        HitKind::City => "city",
        _ => return None,
    };
    let cc = gaz.country_of(hit)?.as_bytes();
    (cc.len() == 2).then(|| Place {
        country: [cc[0], cc[1]],
        kind,
    })
}

/// Token range `[a, b)` of a char span, by binary search over token starts/ends.
pub fn token_span(tokens: &[Token], start: usize, end: usize) -> Option<Range<usize>> {
    let a = tokens.partition_point(|t| t.end <= start);
    let b = tokens.partition_point(|t| t.start < end);
    (a < b).then_some(a..b)
}

/// Relation-capable mentions of each sentence (by mention order); places are looked up in
/// `gaz` (see [`Place`]).
pub fn sentence_args(
    gaz: &Gazetteer,
    text: &str,
    tokens: &[Token],
    sentences: &[Range<usize>],
    mentions: &[Mention],
) -> Vec<Vec<Arg>> {
    let mut out: Vec<Vec<Arg>> = vec![Vec::new(); sentences.len()];
    for (mi, m) in mentions.iter().enumerate() {
        let Some(coarse) = Coarse::of(m.etype) else {
            continue;
        };
        let Some(r) = token_span(tokens, m.start, m.end) else {
            continue;
        };
        if let Some(slot) = out.get_mut(m.sentence) {
            let place = (coarse == Coarse::Loc)
                .then(|| {
                    let words: Vec<&str> = tokens[r.clone()].iter().map(|t| t.text(text)).collect();
                    place_of(gaz, &words)
                })
                .flatten();
            slot.push(Arg {
                mention: mi,
                tok_start: r.start,
                tok_end: r.end,
                coarse,
                id: m.entity.id,
                place,
            });
        }
    }
    out
}

/// Ordered candidate pairs of one sentence: distinct entities, within
/// [`MAX_PAIR_GAP_TOKENS`], nearest first, capped at [`MAX_PAIRS_PER_SENTENCE`].
pub fn candidate_pairs(args: &[Arg]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for (i, a) in args.iter().enumerate() {
        for (j, b) in args.iter().enumerate() {
            if i == j || a.id == b.id {
                continue;
            }
            let gap = gap(a, b);
            if gap <= MAX_PAIR_GAP_TOKENS {
                pairs.push((gap, i, j));
            }
        }
    }
    pairs.sort_unstable();
    pairs.truncate(MAX_PAIRS_PER_SENTENCE);
    pairs.into_iter().map(|(_, i, j)| (i, j)).collect()
}

fn gap(a: &Arg, b: &Arg) -> usize {
    if a.tok_end <= b.tok_start {
        b.tok_start - a.tok_end
    } else {
        a.tok_start.saturating_sub(b.tok_end)
    }
}

/// Normalised form of every token of a text, computed once per document so that the
/// per-pair features do not lower-case the same words again for every pair.
pub fn normalised_words<'a>(text: &'a str, tokens: &[Token]) -> Vec<Cow<'a, str>> {
    tokens.iter().map(|t| norm(t.text(text))).collect()
}

/// The word lowercased, or `<num>` when it has a digit. Borrowed when the word already is
/// lowercase ASCII without digits (most words), so the document's words are not all copied.
fn norm(w: &str) -> Cow<'_, str> {
    if w.is_ascii() {
        return if w.bytes().any(|b| b.is_ascii_digit()) {
            Cow::Borrowed("<num>")
        } else {
            crate::extract::tokens::lowercase(w)
        };
    }
    let l = w.to_lowercase();
    if l.chars().any(|c| c.is_ascii_digit()) {
        Cow::Borrowed("<num>")
    } else {
        Cow::Owned(l)
    }
}

/// Trigger words by the relation they hint at, matched as word prefixes (so "assassin"
/// covers "assassinated", "assassination"). Written for newsmill from general knowledge of
/// news phrasing and checked against the words near CoNLL04 train relations (e.g. "shot"
/// 42, "assassin*" 59, "convicted" 17 near Kill; "born" 109, "native" 21 near Live_In;
/// "spokesman" 20, "chairman" 15 near Work_For). The classes generalise what single words
/// the training split rarely shows ("slay", "gunned") to the others of their class.
const TRIGGERS: [(&str, &[&str]); 6] = [
    (
        "kill",
        &[
            "kill",
            "assassin",
            "murder",
            "shot",
            "shoot",
            "slay",
            "slain",
            "gunman",
            "gunned",
            "stabb",
            "strangl",
            "convicted",
            "accused",
            "fired",
            "wounded",
            "fatally",
            "death",
        ],
    ),
    (
        "live",
        &[
            "born", "native", "live", "lives", "resid", "home", "grew", "raised", "citizen",
            "moved", "hometown", "lifelong",
        ],
    ),
    (
        "work",
        &[
            "spokes",
            "chairman",
            "president",
            "director",
            "professor",
            "editor",
            "manager",
            "member",
            "leader",
            "chief",
            "head",
            "executive",
            "secretary",
            "minister",
            "official",
            "employ",
            "work",
            "attorney",
            "correspondent",
            "publisher",
            "candidate",
            "founder",
            "officer",
            "analyst",
            "commissioner",
            "senator",
            "governor",
            "aide",
            "agent",
        ],
    ),
    (
        "based",
        &[
            "based",
            "headquart",
            "office",
            "branch",
            "plant",
            "factory",
            "station",
        ],
    ),
    (
        "place",
        &[
            "capital", "city", "province", "state", "county", "town", "region", "near", "outside",
            "suburb", "village", "district", "north", "south", "east", "west", "central", "miles",
        ],
    ),
    ("prep", &["in", "of", "at", "from", "near"]),
];

/// The trigger classes of every normalised word, as bit masks (bit k = `TRIGGERS[k]`),
/// computed once per document like [`normalised_words`]: the pair features look at every
/// word of the sentence for every candidate pair.
pub fn trigger_masks(words: &[Cow<'_, str>]) -> Vec<u8> {
    words
        .iter()
        .map(|w| {
            let mut mask = 0u8;
            for (k, (class, list)) in TRIGGERS.iter().enumerate() {
                let hit = if *class == "prep" {
                    list.contains(&w.as_ref())
                } else {
                    list.iter().any(|p| w.starts_with(p))
                };
                if hit {
                    mask |= 1 << k;
                }
            }
            mask
        })
        .collect()
}

/// Words either side of a pair that the trigger features look at.
const TRIGGER_WINDOW_TOKENS: usize = 5;

fn stem(w: &str) -> String {
    w.chars().take(5).collect()
}

fn bucket(n: usize) -> usize {
    match n {
        0..=4 => n,
        5..=7 => 5,
        8..=12 => 8,
        13..=20 => 13,
        _ => 21,
    }
}

/// Decimal text of the small counts features use (bucketed distances, capped counts).
fn small(n: usize) -> &'static str {
    const NUMS: [&str; 22] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
        "17", "18", "19", "20", "21",
    ];
    NUMS.get(n).copied().unwrap_or("21")
}

/// Hashed features of the pair (`subj`, `obj`) within `sent`.
#[allow(clippy::too_many_arguments)]
pub fn pair_features(
    words: &[Cow<'_, str>],
    triggers: &[u8],
    sent: &Range<usize>,
    args: &[Arg],
    subj: usize,
    obj: usize,
    out: &mut Vec<u64>,
) {
    out.clear();
    let s = &args[subj];
    let o = &args[obj];
    let (first, second, fwd) = if s.tok_start < o.tok_start {
        (s, o, true)
    } else {
        (o, s, false)
    };
    let tp = [
        s.coarse.tag(),
        ">",
        o.coarse.tag(),
        if fwd { "|f" } else { "|b" },
    ]
    .concat();
    let tp = tp.as_str();
    // One reused buffer: a feature's pieces are concatenated and hashed, never kept (plain
    // concatenation, not `format!`: this runs for every piece of every candidate pair).
    let mut buf = String::with_capacity(64);
    let mut push = |parts: &[&str]| {
        buf.clear();
        for p in parts {
            buf.push_str(p);
        }
        out.push(xxh3_64_with_seed(buf.as_bytes(), FEATURE_SEED));
    };
    let w = |i: usize| words[i].as_ref();
    push(&["bias|", tp]);
    let btw: Vec<&str> = (first.tok_end..second.tok_start.max(first.tok_end))
        .map(w)
        .collect();
    let dist = btw.len();
    push(&["dist=", small(bucket(dist)), "|", tp]);
    if dist <= 5 {
        push(&["between=", &btw.join("_"), "|", tp]);
    }
    for (k, x) in btw.iter().enumerate() {
        push(&["bw=", x, "|", tp]);
        push(&["bs=", &stem(x), "|", tp]);
        push(&["bwu=", x]);
        if k + 1 < btw.len() {
            push(&["bb=", x, "_", btw[k + 1], "|", tp]);
        }
    }
    if let Some(x) = btw.first() {
        push(&["bfirst=", x, "|", tp]);
    }
    if let Some(x) = btw.last() {
        push(&["blast=", x, "|", tp]);
    }
    if dist == 0 {
        push(&["adjacent|", tp]);
    }
    let commas = btw.iter().filter(|x| **x == ",").count();
    push(&["commas=", small(commas.min(3)), "|", tp]);
    if btw.first().is_some_and(|x| *x == ",") {
        push(&["appos|", tp]);
    }
    if btw.first().is_some_and(|x| *x == "'s" || *x == "'") {
        push(&["poss|", tp]);
    }
    // Entities between the pair.
    let mut nb = 0;
    for a in args {
        if a.tok_start >= first.tok_end && a.tok_end <= second.tok_start {
            nb += 1;
            push(&["btype=", a.coarse.tag(), "|", tp]);
        }
    }
    push(&["nbetween=", small(nb.min(3)), "|", tp]);
    // Trigger classes between, just before and just after the pair, and anywhere else in
    // the sentence (a Kill's verb often sits outside a long-distance pair).
    const PLACES: [&str; 4] = ["btw", "pre", "post", "far"];
    let mut seen = [0u8; 4];
    for i in sent.clone() {
        if (i >= s.tok_start && i < s.tok_end) || (i >= o.tok_start && i < o.tok_end) {
            continue;
        }
        let place = if i >= first.tok_end && i < second.tok_start {
            0
        } else if i < first.tok_start && first.tok_start - i <= TRIGGER_WINDOW_TOKENS {
            1
        } else if i >= second.tok_end && i - second.tok_end < TRIGGER_WINDOW_TOKENS {
            2
        } else {
            3
        };
        seen[place] |= triggers[i];
    }
    for (place, mask) in PLACES.iter().zip(seen) {
        for (k, (class, _)) in TRIGGERS.iter().enumerate() {
            if mask & (1 << k) != 0 {
                push(&["trig=", class, "|", place, "|", tp]);
            }
        }
    }
    // Punctuation between (lists, parentheses, clauses).
    for p in ["(", ";", "--", ":", "and"] {
        if btw.contains(&p) {
            push(&["bpunct=", p, "|", tp]);
        }
    }
    if dist > 5 {
        push(&["bhead2=", btw[0], "_", btw[1], "|", tp]);
        push(&["btail2=", btw[dist - 2], "_", btw[dist - 1], "|", tp]);
    }
    // Is the object the nearest mention of its type to the subject, and the subject the
    // nearest of its type to the object? (Lists and long sentences pair the wrong ones.)
    let nearest = |from: &Arg, to: &Arg| {
        let d = gap(from, to);
        !args
            .iter()
            .any(|a| a.coarse == to.coarse && a.id != to.id && a.id != from.id && gap(from, a) < d)
    };
    let near = match (nearest(s, o), nearest(o, s)) {
        (true, true) => "both",
        (true, false) => "obj",
        (false, true) => "subj",
        (false, false) => "none",
    };
    push(&["nearest=", near, "|", tp]);
    // Argument order among the sentence's mentions: the first mention is often the clause's
    // subject; the count of mentions says how crowded the sentence is.
    let rank = |a: &Arg| args.iter().filter(|x| x.tok_start < a.tok_start).count();
    push(&["srank=", small(rank(s).min(3)), "|", tp]);
    push(&["orank=", small(rank(o).min(3)), "|", tp]);
    push(&["nargs=", small(args.len().min(6)), "|", tp]);
    // Gazetteer geography: the kind of each place, and whether two places share a country
    // ("Tokyo" city, "Japan" country, same: a Located_In; two different countries: not).
    if let Some(p) = o.place {
        push(&["okind=", p.kind, "|", tp]);
    }
    if let Some(p) = s.place {
        push(&["skind=", p.kind, "|", tp]);
    }
    if let (Some(a), Some(b)) = (s.place, o.place) {
        let same = if a.country == b.country {
            "same"
        } else {
            "diff"
        };
        push(&["geo=", same, "|", a.kind, ">", b.kind, "|", tp]);
    }
    // Context around the pair.
    for k in 1..=2 {
        let (pre, post) = if k == 1 {
            ("pre1=", "post1=")
        } else {
            ("pre2=", "post2=")
        };
        if first.tok_start >= sent.start + k {
            push(&[pre, w(first.tok_start - k), "|", tp]);
        } else {
            push(&[pre, "<s>|", tp]);
        }
        if second.tok_end + k <= sent.end {
            push(&[post, w(second.tok_end + k - 1), "|", tp]);
        } else {
            push(&[post, "</s>|", tp]);
        }
    }
    // The arguments' own words and the word inside them (titles, "Inc.").
    for (role, a) in [("s", s), ("o", o)] {
        let (rw, rlen) = if role == "s" {
            ("sw=", "slen=")
        } else {
            ("ow=", "olen=")
        };
        for i in a.tok_start..a.tok_end {
            push(&[rw, w(i), "|", tp]);
        }
        let head = if role == "s" { "sh=" } else { "oh=" };
        push(&[head, w(a.tok_end - 1), "|", tp]);
        push(&[rlen, small((a.tok_end - a.tok_start).min(4))]);
    }
}
