//! The dedup index: the only cross-document state of the pipeline.
//!
//! Holds, per document ever added (this run and loaded ones): its key, exact hash, shingle
//! count, a 16-bit-per-value copy of its MinHash signature, its union-find parent and a
//! "kept in an earlier run" flag; plus an exact-hash map and LSH band buckets.
//! Documents are added in input order; each is compared only with the docs before it, so
//! results do not depend on thread count or batch boundaries.
//!
//! Candidate pairs (same exact hash, or same LSH band) are verified from the signatures:
//! a pair is a duplicate when the estimated Jaccard similarity reaches `jaccard_threshold`,
//! or when the estimated containment |A∩B|/min(|A|,|B|), from |A∩B| = J(|A|+|B|)/(1+J),
//! clears `containment_threshold` by `containment_margin_se` standard errors (truncated
//! copies), provided the pair shares at least one LSH bucket that is not "crowded" (members
//! from `crowded_bucket_clusters` or more clusters: the signature of shared boilerplate).
//! Matches are joined transitively (union-find), with one exception: a doc whose
//! containment-only matches fall in two or more different clusters joins none of them —
//! a short text "contained" in several unrelated stories is a boilerplate hub, not a copy.

use super::buckets::BandMap;
use super::cluster::{prefers, UnionFind, NONE};
use super::config::{DedupConfig, KeepPolicy, Mode};
use super::signature::Signature;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Caller-supplied facts about a document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocMeta {
    /// xxh3 of the doc id (computed by the caller); the cluster id is the smallest member key.
    pub key: u64,
    /// Length of the text in chars, for `keep = "longest"`.
    pub n_chars: u64,
    /// ISO 8601 publication time, for `keep = "earliest"`; compared as a string, `None` last.
    pub published: Option<String>,
}

/// How a duplicate matched its kept doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DupKind {
    /// Same normalised text.
    Exact,
    /// Similar shingle sets (possibly only through other cluster members).
    Near,
}

impl DupKind {
    /// Stable lower-case name for the `duplicates` table.
    pub fn as_str(self) -> &'static str {
        match self {
            DupKind::Exact => "exact",
            DupKind::Near => "near",
        }
    }
}

/// The dedup decision for one document added in this run.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// Smallest `DocMeta::key` among all cluster members (earlier runs included): the same
    /// whatever order the members arrived in.
    pub cluster_id: u64,
    /// Members in the cluster, earlier runs included.
    pub cluster_size: u32,
    /// Whether the doc goes to the output (always true in `mark_only` mode).
    pub keep: bool,
    /// Key of the cluster's representative (this doc's own key when it is the representative).
    pub kept_key: u64,
    /// `None` for the representative, else how this doc relates to it.
    pub kind: Option<DupKind>,
    /// Estimated containment of shingle sets with the representative (1.0 for exact copies
    /// and for the representative itself). Can be below the threshold when the doc joined
    /// the cluster through another member.
    pub similarity: f32,
}

/// Multiplicative hasher for keys that are already hashes (band keys, xxh3 values):
/// deterministic and much cheaper than SipHash.
#[derive(Default, Clone, Copy)]
pub(crate) struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = u64::from(v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<PreHashed>>;

/// Estimated similarity of two stored signatures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Similarity {
    pub jaccard: f32,
    pub containment: f32,
    /// min(|A|,|B|) / max(|A|,|B|) of the shingle counts.
    pub size_ratio: f32,
    /// Standard error of the containment estimate (delta method on the MinHash Jaccard
    /// estimate, whose variance is J(1-J)/k).
    pub containment_se: f32,
}

/// Outcome of verifying one candidate pair.
enum Verdict {
    /// Estimated Jaccard reaches the threshold: join.
    Jaccard,
    /// Only the containment test passes: join unless ambiguous.
    Containment,
    /// Not a duplicate.
    No,
}

/// Parameters the index needs at run time (copied from the config).
#[derive(Debug, Clone)]
pub(crate) struct IndexParams {
    pub cfg: DedupConfig,
    pub k: usize,
    pub bands: usize,
    pub rows: usize,
}

/// Exact-hash set + LSH index + clusters. See the module docs.
#[derive(Debug, Clone)]
pub struct DedupIndex {
    pub(crate) p: IndexParams,
    pub(crate) keys: Vec<u64>,
    pub(crate) exact: Vec<u64>,
    pub(crate) n_shingles: Vec<u32>,
    /// `k` values per doc: the high 16 bits of each MinHash value (b-bit MinHash).
    pub(crate) sigs: Vec<u16>,
    /// Set for docs that were their cluster's kept member in an earlier run.
    pub(crate) kept_before: Vec<bool>,
    pub(crate) uf: UnionFind,
    pub(crate) exact_map: FastMap<u64, u32>,
    /// Per band: band key -> most recently added doc with that key.
    pub(crate) buckets: Vec<BandMap>,
    /// `bands` entries per doc: the previous doc in the same bucket (chain), or `NONE`.
    pub(crate) next: Vec<u32>,
    /// Index of the first doc added in this run.
    pub(crate) run_start: u32,
    /// `n_chars` and `published` of this run's docs (not persisted).
    pub(crate) run_meta: Vec<(u64, Option<String>)>,
}

/// Probability that two different 16-bit truncated minima collide; corrects the estimate.
const COLLIDE_16: f32 = 1.0 / 65536.0;

impl DedupIndex {
    /// An empty index for `cfg`. The config should have passed `DedupConfig::validate`;
    /// if it did not, banding is clipped to fit `num_hashes` rather than panicking.
    pub fn new(cfg: &DedupConfig) -> Self {
        let k = cfg.num_hashes as usize;
        let rows = (cfg.rows as usize).max(1);
        let bands = (cfg.bands as usize).min(k / rows);
        DedupIndex {
            p: IndexParams {
                cfg: cfg.clone(),
                k,
                bands,
                rows,
            },
            keys: Vec::new(),
            exact: Vec::new(),
            n_shingles: Vec::new(),
            sigs: Vec::new(),
            kept_before: Vec::new(),
            uf: UnionFind::default(),
            exact_map: FastMap::default(),
            buckets: vec![BandMap::default(); bands],
            next: Vec::new(),
            run_start: 0,
            run_meta: Vec::new(),
        }
    }

    /// Documents held (earlier runs included).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no document was added or loaded.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Heap bytes of the index divided by documents held (0 when empty).
    pub fn bytes_per_doc(&self) -> f64 {
        if self.keys.is_empty() {
            return 0.0;
        }
        // hashbrown: key + value + 1 control byte per bucket slot.
        let map_bytes = |cap: usize, entry: usize| cap * (entry + 1);
        let mut bytes = self.keys.capacity() * 8
            + self.exact.capacity() * 8
            + self.n_shingles.capacity() * 4
            + self.sigs.capacity() * 2
            + self.kept_before.capacity()
            + self.uf.heap_bytes()
            + self.next.capacity() * 4
            + map_bytes(self.exact_map.capacity(), 12);
        for b in &self.buckets {
            bytes += b.heap_bytes();
        }
        bytes as f64 / self.keys.len() as f64
    }

    fn sig(&self, i: u32) -> &[u16] {
        let k = self.p.k;
        &self.sigs[i as usize * k..(i as usize + 1) * k]
    }

    /// Band key of band `band` of doc `i`: a 32-bit mix of its rows' values.
    fn band_key(&self, i: u32, band: usize) -> u32 {
        self.band_key_of(self.sig(i), band)
    }

    /// The LSH bucket key of every band of `sig`, as [`DedupIndex::add`] buckets it (empty
    /// when the signature has another length than `num_hashes`). Sharded runs persist these.
    pub fn band_hashes(&self, sig: &Signature) -> Vec<u32> {
        if sig.minhash.len() != self.p.k {
            return Vec::new();
        }
        let sig16: Vec<u16> = sig.minhash.iter().map(|&v| (v >> 16) as u16).collect();
        (0..self.p.bands)
            .map(|b| self.band_key_of(&sig16, b))
            .collect()
    }

    fn band_key_of(&self, sig16: &[u16], band: usize) -> u32 {
        let rows = &sig16[band * self.p.rows..(band + 1) * self.p.rows];
        let mut h = self.p.cfg.seed ^ (band as u64).wrapping_mul(0xA076_1D64_78BD_642F);
        for &v in rows {
            h = (h ^ u64::from(v))
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(31);
        }
        (h ^ (h >> 32)) as u32
    }

    /// Estimated similarity of docs `a` and `b` from their stored signatures.
    pub(crate) fn similarity(&self, a: u32, b: u32) -> Similarity {
        let same = self
            .sig(a)
            .iter()
            .zip(self.sig(b))
            .filter(|(x, y)| x == y)
            .count();
        let raw = same as f32 / self.p.k as f32;
        let j = ((raw - COLLIDE_16) / (1.0 - COLLIDE_16)).clamp(0.0, 1.0);
        let (na, nb) = (
            self.n_shingles[a as usize] as f32,
            self.n_shingles[b as usize] as f32,
        );
        let (lo, hi) = if na < nb { (na, nb) } else { (nb, na) };
        if lo == 0.0 {
            return Similarity {
                jaccard: j,
                containment: j,
                size_ratio: 0.0,
                containment_se: 0.0,
            };
        }
        let inter = j * (na + nb) / (1.0 + j);
        // dC/dJ = (|A|+|B|) / (min (1+J)^2); se(J) = sqrt(J(1-J)/k).
        let se_j = (j * (1.0 - j) / self.p.k as f32).sqrt();
        Similarity {
            jaccard: j,
            containment: (inter / lo).min(1.0),
            size_ratio: lo / hi,
            containment_se: se_j * (na + nb) / (lo * (1.0 + j) * (1.0 + j)),
        }
    }

    fn verdict(&self, s: Similarity, rare: bool) -> Verdict {
        let c = &self.p.cfg;
        if s.jaccard >= c.jaccard_threshold {
            Verdict::Jaccard
        } else if rare
            && s.size_ratio >= c.min_size_ratio
            && s.containment - c.containment_margin_se * s.containment_se >= c.containment_threshold
        {
            Verdict::Containment
        } else {
            Verdict::No
        }
    }

    /// Appends a doc's stored fields and returns its index; no matching.
    pub(crate) fn push_doc(&mut self, key: u64, exact: u64, n_shingles: u32, sig16: &[u16]) -> u32 {
        self.keys.push(key);
        self.exact.push(exact);
        self.n_shingles.push(n_shingles);
        self.sigs.extend_from_slice(sig16);
        self.kept_before.push(false);
        self.next.resize(self.next.len() + self.p.bands, NONE);
        self.keys.len() as u32 - 1
    }

    /// Registers doc `i` in the exact map and, unless it is an exact copy or too small, in
    /// the LSH buckets. Returns the earlier doc with the same exact hash, if any.
    pub(crate) fn insert_lookups(&mut self, i: u32) -> Option<u32> {
        if self.n_shingles[i as usize] == 0 {
            // No words, no evidence: empty docs never match anything (not even each other).
            return None;
        }
        if let Some(&first) = self.exact_map.get(&self.exact[i as usize]) {
            // An exact copy adds nothing to the buckets: its twin is already there.
            return Some(first);
        }
        self.exact_map.insert(self.exact[i as usize], i);
        if self.n_shingles[i as usize] >= self.p.cfg.min_shingles.max(1) {
            // Each band's slot is fetched a few bands before it is written (see `BandMap`).
            const AHEAD: usize = 8;
            for band in 0..AHEAD.min(self.p.bands) {
                self.buckets[band].prefetch(self.band_key(i, band));
            }
            for band in 0..self.p.bands {
                if band + AHEAD < self.p.bands {
                    self.buckets[band + AHEAD].prefetch(self.band_key(i, band + AHEAD));
                }
                let key = self.band_key(i, band);
                if let Some(prev) = self.buckets[band].insert(key, i) {
                    self.next[i as usize * self.p.bands + band] = prev;
                }
            }
        }
        None
    }

    /// Adds one document of this run. Must be called in input order.
    pub fn add(&mut self, meta: DocMeta, sig: &Signature) {
        let sig16: Vec<u16> = if sig.minhash.len() == self.p.k {
            sig.minhash.iter().map(|&v| (v >> 16) as u16).collect()
        } else {
            // A signature from another config cannot be compared; treat it as empty.
            vec![u16::MAX; self.p.k]
        };
        let n_shingles = if sig.minhash.len() == self.p.k {
            sig.n_shingles
        } else {
            0
        };
        let i = self.push_doc(meta.key, sig.exact, n_shingles, &sig16);
        self.uf.push();
        self.run_meta.push((meta.n_chars, meta.published));
        if let Some(first) = self.insert_lookups(i) {
            self.uf.union(first, i);
            return;
        }
        if n_shingles < self.p.cfg.min_shingles.max(1) {
            return;
        }
        // Collect, then verify each candidate once. Verification order cannot change the
        // final partition (unions commute), only how many checks are skipped.
        let cap = self.p.cfg.max_candidates_per_band as usize;
        // (candidate, seen in at least one bucket that is not crowded). A bucket whose
        // members span several clusters holds band values shared by unrelated stories, which
        // is what site boilerplate does; such a bucket alone is no evidence for containment.
        let mut cands: Vec<(u32, bool)> = Vec::new();
        let crowded = match self.p.cfg.crowded_bucket_clusters {
            0 => usize::MAX,
            n => n as usize,
        };
        let mut roots: Vec<u32> = Vec::new();
        for band in 0..self.p.bands {
            let start = cands.len();
            roots.clear();
            let mut cand = self.next[i as usize * self.p.bands + band];
            let mut walked = 0;
            while cand != NONE && walked < cap {
                walked += 1;
                cands.push((cand, true));
                let r = self.uf.find(cand);
                if !roots.contains(&r) {
                    roots.push(r);
                }
                cand = self.next[cand as usize * self.p.bands + band];
            }
            if roots.len() >= crowded {
                for c in &mut cands[start..] {
                    c.1 = false;
                }
            }
        }
        // Sort by doc, rare first, so dedup keeps the rare flag when any bucket had it.
        cands.sort_unstable_by_key(|&(c, rare)| (c, !rare));
        cands.dedup_by_key(|&mut (c, _)| c);
        // Jaccard matches join at once; containment-only matches are collected, because a
        // short text that is "contained" in several unrelated stories is a boilerplate hub,
        // not a truncated copy of all of them.
        let mut contained: Vec<u32> = Vec::new();
        for (cand, rare) in cands {
            if self.uf.find(cand) == self.uf.find(i) {
                continue;
            }
            match self.verdict(self.similarity(i, cand), rare) {
                Verdict::Jaccard => self.uf.union(cand, i),
                Verdict::Containment => contained.push(cand),
                Verdict::No => {}
            }
        }
        let mut roots: Vec<u32> = Vec::new();
        for &cand in &contained {
            let r = self.uf.find(cand);
            if !roots.contains(&r) {
                roots.push(r);
            }
        }
        if roots.len() == 1 {
            for &cand in &contained {
                self.uf.union(cand, i);
            }
        }
    }

    /// Picks each cluster's representative and the per-doc decisions for this run's docs,
    /// without changing the index.
    pub(crate) fn plan(&self) -> Vec<Assignment> {
        let n = self.len();
        let start = self.run_start as usize;
        let roots: Vec<u32> = (0..n as u32).map(|i| self.uf.root_of(i)).collect();
        let mut rep = vec![NONE; n];
        let mut rep_is_old = vec![false; n];
        let mut min_key = vec![u64::MAX; n];
        let mut size = vec![0u32; n];
        for (i, &r) in roots.iter().enumerate() {
            let r = r as usize;
            min_key[r] = min_key[r].min(self.keys[i]);
            size[r] += 1;
            if i < start && self.kept_before[i] && rep[r] == NONE {
                rep[r] = i as u32;
                rep_is_old[r] = true;
            }
        }
        let policy: KeepPolicy = self.p.cfg.keep;
        for (i, &r) in roots.iter().enumerate().skip(start) {
            let r = r as usize;
            if rep_is_old[r] {
                continue;
            }
            let cur = rep[r];
            let better = cur == NONE || {
                let (ca, pa) = &self.run_meta[i - start];
                let (cb, pb) = &self.run_meta[cur as usize - start];
                prefers(policy, (*ca, pa.as_deref()), (*cb, pb.as_deref()))
            };
            if better {
                rep[r] = i as u32;
            }
        }
        (start..n)
            .map(|i| {
                let r = roots[i] as usize;
                let kept = rep[r];
                let is_rep = kept == i as u32;
                let (kind, similarity) = if is_rep {
                    (None, 1.0)
                } else if self.exact[i] == self.exact[kept as usize] {
                    (Some(DupKind::Exact), 1.0)
                } else {
                    let s = self.similarity(i as u32, kept);
                    (Some(DupKind::Near), s.containment)
                };
                Assignment {
                    cluster_id: min_key[r],
                    cluster_size: size[r],
                    keep: is_rep || self.p.cfg.mode == Mode::MarkOnly,
                    kept_key: self.keys[kept as usize],
                    kind,
                    similarity,
                }
            })
            .collect()
    }

    /// Decides this run's docs: one [`Assignment`] per doc added since `new`/`load` (or the
    /// previous `finish`), in add order. Afterwards those docs count as "seen before": kept
    /// ones stay representatives of their clusters in later runs.
    pub fn finish(&mut self) -> Vec<Assignment> {
        let out = self.plan();
        let start = self.run_start as usize;
        for (i, a) in out.iter().enumerate() {
            self.kept_before[start + i] = a.keep;
        }
        for i in 0..self.len() as u32 {
            self.uf.find(i);
        }
        self.run_start = self.len() as u32;
        self.run_meta.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::signature::Signer;
    use super::*;

    const STORY: &str = "Reynolds Metals Co said it plans to restart the last idle potline at \
        its Troutdale, Ore., primary aluminum plant. With the restart of this 22,700 tonne a \
        year production line, Reynolds said it will be operating at 100 pct of its \
        consolidated primary aluminum capacity of 695,000 tonnes per year. Reynolds said work \
        on the restart will begin in the near future and it is expected that actual metal \
        production will begin September 1. The company said the start-up was necessitated by \
        continuing strong demand for aluminum and dwindling worldwide inventories.";
    const OTHER: &str = "Alcoa said it will close a smelter at its Massena, New York plant \
        because of weak prices and high power costs, cutting aluminum output by 120,000 \
        tonnes a year. The company said about 400 workers would be laid off over the next \
        two months and that it did not expect to reopen the line this year. Alcoa shares \
        fell one dollar to 38 in active trading on the New York Stock Exchange, dealers \
        said, after analysts cut their profit forecasts for the aluminum industry.";

    fn run(cfg: &DedupConfig, texts: &[&str]) -> Vec<Assignment> {
        let signer = Signer::from_config(cfg).expect("valid");
        let mut idx = DedupIndex::new(cfg);
        for (i, t) in texts.iter().enumerate() {
            let meta = DocMeta {
                key: 100 + i as u64,
                n_chars: t.chars().count() as u64,
                published: None,
            };
            idx.add(meta, &signer.sign(t));
        }
        idx.finish()
    }

    #[test]
    fn exact_copy_with_other_whitespace_and_quotes() {
        let copy = STORY
            .replace(' ', "  ")
            .replace("start-up", "start\u{2013}up");
        let out = run(&DedupConfig::default(), &[STORY, &copy]);
        assert!(out[0].keep && out[0].kind.is_none());
        assert!(!out[1].keep);
        assert_eq!(out[1].kind, Some(DupKind::Exact));
        assert_eq!(out[1].cluster_id, 100);
        assert_eq!(out[1].kept_key, 100);
        assert_eq!(out[1].similarity, 1.0);
    }

    #[test]
    fn truncated_copy_clusters_with_source() {
        let words: Vec<&str> = STORY.split(' ').collect();
        let cut = words[..words.len() * 6 / 10].join(" ");
        let out = run(&DedupConfig::default(), &[&cut, STORY]);
        assert_eq!(out[1].cluster_id, out[0].cluster_id);
        assert_eq!(out[1].kind, Some(DupKind::Near));
        assert!(out[1].similarity > 0.8, "{}", out[1].similarity);
    }

    #[test]
    fn different_stories_on_one_topic_stay_apart() {
        let out = run(&DedupConfig::default(), &[STORY, OTHER]);
        assert_ne!(out[0].cluster_id, out[1].cluster_id);
        assert!(out.iter().all(|a| a.keep && a.cluster_size == 1));
    }

    #[test]
    fn shared_boilerplate_does_not_glue_stories() {
        let furniture = "Leave a Reply. Your email address will not be published. Required \
            fields are marked. Got a story? Email news at harbor city times. Copyright 2006 \
            2015 Harbor City Times. All rights reserved.";
        let a = format!("{}\n{furniture}", &STORY[..200]);
        let b = format!("{}\n{furniture}", &OTHER[..200]);
        let out = run(&DedupConfig::default(), &[&a, &b]);
        assert_ne!(out[0].cluster_id, out[1].cluster_id);
    }

    /// Stories of one site share a long footer; a short item is mostly footer.
    fn site_docs() -> Vec<String> {
        let footer: Vec<String> = (0..40).map(|i| format!("footer{i}")).collect();
        let footer = footer.join(" ");
        let mut docs: Vec<String> = (0..5)
            .map(|s| {
                let body: Vec<String> = (0..60).map(|i| format!("s{s}w{i}")).collect();
                format!("{}\n{footer}", body.join(" "))
            })
            .collect();
        let short: Vec<String> = (0..15).map(|i| format!("hub{i}")).collect();
        docs.push(format!("{}\n{footer}", short.join(" ")));
        docs
    }

    #[test]
    fn shared_footer_does_not_glue_a_short_item_but_truncation_joins() {
        let mut docs = site_docs();
        let body: Vec<String> = (0..45).map(|i| format!("s0w{i}")).collect();
        let footer = docs[0].split_once('\n').expect("footer line").1.to_string();
        docs.push(format!("{}\n{footer}", body.join(" ")));
        let texts: Vec<&str> = docs.iter().map(String::as_str).collect();
        let out = run(&DedupConfig::default(), &texts);
        for a in &out[1..6] {
            assert_eq!(a.cluster_size, 1, "{a:?}");
        }
        assert_eq!(out[6].cluster_id, out[0].cluster_id, "{:?}", out[6]);
        assert_eq!(out[6].kind, Some(DupKind::Near));
    }

    #[test]
    fn empty_and_tiny_docs_do_not_crash() {
        let out = run(
            &DedupConfig::default(),
            &["", "Reuter", "", "a b", "Reuter"],
        );
        assert_eq!(out.len(), 5);
        // Empty docs carry no evidence: each stays a singleton.
        assert!(out[0].keep && out[2].keep && out[2].cluster_size == 1);
        assert_eq!(out[4].kind, Some(DupKind::Exact));
        assert_eq!(out[4].kept_key, 101);
        assert!(out[3].keep);
    }

    #[test]
    fn keep_policies_pick_representative() {
        let words: Vec<&str> = STORY.split(' ').collect();
        let cut = words[..words.len() * 7 / 10].join(" ");
        let cfg = DedupConfig {
            keep: KeepPolicy::Longest,
            ..DedupConfig::default()
        };
        let out = run(&cfg, &[&cut, STORY]);
        assert!(!out[0].keep && out[1].keep);
        assert_eq!(out[0].kept_key, 101);
        let marked = run(
            &DedupConfig {
                mode: Mode::MarkOnly,
                ..cfg
            },
            &[&cut, STORY],
        );
        assert!(marked.iter().all(|a| a.keep));
        assert_eq!(marked[0].kind, Some(DupKind::Near));
    }

    #[test]
    fn earliest_policy_uses_published() {
        let cfg = DedupConfig {
            keep: KeepPolicy::Earliest,
            ..DedupConfig::default()
        };
        let signer = Signer::from_config(&cfg).expect("valid");
        let mut idx = DedupIndex::new(&cfg);
        for (key, date) in [(1, None), (2, Some("1987-03-05")), (3, Some("1987-03-04"))] {
            let meta = DocMeta {
                key,
                n_chars: 10,
                published: date.map(str::to_string),
            };
            idx.add(meta, &signer.sign(STORY));
        }
        let out = idx.finish();
        assert_eq!(out.iter().filter(|a| a.keep).count(), 1);
        assert!(out[2].keep);
        assert!(out.iter().all(|a| a.kept_key == 3 && a.cluster_id == 1));
    }

    #[test]
    fn batch_split_does_not_change_clusters() {
        use rayon::prelude::*;
        let words: Vec<&str> = STORY.split(' ').collect();
        let cut = words[..words.len() * 6 / 10].join(" ");
        let texts = [STORY, OTHER, &cut, "", STORY, "Reuter", OTHER, &cut[10..]];
        let cfg = DedupConfig::default();
        let signer = Signer::from_config(&cfg).expect("valid");
        let mut results = Vec::new();
        for batch in [1, 3, texts.len()] {
            let mut idx = DedupIndex::new(&cfg);
            let mut key = 0;
            for chunk in texts.chunks(batch) {
                let sigs: Vec<Signature> = chunk.par_iter().map(|t| signer.sign(t)).collect();
                for (t, sig) in chunk.iter().zip(&sigs) {
                    key += 1;
                    let meta = DocMeta {
                        key,
                        n_chars: t.len() as u64,
                        published: None,
                    };
                    idx.add(meta, sig);
                }
            }
            results.push(idx.finish());
        }
        assert_eq!(results[0], results[1]);
        assert_eq!(results[0], results[2]);
        let ids: Vec<u64> = results[0].iter().map(|a| a.cluster_id).collect();
        assert_eq!(ids, vec![1, 2, 1, 4, 1, 6, 2, 1]);
    }

    #[test]
    fn invalid_banding_does_not_panic() {
        let cfg = DedupConfig {
            num_hashes: 0,
            bands: 3,
            rows: 0,
            ..DedupConfig::default()
        };
        let mut idx = DedupIndex::new(&cfg);
        let sig = Signature {
            exact: 1,
            minhash: Vec::new(),
            n_shingles: 9,
        };
        idx.add(DocMeta::default(), &sig);
        idx.add(DocMeta::default(), &sig);
        assert_eq!(idx.finish().len(), 2);
    }

    #[test]
    fn reports_bytes_per_doc() {
        let cfg = DedupConfig::default();
        let signer = Signer::from_config(&cfg).expect("valid");
        let mut idx = DedupIndex::new(&cfg);
        assert_eq!(idx.bytes_per_doc(), 0.0);
        idx.add(DocMeta::default(), &signer.sign(STORY));
        assert!(idx.bytes_per_doc() > 256.0);
        assert_eq!(idx.len(), 1);
    }
}
