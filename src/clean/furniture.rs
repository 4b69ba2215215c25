//! Per-source furniture learned from the corpus itself: a short paragraph that recurs in a
//! good share of one site's documents ("Harbour Gazette — independent news since 1998") is
//! template, not news, even though no built-in pattern knows it.
//!
//! Learning reads a bounded sample (the first `repeated_sample_docs` documents of the run),
//! so memory does not depend on corpus size. Exact copies of a document are counted once,
//! so a story syndicated three times on one site does not turn its own paragraphs into
//! "furniture".

use std::collections::{HashMap, HashSet};

use xxhash_rust::xxh3::xxh3_64;

/// Grouping key of a document: its source, else its URL's host (without `www.`). Documents
/// with neither are not subject to learned furniture.
pub fn source_key(source: Option<&str>, url: Option<&str>) -> Option<u64> {
    if let Some(s) = source.map(str::trim).filter(|s| !s.is_empty()) {
        return Some(xxh3_64(s.to_lowercase().as_bytes()));
    }
    let url = url?;
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next()?.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    (!host.is_empty()).then(|| xxh3_64(host.as_bytes()))
}

/// Hash of a paragraph for furniture matching: case-folded, so "SHARE THIS" and
/// "Share this" are one line.
pub fn para_hash(para: &str) -> u64 {
    xxh3_64(para.to_lowercase().as_bytes())
}

#[derive(Debug, Default)]
struct SourceCounts {
    docs: u32,
    paras: HashMap<u64, u32>,
    seen_docs: HashSet<u64>,
}

/// Accumulates paragraph document-frequencies per source over the learning sample.
#[derive(Debug, Default)]
pub struct FurnitureLearner {
    sources: HashMap<u64, SourceCounts>,
    docs: u64,
}

impl FurnitureLearner {
    /// Count one document's short paragraphs (each at most once per document).
    pub fn observe(&mut self, source: u64, paragraphs: &[String], max_chars: usize) {
        let doc_hash = xxh3_64(paragraphs.join("\n").as_bytes());
        let counts = self.sources.entry(source).or_default();
        if !counts.seen_docs.insert(doc_hash) {
            return;
        }
        self.docs += 1;
        counts.docs += 1;
        let mut seen = HashSet::new();
        for p in paragraphs {
            if p.chars().count() <= max_chars && seen.insert(para_hash(p)) {
                *counts.paras.entry(para_hash(p)).or_default() += 1;
            }
        }
    }

    /// Documents observed so far (exact copies excluded).
    pub fn docs(&self) -> u64 {
        self.docs
    }

    /// Keep paragraphs seen in at least `min_docs` documents and `min_share` of their
    /// source's documents.
    pub fn finish(self, min_docs: u32, min_share: f64) -> Furniture {
        let mut by_source = HashMap::new();
        for (src, c) in self.sources {
            let need = min_docs.max((min_share * c.docs as f64).ceil() as u32);
            let set: HashSet<u64> = c
                .paras
                .into_iter()
                .filter(|&(_, n)| n >= need)
                .map(|(h, _)| h)
                .collect();
            if !set.is_empty() {
                by_source.insert(src, set);
            }
        }
        Furniture { by_source }
    }
}

/// Learned furniture paragraphs per source; read-only during cleaning.
#[derive(Debug, Default, Clone)]
pub struct Furniture {
    by_source: HashMap<u64, HashSet<u64>>,
}

impl Furniture {
    /// Whether `para` is learned furniture of `source`.
    pub fn contains(&self, source: Option<u64>, para: &str) -> bool {
        match source.and_then(|s| self.by_source.get(&s)) {
            Some(set) => set.contains(&para_hash(para)),
            None => false,
        }
    }

    /// Number of (source, paragraph) furniture entries learned.
    pub fn len(&self) -> usize {
        self.by_source.values().map(HashSet::len).sum()
    }

    /// Whether nothing was learned.
    pub fn is_empty(&self) -> bool {
        self.by_source.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paras(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn learns_lines_repeated_across_a_sources_documents() {
        let mut l = FurnitureLearner::default();
        let site = source_key(Some("gazette"), None).unwrap();
        for i in 0..5 {
            l.observe(
                site,
                &paras(&[&format!("Story {i} body."), "Gazette: news since 1998"]),
                200,
            );
        }
        let other = source_key(None, Some("https://www.other.example/x")).unwrap();
        l.observe(other, &paras(&["Gazette: news since 1998"]), 200);
        let f = l.finish(3, 0.05);
        assert!(f.contains(Some(site), "GAZETTE: NEWS SINCE 1998"));
        assert!(!f.contains(Some(site), "Story 1 body."));
        assert!(!f.contains(Some(other), "Gazette: news since 1998"));
        assert!(!f.contains(None, "Gazette: news since 1998"));
    }

    #[test]
    fn exact_copies_do_not_make_furniture() {
        let mut l = FurnitureLearner::default();
        let site = source_key(Some("s"), None).unwrap();
        for _ in 0..4 {
            l.observe(site, &paras(&["A short syndicated paragraph."]), 200);
        }
        assert!(l.finish(3, 0.0).is_empty());
    }

    #[test]
    fn url_host_is_the_fallback_key() {
        assert_eq!(
            source_key(None, Some("https://www.site.example/a")),
            source_key(None, Some("http://site.example/b?x=1"))
        );
        assert_eq!(source_key(None, None), None);
    }
}
