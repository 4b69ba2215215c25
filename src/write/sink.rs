//! One table's part files: `part-00000.parquet` (and/or `.csv`), rolled over every
//! `rows_per_file` rows, written under the run's staging directory.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use polars::io::parquet::write::{BatchedWriter, KeyValueMetadata, ParquetCompression};
use polars::prelude::*;
use polars_parquet::write::ZstdLevel;

use super::{OutputConfig, OutputFormat, WriteError};

/// A Parquet row group is also cut when the rows waiting for it reach this many bytes (as
/// polars estimates them), so a table of long texts keeps memory bounded before it reaches
/// `row_group_rows`.
const ROW_GROUP_MAX_BYTES: usize = 32 << 20;

/// Writes batches of one table.
pub struct TableWriter {
    dir: PathBuf,
    cfg: OutputConfig,
    metadata: Vec<(String, String)>,
    schema: Option<Schema>,
    parquet: Option<BatchedWriter<BufWriter<File>>>,
    /// Rows waiting to fill a Parquet row group. polars' batched writer makes one row group
    /// of every frame it is given; a pipeline batch yields a few hundred to a few thousand
    /// rows per table, and row groups that small slow readers down and cost a fresh zstd
    /// context per column page.
    pending: Vec<DataFrame>,
    pending_rows: usize,
    pending_bytes: usize,
    csv: Option<BufWriter<File>>,
    part: usize,
    rows_in_part: usize,
    rows: u64,
}

impl TableWriter {
    /// A writer whose part files go into `dir` (created now).
    pub fn new(
        dir: PathBuf,
        cfg: &OutputConfig,
        metadata: Vec<(String, String)>,
    ) -> Result<Self, WriteError> {
        std::fs::create_dir_all(&dir).map_err(|e| WriteError::io(&dir, e))?;
        Ok(TableWriter {
            dir,
            cfg: cfg.clone(),
            metadata,
            schema: None,
            parquet: None,
            pending: Vec::new(),
            pending_rows: 0,
            pending_bytes: 0,
            csv: None,
            part: 0,
            rows_in_part: 0,
            rows: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn part_path(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("part-{:05}.{ext}", self.part))
    }

    fn open_part(&mut self, schema: &Schema) -> Result<(), WriteError> {
        for fmt in &self.cfg.formats {
            match fmt {
                OutputFormat::Parquet => {
                    let path = self.part_path("parquet");
                    let f = File::create(&path).map_err(|e| WriteError::io(&path, e))?;
                    let level = ZstdLevel::try_new(self.cfg.zstd_level).ok();
                    let w = ParquetWriter::new(BufWriter::with_capacity(1 << 20, f))
                        .with_compression(ParquetCompression::Zstd(level))
                        .with_row_group_size(Some(self.cfg.row_group_rows))
                        .with_key_value_metadata(Some(KeyValueMetadata::from_static(
                            self.metadata.clone(),
                        )))
                        .batched(schema)
                        .map_err(|e| WriteError::polars(&path, e))?;
                    self.parquet = Some(w);
                }
                OutputFormat::Csv => {
                    let path = self.part_path("csv");
                    let f = File::create(&path).map_err(|e| WriteError::io(&path, e))?;
                    let mut w = BufWriter::with_capacity(1 << 20, f);
                    // Header only: writing an empty frame gives the schema even when no
                    // rows follow.
                    let mut empty = flatten_lists(
                        &DataFrame::empty_with_schema(schema),
                        &self.cfg.list_separator,
                    )
                    .map_err(|e| WriteError::polars(&path, e))?;
                    CsvWriter::new(&mut w)
                        .include_header(true)
                        .finish(&mut empty)
                        .map_err(|e| WriteError::polars(&path, e))?;
                    self.csv = Some(w);
                }
            }
        }
        Ok(())
    }

    /// Queues rows for the Parquet part; writes every full row group (and, past
    /// [`ROW_GROUP_MAX_BYTES`] or when `all`, the rest as a shorter one).
    fn queue_parquet(&mut self, chunk: DataFrame, all: bool) -> Result<(), WriteError> {
        if self.parquet.is_none() {
            return Ok(());
        }
        if chunk.height() > 0 {
            self.pending_rows += chunk.height();
            self.pending_bytes += chunk.estimated_size();
            self.pending.push(chunk);
        }
        let group = self.cfg.row_group_rows;
        // Write the rest too (as a shorter group) at the end of a part or past the byte cap.
        let flush_all = all || self.pending_bytes >= ROW_GROUP_MAX_BYTES;
        if self.pending_rows == 0 || !(flush_all || self.pending_rows >= group) {
            return Ok(());
        }
        let mut frames = std::mem::take(&mut self.pending).into_iter();
        let mut df = frames.next().expect("pending rows come in frames");
        for f in frames {
            df.vstack_mut_owned(f)
                .map_err(|e| WriteError::polars(&self.dir, e))?;
        }
        let bytes_per_row = self.pending_bytes / self.pending_rows;
        let w = self.parquet.as_mut().expect("checked above");
        let mut offset = 0;
        while offset < df.height() && (flush_all || df.height() - offset >= group) {
            let take = group.min(df.height() - offset);
            // One chunk per call: polars writes each chunk of a frame as its own row group.
            let mut rows = df.slice(offset as i64, take);
            rows.rechunk_mut();
            w.write_batch(&rows)
                .map_err(|e| WriteError::polars(&self.dir, e))?;
            offset += take;
        }
        self.pending_rows = df.height() - offset;
        self.pending_bytes = self.pending_rows * bytes_per_row;
        if self.pending_rows > 0 {
            self.pending
                .push(df.slice(offset as i64, self.pending_rows));
        }
        Ok(())
    }

    fn close_part(&mut self) -> Result<(), WriteError> {
        self.queue_parquet(DataFrame::empty(), true)?;
        if let Some(w) = self.parquet.take() {
            let path = self.part_path("parquet");
            w.finish().map_err(|e| WriteError::polars(&path, e))?;
        }
        if let Some(mut w) = self.csv.take() {
            let path = self.part_path("csv");
            std::io::Write::flush(&mut w).map_err(|e| WriteError::io(&path, e))?;
        }
        Ok(())
    }

    /// Append a batch. Batches must share the first batch's schema.
    pub fn write(&mut self, df: &DataFrame) -> Result<(), WriteError> {
        if self.schema.is_none() {
            let schema = df.schema().as_ref().clone();
            self.open_part(&schema)?;
            self.schema = Some(schema);
        }
        if df.height() == 0 {
            return Ok(());
        }
        let mut offset = 0usize;
        while offset < df.height() {
            if self.rows_in_part >= self.cfg.rows_per_file {
                self.close_part()?;
                self.part += 1;
                self.rows_in_part = 0;
                let schema = self.schema.clone().expect("schema set by the first batch");
                self.open_part(&schema)?;
            }
            let take = (self.cfg.rows_per_file - self.rows_in_part).min(df.height() - offset);
            let chunk = df.slice(offset as i64, take);
            if let Some(w) = self.csv.as_mut() {
                let mut flat = flatten_lists(&chunk, &self.cfg.list_separator)
                    .map_err(|e| WriteError::polars(&self.dir, e))?;
                CsvWriter::new(w)
                    .include_header(false)
                    .finish(&mut flat)
                    .map_err(|e| WriteError::polars(&self.dir, e))?;
            }
            self.queue_parquet(chunk, false)?;
            offset += take;
            self.rows_in_part += take;
            self.rows += take as u64;
        }
        Ok(())
    }

    /// Flush and close the last part of a table that has seen at least one batch (an empty
    /// one is enough: it fixes the schema).
    pub fn close(mut self) -> Result<u64, WriteError> {
        if self.schema.is_some() {
            self.close_part()?;
        }
        Ok(self.rows)
    }

    /// Flush and close the last part. A table that never saw a batch gets an empty part
    /// with `empty_schema`, so readers always find the table.
    pub fn finish(mut self, empty: DataFrame) -> Result<u64, WriteError> {
        if self.schema.is_none() {
            self.write(&empty)?;
        }
        self.close_part()?;
        Ok(self.rows)
    }
}

/// CSV cannot hold nested values: join list-of-string columns with `sep`.
fn flatten_lists(df: &DataFrame, sep: &str) -> PolarsResult<DataFrame> {
    if !df
        .columns()
        .iter()
        .any(|c| matches!(c.dtype(), DataType::List(_)))
    {
        return Ok(df.clone());
    }
    let mut cols = Vec::with_capacity(df.width());
    for c in df.columns() {
        if let DataType::List(_) = c.dtype() {
            let ca = c.list()?;
            let joined: Vec<Option<String>> = (0..ca.len())
                .map(|i| {
                    ca.get_as_series(i).map(|s| {
                        s.str()
                            .map(|sc| {
                                (0..sc.len())
                                    .filter_map(|j| sc.get(j))
                                    .collect::<Vec<_>>()
                                    .join(sep)
                            })
                            .unwrap_or_default()
                    })
                })
                .collect();
            cols.push(Column::new(c.name().clone(), joined));
        } else {
            cols.push(c.clone());
        }
    }
    DataFrame::new(df.height(), cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(start: i64, n: i64) -> DataFrame {
        df!("n" => (start..start + n).collect::<Vec<i64>>()).expect("valid frame")
    }

    fn row_groups(path: &std::path::Path) -> Vec<usize> {
        let f = File::open(path).expect("part file");
        let mut r = ParquetReader::new(f);
        let meta = r.get_metadata().expect("metadata");
        meta.row_groups.iter().map(|g| g.num_rows()).collect()
    }

    #[test]
    fn row_groups_follow_the_setting_not_the_batches() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = OutputConfig {
            row_group_rows: 4,
            rows_per_file: 10,
            ..OutputConfig::default()
        };
        let mut w = TableWriter::new(dir.path().join("t"), &cfg, Vec::new()).unwrap();
        // Batches of 3 rows: groups of 4 across batch boundaries; a part holds 10 rows.
        for b in 0..5 {
            w.write(&batch(b * 3, 3)).unwrap();
        }
        assert_eq!(w.close().unwrap(), 15);
        let p0 = dir.path().join("t/part-00000.parquet");
        let p1 = dir.path().join("t/part-00001.parquet");
        assert_eq!(row_groups(&p0), vec![4, 4, 2]);
        assert_eq!(row_groups(&p1), vec![4, 1]);
        let mut all = Vec::new();
        for p in [p0, p1] {
            let df = ParquetReader::new(File::open(p).unwrap()).finish().unwrap();
            all.extend(df.column("n").unwrap().i64().unwrap().into_no_null_iter());
        }
        assert_eq!(all, (0..15).collect::<Vec<i64>>());
    }
}
