//! News-specific tidying of the extractor's text: boilerplate lines out, paragraphs kept.
//!
//! The extractor returns paragraphs separated by blank lines, but on news pages it also lets
//! through lines that are part of the page furniture rather than the story: share prompts,
//! "Read more:" teasers, all-caps promo headlines, photo captions and credits, datelines with a
//! clock time, bylines, "Leave a Reply" blocks, runs of one-word navigation links, and the title
//! repeated as the first line. Each rule here looks at one line (plus, for navigation runs, its
//! neighbours) and only removes short lines, so a rule misfiring costs one line of a story.
//! Output: paragraphs joined by `"\n\n"`, lines inside a paragraph (table rows, list items) by
//! `"\n"`, runs of spaces and tabs collapsed.

use regex::Regex;
use std::sync::OnceLock;

/// Lines longer than this many words are never removed by a pattern (stories have long lines;
/// furniture is short). Chosen so a two-sentence caption still counts as short.
const MAX_FURNITURE_WORDS: usize = 40;

/// A run of at least this many consecutive short lines without sentence punctuation is treated
/// as a navigation/link list (menus, "columnists" boxes). Lines with digits never count (they
/// are facts: prices, phone numbers, table cells).
const MIN_NAV_RUN: usize = 5;

/// Lines with at most this many words can be part of a navigation run.
const MAX_NAV_LINE_WORDS: usize = 3;

/// Upper-case letters needed (and no lower-case one) for a line to count as an all-caps promo
/// headline; short all-caps lines ("UPDATE", "NEW YORK") stay.
const MIN_CAPS_LETTERS: usize = 16;

/// Whole-line furniture (matched against the trimmed line, case-insensitive).
const WHOLE_LINE: &str = r"(?i)^(advertisement|advertising|sponsored( content)?|story continues below( advertisement)?|continue reading( below)?( the main story)?|don'?t miss|more|related|related (articles?|stories|coverage|content|news)|recommended( for you)?|trending( now)?|most (read|popular)|see also|share( this)?( article| story| post)?|leave a (reply|comment)|comments?|\d+ comments?|cancel reply|skip to (main )?content|back to top|print|email|whatsapp|facebook|twitter|linkedin)\W*$";

/// Furniture recognised by how the line starts (case-insensitive, short lines only).
const LINE_START: &str = r"(?i)^\W*(read more|read also|also read|read next|see more|more on this|related:|also on|watch:|listen:|click here|sign up|subscribe (to|now|for)|follow us|like this story|share (this|on|via|with)|click to (share|email|print)|first published|last (updated|modified)|published:|updated:|image (source|caption|copyright)|photo(graph)?:|photo by|picture:|pictures:|credit:|(image|photo) credit|your email address will not be published|you must be logged in|tags?:|get (the|our) .{0,40}\bapp\b|download (the|our) .{0,40}\bapp\b|this (article|story) (was )?(originally )?(appeared|published) )";

/// Captions and credits recognised by how the line ends.
const LINE_END: &str = r"(?i)(\((getty images|ap|afp|reuters|epa|shutterstock|file)\)|getty images|/ ?(reuters|afp|ap|getty images|epa)|ap photo.{0,40}|\[\s*[A-Z]+\s*\]\s*\|?)\s*$";

/// A short line that is only a date and a clock time ("20 Nov, 2019 05:47").
const DATELINE: &str =
    r"\b(1[89]|20)\d\d\b.*\b\d{1,2}[:h.]\d\d\b|\b\d{1,2}[:h]\d\d\b.*\b(1[89]|20)\d\d\b";

/// Words at most of a dateline (the date and time plus a few words like "Updated").
const MAX_DATELINE_WORDS: usize = 10;

/// "By Jane Doe" at the head of the text.
const BYLINE: &str = r"^(?i:by|por|von|par|di)\s+\p{Lu}";

/// Bylines are at most this many words and looked for only in this many first lines.
const MAX_BYLINE_WORDS: usize = 8;
const BYLINE_HEAD_LINES: usize = 3;

struct Patterns {
    whole: Regex,
    start: Regex,
    end: Regex,
    dateline: Regex,
    byline: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        whole: Regex::new(WHOLE_LINE).expect("constant regex"),
        start: Regex::new(LINE_START).expect("constant regex"),
        end: Regex::new(LINE_END).expect("constant regex"),
        dateline: Regex::new(DATELINE).expect("constant regex"),
        byline: Regex::new(BYLINE).expect("constant regex"),
    })
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// Lower-cased word tokens, for comparing a line with the title.
fn norm_tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn is_all_caps(line: &str) -> bool {
    let (mut upper, mut lower) = (0usize, 0usize);
    for c in line.chars() {
        upper += usize::from(c.is_uppercase());
        lower += usize::from(c.is_lowercase());
    }
    lower == 0 && upper >= MIN_CAPS_LETTERS && words(line) >= 3
}

/// Is this single line page furniture? `index` is its position among all lines of the text.
fn is_furniture(line: &str, index: usize) -> bool {
    let p = patterns();
    let n = words(line);
    if n == 0 {
        return true;
    }
    if n > MAX_FURNITURE_WORDS {
        return false;
    }
    p.whole.is_match(line)
        || p.start.is_match(line)
        || p.end.is_match(line)
        || line.find('©').is_some_and(|i| i > 0)
        || is_all_caps(line)
        || (n <= MAX_DATELINE_WORDS && p.dateline.is_match(line))
        || (index < BYLINE_HEAD_LINES && n <= MAX_BYLINE_WORDS && p.byline.is_match(line))
}

fn is_nav_candidate(line: &str) -> bool {
    let n = words(line);
    n > 0
        && n <= MAX_NAV_LINE_WORDS
        && !line.contains(|c: char| c == '|' || c.is_ascii_digit())
        && !line
            .trim_end()
            .ends_with(['.', '!', '?', ':', ';', '"', '”'])
}

/// Tidies extracted article text (see the module doc). `title` is the page title, if known.
pub(crate) fn tidy(text: &str, title: Option<&str>) -> String {
    // (paragraph index, normalised line)
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (pi, para) in text.split("\n\n").enumerate() {
        for l in para.lines() {
            let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
            if !l.is_empty() {
                lines.push((pi, l));
            }
        }
    }
    let mut keep: Vec<bool> = lines
        .iter()
        .enumerate()
        .map(|(i, (_, l))| !is_furniture(l, i))
        .collect();
    // navigation runs
    let mut i = 0;
    while i < lines.len() {
        let mut j = i;
        while j < lines.len() && is_nav_candidate(&lines[j].1) {
            j += 1;
        }
        if j - i >= MIN_NAV_RUN {
            keep[i..j].iter_mut().for_each(|k| *k = false);
        }
        i = j.max(i + 1);
    }
    // title repeated as the first kept line
    if let Some(t) = title.map(norm_tokens).filter(|t| !t.is_empty()) {
        if let Some(first) = keep.iter().position(|&k| k) {
            if norm_tokens(&lines[first].1) == t {
                keep[first] = false;
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut last_para = None;
    for ((pi, l), k) in lines.iter().zip(keep) {
        if !k {
            continue;
        }
        match last_para {
            None => {}
            Some(p) if p == *pi => out.push('\n'),
            Some(_) => out.push_str("\n\n"),
        }
        out.push_str(l);
        last_para = Some(*pi);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str =
        "The council voted on Tuesday to close the old bridge, citing safety reports.";

    #[test]
    fn keeps_paragraphs_and_rows() {
        let t = format!("{STORY}\n\nRow one | 1\nRow two | 2\n\n{STORY}");
        assert_eq!(tidy(&t, None), t);
    }

    #[test]
    fn drops_share_and_reply_lines() {
        let t = format!("{STORY}\n\nShare this article\n\nLeave a Reply\n\nRead more: Bridge closures across the state\n\n{STORY}");
        assert_eq!(tidy(&t, None), format!("{STORY}\n\n{STORY}"));
    }

    #[test]
    fn drops_captions_credits_and_promos() {
        let t = format!(
            "{STORY}\n\nThe bridge at dusk. (Getty Images)\n\nA view of the river © Reuters\n\nCLICK HERE TO GET THE NEWS APP NOW\n\n{STORY}"
        );
        assert_eq!(tidy(&t, None), format!("{STORY}\n\n{STORY}"));
    }

    #[test]
    fn drops_byline_dateline_and_repeated_title() {
        let t = format!("Bridge to close\n\nBy Jane Doe\n\n20 Nov, 2019 05:47\n\n{STORY}");
        assert_eq!(tidy(&t, Some("Bridge to Close")), STORY);
    }

    #[test]
    fn drops_navigation_runs_but_not_short_lists() {
        let nav = "Politics\nSport\nOpinion\nCulture\nTravel";
        assert_eq!(tidy(&format!("{STORY}\n\n{nav}"), None), STORY);
        let list = format!("{STORY}\n\nApples\nPears\nPlums");
        assert_eq!(tidy(&list, None), list);
    }

    #[test]
    fn long_lines_are_never_furniture() {
        let long = format!("Photo: {}", "word ".repeat(50));
        assert_eq!(tidy(&long, None), long.trim());
    }
}
