//! Char-level normalisation: the invisible and typographic junk scraped text is full of.

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Normalise chars: line endings to `\n`, control and zero-width chars removed, exotic
/// spaces (NBSP, thin, ideographic) to a plain space, ligatures expanded, optionally curly
/// quotes straightened, then NFC. Returns the text and the number of chars removed or
/// replaced.
pub fn normalize_chars(text: &str, nfc: bool, straighten_quotes: bool) -> (String, u64) {
    if text.is_ascii() {
        return normalize_ascii(text);
    }
    normalize_unicode(text, nfc, straighten_quotes)
}

/// [`normalize_chars`] for ASCII text (most news): only line ends, tabs and control bytes can
/// change, and NFC leaves ASCII as it is, so a byte loop (or a plain copy) does the job of the
/// char-by-char pass.
fn normalize_ascii(text: &str) -> (String, u64) {
    let b = text.as_bytes();
    if b.iter().all(|&c| c == b'\n' || (0x20..0x7f).contains(&c)) {
        return (text.to_string(), 0);
    }
    let mut changed = 0u64;
    let mut out = Vec::with_capacity(b.len());
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\r' => {
                changed += 1;
                if b.get(i + 1) != Some(&b'\n') {
                    out.push(b'\n');
                }
            }
            b'\n' => out.push(b'\n'),
            b'\t' => {
                changed += 1;
                out.push(b' ');
            }
            // `char::is_control` for ASCII.
            c if c < 0x20 || c == 0x7f => changed += 1,
            c => out.push(c),
        }
    }
    // Only ASCII bytes were kept, so this cannot fail.
    (String::from_utf8(out).unwrap_or_default(), changed)
}

fn normalize_unicode(text: &str, nfc: bool, straighten_quotes: bool) -> (String, u64) {
    let mut changed = 0u64;
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                changed += 1;
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' => out.push('\n'),
            '\t' => {
                changed += 1;
                out.push(' ');
            }
            '\u{2028}' => {
                changed += 1;
                out.push('\n');
            }
            '\u{2029}' => {
                changed += 1;
                out.push_str("\n\n");
            }
            // Zero-width and formatting chars, soft hyphen, BOM: invisible, break matching.
            '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{00ad}' | '\u{180e}' => {
                changed += 1;
            }
            '\u{00a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}' => {
                changed += 1;
                out.push(' ');
            }
            '\u{fb00}' => push_changed(&mut out, &mut changed, "ff"),
            '\u{fb01}' => push_changed(&mut out, &mut changed, "fi"),
            '\u{fb02}' => push_changed(&mut out, &mut changed, "fl"),
            '\u{fb03}' => push_changed(&mut out, &mut changed, "ffi"),
            '\u{fb04}' => push_changed(&mut out, &mut changed, "ffl"),
            '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{2032}' if straighten_quotes => {
                push_changed(&mut out, &mut changed, "'")
            }
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2033}' if straighten_quotes => {
                push_changed(&mut out, &mut changed, "\"")
            }
            c if c.is_control() => changed += 1,
            c => out.push(c),
        }
    }
    if nfc && is_nfc_quick(out.chars()) != IsNormalized::Yes {
        let n: String = out.nfc().collect();
        if n != out {
            changed += 1;
            out = n;
        }
    }
    (out, changed)
}

fn push_changed(out: &mut String, changed: &mut u64, s: &str) {
    *changed += 1;
    out.push_str(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ASCII path gives what the general char-by-char path gives, for every mix of line
    /// ends, tabs and control bytes.
    #[test]
    fn ascii_path_equals_general_path() {
        let pieces = [
            "a", " ", "\n", "\r", "\r\n", "\t", "\u{7}", "\u{7f}", "\u{0}", "Zq.",
        ];
        let mut x = 0x9E37_79B9u32;
        for _ in 0..2000 {
            let mut t = String::new();
            for _ in 0..12 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                t.push_str(pieces[x as usize % pieces.len()]);
            }
            for (nfc, sq) in [(true, false), (false, true)] {
                assert_eq!(
                    normalize_chars(&t, nfc, sq),
                    normalize_unicode(&t, nfc, sq),
                    "{t:?}"
                );
            }
        }
    }

    #[test]
    fn removes_invisible_junk_and_keeps_quotes() {
        let (s, n) = normalize_chars(
            "a\u{00a0}b\u{200b}c\u{0007}d\r\ne \u{201c}q\u{201d} \u{fb01}ne",
            true,
            false,
        );
        assert_eq!(s, "a bcd\ne \u{201c}q\u{201d} fine");
        assert_eq!(n, 5);
    }

    #[test]
    fn straightens_quotes_when_asked() {
        let (s, _) = normalize_chars("\u{2018}x\u{2019} \u{201c}y\u{201d}", true, true);
        assert_eq!(s, "'x' \"y\"");
    }

    #[test]
    fn composes_to_nfc() {
        let (s, _) = normalize_chars("Jose\u{301}", true, false);
        assert_eq!(s, "Jos\u{e9}");
    }
}
