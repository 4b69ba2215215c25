//! End-to-end tests of HTML and WARC input: a WARC written here, the seed article inside a
//! made-up site template, bad pages, and `newsmill eval extract` on the shared dev pages.

mod common;

use std::io::Write;

use common::*;

const BODY: &[&str] = &[
    "The port authority said on Tuesday that container traffic through the harbour rose by a fifth in the third quarter, the strongest growth since the terminal opened a decade ago.",
    "Officials credited a new rail link to the interior and lower handling fees, which drew shipping lines away from rival ports along the coast.",
    "Unions welcomed the figures but warned that staffing had not kept pace with the extra traffic, and said they would raise the issue at talks next month.",
];

fn page(title: &str, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | Harbour Gazette</title>
<meta property="og:title" content="{title}"><meta property="og:site_name" content="Harbour Gazette">
<meta property="article:published_time" content="2026-03-14T09:30:00Z"></head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a> <a href="/sport">Sport</a></nav></header>
<main><article><h1>{title}</h1>{body}</article>
<div class="share">Share this article: Facebook | Twitter | Email</div>
<section class="comments"><h3>Leave a Reply</h3><p>Your email address will not be published.</p></section></main>
<footer><p>© 2006-2016 Harbour Gazette. All rights reserved.</p><p>We use cookies to improve your experience.</p></footer>
</body></html>"#
    )
}

fn warc_record(kind: &str, uri: &str, id: &str, http: &str) -> String {
    format!(
        "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nWARC-Record-ID: <urn:uuid:{id}>\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: {}\r\n\r\n{http}\r\n\r\n",
        http.len()
    )
}

#[test]
fn warc_file_becomes_documents() {
    let w = Workdir::new();
    let html = page("Harbour traffic jumps", BODY);
    let http = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}");
    let mut warc = String::new();
    warc += &warc_record("warcinfo", "", "0000", "software: test\r\n");
    warc += &warc_record(
        "request",
        "https://gazette.example/a",
        "1110",
        "GET /a HTTP/1.1\r\n\r\n",
    );
    warc += &warc_record("response", "https://gazette.example/a", "1111", &http);
    warc += &warc_record(
        "response",
        "https://gazette.example/logo.png",
        "2222",
        "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\nPNG",
    );
    // gzip, one member per record, as crawls write them.
    let mut gz = Vec::new();
    for rec in warc.split_inclusive("\r\n\r\nWARC").collect::<Vec<_>>() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(rec.as_bytes()).unwrap();
        gz.extend(enc.finish().unwrap());
    }
    w.write("crawl/a.warc.gz", &gz);
    w.newsmill_ok(&["run", "-q", "--input", "crawl", "--output", "out"]);
    let docs = read_table(&w.join("out"), "documents");
    assert_eq!(docs.height(), 1);
    assert_eq!(strs(&docs, "url")[0], "https://gazette.example/a");
    assert_eq!(strs(&docs, "title")[0], "Harbour traffic jumps");
    assert_eq!(
        strings(&docs, "published")[0].as_deref(),
        Some("2026-03-14T09:30:00Z")
    );
    let text = &strs(&docs, "text")[0];
    assert!(
        text.starts_with("The port authority said on Tuesday"),
        "{text}"
    );
    assert!(text.ends_with("at talks next month."), "{text}");
    let rep = report(&w.join("out"));
    assert_eq!(rep["totals"]["input_records"], 1);
    assert_eq!(rep["stages"]["read"]["skipped"]["warc_non_response"], 2);
    assert_eq!(rep["stages"]["read"]["skipped"]["warc_non_html"], 1);
}

#[test]
fn seed_article_in_a_site_template_comes_out_as_the_body() {
    let Some(seed) = shared("seed/article.txt") else {
        return;
    };
    let text = std::fs::read_to_string(seed).unwrap();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let title = lines.next().unwrap().to_string();
    let paras: Vec<&str> = lines
        .filter(|l| *l != "Leave a Reply" && !l.starts_with('©'))
        .collect();
    let w = Workdir::new();
    w.write("site/story.html", page(&title, &paras));
    w.newsmill_ok(&["run", "-q", "--input", "site", "--output", "out"]);
    let docs = read_table(&w.join("out"), "documents");
    let body = &strs(&docs, "text")[0];
    assert_eq!(strs(&docs, "title")[0], title);
    assert!(
        body.starts_with("Syria, Iraq, Iran and Russia agreed"),
        "{body}"
    );
    assert!(body.ends_with("regional forces on the ground,"), "{body}");
    for junk in [
        "Leave a Reply",
        "© 2006",
        "Share this",
        "cookies",
        "Home",
        "Your email",
    ] {
        assert!(!body.contains(junk), "{junk:?} in {body}");
    }
}

#[test]
fn bad_pages_are_rejects() {
    let w = Workdir::new();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend((0..4096u32).map(|i| (i * 7 % 251) as u8));
    w.write("in/image.html", &png);
    // Deep nesting: must not blow the stack.
    let deep = format!(
        "<html><body>{}<p>{}</p>{}</body></html>",
        "<div>".repeat(100_000),
        BODY[0],
        "</div>".repeat(100_000)
    );
    w.write("in/deep.html", deep);
    // A WARC cut in the middle of a record.
    let http = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n{}",
        page("T", BODY)
    );
    let rec = warc_record("response", "https://x.example/", "9", &http);
    w.write("in/cut.warc", &rec[..rec.len() / 2]);
    w.newsmill_ok(&["run", "-q", "--input", "in", "--output", "out"]);
    let rejects = read_table(&w.join("out"), "rejects");
    let reasons = strs(&rejects, "reason");
    assert!(
        reasons.contains(&"binary_content".to_string()),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&"truncated_input".to_string()),
        "{reasons:?}"
    );
    assert_eq!(report(&w.join("out"))["totals"]["balanced"], true);
}

#[test]
fn eval_extract_on_dev_pages() {
    let (Some(dir), Some(gt)) = (
        shared("data/article_extraction/html"),
        shared("data/article_extraction/ground-truth.json"),
    ) else {
        return;
    };
    let w = Workdir::new();
    let out = w.newsmill_ok(&[
        "eval",
        "extract",
        "--html-dir",
        dir.to_str().unwrap(),
        "--ground-truth",
        gt.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let f1: f64 = stdout
        .split("F1 ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(f1 >= 0.96, "{stdout}");
    // The pipeline over the same pages writes titled documents.
    w.newsmill_ok(&[
        "run",
        "-q",
        "--input",
        dir.to_str().unwrap(),
        "--output",
        "out",
    ]);
    let docs = read_table(&w.join("out"), "documents");
    assert!(docs.height() >= 55);
    assert!(
        strings(&docs, "title")
            .iter()
            .filter(|t| t.is_some())
            .count()
            >= 55
    );
}

#[test]
fn fifty_megabyte_page_is_bounded_not_fatal() {
    let w = Workdir::new();
    let para = format!("<p>{}</p>\n", BODY[1]);
    let mut page = String::with_capacity(50 * 1024 * 1024 + 1024);
    page.push_str("<html><head><title>Huge</title></head><body><article>");
    while page.len() < 50 * 1024 * 1024 {
        page.push_str(&para);
    }
    page.push_str("</article></body></html>");
    w.write("in/huge.html", page);
    w.newsmill_ok(&["run", "-q", "--input", "in", "--output", "out"]);
    let rep = report(&w.join("out"));
    assert_eq!(rep["totals"]["balanced"], true);
    assert_eq!(rep["totals"]["input_records"], 1);
    // Only `[clean.html] max_page_bytes` (8 MiB) of the page is read.
    assert!(rep["throughput"]["peak_rss_mb"].as_f64().unwrap() < 1500.0);
}
