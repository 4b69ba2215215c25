//! Saving and loading the dedup index, so a nightly run dedups against every earlier night.
//!
//! File layout (little-endian), version 1:
//! ```text
//! header (64 bytes)
//!   magic "NMDEDUP\0" | version u32 | shingle_words u32 | num_hashes u32 | bands u32 | rows u32
//!   | lowercase u8 | fold_punctuation u8 | 0u16 | seed u64 | n_docs u64 | payload_len u64
//!   | xxh3-64 of payload u64
//! payload
//!   n_docs records of 25 bytes: key u64 | exact u64 | n_shingles u32 | root u32 | kept u8
//!   n_docs * num_hashes u16 signature values
//! ```
//! Parameters that change signatures are pinned in the header; thresholds, keep policy and
//! mode are not (they only change decisions). The LSH buckets are rebuilt on load.
//! Saving writes `<path>.tmp` next to the target and renames it, so a crash never leaves a
//! half-written index under the real name.

use super::config::DedupConfig;
use super::index::DedupIndex;
use super::DedupError;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64;

const MAGIC: &[u8; 8] = b"NMDEDUP\0";
/// Bumped whenever the layout changes; older files are refused, not misread.
const VERSION: u32 = 1;
const HEADER_LEN: usize = 64;
const RECORD_LEN: usize = 25;

/// The pinned parameters as stored in the header, in header order.
fn pinned(cfg: &DedupConfig) -> [(&'static str, u64); 7] {
    [
        ("shingle_words", u64::from(cfg.shingle_words)),
        ("num_hashes", u64::from(cfg.num_hashes)),
        ("bands", u64::from(cfg.bands)),
        ("rows", u64::from(cfg.rows)),
        ("lowercase", u64::from(cfg.lowercase)),
        ("fold_punctuation", u64::from(cfg.fold_punctuation)),
        ("seed", cfg.seed),
    ]
}

/// Little-endian cursor over a byte slice; `None` past the end.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let bytes = self.buf.get(self.pos..self.pos + N)?;
        self.pos += N;
        bytes.try_into().ok()
    }
    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> DedupError {
    DedupError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn io_err(path: &Path, source: std::io::Error) -> DedupError {
    DedupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl DedupIndex {
    /// Writes the index to `path` (temp file + rename; parent dirs are created).
    ///
    /// Docs added but not yet `finish`ed are saved with the decisions `finish` would make.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), DedupError> {
        let path = path.as_ref();
        let pending = self.plan();
        let start = self.run_start as usize;
        let n = self.len();
        let mut payload = Vec::with_capacity(n * (RECORD_LEN + 2 * self.p.k));
        for i in 0..n {
            let kept = if i < start {
                self.kept_before[i]
            } else {
                pending[i - start].keep
            };
            payload.extend_from_slice(&self.keys[i].to_le_bytes());
            payload.extend_from_slice(&self.exact[i].to_le_bytes());
            payload.extend_from_slice(&self.n_shingles[i].to_le_bytes());
            payload.extend_from_slice(&self.uf.root_of(i as u32).to_le_bytes());
            payload.push(u8::from(kept));
        }
        for v in &self.sigs {
            payload.extend_from_slice(&v.to_le_bytes());
        }
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        let cfg = &self.p.cfg;
        for v in [cfg.shingle_words, cfg.num_hashes, cfg.bands, cfg.rows] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        header.extend_from_slice(&[
            u8::from(cfg.lowercase),
            u8::from(cfg.fold_punctuation),
            0,
            0,
        ]);
        header.extend_from_slice(&cfg.seed.to_le_bytes());
        header.extend_from_slice(&(n as u64).to_le_bytes());
        header.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        header.extend_from_slice(&xxh3_64(&payload).to_le_bytes());
        debug_assert_eq!(header.len(), HEADER_LEN);

        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        }
        let mut tmp_name = path.as_os_str().to_os_string();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&header)?;
            f.write_all(&payload)?;
            f.sync_all()
        };
        write().map_err(|e| io_err(&tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| io_err(path, e))
    }

    /// Reads an index saved by [`DedupIndex::save`]; its docs become "seen before".
    ///
    /// Errors name `path`: unreadable, truncated, bad magic/version, checksum mismatch, or
    /// pinned parameters that differ from `cfg` (which would make signatures incomparable).
    pub fn load(path: impl AsRef<Path>, cfg: &DedupConfig) -> Result<Self, DedupError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|e| io_err(path, e))?;
        let mut r = Reader {
            buf: &bytes,
            pos: 0,
        };
        let short = || corrupt(path, "file is truncated (shorter than its header)");
        let magic: [u8; 8] = r.take().ok_or_else(short)?;
        if &magic != MAGIC {
            return Err(corrupt(
                path,
                "not a newsmill dedup index (bad magic bytes)",
            ));
        }
        let version = r.u32().ok_or_else(short)?;
        if version != VERSION {
            return Err(DedupError::Version {
                path: path.to_path_buf(),
                found: version,
                expected: VERSION,
            });
        }
        let mut saved = [0u64; 7];
        for s in saved.iter_mut().take(4) {
            *s = u64::from(r.u32().ok_or_else(short)?);
        }
        saved[4] = u64::from(r.u8().ok_or_else(short)?);
        saved[5] = u64::from(r.u8().ok_or_else(short)?);
        r.u16().ok_or_else(short)?;
        saved[6] = r.u64().ok_or_else(short)?;
        let mut diffs = Vec::new();
        for ((name, want), got) in pinned(cfg).iter().zip(saved) {
            if *want != got {
                diffs.push(format!("{name}: saved {got}, configured {want}"));
            }
        }
        if !diffs.is_empty() {
            return Err(DedupError::ParamMismatch {
                path: path.to_path_buf(),
                detail: diffs.join(", "),
            });
        }
        let n = r.u64().ok_or_else(short)? as usize;
        let payload_len = r.u64().ok_or_else(short)? as usize;
        let checksum = r.u64().ok_or_else(short)?;
        let payload = &bytes[HEADER_LEN.min(bytes.len())..];
        if payload.len() != payload_len {
            return Err(corrupt(
                path,
                format!(
                    "payload is {} bytes, header says {payload_len} (truncated or appended)",
                    payload.len()
                ),
            ));
        }
        if xxh3_64(payload) != checksum {
            return Err(corrupt(path, "checksum mismatch (file content is damaged)"));
        }
        let mut idx = DedupIndex::new(cfg);
        let k = idx.p.k;
        if n.checked_mul(RECORD_LEN + 2 * k) != Some(payload_len) {
            return Err(corrupt(path, format!("payload size does not fit {n} docs")));
        }
        let mut recs = Reader {
            buf: payload,
            pos: 0,
        };
        let mut sigs = Reader {
            buf: payload,
            pos: n * RECORD_LEN,
        };
        let bad = || corrupt(path, "record out of range");
        let mut sig16 = vec![0u16; k];
        for i in 0..n {
            let key = recs.u64().ok_or_else(bad)?;
            let exact = recs.u64().ok_or_else(bad)?;
            let n_shingles = recs.u32().ok_or_else(bad)?;
            let root = recs.u32().ok_or_else(bad)?;
            let kept = recs.u8().ok_or_else(bad)? != 0;
            for v in sig16.iter_mut() {
                *v = sigs.u16().ok_or_else(bad)?;
            }
            if root as usize > i || (root as usize) < i && idx.uf.root_of(root) != root {
                return Err(corrupt(
                    path,
                    format!("doc {i} has an invalid cluster root {root}"),
                ));
            }
            let j = idx.push_doc(key, exact, n_shingles, &sig16);
            idx.kept_before[j as usize] = kept;
            idx.uf.push_with_root(root);
            idx.insert_lookups(j);
        }
        idx.run_start = n as u32;
        Ok(idx)
    }
}

#[cfg(test)]
mod tests {
    use super::super::index::{Assignment, DocMeta, DupKind};
    use super::super::signature::Signer;
    use super::*;

    const A: &str = "The central bank left its discount rate unchanged at three pct on \
        Thursday, saying inflation remained subdued and the currency had stabilised after \
        last month's turbulence on foreign exchange markets, officials said.";
    const B: &str = "Wheat export sales rose to 600,000 tonnes in the week ended March 5 \
        from 400,000 the week before, the Agriculture Department said, with the Soviet \
        Union and China the largest buyers of the new crop.";

    fn temp_path(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("newsmill-dedup-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir.join("state").join("dedup.idx")
    }

    fn add(idx: &mut DedupIndex, signer: &Signer, key: u64, text: &str) {
        let meta = DocMeta {
            key,
            n_chars: text.len() as u64,
            published: None,
        };
        idx.add(meta, &signer.sign(text));
    }

    fn second_run(idx: &mut DedupIndex, signer: &Signer) -> Vec<Assignment> {
        add(idx, signer, 1, A);
        add(idx, signer, 9, &A.to_uppercase());
        add(
            idx,
            signer,
            10,
            "Something unrelated about coffee quotas and Brazil.",
        );
        idx.finish()
    }

    #[test]
    fn save_load_gives_same_answers() {
        let cfg = DedupConfig {
            keep: super::super::config::KeepPolicy::Longest,
            ..DedupConfig::default()
        };
        let signer = Signer::from_config(&cfg).expect("valid");
        let mut first = DedupIndex::new(&cfg);
        add(&mut first, &signer, 5, A);
        add(&mut first, &signer, 6, B);
        add(
            &mut first,
            &signer,
            7,
            &format!("{B} Extra words make it the longest copy."),
        );
        let path = temp_path("roundtrip");
        first.save(&path).expect("save"); // unfinished: saved with the decisions finish makes
        let mut live = first.clone();
        live.finish();
        let mut loaded = DedupIndex::load(&path, &cfg).expect("load");
        assert_eq!(loaded.len(), 3);
        let a = second_run(&mut live, &signer);
        let b = second_run(&mut loaded, &signer);
        assert_eq!(a, b);
        // The doc kept earlier stays the representative; new copies are duplicates of it.
        assert!(!b[0].keep && !b[1].keep && b[2].keep);
        assert_eq!(b[0].kept_key, 5);
        assert_eq!(b[0].cluster_id, 1);
        assert_eq!(b[1].kind, Some(DupKind::Exact));
        let _ = fs::remove_dir_all(path.parent().and_then(Path::parent).expect("dir"));
    }

    #[test]
    fn corrupted_truncated_and_mismatched_files_are_clear_errors() {
        let cfg = DedupConfig::default();
        let signer = Signer::from_config(&cfg).expect("valid");
        let mut idx = DedupIndex::new(&cfg);
        add(&mut idx, &signer, 1, A);
        let path = temp_path("corrupt");
        idx.save(&path).expect("save");
        let good = fs::read(&path).expect("read");

        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x55;
        fs::write(&path, &flipped).expect("write");
        let err = DedupIndex::load(&path, &cfg).expect_err("checksum");
        assert!(err.to_string().contains("checksum"), "{err}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );

        fs::write(&path, &good[..good.len() - 10]).expect("write");
        let err = DedupIndex::load(&path, &cfg).expect_err("truncated");
        assert!(err.to_string().contains("truncated"), "{err}");
        fs::write(&path, &good[..20]).expect("write");
        assert!(DedupIndex::load(&path, &cfg).is_err());

        fs::write(&path, &good).expect("write");
        let other = DedupConfig {
            shingle_words: 3,
            ..cfg.clone()
        };
        let err = DedupIndex::load(&path, &other).expect_err("mismatch");
        assert!(
            err.to_string()
                .contains("shingle_words: saved 5, configured 3"),
            "{err}"
        );

        fs::write(
            &path,
            b"hello world, definitely not an index file at all.......",
        )
        .expect("w");
        let err = DedupIndex::load(&path, &cfg).expect_err("magic");
        assert!(err.to_string().contains("magic"), "{err}");

        let missing = path.with_file_name("absent.idx");
        let err = DedupIndex::load(&missing, &cfg).expect_err("missing");
        assert!(err.to_string().contains("absent.idx"), "{err}");
        let _ = fs::remove_dir_all(path.parent().and_then(Path::parent).expect("dir"));
    }
}
