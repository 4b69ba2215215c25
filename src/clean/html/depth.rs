//! Bounding element nesting before the page reaches the DOM-based extractor.
//!
//! The extractor walks the DOM recursively and some of its passes are quadratic in depth: 10k
//! nested `<div>`s take ~20 s and 100k overflow a 2 MiB (rayon worker) stack. Real news pages
//! nest a few dozen levels. So the page is scanned once with [`super::markup::Scanner`] while a
//! rough model of the parser's stack of open elements is kept; if it would grow past the
//! configured limit, the page is rewritten with the start tags (and their end tags) beyond the
//! limit removed. Text is never removed, so a pathological page still yields its words.
//!
//! The model errs towards over-counting (it knows only the common implied end tags), which can
//! only strip more tags from a page that is already pathological, never let a deep one through.

use super::markup::{is_void, Piece, Scanner};
use std::borrow::Cow;

/// How far from the top of the open-element stack an implied end tag is looked for. Bounds the
/// cost per tag; the parser's own scope rules stop earlier in practice.
const IMPLIED_END_SEARCH: usize = 64;

/// How far down the stack an end tag looks for its start tag; an end tag not matched within it
/// is treated as stray (the element stays counted as open, so depth is over-counted, never under).
/// Bounds the scan to linear time on 100k stray end tags.
const END_TAG_SEARCH: usize = 512;

/// Elements that close an open `<p>` when they start (HTML's "close a p element" list, abridged).
const CLOSES_P: &[&str] = &[
    "p",
    "div",
    "ul",
    "ol",
    "dl",
    "table",
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
    "fieldset",
    "hr",
    "menu",
    "details",
    "center",
    "dir",
    "hgroup",
    "listing",
    "summary",
];

/// Start tag `name` implicitly closes an open element named in the returned list (searched up to
/// the first element of the returned boundary list).
fn implied_close(name: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    let n = name.to_ascii_lowercase();
    Some(match n.as_str() {
        "li" => (&["li"], &["ul", "ol", "menu", "table"]),
        "dt" | "dd" => (&["dt", "dd"], &["dl", "table"]),
        "tr" => (&["tr"], &["table"]),
        "td" | "th" => (&["td", "th"], &["tr", "table"]),
        "option" => (&["option"], &["select"]),
        "a" => (&["a"], &["td", "th", "table"]),
        _ if CLOSES_P.contains(&n.as_str()) => (
            &["p"],
            &["td", "th", "table", "button", "object", "template"],
        ),
        _ => return None,
    })
}

/// Paragraph-like elements that cannot nest in each other (the parser closes an open `p` or
/// heading first), so keeping them past the limit adds at most one level. Keeping them matters:
/// the extractor handles text in a paragraph far better than text loose in a deep `div` chain.
fn is_paragraph(name: &str) -> bool {
    const PARA: &[&str] = &["p", "h1", "h2", "h3", "h4", "h5", "h6"];
    PARA.iter().any(|p| p.eq_ignore_ascii_case(name))
}

fn is_heading(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 2 && b[0].eq_ignore_ascii_case(&b'h') && (b'1'..=b'6').contains(&b[1])
}

/// Open element in the model: its name and whether its start tag was kept.
struct Open<'a> {
    name: &'a str,
    kept: bool,
}

/// Pops the open elements down to and including the nearest `targets` element above a
/// `boundary`, within [`IMPLIED_END_SEARCH`] entries. Returns how many kept elements were popped.
fn pop_to(stack: &mut Vec<Open<'_>>, targets: &[&str], boundary: &[&str]) -> usize {
    let lowest = stack.len().saturating_sub(IMPLIED_END_SEARCH);
    for i in (lowest..stack.len()).rev() {
        let n = stack[i].name;
        if targets.iter().any(|t| t.eq_ignore_ascii_case(n)) {
            let kept = stack[i..].iter().filter(|o| o.kept).count();
            stack.truncate(i);
            return kept;
        }
        if boundary.iter().any(|t| t.eq_ignore_ascii_case(n)) {
            return 0;
        }
    }
    0
}

/// Walks the page; with `out` set, writes the page minus the tags beyond `max_depth`.
/// Returns the deepest nesting of kept elements the model saw, and how many tags were removed.
fn walk(html: &str, max_depth: usize, mut out: Option<&mut String>) -> (usize, usize) {
    let mut stack: Vec<Open<'_>> = Vec::new();
    let (mut kept_depth, mut deepest, mut removed) = (0usize, 0usize, 0usize);
    for piece in Scanner::new(html) {
        let keep = match piece {
            Piece::Start { name, .. } => {
                if is_void(name) {
                    true
                } else {
                    if let Some((targets, boundary)) = implied_close(name) {
                        kept_depth =
                            kept_depth.saturating_sub(pop_to(&mut stack, targets, boundary));
                    }
                    // a heading start tag closes a heading that is the current node
                    // (`pop` runs whenever the first two hold; only a kept one counted)
                    if is_heading(name)
                        && stack.last().is_some_and(|o| is_heading(o.name))
                        && stack.pop().is_some_and(|o| o.kept)
                    {
                        kept_depth = kept_depth.saturating_sub(1);
                    }
                    let kept = kept_depth < max_depth || is_paragraph(name);
                    if kept {
                        kept_depth += 1;
                        deepest = deepest.max(kept_depth);
                    } else {
                        // count what the depth would have been, so the first pass can tell
                        deepest = deepest.max(kept_depth + 1);
                    }
                    stack.push(Open { name, kept });
                    kept
                }
            }
            Piece::End { name, .. } => {
                let lowest = stack.len().saturating_sub(END_TAG_SEARCH);
                match stack[lowest..]
                    .iter()
                    .rposition(|o| o.name.eq_ignore_ascii_case(name))
                    .map(|i| i + lowest)
                {
                    Some(i) => {
                        let kept = stack[i].kept;
                        kept_depth =
                            kept_depth.saturating_sub(stack[i..].iter().filter(|o| o.kept).count());
                        stack.truncate(i);
                        kept
                    }
                    None => true, // stray end tag: the parser ignores it, harmless
                }
            }
            Piece::Text(_) | Piece::Other(_) => true,
        };
        if !keep {
            removed += 1;
        }
        if let Some(o) = out.as_deref_mut() {
            if keep {
                o.push_str(match piece {
                    Piece::Text(s)
                    | Piece::Other(s)
                    | Piece::Start { raw: s, .. }
                    | Piece::End { raw: s, .. } => s,
                });
            } else if matches!(piece, Piece::Start { .. }) && !o.ends_with(' ') {
                // keep words apart where a block tag was removed (one space, not one per tag)
                o.push(' ');
            }
        }
    }
    (deepest, removed)
}

/// The page with element nesting bounded by `max_depth`, borrowed unchanged in the usual case.
/// Also returns how many tags were removed.
pub(crate) fn limit_depth(html: &str, max_depth: usize) -> (Cow<'_, str>, usize) {
    let (deepest, _) = walk(html, usize::MAX, None);
    if deepest <= max_depth {
        return (Cow::Borrowed(html), 0);
    }
    let mut out = String::with_capacity(html.len());
    let (_, removed) = walk(html, max_depth, Some(&mut out));
    (Cow::Owned(out), removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_page_is_borrowed() {
        let html = "<html><body><div><p>a<p>b<ul><li>x<li>y</ul></div></body></html>";
        let (out, removed) = limit_depth(html, 5);
        assert!(matches!(out, Cow::Borrowed(_)));
        assert_eq!(removed, 0);
    }

    #[test]
    fn deep_nesting_is_cut_and_text_kept() {
        let html = format!("{}deep text{}", "<div>".repeat(1000), "</div>".repeat(1000));
        let (out, removed) = limit_depth(&html, 10);
        assert_eq!(removed, 2 * 990);
        assert_eq!(out.matches("<div>").count(), 10);
        assert_eq!(out.matches("</div>").count(), 10);
        assert!(out.contains("deep text"));
    }

    #[test]
    fn paragraphs_survive_past_the_limit() {
        let html = format!(
            "{}<p>deep text</p>{}",
            "<div>".repeat(20),
            "</div>".repeat(20)
        );
        let (out, _) = limit_depth(&html, 10);
        assert!(out.contains("<p>deep text</p>"), "{out}");
        let html = format!("<div>{}</div>", "<p><h2>x".repeat(1000));
        assert!(matches!(limit_depth(&html, 4).0, Cow::Borrowed(_)));
    }

    #[test]
    fn unclosed_formatting_tags_are_bounded() {
        let html = format!("<body>{}x</body>", "<b>".repeat(100_000));
        let (out, _) = limit_depth(&html, 50);
        assert!(out.matches("<b>").count() <= 50);
    }

    #[test]
    fn implied_end_tags_do_not_count_as_depth() {
        let html = format!(
            "<ul>{}</ul><table>{}</table>",
            "<li>item".repeat(500),
            "<tr><td>a<td>b".repeat(500)
        );
        assert!(matches!(limit_depth(&html, 5).0, Cow::Borrowed(_)));
    }
}
