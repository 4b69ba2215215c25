//! The incremental half of the pipeline: opening the state dir before a run, choosing the
//! inputs, committing output partitions and new state together through the journal, and
//! `newsmill status`. Kept apart from the batch loop in `pipeline.rs`, which only asks
//! "incremental or not" at the points where the two differ.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::{resolve, RunContext, DEDUP_INDEX_FILE};
use crate::config::Config;
use crate::dedup::DedupIndex;
use crate::report::{IncrementalReport, RunReport};
use crate::state::{
    save_doc_ids, EntityRegistry, InputFile, InputStatus, Journal, Manifest, Op, RunRecord,
    StateDir, DOC_IDS_DIR, ENTITIES_FILE, MANIFEST_FILE,
};
use crate::util;
use crate::write::schema::table;
use crate::write::{Staging, STAGING_PREFIX};

/// Environment variable naming a failure point at which the run aborts as if killed with
/// `kill -9` (no cleanup runs). **Test-only**: it exists so the crash-safety tests can stop
/// a run at a chosen moment; it is read here and nowhere else. Points: `read` (after the
/// first input batch), `write` (after the first output batch), `staged` (everything staged,
/// before the commit point), `commit` (commit journal written, first partition moved),
/// `committed` (every rename done, journal not yet removed).
pub const FAIL_AT_ENV: &str = "NEWSMILL_FAIL_AT";

pub(super) fn fail_point(name: &str) {
    if std::env::var(FAIL_AT_ENV).is_ok_and(|v| v == name) {
        eprintln!("newsmill: {FAIL_AT_ENV}={name}: aborting here (test-only failure point)");
        std::process::abort();
    }
}

/// What an incremental run knows before it starts: the locked state dir, the manifest and
/// the input files to process.
pub(super) struct Nightly {
    pub(super) state: StateDir,
    pub(super) manifest: Manifest,
    pub(super) todo: Vec<InputFile>,
    pub(super) report: IncrementalReport,
}

/// Lock and recover the state dir, load the manifest and decide which inputs to process.
pub(super) fn open_nightly(
    dir: &Path,
    out_dir: &Path,
    files: &[PathBuf],
    stamp: &str,
    config_hash: &str,
) -> Result<Nightly> {
    let state = StateDir::open(dir, &format!("{stamp}-{}", std::process::id()))?;
    let recovered =
        match (&state.rolled_forward, &state.rolled_back) {
            (Some(r), _) => Some(format!(
                "finished committing run {r}, which was interrupted (state dir {})",
                dir.display()
            )),
            (None, Some(r)) => {
                Some(format!(
            "discarded the uncommitted leftovers of a killed run{} (its inputs count as new)",
            if r.is_empty() { String::new() } else { format!(" ({r})") }
        ))
            }
            (None, None) => None,
        };
    remove_stale_staging(out_dir);
    check_layout(out_dir, true)?;
    let manifest = Manifest::load_or_default(&state.file(MANIFEST_FILE))?;
    let plan = manifest.plan(files)?;
    let mut report = IncrementalReport {
        state_dir: dir.display().to_string(),
        runs_before: manifest.runs.len() as u64,
        recovered,
        config_changed_from: manifest
            .runs
            .last()
            .map(|r| r.config_hash.clone())
            .filter(|h| h != config_hash),
        ..IncrementalReport::default()
    };
    let mut todo = Vec::new();
    for (f, status) in plan {
        match status {
            InputStatus::New => {
                report.files_new += 1;
                todo.push(f);
            }
            InputStatus::Changed => {
                report.files_changed.push(f.path.display().to_string());
                todo.push(f);
            }
            InputStatus::Unchanged => report.files_skipped += 1,
            InputStatus::SameContentAs(other) => report
                .files_same_content
                .push(format!("{} = {other}", f.path.display())),
        }
    }
    Ok(Nightly {
        state,
        manifest,
        todo,
        report,
    })
}

/// The report of a run that found nothing to process: outputs and state stay untouched.
pub(super) fn nothing_new(
    cfg: &Config,
    report: IncrementalReport,
    started: u64,
    threads: usize,
) -> RunReport {
    RunReport {
        newsmill_version: super::VERSION.to_string(),
        started_at: util::iso_utc(started),
        finished_at: util::iso_utc(util::unix_secs()),
        config_hash: cfg.result_hash(),
        threads,
        incremental: Some(IncrementalReport {
            nothing_new: true,
            ..report
        }),
        ..RunReport::default()
    }
}

/// Staging folders of incremental runs (`<seq>-<time>` ids) left by a killed run. Only the
/// holder of the state lock calls this, so none of them is live.
fn remove_stale_staging(out_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(out_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(id) = name.strip_prefix(STAGING_PREFIX) else {
            continue;
        };
        let seq = id.split('-').next().unwrap_or("");
        if seq.len() == 5 && seq.bytes().all(|b| b.is_ascii_digit()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// One-off and incremental runs must not share an output directory: a one-off run would
/// replace the nightly partitions, and flat part files would confuse hive-partitioned readers.
pub(super) fn check_layout(out_dir: &Path, incremental: bool) -> Result<()> {
    for t in [
        table::DOCUMENTS,
        table::DUPLICATES,
        table::REJECTS,
        table::MENTIONS,
        table::RELATIONS,
        table::QUOTES,
    ] {
        let Ok(entries) = std::fs::read_dir(out_dir.join(t)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if incremental && name.starts_with("part-") {
                bail!(
                    "{} holds the tables of a one-off run (no [state] dir); incremental runs need an output directory of their own",
                    out_dir.display()
                );
            }
            if !incremental && name.starts_with("run=") {
                bail!(
                    "{} holds nightly partitions ({}/{name}); set [state] dir to add to them, or choose another output directory",
                    out_dir.display(),
                    t
                );
            }
        }
    }
    Ok(())
}

/// Everything an incremental run hands to its commit.
pub(super) struct StagedRun<'a> {
    pub(super) run_id: &'a str,
    pub(super) tables: &'a [&'a str],
    pub(super) report_json: &'a [u8],
    pub(super) index: Option<&'a DedupIndex>,
    pub(super) entities: Option<&'a EntityRegistry>,
    pub(super) record: RunRecord,
    pub(super) doc_ids: &'a [(u64, String)],
}

/// Stage the new state next to the staged tables, then switch both through the journal.
pub(super) fn commit_nightly(
    n: Nightly,
    staging: Staging,
    out_dir: &Path,
    run: StagedRun,
) -> Result<()> {
    let st = &n.state;
    let mut manifest = n.manifest;
    for f in &n.todo {
        manifest.record(f, run.run_id);
    }
    manifest.runs.push(run.record);
    if let Some(ix) = run.index {
        ix.save(st.next_file(DEDUP_INDEX_FILE))?;
    }
    if let Some(reg) = run.entities {
        reg.save(&st.next_file(ENTITIES_FILE))?;
    }
    manifest.save(&st.next_file(MANIFEST_FILE))?;
    let ids_name = format!("{DOC_IDS_DIR}-{}.bin", run.run_id);
    save_doc_ids(&st.next_file(&ids_name), run.doc_ids)?;
    let report_path = staging.scratch("report.json");
    std::fs::write(&report_path, run.report_json)
        .with_context(|| format!("cannot write {}", report_path.display()))?;
    staging.sync()?;
    fail_point("staged");

    let sdir = staging.disarm();
    let partition = format!("run={}", run.run_id);
    let mut ops = Vec::new();
    for t in run.tables {
        if *t == table::ENTITIES {
            ops.push(Op::Replace {
                from: sdir.join(t),
                to: out_dir.join(t),
                trash: sdir.join(".previous").join(t),
            });
        } else {
            ops.push(Op::Move {
                from: sdir.join(t).join(&partition),
                to: out_dir.join(t).join(&partition),
            });
        }
    }
    ops.push(Op::Move {
        from: report_path,
        to: out_dir.join("report.json"),
    });
    ops.push(Op::Move {
        from: st.next_file(&ids_name),
        to: st.file(DOC_IDS_DIR).join(format!("{}.bin", run.run_id)),
    });
    for name in [DEDUP_INDEX_FILE, ENTITIES_FILE, MANIFEST_FILE] {
        let next = st.next_file(name);
        if next.exists() {
            ops.push(Op::Move {
                from: next,
                to: st.file(name),
            });
        }
    }
    let journal = Journal {
        run_id: run.run_id.to_string(),
        ops,
        cleanup: vec![sdir],
    };
    let last = journal.ops.len() - 1;
    journal
        .commit(st.dir(), |i| {
            if i == 0 {
                fail_point("commit");
            }
            if i == last {
                fail_point("committed");
            }
        })
        .context("the commit journal could not be applied; the next run will finish it")?;
    Ok(())
}

/// The manifest's line for a finished run.
pub(super) fn run_record(r: &RunReport) -> RunRecord {
    RunRecord {
        run_id: r.run_id.clone(),
        started_at: r.started_at.clone(),
        finished_at: r.finished_at.clone(),
        inputs: r.input_files.len() as u64,
        docs_in: r.totals.input_records,
        kept: r.totals.kept,
        duplicates: r.totals.duplicates,
        rejected: r.totals.rejected,
        config_hash: r.config_hash.clone(),
        wall_secs: r.throughput.wall_secs,
    }
}

/// The text `newsmill status` prints: the runs recorded in `[state] dir`, the state's size
/// and how to read every night at once. Read-only: it takes no lock.
pub fn status(cfg: &Config, ctx: &RunContext) -> Result<String> {
    use std::fmt::Write as _;
    let out_dir = resolve(&ctx.base_dir, &cfg.output.dir);
    let mut s = String::new();
    if !cfg.state.enabled() {
        writeln!(
            s,
            "no [state] dir configured: runs are one-off and keep no history.\n\
             The last run's tables are in {} (report.json has its counts).\n\
             Set [state] dir (e.g. \"out/.state\") for incremental nightly runs.",
            out_dir.display()
        )?;
        return Ok(s);
    }
    let dir = resolve(&ctx.base_dir, &cfg.state.dir);
    let manifest = Manifest::load_or_default(&dir.join(MANIFEST_FILE))?;
    writeln!(s, "state dir: {}", dir.display())?;
    writeln!(s, "output:    {}", out_dir.display())?;
    if dir.join(crate::state::LOCK_FILE).exists() {
        let owner = std::fs::read_to_string(dir.join(crate::state::LOCK_FILE)).unwrap_or_default();
        writeln!(s, "locked by: {}", owner.trim().replace('\n', ", "))?;
    }
    if dir.join(crate::state::JOURNAL_FILE).exists() {
        writeln!(
            s,
            "a commit was interrupted; the next run finishes it before doing anything else"
        )?;
    }
    writeln!(
        s,
        "\n{} runs, {} input files processed",
        manifest.runs.len(),
        manifest.inputs.len()
    )?;
    if !manifest.runs.is_empty() {
        writeln!(
            s,
            "{:<24} {:<20} {:>6} {:>9} {:>9} {:>9} {:>9} {:>8}",
            "run", "finished (UTC)", "inputs", "docs in", "kept", "dup", "rejected", "secs"
        )?;
        for r in &manifest.runs {
            writeln!(
                s,
                "{:<24} {:<20} {:>6} {:>9} {:>9} {:>9} {:>9} {:>8.1}",
                r.run_id,
                r.finished_at,
                r.inputs,
                r.docs_in,
                r.kept,
                r.duplicates,
                r.rejected,
                r.wall_secs
            )?;
        }
        let t = |f: fn(&RunRecord) -> u64| manifest.runs.iter().map(f).sum::<u64>();
        writeln!(
            s,
            "{:<24} {:<20} {:>6} {:>9} {:>9} {:>9} {:>9}",
            "total",
            "",
            t(|r| r.inputs),
            t(|r| r.docs_in),
            t(|r| r.kept),
            t(|r| r.duplicates),
            t(|r| r.rejected)
        )?;
    }
    let size = crate::state::dir_size(&dir);
    let seen = manifest
        .runs
        .iter()
        .map(|r| r.kept + r.duplicates)
        .sum::<u64>();
    writeln!(s, "\nstate size: {size} bytes")?;
    for name in [DEDUP_INDEX_FILE, ENTITIES_FILE, MANIFEST_FILE] {
        if let Ok(m) = std::fs::metadata(dir.join(name)) {
            writeln!(s, "  {name:<16} {:>12} bytes", m.len())?;
        }
    }
    let ids = dir.join(DOC_IDS_DIR);
    if ids.exists() {
        writeln!(
            s,
            "  {:<16} {:>12} bytes",
            format!("{DOC_IDS_DIR}/"),
            crate::state::dir_size(&ids)
        )?;
    }
    if seen > 0 {
        writeln!(
            s,
            "  {:.0} bytes per document seen ({seen} kept or duplicate)",
            size as f64 / seen as f64
        )?;
    }
    let o = out_dir.display();
    writeln!(
        s,
        "\nRead every night at once (hive partitions: each table has a `run` column):\n\
         \n  # Python, polars\n  import polars as pl\n  docs = pl.scan_parquet(\"{o}/documents/*/*.parquet\", hive_partitioning=True)\n  docs.group_by(\"run\").len().sort(\"run\").collect()\n  entities = pl.read_parquet(\"{o}/entities/*.parquet\")  # merged snapshot, no run column\n\
         \n  -- DuckDB\n  SELECT run, count(*) FROM read_parquet('{o}/documents/*/*.parquet', hive_partitioning = true)\n  GROUP BY run ORDER BY run;\n  SELECT m.*, e.name FROM read_parquet('{o}/mentions/*/*.parquet', hive_partitioning = true) m\n  JOIN read_parquet('{o}/entities/*.parquet') e USING (entity_id);"
    )?;
    Ok(s)
}
