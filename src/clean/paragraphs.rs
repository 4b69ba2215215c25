//! Lines → paragraphs. Scraped text separates paragraphs with blank lines or single line
//! breaks; newswire text is hard-wrapped at ~65 chars with indented paragraph starts. We
//! decide per document which of the two it is, then rebuild whole paragraphs.

/// A document whose longest line is at most this many chars is treated as hard-wrapped
/// (newswire wraps at 65-80; scraped paragraphs are usually much longer).
const MAX_WRAP_WIDTH: usize = 100;
/// In hard-wrapped text a line ending a sentence and shorter than this share of the wrap
/// width ends its paragraph (the rest of the line was left empty).
const SHORT_LINE_SHARE: f64 = 0.75;

/// Split normalised text into paragraphs with whitespace collapsed inside each one.
/// `unwrap` enables re-joining hard-wrapped lines. Returns the paragraphs and how many
/// line breaks were joined.
pub fn paragraphs(text: &str, unwrap: bool) -> (Vec<String>, u64) {
    let lines: Vec<&str> = text.split('\n').collect();
    let width = lines
        .iter()
        .map(|l| l.trim_end().chars().count())
        .max()
        .unwrap_or(0);
    let non_blank = lines.iter().filter(|l| !l.trim().is_empty()).count();
    let wrapped = unwrap && width <= MAX_WRAP_WIDTH && non_blank >= 3 && {
        // Hard-wrapped text has consecutive non-blank lines; one-paragraph-per-line text
        // separated by blank lines does not need joining.
        lines
            .windows(2)
            .any(|w| !w[0].trim().is_empty() && !w[1].trim().is_empty())
    };
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut joined = 0u64;
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            flush(&mut cur, &mut out);
            continue;
        }
        if !wrapped {
            flush(&mut cur, &mut out);
            push_collapsed(&mut cur, trimmed);
            continue;
        }
        let indented = line.starts_with("  ");
        if indented && !cur.is_empty() {
            flush(&mut cur, &mut out);
        }
        if cur.is_empty() {
            // A hard-wrapped paragraph is several lines: reserve for a typical one (~6
            // lines of 65) instead of regrowing the string line by line. One-line
            // paragraphs (table rows, datelines) get no more than they need.
            let continues = lines.get(i + 1).is_some_and(|l| !l.trim().is_empty());
            cur.reserve(if continues { 384 } else { trimmed.len() });
        } else {
            if cur.ends_with('-') && cur.len() > 1 && !cur.ends_with(" -") {
                // "U.S.-\nbased": the hyphen is real, no space.
            } else {
                cur.push(' ');
            }
            joined += 1;
        }
        push_collapsed(&mut cur, trimmed);
        let len = trimmed.chars().count();
        let ends_sentence = trimmed.ends_with(['.', '!', '?', ':', '"', '\u{201d}']);
        let next_blank = lines.get(i + 1).is_none_or(|l| l.trim().is_empty());
        if !next_blank && ends_sentence && (len as f64) < SHORT_LINE_SHARE * width as f64 {
            flush(&mut cur, &mut out);
        }
    }
    flush(&mut cur, &mut out);
    (out, joined)
}

/// Appends `s` with each whitespace run as one space (a run before the first word only when
/// `buf` has text and does not end in a space). Word by word, not char by char: this runs
/// over every line of every document.
fn push_collapsed(buf: &mut String, s: &str) {
    // Most lines are ASCII words with single spaces: nothing to collapse, one copy.
    if is_single_spaced_ascii(s) {
        buf.push_str(s);
        return;
    }
    let lead = s.starts_with(char::is_whitespace);
    for (i, w) in s.split_whitespace().enumerate() {
        if (i > 0 || lead) && !buf.is_empty() && !buf.ends_with(' ') {
            buf.push(' ');
        }
        buf.push_str(w);
    }
}

/// Whether `s` is non-empty ASCII whose only whitespace is single spaces between other
/// bytes (then collapsing it changes nothing).
fn is_single_spaced_ascii(s: &str) -> bool {
    let b = s.as_bytes();
    if b.first().is_none_or(|c| *c == b' ') || b.last().is_some_and(|c| *c == b' ') {
        return false;
    }
    let mut prev_space = false;
    for &c in b {
        if !c.is_ascii() || (0x09..=0x0D).contains(&c) {
            return false;
        }
        let space = c == b' ';
        if space && prev_space {
            return false;
        }
        prev_space = space;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-by-word version gives what the char-by-char definition gives.
    #[test]
    fn collapsing_equals_char_by_char_definition() {
        let reference = |buf: &mut String, s: &str| {
            let mut space = false;
            for c in s.chars() {
                if c.is_whitespace() {
                    space = true;
                } else {
                    if space && !buf.is_empty() && !buf.ends_with(' ') {
                        buf.push(' ');
                    }
                    space = false;
                    buf.push(c);
                }
            }
        };
        let pieces = [
            "ab", " ", "  ", "\t", "\u{a0}", "x.", "\u{3000}", "é", "\r", "\x0b",
        ];
        let mut x = 0x2545_F491u32;
        for round in 0..4000 {
            // Every other string from the ASCII pieces only, which the fast path serves.
            let n = if round % 2 == 0 { pieces.len() } else { 4 };
            let mut s = String::new();
            for _ in 0..8 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let p = [0, 1, 5, 2][x as usize % 4];
                s.push_str(if n == 4 {
                    pieces[p]
                } else {
                    pieces[x as usize % n]
                });
            }
            for start in ["", "a", "a "] {
                let (mut got, mut want) = (start.to_string(), start.to_string());
                push_collapsed(&mut got, &s);
                reference(&mut want, &s);
                assert_eq!(got, want, "{start:?} + {s:?}");
            }
        }
    }

    #[test]
    fn newswire_paragraphs_come_back_whole() {
        let text = "Showers continued throughout the week in\nthe Bahia cocoa zone, alleviating the drought since early\nJanuary and improving prospects for the coming temporao,\nalthough normal humidity levels have not been restored,\nComissaria Smith said in its weekly review.\n    The dry period means the temporao will be late this year.\n    Arrivals for the week ended February 22 were 155,221 bags\nof 60 kilos making a cumulative total for the season of 5.93\nmln against 5.81 at the same stage last year.\n";
        let (p, joined) = paragraphs(text, true);
        assert_eq!(p.len(), 3, "{p:#?}");
        assert!(p[0].starts_with("Showers continued throughout the week in the Bahia cocoa zone,"));
        assert!(p[0].ends_with("in its weekly review."));
        assert_eq!(
            p[1],
            "The dry period means the temporao will be late this year."
        );
        assert!(p[2].contains("155,221 bags of 60 kilos"));
        assert_eq!(joined, 6);
    }

    #[test]
    fn long_lines_are_paragraphs_each() {
        let a = "A".repeat(150);
        let b = "B".repeat(150);
        let (p, joined) = paragraphs(&format!("{a}\n{b}\n\n\nshort"), true);
        assert_eq!(p, vec![a, b, "short".to_string()]);
        assert_eq!(joined, 0);
    }

    #[test]
    fn collapses_inner_whitespace() {
        let (p, _) = paragraphs("  a   b\t c  ", false);
        assert_eq!(p, vec!["a b c".to_string()]);
    }

    #[test]
    fn blank_line_separated_short_paragraphs_are_not_joined() {
        let (p, _) = paragraphs("One line.\n\nTwo line.\n\nThree line.", true);
        assert_eq!(p.len(), 3);
    }
}
