//! Whole-page text, the fallback when the article extractor returns nothing.
//!
//! One linear pass over [`super::markup::Scanner`] pieces (no DOM, so no depth or size worry):
//! text outside `head`, `script`, `style`, `noscript`, `template`, `svg`, `select` and form
//! controls is kept; block-level tags end a paragraph. Entities are decoded for the common
//! named ones and all numeric ones. The result over-includes navigation and footers, which is
//! why documents that use it are flagged (`Extracted::used_fallback`).

use super::markup::{Piece, Scanner};

/// Elements whose content is never body text.
const SKIP: &[&str] = &[
    "head", "script", "style", "noscript", "template", "svg", "select", "textarea", "button",
    "title",
];

/// Elements that start or end a paragraph.
const BLOCK: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "td",
    "th",
    "section",
    "article",
    "aside",
    "header",
    "footer",
    "nav",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "form",
    "figure",
    "figcaption",
    "main",
    "address",
    "hr",
    "body",
    "html",
];

fn is_in(list: &[&str], name: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(name))
}

/// Decodes `&amp;`, `&#8217;`, `&#x2019;` and a few common named entities; others stay verbatim.
pub(crate) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|e| e + 1);
        let (ent, has_semi) = match end {
            Some(e) if rest.as_bytes().get(e) == Some(&b';') => (&rest[1..e], true),
            Some(e) => (&rest[1..e], false),
            None => (&rest[1..], false),
        };
        let decoded = if let Some(num) = ent.strip_prefix('#') {
            let v = match num.strip_prefix(['x', 'X']) {
                Some(h) => u32::from_str_radix(h, 16).ok(),
                None => num.parse::<u32>().ok(),
            };
            v.and_then(char::from_u32)
        } else {
            match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                "mdash" => Some('—'),
                "ndash" => Some('–'),
                "hellip" => Some('…'),
                "rsquo" => Some('’'),
                "lsquo" => Some('‘'),
                "rdquo" => Some('”'),
                "ldquo" => Some('“'),
                "copy" => Some('©'),
                _ => None,
            }
        };
        match decoded {
            Some(c) if !ent.is_empty() => {
                out.push(c);
                rest = &rest[1 + ent.len() + usize::from(has_semi)..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Visible text of the page as `\n\n`-separated paragraphs with whitespace collapsed.
pub(crate) fn page_text(html: &str) -> String {
    let mut paras: Vec<String> = Vec::new();
    let mut cur = String::new();
    // depth inside skipped elements; a counter (not a stack) keeps memory flat on any input
    let mut skip_depth = 0usize;
    let flush = |cur: &mut String, paras: &mut Vec<String>| {
        let p = cur.split_whitespace().collect::<Vec<_>>().join(" ");
        if !p.is_empty() {
            paras.push(p);
        }
        cur.clear();
    };
    for piece in Scanner::new(html) {
        match piece {
            Piece::Start { name, raw } if is_in(SKIP, name) && !raw.ends_with("/>") => {
                skip_depth += 1;
            }
            Piece::Start { name, .. } if is_in(SKIP, name) => {}
            Piece::End { name, .. } if is_in(SKIP, name) => {
                skip_depth = skip_depth.saturating_sub(1)
            }
            Piece::Start { name, .. } | Piece::End { name, .. } if is_in(BLOCK, name) => {
                flush(&mut cur, &mut paras)
            }
            Piece::Text(t) if skip_depth == 0 => {
                cur.push_str(&decode_entities(t));
            }
            _ => {}
        }
    }
    flush(&mut cur, &mut paras);
    paras.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_body_text_as_paragraphs() {
        let html = "<html><head><title>T</title><style>p{}</style></head><body><p>One  two</p><script>x()</script><div>Three &amp; four&#8217;s</div></body></html>";
        assert_eq!(page_text(html), "One two\n\nThree & four’s");
    }

    #[test]
    fn entities_decode_and_unknown_ones_stay() {
        assert_eq!(
            decode_entities("a &lt;b&gt; &#x41; &bogus; & c"),
            "a <b> A &bogus; & c"
        );
    }

    #[test]
    fn inline_tags_do_not_split_words() {
        assert_eq!(page_text("<p>new<b>s</b> mill</p>"), "news mill");
    }
}
