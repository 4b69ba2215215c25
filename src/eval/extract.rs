//! `newsmill eval extract`: the production clean stage (HTML main-text extraction, then the
//! usual normalisation and boilerplate removal) on a folder of pages, scored as the public
//! article-extraction benchmark does (word 4-gram shingles, per-page precision and recall
//! averaged over pages, F1 from the averages).

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use super::extract_metrics::{aggregate, page_counts, ExtractScore, PageCounts};
use crate::clean::{CleanConfig, CleanStats, Cleaner, Furniture};
use crate::doc::{Doc, RawPage};

/// Result of an extraction evaluation.
#[derive(Debug, Clone)]
pub struct ExtractEval {
    /// Benchmark scores.
    pub score: ExtractScore,
    /// Pages per second of CPU time (one thread's worth).
    pub pages_per_cpu_sec: f64,
    /// Per page: id, precision-side and recall-side counts.
    pub pages: Vec<(String, PageCounts)>,
}

/// Errors of the extraction evaluation.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ExtractEvalError {
    /// File concerned.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// Score every page listed in `ground_truth` (`{id: {"articleBody": ...}}`), reading
/// `<html_dir>/<id>.html.gz` (or `.html`).
pub fn evaluate(
    cfg: &CleanConfig,
    html_dir: &Path,
    ground_truth: &Path,
) -> Result<ExtractEval, ExtractEvalError> {
    let err = |p: &Path, m: String| ExtractEvalError {
        path: p.display().to_string(),
        message: m,
    };
    let gt: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(
        &std::fs::read(ground_truth).map_err(|e| err(ground_truth, e.to_string()))?,
    )
    .map_err(|e| err(ground_truth, e.to_string()))?;
    let mut pages = Vec::new();
    for (id, v) in &gt {
        let truth = v["articleBody"].as_str().unwrap_or("").to_string();
        let gz = html_dir.join(format!("{id}.html.gz"));
        let plain = html_dir.join(format!("{id}.html"));
        let read = if gz.exists() {
            std::fs::File::open(&gz).and_then(|f| {
                let mut out = Vec::new();
                flate2::read::MultiGzDecoder::new(f).read_to_end(&mut out)?;
                Ok(out)
            })
        } else {
            std::fs::read(&plain)
        };
        // A missing or unreadable page scores as an empty extraction, as the benchmark does.
        let bytes = read.unwrap_or_else(|e| {
            eprintln!("warning: page {id}: {e}; scored as empty");
            Vec::new()
        });
        let url = v["url"].as_str().map(str::to_string);
        pages.push((id.clone(), bytes, truth, url));
    }
    let cleaner =
        Cleaner::from_config(cfg).map_err(|e| err(Path::new("[clean]"), e.to_string()))?;
    let cpu0 = crate::util::cpu_secs().unwrap_or(0.0);
    let wall = Instant::now();
    let texts: Vec<String> = pages
        .par_iter()
        .map(|(_, bytes, _, url)| {
            let mut d = Doc {
                url: url.clone(),
                html: Some(RawPage {
                    bytes: bytes.clone(),
                    content_type: None,
                }),
                ..Doc::default()
            };
            let _ = cleaner.process(&mut d, &Furniture::default(), &mut CleanStats::default());
            d.text
        })
        .collect();
    let cpu = match crate::util::cpu_secs() {
        Some(c) => (c - cpu0).max(1e-9),
        None => wall.elapsed().as_secs_f64().max(1e-9),
    };
    let counts: Vec<(String, PageCounts)> = pages
        .iter()
        .zip(&texts)
        .map(|((id, _, truth, _), text)| (id.clone(), page_counts(text, truth)))
        .collect();
    let score = aggregate(&counts.iter().map(|(_, c)| *c).collect::<Vec<_>>());
    Ok(ExtractEval {
        score,
        pages_per_cpu_sec: pages.len() as f64 / cpu,
        pages: counts,
    })
}
