//! Page metadata: the extractor's findings (meta tags, JSON-LD, `<link rel=canonical>`,
//! `<html lang>`) normalised for the documents table. When the extractor finds no publication
//! date, [`super::dates`] looks for one in the page's declarations, then in the URL path.

use super::dates::{date_from_page, date_from_url};

/// Metadata fields kept for a document (see `Extracted` for their meaning).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PageMeta {
    /// See `Extracted` for the meaning of each field.
    pub title: Option<String>,
    pub published: Option<String>,
    pub author: Option<String>,
    pub site_name: Option<String>,
    pub canonical_url: Option<String>,
    pub lang: Option<String>,
}

/// Trims and collapses whitespace; empty becomes `None`.
fn clean(s: Option<&str>) -> Option<String> {
    let s = s?.split_whitespace().collect::<Vec<_>>().join(" ");
    (!s.is_empty()).then_some(s)
}

/// Site names longer than this (chars) are page text picked up by mistake, not a name.
const MAX_SITE_NAME_CHARS: usize = 80;

/// Site names with more digits than this are widgets (weather, tickers), not a name.
const MAX_SITE_NAME_DIGITS: usize = 4;

fn plausible_site_name(s: String) -> Option<String> {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (s.chars().count() <= MAX_SITE_NAME_CHARS && digits <= MAX_SITE_NAME_DIGITS).then_some(s)
}

/// Primary language subtag, lower-cased (`en-US` → `en`); a few English language names that
/// pages put in `<meta name=language>` are mapped to their code; anything else is dropped.
fn language_code(raw: &str) -> Option<String> {
    const NAMES: &[(&str, &str)] = &[
        ("english", "en"),
        ("french", "fr"),
        ("german", "de"),
        ("spanish", "es"),
        ("portuguese", "pt"),
        ("italian", "it"),
        ("dutch", "nl"),
        ("russian", "ru"),
        ("arabic", "ar"),
        ("chinese", "zh"),
        ("japanese", "ja"),
        ("korean", "ko"),
    ];
    let l = raw.trim().to_ascii_lowercase();
    if let Some(&(_, code)) = NAMES.iter().find(|(n, _)| *n == l) {
        return Some(code.to_string());
    }
    let primary = l.split(['-', '_']).next()?;
    ((2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase()))
        .then(|| primary.to_string())
}

/// Converts the extractor's metadata. A date whose time is exactly midnight UTC is written as a
/// plain date, since that is what pages that give only a day end up as.
pub(crate) fn from_extractor(
    m: &rs_trafilatura::Metadata,
    html: &str,
    url: Option<&str>,
) -> PageMeta {
    let published = m
        .date
        .filter(|d| {
            d.format("%Y")
                .to_string()
                .parse::<i32>()
                .is_ok_and(super::dates::plausible_year)
        })
        .map(|d| {
            if d.format("%H:%M:%S").to_string() == "00:00:00" {
                d.format("%Y-%m-%d").to_string()
            } else {
                d.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            }
        })
        .or_else(|| date_from_page(html))
        .or_else(|| url.and_then(date_from_url));
    PageMeta {
        title: clean(m.title.as_deref()),
        published,
        author: clean(m.author.as_deref()),
        site_name: clean(m.sitename.as_deref()).and_then(plausible_site_name),
        canonical_url: clean(m.url.as_deref()),
        lang: m.language.as_deref().and_then(language_code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_codes_are_normalised() {
        assert_eq!(language_code("en-US").as_deref(), Some("en"));
        assert_eq!(language_code("pt_BR").as_deref(), Some("pt"));
        assert_eq!(language_code("English").as_deref(), Some("en"));
        assert_eq!(language_code("{{lang}}"), None);
    }

    #[test]
    fn widget_text_is_not_a_site_name() {
        assert_eq!(
            plausible_site_name("The Daily".into()).as_deref(),
            Some("The Daily")
        );
        assert_eq!(
            plausible_site_name("55°F Clear 67° 46° Wichita".into()),
            None
        );
    }

    #[test]
    fn empty_fields_become_none_and_url_date_fills_in() {
        let m = rs_trafilatura::Metadata {
            title: Some("  A \n title ".into()),
            author: Some(" ".into()),
            ..Default::default()
        };
        let p = from_extractor(&m, "<p>no date</p>", Some("https://x.com/2020/02/29/a"));
        assert_eq!(p.title.as_deref(), Some("A title"));
        assert_eq!(p.author, None);
        assert_eq!(p.published.as_deref(), Some("2020-02-29"));
    }
}
