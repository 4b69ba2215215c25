//! Plain-text articles, one per file: the first non-empty line is the title, the rest is
//! the body.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::files::open_decoded;
use super::record::derive_doc_id;
use super::{ItemIter, ReadItem};
use crate::doc::{Doc, Reject, RejectReason};

/// Files bigger than this are not articles; they are rejected without being held in memory.
const MAX_TEXT_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A whole (decompressed) file, or the reject row explaining why it cannot be read.
fn read_whole(
    path: &Path,
    counter: Arc<AtomicU64>,
) -> std::io::Result<Result<(String, Vec<u8>), ReadItem>> {
    let (reader, _) = open_decoded(path, counter)?;
    let file = path.display().to_string();
    let mut bytes = Vec::new();
    Ok(
        match reader.take(MAX_TEXT_FILE_BYTES + 1).read_to_end(&mut bytes) {
            Err(e) => Err(reject(file, RejectReason::TruncatedInput, e.to_string())),
            Ok(_) if bytes.len() as u64 > MAX_TEXT_FILE_BYTES => Err(reject(
                file,
                RejectReason::TooLong,
                format!("file is larger than {MAX_TEXT_FILE_BYTES} bytes"),
            )),
            Ok(_) => Ok((file, bytes)),
        },
    )
}

pub(super) fn open(path: &Path, counter: Arc<AtomicU64>) -> std::io::Result<ItemIter> {
    let item = match read_whole(path, counter)? {
        Err(r) => r,
        Ok((file, bytes)) => match String::from_utf8(bytes) {
            Err(_) => reject(
                file,
                RejectReason::UndecodableBytes,
                "file is not valid UTF-8".into(),
            ),
            Ok(s) => ReadItem::Doc(Box::new(to_doc(&s, file))),
        },
    };
    Ok(Box::new(std::iter::once(item)))
}

/// One web page per file; extraction happens in the clean stage.
pub(super) fn open_html(path: &Path, counter: Arc<AtomicU64>) -> std::io::Result<ItemIter> {
    let item = match read_whole(path, counter)? {
        Err(r) => r,
        Ok((file, bytes)) => ReadItem::Doc(Box::new(Doc {
            doc_id: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes)),
            raw_bytes: bytes.len() as u64,
            html: Some(crate::doc::RawPage {
                bytes,
                content_type: None,
            }),
            input_file: file,
            input_record: 1,
            ..Doc::default()
        })),
    };
    Ok(Box::new(std::iter::once(item)))
}

fn reject(input_file: String, reason: RejectReason, detail: String) -> ReadItem {
    ReadItem::Reject(Reject {
        input_file,
        input_record: 1,
        doc_id: None,
        stage: "read",
        reason,
        detail,
    })
}

fn to_doc(s: &str, input_file: String) -> Doc {
    let s = s.trim_start_matches('\u{feff}');
    let trimmed = s.trim_start();
    let (title, body) = match trimmed.split_once('\n') {
        Some((first, rest)) => (first.trim(), rest),
        None => (trimmed.trim(), ""),
    };
    let title = (!title.is_empty()).then(|| title.to_string());
    let text = body.to_string();
    Doc {
        doc_id: derive_doc_id(title.as_deref(), &text, None),
        raw_bytes: s.len() as u64,
        title,
        text,
        input_file,
        input_record: 1,
        ..Doc::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_is_title() {
        let d = to_doc(
            "\n  Big News Today \n\nBody line one.\nMore.\n",
            "f.txt".into(),
        );
        assert_eq!(d.title.as_deref(), Some("Big News Today"));
        assert_eq!(d.text, "\nBody line one.\nMore.\n");
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        std::fs::write(&p, b"Title\n\xff\xfe body").unwrap();
        let items: Vec<_> = open(&p, Arc::default()).unwrap().collect();
        assert!(
            matches!(&items[..], [ReadItem::Reject(r)] if r.reason == RejectReason::UndecodableBytes)
        );
    }
}
