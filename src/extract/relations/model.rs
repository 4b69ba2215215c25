//! The relation classifier: a multi-class averaged perceptron over hashed pair features,
//! and its small versioned file format.
//!
//! File layout (little endian): magic `NMREL1\0\0`, format version `u32`, label count `u32`,
//! feature count `u32`, one decision margin `f32` per label, then per feature its `u64` hash followed by one
//! `f32` weight per label (sorted by hash), then an xxh3-64 (seed 0) checksum of everything
//! before it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Feature keys are already xxh3 hashes: hashing them again (SipHash) only costs time.
#[derive(Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(*b) ^ (self.0 >> 56);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;
use std::path::Path;
use std::sync::OnceLock;

use xxhash_rust::xxh3::xxh3_64;

use super::features::Coarse;
use super::RelError;

const MAGIC: &[u8; 8] = b"NMREL1\0\0";
/// Format version written by [`RelModel::to_bytes`].
pub const FORMAT_VERSION: u32 = 1;

/// Classifier labels; index 0 is "no relation". The other five are CoNLL04's.
pub const LABELS: [&str; 6] = [
    "none",
    "works_for",
    "killed",
    "based_in",
    "lives_in",
    "located_in",
];

/// Whether `label` can hold between a subject and an object of these types (CoNLL04's type
/// signatures, which hold for every training relation).
pub fn label_allowed(label: usize, s: Coarse, o: Coarse) -> bool {
    use Coarse::*;
    match label {
        0 => true,
        1 => s == Per && o == Org,
        2 => s == Per && o == Per,
        3 => s == Org && o == Loc,
        4 => s == Per && o == Loc,
        5 => s == Loc && o == Loc,
        _ => false,
    }
}

/// Trained weights.
#[derive(Debug, Clone, Default)]
pub struct RelModel {
    weights: KeyMap<[f32; 6]>,
    /// Per label: a relation is output only when its score beats "none" by more than this
    /// (tuned on the validation split; index 0 unused).
    pub margins: [f32; 6],
    /// `weights` laid out for scoring, built on first use (training only builds `weights`).
    table: OnceLock<ScoreTable>,
}

impl RelModel {
    fn new(weights: KeyMap<[f32; 6]>, margins: [f32; 6]) -> RelModel {
        RelModel {
            weights,
            margins,
            table: OnceLock::new(),
        }
    }

    /// Scores of every label for a feature set.
    pub fn scores(&self, feats: &[u64]) -> [f32; 6] {
        let table = self.table.get_or_init(|| ScoreTable::new(&self.weights));
        let mut s = [0f32; 6];
        for &f in feats.iter().take(LOOKAHEAD) {
            table.prefetch(f);
        }
        for (i, &f) in feats.iter().enumerate() {
            if let Some(&ahead) = feats.get(i + LOOKAHEAD) {
                table.prefetch(ahead);
            }
            if let Some(w) = table.get(f) {
                for (a, b) in s.iter_mut().zip(w) {
                    *a += b;
                }
            }
        }
        s
    }

    /// Best allowed label and its margin over "none" (label 0 when nothing is allowed).
    pub fn decide(&self, feats: &[u64], s: Coarse, o: Coarse) -> (usize, f32) {
        let sc = self.scores(feats);
        let mut best = 0;
        for l in 1..LABELS.len() {
            if label_allowed(l, s, o) && (best == 0 || sc[l] > sc[best]) {
                best = l;
            }
        }
        if best == 0 {
            return (0, 0.0);
        }
        (best, sc[best] - sc[0])
    }

    /// The mean of several models' weights (an ensemble of perceptrons trained with
    /// different shuffles scores like one model whose weights are the average), keeping the
    /// features whose mean weight reaches `prune` for some label. Margins start at 0.
    pub fn average(models: &[RelModel], prune: f32) -> RelModel {
        let n = models.len().max(1) as f32;
        let mut sum: KeyMap<[f32; 6]> = KeyMap::default();
        for m in models {
            for (k, w) in &m.weights {
                let acc = sum.entry(*k).or_insert([0.0; 6]);
                for (a, b) in acc.iter_mut().zip(w) {
                    *a += b;
                }
            }
        }
        sum.retain(|_, w| {
            for x in w.iter_mut() {
                *x /= n;
            }
            w.iter().any(|x| x.abs() >= prune)
        });
        RelModel::new(sum, [0.0; 6])
    }

    /// Number of stored features.
    pub fn n_features(&self) -> usize {
        self.weights.len()
    }

    /// Serialise (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut keys: Vec<&u64> = self.weights.keys().collect();
        keys.sort_unstable();
        let mut b = Vec::with_capacity(32 + keys.len() * 32);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&(LABELS.len() as u32).to_le_bytes());
        b.extend_from_slice(&(keys.len() as u32).to_le_bytes());
        for m in &self.margins {
            b.extend_from_slice(&m.to_le_bytes());
        }
        for k in keys {
            b.extend_from_slice(&k.to_le_bytes());
            for w in &self.weights[k] {
                b.extend_from_slice(&w.to_le_bytes());
            }
        }
        let sum = xxh3_64(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }

    /// Parse bytes written by [`RelModel::to_bytes`]; `path` names the source in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<RelModel, RelError> {
        let bad = |why: &str| RelError::BadModel {
            path: path.to_path_buf(),
            reason: why.to_string(),
        };
        if bytes.len() < 28 || &bytes[..8] != MAGIC {
            return Err(bad("not a newsmill relation model (bad magic)"));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let sum = u64::from_le_bytes(tail.try_into().expect("8-byte tail"));
        if xxh3_64(body) != sum {
            return Err(bad("checksum mismatch (truncated or corrupt file)"));
        }
        let u32_at = |o: usize| u32::from_le_bytes(body[o..o + 4].try_into().expect("4 bytes"));
        let version = u32_at(8);
        if version != FORMAT_VERSION {
            return Err(bad(&format!(
                "format version {version}, this build reads {FORMAT_VERSION}"
            )));
        }
        if u32_at(12) as usize != LABELS.len() {
            return Err(bad("label count differs from this build's"));
        }
        let n = u32_at(16) as usize;
        let head = 20 + 4 * LABELS.len();
        if body.len() < head {
            return Err(bad("truncated header"));
        }
        let mut margins = [0f32; 6];
        for (i, m) in margins.iter_mut().enumerate() {
            *m = f32::from_le_bytes(body[20 + 4 * i..24 + 4 * i].try_into().expect("4 bytes"));
        }
        let rec = 8 + 4 * LABELS.len();
        if body.len() != head + n * rec {
            return Err(bad("length does not match the feature count"));
        }
        let mut weights = KeyMap::with_capacity_and_hasher(n, Default::default());
        for r in body[head..].chunks_exact(rec) {
            let k = u64::from_le_bytes(r[..8].try_into().expect("8 bytes"));
            let mut w = [0f32; 6];
            for (i, x) in w.iter_mut().enumerate() {
                *x = f32::from_le_bytes(r[8 + 4 * i..12 + 4 * i].try_into().expect("4 bytes"));
            }
            weights.insert(k, w);
        }
        Ok(RelModel::new(weights, margins))
    }
}

/// One training example: hashed features, argument types and gold label.
#[derive(Debug, Clone)]
pub struct Example {
    /// Hashed features.
    pub feats: Vec<u64>,
    /// Subject type.
    pub s: Coarse,
    /// Object type.
    pub o: Coarse,
    /// Gold label index into [`LABELS`].
    pub gold: usize,
}

/// Averaged perceptron trainer (lazy averaging with timestamps).
#[derive(Debug, Default)]
pub struct Trainer {
    w: KeyMap<[f32; 6]>,
    acc: KeyMap<[f32; 6]>,
    stamp: KeyMap<[u64; 6]>,
    t: u64,
}

impl Trainer {
    fn bump(&mut self, f: u64, l: usize, d: f32) {
        let w = self.w.entry(f).or_insert([0.0; 6]);
        let acc = self.acc.entry(f).or_insert([0.0; 6]);
        let st = self.stamp.entry(f).or_insert([0; 6]);
        acc[l] += (self.t - st[l]) as f32 * w[l];
        st[l] = self.t;
        w[l] += d;
    }

    /// One online step; returns whether the prediction was wrong.
    pub fn step(&mut self, ex: &Example) -> bool {
        self.t += 1;
        let mut sc = [0f32; 6];
        for f in &ex.feats {
            if let Some(w) = self.w.get(f) {
                for (a, b) in sc.iter_mut().zip(w) {
                    *a += b;
                }
            }
        }
        let mut pred = 0;
        for l in 1..LABELS.len() {
            if label_allowed(l, ex.s, ex.o) && sc[l] > sc[pred] {
                pred = l;
            }
        }
        if pred == ex.gold {
            return false;
        }
        for &f in &ex.feats {
            self.bump(f, ex.gold, 1.0);
            self.bump(f, pred, -1.0);
        }
        true
    }

    /// The averaged weights, dropping features whose weights are all below `prune`.
    pub fn finish(mut self, prune: f32) -> RelModel {
        let t = self.t.max(1);
        let mut out = KeyMap::default();
        let keys: Vec<u64> = self.w.keys().copied().collect();
        for k in keys {
            let w = self.w[&k];
            let acc = self.acc.get_mut(&k).expect("acc has every key");
            let st = self.stamp[&k];
            let mut avg = [0f32; 6];
            for l in 0..6 {
                acc[l] += (t - st[l]) as f32 * w[l];
                avg[l] = acc[l] / t as f32;
            }
            if avg.iter().any(|x| x.abs() >= prune) {
                out.insert(k, avg);
            }
        }
        RelModel::new(out, [0.0; 6])
    }
}

/// Features looked up this many ahead of the one being added.
const LOOKAHEAD: usize = 8;

/// The weights as scoring reads them: open addressing over the keys (already hashes), a key
/// and its six weights in one 32-byte slot.
///
/// Why: a candidate pair has some fifty features, looked up one after another in a table
/// that competes for the cache with the tagger's, and a `HashMap` cannot be asked where a
/// key's slot is before the lookup. Here every lookup is prefetched [`LOOKAHEAD`] features
/// ahead, so the misses overlap. The scores are the same sums in the same order.
#[derive(Debug, Clone)]
struct ScoreTable {
    slots: Vec<Slot>,
    shift: u32,
    /// Key 0 marks an empty slot, so its weights (if a feature ever hashes to 0) live here.
    zero: Option<[f32; 6]>,
}

#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(32))]
struct Slot {
    key: u64,
    w: [f32; 6],
}

impl ScoreTable {
    fn new(weights: &KeyMap<[f32; 6]>) -> ScoreTable {
        let cap = (weights.len().max(4) * 2).next_power_of_two();
        let mut t = ScoreTable {
            slots: vec![Slot::default(); cap],
            shift: 64 - cap.trailing_zeros(),
            zero: weights.get(&0).copied(),
        };
        let mask = cap - 1;
        for (&key, &w) in weights.iter().filter(|(k, _)| **k != 0) {
            let mut i = t.slot(key);
            while t.slots[i].key != 0 {
                i = (i + 1) & mask;
            }
            t.slots[i] = Slot { key, w };
        }
        t
    }

    #[inline]
    fn slot(&self, key: u64) -> usize {
        crate::util::fib_slot(key, self.shift)
    }

    #[inline]
    fn prefetch(&self, key: u64) {
        if let Some(s) = self.slots.get(self.slot(key)) {
            crate::util::prefetch(s);
        }
    }

    #[inline]
    fn get(&self, key: u64) -> Option<&[f32; 6]> {
        if key == 0 {
            return self.zero.as_ref();
        }
        // At least eight slots, at most half full: the probe always meets an empty one.
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let s = &self.slots[i];
            if s.key == key {
                return Some(&s.w);
            }
            if s.key == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sum over a `HashMap`, as scoring was before the table.
    fn map_scores(m: &RelModel, feats: &[u64]) -> [f32; 6] {
        let mut s = [0f32; 6];
        for f in feats {
            if let Some(w) = m.weights.get(f) {
                for (a, b) in s.iter_mut().zip(w) {
                    *a += b;
                }
            }
        }
        s
    }

    /// The scoring table finds exactly the map's weights (key 0 included) and sums them in
    /// the same order, on the shipped model and on a small one whose keys collide in slots.
    #[test]
    fn score_table_equals_the_weight_map() {
        let mut small = RelModel::default();
        for k in [0u64, 1, 2, 3, 1 << 63, u64::MAX, 0x9E37_79B9_7F4A_7C15] {
            small
                .weights
                .insert(k, [k as f32 * 0.25, -1.5, 0.0, 2.0, 1e-3, k as f32]);
        }
        let mut models = vec![small, RelModel::default()];
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models/relations-conll04.bin");
        match std::fs::read(&path) {
            Ok(b) => models.push(RelModel::from_bytes(&b, &path).expect("shipped model loads")),
            Err(_) => eprintln!("skipping the shipped model: needs {}", path.display()),
        }
        let mut x: u64 = 0x5851_f42d_4c95_7f2d;
        for m in &models {
            let mut keys: Vec<u64> = m.weights.keys().copied().collect();
            keys.sort_unstable();
            // Every key, then lists mixing held keys with absent ones, in varied orders.
            let mut lists = vec![keys.clone()];
            for _ in 0..200 {
                let n = 1 + (x >> 58) as usize;
                let list: Vec<u64> = (0..n)
                    .map(|_| {
                        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        match (keys.is_empty(), x >> 62) {
                            (false, 0 | 1) => keys[(x >> 20) as usize % keys.len()],
                            _ => x >> 3,
                        }
                    })
                    .collect();
                lists.push(list);
            }
            for l in &lists {
                let (a, b) = (m.scores(l), map_scores(m, l));
                assert!(
                    a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()),
                    "{a:?} vs {b:?}"
                );
            }
            for k in keys.iter().chain(&[0, 5, u64::MAX - 1]) {
                let t = m.table.get().expect("built by scoring");
                assert_eq!(t.get(*k), m.weights.get(k), "key {k}");
            }
        }
    }

    #[test]
    fn bytes_round_trip_and_corruption_is_caught() {
        let mut m = RelModel::default();
        m.weights.insert(42, [0.5, -1.0, 0.0, 2.0, 0.0, 1.5]);
        m.margins[2] = 0.25;
        let b = m.to_bytes();
        let m2 = RelModel::from_bytes(&b, Path::new("x")).unwrap();
        assert_eq!(m2.weights[&42], m.weights[&42]);
        assert_eq!(m2.margins[2], 0.25);
        let mut bad = b.clone();
        bad[30] ^= 1;
        let e = RelModel::from_bytes(&bad, Path::new("x.bin")).unwrap_err();
        assert!(e.to_string().contains("x.bin"), "{e}");
    }

    #[test]
    fn average_is_the_mean_and_prunes_small_weights() {
        let mut a = RelModel::default();
        a.weights.insert(1, [2.0, 0.0, 0.0, 0.0, 0.0, 4.0]);
        a.weights.insert(2, [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let mut b = RelModel::default();
        b.weights.insert(1, [0.0, 0.0, 0.0, 0.0, 0.0, 2.0]);
        let m = RelModel::average(&[a, b], 1.0);
        assert_eq!(m.weights[&1], [1.0, 0.0, 0.0, 0.0, 0.0, 3.0]);
        assert!(!m.weights.contains_key(&2), "mean 0.5 is pruned");
    }

    #[test]
    fn type_signatures_constrain_labels() {
        assert!(label_allowed(1, Coarse::Per, Coarse::Org));
        assert!(!label_allowed(1, Coarse::Org, Coarse::Per));
        assert!(label_allowed(5, Coarse::Loc, Coarse::Loc));
    }
}
