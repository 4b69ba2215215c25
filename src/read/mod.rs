//! Readers: input files → a stream of [`ReadItem`]s (documents or reject rows).
//!
//! Input: `[input]` ([`InputConfig`]). Output: [`Doc`]s with `doc_id`, `source`, `url`,
//! `title`, `published`, raw `text`, `input_file`, `input_record` and `raw_bytes` filled, or
//! [`Reject`] rows for records that cannot become documents (malformed JSON, missing text,
//! undecodable bytes, truncated streams, unreadable files).
//!
//! This module owns file listing (globs, directories, sorted so runs are reproducible), shard
//! selection for `--shard i/N` ([`ShardSpec`]: a stable hash of each path, so stages never
//! see shards),
//! decompression (gzip and zstd, sniffed from magic bytes) and the field mapping; each format
//! module only turns bytes into records. Records are produced lazily, one file open at a
//! time, so memory does not grow with the corpus (Parquet files are the exception: one file's
//! projected columns are held at once).

mod config;
mod csv;
mod files;
mod jsonl;
mod parquet;
mod record;
mod shard;
mod text;
mod warc;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

pub use config::{FieldsConfig, InputConfig, InputFormat};
pub use files::{format_from_name, list_files};
pub use record::derive_doc_id;
pub use shard::{
    format_ranges, select as select_shard, shard_key, shard_of, ShardError, ShardSpec,
    SHARD_COUNT_ENV, SHARD_SEED,
};

use crate::doc::{Doc, Reject, RejectReason};

/// Errors that stop a run before it reads anything (bad paths or patterns). Problems with
/// individual files or records are [`Reject`] rows instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// An input path that does not exist.
    #[error("input path {path} does not exist")]
    NotFound {
        /// The path as configured.
        path: PathBuf,
    },
    /// A glob or directory with no readable files in it.
    #[error("input pattern {pattern} matched no files")]
    NoMatch {
        /// The pattern as configured.
        pattern: String,
    },
    /// A malformed glob.
    #[error("input pattern {pattern} is invalid: {message}")]
    BadPattern {
        /// The pattern as configured.
        pattern: String,
        /// What the glob parser said.
        message: String,
    },
    /// A directory that cannot be listed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// No input configured at all.
    #[error("no input files: set [input] paths in the config or pass --input")]
    NoInput,
}

/// One item of the input stream.
#[derive(Debug)]
pub enum ReadItem {
    /// A record that became a document.
    Doc(Box<Doc>),
    /// A record (or a whole file) that could not.
    Reject(Reject),
    /// A record that is not an article by design (a WARC request or metadata record, a
    /// non-HTML response): counted per reason in the report, not an input record.
    Skipped(&'static str),
}

impl ReadItem {
    /// The document, if the item is one.
    pub fn as_doc(&self) -> Option<&Doc> {
        match self {
            ReadItem::Doc(d) => Some(d),
            ReadItem::Reject(_) | ReadItem::Skipped(_) => None,
        }
    }
}

/// The configured input: a fixed, sorted file list plus the field mapping.
#[derive(Debug, Clone)]
pub struct Source {
    files: Vec<PathBuf>,
    format: InputFormat,
    fields: Arc<FieldsConfig>,
    limit: u64,
    bytes_read: Arc<AtomicU64>,
}

impl Source {
    /// Resolve `cfg.paths` (relative ones against `base_dir`) and list the files.
    pub fn from_config(cfg: &InputConfig, base_dir: &Path) -> Result<Source, ReadError> {
        if cfg.paths.is_empty() {
            return Err(ReadError::NoInput);
        }
        let patterns: Vec<PathBuf> = cfg
            .paths
            .iter()
            .map(|p| {
                let p = Path::new(p);
                if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    base_dir.join(p)
                }
            })
            .collect();
        let files = list_files(&patterns, cfg.format)?;
        Ok(Source::from_files(files, cfg))
    }

    /// A source over an explicit file list (already resolved and ordered by the caller).
    pub fn from_files(files: Vec<PathBuf>, cfg: &InputConfig) -> Source {
        Source {
            files,
            format: cfg.format,
            fields: Arc::new(cfg.fields.clone()),
            limit: cfg.limit,
            bytes_read: Arc::default(),
        }
    }

    /// The files this source reads, in reading order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Total size of the input files on disk (compressed), for progress and MB/s.
    pub fn total_bytes(&self) -> u64 {
        self.files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Shared counter of on-disk bytes consumed so far.
    pub fn bytes_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.bytes_read)
    }

    /// Stream every record of every file, in file order then record order.
    pub fn records(&self) -> Records {
        Records {
            source: self.clone(),
            next_file: 0,
            current: None,
            emitted: 0,
        }
    }
}

type ItemIter = Box<dyn Iterator<Item = ReadItem> + Send>;

/// Iterator over all records of a [`Source`].
pub struct Records {
    source: Source,
    next_file: usize,
    current: Option<ItemIter>,
    emitted: u64,
}

impl Iterator for Records {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        if self.source.limit > 0 && self.emitted >= self.source.limit {
            return None;
        }
        loop {
            if let Some(cur) = self.current.as_mut() {
                if let Some(item) = cur.next() {
                    self.emitted += 1;
                    return Some(item);
                }
                self.current = None;
            }
            let path = self.source.files.get(self.next_file)?.clone();
            self.next_file += 1;
            self.current = Some(open_file(&path, &self.source));
        }
    }
}

fn open_file(path: &Path, source: &Source) -> ItemIter {
    let name = path.display().to_string();
    let format = match source.format {
        InputFormat::Auto => match format_from_name(path) {
            Some(f) => f,
            None => {
                return single_reject(
                    name,
                    RejectReason::UnreadableFile,
                    "cannot tell the format from the file name; set [input] format".into(),
                )
            }
        },
        f => f,
    };
    let counter = source.bytes_counter();
    let fields = Arc::clone(&source.fields);
    let opened = match format {
        InputFormat::Jsonl => jsonl::open(path, fields, counter),
        InputFormat::Csv => csv::open(path, fields, counter),
        InputFormat::Parquet => parquet::open(path, fields, counter),
        InputFormat::Text => text::open(path, counter),
        InputFormat::Html => text::open_html(path, counter),
        InputFormat::Warc => warc::open(path, counter),
        InputFormat::Auto => unreachable!("auto was resolved above"),
    };
    match opened {
        Ok(it) => it,
        Err(e) => single_reject(name, RejectReason::UnreadableFile, e.to_string()),
    }
}

fn single_reject(input_file: String, reason: RejectReason, detail: String) -> ItemIter {
    Box::new(std::iter::once(ReadItem::Reject(Reject {
        input_file,
        input_record: 0,
        doc_id: None,
        stage: "read",
        reason,
        detail,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(dir: &Path, pattern: &str) -> Vec<ReadItem> {
        let cfg = InputConfig {
            paths: vec![pattern.into()],
            ..InputConfig::default()
        };
        Source::from_config(&cfg, dir).unwrap().records().collect()
    }

    #[test]
    fn reads_files_in_sorted_order_across_formats() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("b.jsonl"),
            "{\"id\":\"b1\",\"text\":\"B\"}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("a.csv"), "id,text\na1,A\n").unwrap();
        let items = collect(dir.path(), ".");
        let ids: Vec<String> = items
            .iter()
            .map(|i| match i {
                ReadItem::Doc(d) => d.doc_id.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(ids, ["a1", "b1"]);
    }

    #[test]
    fn limit_stops_early() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = std::fs::File::create(dir.path().join("x.jsonl")).unwrap();
        for i in 0..10 {
            writeln!(f, "{{\"id\":\"{i}\",\"text\":\"t\"}}").unwrap();
        }
        let cfg = InputConfig {
            paths: vec!["x.jsonl".into()],
            limit: 3,
            ..InputConfig::default()
        };
        let n = Source::from_config(&cfg, dir.path())
            .unwrap()
            .records()
            .count();
        assert_eq!(n, 3);
    }

    #[test]
    fn unknown_extension_in_explicit_file_is_a_reject_row() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.bin"), "x").unwrap();
        let items = collect(dir.path(), "data.bin");
        assert!(matches!(
            &items[..],
            [ReadItem::Reject(r)] if r.reason == RejectReason::UnreadableFile
        ));
    }
}
