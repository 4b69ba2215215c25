//! Struct-of-columns builders, one per table: rows are pushed as typed values and turned
//! into a polars `DataFrame` once per batch (never row-by-row appends to a frame).

use polars::prelude::*;

use super::schema::col;
use crate::doc::{Doc, Geo, Mention, Reject};

/// A string column built in place: each value is copied once, straight into the column's
/// buffer, with no `String` per row (the mention and document columns made hundreds of
/// thousands of short-lived strings per batch).
struct StrCol(StringChunkedBuilder);

impl Default for StrCol {
    fn default() -> Self {
        StrCol(StringChunkedBuilder::new(PlSmallStr::EMPTY, 0))
    }
}

impl std::fmt::Debug for StrCol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StrCol")
    }
}

impl StrCol {
    fn push(&mut self, v: &str) {
        self.0.append_value(v);
    }

    fn push_opt(&mut self, v: Option<&str>) {
        self.0.append_option(v);
    }

    /// An entity id as [`crate::doc::entity_id_hex`] spells it, formatted on the stack.
    fn push_hex(&mut self, id: u64) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 16];
        for (i, b) in buf.iter_mut().enumerate() {
            *b = DIGITS[((id >> (60 - 4 * i)) & 0xf) as usize];
        }
        self.push(std::str::from_utf8(&buf).expect("hex digits are ASCII"));
    }

    fn into_column(self, name: &str) -> Column {
        self.0.finish().with_name(name.into()).into_column()
    }
}

/// Per-document values computed outside [`Doc`] (dedup labels, hashes, counts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocLabels {
    /// xxh3-64 of the normalised text, hex.
    pub content_hash: String,
    /// Number of tokens in the clean text.
    pub n_tokens: u64,
    /// Dedup cluster, when dedup ran.
    pub cluster_id: Option<String>,
    /// Members in the cluster (1 for a unique document).
    pub cluster_size: u32,
}

/// Rows of the `documents` table.
#[derive(Debug, Default)]
pub struct DocumentRows {
    doc_id: StrCol,
    source: StrCol,
    url: StrCol,
    title: StrCol,
    published: StrCol,
    author: StrCol,
    lang: StrCol,
    text: StrCol,
    n_chars: Vec<i64>,
    n_tokens: Vec<i64>,
    content_hash: StrCol,
    cluster_id: StrCol,
    cluster_size: Vec<i32>,
    input_file: StrCol,
    input_record: Vec<i64>,
}

impl DocumentRows {
    /// Append one kept document.
    pub fn push(&mut self, d: &Doc, l: &DocLabels) {
        self.doc_id.push(&d.doc_id);
        self.source.push_opt(d.source.as_deref());
        self.url.push_opt(d.url.as_deref());
        self.title.push_opt(d.title.as_deref());
        self.published.push_opt(d.published.as_deref());
        self.author.push_opt(d.author.as_deref());
        self.lang.push_opt(d.lang.as_deref());
        self.text.push(&d.text);
        self.n_chars.push(d.text.chars().count() as i64);
        self.n_tokens.push(l.n_tokens as i64);
        self.content_hash.push(&l.content_hash);
        self.cluster_id.push_opt(l.cluster_id.as_deref());
        self.cluster_size.push(l.cluster_size as i32);
        self.input_file.push(&d.input_file);
        self.input_record.push(d.input_record as i64);
    }

    /// Rows pushed so far.
    pub fn len(&self) -> usize {
        self.n_chars.len()
    }

    /// Whether no rows were pushed.
    pub fn is_empty(&self) -> bool {
        self.n_chars.is_empty()
    }

    /// The rows as a frame; an empty builder still yields the full schema.
    pub fn into_frame(self) -> PolarsResult<DataFrame> {
        let n = self.len();
        DataFrame::new(
            n,
            vec![
                self.doc_id.into_column(col::DOC_ID),
                self.source.into_column(col::SOURCE),
                self.url.into_column(col::URL),
                self.title.into_column(col::TITLE),
                self.published.into_column(col::PUBLISHED),
                self.author.into_column(col::AUTHOR),
                self.lang.into_column(col::LANG),
                self.text.into_column(col::TEXT),
                Column::new(col::N_CHARS.into(), self.n_chars),
                Column::new(col::N_TOKENS.into(), self.n_tokens),
                self.content_hash.into_column(col::CONTENT_HASH),
                self.cluster_id.into_column(col::CLUSTER_ID),
                Column::new(col::CLUSTER_SIZE.into(), self.cluster_size),
                self.input_file.into_column(col::INPUT_FILE),
                Column::new(col::INPUT_RECORD.into(), self.input_record),
            ],
        )
    }
}

/// Rows of the `rejects` table.
#[derive(Debug, Default)]
pub struct RejectRows {
    input_file: Vec<String>,
    input_record: Vec<i64>,
    doc_id: Vec<Option<String>>,
    stage: Vec<&'static str>,
    reason: Vec<&'static str>,
    detail: Vec<String>,
}

impl RejectRows {
    /// Append one reject.
    pub fn push(&mut self, r: &Reject) {
        self.input_file.push(r.input_file.clone());
        self.input_record.push(r.input_record as i64);
        self.doc_id.push(r.doc_id.clone());
        self.stage.push(r.stage);
        self.reason.push(r.reason.as_str());
        self.detail.push(r.detail.clone());
    }

    /// Rows pushed so far.
    pub fn len(&self) -> usize {
        self.input_file.len()
    }

    /// Whether no rows were pushed.
    pub fn is_empty(&self) -> bool {
        self.input_file.is_empty()
    }

    /// The rows as a frame.
    pub fn into_frame(self) -> PolarsResult<DataFrame> {
        let n = self.len();
        DataFrame::new(
            n,
            vec![
                Column::new(col::INPUT_FILE.into(), self.input_file),
                Column::new(col::INPUT_RECORD.into(), self.input_record),
                Column::new(col::DOC_ID.into(), self.doc_id),
                Column::new(col::STAGE.into(), self.stage),
                Column::new(col::REASON.into(), self.reason),
                Column::new(col::DETAIL.into(), self.detail),
            ],
        )
    }
}

/// Rows of a table whose rows are built as whole structs before conversion.
#[derive(Debug)]
pub struct Rows<T> {
    pub(super) rows: Vec<T>,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows { rows: Vec::new() }
    }
}

impl<T> Rows<T> {
    /// Append one row.
    pub fn push(&mut self, r: T) {
        self.rows.push(r);
    }

    /// Rows pushed so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no rows were pushed.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// One row of the `duplicates` table.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateRow {
    /// The duplicate document.
    pub doc_id: String,
    /// Its cluster.
    pub cluster_id: String,
    /// The cluster's kept representative (null when it was kept by an earlier run).
    pub kept_doc_id: Option<String>,
    /// `exact` or `near`.
    pub kind: &'static str,
    /// Estimated similarity to the kept document in [0, 1].
    pub similarity: f32,
    /// Where the duplicate came from.
    pub input_file: String,
    /// Its line/row.
    pub input_record: u64,
}

/// Rows of the `duplicates` table.
pub type DuplicateRows = Rows<DuplicateRow>;

impl DuplicateRows {
    /// The rows as a frame.
    pub fn into_frame(self) -> PolarsResult<DataFrame> {
        let n = self.rows.len();
        let r = &self.rows;
        DataFrame::new(
            n,
            vec![
                Column::new(
                    col::DOC_ID.into(),
                    r.iter().map(|x| x.doc_id.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::CLUSTER_ID.into(),
                    r.iter().map(|x| x.cluster_id.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::KEPT_DOC_ID.into(),
                    r.iter().map(|x| x.kept_doc_id.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::KIND.into(),
                    r.iter().map(|x| x.kind).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::SIMILARITY.into(),
                    r.iter().map(|x| x.similarity).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::INPUT_FILE.into(),
                    r.iter().map(|x| x.input_file.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::INPUT_RECORD.into(),
                    r.iter().map(|x| x.input_record as i64).collect::<Vec<_>>(),
                ),
            ],
        )
    }
}

/// Rows of the `mentions` table.
#[derive(Debug, Default)]
pub struct MentionRows {
    doc_id: StrCol,
    mention_id: Vec<i32>,
    entity_id: StrCol,
    text: StrCol,
    etype: Vec<&'static str>,
    start: Vec<i64>,
    end: Vec<i64>,
    sentence: Vec<i32>,
    confidence: Vec<f32>,
    value: StrCol,
}

impl MentionRows {
    /// Append a document's mentions; `mention_id` is the mention's index in the document.
    pub fn push_doc(&mut self, doc_id: &str, mentions: &[Mention]) {
        for (i, m) in mentions.iter().enumerate() {
            self.doc_id.push(doc_id);
            self.mention_id.push(i as i32);
            self.entity_id.push_hex(m.entity.id);
            self.text.push(&m.text);
            self.etype.push(m.etype.as_str());
            self.start.push(m.start as i64);
            self.end.push(m.end as i64);
            self.sentence.push(m.sentence as i32);
            self.confidence.push(m.confidence);
            self.value.push_opt(m.entity.value.as_deref());
        }
    }

    /// Rows pushed so far.
    pub fn len(&self) -> usize {
        self.mention_id.len()
    }

    /// Whether no rows were pushed.
    pub fn is_empty(&self) -> bool {
        self.mention_id.is_empty()
    }

    /// The rows as a frame.
    pub fn into_frame(self) -> PolarsResult<DataFrame> {
        let n = self.len();
        DataFrame::new(
            n,
            vec![
                self.doc_id.into_column(col::DOC_ID),
                Column::new(col::MENTION_ID.into(), self.mention_id),
                self.entity_id.into_column(col::ENTITY_ID),
                self.text.into_column(col::TEXT),
                Column::new(col::TYPE.into(), self.etype),
                Column::new(col::START.into(), self.start),
                Column::new(col::END.into(), self.end),
                Column::new(col::SENTENCE.into(), self.sentence),
                Column::new(col::CONFIDENCE.into(), self.confidence),
                self.value.into_column(col::VALUE),
            ],
        )
    }
}

/// One canonical entity aggregated over the run.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRow {
    /// Stable id, hex.
    pub entity_id: String,
    /// Canonical name.
    pub name: String,
    /// Entity type.
    pub etype: &'static str,
    /// Other surface forms seen, sorted.
    pub aliases: Vec<String>,
    /// Mentions in kept documents.
    pub n_mentions: u64,
    /// Kept documents mentioning it.
    pub n_docs: u64,
    /// Earliest `published` of those documents.
    pub first_seen: Option<String>,
    /// Latest `published` of those documents.
    pub last_seen: Option<String>,
    /// Place data, for GPE/LOC found in the gazetteer.
    pub geo: Option<Geo>,
}

/// Rows of the `entities` table.
pub type EntityRows = Rows<EntityRow>;

impl EntityRows {
    /// The rows as a frame; `aliases` is a list column.
    pub fn into_frame(self) -> PolarsResult<DataFrame> {
        let r = &self.rows;
        let n = r.len();
        let aliases: Vec<Series> = r
            .iter()
            .map(|x| Series::new(PlSmallStr::EMPTY, x.aliases.clone()))
            .collect();
        let mut alias_col = Series::new(col::ALIASES.into(), aliases);
        if n == 0 {
            alias_col = Series::new_empty(
                col::ALIASES.into(),
                &DataType::List(Box::new(DataType::String)),
            );
        }
        DataFrame::new(
            n,
            vec![
                Column::new(
                    col::ENTITY_ID.into(),
                    r.iter().map(|x| x.entity_id.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::NAME.into(),
                    r.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::TYPE.into(),
                    r.iter().map(|x| x.etype).collect::<Vec<_>>(),
                ),
                alias_col.into(),
                Column::new(
                    col::N_MENTIONS.into(),
                    r.iter().map(|x| x.n_mentions as i64).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::N_DOCS.into(),
                    r.iter().map(|x| x.n_docs as i64).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::FIRST_SEEN.into(),
                    r.iter().map(|x| x.first_seen.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::LAST_SEEN.into(),
                    r.iter().map(|x| x.last_seen.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::COUNTRY_CODE.into(),
                    r.iter()
                        .map(|x| x.geo.as_ref().map(|g| g.country_code.clone()))
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    col::GEONAMES_ID.into(),
                    r.iter()
                        .map(|x| x.geo.as_ref().map(|g| g.geonames_id as i64))
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    col::LAT.into(),
                    r.iter()
                        .map(|x| x.geo.as_ref().map(|g| g.lat))
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    col::LON.into(),
                    r.iter()
                        .map(|x| x.geo.as_ref().map(|g| g.lon))
                        .collect::<Vec<_>>(),
                ),
            ],
        )
    }
}

/// One row of the `relations` table.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationRow {
    /// Document.
    pub doc_id: String,
    /// Sentence index of the evidence.
    pub sentence: u32,
    /// Subject entity id (hex).
    pub subject_id: String,
    /// Subject canonical name.
    pub subject: String,
    /// Predicate from the documented vocabulary.
    pub predicate: &'static str,
    /// Object entity id (hex); null when the object is a text value (a position title).
    pub object_id: Option<String>,
    /// Object canonical name or text.
    pub object: String,
    /// Evidence span start (char offset into `documents.text`).
    pub start: u64,
    /// Evidence span end.
    pub end: u64,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// `classifier` or `pattern:<name>`.
    pub method: &'static str,
}

/// Rows of the `relations` table.
pub type RelationRows = Rows<RelationRow>;

impl RelationRows {
    /// The rows as a frame.
    pub fn into_frame(self) -> PolarsResult<DataFrame> {
        let r = &self.rows;
        DataFrame::new(
            r.len(),
            vec![
                Column::new(
                    col::DOC_ID.into(),
                    r.iter().map(|x| x.doc_id.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::SENTENCE.into(),
                    r.iter().map(|x| x.sentence as i32).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::SUBJECT_ID.into(),
                    r.iter().map(|x| x.subject_id.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::SUBJECT.into(),
                    r.iter().map(|x| x.subject.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::PREDICATE.into(),
                    r.iter().map(|x| x.predicate).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::OBJECT_ID.into(),
                    r.iter().map(|x| x.object_id.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::OBJECT.into(),
                    r.iter().map(|x| x.object.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::START.into(),
                    r.iter().map(|x| x.start as i64).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::END.into(),
                    r.iter().map(|x| x.end as i64).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::CONFIDENCE.into(),
                    r.iter().map(|x| x.confidence).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::METHOD.into(),
                    r.iter().map(|x| x.method).collect::<Vec<_>>(),
                ),
            ],
        )
    }
}

/// One row of the `quotes` table.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteRow {
    /// Document.
    pub doc_id: String,
    /// Sentence index where the quote starts.
    pub sentence: u32,
    /// Speaker entity id (hex), when resolved.
    pub speaker_id: Option<String>,
    /// Speaker canonical name or surface text, when known.
    pub speaker: Option<String>,
    /// The quoted or reported words.
    pub quote: String,
    /// Quote span start (char offset into `documents.text`).
    pub start: u64,
    /// Quote span end.
    pub end: u64,
    /// Speech verb ("said", "added", "told").
    pub verb: String,
    /// `direct` or `reported`.
    pub kind: &'static str,
}

/// Rows of the `quotes` table.
pub type QuoteRows = Rows<QuoteRow>;

impl QuoteRows {
    /// The rows as a frame.
    pub fn into_frame(self) -> PolarsResult<DataFrame> {
        let r = &self.rows;
        DataFrame::new(
            r.len(),
            vec![
                Column::new(
                    col::DOC_ID.into(),
                    r.iter().map(|x| x.doc_id.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::SENTENCE.into(),
                    r.iter().map(|x| x.sentence as i32).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::SPEAKER_ID.into(),
                    r.iter().map(|x| x.speaker_id.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::SPEAKER.into(),
                    r.iter().map(|x| x.speaker.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::QUOTE.into(),
                    r.iter().map(|x| x.quote.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::START.into(),
                    r.iter().map(|x| x.start as i64).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::END.into(),
                    r.iter().map(|x| x.end as i64).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::VERB.into(),
                    r.iter().map(|x| x.verb.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::KIND.into(),
                    r.iter().map(|x| x.kind).collect::<Vec<_>>(),
                ),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_match_entity_id_hex() {
        for id in [0, 1, 0xdead_beef, u64::MAX, 0x0123_4567_89ab_cdef] {
            let mut c = StrCol::default();
            c.push_hex(id);
            let s = c.into_column("x");
            assert_eq!(
                s.str().unwrap().get(0),
                Some(crate::doc::entity_id_hex(id).as_str())
            );
        }
    }

    #[test]
    fn string_columns_keep_values_nulls_and_schema() {
        let d = Doc {
            doc_id: "d1".into(),
            title: Some("Héllo".into()),
            text: "Some text".into(),
            input_file: "f.jsonl".into(),
            ..Doc::default()
        };
        let mut rows = DocumentRows::default();
        rows.push(&d, &DocLabels::default());
        let df = rows.into_frame().unwrap();
        assert_eq!(df.height(), 1);
        let get = |c: &str| {
            df.column(c)
                .unwrap()
                .str()
                .unwrap()
                .get(0)
                .map(str::to_string)
        };
        assert_eq!(get(col::DOC_ID).as_deref(), Some("d1"));
        assert_eq!(get(col::TITLE).as_deref(), Some("Héllo"));
        assert_eq!(get(col::URL), None);
        assert_eq!(get(col::TEXT).as_deref(), Some("Some text"));
        let empty = DocumentRows::default().into_frame().unwrap();
        assert_eq!(empty.height(), 0);
        assert_eq!(empty.schema(), df.schema());
        let m = MentionRows::default().into_frame().unwrap();
        assert_eq!(m.column(col::ENTITY_ID).unwrap().dtype(), &DataType::String);
    }
}
