//! Orchestration: builds every stage from the config, streams batches through them, and
//! commits the tables and the report.
//!
//! The run has two passes so memory never holds the corpus:
//! 1. **stream**: read → clean (rayon, per doc) → dedup signatures (rayon) and index
//!    updates (in input order) → cleaned docs spooled (in memory up to a budget, beyond it to a scratch file); rejects are
//!    written as they occur.
//! 2. **output**: dedup decisions are final; spooled docs are read back in order →
//!    extraction (rayon) → `documents` / `duplicates` / ... tables, written by a writer
//!    thread one batch behind extraction so both cores stay busy.
//!
//! Before pass 1, when `[clean] repeated_lines` is on, a bounded sample of the input is read
//! to learn per-source furniture. Batches are processed with order-preserving parallel maps,
//! so output is byte-identical for any thread count.
//!
//! With `[state] dir` set a run is incremental (see `state/`): the state dir is locked and
//! recovered first, only input files missing from its manifest are read, the dedup index
//! and entity registry of earlier runs are loaded, tables are written as `run=<run_id>`
//! partitions (the `entities` snapshot whole), and output + new state are published together
//! by the commit journal. Without it a run is one-off: whole tables, replaced atomically.
//!
//! With `RunContext::shard` set (`--shard i/N`) the run is one task of a sharded run (see
//! `pipeline/shards.rs`): it reads only its files, signs but does not decide duplicates,
//! writes its tables plus a `signatures` table under its shard folder and a completion marker
//! last; `newsmill merge` later replays the dedup decisions in the single-run order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use crate::clean::{CleanStats, Cleaner, Furniture, FurnitureLearner};
use crate::config::Config;
use crate::dedup::{Assignment, DedupIndex, DocMeta, Signature, Signer};
use crate::doc::{entity_id_hex, Doc, Reject, Verdict};
use crate::extract::{Extraction, Extractor};
use crate::progress::Progress;
use crate::read::{ReadItem, ShardSpec, Source};
use crate::report::{DedupReport, RunReport, StageReport, Throughput, Totals};
use crate::state::{lookup_doc_ids, EntityRegistry, ENTITIES_FILE};
use crate::util;
use crate::write::schema::table;
use crate::write::{
    DocLabels, DocumentRows, DuplicateRow, DuplicateRows, EntityRow, EntityRows, MentionRows,
    QuoteRow, QuoteRows, RejectRows, RelationRow, RelationRows, SpoolReader, SpoolWriter, Staging,
    TableWriter,
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
    /// Set for one task of a sharded run (`--shard i/N`); see `pipeline/shards.rs`.
    pub shard: Option<ShardSpec>,
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

/// Name of the dedup index file inside `[state] dir`.
pub use crate::state::DEDUP_INDEX_FILE;

mod nightly;
mod shards;

use nightly::{
    check_layout, commit_nightly, fail_point, nothing_new, open_nightly, run_record, StagedRun,
};
pub use nightly::{status, FAIL_AT_ENV};
pub use shards::{merge, MergeReport, ShardManifest, MANIFEST_FILE, MARKER_FILE, SIGNATURES_TABLE};

#[derive(Default)]
struct Counters {
    read: StageReport,
    clean: StageReport,
    dedup: StageReport,
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
    let stamp = util::compact_utc(started);
    let root_dir = resolve(&ctx.base_dir, &cfg.output.dir);
    let listed = Source::from_config(&cfg.input, &ctx.base_dir)?;
    let shard = match ctx.shard {
        Some(spec) => Some(shards::open_shard(
            cfg,
            ctx,
            &root_dir,
            listed.files(),
            spec,
        )?),
        None => None,
    };
    let out_dir = shard.as_ref().map_or(root_dir, |s| s.dir.clone());
    let (nightly, run_id, source) = if let Some(sh) = &shard {
        let source = Source::from_files(sh.files.clone(), &cfg.input);
        (None, format!("{stamp}-{}", std::process::id()), source)
    } else if cfg.state.enabled() {
        let dir = resolve(&ctx.base_dir, &cfg.state.dir);
        let n = open_nightly(&dir, &out_dir, listed.files(), &stamp, &cfg.result_hash())?;
        if n.todo.is_empty() {
            return Ok(nothing_new(cfg, n.report, started, threads));
        }
        let run_id = format!("{:05}-{stamp}", n.manifest.runs.len() + 1);
        let files = n.todo.iter().map(|f| f.path.clone()).collect();
        let source = Source::from_files(files, &cfg.input);
        (Some(n), run_id, source)
    } else {
        check_layout(&out_dir, false)?;
        (
            None,
            format!("{stamp}-{}", std::process::id()),
            listed.clone(),
        )
    };
    let cleaner = Cleaner::from_config(&cfg.clean)?;
    let signer = if cfg.dedup.enabled {
        Some(Signer::from_config(&cfg.dedup)?)
    } else {
        None
    };
    let index_path = nightly.as_ref().map(|n| n.state.file(DEDUP_INDEX_FILE));
    // A shard only signs: decisions need every shard's documents (`newsmill merge`).
    let band_index = shard.as_ref().map(|_| DedupIndex::new(&cfg.dedup));
    let mut index = match (&signer, &index_path) {
        (None, _) => None,
        (Some(_), _) if shard.is_some() => None,
        (Some(_), Some(p)) if p.exists() => Some(DedupIndex::load(p, &cfg.dedup)?),
        (Some(_), _) => Some(DedupIndex::new(&cfg.dedup)),
    };
    let indexed_before = index.as_ref().map_or(0, |i| i.len());
    let extractor = if cfg.extract.enabled {
        Some(Extractor::from_config(&cfg.extract, &ctx.base_dir)?)
    } else {
        None
    };
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
    let staging = Staging::create(&out_dir, &run_id)?;
    let config_hash = cfg.result_hash();
    let meta = vec![
        ("newsmill_version".to_string(), VERSION.to_string()),
        ("newsmill_config_hash".to_string(), config_hash.clone()),
    ];
    // One-off runs write whole tables; incremental runs write one `run=<id>` partition per
    // table (the `entities` snapshot is always whole).
    let partition = format!("run={run_id}");
    let writer = |name: &'static str| {
        let dir = match &nightly {
            Some(_) if name != table::ENTITIES => staging.table_dir(name).join(&partition),
            _ => staging.table_dir(name),
        };
        TableWriter::new(dir, &cfg.output, meta.clone())
    };
    let mut rejects_w = writer(table::REJECTS)?;
    let mut signatures_w = match &shard {
        Some(_) => Some(writer(SIGNATURES_TABLE)?),
        None => None,
    };
    let mut c = Counters::default();

    // A shard learns furniture from the whole input's sample, as a single run would.
    let furniture_source = if shard.is_some() { &listed } else { &source };
    let (furniture, reread) = if cfg.clean.repeated_lines {
        // A shard's pass 1 reads other files than the sample: nothing to hand over.
        let keep = if shard.is_some() {
            0
        } else {
            KEEP_SAMPLE_BYTES
        };
        let t = Instant::now();
        let (f, items) = learn_furniture(cfg, furniture_source, &cleaner, keep);
        // Handed over, the input was read while learning: count that as the read stage.
        if items.is_some() {
            c.read.secs += t.elapsed().as_secs_f64();
        }
        (f, items)
    } else {
        (Furniture::default(), None)
    };

    // Pass 1: read → clean → spool.
    let spool_path = staging.scratch("spool.bin.zst");
    let mut spool = SpoolWriter::create(&spool_path, SPOOL_MEMORY_BYTES)?;
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
    let read_counter = Arc::clone(&bytes_read);
    let reader = std::thread::Builder::new()
        .name("newsmill-read".into())
        .spawn(move || {
            let mut busy = Duration::ZERO;
            let mut records: Box<dyn Iterator<Item = ReadItem>> = match reread {
                Some(items) => {
                    read_counter.store(total_bytes, Ordering::Relaxed);
                    Box::new(items.into_iter())
                }
                None => Box::new(reader_source.records()),
            };
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
            if let ReadItem::Skipped(why) = item {
                *c.read.skipped.entry(why.to_string()).or_default() += 1;
                continue;
            }
            c.read.docs_in += 1;
            match item {
                ReadItem::Doc(d) => {
                    c.text_bytes += d.raw_bytes;
                    docs.push(*d);
                }
                ReadItem::Reject(r) => c.reject("read", &r, &mut reject_rows),
                ReadItem::Skipped(_) => {}
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

        let mut kept: Vec<Doc> = Vec::with_capacity(docs.len());
        for (d, (v, s)) in docs.into_iter().zip(verdicts) {
            clean_stats.add(&s);
            match v {
                Verdict::Keep => kept.push(d),
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
        c.clean.docs_out += kept.len() as u64;

        if let (Some(signer), Some(index)) = (&signer, index.as_mut()) {
            let t = Instant::now();
            let sigs: Vec<Signature> = kept.par_iter().map(|d| signer.sign(&d.text)).collect();
            for (d, sig) in kept.iter().zip(&sigs) {
                index.add(doc_meta(d), sig);
            }
            c.dedup.secs += t.elapsed().as_secs_f64();
        }
        if let (Some(signer), Some(sh), Some(bi), Some(w)) =
            (&signer, &shard, &band_index, signatures_w.as_mut())
        {
            let t = Instant::now();
            let rows: Vec<shards::SigRow> = kept
                .par_iter()
                .map(|d| {
                    let sig = signer.sign(&d.text);
                    shards::signature_row(sh, bi, &doc_meta(d), d, &sig)
                })
                .collect();
            let mut sig_rows = crate::write::shards::SignatureRows::default();
            for r in rows {
                sig_rows.push(r);
            }
            c.dedup.secs += t.elapsed().as_secs_f64();
            w.write(&sig_rows.into_frame()?)?;
        }

        let t = Instant::now();
        for d in kept {
            spool.push(d)?;
        }
        rejects_w.write(&reject_rows.into_frame()?)?;
        c.write.secs += t.elapsed().as_secs_f64();
        progress.update(bytes_read.load(Ordering::Relaxed), c.read.docs_in);
        fail_point("read");
    }
    progress.finish();
    let read_busy = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    c.read.secs += read_busy.as_secs_f64();
    let spooled = spool.count();
    let spooled_docs = spool.finish()?;
    c.dedup.docs_in = spooled;
    let t = Instant::now();
    let assignments: Vec<Assignment> = match index.as_mut() {
        Some(ix) => ix.finish(),
        None => Vec::new(),
    };
    c.dedup.secs += t.elapsed().as_secs_f64();
    let mut dedup_report = DedupReport {
        enabled: index.is_some(),
        index_docs_before: indexed_before as u64,
        index_docs_after: index.as_ref().map_or(0, |i| i.len() as u64),
        index_bytes_per_doc: index.as_ref().map_or(0.0, |i| i.bytes_per_doc()),
        ..DedupReport::default()
    };
    for a in &assignments {
        match a.kind {
            Some(crate::dedup::DupKind::Exact) => dedup_report.exact_duplicates += 1,
            Some(crate::dedup::DupKind::Near) => dedup_report.near_duplicates += 1,
            None if a.cluster_size > 1 => dedup_report.clusters += 1,
            None => {}
        }
    }

    // The decisions are made: a plain run frees the index (the only state that grows with
    // the corpus) instead of holding it under pass 2's peak; a nightly run keeps it to save
    // with the run's commit.
    if nightly.is_none() {
        index = None;
    }

    // Pass 2: spool → extract → tables. A writer thread turns each extracted batch into rows
    // and Parquet while the pool extracts the next one: writing is a fifth of the pass, and
    // done in line it left the pool idle (CPU use 0.79 of two cores on Reuters).
    let tables_w = Pass2Tables {
        documents: writer(table::DOCUMENTS)?,
        duplicates: writer(table::DUPLICATES)?,
        mentions: writer(table::MENTIONS)?,
        relations: writer(table::RELATIONS)?,
        quotes: writer(table::QUOTES)?,
        entities: EntityRegistry::default(),
        secs: 0.0,
        rows: 0,
    };
    let mut reader = SpoolReader::open(spooled_docs)?;
    let mut progress = Progress::new(
        cfg.run.progress,
        "write",
        spooled,
        false,
        cfg.run.log_interval_secs,
    );
    let mut done = 0u64;
    let mut duplicates = 0u64;
    let mut tracker = DupTracker::default();
    // Incremental runs remember every kept doc's id, for copies found on later nights.
    let mut run_doc_ids: Vec<(u64, String)> = Vec::new();
    let (batch_tx, batch_rx) = sync_channel::<ExtractedBatch>(1);
    let pass2 = std::thread::scope(|scope| -> Result<Pass2Tables> {
        let writer_thread = std::thread::Builder::new()
            .name("newsmill-write".into())
            .spawn_scoped(scope, move || write_batches(batch_rx, tables_w))
            .context("cannot start the writer thread")?;
        let mut fed: Result<()> = Ok(());
        loop {
            let docs = match reader.next_batch(batch_size) {
                Ok(d) => d,
                Err(e) => {
                    fed = Err(e.into());
                    break;
                }
            };
            if docs.is_empty() {
                break;
            }
            let assign: Vec<Option<Assignment>> = (0..docs.len())
                .map(|i| assignments.get(done as usize + i).cloned())
                .collect();
            let t = Instant::now();
            let mut dup_rows = DuplicateRows::default();
            let mut keep: Vec<bool> = Vec::with_capacity(docs.len());
            for (d, a) in docs.iter().zip(&assign) {
                let Some(a) = a else {
                    keep.push(true);
                    continue;
                };
                tracker.observe(
                    doc_meta(d).key,
                    &d.doc_id,
                    &d.input_file,
                    d.input_record,
                    a,
                    &mut dup_rows,
                );
                keep.push(a.keep);
                if !a.keep {
                    duplicates += 1;
                } else if nightly.is_some() {
                    run_doc_ids.push((doc_meta(d).key, d.doc_id.clone()));
                }
            }
            let kept = keep.iter().filter(|k| **k).count() as u64;
            c.dedup.docs_out += kept;
            c.dedup.secs += t.elapsed().as_secs_f64();

            let t = Instant::now();
            c.extract.docs_in += kept;
            let extracted: Vec<Option<Extraction>> = docs
                .par_iter()
                .zip(&keep)
                .map(|(d, k)| {
                    if *k {
                        extractor.as_ref().map(|x| x.process(d))
                    } else {
                        None
                    }
                })
                .collect();
            c.extract.docs_out += kept;
            c.extract.secs += t.elapsed().as_secs_f64();
            done += docs.len() as u64;
            let batch = ExtractedBatch {
                docs,
                extracted,
                assign,
                keep,
                dup_rows,
            };
            // A closed channel means the writer stopped on an error, which join reports.
            if batch_tx.send(batch).is_err() {
                break;
            }
            progress.update(done, done);
        }
        drop(batch_tx);
        let written = writer_thread
            .join()
            .map_err(|_| anyhow::anyhow!("the writer thread panicked"))?;
        fed?;
        written
    })?;
    let Pass2Tables {
        documents: documents_w,
        duplicates: mut duplicates_w,
        mentions: mentions_w,
        relations: relations_w,
        quotes: quotes_w,
        mut entities,
        secs,
        rows,
    } = pass2;
    c.write.secs += secs;
    c.write.docs_in += rows;
    c.write.docs_out += rows;
    if tracker.has_pending() {
        // Still unknown after this run: the representative was kept by an earlier run.
        let earlier = tracker.unresolved();
        let earlier_ids = match &nightly {
            Some(n) => lookup_doc_ids(n.state.dir(), &earlier)?,
            None => Default::default(),
        };
        duplicates_w.write(&tracker.finish(&earlier_ids).into_frame()?)?;
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
        tables.insert(
            table::RELATIONS.to_string(),
            relations_w.finish(RelationRows::default().into_frame()?)?,
        );
        tables.insert(
            table::QUOTES.to_string(),
            quotes_w.finish(QuoteRows::default().into_frame()?)?,
        );
        let mut entities_w = writer(table::ENTITIES)?;
        let t = Instant::now();
        if let Some(n) = &nightly {
            // The snapshot: everything earlier runs registered plus this run's entities.
            let path = n.state.file(ENTITIES_FILE);
            let mut merged = EntityRegistry::load_or_default(&path)?;
            merged.merge(entities);
            entities = merged;
        }
        entities_w.write(&entity_rows(&entities).into_frame()?)?;
        tables.insert(
            table::ENTITIES.to_string(),
            entities_w.finish(EntityRows::default().into_frame()?)?,
        );
        c.write.secs += t.elapsed().as_secs_f64();
    } else {
        drop((mentions_w, relations_w, quotes_w));
        for t in [table::MENTIONS, table::RELATIONS, table::QUOTES] {
            let _ = std::fs::remove_dir_all(staging.table_dir(t));
        }
    }
    tables.insert(
        table::REJECTS.to_string(),
        rejects_w.finish(RejectRows::default().into_frame()?)?,
    );
    if let Some(w) = signatures_w {
        tables.insert(
            SIGNATURES_TABLE.to_string(),
            w.finish(crate::write::shards::SignatureRows::default().into_frame()?)?,
        );
    }

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
    if dedup_report.enabled {
        stages.insert("dedup".to_string(), c.dedup);
    }
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
        dedup: dedup_report,
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
        incremental: nightly.as_ref().map(|n| n.report.clone()),
    };
    let json = serde_json::to_vec_pretty(&report).context("cannot serialise the report")?;
    let committed: Vec<&str> = report.tables.keys().map(String::as_str).collect();
    match nightly {
        None => {
            staging.commit(&committed, &json)?;
            if let Some(sh) = &shard {
                shards::finish_shard(sh, cfg, report.tables[table::DOCUMENTS])?;
            }
        }
        Some(n) => {
            let staged = StagedRun {
                run_id: &report.run_id,
                tables: &committed,
                report_json: &json,
                index: index.as_ref(),
                entities: extractor.is_some().then_some(&entities),
                record: run_record(&report),
                doc_ids: &run_doc_ids,
            };
            commit_nightly(n, staging, &out_dir, staged)?;
        }
    }
    Ok(report)
}

/// Pass 2's per-run outputs, owned by the writer thread while batches stream and handed back
/// when the last is written.
struct Pass2Tables {
    documents: TableWriter,
    duplicates: TableWriter,
    mentions: TableWriter,
    relations: TableWriter,
    quotes: TableWriter,
    entities: EntityRegistry,
    /// Wall seconds spent building rows and writing them.
    secs: f64,
    /// Document rows written.
    rows: u64,
}

/// One spool batch after dedup decisions and extraction, in input order.
struct ExtractedBatch {
    docs: Vec<Doc>,
    extracted: Vec<Option<Extraction>>,
    assign: Vec<Option<Assignment>>,
    keep: Vec<bool>,
    dup_rows: DuplicateRows,
}

/// The writer thread of pass 2: rows and Parquet/CSV for each batch, in the order received,
/// so the tables are the same as when written in line.
fn write_batches(
    rx: std::sync::mpsc::Receiver<ExtractedBatch>,
    mut out: Pass2Tables,
) -> Result<Pass2Tables> {
    for b in rx {
        let t = Instant::now();
        let mut rows = DocumentRows::default();
        let mut mention_rows = MentionRows::default();
        let mut relation_rows = RelationRows::default();
        let mut quote_rows = QuoteRows::default();
        for (((d, x), a), k) in b.docs.iter().zip(&b.extracted).zip(&b.assign).zip(&b.keep) {
            if !*k {
                continue;
            }
            let labels = DocLabels {
                content_hash: format!("{:016x}", xxh3_64(d.text.as_bytes())),
                n_tokens: match x {
                    Some(x) => x.n_tokens as u64,
                    None => d.text.split_whitespace().count() as u64,
                },
                cluster_id: a.as_ref().map(|a| entity_id_hex(a.cluster_id)),
                cluster_size: a.as_ref().map_or(1, |a| a.cluster_size),
            };
            rows.push(d, &labels);
            if let Some(x) = x {
                mention_rows.push_doc(&d.doc_id, &x.mentions);
                push_relations(&d.doc_id, x, &mut relation_rows);
                push_quotes(&d.doc_id, x, &mut quote_rows);
                out.entities.add_doc(d.published.as_deref(), &x.mentions);
            }
        }
        out.rows += rows.len() as u64;
        out.documents.write(&rows.into_frame()?)?;
        out.duplicates.write(&b.dup_rows.into_frame()?)?;
        out.mentions.write(&mention_rows.into_frame()?)?;
        out.relations.write(&relation_rows.into_frame()?)?;
        out.quotes.write(&quote_rows.into_frame()?)?;
        out.secs += t.elapsed().as_secs_f64();
        fail_point("write");
    }
    Ok(out)
}

/// The input of a run is handed from furniture learning to pass 1 instead of being read
/// twice when learning read all of it and it holds at most this many bytes of text (64 MiB:
/// Reuters-21578 is 15 MB; memory stays bounded whatever the corpus).
const KEEP_SAMPLE_BYTES: u64 = 64 << 20;

/// Cleaned documents (text and fields, in bytes) that pass 1 keeps in memory for pass 2
/// before the spool spills to a scratch file. Same bound as [`KEEP_SAMPLE_BYTES`]: a run
/// that small skips the spool's zstd round trip (~3% of a Reuters run's instructions),
/// and a larger one is bounded by it.
const SPOOL_MEMORY_BYTES: usize = 64 << 20;

/// Learn per-source furniture from the first `[clean] repeated_sample_docs` documents.
/// When the sample turns out to be the whole input of at most `keep` bytes of text, also
/// returns every item read (documents, rejects, skips, in order), so pass 1 need not read
/// the input again.
fn learn_furniture(
    cfg: &Config,
    source: &Source,
    cleaner: &Cleaner,
    keep: u64,
) -> (Furniture, Option<Vec<ReadItem>>) {
    let sample = Source::from_files(source.files().to_vec(), &cfg.input);
    let mut learner = FurnitureLearner::default();
    let mut records = sample.records();
    let mut kept: Option<Vec<ReadItem>> = (keep > 0).then(Vec::new);
    // Text bytes of the documents read, plus a little per reject or skip.
    let mut kept_bytes = 0u64;
    let size = |item: &ReadItem| match item {
        ReadItem::Doc(d) => d.raw_bytes,
        ReadItem::Reject(_) | ReadItem::Skipped(_) => 256,
    };
    let mut left = cfg.clean.repeated_sample_docs;
    let mut exhausted = false;
    while left > 0 && !exhausted {
        let take = left.min(cfg.run.batch_size as u64);
        // This batch's documents: at the end of `kept` while it is kept, else in `fresh`.
        let start = kept.as_ref().map_or(0, Vec::len);
        let mut fresh: Vec<Doc> = Vec::new();
        let mut n = 0;
        while n < take {
            let Some(item) = records.next() else {
                exhausted = true;
                break;
            };
            n += u64::from(matches!(item, ReadItem::Doc(_)));
            kept_bytes += size(&item);
            match kept.as_mut() {
                Some(k) => k.push(item),
                None => {
                    if let ReadItem::Doc(d) = item {
                        fresh.push(*d);
                    }
                }
            }
            if kept_bytes > keep {
                if let Some(k) = kept.take() {
                    fresh.extend(k.into_iter().skip(start).filter_map(|i| match i {
                        ReadItem::Doc(d) => Some(*d),
                        ReadItem::Reject(_) | ReadItem::Skipped(_) => None,
                    }));
                }
            }
        }
        left -= n;
        let docs: Vec<&Doc> = match &kept {
            Some(k) => k[start..].iter().filter_map(ReadItem::as_doc).collect(),
            None => fresh.iter().collect(),
        };
        let prepared: Vec<_> = docs
            .par_iter()
            .map(|d| cleaner.furniture_sample(d))
            .collect();
        for (key, paras) in prepared.into_iter().flatten() {
            learner.observe(key, &paras, cfg.clean.max_boilerplate_line_chars);
        }
    }
    let furniture = learner.finish(cfg.clean.repeated_min_docs, cfg.clean.repeated_min_share);
    // The sample may end just before the end of the input: look past it, but only as far as
    // the next document (past that, the input is larger than the sample).
    if let Some(k) = kept.as_mut() {
        while !exhausted && kept_bytes <= keep {
            match records.next() {
                None => exhausted = true,
                Some(ReadItem::Doc(_)) => break,
                Some(item) => {
                    kept_bytes += size(&item);
                    k.push(item);
                }
            }
        }
    }
    (furniture, kept.filter(|_| exhausted && kept_bytes <= keep))
}

/// The `entities` table from a registry, in entity id order.
fn entity_rows(reg: &EntityRegistry) -> EntityRows {
    let mut rows = EntityRows::default();
    for (id, e) in reg.sorted() {
        rows.push(EntityRow {
            entity_id: entity_id_hex(id),
            name: e.name.clone(),
            etype: e.etype.as_str(),
            aliases: e.aliases(),
            n_mentions: e.n_mentions,
            n_docs: e.n_docs,
            first_seen: e.first_seen.clone(),
            last_seen: e.last_seen.clone(),
            geo: e.geo.clone(),
        });
    }
    rows
}

/// Relation rows of one document: mention indices become canonical entity ids and names.
fn push_relations(doc_id: &str, x: &Extraction, rows: &mut RelationRows) {
    use crate::extract::relations::RelObject;
    for r in &x.relations {
        let Some(subj) = x.mentions.get(r.subject) else {
            continue;
        };
        let (object_id, object) = match &r.object {
            RelObject::Mention(i) => match x.mentions.get(*i) {
                Some(m) => (Some(entity_id_hex(m.entity.id)), m.entity.name.clone()),
                None => continue,
            },
            RelObject::Text { text, .. } => (None, text.clone()),
        };
        rows.push(RelationRow {
            doc_id: doc_id.to_string(),
            sentence: r.sentence as u32,
            subject_id: entity_id_hex(subj.entity.id),
            subject: subj.entity.name.clone(),
            predicate: r.predicate.as_str(),
            object_id,
            object,
            start: r.start as u64,
            end: r.end as u64,
            confidence: r.confidence,
            method: r.method,
        });
    }
}

/// Quote rows of one document, speakers resolved to canonical entities where known.
fn push_quotes(doc_id: &str, x: &Extraction, rows: &mut QuoteRows) {
    for q in &x.quotes {
        let speaker = q.speaker.and_then(|i| x.mentions.get(i));
        rows.push(QuoteRow {
            doc_id: doc_id.to_string(),
            sentence: q.sentence as u32,
            speaker_id: speaker.map(|m| entity_id_hex(m.entity.id)),
            speaker: speaker
                .map(|m| m.entity.name.clone())
                .or_else(|| q.speaker_text.clone()),
            quote: q.quote.clone(),
            start: q.start as u64,
            end: q.end as u64,
            verb: q.verb.clone(),
            kind: q.kind,
        });
    }
}

/// Turns dedup [`Assignment`]s into `duplicates` rows, in decision order: remembers each
/// cluster representative's doc id, and holds back copies seen before their representative
/// (keep = longest/earliest) until the end. Shared by single runs and `newsmill merge`, so
/// both write the same rows.
#[derive(Default)]
struct DupTracker {
    kept_ids: std::collections::HashMap<u64, String>,
    pending: Vec<(DuplicateRow, u64)>,
}

impl DupTracker {
    /// Records one document's decision; a duplicate whose representative is known goes to
    /// `rows` at once.
    fn observe(
        &mut self,
        key: u64,
        doc_id: &str,
        input_file: &str,
        input_record: u64,
        a: &Assignment,
        rows: &mut DuplicateRows,
    ) {
        if a.keep && a.kind.is_none() && a.cluster_size > 1 {
            self.kept_ids.insert(key, doc_id.to_string());
        }
        if let Some(kind) = a.kind {
            let row = DuplicateRow {
                doc_id: doc_id.to_string(),
                cluster_id: entity_id_hex(a.cluster_id),
                kept_doc_id: self.kept_ids.get(&a.kept_key).cloned(),
                kind: kind.as_str(),
                similarity: a.similarity,
                input_file: input_file.to_string(),
                input_record,
            };
            if row.kept_doc_id.is_some() {
                rows.push(row);
            } else {
                self.pending.push((row, a.kept_key));
            }
        }
    }

    fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Representative keys still unknown (kept by an earlier run).
    fn unresolved(&self) -> std::collections::BTreeSet<u64> {
        self.pending
            .iter()
            .map(|(_, k)| *k)
            .filter(|k| !self.kept_ids.contains_key(k))
            .collect()
    }

    /// The held-back rows, representatives filled from this run or `earlier`.
    fn finish(self, earlier: &BTreeMap<u64, String>) -> DuplicateRows {
        let mut rows = DuplicateRows::default();
        for (mut row, kept_key) in self.pending {
            row.kept_doc_id = self
                .kept_ids
                .get(&kept_key)
                .or_else(|| earlier.get(&kept_key))
                .cloned();
            rows.push(row);
        }
        rows
    }
}

/// What the dedup index needs to know about a document besides its signature.
fn doc_meta(d: &Doc) -> DocMeta {
    DocMeta {
        key: xxh3_64(d.doc_id.as_bytes()),
        n_chars: d.text.chars().count() as u64,
        published: d.published.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source_of(lines: &str, cfg: &Config) -> (tempfile::TempDir, Source) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.jsonl");
        std::fs::write(&p, lines).unwrap();
        (dir, Source::from_files(vec![p], &cfg.input))
    }

    fn summary(items: &[ReadItem]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                ReadItem::Doc(d) => format!("doc {} {}", d.doc_id, d.input_record),
                ReadItem::Reject(r) => format!("reject {:?} {}", r.reason, r.input_record),
                ReadItem::Skipped(w) => format!("skip {w}"),
            })
            .collect()
    }

    #[test]
    fn a_small_input_is_handed_from_furniture_learning_to_pass_one_whole() {
        let mut cfg = Config::default();
        cfg.run.batch_size = 2;
        let mut lines = String::new();
        for i in 0..7 {
            lines.push_str(&format!(
                "{{\"id\":\"d{i}\",\"source\":\"S\",\"text\":\"Body {i}.\\n\\nSame footer line\"}}\n"
            ));
            if i == 3 {
                lines.push_str("not json\n");
            }
        }
        lines.push_str("[1]\n");
        let (_dir, source) = source_of(&lines, &cfg);
        let cleaner = Cleaner::from_config(&cfg.clean).unwrap();
        let read_again: Vec<ReadItem> = source.records().collect();
        let (plain, none) = learn_furniture(&cfg, &source, &cleaner, 0);
        assert!(none.is_none(), "keep 0 never holds the input");
        let (furniture, items) = learn_furniture(&cfg, &source, &cleaner, 1 << 20);
        let items = items.expect("the whole input fits");
        assert_eq!(summary(&items), summary(&read_again));
        assert_eq!(furniture.len(), plain.len());
        assert!(furniture.contains(
            crate::clean::source_key(Some("S"), None),
            "Same footer line"
        ));
        // Too many bytes, or more documents than the sample: read again instead.
        assert!(learn_furniture(&cfg, &source, &cleaner, 40).1.is_none());
        cfg.clean.repeated_sample_docs = 6;
        let (_, items) = learn_furniture(&cfg, &source, &cleaner, 1 << 20);
        assert!(items.is_none(), "a seventh document follows the sample");
        // A sample that ends on the input's last document still hands over (with the
        // reject that follows it).
        cfg.clean.repeated_sample_docs = 7;
        let (_, items) = learn_furniture(&cfg, &source, &cleaner, 1 << 20);
        assert_eq!(summary(&items.expect("whole input")), summary(&read_again));
    }
}
