//! Site furniture that looks the same everywhere: comment prompts, copyright footers,
//! share/subscribe/cookie lines, agency sign-offs. Matched against whole paragraphs, and
//! only short ones: a long paragraph that happens to contain "cookies" is news.

use regex::{RegexSet, RegexSetBuilder};

/// Built-in patterns, matched case-insensitively against a whole trimmed paragraph.
const BUILTIN: &[&str] = &[
    r"^leave a (reply|comment)\b.{0,60}$",
    r"^(©|\(c\)|copyright\b).*$",
    r"^.*\ball rights reserved\b.*$",
    // Share bars: nothing but share targets and separators.
    r"^(share( this( article| story| post| page)?)?|tweet|e-?mail|print|facebook|twitter|x|linkedin|whatsapp|pinterest|reddit|telegram|copy link|flipboard)([\s:|/,·•\-–]+(share|on|via|this|facebook|twitter|x|e-?mail|linkedin|whatsapp|print|reddit|pinterest|tweet|telegram|copy link|flipboard))*[\s.:!]*$",
    r"^(subscribe|sign up|signup|register)\b.*\b(newsletter|updates|inbox|alerts|subscribe|digest)\b.*$",
    r"^.*\bnewsletter\b.*\b(sign up|subscribe)\b.*$",
    r"^.*\b(we|this (web)?site|our (web)?site|this page)\s+uses?\s+cookies\b.*$",
    r"^.*\baccept (all )?cookies\b.*$",
    r"^(advertisement|advertising|sponsored( content| links?)?|ad)[\s:]*$",
    r"^(related( articles| stories| news| coverage| content)?|read more|read also|see also|also read|more from [^.]*|recommended( for you)?|you (may|might) also like|most (read|popular))\s*[:\-–»]?\s*.{0,150}$",
    r"^(click here|follow us|like us on|posted (in|on|by)|filed under|tags?\s*:|categories?\s*:|previous (article|post|story)|next (article|post|story)|skip to (main )?content|back to top|log ?in|sign in)\b.{0,80}$",
    r"^(\d+\s+)?comments?(\s*\(\d+\))?$|^no comments( yet)?\.?$",
    r"^(reuters?|ap|afp|upi)$",
    r"^\(?(reporting|writing|editing|additional reporting|compiled) by\b.{0,150}$",
];

/// Agency names that newswire copy ends with, glued to the last sentence ("... said. REUTER").
const SIGNOFFS: &[&str] = &["reuter", "reuters"];

/// Byte offset where a trailing agency sign-off starts in the final paragraph (after the
/// last real sentence), if there is one and something precedes it.
pub fn trailing_signoff(para: &str) -> Option<usize> {
    let trimmed = para.trim_end();
    let (head, last) = trimmed.rsplit_once(char::is_whitespace)?;
    if head.trim().is_empty() || !SIGNOFFS.iter().any(|s| last.eq_ignore_ascii_case(s)) {
        return None;
    }
    Some(head.trim_end().len())
}

/// Compiled boilerplate patterns.
#[derive(Debug, Clone)]
pub struct BoilerplateMatcher {
    set: Option<RegexSet>,
    max_chars: usize,
}

impl BoilerplateMatcher {
    /// Compile the built-in patterns (when `builtin`) plus `extra`.
    pub fn new(builtin: bool, extra: &[String], max_chars: usize) -> Result<Self, regex::Error> {
        let mut pats: Vec<String> = Vec::new();
        if builtin {
            pats.extend(BUILTIN.iter().map(|s| s.to_string()));
        }
        pats.extend(extra.iter().map(|p| format!("^(?:{p})$")));
        let set = if pats.is_empty() {
            None
        } else {
            Some(
                RegexSetBuilder::new(&pats)
                    .case_insensitive(true)
                    .size_limit(64 << 20)
                    .build()?,
            )
        };
        Ok(BoilerplateMatcher { set, max_chars })
    }

    /// Whether a (trimmed, whitespace-collapsed) paragraph is furniture.
    pub fn is_boilerplate(&self, para: &str) -> bool {
        let Some(set) = &self.set else { return false };
        if para.len() > self.max_chars * 4 || para.chars().count() > self.max_chars {
            return false;
        }
        set.is_match(para)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> BoilerplateMatcher {
        BoilerplateMatcher::new(true, &[], 200).unwrap()
    }

    #[test]
    fn catches_common_furniture() {
        let m = m();
        for line in [
            "Leave a Reply",
            "© 2006-2016 Mideast Time.",
            "Copyright 2024 Example Media. All rights reserved.",
            "Share this article: Facebook | Twitter | Email",
            "Share on Facebook",
            "Subscribe to our newsletter for daily updates",
            "We use cookies to improve your experience. Accept",
            "Advertisement",
            "Related: Markets slide as oil jumps",
            "Reuter",
            "(Reporting by Jane Doe; Editing by John Roe)",
            "12 Comments",
        ] {
            assert!(m.is_boilerplate(line), "{line}");
        }
    }

    #[test]
    fn keeps_news_sentences() {
        let m = m();
        for line in [
            "The committee said Baghdad would help in harmonizing efforts.",
            "Shares in the company, which makes cookies and biscuits, rose 3 percent.",
            "Reuters reported that the talks had stalled.",
            "Email records showed the minister had been warned.",
            "The spokesperson added that the committee would focus on monitoring.",
        ] {
            assert!(!m.is_boilerplate(line), "{line}");
        }
        let long = format!("We use cookies {}", "word ".repeat(100));
        assert!(!m.is_boilerplate(&long));
    }

    #[test]
    fn trailing_signoff_is_found_only_at_the_very_end() {
        let p = "Output rose 3 pct, it said. REUTER";
        assert_eq!(
            &p[..trailing_signoff(p).unwrap()],
            "Output rose 3 pct, it said."
        );
        assert_eq!(trailing_signoff("REUTER"), None);
        assert_eq!(trailing_signoff("Reuters reported a rise in output."), None);
    }

    #[test]
    fn user_patterns_are_anchored() {
        let m = BoilerplateMatcher::new(false, &["harbour gazette.*".into()], 200).unwrap();
        assert!(m.is_boilerplate("Harbour Gazette — independent since 1998"));
        assert!(!m.is_boilerplate("Readers of the Harbour Gazette said"));
    }
}
