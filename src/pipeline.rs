//! Orchestration: builds every stage from the config, streams batches through them, and
//! commits the tables and the report.
//!
//! The run has two passes so memory never holds the corpus:
//! 1. **stream**: read → clean (rayon, per doc) → dedup signatures (rayon) and index
//!    updates (in input order) → cleaned docs spooled to a scratch file; rejects are
//!    written as they occur.
//! 2. **output**: dedup decisions are final; spooled docs are read back in order →
//!    extraction (rayon) → `documents` / `duplicates` / ... tables.
//!
//! Before pass 1, when `[clean] repeated_lines` is on, a bounded sample of the input is read
//! to learn per-source furniture. Batches are processed with order-preserving parallel maps,
//! so output is byte-identical for any thread count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use crate::clean::{CleanStats, Cleaner, Furniture, FurnitureLearner};
use crate::config::Config;
use crate::doc::{entity_id_hex, Doc, Reject, Verdict};
use crate::extract::{Extraction, Extractor};
use crate::progress::Progress;
use crate::read::{ReadItem, Source};
use crate::report::{RunReport, StageReport, Throughput, Totals};
use crate::util;
use crate::write::schema::table;
use crate::write::{
    DocLabels, DocumentRows, DuplicateRows, EntityRow, EntityRows, MentionRows, RejectRows,
    SpoolReader, SpoolWriter, Staging, TableWriter,
};

/// The crate version, recorded in reports and Parquet metadata.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where a run's config came from, for resolving relative paths and for the report.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Directory relative `[input] paths` and `[output] dir` are resolved against.
    pub base_dir: PathBuf,
    /// The config file, if one was used.
    pub config_path: Option<PathBuf>,
}

/// Run the whole pipeline; returns the report that was also written as `report.json`.
pub fn run(cfg: &Config, ctx: &RunContext) -> Result<RunReport> {
    let threads = if cfg.run.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        cfg.run.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("newsmill-{i}"))
        .build()
        .context("cannot start the worker threads")?;
    pool.install(|| run_in_pool(cfg, ctx, threads))
}

fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

#[derive(Default)]
struct Counters {
    read: StageReport,
    clean: StageReport,
    extract: StageReport,
    write: StageReport,
    text_bytes: u64,
    rejected: u64,
}

impl Counters {
    fn reject(&mut self, stage: &'static str, r: &Reject, rows: &mut RejectRows) {
        let st = match stage {
            "read" => &mut self.read,
            _ => &mut self.clean,
        };
        *st.rejected
            .entry(r.reason.as_str().to_string())
            .or_default() += 1;
        self.rejected += 1;
        rows.push(r);
    }
}

fn run_in_pool(cfg: &Config, ctx: &RunContext, threads: usize) -> Result<RunReport> {
    let wall = Instant::now();
    let cpu0 = util::cpu_secs().unwrap_or(0.0);
    let started = util::unix_secs();
    let run_id = format!("{}-{}", util::compact_utc(started), std::process::id());

    let source = Source::from_config(&cfg.input, &ctx.base_dir)?;
    let cleaner = Cleaner::from_config(&cfg.clean)?;
    let extractor = if cfg.extract.enabled {
        Some(Extractor::from_config(&cfg.extract, &ctx.base_dir)?)
    } else {
        None
    };
    let out_dir = resolve(&ctx.base_dir, &cfg.output.dir);
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
    let staging = Staging::create(&out_dir, &run_id)?;
    let config_hash = cfg.result_hash();
    let meta = vec![
        ("newsmill_version".to_string(), VERSION.to_string()),
        ("newsmill_config_hash".to_string(), config_hash.clone()),
    ];
    let writer = |name: &'static str| {
        TableWriter::new(name, staging.table_dir(name), &cfg.output, meta.clone())
    };
    let mut rejects_w = writer(table::REJECTS)?;
    let mut c = Counters::default();

    let furniture = if cfg.clean.repeated_lines {
        learn_furniture(cfg, &source, &cleaner)
    } else {
        Furniture::default()
    };

    // Pass 1: read → clean → spool.
    let spool_path = staging.scratch("spool.bin.zst");
    let mut spool = SpoolWriter::create(&spool_path)?;
    let mut clean_stats = CleanStats::default();
    let total_bytes = source.total_bytes();
    let bytes_read = source.bytes_counter();
    let mut progress = Progress::new(
        cfg.run.progress,
        "read",
        total_bytes,
        true,
        cfg.run.log_interval_secs,
    );
    let (tx, rx) = sync_channel::<Vec<ReadItem>>(2);
    let reader_source = source.clone();
    let batch_size = cfg.run.batch_size;
    let reader = std::thread::Builder::new()
        .name("newsmill-read".into())
        .spawn(move || {
            let mut busy = Duration::ZERO;
            let mut records = reader_source.records();
            loop {
                let t = Instant::now();
                let batch: Vec<ReadItem> = records.by_ref().take(batch_size).collect();
                busy += t.elapsed();
                if batch.is_empty() || tx.send(batch).is_err() {
                    break;
                }
            }
            busy
        })
        .context("cannot start the reader thread")?;

    for batch in rx {
        let mut docs: Vec<Doc> = Vec::with_capacity(batch.len());
        let mut reject_rows = RejectRows::default();
        for item in batch {
            c.read.docs_in += 1;
            match item {
                ReadItem::Doc(d) => {
                    c.text_bytes += d.raw_bytes;
                    docs.push(*d);
                }
                ReadItem::Reject(r) => c.reject("read", &r, &mut reject_rows),
            }
        }
        c.read.docs_out += docs.len() as u64;
        c.clean.docs_in += docs.len() as u64;

        let t = Instant::now();
        let verdicts: Vec<(Verdict, CleanStats)> = docs
            .par_iter_mut()
            .map(|d| {
                let mut s = CleanStats::default();
                let v = cleaner.process(d, &furniture, &mut s);
                (v, s)
            })
            .collect();
        c.clean.secs += t.elapsed().as_secs_f64();

        let t = Instant::now();
        for (d, (v, s)) in docs.into_iter().zip(verdicts) {
            clean_stats.add(&s);
            match v {
                Verdict::Keep => {
                    c.clean.docs_out += 1;
                    spool.push(&d)?;
                }
                Verdict::Reject(reason, detail) => {
                    let r = Reject {
                        input_file: d.input_file,
                        input_record: d.input_record,
                        doc_id: Some(d.doc_id),
                        stage: "clean",
                        reason,
                        detail,
                    };
                    c.reject("clean", &r, &mut reject_rows);
                }
            }
        }
        rejects_w.write(&reject_rows.into_frame()?)?;
        c.write.secs += t.elapsed().as_secs_f64();
        progress.update(bytes_read.load(Ordering::Relaxed), c.read.docs_in);
    }
    progress.finish();
    let read_busy = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    c.read.secs = read_busy.as_secs_f64();
    let spooled = spool.count();
    let spool_path = spool.finish()?;

    // Pass 2: spool → extract → tables.
    let mut documents_w = writer(table::DOCUMENTS)?;
    let mut duplicates_w = writer(table::DUPLICATES)?;
    let mut mentions_w = writer(table::MENTIONS)?;
    let mut entities = EntityAggregates::default();
    let mut reader = SpoolReader::open(&spool_path, spooled)?;
    let mut progress = Progress::new(
        cfg.run.progress,
        "write",
        spooled,
        false,
        cfg.run.log_interval_secs,
    );
    let mut done = 0u64;
    let mut duplicates = 0u64;
    loop {
        let docs = reader.next_batch(batch_size)?;
        if docs.is_empty() {
            break;
        }
        let t = Instant::now();
        c.extract.docs_in += docs.len() as u64;
        let extracted: Vec<Option<Extraction>> = docs
            .par_iter()
            .map(|d| extractor.as_ref().map(|x| x.process(d)))
            .collect();
        let labels: Vec<DocLabels> = docs
            .iter()
            .zip(&extracted)
            .map(|(d, x)| DocLabels {
                content_hash: format!("{:016x}", xxh3_64(d.text.as_bytes())),
                n_tokens: match x {
                    Some(x) => x.n_tokens as u64,
                    None => d.text.split_whitespace().count() as u64,
                },
                cluster_id: None,
                cluster_size: 1,
            })
            .collect();
        c.extract.docs_out += docs.len() as u64;
        c.extract.secs += t.elapsed().as_secs_f64();

        let t = Instant::now();
        let mut rows = DocumentRows::default();
        let dup_rows = DuplicateRows::default();
        let mut mention_rows = MentionRows::default();
        for ((d, l), x) in docs.iter().zip(&labels).zip(&extracted) {
            rows.push(d, l);
            if let Some(x) = x {
                mention_rows.push_doc(&d.doc_id, &x.mentions);
                entities.add(d, x);
            }
        }
        c.write.docs_in += docs.len() as u64;
        c.write.docs_out += rows.len() as u64;
        duplicates += dup_rows.len() as u64;
        documents_w.write(&rows.into_frame()?)?;
        duplicates_w.write(&dup_rows.into_frame()?)?;
        mentions_w.write(&mention_rows.into_frame()?)?;
        c.write.secs += t.elapsed().as_secs_f64();
        done += docs.len() as u64;
        progress.update(done, done);
    }
    progress.finish();

    let mut tables = BTreeMap::new();
    tables.insert(
        table::DOCUMENTS.to_string(),
        documents_w.finish(DocumentRows::default().into_frame()?)?,
    );
    tables.insert(
        table::DUPLICATES.to_string(),
        duplicates_w.finish(DuplicateRows::default().into_frame()?)?,
    );
    if extractor.is_some() {
        tables.insert(
            table::MENTIONS.to_string(),
            mentions_w.finish(MentionRows::default().into_frame()?)?,
        );
        let mut entities_w = writer(table::ENTITIES)?;
        let t = Instant::now();
        entities_w.write(&entities.into_rows().into_frame()?)?;
        tables.insert(
            table::ENTITIES.to_string(),
            entities_w.finish(EntityRows::default().into_frame()?)?,
        );
        c.write.secs += t.elapsed().as_secs_f64();
    } else {
        drop(mentions_w);
        let _ = std::fs::remove_dir_all(staging.table_dir(table::MENTIONS));
    }
    tables.insert(
        table::REJECTS.to_string(),
        rejects_w.finish(RejectRows::default().into_frame()?)?,
    );

    let kept = tables[table::DOCUMENTS];
    let totals = Totals {
        input_records: c.read.docs_in,
        kept,
        duplicates,
        rejected: c.rejected,
        balanced: c.read.docs_in == kept + duplicates + c.rejected,
    };
    if !totals.balanced {
        bail!(
            "record accounting does not balance: {} in != {} kept + {} duplicates + {} rejected; output not committed",
            totals.input_records, totals.kept, totals.duplicates, totals.rejected
        );
    }

    let wall_secs = wall.elapsed().as_secs_f64();
    let cpu_secs = (util::cpu_secs().unwrap_or(cpu0) - cpu0).max(1e-9);
    let text_mb = c.text_bytes as f64 / 1e6;
    let mut stages = BTreeMap::new();
    stages.insert("read".to_string(), c.read);
    stages.insert("clean".to_string(), c.clean);
    stages.insert("extract".to_string(), c.extract);
    stages.insert("write".to_string(), c.write);
    let report = RunReport {
        newsmill_version: VERSION.to_string(),
        run_id,
        started_at: util::iso_utc(started),
        finished_at: util::iso_utc(util::unix_secs()),
        config_path: ctx.config_path.as_ref().map(|p| p.display().to_string()),
        config_hash,
        threads,
        input_files: source
            .files()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        input_bytes: total_bytes,
        text_bytes: c.text_bytes,
        stages,
        clean: clean_stats,
        tables,
        throughput: Throughput {
            wall_secs,
            cpu_secs,
            docs_per_sec: totals.input_records as f64 / wall_secs.max(1e-9),
            text_mb_per_sec: text_mb / wall_secs.max(1e-9),
            text_mb_per_cpu_sec: text_mb / cpu_secs,
            docs_per_cpu_sec: totals.input_records as f64 / cpu_secs,
            peak_rss_mb: util::peak_rss_bytes().unwrap_or(0) as f64 / 1e6,
        },
        totals,
    };
    let json = serde_json::to_vec_pretty(&report).context("cannot serialise the report")?;
    let committed: Vec<&str> = report.tables.keys().map(String::as_str).collect();
    staging.commit(&committed, &json)?;
    Ok(report)
}

/// Learn per-source furniture from the first `[clean] repeated_sample_docs` documents.
fn learn_furniture(cfg: &Config, source: &Source, cleaner: &Cleaner) -> Furniture {
    let sample = Source::from_files(source.files().to_vec(), &cfg.input);
    let mut learner = FurnitureLearner::default();
    let mut records = sample.records().filter_map(|item| match item {
        ReadItem::Doc(d) => Some(*d),
        ReadItem::Reject(_) => None,
    });
    let mut left = cfg.clean.repeated_sample_docs;
    while left > 0 {
        let take = left.min(cfg.run.batch_size as u64) as usize;
        let batch: Vec<Doc> = records.by_ref().take(take).collect();
        if batch.is_empty() {
            break;
        }
        left -= batch.len() as u64;
        let prepared: Vec<_> = batch
            .par_iter()
            .map(|d| cleaner.furniture_sample(d))
            .collect();
        for (key, paras) in prepared.into_iter().flatten() {
            learner.observe(key, &paras, cfg.clean.max_boilerplate_line_chars);
        }
    }
    learner.finish(cfg.clean.repeated_min_docs, cfg.clean.repeated_min_share)
}

/// Per-entity totals over the run's kept documents. Its size grows with the number of
/// distinct entities, not with the corpus.
#[derive(Default)]
struct EntityAggregates {
    by_id: BTreeMap<u64, EntityAgg>,
}

struct EntityAgg {
    row: EntityRow,
    aliases: std::collections::BTreeSet<String>,
}

impl EntityAggregates {
    fn add(&mut self, doc: &Doc, x: &Extraction) {
        let mut seen = std::collections::BTreeSet::new();
        for m in &x.mentions {
            let e = &m.entity;
            let agg = self.by_id.entry(e.id).or_insert_with(|| EntityAgg {
                row: EntityRow {
                    entity_id: entity_id_hex(e.id),
                    name: e.name.clone(),
                    etype: e.etype.as_str(),
                    aliases: Vec::new(),
                    n_mentions: 0,
                    n_docs: 0,
                    first_seen: None,
                    last_seen: None,
                    geo: e.geo.clone(),
                },
                aliases: Default::default(),
            });
            agg.row.n_mentions += 1;
            if m.text != agg.row.name {
                agg.aliases.insert(m.text.clone());
            }
            if seen.insert(e.id) {
                agg.row.n_docs += 1;
                if let Some(p) = doc.published.as_deref() {
                    if agg.row.first_seen.as_deref().is_none_or(|f| p < f) {
                        agg.row.first_seen = Some(p.to_string());
                    }
                    if agg.row.last_seen.as_deref().is_none_or(|l| p > l) {
                        agg.row.last_seen = Some(p.to_string());
                    }
                }
            }
        }
    }

    fn into_rows(self) -> EntityRows {
        let mut rows = EntityRows::default();
        for (_, mut a) in self.by_id {
            a.row.aliases = a.aliases.into_iter().collect();
            rows.push(a.row);
        }
        rows
    }
}
