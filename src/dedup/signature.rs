//! Per-document signatures: an exact-content hash plus a MinHash sketch of word shingles.
//!
//! This is the "signatures" phase of dedup: a pure function of the text and the config,
//! `Send + Sync`, meant to run in parallel over a batch (`par_iter().map(|d| signer.sign(..))`).
//! Every hash is seeded from `DedupConfig::seed`, so signatures are stable across machines,
//! thread counts and runs (a saved index pins the parameters).
//!
//! Cost: each token is hashed once with xxh3; a shingle hash combines its n token hashes;
//! the k MinHash "permutations" are derived from the shingle hash by one multiply-add each
//! (h_i = (a_i * s + b_i) >> 32 with random odd a_i), so there is no per-shingle allocation
//! and one `Vec` per document.

use super::config::DedupConfig;
use super::normalize::{for_each_token, NormalizeOptions};
use super::DedupError;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Separator fed between tokens to the exact hash; 0xFF never occurs in UTF-8.
const TOKEN_SEP: [u8; 1] = [0xFF];
/// Odd multiplier used to chain token hashes into a shingle hash (2^64 / golden ratio).
const CHAIN_MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// What dedup needs to know about one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// xxh3-64 of the normalised token stream: equal for byte-different exact copies.
    pub exact: u64,
    /// One minimum per hash function (`num_hashes` values); all `u32::MAX` for an empty doc.
    pub minhash: Vec<u32>,
    /// Number of distinct shingles; used to turn a Jaccard estimate into containment.
    pub n_shingles: u32,
}

/// Computes [`Signature`]s; built once from the config, then shared by `&` across threads.
#[derive(Debug, Clone)]
pub struct Signer {
    opts: NormalizeOptions,
    shingle_words: usize,
    seed: u64,
    /// Multipliers (odd) of the k hash functions.
    mul: Vec<u64>,
    /// Offsets of the k hash functions.
    add: Vec<u64>,
}

/// splitmix64 step: a well-mixed 64-bit stream from a seed, used for hash coefficients.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Final avalanche of a chained shingle hash (murmur3 fmix64).
fn fmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    z = (z ^ (z >> 33)).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    z ^ (z >> 33)
}

impl Signer {
    /// Builds a signer; fails with [`DedupError::Config`] when the config does not validate.
    pub fn from_config(cfg: &DedupConfig) -> Result<Self, DedupError> {
        let errs = cfg.validate();
        if !errs.is_empty() {
            return Err(DedupError::Config(errs.join("; ")));
        }
        let mut state = cfg.seed;
        let k = cfg.num_hashes as usize;
        let mut mul = Vec::with_capacity(k);
        let mut add = Vec::with_capacity(k);
        for _ in 0..k {
            mul.push(splitmix64(&mut state) | 1);
            add.push(splitmix64(&mut state));
        }
        Ok(Signer {
            opts: NormalizeOptions {
                lowercase: cfg.lowercase,
                fold_punctuation: cfg.fold_punctuation,
            },
            shingle_words: cfg.shingle_words as usize,
            seed: cfg.seed,
            mul,
            add,
        })
    }

    /// Number of MinHash values per signature.
    pub fn num_hashes(&self) -> usize {
        self.mul.len()
    }

    /// Signs one text. Pure: same text and config, same signature.
    ///
    /// A text with fewer words than `shingle_words` (but at least one) is one shingle made
    /// of all its words, so short texts still get a usable sketch.
    pub fn sign(&self, text: &str) -> Signature {
        // The exact hash is xxh3 of "token SEP token SEP ...". Hashing that stream in one
        // call gives the same value as feeding it token by token to a streaming hasher, at
        // a fraction of the per-call cost (two `update`s per token were ~1% of a run).
        let mut stream: Vec<u8> = Vec::with_capacity(text.len() + text.len() / 8 + 8);
        let mut tokens: Vec<u64> = Vec::with_capacity(text.len() / 5 + 1);
        for_each_token(text, self.opts, |t| {
            stream.extend_from_slice(t.as_bytes());
            stream.extend_from_slice(&TOKEN_SEP);
            tokens.push(xxh3_64_with_seed(t.as_bytes(), self.seed));
        });
        let exact = xxh3_64_with_seed(&stream, self.seed);
        drop(stream);
        let n = self.shingle_words.min(tokens.len()).max(1);
        // Reuse the token buffer: shingle i only reads tokens i.., so it can be overwritten.
        let n_shingles = if tokens.is_empty() {
            0
        } else {
            tokens.len() + 1 - n
        };
        for i in 0..n_shingles {
            let mut h = self.seed ^ (n as u64);
            for t in &tokens[i..i + n] {
                h = (h ^ t).wrapping_mul(CHAIN_MUL).rotate_left(29);
            }
            tokens[i] = fmix64(h);
        }
        tokens.truncate(n_shingles);
        tokens.sort_unstable();
        tokens.dedup();
        let mut minhash = vec![u32::MAX; self.mul.len()];
        fold_shingles(&mut minhash, &self.mul, &self.add, &tokens);
        Signature {
            exact,
            minhash,
            n_shingles: u32::try_from(tokens.len()).unwrap_or(u32::MAX),
        }
    }
}

/// Lowers each permutation's minimum over the shingle hashes: `minhash[k] = min over s of
/// the top 32 bits of mul[k]·s + add[k]`. This is most of the signature's cost (k multiply-adds
/// per shingle), so on CPUs with wide vector units the same integer arithmetic runs in a copy
/// of the loop compiled for them (chosen at run time; results are bit-identical).
fn fold_shingles(minhash: &mut [u32], mul: &[u64], add: &[u64], shingles: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
        {
            // SAFETY: the CPU was just checked for the features the copy is compiled with.
            unsafe { fold_shingles_avx512(minhash, mul, add, shingles) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            unsafe { fold_shingles_avx2(minhash, mul, add, shingles) };
            return;
        }
    }
    fold_shingles_portable(minhash, mul, add, shingles);
}

#[inline(always)]
fn fold_shingles_portable(minhash: &mut [u32], mul: &[u64], add: &[u64], shingles: &[u64]) {
    for &s in shingles {
        for ((m, &a), &b) in minhash.iter_mut().zip(mul).zip(add) {
            let v = (a.wrapping_mul(s).wrapping_add(b) >> 32) as u32;
            *m = (*m).min(v);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn fold_shingles_avx512(minhash: &mut [u32], mul: &[u64], add: &[u64], shingles: &[u64]) {
    fold_shingles_portable(minhash, mul, add, shingles);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_shingles_avx2(minhash: &mut [u32], mul: &[u64], add: &[u64], shingles: &[u64]) {
    fold_shingles_portable(minhash, mul, add, shingles);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::from_config(&DedupConfig::default()).expect("default config is valid")
    }

    #[test]
    fn exact_hash_is_the_streamed_token_hash() {
        // Persisted in nightly indexes and shard signature files: it must stay the streaming
        // xxh3 of "token SEP token SEP ..." that earlier versions wrote.
        let s = signer();
        // Every stream length from 0 to ~700 bytes (xxh3 has separate paths up to 16, 128,
        // 240 bytes and for the last stripe of longer input), then a long text.
        let words = [
            "a",
            "bb",
            "ccc",
            "dddd",
            "eeeee",
            "İstanbul",
            "12.5%",
            "ümlaut",
        ];
        let mut texts = vec![String::new()];
        let mut t = String::new();
        for i in 0..180 {
            t.push_str(words[i * 7 % words.len()]);
            t.push(' ');
            texts.push(t.clone());
        }
        texts.push("a long text with many repeated words to cross the hasher's buffer ".repeat(40));
        for text in &texts {
            let mut streamed = xxhash_rust::xxh3::Xxh3::with_seed(s.seed);
            for_each_token(text, s.opts, |t| {
                streamed.update(t.as_bytes());
                streamed.update(&TOKEN_SEP);
            });
            assert_eq!(s.sign(text).exact, streamed.digest(), "{text:?}");
        }
        // Pinned: a change of tokeniser or seed would silently split exact copies from the
        // ones stored in earlier nights' indexes.
        const PINNED_EXACT: u64 = 2_741_397_322_643_572_417;
        assert_eq!(s.sign("Reuters - The dollar rose.").exact, PINNED_EXACT);
    }

    fn jaccard_est(a: &Signature, b: &Signature) -> f64 {
        let same = a
            .minhash
            .iter()
            .zip(&b.minhash)
            .filter(|(x, y)| x == y)
            .count();
        same as f64 / a.minhash.len() as f64
    }

    #[test]
    fn exact_hash_ignores_formatting() {
        let s = signer();
        let a = s.sign("Oil prices \"rose\" sharply today, traders said.");
        let b = s.sign("oil  prices \u{201C}rose\u{201D}\nsharply today \u{2014} traders said");
        assert_eq!(a.exact, b.exact);
        assert_eq!(a.minhash, b.minhash);
        assert_ne!(a.exact, s.sign("Oil prices fell sharply today").exact);
    }

    #[test]
    fn empty_and_tiny_texts() {
        let s = signer();
        let e = s.sign("");
        assert_eq!(e.n_shingles, 0);
        assert!(e.minhash.iter().all(|&m| m == u32::MAX));
        let t = s.sign("Reuter");
        assert_eq!(t.n_shingles, 1);
        assert_eq!(t.minhash.len(), 128);
    }

    #[test]
    fn counts_distinct_shingles() {
        let s = signer();
        // 7 words -> 3 five-word shingles; repeating the text adds the wrap-around ones only.
        assert_eq!(s.sign("a b c d e f g").n_shingles, 3);
        assert_eq!(s.sign("a b c d e a b c d e").n_shingles, 5);
    }

    #[test]
    fn estimate_tracks_true_jaccard() {
        let s = signer();
        let words: Vec<String> = (0..400).map(|i| format!("w{i}")).collect();
        let a = s.sign(&words[..300].join(" "));
        let b = s.sign(&words[100..].join(" "));
        // Shingle sets: 296 each, overlap 196 -> J = 196 / 396 = 0.495.
        let j = jaccard_est(&a, &b);
        assert!((j - 0.495).abs() < 0.12, "estimate {j}");
    }

    #[test]
    fn seed_changes_signature() {
        let other = Signer::from_config(&DedupConfig {
            seed: 7,
            ..DedupConfig::default()
        })
        .expect("valid");
        let text = "one two three four five six";
        assert_ne!(signer().sign(text).minhash, other.sign(text).minhash);
    }

    #[test]
    fn vector_copies_of_the_fold_agree_with_the_portable_loop() {
        let sig = signer();
        let mut state = 42u64;
        let shingles: Vec<u64> = (0..300).map(|_| splitmix64(&mut state)).collect();
        let mut want = vec![u32::MAX; sig.mul.len()];
        fold_shingles_portable(&mut want, &sig.mul, &sig.add, &shingles);
        let mut got = vec![u32::MAX; sig.mul.len()];
        fold_shingles(&mut got, &sig.mul, &sig.add, &shingles);
        assert_eq!(got, want);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let mut avx2 = vec![u32::MAX; sig.mul.len()];
            // SAFETY: checked just above.
            unsafe { fold_shingles_avx2(&mut avx2, &sig.mul, &sig.add, &shingles) };
            assert_eq!(avx2, want);
        }
    }
}
