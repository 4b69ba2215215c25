//! The manifest: which input files earlier runs processed, and a log of those runs.
//!
//! An input is identified by its canonical path; its size, modification time and xxh3-64
//! content hash decide whether it is unchanged. Size + mtime equal to the record means
//! unchanged without re-reading the file; otherwise the content hash decides, so a file that
//! was only touched is still skipped while an edited or appended one is processed again
//! (and the plan says so). A new path whose content hash equals a processed file's (a file
//! moved or copied) is skipped too and reported as such.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use xxhash_rust::xxh3::Xxh3;

use super::codec::{self, Dec, Enc};
use super::StateError;

const KIND: &[u8; 8] = b"MANIFEST";
/// Bumped whenever the payload layout changes.
const VERSION: u32 = 1;

/// What the manifest records about one processed input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRecord {
    /// Size on disk, bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: u64,
    /// xxh3-64 (seed 0) of the file's bytes.
    pub content_hash: u64,
    /// Run that processed it.
    pub run_id: String,
}

/// One committed run, as `newsmill status` lists it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunRecord {
    /// Run id (also the `run=` partition value).
    pub run_id: String,
    /// Start time, UTC ISO 8601.
    pub started_at: String,
    /// End time, UTC ISO 8601.
    pub finished_at: String,
    /// Input files processed.
    pub inputs: u64,
    /// Input records read.
    pub docs_in: u64,
    /// Documents written.
    pub kept: u64,
    /// Documents dropped as duplicates.
    pub duplicates: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Result-affecting config hash.
    pub config_hash: String,
    /// Wall seconds.
    pub wall_secs: f64,
}

/// Processed inputs (by canonical path, sorted) and the committed runs in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    /// Inputs by canonical path.
    pub inputs: BTreeMap<String, InputRecord>,
    /// Committed runs, oldest first.
    pub runs: Vec<RunRecord>,
}

/// One input file as found on disk now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The path as listed (used for reading).
    pub path: PathBuf,
    /// Canonical path (the manifest key).
    pub key: String,
    /// Size, bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: u64,
    /// Content hash; computed only when the manifest cannot vouch for the file.
    pub content_hash: Option<u64>,
}

/// Why an input is (not) processed by this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputStatus {
    /// Never seen: processed.
    New,
    /// Seen, but its content changed since: processed again.
    Changed,
    /// Processed by an earlier run and unchanged: skipped.
    Unchanged,
    /// Same content as an already processed file at another path: skipped.
    SameContentAs(String),
}

impl Manifest {
    /// Load `path`, or an empty manifest when it does not exist.
    pub fn load_or_default(path: &Path) -> Result<Manifest, StateError> {
        if !path.exists() {
            return Ok(Manifest::default());
        }
        let payload = codec::read_file(path, KIND, VERSION)?;
        decode(&payload).ok_or_else(|| StateError::corrupt(path, "malformed manifest records"))
    }

    /// Write it atomically to `path`.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let mut e = Enc::default();
        e.u64(self.inputs.len() as u64);
        for (k, r) in &self.inputs {
            e.str(k);
            e.u64(r.size);
            e.u64(r.mtime_ns);
            e.u64(r.content_hash);
            e.str(&r.run_id);
        }
        e.u64(self.runs.len() as u64);
        for r in &self.runs {
            e.str(&r.run_id);
            e.str(&r.started_at);
            e.str(&r.finished_at);
            for v in [r.inputs, r.docs_in, r.kept, r.duplicates, r.rejected] {
                e.u64(v);
            }
            e.str(&r.config_hash);
            e.f64(r.wall_secs);
        }
        codec::write_file(path, KIND, VERSION, &e.buf)
    }

    /// Decide each file's status, hashing only files whose size or mtime differ from the
    /// record (or that are new). Files are returned in the given order.
    pub fn plan(&self, files: &[PathBuf]) -> Result<Vec<(InputFile, InputStatus)>, StateError> {
        let mut by_hash: BTreeMap<u64, &str> = BTreeMap::new();
        for (k, r) in &self.inputs {
            by_hash.entry(r.content_hash).or_insert(k);
        }
        let mut out = Vec::with_capacity(files.len());
        for p in files {
            let mut f = stat(p)?;
            let status = match self.inputs.get(&f.key) {
                Some(r) if r.size == f.size && r.mtime_ns == f.mtime_ns => {
                    f.content_hash = Some(r.content_hash);
                    InputStatus::Unchanged
                }
                Some(r) => {
                    let h = hash_file(p)?;
                    f.content_hash = Some(h);
                    if h == r.content_hash {
                        InputStatus::Unchanged
                    } else {
                        InputStatus::Changed
                    }
                }
                None => {
                    let h = hash_file(p)?;
                    f.content_hash = Some(h);
                    match by_hash.get(&h) {
                        Some(other) if f.size > 0 => InputStatus::SameContentAs(other.to_string()),
                        _ => InputStatus::New,
                    }
                }
            };
            out.push((f, status));
        }
        Ok(out)
    }

    /// Record `f` as processed by `run_id`.
    pub fn record(&mut self, f: &InputFile, run_id: &str) {
        self.inputs.insert(
            f.key.clone(),
            InputRecord {
                size: f.size,
                mtime_ns: f.mtime_ns,
                content_hash: f.content_hash.unwrap_or(0),
                run_id: run_id.to_string(),
            },
        );
    }
}

fn decode(payload: &[u8]) -> Option<Manifest> {
    let mut d = Dec::new(payload);
    let mut m = Manifest::default();
    for _ in 0..d.u64()? {
        let k = d.str()?;
        let r = InputRecord {
            size: d.u64()?,
            mtime_ns: d.u64()?,
            content_hash: d.u64()?,
            run_id: d.str()?,
        };
        m.inputs.insert(k, r);
    }
    for _ in 0..d.u64()? {
        m.runs.push(RunRecord {
            run_id: d.str()?,
            started_at: d.str()?,
            finished_at: d.str()?,
            inputs: d.u64()?,
            docs_in: d.u64()?,
            kept: d.u64()?,
            duplicates: d.u64()?,
            rejected: d.u64()?,
            config_hash: d.str()?,
            wall_secs: d.f64()?,
        });
    }
    d.done().then_some(m)
}

fn stat(p: &Path) -> Result<InputFile, StateError> {
    let md = std::fs::metadata(p).map_err(|e| StateError::io(p, e))?;
    let mtime_ns = md
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    let key = std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string();
    Ok(InputFile {
        path: p.to_path_buf(),
        key,
        size: md.len(),
        mtime_ns,
        content_hash: None,
    })
}

/// xxh3-64 of a file's bytes, streamed.
pub fn hash_file(p: &Path) -> Result<u64, StateError> {
    let mut f = std::fs::File::open(p).map_err(|e| StateError::io(p, e))?;
    let mut h = Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| StateError::io(p, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.digest())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_unchanged_touched_changed_and_moved() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        std::fs::write(&a, "one\n").unwrap();
        let mut m = Manifest::default();
        let plan = m.plan(std::slice::from_ref(&a)).unwrap();
        assert_eq!(plan[0].1, InputStatus::New);
        m.record(&plan[0].0, "r1");
        assert_eq!(
            m.plan(std::slice::from_ref(&a)).unwrap()[0].1,
            InputStatus::Unchanged
        );

        // Same bytes rewritten (new mtime): still unchanged, decided by the hash.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&a, "one\n").unwrap();
        assert_eq!(
            m.plan(std::slice::from_ref(&a)).unwrap()[0].1,
            InputStatus::Unchanged
        );
        std::fs::write(&a, "one\ntwo\n").unwrap();
        assert_eq!(
            m.plan(std::slice::from_ref(&a)).unwrap()[0].1,
            InputStatus::Changed
        );

        let b = dir.path().join("b.jsonl");
        std::fs::write(&b, "one\n").unwrap();
        let st = &m.plan(std::slice::from_ref(&b)).unwrap()[0].1;
        assert!(
            matches!(st, InputStatus::SameContentAs(p) if p.ends_with("a.jsonl")),
            "{st:?}"
        );
    }

    #[test]
    fn save_load_round_trip_and_corruption_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("manifest.bin");
        let mut m = Manifest::default();
        m.inputs.insert(
            "/x/a".into(),
            InputRecord {
                size: 3,
                mtime_ns: 4,
                content_hash: 5,
                run_id: "r1".into(),
            },
        );
        m.runs.push(RunRecord {
            run_id: "r1".into(),
            kept: 9,
            wall_secs: 1.5,
            ..RunRecord::default()
        });
        m.save(&p).unwrap();
        assert_eq!(Manifest::load_or_default(&p).unwrap(), m);
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[45] ^= 0xff;
        std::fs::write(&p, bytes).unwrap();
        let err = Manifest::load_or_default(&p).unwrap_err().to_string();
        assert!(
            err.contains("manifest.bin") && err.contains("checksum"),
            "{err}"
        );
    }
}
