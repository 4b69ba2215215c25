//! CSV (and TSV, by extension) with a header row. Rows may have fewer fields than the
//! header: absent fields are treated as missing rather than making the row malformed.

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

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
    let name = path.to_string_lossy().to_ascii_lowercase();
    let delimiter = if name.contains(".tsv") { b'\t' } else { b',' };
    let mut rdr = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let file = path.display().to_string();
    let header_err = |detail: String| -> ItemIter {
        Box::new(std::iter::once(ReadItem::Reject(Reject {
            input_file: file.clone(),
            input_record: 0,
            doc_id: None,
            stage: "read",
            reason: RejectReason::MissingText,
            detail,
        })))
    };
    let headers = match rdr.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => return Ok(header_err(format!("cannot read the CSV header: {e}"))),
    };
    let names: Vec<String> = headers
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    let col = |f: &str| names.iter().position(|n| n == f);
    if col(&fields.text).is_none() && col(&fields.html).is_none() {
        return Ok(header_err(format!(
            "text column `{}` is not in the header (columns: {})",
            fields.text,
            names.join(", ")
        )));
    }
    let columns = Columns {
        id: col(&fields.id),
        title: col(&fields.title),
        text: col(&fields.text),
        url: col(&fields.url),
        published: col(&fields.published),
        source: col(&fields.source),
        author: col(&fields.author),
        html: col(&fields.html),
    };
    Ok(Box::new(CsvRecords {
        rdr,
        file,
        fields,
        columns,
        row: 0,
        done: false,
        record: ::csv::ByteRecord::new(),
    }))
}

struct Columns {
    id: Option<usize>,
    title: Option<usize>,
    text: Option<usize>,
    url: Option<usize>,
    published: Option<usize>,
    source: Option<usize>,
    author: Option<usize>,
    html: Option<usize>,
}

struct CsvRecords {
    rdr: ::csv::Reader<Box<dyn std::io::BufRead + Send>>,
    file: String,
    fields: Arc<FieldsConfig>,
    columns: Columns,
    row: u64,
    done: bool,
    record: ::csv::ByteRecord,
}

impl Iterator for CsvRecords {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        if self.done {
            return None;
        }
        let res = self.rdr.read_byte_record(&mut self.record);
        self.row += 1;
        let reject = |reason, detail| {
            ReadItem::Reject(Reject {
                input_file: self.file.clone(),
                input_record: self.row,
                doc_id: None,
                stage: "read",
                reason,
                detail,
            })
        };
        match res {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let rec = &self.record;
                if rec.iter().any(|f| std::str::from_utf8(f).is_err()) {
                    return Some(reject(
                        RejectReason::UndecodableBytes,
                        "row is not valid UTF-8".into(),
                    ));
                }
                let c = &self.columns;
                let lookup = |f: &str| -> Option<usize> {
                    let fl = &self.fields;
                    if f == fl.id {
                        c.id
                    } else if f == fl.title {
                        c.title
                    } else if f == fl.text {
                        c.text
                    } else if f == fl.url {
                        c.url
                    } else if f == fl.published {
                        c.published
                    } else if f == fl.source {
                        c.source
                    } else if f == fl.author {
                        c.author
                    } else if f == fl.html {
                        c.html
                    } else {
                        None
                    }
                };
                let get = |f: &str| {
                    Ok(lookup(f)
                        .and_then(|i| rec.get(i))
                        .map(|b| String::from_utf8_lossy(b).into_owned()))
                };
                Some(match build_doc(&self.fields, &self.file, self.row, get) {
                    Ok(d) => ReadItem::Doc(Box::new(d)),
                    Err(r) => ReadItem::Reject(r),
                })
            }
            Err(e) => {
                if matches!(e.kind(), ::csv::ErrorKind::Io(_)) {
                    self.done = true;
                    Some(reject(
                        RejectReason::TruncatedInput,
                        format!(
                            "stream ended with an error after {} rows: {e}",
                            self.row - 1
                        ),
                    ))
                } else {
                    Some(reject(RejectReason::MalformedRecord, e.to_string()))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, content: &str) -> Vec<ReadItem> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        open(&p, Arc::default(), Arc::default()).unwrap().collect()
    }

    #[test]
    fn maps_columns_and_tolerates_short_rows() {
        let items = read(
            "x.csv",
            "id,title,text\n1,Hello,\"Body, with comma\"\n2,Short\n",
        );
        assert_eq!(items.len(), 2);
        match &items[0] {
            ReadItem::Doc(d) => {
                assert_eq!(d.text, "Body, with comma");
                assert_eq!(d.input_record, 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&items[1], ReadItem::Reject(r) if r.reason == RejectReason::MissingText));
    }

    #[test]
    fn header_without_text_column_names_it() {
        let items = read("x.csv", "id,body\n1,hello\n");
        match &items[..] {
            [ReadItem::Reject(r)] => {
                assert!(
                    r.detail.contains("`text`") && r.detail.contains("body"),
                    "{}",
                    r.detail
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tsv_uses_tabs() {
        let items = read("x.tsv", "id\ttext\na\thello, world\n");
        assert!(matches!(&items[..], [ReadItem::Doc(d)] if d.text == "hello, world"));
    }
}
