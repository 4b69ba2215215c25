//! Publication dates the extractor missed: JSON-LD `datePublished`, common `<meta>` date tags and
//! `<time datetime>`, parsed from the usual formats into ISO 8601, and dates in URL paths.
//!
//! Output format: `YYYY-MM-DDTHH:MM:SSZ` (converted to UTC when the source has an offset or a
//! zone abbreviation we know) or `YYYY-MM-DD` when only the day is known. A source time without
//! any zone is written as is, with `Z`, since guessing the zone would be worse.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use regex::Regex;
use std::sync::OnceLock;

/// Bytes of the page searched for date declarations (they sit in `<head>` or at the top of
/// `<body>`; JSON-LD blocks can be long, so the bound is generous).
const DATE_SCAN_BYTES: usize = 512 * 1024;

/// Years outside this range are parse accidents, not publication dates.
const MIN_YEAR: i32 = 1990;
const MAX_YEAR: i32 = 2100;

/// Candidates in priority order: JSON-LD, meta tags (either attribute order), `<time>`.
const DECLARATIONS: &[&str] = &[
    r#""datePublished"\s*:\s*"([^"]{6,40})""#,
    r#"(?i)<meta[^>]+(?:property|name|itemprop)\s*=\s*["']?(?:article:published_time|og:published_time|datePublished|pubdate|publishdate|publish-date|parsely-pub-date|sailthru\.date|dc\.date\.issued|dc\.date|date)["']?[^>]*?\scontent\s*=\s*["']([^"']{6,40})["']"#,
    r#"(?i)<meta[^>]+content\s*=\s*["']([^"']{6,40})["'][^>]*?(?:property|name|itemprop)\s*=\s*["']?(?:article:published_time|og:published_time|datePublished|pubdate|publishdate|parsely-pub-date|dc\.date\.issued)["' />]"#,
    r#""dateCreated"\s*:\s*"([^"]{6,40})""#,
    r#"(?i)<time[^>]+datetime\s*=\s*["']([^"']{6,40})["']"#,
];

/// `/2019/11/18/`, `/2019-11-18-` or `/2019/nov/18/` in a URL path.
const URL_DATE: &str = r"(?i)/((?:19|20)\d\d)[/-](0?[1-9]|1[0-2]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[/-](0?[1-9]|[12]\d|3[01])(?:[/_.-]|$)";

fn declarations() -> &'static [Regex] {
    static RES: OnceLock<Vec<Regex>> = OnceLock::new();
    RES.get_or_init(|| {
        DECLARATIONS
            .iter()
            .map(|p| Regex::new(p).expect("constant regex"))
            .collect()
    })
}

/// Is `year` a plausible publication year (the extractor returns year 1 for unparsed dates)?
pub(crate) fn plausible_year(year: i32) -> bool {
    in_range(year)
}

fn in_range(year: i32) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&year)
}

fn month_number(s: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if let Ok(n) = s.parse::<u32>() {
        return (1..=12).contains(&n).then_some(n);
    }
    let l = s.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| l.starts_with(m))
        .map(|i| i as u32 + 1)
}

/// Parses one date string into the module's ISO 8601 form.
pub(crate) fn parse_date(raw: &str) -> Option<String> {
    let s = raw.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z"))
    {
        let u = d.naive_utc();
        return in_range(u.date().format("%Y").to_string().parse().ok()?)
            .then(|| u.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
    let s = s.trim_end_matches(|c: char| c == 'Z' || c.is_whitespace());
    // strip a trailing zone abbreviation that means UTC
    let s = ["GMT", "UTC"]
        .iter()
        .find_map(|z| s.strip_suffix(z))
        .unwrap_or(s)
        .trim();
    const DATETIME: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%d %b %Y %H:%M",
        "%d %B %Y %H:%M",
        "%b %d, %Y %H:%M",
        "%I:%M:%S %p IST %b %d, %Y",
    ];
    for f in DATETIME {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            let y: i32 = d.format("%Y").to_string().parse().ok()?;
            return in_range(y).then(|| d.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }
    const DATE: &[&str] = &[
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%d %b %Y",
        "%d %B %Y",
        "%b %d, %Y",
        "%B %d, %Y",
        "%Y%m%d",
    ];
    for f in DATE {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            let y: i32 = d.format("%Y").to_string().parse().ok()?;
            return in_range(y).then(|| d.format("%Y-%m-%d").to_string());
        }
    }
    // a leading ISO day followed by anything we could not read
    let head = s.get(..10)?;
    NaiveDate::parse_from_str(head, "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// First parseable publication date declared in the page.
pub(crate) fn date_from_page(html: &str) -> Option<String> {
    let mut end = html.len().min(DATE_SCAN_BYTES);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let head = &html[..end];
    declarations().iter().find_map(|re| {
        re.captures_iter(head)
            .find_map(|c| parse_date(c.get(1)?.as_str()))
    })
}

/// ISO 8601 date (`2019-11-18`) from a URL path, if it carries one.
pub(crate) fn date_from_url(url: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(URL_DATE).expect("constant regex"));
    let c = re.captures(url)?;
    let year: i32 = c.get(1)?.as_str().parse().ok()?;
    let month = month_number(c.get(2)?.as_str())?;
    let day: u32 = c.get(3)?.as_str().parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day).map(|d| d.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_formats_parse() {
        assert_eq!(
            parse_date("2019-11-19T09:44:09+01:00").as_deref(),
            Some("2019-11-19T08:44:09Z")
        );
        assert_eq!(
            parse_date("2019-11-19T09:44:09Z").as_deref(),
            Some("2019-11-19T09:44:09Z")
        );
        assert_eq!(
            parse_date("2019-11-19 06:06:48").as_deref(),
            Some("2019-11-19T06:06:48Z")
        );
        assert_eq!(
            parse_date("19 Nov 2019 07:09 GMT").as_deref(),
            Some("2019-11-19T07:09:00Z")
        );
        assert_eq!(parse_date("Nov 20, 2019").as_deref(), Some("2019-11-20"));
        assert_eq!(parse_date("2019-11-19").as_deref(), Some("2019-11-19"));
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("0001-01-01"), None);
    }

    #[test]
    fn json_ld_and_meta_are_found() {
        let html = r#"<head><script type="application/ld+json">{"datePublished":"2019-11-19T09:44:09+00:00"}</script></head>"#;
        assert_eq!(
            date_from_page(html).as_deref(),
            Some("2019-11-19T09:44:09Z")
        );
        let html = r#"<meta content="2020-02-29" property="article:published_time">"#;
        assert_eq!(date_from_page(html).as_deref(), Some("2020-02-29"));
        assert_eq!(date_from_page("<p>no date</p>"), None);
    }

    #[test]
    fn url_dates_are_found() {
        assert_eq!(
            date_from_url("https://x.com/2019/11/18/story-title").as_deref(),
            Some("2019-11-18")
        );
        assert_eq!(
            date_from_url("https://x.com/stories/2019/nov/19/meth").as_deref(),
            Some("2019-11-19")
        );
        assert_eq!(
            date_from_url("https://x.com/news/2019-1-8-story").as_deref(),
            Some("2019-01-08")
        );
        assert_eq!(date_from_url("https://x.com/news/12345/story"), None);
        assert_eq!(date_from_url("https://x.com/2019/02/30/x"), None);
    }
}
