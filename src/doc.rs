//! The document that flows through the pipeline, and the typed records stages attach to it.
//!
//! A [`Doc`] is created by a reader (`read/`), rewritten in place by the clean stage, labelled
//! by dedup and enriched by extraction; writers turn it into table rows. Every field is typed:
//! there is deliberately no free-form metadata bag, so a new field is a reviewed change.
//!
//! Offsets (`start`, `end`) everywhere are Unicode scalar (char) offsets into [`Doc::text`]
//! *after* cleaning, so `text.chars().skip(start).take(end - start)` is the mention text.

use serde::{Deserialize, Serialize};

/// One article.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    /// Stable id: the input's own id field, else derived from the content (see `read/`).
    pub doc_id: String,
    /// Site or publisher; drives per-source boilerplate statistics.
    pub source: Option<String>,
    /// Page URL, when the input has one.
    pub url: Option<String>,
    /// Headline.
    pub title: Option<String>,
    /// Publication time as given by the input (ISO 8601 preferred, kept verbatim otherwise).
    pub published: Option<String>,
    /// Article body; raw on input, clean after the clean stage.
    pub text: String,
    /// ISO 639-1 language code guessed by the clean stage.
    pub lang: Option<String>,
    /// Path of the file the record came from.
    pub input_file: String,
    /// 1-based line (JSONL, text), row (CSV, Parquet) or file index (directories).
    pub input_record: u64,
    /// Bytes of raw article text as read, before cleaning; the unit of MB/s figures.
    pub raw_bytes: u64,
    /// Author(s), from an input field or the page's metadata.
    pub author: Option<String>,
    /// The raw page, for HTML inputs: the clean stage extracts `text` and metadata from it
    /// and then drops it.
    pub html: Option<RawPage>,
}

/// An undecoded web page as read from a file, a record field or a WARC response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawPage {
    /// Page bytes, in whatever charset the page uses.
    pub bytes: Vec<u8>,
    /// HTTP `Content-Type` header, when the input had one (it may name the charset).
    pub content_type: Option<String>,
}

/// The entity types newsmill emits; see DESIGN.md for their meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityType {
    /// People, real or fictional.
    Person,
    /// Companies, agencies, institutions, armed groups.
    Org,
    /// Countries, cities, states: places with a government.
    Gpe,
    /// Non-political places: mountains, rivers, regions.
    Loc,
    /// Nationalities, religious and political groups ("Russian", "Syrian").
    Norp,
    /// Named events (wars, summits, games).
    Event,
    /// Absolute or relative dates and times.
    Date,
    /// Monetary amounts.
    Money,
    /// Percentages.
    Percent,
    /// Measurements and counts with units.
    Quantity,
    /// Other names (products, works, laws).
    Misc,
}

impl EntityType {
    /// Stable upper-case name used in the tables.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Person => "PERSON",
            EntityType::Org => "ORG",
            EntityType::Gpe => "GPE",
            EntityType::Loc => "LOC",
            EntityType::Norp => "NORP",
            EntityType::Event => "EVENT",
            EntityType::Date => "DATE",
            EntityType::Money => "MONEY",
            EntityType::Percent => "PERCENT",
            EntityType::Quantity => "QUANTITY",
            EntityType::Misc => "MISC",
        }
    }
}

/// A place's coordinates and identifiers, from the project's gazetteer (GeoNames facts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Geo {
    /// ISO 3166-1 alpha-2 code of the country the place is in (or is).
    pub country_code: String,
    /// GeoNames id of the place.
    pub geonames_id: u64,
    /// Latitude in decimal degrees.
    pub lat: f64,
    /// Longitude in decimal degrees.
    pub lon: f64,
}

/// The canonical entity a mention resolves to.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRef {
    /// Stable id: xxh3-64 (seed 0) of `"<TYPE>\u{1f}<normalised canonical name>"`; the same
    /// entity gets the same id in every document and every run.
    pub id: u64,
    /// Canonical display name ("John Kerry", "United States", "$500 million").
    pub name: String,
    /// Entity type of the canonical entity.
    pub etype: EntityType,
    /// Coordinates for GPE/LOC entities found in the gazetteer.
    pub geo: Option<Geo>,
    /// Normalised value for numeric types: "500000000 USD" for money, "2015-09-27" for a
    /// resolved date, "12.5" for a percentage.
    pub value: Option<String>,
}

/// One entity mention in a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    /// Char offset of the first char in `Doc::text`.
    pub start: usize,
    /// Char offset one past the last char.
    pub end: usize,
    /// Surface text, equal to the chars `start..end` of `Doc::text`.
    pub text: String,
    /// Type of this mention (may differ from the entity's, e.g. NORP "Russian").
    pub etype: EntityType,
    /// 0-based sentence index within the document.
    pub sentence: usize,
    /// Model or rule confidence in [0, 1].
    pub confidence: f32,
    /// What the mention refers to.
    pub entity: EntityRef,
}

/// Why a record did not become a document. The snake_case names are stable: they fill the
/// `reason` column of the `rejects` table and the per-reason counters of the run report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The file could not be opened or read at all.
    UnreadableFile,
    /// The stream broke mid-file (truncated gzip/zstd, I/O error); later records are lost.
    TruncatedInput,
    /// A line or row that does not parse (bad JSON, broken CSV quoting).
    MalformedRecord,
    /// Valid JSON that is not an object.
    NotAnObject,
    /// The configured text field is absent, null or not a string.
    MissingText,
    /// Bytes that are not valid UTF-8 (or not decodable in the declared charset).
    UndecodableBytes,
    /// Nothing left after cleaning.
    EmptyText,
    /// Fewer words than `[clean] min_words`.
    TooShort,
    /// More chars than `[clean] max_chars`.
    TooLong,
    /// Share of non-letter chars above `[clean] max_non_letter_ratio`.
    TooManyNonLetters,
    /// Language not in `[clean] languages`.
    WrongLanguage,
    /// A file or page that is not text at all (an image or archive named `.html`).
    BinaryContent,
}

impl RejectReason {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::UnreadableFile => "unreadable_file",
            RejectReason::TruncatedInput => "truncated_input",
            RejectReason::MalformedRecord => "malformed_record",
            RejectReason::NotAnObject => "not_an_object",
            RejectReason::MissingText => "missing_text",
            RejectReason::UndecodableBytes => "undecodable_bytes",
            RejectReason::EmptyText => "empty_text",
            RejectReason::TooShort => "too_short",
            RejectReason::TooLong => "too_long",
            RejectReason::TooManyNonLetters => "too_many_non_letters",
            RejectReason::WrongLanguage => "wrong_language",
            RejectReason::BinaryContent => "binary_content",
        }
    }
}

/// A record that did not become a document, with enough context to find it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// File the record came from.
    pub input_file: String,
    /// 1-based line/row of the record (0 when the whole file is concerned).
    pub input_record: u64,
    /// Id of the document when it was known before rejection.
    pub doc_id: Option<String>,
    /// Stage that rejected it (`read`, `clean`, ...).
    pub stage: &'static str,
    /// Machine-readable reason.
    pub reason: RejectReason,
    /// Human-readable detail (parser message, measured value vs threshold).
    pub detail: String,
}

/// A per-document stage's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The document goes on to the next stage.
    Keep,
    /// The document stops here; the pipeline writes the reject row.
    Reject(RejectReason, String),
}

/// Entity ids as they appear in the tables: 16 lower-case hex digits (strings travel well to
/// Spark and pandas, which lack unsigned 64-bit integers).
pub fn entity_id_hex(id: u64) -> String {
    format!("{id:016x}")
}
