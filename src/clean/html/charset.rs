//! Bytes → text: pick the page's character encoding and decode it, or say why it can't be done.
//!
//! Order (as browsers do, minus the prescan details): byte-order mark, then the HTTP
//! `Content-Type` charset, then a `<meta>` declaration in the first [`META_SCAN_BYTES`], then
//! plain UTF-8 if the bytes are valid UTF-8, else a guess by `chardetng`. A declared label that
//! decodes badly (more than [`MAX_REPLACEMENT_SHARE`] of the characters replaced) is distrusted
//! and the guess is tried instead, because mislabelled pages (windows-1252 served as UTF-8) are
//! common in crawls. Files that look binary (image/archive magic bytes, NUL bytes) are refused.

use encoding_rs::{Encoding, UTF_8};
use regex::bytes::Regex;
use std::sync::OnceLock;

/// Bytes of the page searched for a `<meta charset>` declaration (the HTML spec's prescan uses 1024;
/// real pages put long inline scripts before it, so we look further).
const META_SCAN_BYTES: usize = 16 * 1024;

/// Bytes looked at to decide whether the file is binary.
const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// Share of NUL / C0 control bytes in the sniffed prefix above which the file is called binary
/// (text HTML has none besides tab/CR/LF/FF; UTF-16 without BOM would trip it and is rare).
const MAX_CONTROL_SHARE: f64 = 0.01;

/// Share of U+FFFD replacement characters above which a decoding counts as failed
/// (a few stray bytes in a long page are tolerated and replaced).
const MAX_REPLACEMENT_SHARE: f64 = 0.01;

/// Why bytes could not become text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeFailure {
    /// Magic bytes or control characters show a non-text file; carries what was seen.
    Binary(String),
    /// No encoding decodes the bytes without heavy replacement; carries the best encoding tried.
    Undecodable(String),
}

fn meta_charset_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // <meta charset="x"> or <meta http-equiv=content-type content="text/html; charset=x">
        Regex::new(r#"(?i-u)<meta\b[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.\-]+)"#)
            .expect("constant regex")
    })
}

/// Charset parameter of an HTTP `Content-Type` value (`text/html; charset=ISO-8859-1`).
fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    let lower = content_type.to_ascii_lowercase();
    let pos = lower.find("charset=")?;
    let rest = content_type[pos + 8..].trim_start_matches(['"', '\'', ' ']);
    let label: String = rest
        .chars()
        .take_while(|c| !matches!(c, '"' | '\'' | ';' | ' ' | ','))
        .collect();
    Encoding::for_label(label.as_bytes())
}

fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(META_SCAN_BYTES)];
    let caps = meta_charset_re().captures(head)?;
    let enc = Encoding::for_label(caps.get(1)?.as_bytes())?;
    // A meta tag can't truthfully declare UTF-16 (the tag itself would not be readable as ASCII).
    Some(
        if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
            UTF_8
        } else {
            enc
        },
    )
}

/// Names a well-known binary format from its first bytes.
fn binary_magic(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG", "png"),
        (b"GIF8", "gif"),
        (b"\xFF\xD8\xFF", "jpeg"),
        (b"%PDF", "pdf"),
        (b"PK\x03\x04", "zip"),
        (b"\x1F\x8B", "gzip"),
        (b"\x28\xB5\x2F\xFD", "zstd"),
        (b"BZh", "bzip2"),
        (b"\x7FELF", "elf"),
        (b"RIFF", "riff"),
        (b"OggS", "ogg"),
        (b"ID3", "mp3"),
        (b"\x00\x00\x00", "iso-media"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| bytes.starts_with(m))
        .map(|&(_, name)| name)
}

fn looks_binary(bytes: &[u8]) -> Option<String> {
    if let Some(kind) = binary_magic(bytes) {
        return Some(format!("{kind} magic bytes"));
    }
    let head = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
    if head.is_empty() {
        return None;
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    let share = controls as f64 / head.len() as f64;
    (share > MAX_CONTROL_SHARE).then(|| {
        format!(
            "{:.1}% control bytes in the first {} bytes",
            share * 100.0,
            head.len()
        )
    })
}

/// Decodes with replacement and returns the text if few enough characters were replaced.
fn decode_with(enc: &'static Encoding, bytes: &[u8]) -> Option<String> {
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    if !had_errors {
        return Some(text.into_owned());
    }
    let (mut replaced, mut total) = (0usize, 0usize);
    for c in text.chars() {
        total += 1;
        replaced += usize::from(c == '\u{FFFD}');
    }
    (replaced as f64 <= MAX_REPLACEMENT_SHARE * total.max(1) as f64).then(|| text.into_owned())
}

fn guess(bytes: &[u8], tld: Option<&[u8]>) -> &'static Encoding {
    let mut det = chardetng::EncodingDetector::new();
    det.feed(bytes, true);
    det.guess(tld, true)
}

/// Decodes a page. `http_content_type` is the raw header value if the crawler kept it; `tld` the
/// URL's top-level domain (helps the guesser choose among legacy encodings).
/// Returns the text and the encoding's name.
pub(crate) fn decode(
    bytes: &[u8],
    http_content_type: Option<&str>,
    tld: Option<&str>,
) -> Result<(String, &'static str), DecodeFailure> {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        return decode_with(enc, &bytes[bom_len..])
            .map(|t| (t, enc.name()))
            .ok_or_else(|| DecodeFailure::Undecodable(enc.name().to_string()));
    }
    if let Some(why) = looks_binary(bytes) {
        return Err(DecodeFailure::Binary(why));
    }
    let declared = http_content_type
        .and_then(header_charset)
        .or_else(|| meta_charset(bytes));
    if let Some(enc) = declared {
        if let Some(t) = decode_with(enc, bytes) {
            return Ok((t, enc.name()));
        }
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((s.to_string(), UTF_8.name()));
    }
    let tld = tld
        .map(str::as_bytes)
        .filter(|t| t.iter().all(u8::is_ascii_alphanumeric));
    let enc = guess(bytes, tld);
    decode_with(enc, bytes)
        .map(|t| (t, enc.name()))
        .ok_or_else(|| DecodeFailure::Undecodable(enc.name().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_without_declaration_decodes() {
        let (t, enc) = decode("<p>café</p>".as_bytes(), None, None).expect("utf-8");
        assert_eq!((t.as_str(), enc), ("<p>café</p>", "UTF-8"));
    }

    #[test]
    fn http_header_charset_wins_over_guessing() {
        let (t, enc) = decode(
            b"<p>caf\xE9</p>",
            Some("text/html; charset=ISO-8859-1"),
            None,
        )
        .expect("latin1");
        assert_eq!(t, "<p>café</p>");
        assert_eq!(enc, "windows-1252");
    }

    #[test]
    fn meta_charset_is_read() {
        let page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=koi8-r\"></head><p>\xF0\xD2\xC9\xD7\xC5\xD4</p>";
        let (t, enc) = decode(page, None, None).expect("koi8");
        assert_eq!(enc, "KOI8-R");
        assert!(t.contains("Привет"), "{t}");
    }

    #[test]
    fn undeclared_legacy_bytes_are_guessed() {
        let page = "<p>Ceci est un texte français très ordinaire, écrit à la main, déjà.</p>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(page);
        let (t, _) = decode(&bytes, None, Some("fr")).expect("guess");
        assert_eq!(t, page);
    }

    #[test]
    fn mislabelled_utf8_falls_back_to_guess() {
        let page =
            "<meta charset=utf-8><p>Ceci est très ordinaire, déjà écrit à la main, vérifié.</p>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(page);
        let (t, _) = decode(&bytes, None, None).expect("guess");
        assert_eq!(t, page);
    }

    #[test]
    fn binary_files_are_refused() {
        assert!(matches!(
            decode(b"\x89PNG\r\n\x1a\n\0\0\0", None, None),
            Err(DecodeFailure::Binary(_))
        ));
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(matches!(
            decode(&noise, None, None),
            Err(DecodeFailure::Binary(_))
        ));
    }

    #[test]
    fn utf16_with_bom_decodes() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "<p>hi</p>".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&bytes, None, None).expect("utf16").0, "<p>hi</p>");
    }
}
