//! `newsmill eval dedup`: run the production clean + dedup stages over a labelled
//! near-duplicate corpus and score the clusters (adjusted Rand index, pairwise P/R/F1),
//! next to classic MinHash (Jaccard ≥ 0.8, no containment) on the same texts.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::dedup_metrics::{adjusted_rand_index, pairwise_prf};
use crate::clean::{CleanStats, Cleaner, FurnitureLearner};
use crate::config::Config;
use crate::dedup::{DedupConfig, DedupError, DedupIndex, DocMeta, Signature, Signer};
use crate::doc::Doc;
use crate::read::{InputConfig, ReadItem, Source};

/// Errors of the dedup evaluation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DedupEvalError {
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Data {
        /// File concerned.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The dedup config is unusable.
    #[error(transparent)]
    Dedup(#[from] DedupError),
}

/// Scores of one dedup configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupScore {
    /// Adjusted Rand index of predicted vs gold clusters.
    pub ari: f64,
    /// Pairwise precision (same-cluster pairs).
    pub precision: f64,
    /// Pairwise recall.
    pub recall: f64,
    /// Pairwise F1.
    pub f1: f64,
    /// Documents per second for signatures + index + clustering (excludes reading/cleaning).
    pub docs_per_sec: f64,
    /// Index memory per document, bytes.
    pub bytes_per_doc: f64,
    /// Predicted cluster per document, in corpus order.
    pub clusters: Vec<u64>,
}

/// The classic MinHash baseline: Jaccard ≥ 0.8 over 16 bands × 8 rows, no containment.
pub fn classic_minhash(base: &DedupConfig) -> DedupConfig {
    DedupConfig {
        bands: 16,
        rows: 8,
        jaccard_threshold: 0.8,
        containment_threshold: 1.0,
        min_size_ratio: 1.0,
        ..base.clone()
    }
}

/// Read and clean the corpus as the pipeline would (furniture learned from the corpus);
/// quality verdicts are ignored so every labelled document gets a prediction.
pub fn load_corpus(cfg: &Config, corpus: &Path) -> Result<Vec<Doc>, DedupEvalError> {
    let input = InputConfig {
        paths: vec![corpus.display().to_string()],
        ..cfg.input.clone()
    };
    let source = Source::from_config(&input, Path::new(".")).map_err(|e| DedupEvalError::Data {
        path: corpus.display().to_string(),
        message: e.to_string(),
    })?;
    let mut docs = Vec::new();
    for item in source.records() {
        match item {
            ReadItem::Doc(d) => docs.push(*d),
            ReadItem::Skipped(_) => {}
            // A broken record cannot be scored; say so and score the rest.
            ReadItem::Reject(r) => eprintln!(
                "warning: {} record {} skipped: {} ({})",
                r.input_file,
                r.input_record,
                r.reason.as_str(),
                r.detail
            ),
        }
    }
    let cleaner = Cleaner::from_config(&cfg.clean).map_err(|e| DedupEvalError::Data {
        path: "[clean]".into(),
        message: e.to_string(),
    })?;
    let mut learner = FurnitureLearner::default();
    if cfg.clean.repeated_lines {
        for d in docs.iter().take(cfg.clean.repeated_sample_docs as usize) {
            cleaner.observe(d, &mut learner);
        }
    }
    let furniture = learner.finish(cfg.clean.repeated_min_docs, cfg.clean.repeated_min_share);
    docs.par_iter_mut().for_each(|d| {
        let raw = d.text.clone();
        let _ = cleaner.process(d, &furniture, &mut CleanStats::default());
        if d.text.is_empty() {
            d.text = raw;
        }
    });
    Ok(docs)
}

/// Run one dedup configuration over cleaned documents and score it against `gold`.
pub fn score(dcfg: &DedupConfig, docs: &[Doc], gold: &[u64]) -> Result<DedupScore, DedupEvalError> {
    let signer = Signer::from_config(dcfg)?;
    let mut index = DedupIndex::new(dcfg);
    let t = Instant::now();
    let sigs: Vec<Signature> = docs.par_iter().map(|d| signer.sign(&d.text)).collect();
    for (d, s) in docs.iter().zip(&sigs) {
        index.add(
            DocMeta {
                key: xxh3_64(d.doc_id.as_bytes()),
                n_chars: d.text.chars().count() as u64,
                published: d.published.clone(),
            },
            s,
        );
    }
    let assignments = index.finish();
    let secs = t.elapsed().as_secs_f64().max(1e-9);
    let clusters: Vec<u64> = assignments.iter().map(|a| a.cluster_id).collect();
    let (precision, recall, f1) = pairwise_prf(&clusters, gold);
    Ok(DedupScore {
        ari: adjusted_rand_index(&clusters, gold),
        precision,
        recall,
        f1,
        docs_per_sec: docs.len() as f64 / secs,
        bytes_per_doc: index.bytes_per_doc(),
        clusters,
    })
}

/// Gold cluster per document, in corpus order, from a `{"id", "cluster"}` JSONL file.
pub fn load_labels(labels: &Path, docs: &[Doc]) -> Result<Vec<u64>, DedupEvalError> {
    let err = |message: String| DedupEvalError::Data {
        path: labels.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(labels).map_err(|e| err(e.to_string()))?;
    let mut by_id: HashMap<String, u64> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| err(format!("line {}: {e}", i + 1)))?;
        let id = v["id"]
            .as_str()
            .map(str::to_string)
            .or_else(|| v["id"].as_u64().map(|n| n.to_string()));
        let cluster = match &v["cluster"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let id = id.ok_or_else(|| err(format!("line {}: no id", i + 1)))?;
        by_id.insert(id, xxh3_64(cluster.as_bytes()));
    }
    let mut missing = 0usize;
    let gold = docs
        .iter()
        .map(|d| {
            by_id.get(&d.doc_id).copied().unwrap_or_else(|| {
                // An unlabelled document is its own cluster.
                missing += 1;
                xxh3_64(format!("\u{1f}unlabelled\u{1f}{}", d.doc_id).as_bytes())
            })
        })
        .collect();
    if missing > 0 {
        eprintln!("warning: {missing} documents have no label; each counts as its own cluster");
    }
    Ok(gold)
}

/// Write `doc_id,cluster_id` predictions (the format `neardup_score.py` reads).
pub fn write_predictions(
    path: &Path,
    docs: &[Doc],
    clusters: &[u64],
) -> Result<(), DedupEvalError> {
    let err = |e: std::io::Error| DedupEvalError::Data {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(err)?);
    writeln!(f, "doc_id,cluster_id").map_err(err)?;
    for (d, c) in docs.iter().zip(clusters) {
        writeln!(f, "{},{c:016x}", d.doc_id).map_err(err)?;
    }
    f.flush().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, text: &str) -> Doc {
        Doc {
            doc_id: id.into(),
            text: text.into(),
            ..Doc::default()
        }
    }

    #[test]
    fn perfect_clustering_scores_one() {
        let story = "The central bank left its main rate unchanged on Thursday and said inflation was slowing faster than expected across the region.";
        let other = "Heavy rain flooded several villages in the north of the country overnight, and rescue teams evacuated hundreds of residents by boat.";
        let docs = vec![
            doc("a", story),
            doc("b", &story.to_uppercase()),
            doc("c", other),
        ];
        let gold = vec![1, 1, 2];
        let s = score(&DedupConfig::default(), &docs, &gold).unwrap();
        assert_eq!(s.ari, 1.0);
        assert_eq!((s.precision, s.recall), (1.0, 1.0));
    }
}
