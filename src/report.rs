//! The run report: `report.json` for machines and citations, a short summary for humans.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::clean::CleanStats;

/// Counters and time of one stage.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StageReport {
    /// Documents (or records, for `read`) that entered the stage.
    pub docs_in: u64,
    /// Documents that left it.
    pub docs_out: u64,
    /// Rejections by reason (stable snake_case names).
    pub rejected: BTreeMap<String, u64>,
    /// Records skipped by design (WARC requests, non-HTML responses), by reason; they are not
    /// input records.
    pub skipped: BTreeMap<String, u64>,
    /// Wall seconds spent in the stage (summed over batches; stages overlap with reading).
    pub secs: f64,
}

/// What dedup found.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DedupReport {
    /// Whether the stage ran.
    pub enabled: bool,
    /// Clusters with more than one member among this run's documents.
    pub clusters: u64,
    /// Documents that are exact copies of their cluster's representative.
    pub exact_duplicates: u64,
    /// Documents that are near copies.
    pub near_duplicates: u64,
    /// Documents in the index before the run (loaded from `[state] dir`).
    pub index_docs_before: u64,
    /// Documents in the index after the run.
    pub index_docs_after: u64,
    /// Index memory per document, bytes.
    pub index_bytes_per_doc: f64,
}

/// Record accounting: every input record is kept, a duplicate or rejected.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Totals {
    /// Records read (documents plus read-stage rejects).
    pub input_records: u64,
    /// Documents written to `documents`.
    pub kept: u64,
    /// Documents dropped as duplicates (in `duplicates`).
    pub duplicates: u64,
    /// Rows in `rejects`.
    pub rejected: u64,
    /// `input_records == kept + duplicates + rejected`.
    pub balanced: bool,
}

/// Speed and resources.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Throughput {
    /// Wall-clock seconds of the whole run.
    pub wall_secs: f64,
    /// CPU seconds (user + system) of the whole run.
    pub cpu_secs: f64,
    /// Input records per wall second.
    pub docs_per_sec: f64,
    /// MB (10^6 bytes) of raw article text per wall second.
    pub text_mb_per_sec: f64,
    /// MB of raw article text per CPU second: the per-core figure.
    pub text_mb_per_cpu_sec: f64,
    /// Input records per CPU second.
    pub docs_per_cpu_sec: f64,
    /// Peak resident memory in MB.
    pub peak_rss_mb: f64,
}

/// What an incremental run (`[state] dir` set) found in its state directory.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct IncrementalReport {
    /// The state directory.
    pub state_dir: String,
    /// Runs committed before this one.
    pub runs_before: u64,
    /// Input files never seen before (processed).
    pub files_new: u64,
    /// Input files whose content changed since an earlier run (processed again).
    pub files_changed: Vec<String>,
    /// Input files processed by earlier runs and unchanged (skipped).
    pub files_skipped: u64,
    /// New paths whose content equals an already processed file (skipped), as
    /// `"<path> = <processed path>"`.
    pub files_same_content: Vec<String>,
    /// Nothing to process: outputs and state were left untouched.
    pub nothing_new: bool,
    /// What opening the state dir repaired after a killed run, if anything.
    pub recovered: Option<String>,
    /// The previous run's config hash, when it differs from this run's: earlier partitions
    /// were made with other settings.
    pub config_changed_from: Option<String>,
}

/// Everything a run reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// newsmill version that produced the output.
    pub newsmill_version: String,
    /// Unique id of this run.
    pub run_id: String,
    /// Start time, UTC.
    pub started_at: String,
    /// End time, UTC.
    pub finished_at: String,
    /// Config file used, if any.
    pub config_path: Option<String>,
    /// Hash of the result-affecting settings (see `Config::result_hash`).
    pub config_hash: String,
    /// Worker threads used.
    pub threads: usize,
    /// Input files read.
    pub input_files: Vec<String>,
    /// Bytes of input files on disk (compressed).
    pub input_bytes: u64,
    /// Bytes of raw article text read (the MB/s unit).
    pub text_bytes: u64,
    /// Per-stage counters, in pipeline order (`read`, `clean`, `dedup`, `extract`, `write`).
    pub stages: BTreeMap<String, StageReport>,
    /// What cleaning removed.
    pub clean: CleanStats,
    /// What dedup found.
    pub dedup: DedupReport,
    /// Rows written per table.
    pub tables: BTreeMap<String, u64>,
    /// Record accounting.
    pub totals: Totals,
    /// Speed and memory.
    pub throughput: Throughput,
    /// Incremental-run details; absent for a one-off run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incremental: Option<IncrementalReport>,
}

impl RunReport {
    /// A few lines for stderr.
    pub fn summary(&self) -> String {
        let t = &self.totals;
        let tp = &self.throughput;
        let mut s = String::new();
        if let Some(inc) = &self.incremental {
            if let Some(r) = &inc.recovered {
                s.push_str(&format!("newsmill: {r}\n"));
            }
            if let Some(h) = &inc.config_changed_from {
                s.push_str(&format!(
                    "newsmill: note: result-affecting settings changed since the last run (config {h} -> {}); earlier partitions keep the old settings\n",
                    self.config_hash
                ));
            }
            if inc.nothing_new {
                s.push_str(&format!(
                    "newsmill: nothing new: all {} input files were processed by earlier runs ({} runs in {}); outputs unchanged",
                    inc.files_skipped,
                    inc.runs_before,
                    inc.state_dir
                ));
                return s;
            }
        }
        s.push_str(&format!(
            "newsmill {} run {} (config {})\n",
            self.newsmill_version, self.run_id, self.config_hash
        ));
        s.push_str(&format!(
            "  input: {} files, {:.1} MB on disk, {:.1} MB of text, {} records\n",
            self.input_files.len(),
            self.input_bytes as f64 / 1e6,
            self.text_bytes as f64 / 1e6,
            t.input_records
        ));
        if let Some(inc) = &self.incremental {
            s.push_str(&format!(
                "  incremental: run {} after {} earlier runs; {} new files, {} changed, {} already processed\n",
                inc.runs_before + 1,
                inc.runs_before,
                inc.files_new,
                inc.files_changed.len(),
                inc.files_skipped + inc.files_same_content.len() as u64
            ));
            for f in &inc.files_changed {
                s.push_str(&format!("  changed since processed, reprocessed: {f}\n"));
            }
            for f in &inc.files_same_content {
                s.push_str(&format!(
                    "  same content as a processed file, skipped: {f}\n"
                ));
            }
        }
        for name in ["read", "clean", "dedup", "extract", "write"] {
            if let Some(st) = self.stages.get(name) {
                let rej: Vec<String> = st
                    .rejected
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                s.push_str(&format!(
                    "  {name:<8} in {:>9} out {:>9} {:>7.2}s{}\n",
                    st.docs_in,
                    st.docs_out,
                    st.secs,
                    if rej.is_empty() {
                        String::new()
                    } else {
                        format!("  rejected: {}", rej.join(", "))
                    }
                ));
            }
        }
        let c = &self.clean;
        s.push_str(&format!(
            "  cleaning: {} boilerplate paragraphs by pattern, {} repeated per source, {} sign-offs, {} lines unwrapped, {} chars normalised\n",
            c.boilerplate_pattern_removed,
            c.boilerplate_repeated_removed,
            c.signoffs_removed,
            c.lines_unwrapped,
            c.chars_normalized
        ));
        if self.dedup.enabled {
            let d = &self.dedup;
            s.push_str(&format!(
                "  dedup: {} clusters, {} exact + {} near copies; index {} docs, {:.0} bytes/doc\n",
                d.clusters,
                d.exact_duplicates,
                d.near_duplicates,
                d.index_docs_after,
                d.index_bytes_per_doc
            ));
        }
        s.push_str(&format!(
            "  records: {} in = {} kept + {} duplicates + {} rejected {}\n",
            t.input_records,
            t.kept,
            t.duplicates,
            t.rejected,
            if t.balanced {
                "(balanced)"
            } else {
                "(NOT BALANCED)"
            }
        ));
        s.push_str(&format!(
            "  speed: {:.1}s wall, {:.1}s CPU, {:.0} docs/s, {:.2} MB/s text ({:.2} MB/s per core), peak RSS {:.0} MB",
            tp.wall_secs, tp.cpu_secs, tp.docs_per_sec, tp.text_mb_per_sec, tp.text_mb_per_cpu_sec, tp.peak_rss_mb
        ));
        s
    }
}
