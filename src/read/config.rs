//! `[input]` section: where documents come from and how their fields are named.

use serde::{Deserialize, Serialize};

/// Input file format. `auto` decides per file from its name (after stripping `.gz`/`.zst`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    /// `.jsonl`/`.ndjson`/`.json` → jsonl, `.csv`/`.tsv` → csv, `.parquet` → parquet,
    /// `.txt` → text; a directory is read file by file with the same rule.
    #[default]
    Auto,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row (`.tsv` files use tabs).
    Csv,
    /// Apache Parquet, one row per article.
    Parquet,
    /// One article per file: the first non-empty line is the title, the rest the body.
    Text,
    /// One web page per file (`.html`, `.htm`); the clean stage extracts the article.
    Html,
    /// Web ARChive files: HTML response records become documents (`.warc`, `.warc.gz`).
    Warc,
}

impl InputFormat {
    /// Stable snake_case name, as written in TOML.
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::Jsonl => "jsonl",
            InputFormat::Csv => "csv",
            InputFormat::Parquet => "parquet",
            InputFormat::Text => "text",
            InputFormat::Html => "html",
            InputFormat::Warc => "warc",
        }
    }
}

/// Names of the input fields (JSON keys, CSV header names, Parquet columns) that map onto
/// document fields. Only `text` is required; a missing `id` is derived from the content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldsConfig {
    /// Document id field. Default `"id"`.
    pub id: String,
    /// Headline field. Default `"title"`.
    pub title: String,
    /// Article body field. Default `"text"`.
    pub text: String,
    /// Page URL field. Default `"url"`.
    pub url: String,
    /// Publication time field (ISO 8601 preferred). Default `"published"`.
    pub published: String,
    /// Site/publisher field; per-source boilerplate statistics group by it. Default `"source"`.
    pub source: String,
    /// Author field. Default `"author"`.
    pub author: String,
    /// Raw HTML field: a record with no text but this field is a web page whose article
    /// the clean stage extracts. Default `"html"`.
    pub html: String,
}

impl Default for FieldsConfig {
    fn default() -> Self {
        FieldsConfig {
            id: "id".into(),
            title: "title".into(),
            text: "text".into(),
            url: "url".into(),
            published: "published".into(),
            source: "source".into(),
            author: "author".into(),
            html: "html".into(),
        }
    }
}

/// `[input]`: the files to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputConfig {
    /// Files, directories or glob patterns (`crawl/*.jsonl.zst`). Relative paths are resolved
    /// against the directory of the config file. Files are read in sorted path order so runs
    /// are reproducible. Default: none (a run needs at least one).
    pub paths: Vec<String>,
    /// Input format; see [`InputFormat`]. Default `auto`.
    pub format: InputFormat,
    /// Stop after this many input records in total (0 = no limit). Default 0.
    pub limit: u64,
    /// Field names in the input records.
    pub fields: FieldsConfig,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            paths: Vec::new(),
            format: InputFormat::Auto,
            limit: 0,
            fields: FieldsConfig::default(),
        }
    }
}

impl InputConfig {
    /// Problems with the section, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        let f = &self.fields;
        for (key, v) in [
            ("id", &f.id),
            ("title", &f.title),
            ("text", &f.text),
            ("url", &f.url),
            ("published", &f.published),
            ("source", &f.source),
            ("author", &f.author),
            ("html", &f.html),
        ] {
            if v.trim().is_empty() {
                errs.push(format!("[input.fields] {key}: must not be empty"));
            }
        }
        errs
    }
}
