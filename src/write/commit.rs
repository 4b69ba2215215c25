//! Atomic output: every table is written under `<out>/.newsmill-staging-<run>/` and moved
//! into place only when the whole run succeeded. A failed or killed run leaves the previous
//! output untouched (its staging folder is hidden from `documents/*.parquet` globs and
//! removed on error).

use std::path::{Path, PathBuf};

use super::WriteError;

/// Prefix of staging folders inside the output directory.
pub const STAGING_PREFIX: &str = ".newsmill-staging-";

/// The run's private output folder.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    committed: bool,
}

impl Staging {
    /// Create `<out>/.newsmill-staging-<run_id>/`.
    pub fn create(out: &Path, run_id: &str) -> Result<Staging, WriteError> {
        let dir = out.join(format!("{STAGING_PREFIX}{run_id}"));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| WriteError::io(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| WriteError::io(&dir, e))?;
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
            committed: false,
        })
    }

    /// Folder for a table's part files (inside staging).
    pub fn table_dir(&self, table: &str) -> PathBuf {
        self.dir.join(table)
    }

    /// A scratch path inside staging (spool files); removed with staging.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The staging folder itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// fsync every staged file, so a commit that follows survives a power cut.
    pub fn sync(&self) -> Result<(), WriteError> {
        fn walk(d: &Path) -> Result<(), WriteError> {
            let entries = std::fs::read_dir(d).map_err(|e| WriteError::io(d, e))?;
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p)?;
                } else {
                    std::fs::File::open(&p)
                        .and_then(|f| f.sync_all())
                        .map_err(|e| WriteError::io(&p, e))?;
                }
            }
            Ok(())
        }
        walk(&self.dir)
    }

    /// Hand the folder over to a caller that commits it by other means (the nightly commit
    /// journal): it is no longer removed on drop.
    pub fn disarm(mut self) -> PathBuf {
        self.committed = true;
        std::mem::take(&mut self.dir)
    }

    /// Move every staged table into `<out>/<table>`, replacing the previous version, then
    /// write `report` as `<out>/report.json`. Tables are swapped one rename each; the old
    /// versions are deleted only after all new ones are in place.
    pub fn commit(mut self, tables: &[&str], report: &[u8]) -> Result<(), WriteError> {
        let trash = self.dir.join(".previous");
        std::fs::create_dir_all(&trash).map_err(|e| WriteError::io(&trash, e))?;
        for t in tables {
            let staged = self.dir.join(t);
            if !staged.exists() {
                continue;
            }
            let target = self.out.join(t);
            if target.exists() {
                std::fs::rename(&target, trash.join(t)).map_err(|e| WriteError::io(&target, e))?;
            }
            std::fs::rename(&staged, &target).map_err(|e| WriteError::io(&target, e))?;
        }
        let tmp = self.dir.join("report.json");
        std::fs::write(&tmp, report).map_err(|e| WriteError::io(&tmp, e))?;
        let final_report = self.out.join("report.json");
        std::fs::rename(&tmp, &final_report).map_err(|e| WriteError::io(&final_report, e))?;
        self.committed = true;
        std::fs::remove_dir_all(&self.dir).map_err(|e| WriteError::io(&self.dir, e))?;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a failed run must not leave half-written tables behind.
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_tables_and_failure_leaves_old_output() {
        let out = tempfile::tempdir().unwrap();
        let s = Staging::create(out.path(), "r1").unwrap();
        std::fs::create_dir_all(s.table_dir("documents")).unwrap();
        std::fs::write(s.table_dir("documents").join("part-00000.parquet"), "v1").unwrap();
        s.commit(&["documents"], b"{}").unwrap();
        let part = out.path().join("documents/part-00000.parquet");
        assert_eq!(std::fs::read_to_string(&part).unwrap(), "v1");

        {
            let s = Staging::create(out.path(), "r2").unwrap();
            std::fs::create_dir_all(s.table_dir("documents")).unwrap();
            std::fs::write(s.table_dir("documents").join("part-00000.parquet"), "v2").unwrap();
            // dropped without commit: a failed run
        }
        assert_eq!(std::fs::read_to_string(&part).unwrap(), "v1");
        let leftovers: Vec<_> = std::fs::read_dir(out.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(STAGING_PREFIX))
            .collect();
        assert!(leftovers.is_empty());
    }
}
