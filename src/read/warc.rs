//! WARC (ISO 28500) files, as crawls such as CC-NEWS publish them: `response` records whose
//! HTTP payload is HTML become documents (`WARC-Target-URI` → `url`, `WARC-Record-ID` →
//! `doc_id`); every other record is counted and skipped. `.warc.gz` files are multi-member
//! gzip, which the decoder reads as one stream, so a member boundary anywhere is harmless.

use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::files::open_decoded;
use super::{ItemIter, ReadItem};
use crate::doc::{Doc, RawPage, Reject, RejectReason};

/// Payloads above this are not articles; they are skipped without being held in memory.
const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

pub(super) fn open(path: &Path, counter: Arc<AtomicU64>) -> std::io::Result<ItemIter> {
    let (reader, _) = open_decoded(path, counter)?;
    Ok(Box::new(WarcRecords {
        reader,
        file: path.display().to_string(),
        record: 0,
        done: false,
    }))
}

struct WarcRecords {
    reader: Box<dyn BufRead + Send>,
    file: String,
    record: u64,
    done: bool,
}

impl WarcRecords {
    fn reject(&self, reason: RejectReason, detail: String) -> ReadItem {
        ReadItem::Reject(Reject {
            input_file: self.file.clone(),
            input_record: self.record,
            doc_id: None,
            stage: "read",
            reason,
            detail,
        })
    }

    fn read_line(&mut self) -> std::io::Result<Option<String>> {
        let mut buf = Vec::new();
        let n = self.reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        Ok(Some(
            String::from_utf8_lossy(&buf)
                .trim_end_matches(['\r', '\n'])
                .to_string(),
        ))
    }

    /// Read one record: `Ok(None)` at a clean end of file.
    fn next_record(&mut self) -> std::io::Result<Option<ReadItem>> {
        // Version line, skipping the blank lines that separate records.
        let version = loop {
            match self.read_line()? {
                None => return Ok(None),
                Some(l) if l.trim().is_empty() => continue,
                Some(l) => break l,
            }
        };
        self.record += 1;
        if !version.starts_with("WARC/") {
            self.done = true;
            return Ok(Some(self.reject(
                RejectReason::MalformedRecord,
                format!(
                    "expected a WARC version line, found {:?}; rest of file skipped",
                    trunc(&version)
                ),
            )));
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        loop {
            match self.read_line()? {
                None => {
                    self.done = true;
                    return Ok(Some(self.reject(
                        RejectReason::TruncatedInput,
                        "file ends inside a WARC header".into(),
                    )));
                }
                Some(l) if l.is_empty() => break,
                Some(l) => {
                    if let Some((k, v)) = l.split_once(':') {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let Some(len) = header("content-length").and_then(|v| v.parse::<u64>().ok()) else {
            self.done = true;
            return Ok(Some(self.reject(
                RejectReason::MalformedRecord,
                "WARC record without a valid Content-Length; rest of file skipped".into(),
            )));
        };
        let wanted = header("warc-type") == Some("response")
            && header("content-type").is_some_and(|c| c.starts_with("application/http"))
            && len <= MAX_RECORD_BYTES;
        if !wanted {
            let reason = if len > MAX_RECORD_BYTES {
                "warc_oversized_record"
            } else {
                "warc_non_response"
            };
            let skipped = std::io::copy(&mut (&mut self.reader).take(len), &mut std::io::sink())?;
            if skipped < len {
                self.done = true;
                return Ok(Some(self.reject(
                    RejectReason::TruncatedInput,
                    format!("record body truncated: {skipped} of {len} bytes"),
                )));
            }
            return Ok(Some(ReadItem::Skipped(reason)));
        }
        let mut body = Vec::with_capacity(len as usize);
        (&mut self.reader).take(len).read_to_end(&mut body)?;
        if (body.len() as u64) < len {
            self.done = true;
            return Ok(Some(self.reject(
                RejectReason::TruncatedInput,
                format!("record body truncated: {} of {len} bytes", body.len()),
            )));
        }
        let url = header("warc-target-uri").map(str::to_string);
        let record_id = header("warc-record-id").map(|v| {
            v.trim_matches(['<', '>'])
                .trim_start_matches("urn:uuid:")
                .to_string()
        });
        let Some((http_headers, payload)) = split_http(&body) else {
            return Ok(Some(self.reject(
                RejectReason::MalformedRecord,
                "response record without an HTTP header block".into(),
            )));
        };
        let content_type = http_header(http_headers, "content-type");
        if !content_type.as_deref().is_some_and(|c| c.contains("html")) {
            return Ok(Some(ReadItem::Skipped("warc_non_html")));
        }
        let chunked = http_header(http_headers, "transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
        let bytes = if chunked {
            dechunk(payload)
        } else {
            payload.to_vec()
        };
        let doc_id =
            record_id.unwrap_or_else(|| format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes)));
        Ok(Some(ReadItem::Doc(Box::new(Doc {
            doc_id,
            url,
            raw_bytes: bytes.len() as u64,
            html: Some(RawPage {
                bytes,
                content_type,
            }),
            input_file: self.file.clone(),
            input_record: self.record,
            ..Doc::default()
        }))))
    }
}

impl Iterator for WarcRecords {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(item) => {
                if item.is_none() {
                    self.done = true;
                }
                item
            }
            Err(e) => {
                self.done = true;
                Some(self.reject(
                    RejectReason::TruncatedInput,
                    format!(
                        "stream ended with an error after {} records: {e}",
                        self.record.saturating_sub(1)
                    ),
                ))
            }
        }
    }
}

fn trunc(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Split an HTTP response into its header block and payload.
fn split_http(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let pos = body
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, p + 4))
        .or_else(|| {
            body.windows(2)
                .position(|w| w == b"\n\n")
                .map(|p| (p, p + 2))
        })?;
    Some((&body[..pos.0], &body[pos.1..]))
}

fn http_header(block: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(block)
        .lines()
        .skip(1)
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
}

/// Undo HTTP chunked transfer encoding; a malformed tail keeps what was decoded.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_field = String::from_utf8_lossy(&data[..eol]);
        let size_hex = size_field.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_hex, 16) else {
            break;
        };
        data = &data[eol + 2..];
        if size == 0 || size > data.len() {
            out.extend_from_slice(&data[..size.min(data.len())]);
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or(&[]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WARC record with the given type, target and HTTP payload.
    pub(crate) fn record(kind: &str, uri: &str, id: &str, http: &str) -> String {
        format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nWARC-Record-ID: <urn:uuid:{id}>\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: {}\r\n\r\n{http}\r\n\r\n",
            http.len()
        )
    }

    fn read(bytes: &[u8]) -> Vec<ReadItem> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.warc");
        std::fs::write(&p, bytes).unwrap();
        open(&p, Arc::default()).unwrap().collect()
    }

    #[test]
    fn html_responses_become_documents_and_others_are_skipped() {
        let page = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello</p></body></html>";
        let img = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n\u{1}PNG";
        let mut w = record("response", "https://news.example/a", "1111", page);
        w += &record(
            "request",
            "https://news.example/a",
            "2222",
            "GET /a HTTP/1.1\r\n\r\n",
        );
        w += &record("response", "https://news.example/i.png", "3333", img);
        let items = read(w.as_bytes());
        assert_eq!(items.len(), 3);
        match &items[0] {
            ReadItem::Doc(d) => {
                assert_eq!(d.url.as_deref(), Some("https://news.example/a"));
                assert_eq!(d.doc_id, "1111");
                let page = d.html.as_ref().unwrap();
                assert!(String::from_utf8_lossy(&page.bytes).contains("<p>Hello</p>"));
                assert_eq!(
                    page.content_type.as_deref(),
                    Some("text/html; charset=utf-8")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(items[1], ReadItem::Skipped("warc_non_response")));
        assert!(matches!(items[2], ReadItem::Skipped("warc_non_html")));
    }

    #[test]
    fn truncated_record_is_a_reject_after_the_good_ones() {
        let page = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>One</p>";
        let mut w = record("response", "u1", "a", page);
        let second = record("response", "u2", "b", page);
        w += &second[..second.len() - 20];
        let items = read(w.as_bytes());
        assert!(matches!(&items[0], ReadItem::Doc(_)));
        assert!(
            matches!(&items[1], ReadItem::Reject(r) if r.reason == RejectReason::TruncatedInput)
        );
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn chunked_payloads_are_decoded() {
        assert_eq!(
            dechunk(b"5\r\nHello\r\n6\r\n world\r\n0\r\n\r\n"),
            b"Hello world"
        );
    }

    #[test]
    fn garbage_is_one_reject() {
        let items = read(b"this is not a warc file\nat all\n");
        assert!(
            matches!(&items[..], [ReadItem::Reject(r)] if r.reason == RejectReason::MalformedRecord)
        );
    }
}
