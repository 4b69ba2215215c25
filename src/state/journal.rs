//! The commit journal: how a run's output partitions and its new state become visible
//! together, even if the process is killed half-way.
//!
//! A run stages everything first (tables under the output's staging folder, state files as
//! `<name>.next` in the state dir). Then it writes `<state>/commit.journal` listing every
//! rename still to do; writing that one file (atomically) is the commit point. The renames
//! follow, then the journal is deleted. Every step is idempotent, so the next run, finding a
//! journal, simply replays it ("roll forward"); finding staged files without a journal, it
//! deletes them ("roll back"): the run never happened and its inputs are still new.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::codec;
use super::StateError;

const KIND: &[u8; 8] = b"JOURNAL\0";
/// Bumped whenever the payload layout changes.
const VERSION: u32 = 1;

/// Name of the journal inside the state directory.
pub const JOURNAL_FILE: &str = "commit.journal";

/// One step of a commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// Rename `from` to `to` (a file replaces its target; a folder's target must not exist).
    /// Done when `from` is gone.
    Move {
        /// Staged path.
        from: PathBuf,
        /// Final path.
        to: PathBuf,
    },
    /// Swap folder `from` in at `to`, moving the old `to` to `trash` first.
    Replace {
        /// Staged folder.
        from: PathBuf,
        /// Final folder.
        to: PathBuf,
        /// Where the previous version goes until cleanup.
        trash: PathBuf,
    },
}

/// A run's commit: the renames, then folders to delete.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Journal {
    /// Run being committed.
    pub run_id: String,
    /// Renames, in order.
    pub ops: Vec<Op>,
    /// Deleted (best effort) once every op is done.
    pub cleanup: Vec<PathBuf>,
}

impl Journal {
    /// Commit: write the journal to `<state_dir>/commit.journal`, apply it, delete it.
    /// `after_op(i)` runs after op `i` (the test-only failure points hook in there).
    pub fn commit(&self, state_dir: &Path, after_op: impl Fn(usize)) -> Result<(), StateError> {
        let path = state_dir.join(JOURNAL_FILE);
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| StateError::corrupt(&path, &e.to_string()))?;
        codec::write_file(&path, KIND, VERSION, &json)?;
        self.apply(&after_op)?;
        std::fs::remove_file(&path).map_err(|e| StateError::io(&path, e))?;
        codec::sync_parent(&path);
        Ok(())
    }

    /// Replay a journal left by a killed run, if any; returns its run id.
    pub fn recover(state_dir: &Path) -> Result<Option<String>, StateError> {
        let path = state_dir.join(JOURNAL_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = codec::read_file(&path, KIND, VERSION)?;
        let j: Journal = serde_json::from_slice(&bytes)
            .map_err(|e| StateError::corrupt(&path, &format!("malformed journal: {e}")))?;
        j.apply(&|_| {})?;
        std::fs::remove_file(&path).map_err(|e| StateError::io(&path, e))?;
        Ok(Some(j.run_id))
    }

    fn apply(&self, after_op: &dyn Fn(usize)) -> Result<(), StateError> {
        for (i, op) in self.ops.iter().enumerate() {
            match op {
                Op::Move { from, to } => {
                    if from.exists() {
                        if let Some(p) = to.parent() {
                            std::fs::create_dir_all(p).map_err(|e| StateError::io(p, e))?;
                        }
                        std::fs::rename(from, to).map_err(|e| StateError::io(to, e))?;
                        codec::sync_parent(to);
                    }
                }
                Op::Replace { from, to, trash } => {
                    if from.exists() {
                        if to.exists() {
                            if trash.exists() {
                                std::fs::remove_dir_all(trash)
                                    .map_err(|e| StateError::io(trash, e))?;
                            }
                            if let Some(p) = trash.parent() {
                                std::fs::create_dir_all(p).map_err(|e| StateError::io(p, e))?;
                            }
                            std::fs::rename(to, trash).map_err(|e| StateError::io(to, e))?;
                        }
                        std::fs::rename(from, to).map_err(|e| StateError::io(to, e))?;
                        codec::sync_parent(to);
                    }
                }
            }
            after_op(i);
        }
        for p in &self.cleanup {
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(p);
            } else if p.exists() {
                let _ = std::fs::remove_file(p);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaying_a_half_applied_journal_finishes_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("stage/documents/run=2")).unwrap();
        std::fs::write(d.join("stage/documents/run=2/part-00000.parquet"), "new").unwrap();
        std::fs::create_dir_all(d.join("stage/entities")).unwrap();
        std::fs::write(d.join("stage/entities/part-00000.parquet"), "snap2").unwrap();
        std::fs::create_dir_all(d.join("out/entities")).unwrap();
        std::fs::write(d.join("out/entities/part-00000.parquet"), "snap1").unwrap();
        std::fs::write(d.join("manifest.bin.next"), "m2").unwrap();
        std::fs::write(d.join("manifest.bin"), "m1").unwrap();
        let j = Journal {
            run_id: "2".into(),
            ops: vec![
                Op::Move {
                    from: d.join("stage/documents/run=2"),
                    to: d.join("out/documents/run=2"),
                },
                Op::Replace {
                    from: d.join("stage/entities"),
                    to: d.join("out/entities"),
                    trash: d.join("stage/.previous/entities"),
                },
                Op::Move {
                    from: d.join("manifest.bin.next"),
                    to: d.join("manifest.bin"),
                },
            ],
            cleanup: vec![d.join("stage")],
        };
        // Write the journal and do only the first rename, as a run killed mid-commit would.
        let path = d.join(JOURNAL_FILE);
        codec::write_file(&path, KIND, VERSION, &serde_json::to_vec(&j).unwrap()).unwrap();
        let first = Journal {
            ops: j.ops[..1].to_vec(),
            cleanup: vec![],
            ..j.clone()
        };
        first.apply(&|_| {}).unwrap();
        assert_eq!(Journal::recover(d).unwrap().as_deref(), Some("2"));
        let read = |p: &str| std::fs::read_to_string(d.join(p)).unwrap();
        assert_eq!(read("out/documents/run=2/part-00000.parquet"), "new");
        assert_eq!(read("out/entities/part-00000.parquet"), "snap2");
        assert_eq!(read("manifest.bin"), "m2");
        assert!(!d.join("stage").exists() && !path.exists());
        // Replaying again is a no-op.
        assert_eq!(Journal::recover(d).unwrap(), None);
    }
}
