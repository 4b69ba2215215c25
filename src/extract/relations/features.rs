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
    words.iter().map(|w| trigger_mask(w)).collect()
}

/// Index of the preposition class in [`TRIGGERS`], matched by whole word, not prefix.
const PREP_CLASS: usize = 5;
const _: () = assert!(TRIGGERS.len() == PREP_CLASS + 1);

/// The trigger prefixes by first byte, each with its class bit and whether it must match
/// the whole word.
type TriggerIndex = [Vec<(&'static str, u8, bool)>; 256];

fn trigger_index() -> &'static TriggerIndex {
    static INDEX: std::sync::OnceLock<TriggerIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut ix: TriggerIndex = std::array::from_fn(|_| Vec::new());
        for (k, (_, list)) in TRIGGERS.iter().enumerate() {
            for p in *list {
                ix[usize::from(p.as_bytes()[0])].push((p, 1 << k, k == PREP_CLASS));
            }
        }
        ix
    })
}

/// [`trigger_masks`] of one word: only the few prefixes that share its first byte are
/// compared (of ~80).
fn trigger_mask(w: &str) -> u8 {
    let Some(&b0) = w.as_bytes().first() else {
        return 0;
    };
    let mut mask = 0u8;
    for &(p, bit, whole) in &trigger_index()[usize::from(b0)] {
        if if whole { w == p } else { w.starts_with(p) } {
            mask |= bit;
        }
    }
    mask
}

/// Normalised words and trigger masks for the tokens of one sentence only, into
/// document-sized buffers (the classifier fills just the sentences that have candidate
/// pairs; the others never look at theirs).
pub fn fill_sentence_words<'a>(
    text: &'a str,
    tokens: &[Token],
    sent: &Range<usize>,
    words: &mut [Cow<'a, str>],
    triggers: &mut [u8],
) {
    for i in sent.clone() {
        let (Some(t), Some(w), Some(m)) = (tokens.get(i), words.get_mut(i), triggers.get_mut(i))
        else {
            continue;
        };
        *w = norm(t.text(text));
        *m = trigger_mask(w);
    }
}

/// Words either side of a pair that the trigger features look at.
const TRIGGER_WINDOW_TOKENS: usize = 5;

/// The first five chars of a word (a slice: this runs for every word between every pair).
fn stem(w: &str) -> &str {
    &w[..w.char_indices().nth(5).map_or(w.len(), |(i, _)| i)]
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

/// Number of distinct [`pair_tag`]s.
const N_PAIR_TAGS: usize = 18;

/// Index of the pair tag of (subject type, object type, subject first).
fn pair_tag_index(s: Coarse, o: Coarse, fwd: bool) -> usize {
    let idx = |c: Coarse| match c {
        Coarse::Per => 0,
        Coarse::Org => 1,
        Coarse::Loc => 2,
    };
    (idx(s) * 3 + idx(o)) * 2 + usize::from(!fwd)
}

/// `"<subject type>><object type>|<f or b>"`, the suffix of most pair features, by
/// [`pair_tag_index`] (a table: it would otherwise be built for every candidate pair).
fn pair_tag(index: usize) -> &'static str {
    const TAGS: [&str; N_PAIR_TAGS] = [
        "PER>PER|f",
        "PER>PER|b",
        "PER>ORG|f",
        "PER>ORG|b",
        "PER>LOC|f",
        "PER>LOC|b",
        "ORG>PER|f",
        "ORG>PER|b",
        "ORG>ORG|f",
        "ORG>ORG|b",
        "ORG>LOC|f",
        "ORG>LOC|b",
        "LOC>PER|f",
        "LOC>PER|b",
        "LOC>ORG|f",
        "LOC>ORG|b",
        "LOC>LOC|f",
        "LOC>LOC|b",
    ];
    TAGS[index]
}

/// The feature hash of the concatenation of `parts` (built in `buf`, never kept).
fn feature_hash(buf: &mut String, parts: &[&str]) -> u64 {
    hash_built(buf, |b| parts.iter().for_each(|p| push_short(b, p)))
}

/// `buf.push_str(s)`, copying strings of up to 16 bytes inline. Feature pieces are short
/// ("bw=", a word, "|", a pair tag) and a pair has ~70 features of ~4 pieces: a library
/// `memcpy` call per piece was a tenth of the relation features' instructions.
#[inline]
fn push_short(buf: &mut String, s: &str) {
    let n = s.len();
    if n > 16 || buf.capacity() - buf.len() < 16 {
        buf.push_str(s);
        return;
    }
    let len = buf.len();
    // SAFETY: the 16 bytes after `len` are allocated (checked above) and `n <= 16`; every
    // read is inside `s` (the two reads of a pair overlap when `n` is below twice their
    // width) and every write inside `dst[..n]`, which ends up holding exactly `s`'s bytes.
    // Appending a whole `&str` keeps the string valid UTF-8 when its length is set.
    unsafe {
        let src = s.as_ptr();
        let dst = buf.as_mut_vec().as_mut_ptr().add(len);
        if n >= 8 {
            let a = src.cast::<u64>().read_unaligned();
            let b = src.add(n - 8).cast::<u64>().read_unaligned();
            dst.cast::<u64>().write_unaligned(a);
            dst.add(n - 8).cast::<u64>().write_unaligned(b);
        } else if n >= 4 {
            let a = src.cast::<u32>().read_unaligned();
            let b = src.add(n - 4).cast::<u32>().read_unaligned();
            dst.cast::<u32>().write_unaligned(a);
            dst.add(n - 4).cast::<u32>().write_unaligned(b);
        } else if n > 0 {
            *dst = *src;
            *dst.add(n / 2) = *src.add(n / 2);
            *dst.add(n - 1) = *src.add(n - 1);
        }
        buf.as_mut_vec().set_len(len + n);
    }
}

/// The feature hash of the string `build` writes into the emptied `buf`.
fn hash_built(buf: &mut String, build: impl FnOnce(&mut String)) -> u64 {
    buf.clear();
    build(buf);
    xxh3_64_with_seed(buf.as_bytes(), FEATURE_SEED)
}

/// Hashes of the per-word "between" features of one sentence, by (word, pair tag), filled
/// on first use. A word between many pairs of a crowded sentence is hashed once per pair
/// tag instead of once per pair; the features, and their order, are unchanged.
#[derive(Debug, Default)]
pub struct BetweenCache {
    sent: Range<usize>,
    /// Slots filled in this generation are valid; `reset` starts a new one, so a sentence
    /// costs no clearing however long the previous one was.
    generation: u32,
    /// `(generation, [bw, bs, bwu, bb])` per (word - sent.start) * N_PAIR_TAGS + tag.
    slots: Vec<(u32, [u64; 4])>,
}

impl BetweenCache {
    /// An empty cache for the sentence `sent` (of the document whose words are passed to
    /// [`pair_features`] with it: a cache is only valid for one sentence of one document).
    pub fn for_sentence(sent: &Range<usize>) -> BetweenCache {
        let mut c = BetweenCache::default();
        c.reset(sent);
        c
    }

    /// Makes room for sentences of up to `tokens` tokens.
    pub fn reserve(&mut self, tokens: usize) {
        self.slots.reserve(tokens * N_PAIR_TAGS);
    }

    /// Empties the cache for another sentence, keeping its allocation.
    pub fn reset(&mut self, sent: &Range<usize>) {
        self.sent = sent.clone();
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: stale slots could look current.
            self.slots.clear();
            self.generation = 1;
        }
        let need = sent.len() * N_PAIR_TAGS;
        if self.slots.len() < need {
            self.slots.resize(need, (0, [0; 4]));
        }
    }

    fn get(&mut self, words: &[Cow<'_, str>], i: usize, tag: usize, buf: &mut String) -> [u64; 4] {
        let slot = (i - self.sent.start) * N_PAIR_TAGS + tag;
        if self.slots[slot].0 == self.generation {
            return self.slots[slot].1;
        }
        let tp = pair_tag(tag);
        let x = words[i].as_ref();
        let bb = match words.get(i + 1) {
            Some(next) => feature_hash(buf, &["bb=", x, "_", next, "|", tp]),
            None => 0,
        };
        let h = [
            feature_hash(buf, &["bw=", x, "|", tp]),
            feature_hash(buf, &["bs=", stem(x), "|", tp]),
            feature_hash(buf, &["bwu=", x]),
            bb,
        ];
        self.slots[slot] = (self.generation, h);
        h
    }
}

/// Hashed features of the pair (`subj`, `obj`) within `sent`.
/// `cache` belongs to `sent` (see [`BetweenCache::for_sentence`]).
#[allow(clippy::too_many_arguments)]
pub fn pair_features(
    words: &[Cow<'_, str>],
    triggers: &[u8],
    sent: &Range<usize>,
    args: &[Arg],
    subj: usize,
    obj: usize,
    cache: &mut BetweenCache,
    out: &mut Vec<u64>,
) {
    let fixed = Some(fixed_hashes());
    pair_features_with(words, triggers, sent, args, subj, obj, cache, out, fixed);
}

/// [`pair_features`], with the fixed features' hashes taken from `fixed` or (`None`)
/// computed from their text.
#[allow(clippy::too_many_arguments)]
fn pair_features_with(
    words: &[Cow<'_, str>],
    triggers: &[u8],
    sent: &Range<usize>,
    args: &[Arg],
    subj: usize,
    obj: usize,
    cache: &mut BetweenCache,
    out: &mut Vec<u64>,
    fixed: Option<&'static [[u64; N_PAIR_TAGS]]>,
) {
    debug_assert_eq!(&cache.sent, sent, "a BetweenCache serves one sentence");
    out.clear();
    let s = &args[subj];
    let o = &args[obj];
    let (first, second, fwd) = if s.tok_start < o.tok_start {
        (s, o, true)
    } else {
        (o, s, false)
    };
    let tag = pair_tag_index(s.coarse, o.coarse, fwd);
    let tp = pair_tag(tag);
    // One reused buffer: a feature's pieces are concatenated and hashed, never kept (plain
    // concatenation, not `format!`: this runs for every piece of every candidate pair).
    let mut f = Sink {
        buf: String::with_capacity(64),
        out,
        fixed,
        tag,
    };
    let w = |i: usize| words[i].as_ref();
    f.push_fixed(FX_BIAS, &["bias|", tp]);
    let btw: Vec<&str> = (first.tok_end..second.tok_start.max(first.tok_end))
        .map(w)
        .collect();
    let dist = btw.len();
    f.push_fixed(
        FX_DIST + bucket(dist),
        &["dist=", small(bucket(dist)), "|", tp],
    );
    if dist <= 5 {
        let h = hash_built(&mut f.buf, |b| {
            b.push_str("between=");
            for (k, x) in btw.iter().enumerate() {
                if k > 0 {
                    b.push('_');
                }
                b.push_str(x);
            }
            b.push('|');
            b.push_str(tp);
        });
        f.out.push(h);
    }
    for k in 0..dist {
        let [bw, bs, bwu, bb] = cache.get(words, first.tok_end + k, tag, &mut f.buf);
        f.out.extend_from_slice(&[bw, bs, bwu]);
        if k + 1 < dist {
            f.out.push(bb);
        }
    }
    if let Some(x) = btw.first() {
        f.push(&["bfirst=", x, "|", tp]);
    }
    if let Some(x) = btw.last() {
        f.push(&["blast=", x, "|", tp]);
    }
    if dist == 0 {
        f.push_fixed(FX_ADJACENT, &["adjacent|", tp]);
    }
    let commas = btw.iter().filter(|x| **x == ",").count();
    f.push_fixed(
        FX_COMMAS + commas.min(3),
        &["commas=", small(commas.min(3)), "|", tp],
    );
    if btw.first().is_some_and(|x| *x == ",") {
        f.push_fixed(FX_APPOS, &["appos|", tp]);
    }
    if btw.first().is_some_and(|x| *x == "'s" || *x == "'") {
        f.push_fixed(FX_POSS, &["poss|", tp]);
    }
    // Entities between the pair.
    let mut nb = 0;
    for a in args {
        if a.tok_start >= first.tok_end && a.tok_end <= second.tok_start {
            nb += 1;
            let id = FX_BTYPE + coarse_index(a.coarse);
            f.push_fixed(id, &["btype=", a.coarse.tag(), "|", tp]);
        }
    }
    f.push_fixed(
        FX_NBETWEEN + nb.min(3),
        &["nbetween=", small(nb.min(3)), "|", tp],
    );
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
    for (pi, (place, mask)) in PLACES.iter().zip(seen).enumerate() {
        for (k, (class, _)) in TRIGGERS.iter().enumerate() {
            if mask & (1 << k) != 0 {
                let id = FX_TRIG + k * 4 + pi;
                f.push_fixed(id, &["trig=", class, "|", place, "|", tp]);
            }
        }
    }
    // Punctuation between (lists, parentheses, clauses).
    for (k, p) in BETWEEN_PUNCT.iter().enumerate() {
        if btw.contains(p) {
            f.push_fixed(FX_BPUNCT + k, &["bpunct=", p, "|", tp]);
        }
    }
    if dist > 5 {
        f.push(&["bhead2=", btw[0], "_", btw[1], "|", tp]);
        f.push(&["btail2=", btw[dist - 2], "_", btw[dist - 1], "|", tp]);
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
        (true, true) => 0,
        (true, false) => 1,
        (false, true) => 2,
        (false, false) => 3,
    };
    f.push_fixed(FX_NEAREST + near, &["nearest=", NEAREST[near], "|", tp]);
    // Argument order among the sentence's mentions: the first mention is often the clause's
    // subject; the count of mentions says how crowded the sentence is.
    let rank = |a: &Arg| args.iter().filter(|x| x.tok_start < a.tok_start).count();
    let (sr, or, na) = (rank(s).min(3), rank(o).min(3), args.len().min(6));
    f.push_fixed(FX_SRANK + sr, &["srank=", small(sr), "|", tp]);
    f.push_fixed(FX_ORANK + or, &["orank=", small(or), "|", tp]);
    f.push_fixed(FX_NARGS + na, &["nargs=", small(na), "|", tp]);
    // Gazetteer geography: the kind of each place, and whether two places share a country
    // ("Tokyo" city, "Japan" country, same: a Located_In; two different countries: not).
    if let Some(p) = o.place {
        let id = place_kind_index(p.kind).map(|k| FX_OKIND + k);
        f.push_fixed_or(id, &["okind=", p.kind, "|", tp]);
    }
    if let Some(p) = s.place {
        let id = place_kind_index(p.kind).map(|k| FX_SKIND + k);
        f.push_fixed_or(id, &["skind=", p.kind, "|", tp]);
    }
    if let (Some(a), Some(b)) = (s.place, o.place) {
        let same = a.country == b.country;
        let n = PLACE_KINDS.len();
        let id = place_kind_index(a.kind)
            .zip(place_kind_index(b.kind))
            .map(|(ka, kb)| FX_GEO + usize::from(same) * n * n + ka * n + kb);
        let same = if same { "same" } else { "diff" };
        f.push_fixed_or(id, &["geo=", same, "|", a.kind, ">", b.kind, "|", tp]);
    }
    // Context around the pair.
    for k in 1..=2 {
        let (pre, post) = if k == 1 {
            ("pre1=", "post1=")
        } else {
            ("pre2=", "post2=")
        };
        if first.tok_start >= sent.start + k {
            f.push(&[pre, w(first.tok_start - k), "|", tp]);
        } else {
            f.push_fixed(FX_PRE_BOS + k - 1, &[pre, "<s>|", tp]);
        }
        if second.tok_end + k <= sent.end {
            f.push(&[post, w(second.tok_end + k - 1), "|", tp]);
        } else {
            f.push_fixed(FX_POST_EOS + k - 1, &[post, "</s>|", tp]);
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
            f.push(&[rw, w(i), "|", tp]);
        }
        let head = if role == "s" { "sh=" } else { "oh=" };
        f.push(&[head, w(a.tok_end - 1), "|", tp]);
        f.push(&[rlen, small((a.tok_end - a.tok_start).min(4))]);
    }
}

/// Where [`pair_features`] hashes its features to.
struct Sink<'o> {
    buf: String,
    out: &'o mut Vec<u64>,
    /// The pair tag's column of the precomputed hashes; `None` hashes every feature's text
    /// (the reference the tests compare the table against).
    fixed: Option<&'static [[u64; N_PAIR_TAGS]]>,
    tag: usize,
}

impl Sink<'_> {
    fn push(&mut self, parts: &[&str]) {
        let h = feature_hash(&mut self.buf, parts);
        self.out.push(h);
    }

    /// A feature made of fixed pieces only: its hash is [`fixed_hashes`]' entry `id` (the
    /// hash of `parts`, which end with the pair tag).
    #[inline]
    fn push_fixed(&mut self, id: usize, parts: &[&str]) {
        self.push_fixed_or(Some(id), parts);
    }

    /// [`Sink::push_fixed`], hashing `parts` when there is no table entry for them.
    #[inline]
    fn push_fixed_or(&mut self, id: Option<usize>, parts: &[&str]) {
        match (self.fixed, id) {
            (Some(t), Some(id)) => self.out.push(t[id][self.tag]),
            _ => self.push(parts),
        }
    }
}

// Pair features built from fixed pieces and the pair tag only: their hashes are computed
// once per process instead of per candidate pair (half of a pair's features, and most of
// the classifier's hashing). Ids are the families' offsets plus the value's index.
const FX_BIAS: usize = 0;
const FX_ADJACENT: usize = 1;
const FX_APPOS: usize = 2;
const FX_POSS: usize = 3;
/// + the distance bucket (0..=21).
const FX_DIST: usize = 4;
/// + the comma count (0..=3).
const FX_COMMAS: usize = FX_DIST + 22;
/// + [`coarse_index`].
const FX_BTYPE: usize = FX_COMMAS + 4;
/// + the count of mentions between (0..=3).
const FX_NBETWEEN: usize = FX_BTYPE + 3;
/// + trigger class × 4 + place.
const FX_TRIG: usize = FX_NBETWEEN + 4;
/// + index in [`BETWEEN_PUNCT`].
const FX_BPUNCT: usize = FX_TRIG + TRIGGERS.len() * 4;
/// + index in [`NEAREST`].
const FX_NEAREST: usize = FX_BPUNCT + BETWEEN_PUNCT.len();
/// + rank (0..=3).
const FX_SRANK: usize = FX_NEAREST + NEAREST.len();
const FX_ORANK: usize = FX_SRANK + 4;
/// + argument count (0..=6).
const FX_NARGS: usize = FX_ORANK + 4;
/// + index in [`PLACE_KINDS`].
const FX_OKIND: usize = FX_NARGS + 7;
const FX_SKIND: usize = FX_OKIND + PLACE_KINDS.len();
/// + same country × 16 + subject kind × 4 + object kind.
const FX_GEO: usize = FX_SKIND + PLACE_KINDS.len();
/// + window offset - 1 (the `<s>` / `</s>` context words).
const FX_PRE_BOS: usize = FX_GEO + 2 * PLACE_KINDS.len() * PLACE_KINDS.len();
const FX_POST_EOS: usize = FX_PRE_BOS + 2;
const N_FIXED: usize = FX_POST_EOS + 2;

/// Punctuation and words whose presence between the pair is a feature.
const BETWEEN_PUNCT: [&str; 5] = ["(", ";", "--", ":", "and"];
/// Which argument is the other's nearest mention of its type.
const NEAREST: [&str; 4] = ["both", "obj", "subj", "none"];
/// Place kinds a gazetteer hit gives ([`Place::kind`]).
const PLACE_KINDS: [&str; 4] = ["country", "state", "region", "city"];

fn coarse_index(c: Coarse) -> usize {
    match c {
        Coarse::Per => 0,
        Coarse::Org => 1,
        Coarse::Loc => 2,
    }
}

fn place_kind_index(kind: &str) -> Option<usize> {
    PLACE_KINDS.iter().position(|k| *k == kind)
}

/// The pieces of fixed feature `id`, without the pair tag.
fn fixed_parts(id: usize) -> Vec<&'static str> {
    const TRIG_PLACES: [&str; 4] = ["btw", "pre", "post", "far"];
    let ranked = |prefix: &'static str, v: usize| vec![prefix, small(v), "|"];
    match id {
        FX_BIAS => vec!["bias|"],
        FX_ADJACENT => vec!["adjacent|"],
        FX_APPOS => vec!["appos|"],
        FX_POSS => vec!["poss|"],
        i if i < FX_COMMAS => ranked("dist=", i - FX_DIST),
        i if i < FX_BTYPE => ranked("commas=", i - FX_COMMAS),
        i if i < FX_NBETWEEN => {
            let c = [Coarse::Per, Coarse::Org, Coarse::Loc][i - FX_BTYPE];
            vec!["btype=", c.tag(), "|"]
        }
        i if i < FX_TRIG => ranked("nbetween=", i - FX_NBETWEEN),
        i if i < FX_BPUNCT => {
            let k = i - FX_TRIG;
            vec!["trig=", TRIGGERS[k / 4].0, "|", TRIG_PLACES[k % 4], "|"]
        }
        i if i < FX_NEAREST => vec!["bpunct=", BETWEEN_PUNCT[i - FX_BPUNCT], "|"],
        i if i < FX_SRANK => vec!["nearest=", NEAREST[i - FX_NEAREST], "|"],
        i if i < FX_ORANK => ranked("srank=", i - FX_SRANK),
        i if i < FX_NARGS => ranked("orank=", i - FX_ORANK),
        i if i < FX_OKIND => ranked("nargs=", i - FX_NARGS),
        i if i < FX_SKIND => vec!["okind=", PLACE_KINDS[i - FX_OKIND], "|"],
        i if i < FX_GEO => vec!["skind=", PLACE_KINDS[i - FX_SKIND], "|"],
        i if i < FX_PRE_BOS => {
            let k = i - FX_GEO;
            let n = PLACE_KINDS.len();
            let same = if k / (n * n) == 0 { "diff" } else { "same" };
            vec![
                "geo=",
                same,
                "|",
                PLACE_KINDS[k / n % n],
                ">",
                PLACE_KINDS[k % n],
                "|",
            ]
        }
        i if i < FX_POST_EOS => vec![["pre1=", "pre2="][i - FX_PRE_BOS], "<s>|"],
        i => vec![["post1=", "post2="][i - FX_POST_EOS], "</s>|"],
    }
}

/// Hashes of every fixed feature for every pair tag, built on first use.
fn fixed_hashes() -> &'static [[u64; N_PAIR_TAGS]] {
    static TABLE: std::sync::OnceLock<Vec<[u64; N_PAIR_TAGS]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut buf = String::new();
        (0..N_FIXED)
            .map(|id| {
                let mut parts = fixed_parts(id);
                let mut row = [0u64; N_PAIR_TAGS];
                for (tag, h) in row.iter_mut().enumerate() {
                    parts.push(pair_tag(tag));
                    *h = feature_hash(&mut buf, &parts);
                    parts.pop();
                }
                row
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_pushes_equal_push_str() {
        let pieces = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "bw=",
            "|",
            "PER>ORG",
            "seven77",
            "eight888",
            "nine_9999",
            "fifteen_chars__",
            "sixteen_chars___",
            "seventeen_chars__",
            "Zürich",
            "É",
            "a much longer piece than sixteen bytes",
        ];
        for cap in [0, 1, 15, 16, 17, 40, 64] {
            for a in pieces {
                for b in pieces {
                    let mut got = String::with_capacity(cap);
                    push_short(&mut got, a);
                    push_short(&mut got, b);
                    push_short(&mut got, a);
                    assert_eq!(got, format!("{a}{b}{a}"));
                }
            }
        }
    }

    #[test]
    fn pair_tags_spell_types_and_direction() {
        let all = [Coarse::Per, Coarse::Org, Coarse::Loc];
        for s in all {
            for o in all {
                for fwd in [true, false] {
                    let want = [s.tag(), ">", o.tag(), if fwd { "|f" } else { "|b" }].concat();
                    assert_eq!(pair_tag(pair_tag_index(s, o, fwd)), want);
                }
            }
        }
    }

    #[test]
    fn trigger_masks_match_the_plain_definition() {
        // Prefix match for every class but prepositions, whole-word match for those.
        let plain = |w: &str| -> u8 {
            let mut mask = 0;
            for (k, (class, list)) in TRIGGERS.iter().enumerate() {
                let hit = if *class == "prep" {
                    list.contains(&w)
                } else {
                    list.iter().any(|p| w.starts_with(p))
                };
                if hit {
                    mask |= 1 << k;
                }
            }
            mask
        };
        assert_eq!(TRIGGERS[PREP_CLASS].0, "prep");
        let mut words: Vec<String> = ["", "i", "inn", "nearby", "near", "<num>", "état", "x"]
            .map(String::from)
            .to_vec();
        for (_, list) in TRIGGERS {
            for p in list {
                for cut in 1..=p.len() {
                    words.push(p[..cut].to_string());
                }
                words.push(format!("{p}s"));
            }
        }
        for w in &words {
            assert_eq!(trigger_mask(w), plain(w), "{w:?}");
        }
    }

    #[test]
    fn a_shared_between_cache_gives_every_pair_its_own_features() {
        let text = "Police said John Smith , a spokesman for Acme Corp , was shot in Boston , Massachusetts , by Bob Jones on Monday";
        let words: Vec<Cow<'_, str>> = text.split(' ').map(norm).collect();
        let triggers = trigger_masks(&words);
        let arg = |mention, at: usize, len: usize, coarse, id| Arg {
            mention,
            tok_start: at,
            tok_end: at + len,
            coarse,
            id,
            place: None,
        };
        let args = [
            arg(0, 2, 2, Coarse::Per, 1),
            arg(1, 8, 2, Coarse::Org, 2),
            arg(2, 14, 1, Coarse::Loc, 3),
            arg(3, 16, 1, Coarse::Loc, 4),
            arg(4, 19, 2, Coarse::Per, 5),
        ];
        // The sentence starts one word in, so cache slots are sentence-relative.
        let sent = 1..words.len();
        let mut shared = BetweenCache::for_sentence(&sent);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let pairs = candidate_pairs(&args);
        assert_eq!(pairs.len(), 20);
        for (i, j) in pairs {
            pair_features(&words, &triggers, &sent, &args, i, j, &mut shared, &mut a);
            let mut fresh = BetweenCache::for_sentence(&sent);
            pair_features(&words, &triggers, &sent, &args, i, j, &mut fresh, &mut b);
            assert_eq!(a, b, "pair {i}->{j}");
            let gap = gap(&args[i], &args[j]);
            // bias, dist, commas, nbetween, nearest, ranks, contexts, argument words...
            assert!(
                a.len() >= 3 * gap + 12,
                "pair {i}->{j}: {} features",
                a.len()
            );
        }
    }

    /// The precomputed hashes give every pair exactly the features hashing their text
    /// gives, over crowded sentences with every argument type, place kind and trigger.
    #[test]
    fn fixed_feature_table_equals_hashing_the_text() {
        let text = "Police said ( John Smith ; a spokesman for Acme Corp -- was shot and killed in Boston , Massachusetts : by Bob Jones of Paris who lives in France , Kenya 's capital";
        let words: Vec<Cow<'_, str>> = text.split(' ').map(norm).collect();
        let triggers = trigger_masks(&words);
        let kinds = ["country", "state", "region", "city", "planet"];
        let mut x = 7u64;
        let mut next = |n: usize| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize % n
        };
        let sent = 0..words.len();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut compared = 0;
        for round in 0..300 {
            // 2-8 non-overlapping arguments at random places.
            let mut args = Vec::new();
            let mut at = next(3);
            while at + 1 < words.len() && args.len() < 2 + round % 7 {
                let len = 1 + next(2);
                let coarse = [Coarse::Per, Coarse::Org, Coarse::Loc][next(3)];
                let place = (coarse == Coarse::Loc && next(4) > 0).then(|| Place {
                    country: [b'A' + next(2) as u8, b'X'],
                    kind: kinds[next(kinds.len())],
                });
                let id = next(5) as u64;
                let mention = args.len();
                args.push(Arg {
                    mention,
                    tok_start: at,
                    tok_end: (at + len).min(words.len()),
                    coarse,
                    id,
                    place,
                });
                at += len + next(6);
            }
            let mut cache = BetweenCache::for_sentence(&sent);
            for (i, j) in candidate_pairs(&args) {
                pair_features(&words, &triggers, &sent, &args, i, j, &mut cache, &mut a);
                let mut fresh = BetweenCache::for_sentence(&sent);
                pair_features_with(
                    &words, &triggers, &sent, &args, i, j, &mut fresh, &mut b, None,
                );
                assert_eq!(a, b, "round {round} pair {i}->{j}");
                compared += 1;
            }
        }
        assert!(compared > 1000, "{compared} pairs");
    }

    #[test]
    fn stems_are_the_first_five_chars() {
        for w in ["", "a", "said", "spoke", "spokesman", "münchen", "élysée"] {
            assert_eq!(stem(w), w.chars().take(5).collect::<String>());
        }
    }
}
