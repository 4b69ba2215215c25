//! Sharded runs: the shard side of `newsmill run --shard i/N` (manifest pinning, shard
//! folder, completion marker) and `newsmill merge`.
//!
//! Layout under `[output] dir`:
//! ```text
//! shards.json                       run manifest: shard count, the full config, the file list
//! shard-00000-of-00003/             one folder per shard: its own tables + report.json
//!   documents/ rejects/ mentions/ ... every clean doc, cluster columns empty
//!   signatures/part-00000.parquet   dedup evidence (schema in write/shards.rs)
//!   _SUCCESS                        written last; merge refuses while one is missing
//! documents/ duplicates/ ...        written by `newsmill merge`
//! ```
//! A shard never decides duplicates: that needs every document. The merge reads all
//! signature rows, sorts them into the single-process input order (file position in the full
//! listing, then record) and feeds them to the same [`DedupIndex`] a one-machine run uses, so
//! the decisions are the same by construction. It then filters the shard tables down to the
//! kept documents, in that same order, and fills the cluster columns.
//!
//! The manifest is created by whichever shard starts first (atomically: write, then hard-link
//! into place); every later shard and the merge compare against it and refuse on any
//! difference in shard count, result-affecting config or input file list.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::{DupTracker, RunContext, VERSION};
use crate::config::Config;
use crate::dedup::{DedupIndex, DocMeta, Signature};
use crate::doc::entity_id_hex;
use crate::read::{format_ranges, select_shard, shard_key, ShardSpec};
use crate::util;
use crate::write::schema::table;
use crate::write::shards::{
    merge_doc_table, merge_entities, merge_rejects, read_mention_refs, read_signatures,
    EntityTotals, ShardDocuments, SignatureRow,
};
use crate::write::{DocumentRows, DuplicateRows, Staging, TableWriter};

/// Name of the run manifest in the output directory.
pub const MANIFEST_FILE: &str = "shards.json";
/// Name of a shard's completion marker inside its folder.
pub const MARKER_FILE: &str = "_SUCCESS";
/// Table folder of a shard's signatures.
pub const SIGNATURES_TABLE: &str = "signatures";
const MANIFEST_FORMAT: u32 = 1;

/// What every shard of one sharded run must agree on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    /// Format version of this file.
    pub format: u32,
    /// Number of shards.
    pub shard_count: u32,
    /// `Config::result_hash` of the pinned config.
    pub config_hash: String,
    /// The full effective config (TOML) the shards run with; the merge uses its `[dedup]`
    /// and `[output]` sections.
    pub config_toml: String,
    /// Every input file's shard key, in listing order (= single-process reading order).
    pub files: Vec<String>,
    /// The same files as the first shard listed them (what `input_file` columns show);
    /// informational, not compared.
    pub input_files: Vec<String>,
}

/// Marker a finished shard writes last.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ShardMarker {
    shard: u32,
    shard_count: u32,
    config_hash: String,
    newsmill_version: String,
    input_files: usize,
    documents: u64,
}

pub(super) type SigRow = SignatureRow;

/// A shard run in progress: where it writes and which files it reads.
#[derive(Debug)]
pub(super) struct ShardRun {
    pub spec: ShardSpec,
    /// `<out>/shard-…`.
    pub dir: PathBuf,
    /// This shard's files, in global listing order.
    pub files: Vec<PathBuf>,
    /// Input file (as a doc's `input_file` shows it) → position in the full listing.
    pub file_index: HashMap<String, u32>,
}

fn manifest_for(cfg: &Config, listed: &[PathBuf], base: &Path, count: u32) -> ShardManifest {
    ShardManifest {
        format: MANIFEST_FORMAT,
        shard_count: count,
        config_hash: cfg.result_hash(),
        config_toml: result_config(cfg).to_toml(),
        files: listed.iter().map(|f| shard_key(f, base)).collect(),
        input_files: listed.iter().map(|f| f.display().to_string()).collect(),
    }
}

/// The config with run-local settings cleared, as pinned in the manifest.
fn result_config(cfg: &Config) -> Config {
    let mut c = cfg.clone();
    c.input.paths.clear();
    // Not used by the merge (it writes where it is pointed), but must not be empty.
    c.output.dir = ".".into();
    c
}

fn read_manifest(path: &Path) -> Result<ShardManifest> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the run manifest {}", path.display()))?;
    let m: ShardManifest = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a newsmill shard manifest", path.display()))?;
    if m.format != MANIFEST_FORMAT {
        bail!(
            "{} has manifest format {}, this build reads {MANIFEST_FORMAT}",
            path.display(),
            m.format
        );
    }
    Ok(m)
}

/// Creates the manifest if no shard did yet, else checks this shard's settings against it.
fn pin_manifest(out: &Path, want: &ShardManifest) -> Result<()> {
    let path = out.join(MANIFEST_FILE);
    if !path.exists() {
        let tmp = out.join(format!(".{MANIFEST_FILE}.{}", std::process::id()));
        let json = serde_json::to_vec_pretty(want).context("cannot serialise the manifest")?;
        std::fs::write(&tmp, json).with_context(|| format!("cannot write {}", tmp.display()))?;
        // hard_link fails when another shard got there first; then its manifest is the pin.
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
    }
    let have = read_manifest(&path)?;
    let mut diffs = Vec::new();
    if have.shard_count != want.shard_count {
        diffs.push(format!(
            "shard count: pinned {}, this run {}",
            have.shard_count, want.shard_count
        ));
    }
    if have.config_hash != want.config_hash {
        diffs.push(format!(
            "config hash (clean/dedup/extract/output settings): pinned {}, this run {}",
            have.config_hash, want.config_hash
        ));
        for line in config_diff(&have.config_toml, &want.config_toml) {
            diffs.push(line);
        }
    }
    if have.files != want.files {
        let a: BTreeSet<&String> = have.files.iter().collect();
        let b: BTreeSet<&String> = want.files.iter().collect();
        let gone: Vec<&&String> = a.difference(&b).take(3).collect();
        let new: Vec<&&String> = b.difference(&a).take(3).collect();
        diffs.push(format!(
            "input files: pinned {}, this run lists {} (missing now: {gone:?}; new: {new:?})",
            have.files.len(),
            want.files.len()
        ));
    }
    if !diffs.is_empty() {
        bail!(
            "{} pins other settings than this shard's: {}. Use the same config and input as the other shards, or a fresh output directory",
            path.display(),
            diffs.join("; ")
        );
    }
    Ok(())
}

/// Lines that differ between two TOML renderings (a readable hint, not a full diff).
fn config_diff(a: &str, b: &str) -> Vec<String> {
    let la: BTreeSet<&str> = a.lines().collect();
    let lb: BTreeSet<&str> = b.lines().collect();
    lb.difference(&la)
        .take(5)
        .map(|l| format!("this run has `{l}`"))
        .collect()
}

/// Checks the shard's preconditions, pins or checks the manifest, clears the marker of an
/// earlier attempt and picks the files.
pub(super) fn open_shard(
    cfg: &Config,
    ctx: &RunContext,
    out: &Path,
    listed: &[PathBuf],
    spec: ShardSpec,
) -> Result<ShardRun> {
    if cfg.state.enabled() {
        bail!("--shard cannot be combined with [state] dir: a sharded run is one-off (shards + merge); run nightly increments on one machine, or drop [state] dir");
    }
    if !cfg.dedup.enabled {
        bail!("--shard needs [dedup] enabled: shards write dedup signatures for the merge");
    }
    if cfg.input.limit > 0 {
        bail!("--shard cannot be combined with [input] limit / --limit: the limit would apply per shard, not to the corpus");
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    pin_manifest(out, &manifest_for(cfg, listed, &ctx.base_dir, spec.count))?;
    let dir = out.join(spec.dir_name());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let marker = dir.join(MARKER_FILE);
    if marker.exists() {
        std::fs::remove_file(&marker)
            .with_context(|| format!("cannot remove the old marker {}", marker.display()))?;
    }
    let chosen = select_shard(listed, &ctx.base_dir, spec);
    let file_index = chosen
        .iter()
        .map(|(i, f)| (f.display().to_string(), *i as u32))
        .collect();
    Ok(ShardRun {
        spec,
        dir,
        files: chosen.into_iter().map(|(_, f)| f).collect(),
        file_index,
    })
}

/// Writes the completion marker (temp file + rename), after the tables are committed.
pub(super) fn finish_shard(shard: &ShardRun, cfg: &Config, documents: u64) -> Result<()> {
    let m = ShardMarker {
        shard: shard.spec.index,
        shard_count: shard.spec.count,
        config_hash: cfg.result_hash(),
        newsmill_version: VERSION.to_string(),
        input_files: shard.files.len(),
        documents,
    };
    let path = shard.dir.join(MARKER_FILE);
    let tmp = shard
        .dir
        .join(format!(".{MARKER_FILE}.{}", std::process::id()));
    let json = serde_json::to_vec_pretty(&m).context("cannot serialise the marker")?;
    std::fs::write(&tmp, json).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// One signature row of a shard run.
pub(super) fn signature_row(
    shard: &ShardRun,
    band_index: &DedupIndex,
    meta: &DocMeta,
    d: &crate::doc::Doc,
    sig: &Signature,
) -> SignatureRow {
    SignatureRow {
        doc_key: meta.key,
        doc_id: d.doc_id.clone(),
        shard: shard.spec.index,
        file_index: shard
            .file_index
            .get(&d.input_file)
            .copied()
            .unwrap_or(u32::MAX),
        input_file: d.input_file.clone(),
        input_record: d.input_record,
        exact_hash: sig.exact,
        n_shingles: sig.n_shingles,
        n_chars: meta.n_chars,
        published: meta.published.clone(),
        minhash: sig.minhash.clone(),
        band_hashes: band_index.band_hashes(sig),
    }
}

/// What `newsmill merge` did, also written as `<out>/report.json`.
#[derive(Debug, Clone, Serialize)]
pub struct MergeReport {
    /// newsmill version.
    pub newsmill_version: String,
    /// Shards merged.
    pub shard_count: u32,
    /// Pinned config hash.
    pub config_hash: String,
    /// Input records of all shards (= kept + duplicates + rejected, checked).
    pub input_records: u64,
    /// Documents the shards signed (clean docs).
    pub signed_docs: u64,
    /// Kept documents written.
    pub kept: u64,
    /// Duplicates (exact + near) dropped or marked.
    pub duplicates: u64,
    /// Rejected records (from the shards' rejects tables).
    pub rejected: u64,
    /// Rows per table written.
    pub tables: BTreeMap<String, u64>,
    /// Heap bytes per document of the dedup index.
    pub index_bytes_per_doc: f64,
    /// Wall-clock seconds.
    pub wall_secs: f64,
    /// Peak resident memory of the merge process, MB.
    pub peak_rss_mb: f64,
}

/// `newsmill merge`: see the module docs.
pub fn merge(out: &Path) -> Result<MergeReport> {
    let wall = Instant::now();
    let manifest = read_manifest(&out.join(MANIFEST_FILE)).with_context(|| {
        format!(
            "{} holds no sharded run (run `newsmill run --shard i/N` first)",
            out.display()
        )
    })?;
    let cfg = Config::from_toml(&manifest.config_toml, &out.join(MANIFEST_FILE))
        .context("the manifest's pinned config does not load")?;
    let n = manifest.shard_count;
    let dirs: Vec<PathBuf> = (0..n)
        .map(|i| out.join(ShardSpec { index: i, count: n }.dir_name()))
        .collect();
    let missing: Vec<u32> = (0..n)
        .filter(|&i| !dirs[i as usize].join(MARKER_FILE).exists())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} of {n} shards have not finished (no {MARKER_FILE} in their folder): {}. Rerun them, e.g. `sbatch --array={} ...`",
            missing.len(),
            format_ranges(&missing),
            format_ranges(&missing)
        );
    }
    for d in &dirs {
        let p = d.join(MARKER_FILE);
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
        let m: ShardMarker = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a shard marker", p.display()))?;
        if m.config_hash != manifest.config_hash || m.shard_count != n {
            bail!(
                "{} was written with config {} / {} shards, the manifest pins {} / {n}; rerun that shard",
                p.display(),
                m.config_hash,
                m.shard_count,
                manifest.config_hash
            );
        }
    }

    // Every shard's signatures, in shard order (= the order of its `documents` rows).
    let mut sigs: Vec<SignatureRow> = Vec::new();
    for (si, d) in dirs.iter().enumerate() {
        let s = read_signatures(&d.join(SIGNATURES_TABLE))?;
        let docs = ShardDocuments::count_in(d)?;
        if docs != s.len() {
            bail!(
                "{}: {docs} documents but {} signatures; rerun that shard",
                d.display(),
                s.len()
            );
        }
        // The merge streams each shard's documents front to back: its rows must be its own
        // and in input order.
        let in_order = s
            .windows(2)
            .all(|p| (p[0].file_index, p[0].input_record) < (p[1].file_index, p[1].input_record));
        if !in_order || s.iter().any(|r| r.shard != si as u32) {
            bail!(
                "{}: signatures are not this shard's rows in input order; rerun that shard",
                d.display()
            );
        }
        sigs.extend(s);
    }
    let mut order: Vec<u32> = (0..sigs.len() as u32).collect();
    order.sort_by_key(|&i| {
        let s = &sigs[i as usize];
        (s.file_index, s.input_record)
    });

    // Dedup exactly as a single run: same index, same (global) order.
    let mut index = DedupIndex::new(&cfg.dedup);
    for &i in &order {
        let s = &mut sigs[i as usize];
        let sig = Signature {
            exact: s.exact_hash,
            minhash: std::mem::take(&mut s.minhash),
            n_shingles: s.n_shingles,
        };
        let meta = DocMeta {
            key: s.doc_key,
            n_chars: s.n_chars,
            published: s.published.clone(),
        };
        index.add(meta, &sig);
        s.band_hashes = Vec::new();
    }
    let assignments = index.finish();
    let index_bytes_per_doc = index.bytes_per_doc();
    drop(index);

    let run_id = format!("merge-{}", std::process::id());
    let staging = Staging::create(out, &run_id)?;
    let meta = vec![
        ("newsmill_version".to_string(), VERSION.to_string()),
        (
            "newsmill_config_hash".to_string(),
            manifest.config_hash.clone(),
        ),
    ];
    let writer = |name: &str| TableWriter::new(staging.table_dir(name), &cfg.output, meta.clone());
    let mut docs = ShardDocuments::open(&dirs)?;
    let mut documents_w = writer(table::DOCUMENTS)?;
    let mut duplicates_w = writer(table::DUPLICATES)?;
    let mut tracker = DupTracker::default();
    let mut kept_pos: HashMap<String, u64> = HashMap::new();
    let batch = cfg.run.batch_size.max(1);
    let mut kept = 0u64;
    let mut duplicates = 0u64;
    // The same batches as pass 2 of a single run, so row groups line up too.
    for (chunk_no, chunk) in order.chunks(batch).enumerate() {
        let mut dup_rows = DuplicateRows::default();
        let mut picks: Vec<(u32, bool)> = Vec::with_capacity(chunk.len());
        let mut cluster_id = Vec::new();
        let mut cluster_size = Vec::new();
        for (j, &i) in chunk.iter().enumerate() {
            let g = chunk_no * batch + j;
            let a = &assignments[g];
            let s = &sigs[i as usize];
            tracker.observe(
                s.doc_key,
                &s.doc_id,
                &s.input_file,
                s.input_record,
                a,
                &mut dup_rows,
            );
            picks.push((s.shard, a.keep));
            if a.keep {
                cluster_id.push(Some(entity_id_hex(a.cluster_id)));
                cluster_size.push(a.cluster_size as i32);
                kept_pos.entry(s.doc_id.clone()).or_insert(g as u64);
                kept += 1;
            } else {
                duplicates += 1;
            }
        }
        docs.write_next(&picks, cluster_id, cluster_size, &mut documents_w)?;
        duplicates_w.write(&dup_rows.into_frame()?)?;
    }
    drop(docs);
    duplicates_w.write(&tracker.finish(&BTreeMap::new()).into_frame()?)?;
    let mut tables = BTreeMap::new();
    tables.insert(
        table::DOCUMENTS.to_string(),
        documents_w.finish(DocumentRows::default().into_frame()?)?,
    );
    tables.insert(
        table::DUPLICATES.to_string(),
        duplicates_w.finish(DuplicateRows::default().into_frame()?)?,
    );

    // Per-document tables: the kept documents' rows, in document order.
    for t in [table::MENTIONS, table::RELATIONS, table::QUOTES] {
        let mut w = writer(t)?;
        match merge_doc_table(&dirs, t, &kept_pos, &mut w)? {
            Some(rows) => {
                w.close()?;
                tables.insert(t.to_string(), rows);
            }
            None => {
                drop(w);
                let _ = std::fs::remove_dir_all(staging.table_dir(t));
            }
        }
    }
    // Entities: re-aggregated over the kept documents, in document order, as a single
    // run's registry does.
    let totals = entity_totals(&dirs, &sigs, &order, &assignments)?;
    let mut w = writer(table::ENTITIES)?;
    match merge_entities(&dirs, &totals, &mut w)? {
        Some(rows) => {
            w.close()?;
            tables.insert(table::ENTITIES.to_string(), rows);
        }
        None => {
            drop(w);
            let _ = std::fs::remove_dir_all(staging.table_dir(table::ENTITIES));
        }
    }
    // Rejects: every shard's, in input order (files known from signatures or the manifest).
    let mut file_pos: HashMap<&str, u64> = HashMap::new();
    for (i, f) in manifest.input_files.iter().enumerate() {
        file_pos.insert(f.as_str(), i as u64);
    }
    for s in &sigs {
        file_pos.insert(s.input_file.as_str(), u64::from(s.file_index));
    }
    let pos = |f: &str| file_pos.get(f).copied().unwrap_or(u64::MAX);
    let mut w = writer(table::REJECTS)?;
    let rejected = merge_rejects(&dirs, &pos, &mut w)?.unwrap_or(0);
    w.finish(crate::write::RejectRows::default().into_frame()?)?;
    tables.insert(table::REJECTS.to_string(), rejected);

    // Accounting, as a single run checks it: every shard's input records are kept,
    // duplicates or rejected.
    let mut input_records = 0u64;
    for d in &dirs {
        let p = d.join("report.json");
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a run report", p.display()))?;
        input_records += v["totals"]["input_records"].as_u64().unwrap_or(0);
    }
    if input_records != kept + duplicates + rejected {
        bail!(
            "record accounting does not balance: {input_records} in != {kept} kept + {duplicates} duplicates + {rejected} rejected; output not committed"
        );
    }
    let report = MergeReport {
        input_records,
        newsmill_version: VERSION.to_string(),
        shard_count: n,
        config_hash: manifest.config_hash.clone(),
        signed_docs: sigs.len() as u64,
        kept,
        duplicates,
        rejected,
        tables,
        index_bytes_per_doc,
        wall_secs: wall.elapsed().as_secs_f64(),
        peak_rss_mb: util::peak_rss_bytes().unwrap_or(0) as f64 / 1e6,
    };
    let json = serde_json::to_vec_pretty(&report).context("cannot serialise the report")?;
    let names: Vec<&str> = report.tables.keys().map(String::as_str).collect();
    staging.commit(&names, &json)?;
    Ok(report)
}

/// Per-entity counts over the kept documents, visited in global order (as a single run's
/// registry sees them).
fn entity_totals(
    dirs: &[PathBuf],
    sigs: &[SignatureRow],
    order: &[u32],
    assignments: &[crate::dedup::Assignment],
) -> Result<BTreeMap<String, EntityTotals>> {
    // (shard, doc id) -> its mentions (entity id, text), in mention order.
    let mut by_doc: HashMap<(u32, String), Vec<(String, String)>> = HashMap::new();
    for (si, d) in dirs.iter().enumerate() {
        for (doc, ent, text) in read_mention_refs(d)? {
            by_doc
                .entry((si as u32, doc))
                .or_default()
                .push((ent, text));
        }
    }
    let mut totals: BTreeMap<String, EntityTotals> = BTreeMap::new();
    for (g, &i) in order.iter().enumerate() {
        if !assignments[g].keep {
            continue;
        }
        let s = &sigs[i as usize];
        let Some(ms) = by_doc.remove(&(s.shard, s.doc_id.clone())) else {
            continue;
        };
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for (ent, text) in &ms {
            let t = totals.entry(ent.clone()).or_insert_with(|| EntityTotals {
                shard: s.shard as usize,
                ..EntityTotals::default()
            });
            t.n_mentions += 1;
            t.forms.insert(text.clone());
            if seen.insert(ent.as_str()) {
                t.n_docs += 1;
                if let Some(p) = &s.published {
                    if t.first_seen.as_deref().is_none_or(|f| p.as_str() < f) {
                        t.first_seen = Some(p.clone());
                    }
                    if t.last_seen.as_deref().is_none_or(|l| p.as_str() > l) {
                        t.last_seen = Some(p.clone());
                    }
                }
            }
        }
    }
    Ok(totals)
}
