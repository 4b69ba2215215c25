//! News-aware tokenizer producing char and byte offsets.
//!
//! Input: clean document text. Output: [`Token`]s in text order, never overlapping, never
//! empty, covering every non-whitespace char exactly once. The conventions follow CoNLL-2003 /
//! Penn Treebank tokenisation, because that is what the NER model was trained on:
//! - abbreviations keep their period: "U.S.", "Mr.", "Sept.", "J.", "Inc.";
//! - clitics split off: "Syria's" → "Syria" "'s", "don't" → "do" "n't" (straight or curly apostrophe);
//! - names with internal apostrophes/hyphens stay whole: "O'Neill", "al-Assad";
//! - currency symbols and percent signs split: "$500" → "$" "500"; "5%" → "5" "%";
//! - numbers with separators stay whole: "1,000.50", "10:30", "1996-08-22", and so do signed or
//!   leading-dot numbers in tables ("+0.435", ".596") and ranking numbers at a line start ("1.");
//! - other punctuation is one token per char, except runs of the same char ("...", "--").
//!
//! Deterministic, allocation-light, and total: any `&str` is accepted without panicking.

/// One token: `[start, end)` in chars and `[byte_start, byte_end)` in bytes of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// First char offset.
    pub start: usize,
    /// One past the last char offset.
    pub end: usize,
    /// First byte offset.
    pub byte_start: usize,
    /// One past the last byte offset.
    pub byte_end: usize,
}

impl Token {
    /// The token's text.
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.byte_start..self.byte_end).unwrap_or("")
    }
}

/// Lowercase words that keep a following period (besides single letters and "U.S."-style
/// letter-dot sequences). Short fixed list: titles, company suffixes, months, common Latin.
pub(crate) const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm", "maj",
    "brig", "gov", "sen", "rep", "rev", "st", "jr", "sr", "hon", "pres", "inc", "corp", "co",
    "ltd", "bros", "plc", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "no", "nos", "vs", "etc", "mt", "ft", "ave", "blvd", "dept", "est", "approx",
    "assn", "govt", "fig", "vol", "pp", "cf", "al", "ariz", "calif", "colo", "conn", "fla", "ga",
    "ill", "ind", "kan", "ky", "la", "md", "mass", "mich", "minn", "miss", "mo", "neb", "nev",
    "okla", "ore", "pa", "tenn", "tex", "va", "wash", "wis", "wyo",
];

/// `w.to_lowercase()`, borrowed when `w` already is lowercase ASCII (most words): the quote
/// and relation rules test the words around every mention against small lists, and a copy
/// per test showed up in profiles (BENCHMARKS.md).
pub(crate) fn lowercase(w: &str) -> std::borrow::Cow<'_, str> {
    if w.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        std::borrow::Cow::Borrowed(w)
    } else {
        std::borrow::Cow::Owned(w.to_lowercase())
    }
}

/// Whether `lowercase(w) == target`, for a lowercase `target`, without copying an ASCII
/// word: the relation and quote rules test the words around every mention (and every word of
/// a sentence) against small lists.
#[inline]
pub(crate) fn lowercase_is(w: &str, target: &str) -> bool {
    debug_assert!(!target.bytes().any(|b| b.is_ascii_uppercase()), "{target}");
    if w.is_ascii() {
        w.eq_ignore_ascii_case(target)
    } else {
        lowercase(w) == target
    }
}

/// Whether `lowercase(w)` is one of `targets` (lowercase words); short ASCII words are
/// lowercased once on the stack and compared whole, so a long list costs one pass.
pub(crate) fn lowercase_in(w: &str, targets: &[&str]) -> bool {
    const MAX: usize = 24;
    let b = w.as_bytes();
    if b.len() <= MAX && b.is_ascii() {
        let mut buf = [0u8; MAX];
        for (d, s) in buf.iter_mut().zip(b) {
            *d = s.to_ascii_lowercase();
        }
        let l = &buf[..b.len()];
        // Lengths first and an inline byte loop: most targets differ in length, and a
        // `memcmp` call per candidate cost more than the comparison itself.
        return targets
            .iter()
            .any(|t| t.len() == l.len() && t.bytes().zip(l).all(|(x, y)| x == *y));
    }
    let l = lowercase(w);
    targets.contains(&l.as_ref())
}

/// A fixed list of lowercase words tested against every token of a document (speech verbs,
/// meeting verbs): the byte lengths and first bytes of its words rule out almost every ASCII
/// token before any comparison (lowercasing keeps both).
pub(crate) struct WordSet {
    words: &'static [&'static str],
    lens: u64,
    firsts: [u64; 4],
}

impl WordSet {
    /// The set of `words` (lowercase).
    pub(crate) const fn new(words: &'static [&'static str]) -> WordSet {
        let mut lens = 0u64;
        let mut firsts = [0u64; 4];
        let mut i = 0;
        while i < words.len() {
            let b = words[i].as_bytes();
            let len = if b.len() < 63 { b.len() } else { 63 };
            lens |= 1 << len;
            if !b.is_empty() {
                firsts[(b[0] >> 6) as usize] |= 1 << (b[0] & 63);
            }
            i += 1;
        }
        WordSet {
            words,
            lens,
            firsts,
        }
    }

    /// Whether `lowercase(w)` is in the set.
    #[inline]
    pub(crate) fn contains_lowercase(&self, w: &str) -> bool {
        let b = w.as_bytes();
        if let Some(&f) = b.first().filter(|_| b.is_ascii()) {
            let f = f.to_ascii_lowercase();
            if self.lens & (1 << b.len().min(63)) == 0
                || self.firsts[usize::from(f >> 6)] & (1 << (f & 63)) == 0
            {
                return false;
            }
        }
        lowercase_in(w, self.words)
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`')
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c)
}

/// Combining marks (kept inside words so decomposed accents do not split names).
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Length in chars of a clitic starting at `cs[i]` (an apostrophe), or 0.
fn clitic_len(cs: &[char], i: usize) -> usize {
    if !cs.get(i).is_some_and(|c| is_apostrophe(*c)) {
        return 0;
    }
    let mut j = i + 1;
    while j < cs.len() && cs[j].is_alphabetic() {
        j += 1;
    }
    if chars_lower_in(&cs[i + 1..j], &["s", "re", "ve", "ll", "d", "m"]) {
        j - i
    } else {
        0
    }
}

/// True when `cs[i..]` starts with "n't" followed by a non-letter.
fn is_nt(cs: &[char], i: usize) -> bool {
    cs.len() >= i + 3
        && matches!(cs[i], 'n' | 'N')
        && is_apostrophe(cs[i + 1])
        && matches!(cs[i + 2], 't' | 'T')
        && !cs.get(i + 3).is_some_and(|c| c.is_alphabetic())
}

/// Splits one whitespace-free chunk into token lengths (in chars). `line_start`: the chunk
/// begins a line, where "1." is a list/ranking number (sports results), not a sentence end.
fn split_chunk(cs: &[char], line_start: bool, out: &mut Vec<usize>) {
    let n = cs.len();
    if line_start
        && (2..=4).contains(&n)
        && cs[n - 1] == '.'
        && cs[..n - 1].iter().all(char::is_ascii_digit)
    {
        out.push(n);
        return;
    }
    let mut i = 0;
    while i < cs.len() {
        let len = next_token(cs, i).max(1);
        out.push(len);
        i += len;
    }
}

/// Length of the token starting at `cs[i]`.
fn next_token(cs: &[char], i: usize) -> usize {
    let c = cs[i];
    if is_nt(cs, i) && i > 0 && cs[i - 1].is_alphabetic() {
        return 3;
    }
    if is_apostrophe(c) && i > 0 && is_word_char(cs[i - 1]) {
        let k = clitic_len(cs, i);
        if k > 0 {
            return k;
        }
    }
    if is_word_char(c) {
        return word_len(cs, i);
    }
    // Signed or leading-dot numbers, as in market and sports tables: "+0.435", ".596".
    if matches!(c, '+' | '.')
        && cs.get(i + 1).is_some_and(char::is_ascii_digit)
        && (i == 0 || !cs[i - 1].is_alphanumeric())
    {
        return 1 + word_len(cs, i + 1);
    }
    // Punctuation: a run of the same char is one token ("...", "--", "!!").
    let mut j = i + 1;
    while j < cs.len() && cs[j] == c && !c.is_alphanumeric() {
        j += 1;
    }
    j - i
}

fn word_len(cs: &[char], start: usize) -> usize {
    let mut j = start;
    let all_digits_so_far = |j: usize| cs[start..j].iter().all(|c| c.is_ascii_digit() || *c == ',');
    loop {
        while j < cs.len() && is_word_char(cs[j]) {
            // "don't": stop before "n't".
            if is_nt(cs, j) && j > start {
                return j - start;
            }
            j += 1;
        }
        let Some(&next) = cs.get(j) else { break };
        let after = cs.get(j + 1).copied();
        let after_is_word = after.is_some_and(is_word_char);
        // Number separators between digits: 1,000.50  2,960,000  10:30  1/2
        if matches!(next, ',' | '.' | ':' | '/')
            && cs[j - 1].is_ascii_digit()
            && after.is_some_and(|c| c.is_ascii_digit())
            && (next != ',' || all_digits_so_far(j))
        {
            j += 1;
            continue;
        }
        if is_hyphen(next) && after_is_word {
            j += 1;
            continue;
        }
        // O'Neill, d'Estaing: apostrophe inside a name that is not a clitic.
        if is_apostrophe(next) && after_is_word && clitic_len(cs, j) == 0 && !is_nt(cs, j - 1) {
            j += 1;
            continue;
        }
        if next == '.' {
            return j - start + period_attaches(cs, start, j);
        }
        break;
    }
    j - start
}

/// Number of chars (0 or more) an abbreviation takes from `cs[dot..]`, where `cs[start..dot]`
/// is a word followed by a period.
fn period_attaches(cs: &[char], start: usize, dot: usize) -> usize {
    let word = &cs[start..dot];
    // Letter-dot sequences: U.S., U.N., e.g., p.m.
    if word.len() == 1 && word[0].is_alphabetic() {
        let mut j = dot;
        while j + 2 < cs.len()
            && cs[j] == '.'
            && cs[j + 1].is_alphabetic()
            && !cs.get(j + 2).is_some_and(|c| c.is_alphanumeric())
        {
            j += 2;
        }
        // j is at a '.' (the last one of the pattern) or past a final letter.
        if cs.get(j) == Some(&'.') {
            return j + 1 - dot;
        }
        return j - dot;
    }
    if word.iter().all(|c| c.is_alphabetic()) && chars_lower_in(word, ABBREVIATIONS) {
        return 1;
    }
    0
}

/// Whether the lowercased `cs` is one of `targets` (short lowercase words): ASCII on the
/// stack, anything else through a `String` (every sentence-final word is checked against
/// the abbreviations, so the common case should not allocate).
fn chars_lower_in(cs: &[char], targets: &[&str]) -> bool {
    const MAX: usize = 16;
    if cs.len() <= MAX && cs.iter().all(char::is_ascii) {
        let mut buf = [0u8; MAX];
        for (d, c) in buf.iter_mut().zip(cs) {
            *d = c.to_ascii_lowercase() as u8;
        }
        let l = &buf[..cs.len()];
        return targets.iter().any(|t| t.as_bytes() == l);
    }
    let lower: String = cs.iter().flat_map(|c| c.to_lowercase()).collect();
    targets.contains(&lower.as_str())
}

/// Text rebuilt from pre-tokenised sentences (tokens joined by one space, sentences by a
/// blank line) with each token's offsets, and each sentence's token range: how evaluation
/// feeds tokenised corpora (CoNLL-2003, CoNLL04) through the production extractor.
pub fn join_sentences<S: AsRef<str>>(
    sentences: &[&[S]],
) -> (String, Vec<Token>, Vec<std::ops::Range<usize>>) {
    let mut text = String::new();
    let mut toks = Vec::new();
    let mut ranges = Vec::with_capacity(sentences.len());
    let mut chars = 0usize;
    for (si, sent) in sentences.iter().enumerate() {
        if si > 0 {
            text.push_str("\n\n");
            chars += 2;
        }
        let first = toks.len();
        for (ti, t) in sent.iter().enumerate() {
            let t = t.as_ref();
            if ti > 0 {
                text.push(' ');
                chars += 1;
            }
            let n = t.chars().count();
            toks.push(Token {
                start: chars,
                end: chars + n,
                byte_start: text.len(),
                byte_end: text.len() + t.len(),
            });
            text.push_str(t);
            chars += n;
        }
        ranges.push(first..toks.len());
    }
    (text, toks, ranges)
}

/// Tokenizes `text` (see the module docs for the conventions).
///
/// ```
/// use newsmill::extract::tokens::tokenize;
/// let text = "Syria's al-Assad got $500.";
/// let words: Vec<&str> = tokenize(text).iter().map(|t| t.text(text)).collect();
/// assert_eq!(words, ["Syria", "'s", "al-Assad", "got", "$", "500", "."]);
/// ```
pub fn tokenize(text: &str) -> Vec<Token> {
    tokenize_with(text, true)
}

/// Whether `c` separates chunks (whitespace, control chars, zero-width spaces).
#[inline]
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        // ASCII whitespace is a subset of the controls and the space.
        return c <= ' ' || c == '\x7f';
    }
    c.is_whitespace() || c.is_control() || c == '\u{200B}' || c == '\u{FEFF}'
}

/// The common ASCII chunk shapes, which need no char-by-char splitting: a word of letters
/// and digits, optionally after one opening `(` or `"` and before one closing `,` `;` `:`
/// `)` `!` `?` `"` `%`. Such a chunk is that word with each mark a token of its own (no
/// apostrophe, period, hyphen or separator inside to treat specially; tested against the
/// general splitter). Returns the lengths of the leading and trailing marks.
fn plain_split(b: &[u8]) -> Option<(usize, usize)> {
    let pre = usize::from(matches!(b.first(), Some(b'(' | b'"')));
    let post = usize::from(
        b.len() > pre + 1
            && matches!(
                b.last(),
                Some(b',' | b';' | b':' | b')' | b'!' | b'?' | b'"' | b'%')
            ),
    );
    let word = &b[pre..b.len() - post];
    (!word.is_empty() && word.iter().all(u8::is_ascii_alphanumeric)).then_some((pre, post))
}

/// Reused buffers of the general chunk splitter.
#[derive(Default)]
struct ChunkScratch {
    chars: Vec<char>,
    bytes: Vec<usize>,
    lens: Vec<usize>,
}

/// [`tokenize`], with the ASCII fast paths on or off (off: every chunk goes through the
/// general splitter; the tests check both give the same tokens).
fn tokenize_with(text: &str, fast: bool) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len() / 5 + 1);
    // Allocated on the first chunk the general splitter takes (see `push_chunk`).
    let mut sc = ChunkScratch::default();
    // The chunk being read: its first byte and char, and whether it is ASCII so far (most
    // are, and those may take the fast path).
    let mut chunk: Option<(usize, usize)> = None;
    let mut ascii = true;
    let mut alnum = true;
    let mut line_start = true;
    // Walks bytes rather than `char_indices`: inside a chunk, ASCII letters and digits (most
    // of any text) change nothing but the position, so they skip the char decoding and the
    // checks below (the char loop was most of the tokeniser's cost).
    let bytes = text.as_bytes();
    let (mut b, mut char_idx) = (0, 0);
    while b < bytes.len() {
        if chunk.is_some() && bytes[b].is_ascii_alphanumeric() {
            b += 1;
            char_idx += 1;
            continue;
        }
        // `b` only ever moves by whole chars, so it is on a char boundary here and the
        // fallback below is never taken (it stands in for a panic in a library).
        let c = match bytes[b] {
            byte @ 0..=0x7F => char::from(byte),
            _ => text[b..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER),
        };
        let (at, ci) = (b, char_idx);
        b += c.len_utf8();
        char_idx += 1;
        if is_separator(c) {
            if let Some((b0, c0)) = chunk.take() {
                push_chunk(
                    text,
                    b0..at,
                    c0,
                    fast.then_some((ascii, alnum)),
                    line_start,
                    &mut sc,
                    &mut out,
                );
                line_start = false;
            }
            if c == '\n' {
                line_start = true;
            }
        } else if chunk.is_none() {
            chunk = Some((at, ci));
            ascii = c.is_ascii();
            alnum = c.is_ascii_alphanumeric();
        } else {
            ascii &= c.is_ascii();
            alnum &= c.is_ascii_alphanumeric();
        }
    }
    if let Some((b0, c0)) = chunk {
        push_chunk(
            text,
            b0..text.len(),
            c0,
            fast.then_some((ascii, alnum)),
            line_start,
            &mut sc,
            &mut out,
        );
    }
    out
}

/// Tokens of the whitespace-free chunk `text[bytes]`, whose first char is char `c0`.
/// `shape`: `None` sends every chunk through the general splitter; otherwise whether the
/// chunk is ASCII and whether it is ASCII letters and digits only (one word, the most
/// common chunk), so that [`plain_split`]'s shapes skip the splitter.
fn push_chunk(
    text: &str,
    bytes: std::ops::Range<usize>,
    c0: usize,
    shape: Option<(bool, bool)>,
    line_start: bool,
    sc: &mut ChunkScratch,
    out: &mut Vec<Token>,
) {
    let split = match shape {
        Some((_, true)) => Some((0, 0)),
        Some((true, false)) => plain_split(&text.as_bytes()[bytes.clone()]),
        _ => None,
    };
    if let Some((pre, post)) = split {
        // ASCII: char offsets advance with byte offsets.
        let mut push = |a: usize, b: usize| {
            out.push(Token {
                start: c0 + a,
                end: c0 + b,
                byte_start: bytes.start + a,
                byte_end: bytes.start + b,
            })
        };
        let n = bytes.len();
        if pre > 0 {
            push(0, pre);
        }
        push(pre, n - post);
        if post > 0 {
            push(n - post, n);
        }
        return;
    }
    if sc.chars.capacity() == 0 {
        // Room for a long chunk at once: growing three vectors per document showed in
        // profiles (and a short name may need none of them).
        sc.chars.reserve(64);
        sc.bytes.reserve(64);
        sc.lens.reserve(16);
    }
    sc.chars.clear();
    sc.bytes.clear();
    for (i, c) in text[bytes.clone()].char_indices() {
        sc.chars.push(c);
        sc.bytes.push(bytes.start + i);
    }
    sc.lens.clear();
    split_chunk(&sc.chars, line_start, &mut sc.lens);
    let mut at = 0;
    for &len in &sc.lens {
        let e = (at + len).min(sc.chars.len());
        out.push(Token {
            start: c0 + at,
            end: c0 + e,
            byte_start: sc.bytes[at],
            byte_end: sc.bytes.get(e).copied().unwrap_or(bytes.end),
        });
        at = e;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<&str> {
        tokenize(s).iter().map(|t| t.text(s)).collect()
    }

    #[test]
    fn abbreviations_and_initials() {
        assert_eq!(
            toks("The U.S. envoy Mr. J. Smith met Gen. Lee in Sept. 1996."),
            vec![
                "The", "U.S.", "envoy", "Mr.", "J.", "Smith", "met", "Gen.", "Lee", "in", "Sept.",
                "1996", "."
            ]
        );
        assert_eq!(toks("in the U.S."), vec!["in", "the", "U.S."]);
        assert_eq!(toks("U.N.-backed"), vec!["U.N.", "-", "backed"]);
    }

    #[test]
    fn clitics_split_like_ptb() {
        assert_eq!(toks("Syria's army"), vec!["Syria", "'s", "army"]);
        assert_eq!(toks("don't stop"), vec!["do", "n't", "stop"]);
        assert_eq!(toks("Syria\u{2019}s"), vec!["Syria", "\u{2019}s"]);
        assert_eq!(toks("they're"), vec!["they", "'re"]);
        assert_eq!(toks("O'Neill"), vec!["O'Neill"]);
        assert_eq!(toks("Jones' car"), vec!["Jones", "'", "car"]);
    }

    #[test]
    fn money_numbers_hyphens() {
        assert_eq!(
            toks("$500 and 5.93 mln"),
            vec!["$", "500", "and", "5.93", "mln"]
        );
        assert_eq!(
            toks("1,000.50 on 1996-08-22 at 10:30"),
            vec!["1,000.50", "on", "1996-08-22", "at", "10:30"]
        );
        assert_eq!(
            toks("al-Assad rose 5%,"),
            vec!["al-Assad", "rose", "5", "%", ","]
        );
        assert_eq!(
            toks("wait... -- (yes)"),
            vec!["wait", "...", "--", "(", "yes", ")"]
        );
        assert_eq!(
            toks("\u{201C}Hi,\u{201D} he said"),
            vec!["\u{201C}", "Hi", ",", "\u{201D}", "he", "said"]
        );
    }

    #[test]
    fn ranking_numbers_at_line_start() {
        assert_eq!(
            toks("Results:\n1. Mark Crear\n12. Al Lee"),
            vec!["Results", ":", "1.", "Mark", "Crear", "12.", "Al", "Lee"]
        );
        assert_eq!(
            toks("won in 1996. Then"),
            vec!["won", "in", "1996", ".", "Then"]
        );
    }

    #[test]
    fn offsets_are_chars_and_bytes() {
        let s = "Zürich’s café";
        let t = tokenize(s);
        assert_eq!(
            t[0],
            Token {
                start: 0,
                end: 6,
                byte_start: 0,
                byte_end: 7
            }
        );
        assert_eq!(t[1].text(s), "’s");
        assert_eq!((t[1].start, t[1].end), (6, 8));
        let chars: Vec<char> = s.chars().collect();
        for tok in &t {
            let via_chars: String = chars[tok.start..tok.end].iter().collect();
            assert_eq!(via_chars, tok.text(s));
        }
    }

    /// Pseudo-random strings over a punctuation-heavy alphabet: tokens must tile the
    /// non-whitespace text exactly, and sentence ranges must cover all tokens.
    /// `n` pseudo-random strings of up to `max_len` chars from `alphabet` (an LCG seeded
    /// with `seed`; the length of each comes from the generator state).
    fn random_texts(alphabet: &str, seed: u64, n: usize, max_len: u64) -> Vec<String> {
        let alphabet: Vec<char> = alphabet.chars().collect();
        let mut x = seed;
        (0..n)
            .map(|_| {
                let mut s = String::new();
                for _ in 0..(x % max_len) {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    s.push(alphabet[(x >> 33) as usize % alphabet.len()]);
                }
                s
            })
            .collect()
    }

    #[test]
    fn random_text_is_tiled_exactly() {
        let alphabet = "aZ9 .'’-$,:/\n\"“”()!?n'tsU.S.é\u{301}\t";
        for s in random_texts(alphabet, 12345, 2000, 40) {
            let s = s.as_str();
            let t = tokenize(s);
            let joined: String = t.iter().map(|k| k.text(s)).collect();
            let expect: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            assert_eq!(joined, expect, "{s:?}");
            let r = crate::extract::sentences::split_sentences(s, &t);
            assert_eq!(r.iter().map(|x| x.len()).sum::<usize>(), t.len());
        }
    }

    /// The byte walk and the plain-word fast path give exactly the first char-by-char
    /// tokeniser's tokens, on random text (with 2-, 3- and 4-byte chars and every kind of
    /// separator) and on every sample article.
    #[test]
    fn fast_path_equals_general_splitter() {
        let alphabet =
            "aZ9 .'’-$,:/\n\"“”()!?n'tsU.S.é\u{301}\t\u{a0};%\u{200B}\u{FEFF}\u{7f}\u{1}😀";
        let mut texts = random_texts(alphabet, 987, 3000, 60);
        // Word-shaped chunks with the marks the fast path takes, and near misses.
        let words = ["a", "Syria", "1996", "x9", "U.S.", "don't", "al-Assad", "5"];
        let marks = [
            "", "(", "\"", ",", ";", ":", ")", "!", "?", "%", ".", "'", "((", ",,",
        ];
        for w in words {
            for a in marks {
                for b in marks {
                    texts.push(format!("{a}{w}{b} x\n{a}{w}{b}"));
                }
            }
        }
        let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample/articles.jsonl");
        texts.push(std::fs::read_to_string(sample).expect("sample corpus"));
        texts.push("Results:\n1. Mark 12 x9 9x 1996 Al\nLee won 3-1 in 10:30".into());
        for s in &texts {
            let slow = tokenize_by_chars(s);
            assert_eq!(tokenize_with(s, true), slow, "{s:?}");
            assert_eq!(tokenize_with(s, false), slow, "{s:?}");
        }
    }

    /// The tokeniser as first written: a plain walk over `char_indices`, every chunk through
    /// the general splitter. The byte walk and the fast paths must give exactly its tokens.
    fn tokenize_by_chars(text: &str) -> Vec<Token> {
        let mut out = Vec::new();
        let mut sc = ChunkScratch::default();
        let mut chunk: Option<(usize, usize)> = None;
        let mut line_start = true;
        for (char_idx, (b, c)) in text.char_indices().enumerate() {
            if is_separator(c) {
                if let Some((b0, c0)) = chunk.take() {
                    push_chunk(text, b0..b, c0, None, line_start, &mut sc, &mut out);
                    line_start = false;
                }
                if c == '\n' {
                    line_start = true;
                }
            } else if chunk.is_none() {
                chunk = Some((b, char_idx));
            }
        }
        if let Some((b0, c0)) = chunk {
            push_chunk(
                text,
                b0..text.len(),
                c0,
                None,
                line_start,
                &mut sc,
                &mut out,
            );
        }
        out
    }

    #[test]
    fn lowercase_tests_match_lowercasing() {
        let words = [
            "the",
            "The",
            "THE",
            "thé",
            "Thé",
            "\u{212A}ill",
            "kill",
            "İs",
            "is",
            "",
        ];
        let targets = [
            "the",
            "thé",
            "kill",
            "is",
            "i̇s",
            "",
            "supercalifragilisticexpialidocious",
        ];
        for w in words {
            for t in targets {
                assert_eq!(lowercase_is(w, t), lowercase(w) == t, "{w:?} {t:?}");
            }
            for k in 0..=targets.len() {
                assert_eq!(
                    lowercase_in(w, &targets[..k]),
                    targets[..k].contains(&lowercase(w).as_ref()),
                    "{w:?}"
                );
            }
        }
    }

    #[test]
    fn lowered_chars_match_the_string_definition() {
        for w in [
            "Mr",
            "MR",
            "mr",
            "kan",
            "\u{212A}an",
            "Sept",
            "seps",
            "",
            "s",
            "Re",
            "é",
            "approx",
            "Approximately",
        ] {
            let cs: Vec<char> = w.chars().collect();
            let lower: String = w.chars().flat_map(|c| c.to_lowercase()).collect();
            for list in [ABBREVIATIONS, &["s", "re", "ve", "ll", "d", "m", ""][..]] {
                assert_eq!(
                    chars_lower_in(&cs, list),
                    list.contains(&lower.as_str()),
                    "{w:?}"
                );
            }
        }
    }

    #[test]
    fn word_set_matches_the_list() {
        const LIST: &[&str] = &["said", "told", "added", "é", "a"];
        const SET: WordSet = WordSet::new(LIST);
        for w in [
            "said", "Said", "SAID", "sai", "saids", "told", "Told", "x", "", "A", "a", "É", "é",
            "toldd", "Added",
        ] {
            assert_eq!(SET.contains_lowercase(w), lowercase_in(w, LIST), "{w:?}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "",
            " ",
            "'",
            "n't",
            "a.",
            ".",
            "'s",
            "A.B",
            "1,",
            "x\u{0301}y",
            "\u{FEFF}a",
            "-a-",
            "U.S",
            "9.",
            "''s",
        ] {
            let t = tokenize(s);
            for w in t.windows(2) {
                assert!(w[0].end <= w[1].start);
            }
            assert!(t.iter().all(|x| x.start < x.end));
        }
    }
}
