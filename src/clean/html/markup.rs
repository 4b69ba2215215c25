//! A flat, allocation-free HTML tag scanner used before (and instead of) the real parser.
//!
//! The article extractor builds a DOM and walks it recursively, so pathological pages (100k nested
//! tags) would overflow the stack. This scanner sees the page as a flat sequence of text, start
//! tags, end tags and other markup (comments, doctypes) without building anything, so
//! [`super::depth`] can bound nesting and [`super::page_text`] can produce the whole-page fallback
//! in one linear pass. It follows the HTML tokenizer only as far as those two jobs need:
//! quoted attribute values, comments, and raw-text elements (`script`, `style`, ...) whose content
//! is not markup.

/// One piece of the page, borrowing from the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Character data between tags (entities not decoded).
    Text(&'a str),
    /// `<name ...>`; `raw` is the whole tag including `<` and `>`.
    Start { name: &'a str, raw: &'a str },
    /// `</name>`; `raw` is the whole tag.
    End { name: &'a str, raw: &'a str },
    /// Comment, doctype, processing instruction or CDATA, kept verbatim.
    Other(&'a str),
}

/// Elements whose content is raw text up to the matching end tag.
const RAW_TEXT: &[&str] = &[
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "plaintext",
];

/// Iterator over the [`Piece`]s of a page.
pub(crate) struct Scanner<'a> {
    src: &'a str,
    pos: usize,
    /// Set after a raw-text start tag: the next piece is text up to `</name`.
    raw_until: Option<&'a str>,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Scanner {
            src,
            pos: 0,
            raw_until: None,
        }
    }
}

/// Position of the `>` closing a tag that starts at `from` (which points at `<`), honouring quotes.
fn tag_end(b: &[u8], from: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, &c) in b.iter().enumerate().skip(from + 1) {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => {
                // quotes only open inside attribute values (`=` before them, maybe with spaces)
                let prev = b[..i]
                    .iter()
                    .rposition(|x| !x.is_ascii_whitespace())
                    .map(|p| b[p]);
                if prev == Some(b'=') {
                    quote = Some(c);
                }
            }
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len())
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

fn name_len(b: &[u8]) -> usize {
    b.iter()
        .take_while(|c| !(c.is_ascii_whitespace() || matches!(c, b'/' | b'>')))
        .count()
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let b = self.src.as_bytes();
        if self.pos >= b.len() {
            return None;
        }
        let start = self.pos;
        if let Some(name) = self.raw_until.take() {
            let mut close = Vec::with_capacity(name.len() + 2);
            close.extend_from_slice(b"</");
            close.extend_from_slice(name.as_bytes());
            let end = find_ci(b, start, &close).unwrap_or(b.len());
            if end > start {
                self.pos = end;
                return Some(Piece::Text(&self.src[start..end]));
            }
        }
        if b[start] != b'<' {
            let end = memchr_lt(b, start + 1);
            self.pos = end;
            return Some(Piece::Text(&self.src[start..end]));
        }
        let rest = &b[start..];
        if rest.starts_with(b"<!--") {
            let end = find_ci(b, start + 4, b"-->").map_or(b.len(), |e| e + 3);
            self.pos = end;
            return Some(Piece::Other(&self.src[start..end]));
        }
        let is_end = rest.get(1) == Some(&b'/');
        let name_at = start + 1 + usize::from(is_end);
        let letter = b.get(name_at).is_some_and(u8::is_ascii_alphabetic);
        if rest.get(1).is_some_and(|c| matches!(c, b'!' | b'?')) || (is_end && !letter) {
            let end = b[start..]
                .iter()
                .position(|&c| c == b'>')
                .map_or(b.len(), |e| start + e + 1);
            self.pos = end;
            return Some(Piece::Other(&self.src[start..end]));
        }
        if !letter {
            // a lone '<' is text
            let end = memchr_lt(b, start + 1);
            self.pos = end;
            return Some(Piece::Text(&self.src[start..end]));
        }
        let Some(close) = tag_end(b, start) else {
            // unterminated tag at end of input: the parser drops it too
            self.pos = b.len();
            return Some(Piece::Other(&self.src[start..]));
        };
        self.pos = close + 1;
        let n = name_len(&b[name_at..close]);
        // tag names are ASCII letters/digits/'-' in practice; slicing at byte n is on a char boundary
        // because name_len stops only at ASCII bytes
        let name = &self.src[name_at..name_at + n];
        let raw = &self.src[start..=close];
        if is_end {
            Some(Piece::End { name, raw })
        } else {
            if let Some(r) = RAW_TEXT.iter().find(|r| r.eq_ignore_ascii_case(name)) {
                if !raw.ends_with("/>") {
                    self.raw_until = Some(r);
                }
            }
            Some(Piece::Start { name, raw })
        }
    }
}

fn memchr_lt(b: &[u8], from: usize) -> usize {
    b[from.min(b.len())..]
        .iter()
        .position(|&c| c == b'<')
        .map_or(b.len(), |p| from + p)
}

/// Elements that never have content (no end tag, no nesting).
pub(crate) fn is_void(name: &str) -> bool {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "keygen", "basefont", "bgsound", "frame",
    ];
    VOID.iter().any(|v| v.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_tags_and_comments() {
        let p: Vec<_> = Scanner::new("<p class=\"a>b\">x<!-- <b> -->y</p>").collect();
        assert_eq!(
            p,
            vec![
                Piece::Start {
                    name: "p",
                    raw: "<p class=\"a>b\">"
                },
                Piece::Text("x"),
                Piece::Other("<!-- <b> -->"),
                Piece::Text("y"),
                Piece::End {
                    name: "p",
                    raw: "</p>"
                },
            ]
        );
    }

    #[test]
    fn script_content_is_text() {
        let p: Vec<_> = Scanner::new("<script>if (a<b) { x = '</div>' }</SCRIPT>z").collect();
        assert_eq!(p[1], Piece::Text("if (a<b) { x = '</div>' }"));
        assert!(matches!(p[2], Piece::End { name: "SCRIPT", .. }));
    }

    #[test]
    fn lone_angle_bracket_and_unterminated_tag_do_not_panic() {
        let p: Vec<_> = Scanner::new("a < b <3 <div class='x").collect();
        assert_eq!(p.last(), Some(&Piece::Other("<div class='x")));
        assert_eq!(Scanner::new("é<").count(), 2);
    }
}
