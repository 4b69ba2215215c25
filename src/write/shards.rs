//! The files between the two phases of a sharded run: each shard's `signatures` table, and
//! the frame operations the merge needs to turn shard tables into final ones.
//!
//! Kept here because only `write/` (and the Parquet reader) touch polars. The signature
//! schema is part of the output contract (README "Sharded runs" documents it):
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `doc_key` | u64 | xxh3-64 of `doc_id` (the index key; cluster ids are the smallest member key) |
//! | `doc_id` | str | the document id |
//! | `shard` | u32 | shard that wrote the row |
//! | `file_index` | u32 | position of the input file in the full sorted listing |
//! | `input_file`, `input_record` | str, u64 | where the document came from |
//! | `exact_hash` | u64 | xxh3-64 of the normalised token stream |
//! | `n_shingles` | u32 | distinct shingles (0 for an empty text) |
//! | `n_chars` | u64 | clean text length, for `keep = "longest"` |
//! | `published` | str? | for `keep = "earliest"` |
//! | `minhash` | `list<u32>` | the `num_hashes` MinHash minima |
//! | `band_hashes` | `list<u32>` | one LSH bucket key per band (what the index buckets by) |
//!
//! Rows are in the shard's input order, which is also the order of its `documents` rows:
//! (`file_index`, `input_record`) sorts all shards' rows into the single-run input order.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::WriteError;

/// Column names of the `signatures` table.
pub mod sigcol {
    #![allow(missing_docs)]
    pub const DOC_KEY: &str = "doc_key";
    pub const SHARD: &str = "shard";
    pub const FILE_INDEX: &str = "file_index";
    pub const EXACT_HASH: &str = "exact_hash";
    pub const N_SHINGLES: &str = "n_shingles";
    pub const MINHASH: &str = "minhash";
    pub const BAND_HASHES: &str = "band_hashes";
}

use super::schema::col;

/// One document's dedup evidence, as a shard writes it and the merge reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignatureRow {
    /// xxh3-64 of `doc_id`.
    pub doc_key: u64,
    /// The document id.
    pub doc_id: String,
    /// Shard that wrote it.
    pub shard: u32,
    /// Position of the input file in the full listing.
    pub file_index: u32,
    /// Input file as listed.
    pub input_file: String,
    /// Line/row within it.
    pub input_record: u64,
    /// Exact-copy hash.
    pub exact_hash: u64,
    /// Distinct shingles.
    pub n_shingles: u32,
    /// Clean text length in chars.
    pub n_chars: u64,
    /// Publication time, if known.
    pub published: Option<String>,
    /// MinHash minima.
    pub minhash: Vec<u32>,
    /// LSH band keys.
    pub band_hashes: Vec<u32>,
}

/// Rows of the `signatures` table.
pub type SignatureRows = super::Rows<SignatureRow>;

fn u32_lists(name: &str, lists: Vec<Series>) -> Series {
    if lists.is_empty() {
        return Series::new_empty(name.into(), &DataType::List(Box::new(DataType::UInt32)));
    }
    Series::new(name.into(), lists)
}

impl SignatureRows {
    /// The rows as a frame (the full schema even when empty).
    pub fn into_frame(self) -> PolarsResult<DataFrame> {
        let r = &self.rows;
        let n = r.len();
        let minhash: Vec<Series> = r
            .iter()
            .map(|x| Series::new(PlSmallStr::EMPTY, x.minhash.as_slice()))
            .collect();
        let bands: Vec<Series> = r
            .iter()
            .map(|x| Series::new(PlSmallStr::EMPTY, x.band_hashes.as_slice()))
            .collect();
        DataFrame::new(
            n,
            vec![
                Column::new(
                    sigcol::DOC_KEY.into(),
                    r.iter().map(|x| x.doc_key).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::DOC_ID.into(),
                    r.iter().map(|x| x.doc_id.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    sigcol::SHARD.into(),
                    r.iter().map(|x| x.shard).collect::<Vec<_>>(),
                ),
                Column::new(
                    sigcol::FILE_INDEX.into(),
                    r.iter().map(|x| x.file_index).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::INPUT_FILE.into(),
                    r.iter().map(|x| x.input_file.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::INPUT_RECORD.into(),
                    r.iter().map(|x| x.input_record).collect::<Vec<_>>(),
                ),
                Column::new(
                    sigcol::EXACT_HASH.into(),
                    r.iter().map(|x| x.exact_hash).collect::<Vec<_>>(),
                ),
                Column::new(
                    sigcol::N_SHINGLES.into(),
                    r.iter().map(|x| x.n_shingles).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::N_CHARS.into(),
                    r.iter().map(|x| x.n_chars).collect::<Vec<_>>(),
                ),
                Column::new(
                    col::PUBLISHED.into(),
                    r.iter().map(|x| x.published.clone()).collect::<Vec<_>>(),
                ),
                u32_lists(sigcol::MINHASH, minhash).into(),
                u32_lists(sigcol::BAND_HASHES, bands).into(),
            ],
        )
    }
}

/// Parquet part files directly in `dir`, in name (= write) order.
pub fn part_files(dir: &Path) -> Result<Vec<PathBuf>, WriteError> {
    let entries = std::fs::read_dir(dir).map_err(|e| WriteError::io(dir, e))?;
    let mut parts: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "parquet")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
        })
        .collect();
    parts.sort();
    Ok(parts)
}

/// A table folder's part files concatenated, `None` when there are none.
pub fn read_parts(dir: &Path) -> Result<Option<DataFrame>, WriteError> {
    let mut out: Option<DataFrame> = None;
    for p in part_files(dir)? {
        let f = File::open(&p).map_err(|e| WriteError::io(&p, e))?;
        let df = ParquetReader::new(f)
            .finish()
            .map_err(|e| WriteError::polars(&p, e))?;
        match out.as_mut() {
            None => out = Some(df),
            Some(o) => {
                o.vstack_mut(&df).map_err(|e| WriteError::polars(&p, e))?;
            }
        }
    }
    if let Some(o) = out.as_mut() {
        o.rechunk_mut();
    }
    Ok(out)
}

fn u32_list_at(ca: &ListChunked, i: usize, path: &Path) -> Result<Vec<u32>, WriteError> {
    match ca.get_as_series(i) {
        None => Ok(Vec::new()),
        Some(s) => Ok(s
            .u32()
            .map_err(|e| WriteError::polars(path, e))?
            .into_no_null_iter()
            .collect()),
    }
}

/// Every row of a shard's `signatures` folder, in file order.
pub fn read_signatures(dir: &Path) -> Result<Vec<SignatureRow>, WriteError> {
    let Some(df) = read_parts(dir)? else {
        return Ok(Vec::new());
    };
    let pe = |e| WriteError::polars(dir, e);
    let c = |name: &str| df.column(name).map_err(pe);
    let doc_key = c(sigcol::DOC_KEY)?.u64().map_err(pe)?;
    let doc_id = c(col::DOC_ID)?.str().map_err(pe)?;
    let shard = c(sigcol::SHARD)?.u32().map_err(pe)?;
    let file_index = c(sigcol::FILE_INDEX)?.u32().map_err(pe)?;
    let input_file = c(col::INPUT_FILE)?.str().map_err(pe)?;
    let input_record = c(col::INPUT_RECORD)?.u64().map_err(pe)?;
    let exact = c(sigcol::EXACT_HASH)?.u64().map_err(pe)?;
    let n_shingles = c(sigcol::N_SHINGLES)?.u32().map_err(pe)?;
    let n_chars = c(col::N_CHARS)?.u64().map_err(pe)?;
    let published = c(col::PUBLISHED)?.str().map_err(pe)?;
    let minhash = c(sigcol::MINHASH)?.list().map_err(pe)?;
    let bands = c(sigcol::BAND_HASHES)?.list().map_err(pe)?;
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        out.push(SignatureRow {
            doc_key: doc_key.get(i).unwrap_or_default(),
            doc_id: doc_id.get(i).unwrap_or_default().to_string(),
            shard: shard.get(i).unwrap_or_default(),
            file_index: file_index.get(i).unwrap_or_default(),
            input_file: input_file.get(i).unwrap_or_default().to_string(),
            input_record: input_record.get(i).unwrap_or_default(),
            exact_hash: exact.get(i).unwrap_or_default(),
            n_shingles: n_shingles.get(i).unwrap_or_default(),
            n_chars: n_chars.get(i).unwrap_or_default(),
            published: published.get(i).map(str::to_string),
            minhash: u32_list_at(minhash, i, dir)?,
            band_hashes: u32_list_at(bands, i, dir)?,
        });
    }
    Ok(out)
}

/// Rows `idx` of `df`, in that order.
fn take_rows(df: &DataFrame, idx: &[u32]) -> PolarsResult<DataFrame> {
    let ca = IdxCa::from_vec(
        PlSmallStr::EMPTY,
        idx.iter().map(|&i| i as IdxSize).collect(),
    );
    df.take(&ca)
}

/// Replaces the `documents` cluster columns (same dtypes as [`super::DocumentRows`]).
fn set_cluster_columns(
    df: &mut DataFrame,
    cluster_id: Vec<Option<String>>,
    cluster_size: Vec<i32>,
) -> PolarsResult<()> {
    df.replace(
        col::CLUSTER_ID,
        Column::new(col::CLUSTER_ID.into(), cluster_id),
    )?;
    df.replace(
        col::CLUSTER_SIZE,
        Column::new(col::CLUSTER_SIZE.into(), cluster_size),
    )?;
    Ok(())
}

/// The `doc_id` column of a frame, as owned strings (empty for nulls).
fn doc_ids(df: &DataFrame) -> PolarsResult<Vec<String>> {
    let ca = df.column(col::DOC_ID)?.str()?;
    Ok((0..ca.len())
        .map(|i| ca.get(i).unwrap_or_default().to_string())
        .collect())
}

/// A string column of a frame (`None` for nulls).
fn str_column(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    let ca = df.column(name)?.str()?;
    Ok((0..ca.len())
        .map(|i| ca.get(i).map(str::to_string))
        .collect())
}

/// An integer column of a frame as i64 (0 for nulls).
fn i64_column(df: &DataFrame, name: &str) -> PolarsResult<Vec<i64>> {
    let s = df.column(name)?.cast(&DataType::Int64)?;
    let ca = s.i64()?;
    Ok((0..ca.len())
        .map(|i| ca.get(i).unwrap_or_default())
        .collect())
}

/// Every shard's rows of one table, concatenated in shard order.
fn concat_tables(dirs: &[PathBuf], t: &str) -> Result<Option<DataFrame>, WriteError> {
    let mut all: Option<DataFrame> = None;
    for d in dirs {
        let dir = d.join(t);
        if !dir.exists() {
            continue;
        }
        if let Some(f) = read_parts(&dir)? {
            match all.as_mut() {
                None => all = Some(f),
                Some(a) => {
                    a.vstack_mut(&f).map_err(|e| WriteError::polars(&dir, e))?;
                }
            }
        }
    }
    if let Some(a) = all.as_mut() {
        a.rechunk_mut();
    }
    Ok(all)
}

/// Reads one shard table's rows front to back, one part file in memory at a time.
struct Cursor {
    parts: Vec<PathBuf>,
    next_part: usize,
    frame: Option<DataFrame>,
    offset: usize,
}

impl Cursor {
    fn new(dir: &Path) -> Result<Cursor, WriteError> {
        Ok(Cursor {
            parts: if dir.exists() {
                part_files(dir)?
            } else {
                Vec::new()
            },
            next_part: 0,
            frame: None,
            offset: 0,
        })
    }

    /// The next `n` rows (fewer at the end of the table).
    fn take(&mut self, mut n: usize) -> Result<Option<DataFrame>, WriteError> {
        let mut out: Option<DataFrame> = None;
        while n > 0 {
            let left = self.frame.as_ref().map_or(0, |f| f.height() - self.offset);
            if left == 0 {
                let Some(p) = self.parts.get(self.next_part).cloned() else {
                    break;
                };
                self.next_part += 1;
                let f = File::open(&p).map_err(|e| WriteError::io(&p, e))?;
                let df = ParquetReader::new(f)
                    .finish()
                    .map_err(|e| WriteError::polars(&p, e))?;
                self.frame = Some(df);
                self.offset = 0;
                continue;
            }
            let take = left.min(n);
            let frame = self.frame.as_ref().expect("left > 0 implies a frame");
            let slice = frame.slice(self.offset as i64, take);
            self.offset += take;
            n -= take;
            match out.as_mut() {
                None => out = Some(slice),
                Some(o) => {
                    o.vstack_mut(&slice)
                        .map_err(|e| WriteError::polars(Path::new("documents"), e))?;
                }
            }
        }
        Ok(out)
    }
}

/// Every shard's `documents` rows, streamed: the merge asks for rows in the global input
/// order, which visits each shard's rows front to back, so one part file per shard is held
/// at a time (memory: `[output] rows_per_file` rows x shards, not the corpus).
pub struct ShardDocuments {
    cursors: Vec<Cursor>,
}

impl ShardDocuments {
    /// Opens the `documents` tables of `dirs` (shard `i` is `dirs[i]`).
    pub fn open(dirs: &[PathBuf]) -> Result<ShardDocuments, WriteError> {
        let cursors = dirs
            .iter()
            .map(|d| Cursor::new(&d.join(super::schema::table::DOCUMENTS)))
            .collect::<Result<_, _>>()?;
        Ok(ShardDocuments { cursors })
    }

    /// Rows of one shard's `documents` table, from the Parquet footers.
    pub fn count_in(dir: &Path) -> Result<usize, WriteError> {
        let t = dir.join(super::schema::table::DOCUMENTS);
        if !t.exists() {
            return Ok(0);
        }
        let mut n = 0;
        for p in part_files(&t)? {
            let f = File::open(&p).map_err(|e| WriteError::io(&p, e))?;
            n += ParquetReader::new(f)
                .num_rows()
                .map_err(|e| WriteError::polars(&p, e))?;
        }
        Ok(n)
    }

    /// Consumes the next row of shard `picks[i].0` for each pick, in order, and writes the
    /// rows whose `picks[i].1` is set, with new cluster columns (one value per kept row).
    pub fn write_next(
        &mut self,
        picks: &[(u32, bool)],
        cluster_id: Vec<Option<String>>,
        cluster_size: Vec<i32>,
        w: &mut super::TableWriter,
    ) -> Result<(), WriteError> {
        let here = Path::new(super::schema::table::DOCUMENTS);
        let pe = |e| WriteError::polars(here, e);
        let mut out: Option<DataFrame> = None;
        let mut i = 0;
        while i < picks.len() {
            let shard = picks[i].0;
            let mut j = i;
            while j < picks.len() && picks[j].0 == shard {
                j += 1;
            }
            let cursor = self.cursors.get_mut(shard as usize).ok_or_else(|| {
                WriteError::polars(
                    here,
                    PolarsError::OutOfBounds(format!("shard {shard}").into()),
                )
            })?;
            if let Some(mut rows) = cursor.take(j - i)? {
                rows.rechunk_mut();
                let mask: BooleanChunked = picks[i..j].iter().map(|p| p.1).collect();
                let kept = rows.filter(&mask).map_err(pe)?;
                match out.as_mut() {
                    None => out = Some(kept),
                    Some(o) => {
                        o.vstack_mut(&kept).map_err(pe)?;
                    }
                }
            }
            i = j;
        }
        if let Some(mut df) = out {
            df.rechunk_mut();
            set_cluster_columns(&mut df, cluster_id, cluster_size).map_err(pe)?;
            w.write(&df)?;
        }
        Ok(())
    }
}

/// Writes the rows of per-document table `t` whose `doc_id` is in `kept_pos`, ordered by
/// that position (a doc's rows keep their order). Returns rows written, `None` when no
/// shard has the table.
pub fn merge_doc_table(
    dirs: &[PathBuf],
    t: &str,
    kept_pos: &std::collections::HashMap<String, u64>,
    w: &mut super::TableWriter,
) -> Result<Option<u64>, WriteError> {
    let Some(all) = concat_tables(dirs, t)? else {
        return Ok(None);
    };
    let here = Path::new(t);
    let ids = doc_ids(&all).map_err(|e| WriteError::polars(here, e))?;
    let mut idx: Vec<(u64, u32)> = ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| kept_pos.get(id).map(|&p| (p, i as u32)))
        .collect();
    idx.sort_unstable();
    let rows: Vec<u32> = idx.into_iter().map(|(_, i)| i).collect();
    let df = take_rows(&all, &rows).map_err(|e| WriteError::polars(here, e))?;
    w.write(&df)?;
    Ok(Some(df.height() as u64))
}

/// Writes every shard's `rejects`, sorted by (`file_pos(input_file)`, `input_record`).
/// Returns rows written, `None` when no shard has the table.
pub fn merge_rejects(
    dirs: &[PathBuf],
    file_pos: &dyn Fn(&str) -> u64,
    w: &mut super::TableWriter,
) -> Result<Option<u64>, WriteError> {
    let t = super::schema::table::REJECTS;
    let Some(all) = concat_tables(dirs, t)? else {
        return Ok(None);
    };
    let here = Path::new(t);
    let files = str_column(&all, col::INPUT_FILE).map_err(|e| WriteError::polars(here, e))?;
    let recs = i64_column(&all, col::INPUT_RECORD).map_err(|e| WriteError::polars(here, e))?;
    let mut idx: Vec<u32> = (0..all.height() as u32).collect();
    idx.sort_by_key(|&i| {
        let f = files[i as usize].as_deref().map_or(u64::MAX, file_pos);
        (f, recs[i as usize])
    });
    let df = take_rows(&all, &idx).map_err(|e| WriteError::polars(here, e))?;
    w.write(&df)?;
    Ok(Some(df.height() as u64))
}

/// `(doc_id, entity_id, text)` of every row of one shard's `mentions` table, in order.
pub fn read_mention_refs(dir: &Path) -> Result<Vec<(String, String, String)>, WriteError> {
    let t = dir.join(super::schema::table::MENTIONS);
    if !t.exists() {
        return Ok(Vec::new());
    }
    let Some(df) = read_parts(&t)? else {
        return Ok(Vec::new());
    };
    let pe = |e| WriteError::polars(&t, e);
    let ids = str_column(&df, col::DOC_ID).map_err(pe)?;
    let ents = str_column(&df, col::ENTITY_ID).map_err(pe)?;
    let texts = str_column(&df, col::TEXT).map_err(pe)?;
    Ok(ids
        .into_iter()
        .zip(ents)
        .zip(texts)
        .map(|((d, e), x)| {
            (
                d.unwrap_or_default(),
                e.unwrap_or_default(),
                x.unwrap_or_default(),
            )
        })
        .collect())
}

/// One entity's aggregates over the kept documents, computed by the merge.
#[derive(Debug, Clone, Default)]
pub struct EntityTotals {
    /// Shard whose `entities` row supplies name, type and place data (the shard of the
    /// first kept document mentioning the entity).
    pub shard: usize,
    /// Distinct surface texts (aliases are these minus the name).
    pub forms: std::collections::BTreeSet<String>,
    /// Mentions in kept documents.
    pub n_mentions: u64,
    /// Kept documents mentioning it.
    pub n_docs: u64,
    /// Earliest `published`.
    pub first_seen: Option<String>,
    /// Latest `published`.
    pub last_seen: Option<String>,
}

/// Writes the `entities` table: one row per entity of `totals` (in key order), the
/// descriptive columns from its shard's `entities` row, the counts from `totals`.
/// Returns rows written, `None` when no shard has the table.
pub fn merge_entities(
    dirs: &[PathBuf],
    totals: &std::collections::BTreeMap<String, EntityTotals>,
    w: &mut super::TableWriter,
) -> Result<Option<u64>, WriteError> {
    let t = super::schema::table::ENTITIES;
    let here = Path::new(t);
    let pe = |e| WriteError::polars(here, e);
    let mut all: Option<DataFrame> = None;
    // (shard, entity id) -> row in `all`
    let mut at: std::collections::HashMap<(usize, String), u32> = Default::default();
    for (si, d) in dirs.iter().enumerate() {
        let dir = d.join(t);
        if !dir.exists() {
            continue;
        }
        let Some(f) = read_parts(&dir)? else { continue };
        let offset = all.as_ref().map_or(0, |a| a.height());
        for (i, id) in str_column(&f, col::ENTITY_ID)
            .map_err(pe)?
            .into_iter()
            .enumerate()
        {
            at.insert((si, id.unwrap_or_default()), (offset + i) as u32);
        }
        match all.as_mut() {
            None => all = Some(f),
            Some(a) => {
                a.vstack_mut(&f).map_err(pe)?;
            }
        }
    }
    let Some(all) = all else { return Ok(None) };
    let mut rows = Vec::with_capacity(totals.len());
    let mut kept: Vec<&EntityTotals> = Vec::with_capacity(totals.len());
    for (id, tot) in totals {
        let found = at
            .get(&(tot.shard, id.clone()))
            .copied()
            .or_else(|| (0..dirs.len()).find_map(|s| at.get(&(s, id.clone())).copied()));
        if let Some(r) = found {
            rows.push(r);
            kept.push(tot);
        }
    }
    let mut df = take_rows(&all, &rows).map_err(pe)?;
    let names = str_column(&df, col::NAME).map_err(pe)?;
    let aliases: Vec<Series> = kept
        .iter()
        .zip(&names)
        .map(|(tot, name)| {
            let a: Vec<&str> = tot
                .forms
                .iter()
                .filter(|f| Some(f.as_str()) != name.as_deref())
                .map(String::as_str)
                .collect();
            Series::new(PlSmallStr::EMPTY, a)
        })
        .collect();
    let alias_col = if aliases.is_empty() {
        Series::new_empty(
            col::ALIASES.into(),
            &DataType::List(Box::new(DataType::String)),
        )
    } else {
        Series::new(col::ALIASES.into(), aliases)
    };
    df.replace(col::ALIASES, alias_col.into()).map_err(pe)?;
    let ints = |f: fn(&EntityTotals) -> u64| kept.iter().map(|t| f(t) as i64).collect::<Vec<_>>();
    df.replace(
        col::N_MENTIONS,
        Column::new(col::N_MENTIONS.into(), ints(|t| t.n_mentions)),
    )
    .map_err(pe)?;
    df.replace(
        col::N_DOCS,
        Column::new(col::N_DOCS.into(), ints(|t| t.n_docs)),
    )
    .map_err(pe)?;
    let strs =
        |f: fn(&EntityTotals) -> Option<String>| kept.iter().map(|t| f(t)).collect::<Vec<_>>();
    df.replace(
        col::FIRST_SEEN,
        Column::new(col::FIRST_SEEN.into(), strs(|t| t.first_seen.clone())),
    )
    .map_err(pe)?;
    df.replace(
        col::LAST_SEEN,
        Column::new(col::LAST_SEEN.into(), strs(|t| t.last_seen.clone())),
    )
    .map_err(pe)?;
    w.write(&df)?;
    Ok(Some(df.height() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_round_trip_through_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let row = SignatureRow {
            doc_key: u64::MAX - 3,
            doc_id: "d1".into(),
            shard: 2,
            file_index: 7,
            input_file: "in/a.jsonl".into(),
            input_record: 12,
            exact_hash: 99,
            n_shingles: 40,
            n_chars: 300,
            published: Some("1987-03-01".into()),
            minhash: vec![1, 2, u32::MAX],
            band_hashes: vec![5, 6],
        };
        let mut rows = SignatureRows::default();
        rows.push(row.clone());
        rows.push(SignatureRow {
            published: None,
            ..row.clone()
        });
        let mut df = rows.into_frame().unwrap();
        let f = File::create(dir.path().join("part-00000.parquet")).unwrap();
        ParquetWriter::new(f).finish(&mut df).unwrap();
        let back = read_signatures(dir.path()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], row);
        assert_eq!(back[1].published, None);
    }

    #[test]
    fn empty_signatures_keep_the_schema() {
        let df = SignatureRows::default().into_frame().unwrap();
        assert_eq!(df.height(), 0);
        assert!(df.column(sigcol::MINHASH).is_ok());
    }
}
