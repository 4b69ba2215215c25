//! Document ids of kept documents, one file per run (`doc-ids/<run_id>.bin`), so a copy
//! found tonight can name the representative an earlier night kept (`kept_doc_id`).
//!
//! The dedup index stores only xxh3 keys of doc ids; these files map keys back to ids. Each
//! run writes only its own file (cost grows with the night, not the corpus); a lookup reads
//! the files of earlier runs only when tonight has copies of earlier documents.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::codec::{self, Dec, Enc};
use super::StateError;

const KIND: &[u8; 8] = b"DOCIDS\0\0";
/// Bumped whenever the payload layout changes.
const VERSION: u32 = 1;

/// Folder of the per-run files inside the state dir.
pub const DOC_IDS_DIR: &str = "doc-ids";

/// Write one run's `(key, doc_id)` pairs to `path` (atomically).
pub fn save_doc_ids(path: &Path, ids: &[(u64, String)]) -> Result<(), StateError> {
    let mut e = Enc::default();
    e.u64(ids.len() as u64);
    for (k, id) in ids {
        e.u64(*k);
        e.str(id);
    }
    codec::write_file(path, KIND, VERSION, &e.buf)
}

/// Find the doc ids of `keys` in every run's file under `<state>/doc-ids/`.
pub fn lookup_doc_ids(
    state_dir: &Path,
    keys: &BTreeSet<u64>,
) -> Result<BTreeMap<u64, String>, StateError> {
    let mut found = BTreeMap::new();
    let dir = state_dir.join(DOC_IDS_DIR);
    if keys.is_empty() || !dir.exists() {
        return Ok(found);
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| StateError::io(&dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .collect();
    files.sort();
    for p in files {
        let payload = codec::read_file(&p, KIND, VERSION)?;
        let bad = || StateError::corrupt(&p, "malformed doc id records");
        let mut d = Dec::new(&payload);
        for _ in 0..d.u64().ok_or_else(bad)? {
            let k = d.u64().ok_or_else(bad)?;
            let id = d.str().ok_or_else(bad)?;
            if keys.contains(&k) {
                found.entry(k).or_insert(id);
            }
        }
        if !d.done() {
            return Err(bad());
        }
        if found.len() == keys.len() {
            break;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ids_across_run_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join(DOC_IDS_DIR);
        std::fs::create_dir_all(&d).unwrap();
        save_doc_ids(&d.join("00001-a.bin"), &[(1, "a".into()), (2, "b".into())]).unwrap();
        save_doc_ids(&d.join("00002-b.bin"), &[(3, "c".into())]).unwrap();
        let keys: BTreeSet<u64> = [1, 3, 9].into();
        let got = lookup_doc_ids(dir.path(), &keys).unwrap();
        assert_eq!(got.get(&1).map(String::as_str), Some("a"));
        assert_eq!(got.get(&3).map(String::as_str), Some("c"));
        assert!(!got.contains_key(&9));
        std::fs::write(d.join("00002-b.bin"), b"junk").unwrap();
        let err = lookup_doc_ids(dir.path(), &keys).unwrap_err().to_string();
        assert!(err.contains("00002-b.bin"), "{err}");
    }
}
