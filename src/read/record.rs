//! Mapping a raw record's fields onto a [`Doc`], shared by every format.

use xxhash_rust::xxh3::xxh3_64;

use super::FieldsConfig;
use crate::doc::{Doc, Reject, RejectReason};

/// Stable id for a record without one: xxh3-64 of title, text and url (unit-separated), in
/// hex. Identical records get identical ids, which dedup then reports as exact copies.
pub fn derive_doc_id(title: Option<&str>, text: &str, url: Option<&str>) -> String {
    let mut buf = String::with_capacity(text.len() + 64);
    buf.push_str(title.unwrap_or(""));
    buf.push('\u{1f}');
    buf.push_str(text);
    buf.push('\u{1f}');
    buf.push_str(url.unwrap_or(""));
    format!("{:016x}", xxh3_64(buf.as_bytes()))
}

/// Build a document from a field getter, or explain why the record cannot be one.
/// `get` returns `Ok(None)` for absent/null fields and `Err(())` for a value of the wrong kind.
pub(crate) fn build_doc<'a, F>(
    fields: &FieldsConfig,
    input_file: &str,
    input_record: u64,
    get: F,
) -> Result<Doc, Reject>
where
    F: Fn(&str) -> Result<Option<String>, ()> + 'a,
{
    let reject = |reason, detail: String, doc_id: Option<String>| Reject {
        input_file: input_file.to_string(),
        input_record,
        doc_id,
        stage: "read",
        reason,
        detail,
    };
    let opt = |name: &str| get(name).ok().flatten().filter(|s| !s.is_empty());
    let id = opt(&fields.id);
    // Read once: the body is most of a record's bytes.
    let text = get(&fields.text);
    let page = match &text {
        Ok(Some(t)) if !t.is_empty() => None,
        _ => opt(&fields.html),
    };
    if let Some(html) = page {
        let url = opt(&fields.url);
        let doc_id = id.unwrap_or_else(|| derive_doc_id(None, &html, url.as_deref()));
        return Ok(Doc {
            raw_bytes: html.len() as u64,
            doc_id,
            source: opt(&fields.source),
            url,
            title: opt(&fields.title),
            published: opt(&fields.published),
            author: opt(&fields.author),
            html: Some(crate::doc::RawPage {
                bytes: html.into_bytes(),
                content_type: None,
            }),
            input_file: input_file.to_string(),
            input_record,
            ..Doc::default()
        });
    }
    let text = match text {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Err(reject(
                RejectReason::MissingText,
                format!("field `{}` is absent or null", fields.text),
                id,
            ))
        }
        Err(()) => {
            return Err(reject(
                RejectReason::MissingText,
                format!("field `{}` is not a string", fields.text),
                id,
            ))
        }
    };
    let title = opt(&fields.title);
    let url = opt(&fields.url);
    let doc_id = id.unwrap_or_else(|| derive_doc_id(title.as_deref(), &text, url.as_deref()));
    Ok(Doc {
        raw_bytes: text.len() as u64,
        doc_id,
        source: opt(&fields.source),
        url,
        title,
        published: opt(&fields.published),
        author: opt(&fields.author),
        text,
        lang: None,
        input_file: input_file.to_string(),
        input_record,
        html: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_content_based() {
        let a = derive_doc_id(Some("T"), "body", None);
        assert_eq!(a, derive_doc_id(Some("T"), "body", None));
        assert_ne!(a, derive_doc_id(Some("T"), "body!", None));
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn missing_text_is_a_reject_with_the_field_name() {
        let f = FieldsConfig::default();
        let r = build_doc(&f, "x.jsonl", 7, |k| {
            Ok((k == "id").then(|| "d1".to_string()))
        })
        .unwrap_err();
        assert_eq!(r.reason, RejectReason::MissingText);
        assert_eq!(r.input_record, 7);
        assert_eq!(r.doc_id.as_deref(), Some("d1"));
        assert!(r.detail.contains("`text`"));
    }
}
