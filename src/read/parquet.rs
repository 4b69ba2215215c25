//! Parquet input, read through polars in row slices so one huge file does not have to fit
//! in memory at once. Only the configured field columns are read; non-string columns (an
//! integer id, a timestamp) are cast to strings.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use polars::prelude::*;

use super::record::build_doc;
use super::{FieldsConfig, ItemIter, ReadItem};
use crate::doc::{Reject, RejectReason};

/// Rows decoded per slice: large enough to amortise the per-slice cost, small enough that a
/// slice of long articles stays in the tens of MB.
const SLICE_ROWS: usize = 4096;

pub(super) fn open(
    path: &Path,
    fields: Arc<FieldsConfig>,
    counter: Arc<AtomicU64>,
) -> std::io::Result<ItemIter> {
    let file = File::open(path)?;
    let file_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let name = path.display().to_string();
    let whole_file_reject = |reason, detail: String| -> ItemIter {
        Box::new(std::iter::once(ReadItem::Reject(Reject {
            input_file: name.clone(),
            input_record: 0,
            doc_id: None,
            stage: "read",
            reason,
            detail,
        })))
    };
    let mut reader = ParquetReader::new(file);
    let schema = match reader.schema() {
        Ok(s) => s,
        Err(e) => {
            return Ok(whole_file_reject(
                RejectReason::UnreadableFile,
                format!("not a readable Parquet file: {e}"),
            ))
        }
    };
    let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    if !names.contains(&fields.text) && !names.contains(&fields.html) {
        return Ok(whole_file_reject(
            RejectReason::MissingText,
            format!(
                "text column `{}` is not in the file (columns: {})",
                fields.text,
                names.join(", ")
            ),
        ));
    }
    let wanted: Vec<String> = [
        &fields.id,
        &fields.title,
        &fields.text,
        &fields.url,
        &fields.published,
        &fields.source,
        &fields.author,
        &fields.html,
    ]
    .into_iter()
    .filter(|f| names.contains(f))
    .cloned()
    .collect::<std::collections::BTreeSet<_>>()
    .into_iter()
    .collect();
    let num_rows = match reader.num_rows() {
        Ok(n) => n,
        Err(e) => {
            return Ok(whole_file_reject(
                RejectReason::UnreadableFile,
                format!("cannot read Parquet metadata: {e}"),
            ))
        }
    };
    let metadata = match reader.get_metadata() {
        Ok(m) => m.clone(),
        Err(e) => {
            return Ok(whole_file_reject(
                RejectReason::UnreadableFile,
                format!("cannot read Parquet metadata: {e}"),
            ))
        }
    };
    Ok(Box::new(ParquetRecords {
        path: path.to_path_buf(),
        name,
        fields,
        columns: wanted,
        metadata,
        num_rows,
        next_row: 0,
        buffered: VecDeque::new(),
        counter,
        file_bytes,
        failed: false,
    }))
}

struct ParquetRecords {
    path: PathBuf,
    name: String,
    fields: Arc<FieldsConfig>,
    columns: Vec<String>,
    metadata: polars::io::parquet::metadata::FileMetadataRef,
    num_rows: usize,
    next_row: usize,
    buffered: VecDeque<ReadItem>,
    counter: Arc<AtomicU64>,
    file_bytes: u64,
    failed: bool,
}

impl ParquetRecords {
    fn read_slice(&mut self) -> PolarsResult<()> {
        let len = SLICE_ROWS.min(self.num_rows - self.next_row);
        let file = File::open(&self.path).map_err(|e| PolarsError::IO {
            error: Arc::new(e),
            msg: None,
        })?;
        let mut reader = ParquetReader::new(file)
            .with_columns(Some(self.columns.clone()))
            .with_slice(Some((self.next_row, len)));
        reader.set_metadata(self.metadata.clone());
        let df = reader.finish()?;
        let mut cols: Vec<(String, StringChunked)> = Vec::new();
        for name in &self.columns {
            let s = df
                .column(name.as_str())?
                .as_materialized_series()
                .cast(&DataType::String)?;
            cols.push((name.clone(), s.str()?.clone()));
        }
        for i in 0..df.height() {
            let row = (self.next_row + i + 1) as u64;
            let get = |f: &str| {
                Ok(cols
                    .iter()
                    .find(|(n, _)| n == f)
                    .and_then(|(_, c)| c.get(i))
                    .map(str::to_string))
            };
            self.buffered
                .push_back(match build_doc(&self.fields, &self.name, row, get) {
                    Ok(d) => ReadItem::Doc(Box::new(d)),
                    Err(r) => ReadItem::Reject(r),
                });
        }
        self.next_row += len;
        if self.num_rows > 0 {
            self.counter.fetch_add(
                self.file_bytes * len as u64 / self.num_rows as u64,
                Ordering::Relaxed,
            );
        }
        Ok(())
    }
}

impl Iterator for ParquetRecords {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        loop {
            if let Some(item) = self.buffered.pop_front() {
                return Some(item);
            }
            if self.failed || self.next_row >= self.num_rows {
                return None;
            }
            if let Err(e) = self.read_slice() {
                self.failed = true;
                return Some(ReadItem::Reject(Reject {
                    input_file: self.name.clone(),
                    input_record: self.next_row as u64 + 1,
                    doc_id: None,
                    stage: "read",
                    reason: RejectReason::TruncatedInput,
                    detail: format!(
                        "rows {}..{} could not be decoded: {e}",
                        self.next_row + 1,
                        self.num_rows
                    ),
                }));
            }
        }
    }
}
