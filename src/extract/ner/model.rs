//! The tagger's weights, Viterbi decoding and the model file format.
//!
//! Tags are BIOES over the four CoNLL types (17 tags): BIOES lets the linear model learn
//! separate evidence for first, inner, last and single-token names, which measurably beats BIO
//! for perceptron taggers. Illegal tag bigrams (e.g. `O` → `I-PER`) are excluded during decoding,
//! so every output decodes to well-formed spans.
//!
//! File format (little endian): `b"NMNERMDL"`, format version `u32`, payload length `u64`,
//! xxh3-64 of the compressed payload `u64`, then the zstd-compressed payload. Weights are stored
//! as `i16` with one scale per stage (quantisation error is far below a single perceptron update).

use std::path::Path;

use super::features::Resources;
use super::lexicon::{CaseClass, Gazetteer, LexEntry, Lexicon, N_CLUSTER_LEVELS};
use super::table::{FpMap, U64Map};
use super::NerError;

/// Number of tags: O + {B, I, E, S} × {PER, ORG, LOC, MISC}.
pub(crate) const NT: usize = 17;

const MAGIC: &[u8; 8] = b"NMNERMDL";
/// Bump when the payload layout or feature hashing changes.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// Seed of the payload checksum.
const CHECKSUM_SEED: u64 = 0x6e65_725f_6d6f_6465; // "ner_mode"
/// zstd level for the model file: size matters more than the one-off write time.
const ZSTD_LEVEL: i32 = 19;

/// Tag position within a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pos {
    B = 0,
    I = 1,
    E = 2,
    S = 3,
}

/// Tag index of (position, type).
#[inline]
pub(crate) fn tag(pos: Pos, ty: usize) -> usize {
    1 + 4 * ty + pos as usize
}

/// (position, type) of a non-O tag.
#[inline]
pub(crate) fn untag(t: usize) -> Option<(Pos, usize)> {
    if t == 0 || t >= NT {
        return None;
    }
    let pos = match (t - 1) % 4 {
        0 => Pos::B,
        1 => Pos::I,
        2 => Pos::E,
        _ => Pos::S,
    };
    Some((pos, (t - 1) / 4))
}

/// Whether `next` may follow `prev` (`None` = sentence start).
#[inline]
pub(crate) fn allowed(prev: Option<usize>, next: usize) -> bool {
    let open = prev
        .and_then(untag)
        .filter(|(p, _)| matches!(p, Pos::B | Pos::I));
    match (open, untag(next)) {
        (Some((_, ty)), Some((p, t))) => t == ty && matches!(p, Pos::I | Pos::E),
        (Some(_), None) => false,
        (None, Some((p, _))) => matches!(p, Pos::B | Pos::S),
        (None, None) => true,
    }
}

/// Whether a sentence may end after tag `t`.
#[inline]
pub(crate) fn allowed_end(t: usize) -> bool {
    !matches!(untag(t), Some((Pos::B | Pos::I, _)))
}

/// Converts spans `(start, end, type)` to BIOES tags.
pub(crate) fn spans_to_tags(n: usize, spans: &[(usize, usize, usize)]) -> Vec<u8> {
    let mut tags = vec![0u8; n];
    for &(s, e, ty) in spans {
        if s >= e || e > n {
            continue;
        }
        if e - s == 1 {
            tags[s] = tag(Pos::S, ty) as u8;
        } else {
            tags[s] = tag(Pos::B, ty) as u8;
            for t in &mut tags[s + 1..e - 1] {
                *t = tag(Pos::I, ty) as u8;
            }
            tags[e - 1] = tag(Pos::E, ty) as u8;
        }
    }
    tags
}

/// Spans `(start, end, type)` of a well-formed BIOES tag sequence.
pub(crate) fn tags_to_spans(tags: &[u8]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, usize)> = None;
    for (i, &t) in tags.iter().enumerate() {
        match untag(t as usize) {
            Some((Pos::S, ty)) => {
                out.push((i, i + 1, ty));
                open = None;
            }
            Some((Pos::B, ty)) => open = Some((i, ty)),
            Some((Pos::E, ty)) => {
                if let Some((s, oty)) = open.take() {
                    if oty == ty {
                        out.push((s, i + 1, ty));
                    }
                }
            }
            Some((Pos::I, _)) => {}
            None => open = None,
        }
    }
    out
}

/// One linear tagging stage: feature rows, tag-bigram and boundary weights.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stage {
    /// Feature hash → row.
    pub(crate) table: U64Map,
    /// `rows × NT` weights.
    pub(crate) weights: Vec<f32>,
    /// `trans[prev * NT + next]`.
    pub(crate) trans: Vec<f32>,
    /// Weight of the first tag of a sentence.
    pub(crate) start: Vec<f32>,
    /// Weight of the last tag of a sentence.
    pub(crate) end: Vec<f32>,
    /// `trans` with illegal bigrams set to -inf (derived by [`Stage::prepare`]).
    pub(crate) masked: Vec<f32>,
}

impl Stage {
    /// Derives the decoding tables; call after changing `trans`/`start`/`end`.
    pub(crate) fn prepare(&mut self) {
        self.trans.resize(NT * NT, 0.0);
        self.start.resize(NT, 0.0);
        self.end.resize(NT, 0.0);
        self.masked = (0..NT * NT)
            .map(|k| {
                if allowed(Some(k / NT), k % NT) {
                    self.trans[k]
                } else {
                    f32::NEG_INFINITY
                }
            })
            .collect();
        for y in 0..NT {
            if !allowed(None, y) {
                self.start[y] = f32::NEG_INFINITY;
            }
            if !allowed_end(y) {
                self.end[y] = f32::NEG_INFINITY;
            }
        }
    }

    /// Adds the emission scores of one token's features to `out`.
    #[inline]
    pub(crate) fn emit(&self, feats: &[u64], out: &mut [f32; NT]) {
        for &f in feats {
            if let Some(r) = self.table.get(f) {
                let base = r as usize * NT;
                if let Some(row) = self.weights.get(base..base + NT) {
                    for (o, w) in out.iter_mut().zip(row) {
                        *o += *w;
                    }
                }
            }
        }
    }
}

/// Lanes of one Viterbi step: three 8-lane SIMD vectors.
const NTP: usize = 24;
// The SIMD step reads and writes whole 8-lane chunks of NTP-lane rows.
const _: () = assert!(NTP % 8 == 0 && NTP >= NT);

/// Tags after which no span is open (O, E-x, S-x), ascending: the only legal predecessors of
/// O, B-x and S-x.
const CLOSED: [usize; 9] = [0, 3, 4, 7, 8, 11, 12, 15, 16];
/// Lane of each tag in a step's output. O, B-x and S-x (whose predecessors are [`CLOSED`])
/// fill lanes 0..9 in tag order; I-x and E-x (whose only legal predecessors are B-x and I-x)
/// fill lanes 16..24, so each group is whole vectors.
const LANE: [usize; NT] = [0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23, 8];
/// Lanes 16..24: the type of the I/E tag in each lane.
const OPEN_TYPE: [usize; 8] = [0, 0, 1, 1, 2, 2, 3, 3];

/// A stage's legal transitions laid out by step lanes.
struct Steps {
    /// For each predecessor in [`CLOSED`], its scores into lanes 0..16 (tags O, B-x, S-x;
    /// lanes 9..16 are `-inf` padding).
    closed: [[f32; 16]; CLOSED.len()],
    /// Lanes 16..24: score from B-x, then from I-x, into that lane's I/E tag.
    from_b: [f32; 8],
    from_i: [f32; 8],
}

impl Steps {
    fn new(masked: &[f32]) -> Steps {
        let mut tag_of_lane = [usize::MAX; NTP];
        for (t, &l) in LANE.iter().enumerate() {
            tag_of_lane[l] = t;
        }
        let mut closed = [[f32::NEG_INFINITY; 16]; CLOSED.len()];
        for (row, &x) in closed.iter_mut().zip(&CLOSED) {
            for (lane, v) in row.iter_mut().enumerate() {
                if let Some(&y) = tag_of_lane.get(lane).filter(|&&y| y < NT) {
                    *v = masked[x * NT + y];
                }
            }
        }
        let mut from_b = [0f32; 8];
        let mut from_i = [0f32; 8];
        for j in 0..8 {
            let y = tag_of_lane[16 + j];
            from_b[j] = masked[tag(Pos::B, OPEN_TYPE[j]) * NT + y];
            from_i[j] = masked[tag(Pos::I, OPEN_TYPE[j]) * NT + y];
        }
        Steps {
            closed,
            from_b,
            from_i,
        }
    }
}

/// Best legal tag sequence for per-token emission scores (first-order Viterbi).
/// `stage` must have been [`Stage::prepare`]d (illegal bigrams are `-inf` there).
///
/// Each step visits legal predecessors only: BIOES allows 97 of the 289 tag bigrams, in two
/// blocks (9 closed tags into O/B/S, and B-x/I-x into I-x/E-x), each computed for all its
/// targets at once in SIMD lanes (AVX2 when the CPU has it). Predecessors are visited in
/// ascending order and replace the best only when strictly better, so paths and ties are
/// exactly those of a scalar loop over every predecessor (illegal ones score `-inf` and never
/// win; tested against that loop).
pub(crate) fn viterbi(stage: &Stage, em: &[[f32; NT]], out: &mut Vec<u8>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { viterbi_avx2(stage, em, out) };
        return;
    }
    viterbi_with(stage, em, out, step_lanes);
}

/// One Viterbi step: per lane (see [`LANE`]), the best `prev[x] + trans[x][y]` over legal
/// predecessors `x` and its first arg max.
#[inline(always)]
fn step_lanes(steps: &Steps, prev: &[f32; NT], best: &mut [f32; NTP], arg: &mut [i32; NTP]) {
    *best = [f32::NEG_INFINITY; NTP];
    *arg = [0; NTP];
    for (row, &x) in steps.closed.iter().zip(&CLOSED) {
        for lane in 0..16 {
            let s = prev[x] + row[lane];
            if s > best[lane] {
                best[lane] = s;
                arg[lane] = x as i32;
            }
        }
    }
    for j in 0..8 {
        let ty = OPEN_TYPE[j];
        for (x, t) in [
            (tag(Pos::B, ty), steps.from_b[j]),
            (tag(Pos::I, ty), steps.from_i[j]),
        ] {
            let s = prev[x] + t;
            if s > best[16 + j] {
                best[16 + j] = s;
                arg[16 + j] = x as i32;
            }
        }
    }
}

/// [`viterbi`] with the AVX2 step.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn viterbi_avx2(stage: &Stage, em: &[[f32; NT]], out: &mut Vec<u8>) {
    viterbi_with(stage, em, out, |t, p, b, a| {
        // SAFETY: only reached through `viterbi_avx2`, i.e. on a CPU with AVX2.
        unsafe { step_avx2(t, p, b, a) }
    });
}

/// [`step_lanes`] in AVX2: two 8-lane registers for the closed block, one for the open
/// block, and the arg max kept as floats so one blend updates both.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn step_avx2(steps: &Steps, prev: &[f32; NT], best: &mut [f32; NTP], arg: &mut [i32; NTP]) {
    use std::arch::x86_64::*;
    let neg = _mm256_set1_ps(f32::NEG_INFINITY);
    let mut b = [neg; 3];
    let mut a = [_mm256_setzero_ps(); 3];
    for (row, &x) in steps.closed.iter().zip(&CLOSED) {
        let px = _mm256_set1_ps(prev[x]);
        let xf = _mm256_set1_ps(x as f32);
        for c in 0..2 {
            // SAFETY: `row` has 16 floats; chunk c reads 8c..8c+8.
            let r = unsafe { _mm256_loadu_ps(row.as_ptr().add(c * 8)) };
            let s = _mm256_add_ps(px, r);
            let m = _mm256_cmp_ps::<_CMP_GT_OQ>(s, b[c]);
            b[c] = _mm256_blendv_ps(b[c], s, m);
            a[c] = _mm256_blendv_ps(a[c], xf, m);
        }
    }
    // Lane j holds type j / 2: B-x is tag 1 + 4x, I-x tag 2 + 4x.
    let (b0, b1, b2, b3) = (prev[1], prev[5], prev[9], prev[13]);
    let (i0, i1, i2, i3) = (prev[2], prev[6], prev[10], prev[14]);
    let pb = _mm256_setr_ps(b0, b0, b1, b1, b2, b2, b3, b3);
    let pi = _mm256_setr_ps(i0, i0, i1, i1, i2, i2, i3, i3);
    // SAFETY: `from_b` and `from_i` hold 8 floats each.
    let (tb, ti) = unsafe {
        (
            _mm256_loadu_ps(steps.from_b.as_ptr()),
            _mm256_loadu_ps(steps.from_i.as_ptr()),
        )
    };
    let s = _mm256_add_ps(pb, tb);
    let m = _mm256_cmp_ps::<_CMP_GT_OQ>(s, neg);
    b[2] = _mm256_blendv_ps(neg, s, m);
    a[2] = _mm256_blendv_ps(a[2], _mm256_setr_ps(1., 1., 5., 5., 9., 9., 13., 13.), m);
    let s = _mm256_add_ps(pi, ti);
    let m = _mm256_cmp_ps::<_CMP_GT_OQ>(s, b[2]);
    b[2] = _mm256_blendv_ps(b[2], s, m);
    a[2] = _mm256_blendv_ps(a[2], _mm256_setr_ps(2., 2., 6., 6., 10., 10., 14., 14.), m);
    for c in 0..3 {
        // SAFETY: both arrays hold NTP = 24 lanes; chunk c writes 8c..8c+8. The arg max
        // lanes hold small whole numbers, which the truncating conversion keeps exactly.
        unsafe {
            _mm256_storeu_ps(best.as_mut_ptr().add(c * 8), b[c]);
            _mm256_storeu_si256(
                arg.as_mut_ptr().add(c * 8).cast::<__m256i>(),
                _mm256_cvttps_epi32(a[c]),
            );
        }
    }
}

#[inline(always)]
fn viterbi_with(
    stage: &Stage,
    em: &[[f32; NT]],
    out: &mut Vec<u8>,
    mut step: impl FnMut(&Steps, &[f32; NT], &mut [f32; NTP], &mut [i32; NTP]),
) {
    out.clear();
    let n = em.len();
    if n == 0 || stage.masked.len() != NT * NT || stage.start.len() != NT || stage.end.len() != NT {
        out.resize(n, 0);
        return;
    }
    const NEG: f32 = f32::NEG_INFINITY;
    let steps = Steps::new(&stage.masked);
    // Back pointers by lane, as the step's 32-bit lanes (no narrowing per step).
    let mut back = vec![[0i32; NTP]; n];
    let mut prev = [NEG; NT];
    for (y, p) in prev.iter_mut().enumerate() {
        *p = em[0][y] + stage.start[y];
    }
    let mut best = [NEG; NTP];
    for i in 1..n {
        step(&steps, &prev, &mut best, &mut back[i]);
        for y in 0..NT {
            prev[y] = best[LANE[y]] + em[i][y];
        }
    }
    let mut best = NEG;
    let mut arg = 0usize;
    for (y, &p) in prev.iter().enumerate() {
        let s = p + stage.end[y];
        if s > best {
            best = s;
            arg = y;
        }
    }
    out.resize(n, 0);
    out[n - 1] = arg as u8;
    for i in (1..n).rev() {
        out[i - 1] = back[i][LANE[out[i] as usize]] as u8;
    }
}

/// Mean, over the span's tokens, of the emission score of the chosen tag minus the best other
/// tag's: how clearly the local evidence picked this label.
pub(crate) fn span_margin(tags: &[u8], em: &[[f32; NT]], start: usize, end: usize) -> f32 {
    let mut margin = 0.0;
    let end = end.min(tags.len()).min(em.len());
    for i in start..end {
        let chosen = tags[i] as usize;
        let alt = (0..NT)
            .filter(|&y| y != chosen)
            .map(|y| em[i][y])
            .fold(f32::NEG_INFINITY, f32::max);
        margin += em[i][chosen] - alt;
    }
    margin / (end.saturating_sub(start)).max(1) as f32
}

/// Both stages' feature weights under one table: one lookup per feature yields the stage-1 and
/// stage-2 rows, halving hash lookups on the hot path. Weights are kept as the file's `i16`
/// values (same precision, half the memory of `f32`, so more of the model stays in cache) and
/// summed exactly in `i32` before scaling.
#[derive(Debug, Clone, Default)]
pub(crate) struct Joint {
    table: FpMap,
    /// `rows × 2NT`: stage-1 then stage-2 weights.
    weights: Vec<i16>,
    scale: [f32; 2],
}

/// How many features ahead [`Joint::resolve_all`] prefetches table slots: a few loads in
/// flight per token's worth of features (a round figure, not tuned: the machine's timing
/// noise hides a few percent either way).
const LOOKAHEAD: usize = 16;

/// Per-token integer emission accumulators for both stages.
pub(crate) type Acc = [[i32; NT]; 2];

impl Joint {
    /// Merges the two stages' tables. Rows are numbered in the stages' (deterministic) slot
    /// order, stage 1's keys first: any fixed order serves, and sorting the keys was a fifth
    /// of a run's start-up.
    pub(crate) fn new(s1: &Stage, s2: &Stage) -> Joint {
        let keys: Vec<u64> = s1
            .table
            .keys()
            .chain(s2.table.keys().filter(|k| s1.table.get(*k).is_none()))
            .collect();
        let scale = [s1, s2].map(|st| {
            let max = st.weights.iter().fold(0f32, |m, v| m.max(v.abs()));
            if max > 0.0 {
                max / 32767.0
            } else {
                1.0
            }
        });
        let entries: Vec<(u64, u32)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, i as u32))
            .collect();
        let table = FpMap::new(&entries);
        let mut weights = vec![0i16; keys.len() * 2 * NT];
        for (i, k) in keys.iter().enumerate() {
            for (half, st) in [s1, s2].into_iter().enumerate() {
                if let Some(r) = st.table.get(*k) {
                    let src = st.weights.get(r as usize * NT..(r as usize + 1) * NT);
                    if let Some(src) = src {
                        let dst = i * 2 * NT + half * NT;
                        for (d, w) in weights[dst..dst + NT].iter_mut().zip(src) {
                            *d = quantize(w / scale[half]);
                        }
                    }
                }
            }
        }
        Joint {
            table,
            weights,
            scale,
        }
    }

    /// The joint table straight from the file's 16-bit columns, without the `f32` stage
    /// tables [`Joint::new`] starts from: tagging never reads those, and building them was a
    /// third of the tagger's start-up and ~25 MB of pages touched once. Every weight is
    /// computed exactly as `Joint::new(read_stage(..), read_stage(..))` would (same `f32`
    /// products, same scale, same rounding; tested), so every key has the same 16-bit weights.
    /// Rows are numbered in file order, stage 1's keys first, so the fingerprint table is
    /// filled in another order than `Joint::new`'s: only for two keys sharing a 32-bit
    /// fingerprint and a probe chain (none in the shipped model, whose tagging is tested
    /// equal) could that change which of them answers a lookup.
    fn from_columns(cols: [&StageColumns<'_>; 2]) -> Joint {
        let (entries, rows) = union_rows([&cols[0].keys, &cols[1].keys]);
        // `Joint::new` scales by the largest |f32 weight|; rounding is monotonic, so that is
        // the largest |i16| times the file's scale.
        let scale = cols.map(|c| joint_scale(max_abs_i16(c.block), c.scale));
        let mut weights = vec![0i16; entries.len() * 2 * NT];
        // The file is tag-major: a tile of rows is gathered into `f32` rows first (the same
        // products `read_stage` makes), then each row is quantised into its joint slot.
        const TILE: usize = 64;
        let mut tile = [[0f32; NT]; TILE];
        for (half, c) in cols.into_iter().enumerate() {
            let n = c.keys.len();
            for i0 in (0..n).step_by(TILE) {
                let len = TILE.min(n - i0);
                for (t, column) in c.block.chunks_exact((n * 2).max(1)).enumerate().take(NT) {
                    let src = &column[i0 * 2..(i0 + len) * 2];
                    for (row, v) in tile.iter_mut().zip(src.chunks_exact(2)) {
                        row[t] = f32::from(i16::from_le_bytes([v[0], v[1]])) * c.scale;
                    }
                }
                for (row, &r) in tile.iter().zip(&rows[half][i0..i0 + len]) {
                    let at = r as usize * 2 * NT + half * NT;
                    if let Some(dst) = weights.get_mut(at..at + NT) {
                        for (d, w) in dst.iter_mut().zip(row) {
                            *d = quantize(w / scale[half]);
                        }
                    }
                }
            }
        }
        Joint {
            table: FpMap::new(&entries),
            weights,
            scale,
        }
    }

    /// Resolves features to weight rows (absent features are skipped). Done for a whole
    /// document before any arithmetic, so the table's cache misses overlap instead of
    /// stalling the additions one by one.
    #[inline]
    pub(crate) fn resolve(&self, feats: &[u64], rows: &mut Vec<u32>) {
        rows.extend(feats.iter().filter_map(|&f| self.table.get(f)));
    }

    /// [`Joint::resolve`] for every token of a document at once: token `t`'s features are
    /// `feats[offs[t]..offs[t + 1]]`, its rows end up in `rows[row_offs[t]..row_offs[t + 1]]`.
    /// Each lookup's slot is prefetched [`LOOKAHEAD`] features ahead, so the table's cache
    /// misses overlap (the loads were the tagger's single biggest stall).
    pub(crate) fn resolve_all(
        &self,
        feats: &[u64],
        offs: &[u32],
        rows: &mut Vec<u32>,
        row_offs: &mut Vec<usize>,
    ) {
        for &f in feats.iter().take(LOOKAHEAD) {
            self.table.prefetch(f);
        }
        for w in offs.windows(2) {
            row_offs.push(rows.len());
            let (a, b) = (w[0] as usize, (w[1] as usize).min(feats.len()));
            for i in a..b {
                if let Some(&ahead) = feats.get(i + LOOKAHEAD) {
                    self.table.prefetch(ahead);
                }
                if let Some(r) = self.table.get(feats[i]) {
                    rows.push(r);
                }
            }
        }
        row_offs.push(rows.len());
    }

    /// Prefetches the table slot of feature `f` (see [`Joint::resolve_all`]).
    #[inline(always)]
    pub(crate) fn prefetch_feature(&self, f: u64) {
        self.table.prefetch(f);
    }

    /// Prefetches the weight row `r` (both stages: 68 bytes, two cache lines at most).
    #[inline(always)]
    pub(crate) fn prefetch_row(&self, r: u32) {
        let base = r as usize * 2 * NT;
        if let Some(w) = self.weights.get(base..base + 2 * NT) {
            super::table::prefetch(&w[0]);
            super::table::prefetch(&w[2 * NT - 1]);
        }
    }

    /// Adds resolved rows to both stages' accumulators (`stage2_only`: skip stage 1).
    #[inline(always)]
    pub(crate) fn accumulate(&self, rows: &[u32], acc: &mut Acc, stage2_only: bool) {
        for &r in rows {
            let base = r as usize * 2 * NT;
            if let Some(row) = self.weights.get(base..base + 2 * NT) {
                let (a, b) = row.split_at(NT);
                if !stage2_only {
                    for (o, w) in acc[0].iter_mut().zip(a) {
                        *o += i32::from(*w);
                    }
                }
                for (o, w) in acc[1].iter_mut().zip(b) {
                    *o += i32::from(*w);
                }
            }
        }
    }

    /// Emission scores of stage `k` (0 or 1) from an accumulator.
    #[inline]
    pub(crate) fn scores(&self, acc: &Acc, k: usize) -> [f32; NT] {
        let mut e = [0f32; NT];
        for (o, v) in e.iter_mut().zip(&acc[k]) {
            *o = *v as f32 * self.scale[k];
        }
        e
    }
}

/// `x.round().clamp(-32767.0, 32767.0) as i16`, without the `roundf` library call that
/// `round` compiles to on baseline x86_64 (a tenth of start-up); same result for every input
/// (tested), NaN included.
fn quantize(x: f32) -> i16 {
    // Clamped first so that the integer steps below cannot overflow; this changes no result
    // (both sides of ±32767.5 still round to the clamp).
    let x = x.clamp(-32768.0, 32768.0);
    let t = x as i32;
    let frac = x - t as f32;
    let r = if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    };
    r.clamp(-32767, 32767) as i16
}

/// Everything a trained tagger needs; see `NerModel` for the public face.
#[derive(Debug, Clone, Default)]
pub(crate) struct ModelData {
    pub(crate) res: Resources,
    pub(crate) stage1: Stage,
    pub(crate) stage2: Stage,
    /// Confidence = logistic(`conf_slope` × mean span margin + `conf_bias`), fitted on dev spans.
    pub(crate) conf_slope: f32,
    /// See `conf_slope`.
    pub(crate) conf_bias: f32,
}

// ---------------------------------------------------------------- serialisation

struct Writer(Vec<u8>);
impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}
impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).ok_or("length overflow")?;
        let s = self
            .b
            .get(self.at..end)
            .ok_or_else(|| format!("truncated payload at byte {}", self.at))?;
        self.at = end;
        Ok(s)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.arr::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.arr()?))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_le_bytes(self.arr()?))
    }
    fn count(&mut self, elem_bytes: usize) -> Result<usize, String> {
        let n = self.u64()? as usize;
        if n.saturating_mul(elem_bytes) > self.b.len() - self.at {
            return Err(format!("count {n} exceeds the payload"));
        }
        Ok(n)
    }
}

fn write_stage(w: &mut Writer, s: &Stage) {
    let entries = s.table.sorted_entries();
    let max = s.weights.iter().fold(0f32, |m, v| m.max(v.abs()));
    let scale = if max > 0.0 { max / 32767.0 } else { 1.0 };
    w.f32(scale);
    w.u64(entries.len() as u64);
    for (k, _) in &entries {
        w.u64(*k);
    }
    // Column-major by tag so zstd sees long runs of similar values.
    for t in 0..NT {
        for (_, r) in &entries {
            let v = s.weights[*r as usize * NT + t] / scale;
            w.u16(v.round().clamp(-32767.0, 32767.0) as i16 as u16);
        }
    }
    for v in s.trans.iter().chain(&s.start).chain(&s.end) {
        w.f32(*v);
    }
}

fn read_stage(r: &mut Reader) -> Result<Stage, String> {
    let (mut s, c) = read_stage_columns(r)?;
    let n = c.keys.len();
    let mut table = U64Map::with_capacity(n);
    for (i, &k) in c.keys.iter().enumerate() {
        table.insert(k, i as u32);
    }
    // The file stores the weights tag by tag; they are copied in tiles of rows, so that the
    // writes of all 17 tags land in a few kB instead of striding over the whole 10 MB array
    // 17 times.
    const TILE: usize = 64;
    let mut weights = vec![0f32; n * NT];
    for i0 in (0..n).step_by(TILE) {
        let rows = TILE.min(n - i0);
        for (t, column) in c.block.chunks_exact((n * 2).max(1)).enumerate() {
            let dst = &mut weights[i0 * NT..(i0 + rows) * NT];
            for (k, v) in column[i0 * 2..(i0 + rows) * 2].chunks_exact(2).enumerate() {
                dst[k * NT + t] = f32::from(i16::from_le_bytes([v[0], v[1]])) * c.scale;
            }
        }
    }
    s.table = table;
    s.weights = weights;
    Ok(s)
}

/// The joint scale `Joint::new` derives from a stage's largest |f32 weight|, from the largest
/// |i16| in the file and the file's scale: |i16 × s| = |i16| × |s| exactly in `f32` and
/// rounding is monotonic, so this is that maximum for any scale (negative, NaN and infinite
/// ones included, as a damaged file may hold; tested).
fn joint_scale(top: u16, file_scale: f32) -> f32 {
    let max = 0f32.max(f32::from(top) * file_scale.abs());
    if max > 0.0 {
        max / 32767.0
    } else {
        1.0
    }
}

/// The largest |value| of little-endian `i16`s, in blocks the compiler can vectorise.
fn max_abs_i16(bytes: &[u8]) -> u16 {
    let abs = |v: &[u8]| i16::from_le_bytes([v[0], v[1]]).unsigned_abs();
    let mut lanes = [0u16; 16];
    let mut blocks = bytes.chunks_exact(32);
    for b in &mut blocks {
        for (m, v) in lanes.iter_mut().zip(b.chunks_exact(2)) {
            *m = (*m).max(abs(v));
        }
    }
    let rest = blocks
        .remainder()
        .chunks_exact(2)
        .map(abs)
        .max()
        .unwrap_or(0);
    lanes.into_iter().max().unwrap_or(0).max(rest)
}

/// A stage as the file stores it, borrowed from the payload: what [`Joint::from_columns`]
/// needs, with no tables built.
struct StageColumns<'a> {
    scale: f32,
    keys: Vec<u64>,
    /// `NT` columns of `keys.len()` little-endian `i16`s.
    block: &'a [u8],
}

/// The joint table's rows for both stages' file keys: `(key, row)` of every distinct key,
/// stage 1's first in file order, then stage 2's new ones in theirs, and per stage the row of
/// each of its file rows.
///
/// Why a merge: files written by [`to_bytes`] list each stage's keys sorted, so one walk
/// over both lists finds the shared keys. The hash table it replaces held both lists for a
/// moment at every start: 2.2k page faults (~9 MB), an eighth of start-up's. Key lists
/// in any other order (or holding the empty-slot key 0) take that table, with the same rows.
fn union_rows(keys: [&[u64]; 2]) -> (Vec<(u64, u32)>, [Vec<u32>; 2]) {
    let sorted = |k: &[u64]| k.first() != Some(&0) && k.windows(2).all(|w| w[0] < w[1]);
    let mut entries: Vec<(u64, u32)> = Vec::with_capacity(keys[0].len());
    if sorted(keys[0]) && sorted(keys[1]) {
        // Room for every key: pages past the last one are never touched.
        entries.reserve(keys[1].len());
        entries.extend(keys[0].iter().copied().zip(0u32..));
        let rows0: Vec<u32> = (0..keys[0].len() as u32).collect();
        let mut rows1 = Vec::with_capacity(keys[1].len());
        let mut at = 0;
        for &k in keys[1] {
            while at < keys[0].len() && keys[0][at] < k {
                at += 1;
            }
            if keys[0].get(at) == Some(&k) {
                rows1.push(at as u32);
            } else {
                let r = entries.len() as u32;
                entries.push((k, r));
                rows1.push(r);
            }
        }
        return (entries, [rows0, rows1]);
    }
    union_rows_hashed(keys)
}

/// [`union_rows`] for key lists in any order.
fn union_rows_hashed(keys: [&[u64]; 2]) -> (Vec<(u64, u32)>, [Vec<u32>; 2]) {
    let mut entries: Vec<(u64, u32)> = Vec::with_capacity(keys[0].len());
    let mut row_of = U64Map::with_capacity(keys[0].len() + keys[1].len());
    let rows = keys.map(|ks| {
        ks.iter()
            .map(|&k| match row_of.get(k) {
                Some(r) => r,
                None => {
                    let r = entries.len() as u32;
                    row_of.insert(k, r);
                    entries.push((k, r));
                    r
                }
            })
            .collect()
    });
    (entries, rows)
}

/// A stage's decoding tables (transitions, start, end) in a [`Stage`] without feature table
/// or weights, and the weights left as the file's columns: all tagging needs (see
/// [`Joint::from_columns`]); [`read_stage`] builds the `f32` tables from them for training.
fn read_stage_columns<'a>(r: &mut Reader<'a>) -> Result<(Stage, StageColumns<'a>), String> {
    let scale = r.f32()?;
    let n = r.count(8 + 2 * NT)?;
    let keys = (0..n)
        .map(|_| r.u64())
        .collect::<Result<Vec<u64>, String>>()?;
    let block = r.take(n * NT * 2)?;
    let mut fl = |k: usize| -> Result<Vec<f32>, String> { (0..k).map(|_| r.f32()).collect() };
    let trans = fl(NT * NT)?;
    let start = fl(NT)?;
    let end = fl(NT)?;
    let mut s = Stage {
        trans,
        start,
        end,
        ..Stage::default()
    };
    s.prepare();
    Ok((s, StageColumns { scale, keys, block }))
}

/// Serialises a model to file bytes (the error is zstd's message).
pub(crate) fn to_bytes(m: &ModelData) -> Result<Vec<u8>, String> {
    let mut w = Writer(Vec::new());
    let lex = &m.res.lexicon;
    let mut lex_entries = lex.map.sorted_entries();
    lex_entries.sort_unstable();
    w.u64(lex_entries.len() as u64);
    for (k, i) in &lex_entries {
        let e = lex.entries[*i as usize];
        w.u64(*k);
        for c in e.clusters {
            w.u16(c);
        }
        w.u8(e.case as u8);
    }
    let gz = m.res.gazetteer.map.sorted_entries();
    w.u32(m.res.gazetteer.max_len as u32);
    w.u64(gz.len() as u64);
    for (k, bits) in &gz {
        w.u64(*k);
        w.u32(*bits);
    }
    write_stage(&mut w, &m.stage1);
    write_stage(&mut w, &m.stage2);
    w.f32(m.conf_slope);
    w.f32(m.conf_bias);
    let payload = zstd::bulk::compress(&w.0, ZSTD_LEVEL).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(payload.len() + 28);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(w.0.len() as u64).to_le_bytes());
    out.extend_from_slice(
        &xxhash_rust::xxh3::xxh3_64_with_seed(&payload, CHECKSUM_SEED).to_le_bytes(),
    );
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Parses file bytes into the full model, `f32` stage tables included (what training
/// builds); `path` names the source in errors.
#[cfg(test)]
pub(crate) fn from_bytes(bytes: &[u8], path: &Path) -> Result<ModelData, NerError> {
    let raw = payload(bytes, path)?;
    parse_payload(&raw, false)
        .map(|(m, _)| m)
        .map_err(|reason| corrupt(path, reason))
}

/// Parses file bytes into what tagging needs: the model without its `f32` stage weights
/// (their decoding tables only) and the joint table built straight from the file.
pub(crate) fn from_bytes_for_tagging(
    bytes: &[u8],
    path: &Path,
) -> Result<(ModelData, Joint), NerError> {
    let raw = payload(bytes, path)?;
    match parse_payload(&raw, true) {
        Ok((m, Some(j))) => Ok((m, j)),
        Ok((_, None)) => Err(corrupt(path, "no joint table".into())),
        Err(reason) => Err(corrupt(path, reason)),
    }
}

fn corrupt(path: &Path, reason: String) -> NerError {
    NerError::Corrupt {
        path: path.to_path_buf(),
        reason,
    }
}

/// Checks the header and checksum and decompresses the payload.
fn payload(bytes: &[u8], path: &Path) -> Result<Vec<u8>, NerError> {
    let bad = |reason: String| NerError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() < 28 || &bytes[..8] != MAGIC {
        return Err(bad("not a newsmill NER model (bad magic)".into()));
    }
    let mut h = Reader { b: bytes, at: 8 };
    let version = h.u32().map_err(bad)?;
    if version != FORMAT_VERSION {
        return Err(NerError::Version {
            path: path.to_path_buf(),
            found: version,
            expected: FORMAT_VERSION,
        });
    }
    let raw_len = h.u64().map_err(bad)? as usize;
    let sum = h.u64().map_err(bad)?;
    let payload = &bytes[28..];
    if xxhash_rust::xxh3::xxh3_64_with_seed(payload, CHECKSUM_SEED) != sum {
        return Err(bad("checksum mismatch (file damaged or truncated)".into()));
    }
    // The declared size bounds the allocation; 1 GiB is far above any sensible model.
    if raw_len > 1 << 30 {
        return Err(bad(format!(
            "declared payload size {raw_len} is implausible"
        )));
    }
    zstd::bulk::decompress(payload, raw_len).map_err(|e| bad(e.to_string()))
}

/// The payload's model; with `for_tagging`, stages without weights plus the joint table.
fn parse_payload(raw: &[u8], for_tagging: bool) -> Result<(ModelData, Option<Joint>), String> {
    let mut r = Reader { b: raw, at: 0 };
    let n_lex = r.count(8 + 2 * N_CLUSTER_LEVELS + 1)?;
    let mut lexicon = Lexicon {
        map: U64Map::with_capacity(n_lex),
        entries: Vec::with_capacity(n_lex),
    };
    for _ in 0..n_lex {
        let k = r.u64()?;
        let mut clusters = [0u16; N_CLUSTER_LEVELS];
        for c in &mut clusters {
            *c = r.u16()?;
        }
        let case = CaseClass::from_u8(r.u8()?);
        lexicon.insert(k, LexEntry { clusters, case });
    }
    let max_len = r.u32()? as usize;
    let n_gz = r.count(12)?;
    let mut gazetteer = Gazetteer {
        map: U64Map::with_capacity(n_gz),
        max_len,
    };
    for _ in 0..n_gz {
        let k = r.u64()?;
        let bits = r.u32()?;
        gazetteer.map.insert(k, bits);
    }
    let (stage1, stage2, joint) = if for_tagging {
        let (s1, c1) = read_stage_columns(&mut r)?;
        let (s2, c2) = read_stage_columns(&mut r)?;
        let joint = Joint::from_columns([&c1, &c2]);
        (s1, s2, Some(joint))
    } else {
        (read_stage(&mut r)?, read_stage(&mut r)?, None)
    };
    let conf_slope = r.f32()?;
    let conf_bias = r.f32()?;
    if r.at != raw.len() {
        return Err(format!("{} trailing bytes", raw.len() - r.at));
    }
    let model = ModelData {
        res: Resources { lexicon, gazetteer },
        stage1,
        stage2,
        conf_slope,
        conf_bias,
    };
    Ok((model, joint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bioes_round_trip() {
        let spans = vec![(0, 2, 0), (2, 3, 0), (5, 8, 3)];
        let tags = spans_to_tags(9, &spans);
        assert_eq!(tags_to_spans(&tags), spans);
        for w in tags.windows(2) {
            assert!(allowed(Some(w[0] as usize), w[1] as usize));
        }
    }

    #[test]
    fn transitions_are_constrained() {
        assert!(!allowed(None, tag(Pos::I, 0)));
        assert!(!allowed(Some(tag(Pos::B, 0)), tag(Pos::I, 1)));
        assert!(allowed(Some(tag(Pos::B, 0)), tag(Pos::E, 0)));
        assert!(!allowed_end(tag(Pos::B, 2)));
    }

    fn tiny_stage() -> Stage {
        let mut s = Stage {
            trans: vec![0.0; NT * NT],
            start: vec![0.0; NT],
            end: vec![0.0; NT],
            ..Stage::default()
        };
        s.table.insert(77, 0);
        s.weights = vec![0.0; NT];
        s.weights[tag(Pos::S, 1)] = 2.0;
        s.prepare();
        s
    }

    /// The plain scalar Viterbi over legal predecessors only, as the lanes version replaced.
    fn viterbi_reference(stage: &Stage, em: &[[f32; NT]]) -> Vec<u8> {
        const NEG: f32 = f32::NEG_INFINITY;
        let n = em.len();
        let mut back = vec![[0u8; NT]; n];
        let mut prev = [NEG; NT];
        for (y, p) in prev.iter_mut().enumerate() {
            *p = em[0][y] + stage.start[y];
        }
        for i in 1..n {
            let mut cur = [NEG; NT];
            for y in 0..NT {
                let (mut best, mut arg) = (NEG, 0u8);
                for x in (0..NT).filter(|&x| allowed(Some(x), y)) {
                    let s = prev[x] + stage.masked[x * NT + y];
                    if s > best {
                        best = s;
                        arg = x as u8;
                    }
                }
                cur[y] = best + em[i][y];
                back[i][y] = arg;
            }
            prev = cur;
        }
        let (mut best, mut arg) = (NEG, 0usize);
        for (y, &p) in prev.iter().enumerate() {
            if p + stage.end[y] > best {
                best = p + stage.end[y];
                arg = y;
            }
        }
        let mut out = vec![0u8; n];
        out[n - 1] = arg as u8;
        for i in (1..n).rev() {
            out[i - 1] = back[i][out[i] as usize];
        }
        out
    }

    /// Same paths as the scalar loop on random scores, including many exact ties (scores on
    /// a coarse grid) and all-equal rows.
    #[test]
    fn lanes_viterbi_equals_scalar_reference() {
        let mut st = tiny_stage();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |grid: f32| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) % 7) as f32 * grid - 3.0 * grid
        };
        for round in 0..300 {
            let grid = if round % 3 == 0 { 1.0 } else { 0.37 };
            for t in st.trans.iter_mut() {
                *t = next(grid);
            }
            st.prepare();
            let n = 1 + round % 40;
            let em: Vec<[f32; NT]> = (0..n)
                .map(|_| {
                    let mut r = [0f32; NT];
                    if round % 10 != 5 {
                        r.iter_mut().for_each(|v| *v = next(grid));
                    }
                    r
                })
                .collect();
            let mut out = Vec::new();
            viterbi(&st, &em, &mut out);
            assert_eq!(out, viterbi_reference(&st, &em), "round {round}");
            let mut lanes = Vec::new();
            viterbi_with(&st, &em, &mut lanes, step_lanes);
            assert_eq!(lanes, out);
        }
    }

    #[test]
    fn quantize_is_round_and_clamp() {
        let reference = |x: f32| x.round().clamp(-32767.0, 32767.0) as i16;
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999997,
            -0.49999997,
            32766.5,
            32767.4,
            32767.5,
            -32767.5,
            32768.0,
            1e10,
            -1e10,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            8388607.5,
        ];
        let mut x = 0x9E37_79B9u32;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            xs.push(f32::from_bits(x));
            xs.push((x % 200_000) as f32 / 3.0 - 33_000.0);
        }
        for v in xs {
            assert_eq!(quantize(v), reference(v), "{v:?}");
        }
    }

    #[test]
    fn viterbi_respects_constraints() {
        let s = tiny_stage();
        let mut em = vec![[0f32; NT]; 2];
        em[0][tag(Pos::I, 0)] = 5.0; // illegal at start
        em[1][tag(Pos::S, 2)] = 1.0;
        let mut out = Vec::new();
        viterbi(&s, &em, &mut out);
        assert_eq!(out, vec![0, tag(Pos::S, 2) as u8]);
    }

    #[test]
    fn bytes_round_trip_and_corruption() {
        let m = ModelData {
            stage1: tiny_stage(),
            stage2: tiny_stage(),
            conf_slope: 3.0,
            ..ModelData::default()
        };
        let b = to_bytes(&m).expect("serialises");
        let back = from_bytes(&b, Path::new("m.bin")).expect("round trip");
        assert_eq!(back.stage1.table.get(77), Some(0));
        assert!((back.stage2.weights[tag(Pos::S, 1)] - 2.0).abs() < 1e-3);
        let mut bad = b.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let err = from_bytes(&bad, Path::new("m.bin")).expect_err("corrupt");
        assert!(err.to_string().contains("m.bin"));
        assert!(from_bytes(b"junk", Path::new("m.bin")).is_err());
        assert!(from_bytes_for_tagging(&bad, Path::new("m.bin")).is_err());
    }

    /// Key → (stage-1 row, stage-2 row) of a joint table, whatever its row numbering.
    fn joint_rows(j: &Joint, keys: &[u64]) -> Vec<Option<Vec<i16>>> {
        keys.iter()
            .map(|&k| {
                let r = j.table.get(k)? as usize;
                Some(j.weights[r * 2 * NT..(r + 1) * 2 * NT].to_vec())
            })
            .collect()
    }

    /// The direct load gives the joint table that building it from the `f32` stage tables
    /// gives: same scales, same 16-bit weights for every key (rows may be numbered apart).
    fn assert_direct_load_equals_staged(bytes: &[u8]) {
        let path = Path::new("m.bin");
        let full = from_bytes(bytes, path).expect("full load");
        let staged = Joint::new(&full.stage1, &full.stage2);
        let (lite, direct) = from_bytes_for_tagging(bytes, path).expect("tagging load");
        assert_eq!(staged.scale, direct.scale);
        assert_eq!(staged.weights.len(), direct.weights.len());
        let keys: Vec<u64> = full
            .stage1
            .table
            .keys()
            .chain(full.stage2.table.keys())
            .collect();
        assert_eq!(joint_rows(&staged, &keys), joint_rows(&direct, &keys));
        for (a, b) in [(&full.stage1, &lite.stage1), (&full.stage2, &lite.stage2)] {
            assert_eq!(a.masked, b.masked);
            assert_eq!(a.start, b.start);
            assert_eq!(a.end, b.end);
            assert!(b.weights.is_empty() && b.table.len() == 0);
        }
        assert_eq!(full.conf_slope, lite.conf_slope);
        assert_eq!(
            full.res.lexicon.entries.len(),
            lite.res.lexicon.entries.len()
        );
    }

    #[test]
    fn direct_load_equals_staged_joint_on_random_stages() {
        // Keys shared by both stages and keys of one stage only, weights of every sign and
        // magnitude (a deterministic LCG, no dependency).
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            x
        };
        let mut stage = |keys: std::ops::Range<u64>| {
            let mut s = tiny_stage();
            s.table = U64Map::default();
            s.weights.clear();
            for (i, k) in keys.enumerate() {
                s.table.insert(k * 7919, i as u32);
                for _ in 0..NT {
                    let v = (next() >> 40) as i32 - (1 << 23);
                    s.weights.push(v as f32 / 1234.5);
                }
            }
            s
        };
        let m = ModelData {
            stage1: stage(1..400),
            stage2: stage(250..700),
            conf_slope: 1.5,
            ..ModelData::default()
        };
        assert_direct_load_equals_staged(&to_bytes(&m).expect("serialises"));
        // An all-zero stage (scale 1) and an empty one.
        let zero = ModelData {
            stage1: {
                let mut s = stage(1..5);
                s.weights.iter_mut().for_each(|w| *w = 0.0);
                s
            },
            stage2: {
                let mut s = Stage::default();
                s.prepare();
                s
            },
            ..ModelData::default()
        };
        assert_direct_load_equals_staged(&to_bytes(&zero).expect("serialises"));
    }

    /// The direct scale equals the staged one for every kind of file scale and weight set.
    #[test]
    fn joint_scale_equals_the_staged_maximum() {
        let staged = |ws: &[i16], s: f32| {
            let max = ws
                .iter()
                .map(|&w| f32::from(w) * s)
                .fold(0f32, |m, v| m.max(v.abs()));
            if max > 0.0 {
                max / 32767.0
            } else {
                1.0
            }
        };
        let sets: [&[i16]; 5] = [&[], &[0, 0], &[5, -7, 3], &[-32767, 12], &[32767, -1, 0]];
        let scales = [
            1.0,
            0.5,
            -2.0,
            1e-3,
            -1e-40,
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MAX,
        ];
        for ws in sets {
            let top = ws.iter().map(|w| w.unsigned_abs()).max().unwrap_or(0);
            let bytes: Vec<u8> = ws.iter().flat_map(|w| w.to_le_bytes()).collect();
            assert_eq!(max_abs_i16(&bytes), top);
            for s in scales {
                let (a, b) = (staged(ws, s), joint_scale(top, s));
                assert!(
                    a == b || (a.is_nan() && b.is_nan()),
                    "{ws:?} {s}: {a} vs {b}"
                );
            }
        }
    }

    /// The merge over sorted key lists numbers rows exactly as the hash table does: shared
    /// keys, keys of one stage only, empty lists, and the lists the shipped model holds. Lists
    /// out of order or holding key 0 go to the hash table.
    #[test]
    fn merged_union_rows_equal_hashed_ones() {
        let mut x: u64 = 0x9d2c_5680_1b87_3e41;
        let mut next = move || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1442695040888963407);
            x >> 20
        };
        let mut cases: Vec<[Vec<u64>; 2]> =
            vec![[vec![], vec![]], [vec![], vec![5]], [vec![5], vec![]]];
        for _ in 0..50 {
            // Keys drawn from a small range so the stages share many of them.
            let range = 1 + next() % 600;
            let mut lists = [0, 1].map(|_| {
                let n = next() % 300;
                (0..n).map(|_| 1 + next() % range).collect::<Vec<u64>>()
            });
            for v in &mut lists {
                v.sort_unstable();
                v.dedup();
            }
            cases.push(lists);
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models/ner-conll2003.bin");
        if let Ok(bytes) = std::fs::read(&path) {
            let full = from_bytes(&bytes, &path).expect("shipped model loads");
            let keys = |s: &Stage| s.table.sorted_entries().iter().map(|e| e.0).collect();
            cases.push([keys(&full.stage1), keys(&full.stage2)]);
        }
        for [a, b] in &cases {
            assert_eq!(union_rows([a, b]), union_rows_hashed([a, b]), "{a:?} {b:?}");
            // Unsorted: the same rows as the hash table gives those lists.
            let (ra, rb): (Vec<u64>, Vec<u64>) = (a.iter().rev().copied().collect(), b.clone());
            assert_eq!(union_rows([&ra, &rb]), union_rows_hashed([&ra, &rb]));
            let (sa, sb): (Vec<u64>, Vec<u64>) = (a.clone(), b.iter().rev().copied().collect());
            assert_eq!(union_rows([&sa, &sb]), union_rows_hashed([&sa, &sb]));
        }
        // Key 0 and the key `fix_key` turns it into are one key to the hash table: only the
        // fallback numbers them so.
        let zero = [vec![0, 3, 0x9E37_79B9_7F4A_7C15], vec![3, 4]];
        assert_eq!(
            union_rows([&zero[0], &zero[1]]),
            union_rows_hashed([&zero[0], &zero[1]])
        );
    }

    /// The same on the shipped model (skips without it).
    #[test]
    fn direct_load_equals_staged_joint_on_the_shipped_model() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models/ner-conll2003.bin");
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("skipping: needs {}", path.display());
            return;
        };
        assert_direct_load_equals_staged(&bytes);
    }
}
