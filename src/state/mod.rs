//! Run state: what a nightly run remembers for the next one, in `[state] dir`.
//!
//! **Files** (all versioned and xxh3-checksummed; a damaged one is an error naming it, never
//! a silent reset):
//! - `dedup-index.bin`: the dedup index (format owned by `dedup/`), so new documents are
//!   deduplicated against everything seen before;
//! - `entities.bin`: the [`EntityRegistry`], from which the `entities` table is rewritten
//!   as a merged snapshot after each run;
//! - `doc-ids/<run_id>.bin`: the ids of each run's kept documents, so a copy found later can
//!   name its representative;
//! - `manifest.bin`: the [`Manifest`] of processed input files and the log of runs;
//! - `LOCK` while a run holds the directory ([`StateLock`]); `commit.journal` only while a
//!   run commits ([`Journal`]).
//!
//! **Guarantees**: one run per directory at a time; a run's new state becomes visible only
//! together with its output partitions (staged as `<file>.next`, switched by the journal);
//! [`StateDir::open`] finishes a commit interrupted by a crash and discards the leftovers of
//! a run killed before its commit point. Config: the `[state]` section ([`StateConfig`]).
//! This module depends only on `doc.rs` and the dedup index's file name.

mod codec;
mod config;
mod doc_ids;
mod journal;
mod lock;
mod manifest;
mod registry;

use std::path::{Path, PathBuf};

pub use config::StateConfig;
pub use doc_ids::{lookup_doc_ids, save_doc_ids, DOC_IDS_DIR};
pub use journal::{Journal, Op, JOURNAL_FILE};
pub use lock::{StateLock, LOCK_FILE};
pub use manifest::{hash_file, InputFile, InputRecord, InputStatus, Manifest, RunRecord};
pub use registry::{EntityRegistry, RegisteredEntity};

/// Name of the dedup index file inside the state dir.
pub const DEDUP_INDEX_FILE: &str = "dedup-index.bin";
/// Name of the entity registry file.
pub const ENTITIES_FILE: &str = "entities.bin";
/// Name of the manifest file.
pub const MANIFEST_FILE: &str = "manifest.bin";
/// Suffix of a state file staged by a run that has not committed yet.
pub const NEXT_SUFFIX: &str = ".next";

/// Errors reading or writing the state directory; each names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Filesystem error.
    #[error("state file {}: {source}", path.display())]
    Io {
        /// File or folder.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// A file is damaged or not what its name says.
    #[error("state file {} is corrupt: {reason}; restore it from a backup or start a new state dir (it is never reset automatically)", path.display())]
    Corrupt {
        /// File involved.
        path: PathBuf,
        /// What check failed.
        reason: String,
    },
    /// A file written by another format version.
    #[error("state file {} has format version {found}, this build reads {expected}", path.display())]
    Version {
        /// File involved.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// Another run holds the directory.
    #[error("another newsmill run holds the state dir ({owner}); wait for it to finish, or delete {} if that process is gone", path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// What the lock file says about its owner.
        owner: String,
    },
}

impl StateError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        StateError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn corrupt(path: &Path, reason: &str) -> Self {
        StateError::Corrupt {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}

/// An opened (locked, recovered) state directory.
#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
    lock: StateLock,
    /// Run id of a killed run whose commit was replayed on open.
    pub rolled_forward: Option<String>,
    /// Run id of a killed run whose uncommitted leftovers were discarded on open.
    pub rolled_back: Option<String>,
}

impl StateDir {
    /// Create `dir` if needed, take its lock for `run_id`, replay an interrupted commit or
    /// discard an uncommitted run's staged state files.
    pub fn open(dir: &Path, run_id: &str) -> Result<StateDir, StateError> {
        std::fs::create_dir_all(dir).map_err(|e| StateError::io(dir, e))?;
        let lock = StateLock::acquire(dir, run_id)?;
        let rolled_forward = Journal::recover(dir)?;
        let mut rolled_back = None;
        if rolled_forward.is_none() {
            let entries = std::fs::read_dir(dir).map_err(|e| StateError::io(dir, e))?;
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.ends_with(NEXT_SUFFIX) || name.ends_with(".tmp") {
                    let _ = std::fs::remove_file(e.path());
                    rolled_back = lock.stale_run.clone().or(Some(String::new()));
                }
            }
            if rolled_back.is_none() {
                rolled_back = lock.stale_run.clone();
            }
        }
        Ok(StateDir {
            dir: dir.to_path_buf(),
            lock,
            rolled_forward,
            rolled_back,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/<name>`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `<dir>/<name>.next`: where a run stages a new version of `name`.
    pub fn next_file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}{NEXT_SUFFIX}"))
    }

    /// The run id recorded by a dead lock owner, if the lock was taken over.
    pub fn stale_run(&self) -> Option<&str> {
        self.lock.stale_run.as_deref()
    }
}

/// Total size in bytes of the files under `dir`, recursively.
pub fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_discards_uncommitted_next_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manifest.bin.next"), "x").unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), "pid 4294967\nrun r9\n").unwrap();
        let s = StateDir::open(dir.path(), "r10").unwrap();
        assert_eq!(s.rolled_back.as_deref(), Some("r9"));
        assert!(!dir.path().join("manifest.bin.next").exists());
    }
}
