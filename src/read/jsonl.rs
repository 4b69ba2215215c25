//! JSON Lines: one object per line. Blank lines are skipped; everything else is a record.

use std::io::BufRead;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

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
        let Ok(line) = std::str::from_utf8(bytes) else {
            return self.reject(
                RejectReason::UndecodableBytes,
                "line is not valid UTF-8".into(),
            );
        };
        let f = &*self.fields;
        let names = [
            &f.id,
            &f.title,
            &f.text,
            &f.url,
            &f.published,
            &f.source,
            &f.author,
            &f.html,
        ]
        .map(String::as_str);
        let mut de = serde_json::Deserializer::from_str(line);
        let seed = PickFields { names: &names };
        let parsed = seed.deserialize(&mut de).and_then(|p| de.end().map(|()| p));
        let picked = match parsed {
            Ok(p) => p,
            Err(e) => return self.reject(RejectReason::MalformedRecord, format!("bad JSON: {e}")),
        };
        let vals = match picked {
            Picked::Object(vals) => vals,
            Picked::Not(kind) => {
                return self.reject(
                    RejectReason::NotAnObject,
                    format!("expected a JSON object, got {kind}"),
                )
            }
        };
        let get = |k: &str| match names.iter().position(|n| *n == k) {
            Some(i) => vals[i].clone().transpose(),
            None => Ok(None),
        };
        match build_doc(&self.fields, &self.file, self.line, get) {
            Ok(doc) => ReadItem::Doc(Box::new(doc)),
            Err(r) => ReadItem::Reject(r),
        }
    }
}

/// A record's configured fields, picked while the line is parsed: everything else in the
/// object (topic lists, nested metadata) is skipped without being built, which a full
/// `serde_json::Value` would allocate only to drop.
enum Picked {
    /// Per configured name (the order of `PickFields::names`): absent or null (`None`), the
    /// value as text (strings as they are, numbers and booleans as JSON writes them), or
    /// `Err` for an array or object.
    Object([Option<Result<String, ()>>; N_FIELDS]),
    /// The line is valid JSON but no object; what it is instead.
    Not(&'static str),
}

/// The number of configurable field names (`[input.fields]`).
const N_FIELDS: usize = 8;

/// Parses one JSON value into [`Picked`] (serde's seed: the names are runtime data).
struct PickFields<'n> {
    names: &'n [&'n str; N_FIELDS],
}

impl<'de> DeserializeSeed<'de> for PickFields<'_> {
    type Value = Picked;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Picked, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PickFields<'_> {
    type Value = Picked;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Picked, A::Error> {
        let mut vals: [Option<Result<String, ()>>; N_FIELDS] = Default::default();
        while let Some(slots) = map.next_key_seed(KeySlots { names: self.names })? {
            if slots == 0 {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            // A repeated key: the last value wins, as in `serde_json::Map`.
            let v = map.next_value::<FieldText>()?.0;
            for (i, slot) in vals.iter_mut().enumerate() {
                if slots & (1 << i) != 0 {
                    *slot = v.clone();
                }
            }
        }
        Ok(Picked::Object(vals))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Picked, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Picked::Not("an array"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Picked, E> {
        Ok(Picked::Not("a string"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Picked, E> {
        Ok(Picked::Not("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Picked, E> {
        Ok(Picked::Not("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Picked, E> {
        Ok(Picked::Not("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Picked, E> {
        Ok(Picked::Not("a number"))
    }
    fn visit_unit<E>(self) -> Result<Picked, E> {
        Ok(Picked::Not("null"))
    }
}

/// A key, as the bit set of the configured names it equals (usually one bit or none).
struct KeySlots<'n> {
    names: &'n [&'n str; N_FIELDS],
}

impl<'de> DeserializeSeed<'de> for KeySlots<'_> {
    type Value = u32;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u32, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySlots<'_> {
    type Value = u32;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, k: &str) -> Result<u32, E> {
        Ok(self
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| **n == k)
            .fold(0, |m, (i, _)| m | 1 << i))
    }
}

/// A field's value as [`Picked::Object`] holds it.
struct FieldText(Option<Result<String, ()>>);

impl<'de> Deserialize<'de> for FieldText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FieldText, D::Error> {
        d.deserialize_any(FieldTextVisitor)
    }
}

struct FieldTextVisitor;

impl<'de> Visitor<'de> for FieldTextVisitor {
    type Value = FieldText;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<FieldText, E> {
        Ok(FieldText(Some(Ok(v.to_string()))))
    }
    fn visit_string<E>(self, v: String) -> Result<FieldText, E> {
        Ok(FieldText(Some(Ok(v))))
    }
    fn visit_bool<E>(self, v: bool) -> Result<FieldText, E> {
        Ok(FieldText(Some(Ok(v.to_string()))))
    }
    fn visit_i64<E>(self, v: i64) -> Result<FieldText, E> {
        Ok(FieldText(Some(Ok(v.to_string()))))
    }
    fn visit_u64<E>(self, v: u64) -> Result<FieldText, E> {
        Ok(FieldText(Some(Ok(v.to_string()))))
    }
    fn visit_f64<E>(self, v: f64) -> Result<FieldText, E> {
        // As `serde_json::Value` prints it (JSON has no NaN or infinity).
        Ok(FieldText(Some(Ok(
            serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string())
        ))))
    }
    fn visit_unit<E>(self) -> Result<FieldText, E> {
        Ok(FieldText(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldText, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(FieldText(Some(Err(()))))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldText, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(FieldText(Some(Err(()))))
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

    /// The reader as it was before fields were picked while parsing: a whole
    /// `serde_json::Value`, then the fields looked up in it.
    fn read_via_value(line: &str, fields: &FieldsConfig) -> String {
        use serde_json::Value;
        let item = match serde_json::from_str::<Value>(line) {
            Err(e) => format!("malformed: bad JSON: {e}"),
            Ok(Value::Object(obj)) => {
                let get = |k: &str| match obj.get(k) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(Value::Number(n)) => Ok(Some(n.to_string())),
                    Some(Value::Bool(b)) => Ok(Some(b.to_string())),
                    Some(_) => Err(()),
                };
                match build_doc(fields, "f", 1, get) {
                    Ok(d) => format!("{d:?}"),
                    Err(r) => format!("reject {:?} {}", r.reason, r.detail),
                }
            }
            Ok(v) => format!("not an object: {}", v.is_array()),
        };
        item
    }

    #[test]
    fn picked_fields_read_exactly_as_a_whole_json_value_would() {
        let lines = [
            r#"{"id":1,"text":"a b","title":"T"}"#,
            r#"{"id":-7,"text":"x","published":1.5e3,"source":true,"author":null}"#,
            r#"{"id":18446744073709551615,"text":"big","url":123456789012345678901234567890}"#,
            r#"{"id":0.1,"text":"été "quoted" \ 
 line","title":"café"}"#,
            r#"{"text":"first","text":"second","id":"dup"}"#,
            r#"{"text":["a","b"],"id":"arr"}"#,
            r#"{"text":{"nested":{"deep":[1,{"x":null}]}},"id":"obj"}"#,
            r#"{"topics":["a",{"b":[1,2,3]}],"places":[],"text":"skipped extras","id":"e"}"#,
            r#"{"html":"<p>page</p>","url":"http://x/a","text":""}"#,
            r#"{"id":"only"}"#,
            r#"{}"#,
            r#"{"text":"tail"} x"#,
            r#"{"text":"unterminated"#,
            r#"{"text":"escaped key","id":"k"}"#,
        ];
        let fields = FieldsConfig::default();
        let file = JsonlRecords {
            reader: Box::new(std::io::empty()),
            file: "f".into(),
            fields: Arc::new(fields.clone()),
            line: 1,
            buf: Vec::new(),
            done: true,
        };
        for line in lines {
            let want = read_via_value(line, &fields);
            let got = match file.parse(line.as_bytes()) {
                ReadItem::Doc(d) => format!("{d:?}"),
                ReadItem::Reject(r) if r.reason == RejectReason::MalformedRecord => {
                    format!("malformed: {}", r.detail)
                }
                ReadItem::Reject(r) if r.reason == RejectReason::NotAnObject => {
                    format!("not an object: {}", r.detail.contains("array"))
                }
                ReadItem::Reject(r) => format!("reject {:?} {}", r.reason, r.detail),
                ReadItem::Skipped(s) => format!("skipped {s}"),
            };
            assert_eq!(got, want, "{line}");
        }
        // Field names are configurable, and two of them may name one key.
        let odd = FieldsConfig {
            id: "body".into(),
            text: "body".into(),
            title: "headline".into(),
            ..FieldsConfig::default()
        };
        let line = r#"{"body":"same key for two fields","headline":"H","title":"ignored"}"#;
        let file = JsonlRecords {
            fields: Arc::new(odd.clone()),
            ..file
        };
        match file.parse(line.as_bytes()) {
            ReadItem::Doc(d) => assert_eq!(format!("{d:?}"), read_via_value(line, &odd)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_objects_say_what_they_are() {
        for (line, kind) in [
            ("[1,[2]]", "an array"),
            ("\"s\"", "a string"),
            ("3", "a number"),
            ("-3.5", "a number"),
            ("true", "a boolean"),
            ("null", "null"),
        ] {
            let items = read(format!("{line}\n").as_bytes());
            match &items[0] {
                ReadItem::Reject(r) => {
                    assert_eq!(r.reason, RejectReason::NotAnObject);
                    assert_eq!(r.detail, format!("expected a JSON object, got {kind}"));
                }
                other => panic!("{line}: {other:?}"),
            }
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
