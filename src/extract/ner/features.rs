//! Feature extraction: turns a document's tokens into hashed feature ids per token.
//!
//! Features are token-level (the tagger conjoins them with every tag through its weight rows),
//! built from per-token "atoms" computed once: the word, its lowercased digit-normalised form,
//! shapes, prefixes/suffixes, word clusters and usual casing from the lexicon, and gazetteer
//! matches. Context uses a ±2 window. Two document-level groups make the tagger robust to
//! all-caps headlines and sentence-initial capitals:
//! - label-free: does this word appear elsewhere in the document lowercase / capitalised mid-sentence;
//! - label-based (second pass only): the majority entity type the first pass gave the same word
//!   elsewhere in the document.
//!
//! POS and chunk columns are never used: production text has none. All hashes are stable (xxh3
//! with fixed seeds and fixed mixing), because feature ids are persisted in the model file.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::lexicon::{phrase_extend, word_key, Gazetteer, LexEntry, Lexicon};

/// Seed for atom hashes.
const ATOM_SEED: u64 = 0x6e65_725f_6174_6f6d; // "ner_atom"

/// Longest prefix/suffix used, in chars.
const AFFIX_MAX: usize = 4;

/// Longest shape kept, in chars (long numbers/words are truncated to keep the shape vocabulary small).
const SHAPE_MAX: usize = 10;

// Feature template ids; persisted through feature hashes, never renumber.
const T_BIAS: u64 = 1;
const T_WORD: u64 = 2;
const T_LOW: [u64; 5] = [3, 4, 5, 6, 7]; // offsets -2..=2
const T_BIGRAM_L: u64 = 8;
const T_BIGRAM_R: u64 = 9;
const T_SHAPE: [u64; 3] = [10, 11, 12]; // -1..=1
const T_SSHAPE_L: u64 = 13;
const T_SSHAPE_R: u64 = 14;
const T_SSHAPE: u64 = 15;
const T_PRE: u64 = 16;
const T_SUF: u64 = 17;
const T_CLUSTER: u64 = 18;
const T_CLUSTER_PREV: u64 = 19;
const T_CLUSTER_NEXT: u64 = 20;
const T_CASE: u64 = 21;
const T_GAZ_B: u64 = 22;
const T_GAZ_I: u64 = 23;
const T_GAZ_PREV: u64 = 24;
const T_GAZ_NEXT: u64 = 25;
const T_POS_SHAPE: u64 = 26;
const T_HEAD_LOW: u64 = 27;
const T_DOC_CASE: u64 = 28;
const T_DOC_LABEL: u64 = 29;
const T_DOC_LABEL_SHAPE: u64 = 30;
const T_NO_CLUSTER: u64 = 31;
const T_SSHAPE_LR: u64 = 32;
const T_LOW_SHAPE_PREV: u64 = 33;
const T_CAP_RUN: u64 = 34;

// Token flags.
const F_TITLE: u16 = 1;
const F_UPPER: u16 = 2;
const F_INITIAL: u16 = 4;
const F_HEADLINE: u16 = 8;
const F_ALPHA: u16 = 16;

/// Mixes two 64-bit values into one (stable; persisted through feature ids).
#[inline]
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let x = (a ^ b.rotate_left(29))
        .wrapping_add(0x9E37_79B9_7F4A_7C15)
        .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let x = (x ^ (x >> 31)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 29)
}

#[inline]
fn atom(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(bytes, ATOM_SEED)
}

/// Per-token atoms. The context-free part is computed once per word and kept in the
/// tagger's word cache (`Copy`: it is copied out for every token); sentence flags and
/// gazetteer marks are added per occurrence.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TokenAtoms {
    word: u64,
    /// Lowercased, digits mapped to `0`.
    low: u64,
    /// Key of the plain lowercased word (lexicon/gazetteer/doc statistics).
    lex_key: u64,
    shape: u64,
    sshape: u64,
    pre: [u64; AFFIX_MAX],
    suf: [u64; AFFIX_MAX],
    n_chars: usize,
    lex: Option<LexEntry>,
    flags: u16,
    gaz_b: u32,
    gaz_i: u32,
}

/// Word-level resources the features read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resources {
    pub(crate) lexicon: Lexicon,
    pub(crate) gazetteer: Gazetteer,
}

/// Identity hasher for keys that already are hashes (doc statistics map, word cache).
#[derive(Default)]
pub(crate) struct IdHasher(u64);
impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}
type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Reusable scratch buffers, so featurising allocates little per document.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    low: String,
    norm: String,
    shape: String,
    sshape: String,
    norm_word: String,
}

/// The lexicon/gazetteer form of a word: typographic variants normalised, then lowercased.
pub(crate) fn normalized_lower(w: &str) -> String {
    w.chars()
        .map(normalize_char)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Maps typographic variants to the ASCII forms of the CoNLL training text (production text
/// has curly quotes and dashes that CoNLL never shows).
#[inline]
fn normalize_char(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => '"',
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}' => '-',
        _ => c,
    }
}

/// Computes the atoms of every token of a document (sentences flattened in order).
pub(crate) fn atoms(res: &Resources, sentences: &[Vec<&str>], sc: &mut Scratch) -> Vec<TokenAtoms> {
    let n: usize = sentences.iter().map(Vec::len).sum();
    // Words repeat a lot within a document; computing their atoms once halves featurising time.
    let mut cache: HashMap<&str, TokenAtoms> = HashMap::with_capacity(n / 2 + 1);
    atoms_with(res, sentences, |tok| {
        *cache
            .entry(tok)
            .or_insert_with(|| token_atoms(res, tok, sc))
    })
}

/// [`atoms`] with the context-free part of each token's atoms supplied by `word_atoms`
/// (which may cache them across documents): sentence position, headline and gazetteer marks
/// are added here.
pub(crate) fn atoms_with<'a>(
    res: &Resources,
    sentences: &[Vec<&'a str>],
    mut word_atoms: impl FnMut(&'a str) -> TokenAtoms,
) -> Vec<TokenAtoms> {
    let n: usize = sentences.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(n);
    for sent in sentences {
        let first = out.len();
        let mut n_alpha = 0;
        let mut n_upper = 0;
        for (i, tok) in sent.iter().enumerate() {
            let mut a = word_atoms(tok);
            if i == 0 {
                a.flags |= F_INITIAL;
            }
            if a.flags & F_ALPHA != 0 {
                n_alpha += 1;
                if a.flags & F_UPPER != 0 {
                    n_upper += 1;
                }
            }
            out.push(a);
        }
        // A headline (or shouted line): every word in capitals, at least two of them.
        if n_alpha >= 2 && n_upper == n_alpha {
            for a in &mut out[first..] {
                a.flags |= F_HEADLINE;
            }
        }
        mark_gazetteer(&res.gazetteer, &mut out[first..]);
    }
    out
}

/// The atoms of one token that depend on its characters alone (no sentence context).
pub(crate) fn token_atoms(res: &Resources, tok: &str, sc: &mut Scratch) -> TokenAtoms {
    sc.low.clear();
    sc.norm.clear();
    sc.shape.clear();
    sc.sshape.clear();
    let mut n_chars = 0;
    let mut n_upper = 0;
    let mut n_lower = 0;
    let mut first_upper = false;
    let mut last_shape = '\0';
    for (i, c) in tok.chars().map(normalize_char).enumerate() {
        n_chars += 1;
        let s = if c.is_uppercase() {
            n_upper += 1;
            if i == 0 {
                first_upper = true;
            }
            'X'
        } else if c.is_lowercase() {
            n_lower += 1;
            'x'
        } else if c.is_ascii_digit() {
            'd'
        } else if c.is_alphabetic() {
            'x'
        } else {
            c
        };
        if c.is_ascii() {
            sc.low.push(c.to_ascii_lowercase());
        } else if c.is_uppercase() {
            sc.low.extend(c.to_lowercase());
        } else {
            sc.low.push(c);
        }
        if n_chars <= SHAPE_MAX {
            sc.shape.push(s);
        }
        if s != last_shape {
            sc.sshape.push(s);
            last_shape = s;
        }
    }
    for c in sc.low.chars() {
        sc.norm.push(if c.is_ascii_digit() { '0' } else { c });
    }
    let mut flags = 0;
    if n_upper + n_lower > 0 {
        flags |= F_ALPHA;
        if first_upper && (n_lower > 0 || n_chars == 1) {
            flags |= F_TITLE;
        }
        if n_lower == 0 {
            flags |= F_UPPER;
        }
    }
    let lex_key = word_key(&sc.low);
    let mut pre = [0u64; AFFIX_MAX];
    let mut suf = [0u64; AFFIX_MAX];
    let low = sc.low.as_bytes();
    let mut ends = sc
        .low
        .char_indices()
        .map(|x| x.0)
        .skip(1)
        .chain(std::iter::once(low.len()));
    let mut starts = sc.low.char_indices().rev().map(|x| x.0);
    for k in 0..AFFIX_MAX.min(n_chars) {
        if let Some(e) = ends.next() {
            pre[k] = atom(&low[..e]);
        }
        if let Some(b) = starts.next() {
            suf[k] = atom(&low[b..]);
        }
    }
    // The word atom uses the normalised form, so curly and straight quotes look alike.
    sc.norm_word.clear();
    sc.norm_word.extend(tok.chars().map(normalize_char));
    TokenAtoms {
        word: atom(sc.norm_word.as_bytes()),
        low: atom(sc.norm.as_bytes()),
        lex_key,
        shape: atom(sc.shape.as_bytes()),
        sshape: atom(sc.sshape.as_bytes()),
        pre,
        suf,
        n_chars,
        lex: res.lexicon.get(lex_key).copied(),
        flags,
        gaz_b: 0,
        gaz_i: 0,
    }
}

/// Longest-match gazetteer lookup starting at capitalised tokens.
/// Phrase lengths whose keys [`mark_gazetteer`] computes and prefetches at once (the
/// shipped gazetteer's phrases have at most 6 tokens).
const MAX_PHRASE: usize = 8;

fn mark_gazetteer(g: &Gazetteer, toks: &mut [TokenAtoms]) {
    if g.max_len == 0 {
        return;
    }
    let mut i = 0;
    while i < toks.len() {
        if toks[i].flags & (F_TITLE | F_UPPER) == 0 {
            i += 1;
            continue;
        }
        // The phrase keys of every length from here, then their slots fetched together:
        // the table is large and these probes used to wait on memory one after another.
        let n = g.max_len.min(toks.len() - i).min(MAX_PHRASE);
        let mut keys = [0u64; MAX_PHRASE];
        for len in 1..=n {
            let w = toks[i + len - 1].lex_key;
            keys[len - 1] = if len == 1 {
                w
            } else {
                phrase_extend(keys[len - 2], w)
            };
            g.map.prefetch(keys[len - 1]);
        }
        let mut best: Option<(usize, u32)> = None;
        for (len, &key) in keys[..n].iter().enumerate() {
            if let Some(bits) = g.map.get(key) {
                best = Some((len + 1, bits));
            }
        }
        // Phrases longer than the key buffer (none in the shipped model) are still matched.
        if g.max_len > MAX_PHRASE && toks.len() - i > MAX_PHRASE {
            let mut key = keys[MAX_PHRASE - 1];
            for len in MAX_PHRASE + 1..=g.max_len.min(toks.len() - i) {
                key = phrase_extend(key, toks[i + len - 1].lex_key);
                if let Some(bits) = g.map.get(key) {
                    best = Some((len, bits));
                }
            }
        }
        match best {
            Some((len, bits)) => {
                toks[i].gaz_b |= bits;
                for t in &mut toks[i + 1..i + len] {
                    t.gaz_i |= bits;
                }
                i += len;
            }
            None => i += 1,
        }
    }
}

/// Appends the base (first-pass) features of every token: `feats[offsets[t]..offsets[t+1]]`.
pub(crate) fn base_features(
    toks: &[TokenAtoms],
    sentences: &[Vec<&str>],
    feats: &mut Vec<u64>,
    offsets: &mut Vec<u32>,
) {
    per_token(toks, sentences, feats, offsets, token_features);
}

/// Runs `features` for every token with its sentence and the document's casing statistics,
/// then adds the token's capitalised-run feature.
fn per_token(
    toks: &[TokenAtoms],
    sentences: &[Vec<&str>],
    feats: &mut Vec<u64>,
    offsets: &mut Vec<u32>,
    features: impl Fn(&[TokenAtoms], usize, &IdMap<(u16, u16)>, &mut Vec<u64>),
) {
    feats.clear();
    offsets.clear();
    let doc = doc_case_stats(toks);
    let mut start = 0;
    for sent in sentences {
        let s = &toks[start..start + sent.len()];
        let runs = cap_runs(s);
        for (i, run) in runs.iter().enumerate() {
            offsets.push(feats.len() as u32);
            features(s, i, &doc, feats);
            if let Some((len, pos)) = *run {
                feats.push(mix(mix(T_CAP_RUN, len), pos));
            }
        }
        start += sent.len();
    }
    offsets.push(feats.len() as u32);
}

/// For capitalised tokens outside headlines: (run length capped at 4, position in the run:
/// 0 single, 1 first, 2 inner, 3 last). Runs of capitalised words are the usual name boundaries.
fn cap_runs(s: &[TokenAtoms]) -> Vec<Option<(u64, u64)>> {
    let cap = |t: &TokenAtoms| t.flags & (F_TITLE | F_UPPER) != 0 && t.flags & F_HEADLINE == 0;
    let mut out = vec![None; s.len()];
    let mut i = 0;
    while i < s.len() {
        if !cap(&s[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < s.len() && cap(&s[j]) {
            j += 1;
        }
        let len = (j - i).min(4) as u64;
        for (k, o) in out.iter_mut().enumerate().take(j).skip(i) {
            let pos = if j - i == 1 {
                0
            } else if k == i {
                1
            } else if k + 1 == j {
                3
            } else {
                2
            };
            *o = Some((len, pos));
        }
        i = j;
    }
    out
}

/// Per lowercased word: (lowercase mid-sentence count, capitalised mid-sentence count).
fn doc_case_stats(toks: &[TokenAtoms]) -> IdMap<(u16, u16)> {
    let mut m: IdMap<(u16, u16)> =
        IdMap::with_capacity_and_hasher(toks.len() / 2, Default::default());
    for t in toks {
        if t.flags & (F_INITIAL | F_HEADLINE) != 0 || t.flags & F_ALPHA == 0 {
            continue;
        }
        let e = m.entry(t.lex_key).or_default();
        if t.flags & (F_TITLE | F_UPPER) != 0 {
            e.1 = e.1.saturating_add(1);
        } else {
            e.0 = e.0.saturating_add(1);
        }
    }
    m
}

// Boundary atoms for positions outside the sentence.
const BOS: u64 = 0xB05;
const EOS: u64 = 0xE05;

/// Token `i`'s ±2 window in sentence `s`; offsets outside the sentence read as the boundary
/// atoms. Shared by the training path ([`token_features`]) and the tagging path
/// ([`context_features`]) so that both see the same window.
struct Around<'a> {
    s: &'a [TokenAtoms],
    i: usize,
}

impl<'a> Around<'a> {
    fn at(&self, d: isize) -> Option<&'a TokenAtoms> {
        let j = self.i as isize + d;
        if j < 0 {
            None
        } else {
            self.s.get(j as usize)
        }
    }
    fn low(&self, d: isize) -> u64 {
        self.at(d).map_or(boundary(d), |x| x.low)
    }
    fn shape(&self, d: isize) -> u64 {
        self.at(d).map_or(boundary(d), |x| x.shape)
    }
    fn sshape(&self, d: isize) -> u64 {
        self.at(d).map_or(boundary(d), |x| x.sshape)
    }
}

/// The atom of a position `d` tokens outside the sentence.
fn boundary(d: isize) -> u64 {
    if d < 0 {
        BOS
    } else {
        EOS
    }
}

/// All first-pass features of token `i` of sentence `s`, in training order. The tagging hot
/// path gets the same multiset from [`type_features`] + [`context_features`] (tested).
fn token_features(s: &[TokenAtoms], i: usize, doc: &IdMap<(u16, u16)>, f: &mut Vec<u64>) {
    let t = &s[i];
    let w = Around { s, i };
    let (at, low, shape, sshape) = (|d| w.at(d), |d| w.low(d), |d| w.shape(d), |d| w.sshape(d));
    let pos_flags = u64::from(t.flags & (F_INITIAL | F_HEADLINE));

    f.push(mix(T_BIAS, 0));
    f.push(mix(T_WORD, t.word));
    for (k, d) in (-2isize..=2).enumerate() {
        f.push(mix(T_LOW[k], low(d)));
    }
    f.push(mix(mix(T_BIGRAM_L, low(-1)), t.low));
    f.push(mix(mix(T_BIGRAM_R, t.low), low(1)));
    for (k, d) in (-1isize..=1).enumerate() {
        f.push(mix(T_SHAPE[k], shape(d)));
    }
    f.push(mix(T_SSHAPE, t.sshape));
    f.push(mix(mix(T_SSHAPE_L, sshape(-1)), t.sshape));
    f.push(mix(mix(T_SSHAPE_R, t.sshape), sshape(1)));
    f.push(mix(mix(mix(T_SSHAPE_LR, sshape(-1)), t.sshape), sshape(1)));
    f.push(mix(mix(T_LOW_SHAPE_PREV, low(-1)), t.sshape));
    f.push(mix(mix(T_POS_SHAPE, pos_flags), t.sshape));
    for k in 0..AFFIX_MAX.min(t.n_chars) {
        f.push(mix(mix(T_PRE, k as u64), t.pre[k]));
        f.push(mix(mix(T_SUF, k as u64), t.suf[k]));
    }
    match &t.lex {
        Some(e) => {
            for (lvl, c) in e.clusters.iter().enumerate() {
                f.push(mix(mix(T_CLUSTER, lvl as u64), u64::from(*c)));
            }
            let case = e.case as u64;
            f.push(mix(
                mix(T_CASE, case),
                pos_flags | (u64::from(t.flags & 3) << 8),
            ));
        }
        None => f.push(mix(mix(T_NO_CLUSTER, pos_flags), t.sshape)),
    }
    let cluster = |d: isize, lvl: usize| -> u64 {
        match at(d) {
            None => 0xFFFF_0000u64.wrapping_add(d as u64),
            Some(x) => x.lex.map_or(0xFFFF, |e| u64::from(e.clusters[lvl])),
        }
    };
    for lvl in 1..3 {
        f.push(mix(mix(T_CLUSTER_PREV, lvl as u64), cluster(-1, lvl)));
        f.push(mix(mix(T_CLUSTER_NEXT, lvl as u64), cluster(1, lvl)));
    }
    for b in 0..32 {
        if t.gaz_b & (1 << b) != 0 {
            f.push(mix(T_GAZ_B, b));
        }
        if t.gaz_i & (1 << b) != 0 {
            f.push(mix(T_GAZ_I, b));
        }
    }
    push_tail(&w, doc, pos_flags, f);
}

/// Offsets (relative to a position) of the window words whose word-level features
/// [`type_features`] lists; index `d + 2`.
pub(crate) const WINDOW: [isize; 5] = [-2, -1, 0, 1, 2];

/// The features a position gets from the word at relative offset `d` alone (`x = None`: that
/// offset is outside the sentence). They depend on nothing but that word, so the tagger sums
/// their weights once per word and reuses the sums; with [`context_features`] they are exactly
/// [`token_features`]' features.
pub(crate) fn type_features(x: Option<&TokenAtoms>, d: isize, f: &mut Vec<u64>) {
    let low = x.map_or(boundary(d), |x| x.low);
    let shape = x.map_or(boundary(d), |x| x.shape);
    let cluster = |lvl: usize| -> u64 {
        match x {
            None => 0xFFFF_0000u64.wrapping_add(d as u64),
            Some(x) => x.lex.map_or(0xFFFF, |e| u64::from(e.clusters[lvl])),
        }
    };
    match d {
        0 => {
            let Some(t) = x else { return };
            f.push(mix(T_BIAS, 0));
            f.push(mix(T_WORD, t.word));
            f.push(mix(T_LOW[2], t.low));
            f.push(mix(T_SHAPE[1], t.shape));
            f.push(mix(T_SSHAPE, t.sshape));
            for k in 0..AFFIX_MAX.min(t.n_chars) {
                f.push(mix(mix(T_PRE, k as u64), t.pre[k]));
                f.push(mix(mix(T_SUF, k as u64), t.suf[k]));
            }
            if let Some(e) = &t.lex {
                for (lvl, c) in e.clusters.iter().enumerate() {
                    f.push(mix(mix(T_CLUSTER, lvl as u64), u64::from(*c)));
                }
            }
        }
        -2 => f.push(mix(T_LOW[0], low)),
        2 => f.push(mix(T_LOW[4], low)),
        -1 => {
            f.push(mix(T_LOW[1], low));
            f.push(mix(T_SHAPE[0], shape));
            for lvl in 1..3 {
                f.push(mix(mix(T_CLUSTER_PREV, lvl as u64), cluster(lvl)));
            }
        }
        1 => {
            f.push(mix(T_LOW[3], low));
            f.push(mix(T_SHAPE[2], shape));
            for lvl in 1..3 {
                f.push(mix(mix(T_CLUSTER_NEXT, lvl as u64), cluster(lvl)));
            }
        }
        _ => {}
    }
}

/// [`base_features`] without the word-level features of [`type_features`]: what is left
/// depends on word pairs, sentence position, gazetteer marks or the document.
pub(crate) fn base_context_features(
    toks: &[TokenAtoms],
    sentences: &[Vec<&str>],
    feats: &mut Vec<u64>,
    offsets: &mut Vec<u32>,
) {
    per_token(toks, sentences, feats, offsets, context_features);
}

/// The features of [`token_features`] that [`type_features`] does not list.
fn context_features(s: &[TokenAtoms], i: usize, doc: &IdMap<(u16, u16)>, f: &mut Vec<u64>) {
    let t = &s[i];
    let w = Around { s, i };
    let (low, sshape) = (|d| w.low(d), |d| w.sshape(d));
    let pos_flags = u64::from(t.flags & (F_INITIAL | F_HEADLINE));

    f.push(mix(mix(T_BIGRAM_L, low(-1)), t.low));
    f.push(mix(mix(T_BIGRAM_R, t.low), low(1)));
    f.push(mix(mix(T_SSHAPE_L, sshape(-1)), t.sshape));
    f.push(mix(mix(T_SSHAPE_R, t.sshape), sshape(1)));
    f.push(mix(mix(mix(T_SSHAPE_LR, sshape(-1)), t.sshape), sshape(1)));
    f.push(mix(mix(T_LOW_SHAPE_PREV, low(-1)), t.sshape));
    f.push(mix(mix(T_POS_SHAPE, pos_flags), t.sshape));
    match &t.lex {
        Some(e) => f.push(mix(
            mix(T_CASE, e.case as u64),
            pos_flags | (u64::from(t.flags & 3) << 8),
        )),
        None => f.push(mix(mix(T_NO_CLUSTER, pos_flags), t.sshape)),
    }
    // Set bits only (most tokens have none); the order is free here, as the tagger sums.
    for (template, mut bits) in [(T_GAZ_B, t.gaz_b), (T_GAZ_I, t.gaz_i)] {
        while bits != 0 {
            f.push(mix(template, u64::from(bits.trailing_zeros())));
            bits &= bits - 1;
        }
    }
    push_tail(&w, doc, pos_flags, f);
}

/// The last features of both paths, in training order: gazetteer marks of the neighbours,
/// the headline word, document casing.
fn push_tail(w: &Around, doc: &IdMap<(u16, u16)>, pos_flags: u64, f: &mut Vec<u64>) {
    let t = &w.s[w.i];
    if let Some(p) = w.at(-1) {
        if p.gaz_b | p.gaz_i != 0 {
            f.push(mix(T_GAZ_PREV, u64::from(p.gaz_b | p.gaz_i)));
        }
    }
    if let Some(nx) = w.at(1) {
        if nx.gaz_b | nx.gaz_i != 0 {
            f.push(mix(T_GAZ_NEXT, u64::from(nx.gaz_b | nx.gaz_i)));
        }
    }
    if t.flags & F_HEADLINE != 0 {
        f.push(mix(T_HEAD_LOW, t.low));
    }
    push_doc_case(t, doc, pos_flags, f);
}

/// Document casing evidence for `t`, excluding this occurrence.
fn push_doc_case(t: &TokenAtoms, doc: &IdMap<(u16, u16)>, pos_flags: u64, f: &mut Vec<u64>) {
    if t.flags & F_ALPHA != 0 {
        let (mut nl, mut nt) = doc.get(&t.lex_key).copied().unwrap_or((0, 0));
        if t.flags & (F_INITIAL | F_HEADLINE) == 0 {
            if t.flags & (F_TITLE | F_UPPER) != 0 {
                nt = nt.saturating_sub(1);
            } else {
                nl = nl.saturating_sub(1);
            }
        }
        let ev = u64::from(nl > 0) | (u64::from(nt > 0) << 1);
        f.push(mix(
            mix(T_DOC_CASE, ev),
            pos_flags | (u64::from(t.flags & 3) << 8),
        ));
    }
}

/// Second-pass features: for each token, the majority entity type (1..=4) the first pass gave
/// other occurrences of the same lowercased word in the document. `types[t]` is 0 for O.
pub(crate) fn doc_label_features(
    toks: &[TokenAtoms],
    types: &[u8],
    feats: &mut Vec<u64>,
    offsets: &mut Vec<u32>,
) {
    feats.clear();
    offsets.clear();
    // Sized for the document's distinct words up front (rehashing showed in profiles).
    let mut counts: IdMap<[u16; 5]> =
        IdMap::with_capacity_and_hasher(toks.len() / 2, Default::default());
    for (t, &ty) in toks.iter().zip(types) {
        if t.flags & F_ALPHA == 0 {
            continue;
        }
        let e = counts.entry(t.lex_key).or_default();
        e[ty as usize] = e[ty as usize].saturating_add(1);
    }
    for (t, &ty) in toks.iter().zip(types) {
        offsets.push(feats.len() as u32);
        if t.flags & F_ALPHA == 0 {
            continue;
        }
        let mut c = counts.get(&t.lex_key).copied().unwrap_or_default();
        c[ty as usize] = c[ty as usize].saturating_sub(1);
        let ents: u16 = c[1..].iter().sum();
        if ents == 0 {
            if c[0] > 0 {
                feats.push(mix(T_DOC_LABEL, 0));
            }
            continue;
        }
        let mut best = 1;
        for k in 2..5 {
            if c[k] > c[best] {
                best = k;
            }
        }
        let mostly = u64::from(ents >= c[0]);
        feats.push(mix(mix(T_DOC_LABEL, best as u64), mostly));
        feats.push(mix(
            mix(T_DOC_LABEL_SHAPE, best as u64),
            u64::from(t.flags & (F_TITLE | F_UPPER | F_INITIAL | F_HEADLINE)),
        ));
    }
    offsets.push(feats.len() as u32);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::ner::lexicon::{phrase_key, CaseClass};

    fn usually_lower(a: &TokenAtoms) -> bool {
        a.lex.is_some_and(|e| e.case == CaseClass::Lower)
    }

    fn res() -> Resources {
        let mut r = Resources::default();
        r.gazetteer.add(phrase_key(&["new", "york"]), 4, 2);
        r.lexicon.insert(
            word_key("the"),
            LexEntry {
                clusters: [1, 2, 3],
                case: CaseClass::Lower,
            },
        );
        r
    }

    #[test]
    fn gazetteer_marks_longest_match() {
        let r = res();
        let sents = vec![vec!["In", "New", "York", "today"]];
        let a = atoms(&r, &sents, &mut Scratch::default());
        assert_eq!((a[1].gaz_b, a[2].gaz_i, a[3].gaz_b), (4, 4, 0));
    }

    #[test]
    fn gazetteer_matches_phrases_longer_than_the_key_buffer() {
        let mut r = res();
        let long: Vec<String> = (0..MAX_PHRASE + 2).map(|k| format!("w{k}")).collect();
        r.gazetteer.add(phrase_key(&long), 2, long.len());
        r.gazetteer
            .add(phrase_key(&long[..MAX_PHRASE]), 1, MAX_PHRASE);
        let mut sent: Vec<String> = vec!["In".into()];
        sent.extend(long.iter().map(|w| w.to_uppercase()));
        sent.push("said".into());
        let sents = vec![sent.iter().map(String::as_str).collect::<Vec<_>>()];
        let a = atoms(&r, &sents, &mut Scratch::default());
        assert_eq!(a[1].gaz_b, 2, "the longest phrase wins");
        assert!(a[2..=long.len()].iter().all(|t| t.gaz_i == 2));
        assert_eq!(a[long.len() + 1].gaz_i, 0);
    }

    #[test]
    fn headline_flag_and_lexicon() {
        let r = res();
        let sents = vec![vec!["THE", "BIG", "WIN"], vec!["the", "Win"]];
        let a = atoms(&r, &sents, &mut Scratch::default());
        assert!(a[0].flags & F_HEADLINE != 0 && a[3].flags & F_HEADLINE == 0);
        assert!(usually_lower(&a[0]) && usually_lower(&a[3]));
    }

    /// The tagging path's split (word-level features over the ±2 window plus context
    /// features) lists exactly the training path's features, token by token, without any
    /// model: sentence starts and ends, headlines, gazetteer marks, lexicon and unknown words.
    #[test]
    fn window_and_context_features_equal_token_features() {
        let r = res();
        let sents = vec![
            vec!["In", "New", "York", "the", "Win", "said", "$", "5.3"],
            vec!["THE", "BIG", "WIN"],
            vec!["x"],
            vec!["Peter", "O'Neill", "of", "the", "U.S.", "said", "."],
        ];
        let a = atoms(&r, &sents, &mut Scratch::default());
        let (mut full, mut fo) = (vec![], vec![]);
        base_features(&a, &sents, &mut full, &mut fo);
        let (mut ctx, mut co) = (vec![], vec![]);
        base_context_features(&a, &sents, &mut ctx, &mut co);
        let mut start = 0;
        for sent in &sents {
            for k in 0..sent.len() {
                let t = start + k;
                let mut split = ctx[co[t] as usize..co[t + 1] as usize].to_vec();
                for &d in &WINDOW {
                    let j = k as isize + d;
                    let x = (j >= 0 && (j as usize) < sent.len()).then(|| &a[start + j as usize]);
                    type_features(x, d, &mut split);
                }
                let mut want = full[fo[t] as usize..fo[t + 1] as usize].to_vec();
                split.sort_unstable();
                want.sort_unstable();
                assert_eq!(split, want, "token {t} ({})", sent[k]);
            }
            start += sent.len();
        }
    }

    #[test]
    fn features_are_deterministic_and_offsets_cover() {
        let r = res();
        let sents = vec![vec!["Peter", "Blackburn"], vec!["U.S.", "said", "$", "5.3"]];
        let a = atoms(&r, &sents, &mut Scratch::default());
        let (mut f1, mut o1, mut f2, mut o2) = (vec![], vec![], vec![], vec![]);
        base_features(&a, &sents, &mut f1, &mut o1);
        base_features(&a, &sents, &mut f2, &mut o2);
        assert_eq!(f1, f2);
        assert_eq!(o1.len(), 7);
        assert_eq!(*o1.last().expect("non-empty") as usize, f1.len());
        let mut f3 = vec![];
        let mut o3 = vec![];
        doc_label_features(&a, &[1, 1, 0, 0, 0, 0], &mut f3, &mut o3);
        assert_eq!(o3.len(), 7);
    }
}
