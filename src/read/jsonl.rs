//! JSON Lines: one object per line. Blank lines are skipped; everything else is a record.

use std::io::BufRead;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use serde_json::Value;

use super::files::open_decoded;
use super::record::build_doc;
use super::{FieldsConfig, ItemIter, ReadItem};
use crate::doc::{Reject, RejectReason};

pub(super) fn open(
    path: &Path,
    fields: Arc<FieldsConfig>,
    counter: Arc<AtomicU64>,
) -> std::io::Result<ItemIter> {
    let (reader, _) = open_decoded(path, counter)?;
    Ok(Box::new(JsonlRecords {
        reader,
        file: path.display().to_string(),
        fields,
        line: 0,
        buf: Vec::with_capacity(16 * 1024),
        done: false,
    }))
}

struct JsonlRecords {
    reader: Box<dyn BufRead + Send>,
    file: String,
    fields: Arc<FieldsConfig>,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl JsonlRecords {
    fn reject(&self, reason: RejectReason, detail: String) -> ReadItem {
        ReadItem::Reject(Reject {
            input_file: self.file.clone(),
            input_record: self.line,
            doc_id: None,
            stage: "read",
            reason,
            detail,
        })
    }
}

impl Iterator for JsonlRecords {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        while !self.done {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => self.done = true,
                Ok(_) => {
                    self.line += 1;
                    let bytes = self.buf.trim_ascii();
                    if bytes.is_empty() {
                        continue;
                    }
                    return Some(self.parse(bytes));
                }
                Err(e) => {
                    // The partial line in `buf` belongs to the broken record: drop it, say so.
                    self.done = true;
                    self.line += 1;
                    return Some(self.reject(
                        RejectReason::TruncatedInput,
                        format!(
                            "stream ended with an error after {} lines: {e}",
                            self.line - 1
                        ),
                    ));
                }
            }
        }
        None
    }
}

impl JsonlRecords {
    fn parse(&self, bytes: &[u8]) -> ReadItem {
        if std::str::from_utf8(bytes).is_err() {
            return self.reject(
                RejectReason::UndecodableBytes,
                "line is not valid UTF-8".into(),
            );
        }
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => return self.reject(RejectReason::MalformedRecord, format!("bad JSON: {e}")),
        };
        let Value::Object(obj) = value else {
            return self.reject(
                RejectReason::NotAnObject,
                format!("expected a JSON object, got {}", kind(&value)),
            );
        };
        let get = |k: &str| match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(()),
        };
        match build_doc(&self.fields, &self.file, self.line, get) {
            Ok(doc) => ReadItem::Doc(Box::new(doc)),
            Err(r) => ReadItem::Reject(r),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(content: &[u8]) -> Vec<ReadItem> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(&p, content).unwrap();
        open(&p, Arc::default(), Arc::default()).unwrap().collect()
    }

    fn reason(item: &ReadItem) -> Option<RejectReason> {
        match item {
            ReadItem::Reject(r) => Some(r.reason),
            ReadItem::Doc(_) | ReadItem::Skipped(_) => None,
        }
    }

    #[test]
    fn good_bad_and_blank_lines() {
        let items = read(
            b"{\"id\":1,\"text\":\"a\",\"title\":\"T\"}\n\n{\"id\":\"x\", \"text\n[1,2]\n{\"id\":\"n\"}\n\"s\"\n{\"text\":\"\xff\"}\n",
        );
        assert_eq!(items.len(), 6);
        match &items[0] {
            ReadItem::Doc(d) => {
                assert_eq!(d.doc_id, "1");
                assert_eq!(d.title.as_deref(), Some("T"));
                assert_eq!(d.input_record, 1);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(reason(&items[1]), Some(RejectReason::MalformedRecord));
        assert_eq!(reason(&items[2]), Some(RejectReason::NotAnObject));
        assert_eq!(reason(&items[3]), Some(RejectReason::MissingText));
        assert_eq!(reason(&items[4]), Some(RejectReason::NotAnObject));
        assert_eq!(reason(&items[5]), Some(RejectReason::UndecodableBytes));
        if let ReadItem::Reject(r) = &items[1] {
            assert_eq!(r.input_record, 3, "blank line still counts as a line");
        }
    }

    #[test]
    fn truncated_gzip_keeps_earlier_records_and_reports_the_break() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for i in 0..200 {
            std::io::Write::write_all(
                &mut enc,
                format!("{{\"id\":\"{i}\",\"text\":\"some text number {i}\"}}\n").as_bytes(),
            )
            .unwrap();
        }
        let full = enc.finish().unwrap();
        let items = read(&full[..full.len() / 2]);
        let docs = items.iter().filter(|i| reason(i).is_none()).count();
        assert!(docs > 0 && docs < 200, "{docs}");
        assert_eq!(
            reason(items.last().unwrap()),
            Some(RejectReason::TruncatedInput)
        );
    }
}
