//! Text normalisation for hashing: turns a document into a stream of folded word tokens.
//!
//! Copies of one story differ in bytes that carry no content: whitespace runs, NBSPs, line
//! wrapping, curly vs straight quotes, dash and ellipsis styles, case. Dedup never hashes
//! raw text; it hashes the tokens produced here, so all of those differences vanish.
//! One reusable buffer per call: no allocation per token.

/// How text is folded before hashing (the pinned subset of `DedupConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NormalizeOptions {
    /// Fold case (Unicode lowercase).
    pub lowercase: bool,
    /// Punctuation and symbols separate words and are dropped; otherwise each is a token.
    pub fold_punctuation: bool,
}

/// Maps typographic punctuation to its ASCII form, so that with `fold_punctuation = false`
/// "smart" and plain quotes still hash alike.
fn ascii_punct(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' | '`' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' | '\u{00AB}' | '\u{00BB}' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        '\u{2026}' => '.',
        other => other,
    }
}

/// Calls `f` with each normalised token of `text`, in order.
///
/// A token is a maximal run of alphanumeric characters (after optional lowercasing); with
/// punctuation folding off, every other non-space char is a one-char token of its own.
/// A ellipsis char therefore yields one `.` token while "..." yields three: the price of
/// keeping punctuation, and the reason folding is the default.
pub(crate) fn for_each_token(text: &str, opts: NormalizeOptions, f: impl FnMut(&str)) {
    if text.is_ascii() {
        ascii_tokens(text, opts, f);
    } else {
        unicode_tokens(text, opts, f);
    }
}

/// [`for_each_token`] over ASCII text (most news) byte by byte: the same tokens without
/// Unicode case tables, for the signature of every document.
fn ascii_tokens(text: &str, opts: NormalizeOptions, mut f: impl FnMut(&str)) {
    let mut buf = String::with_capacity(32);
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() {
            buf.push(char::from(if opts.lowercase {
                b.to_ascii_lowercase()
            } else {
                b
            }));
            continue;
        }
        if !buf.is_empty() {
            f(&buf);
            buf.clear();
        }
        // ASCII whitespace as `char::is_whitespace` sees it (with the vertical tab), and
        // controls as `char::is_control` does.
        let space_or_control = matches!(b, b' ' | b'\t'..=b'\r') || b < 0x20 || b == 0x7f;
        if !opts.fold_punctuation && !space_or_control {
            let mut one = [0u8; 4];
            f(ascii_punct(char::from(b)).encode_utf8(&mut one));
        }
    }
    if !buf.is_empty() {
        f(&buf);
    }
}

fn unicode_tokens(text: &str, opts: NormalizeOptions, mut f: impl FnMut(&str)) {
    let mut buf = String::with_capacity(32);
    for c in text.chars() {
        if c.is_alphanumeric() {
            if opts.lowercase && !c.is_lowercase() {
                buf.extend(c.to_lowercase());
            } else {
                buf.push(c);
            }
            continue;
        }
        if !buf.is_empty() {
            f(&buf);
            buf.clear();
        }
        if !opts.fold_punctuation && !c.is_whitespace() && !c.is_control() {
            let mut one = [0u8; 4];
            f(ascii_punct(c).encode_utf8(&mut one));
        }
    }
    if !buf.is_empty() {
        f(&buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str, fold: bool) -> Vec<String> {
        let mut out = Vec::new();
        let opts = NormalizeOptions {
            lowercase: true,
            fold_punctuation: fold,
        };
        for_each_token(text, opts, |t| out.push(t.to_string()));
        out
    }

    /// The ASCII path gives the general path's tokens for every ASCII byte.
    #[test]
    fn ascii_path_equals_unicode_path() {
        let all: String = (0u8..128).map(char::from).collect();
        let mut texts = vec![format!("{all} Mixed CASE 1,000.50 x\u{b}y {all}")];
        // Random short texts: words at either end, runs of marks and spaces, mixed case.
        let alphabet = b"aZ9qQ ,.-'\n\t\x01\x7f";
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..2000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (x >> 59) as usize;
            let text: String = (0..len)
                .map(|k| {
                    let r = x.rotate_left(5 * k as u32 + 7) as usize;
                    char::from(alphabet[r % alphabet.len()])
                })
                .collect();
            texts.push(text);
        }
        for text in &texts {
            for lowercase in [true, false] {
                for fold_punctuation in [true, false] {
                    let opts = NormalizeOptions {
                        lowercase,
                        fold_punctuation,
                    };
                    let (mut a, mut u) = (Vec::new(), Vec::new());
                    ascii_tokens(text, opts, |t| a.push(t.to_string()));
                    unicode_tokens(text, opts, |t| u.push(t.to_string()));
                    assert_eq!(a, u, "{text:?} {opts:?}");
                }
            }
        }
    }

    #[test]
    fn folds_case_space_and_punctuation() {
        let a = tokens(
            "The  \u{201C}Big\u{201D}\u{00A0}deal\u{2026} 767-300's",
            true,
        );
        let b = tokens("the \"big\" deal...\n767\u{2013}300\u{2019}s", true);
        assert_eq!(a, vec!["the", "big", "deal", "767", "300", "s"]);
        assert_eq!(a, b);
    }

    #[test]
    fn keeps_ascii_punctuation_tokens_when_not_folding() {
        let a = tokens("\u{201C}Hi\u{201D} \u{2013} ok", false);
        assert_eq!(a, vec!["\"", "hi", "\"", "-", "ok"]);
    }

    #[test]
    fn empty_text_has_no_tokens() {
        assert!(tokens("", true).is_empty());
        assert!(tokens(" \n\t ... ", true).is_empty());
    }
}
