//! One run per state directory: `<state>/LOCK`, created exclusively, holding the owner's pid
//! and run id.
//!
//! A lock whose pid is no longer alive (checked through `/proc/<pid>`, so on Linux) was left
//! by a killed run: it is taken over, and the caller learns the dead run's id so it can
//! clean up after it. On systems without `/proc` a lock is always treated as live and the
//! error says which file to delete.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::StateError;

/// Name of the lock file inside the state directory.
pub const LOCK_FILE: &str = "LOCK";

/// A held lock; removed on drop.
#[derive(Debug)]
pub struct StateLock {
    path: PathBuf,
    /// Run id recorded by a dead owner whose lock was taken over.
    pub stale_run: Option<String>,
}

impl StateLock {
    /// Take the lock of `dir` for `run_id`.
    pub fn acquire(dir: &Path, run_id: &str) -> Result<StateLock, StateError> {
        let path = dir.join(LOCK_FILE);
        let mut stale_run = None;
        for _ in 0..3 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let body = format!("pid {}\nrun {run_id}\n", std::process::id());
                    f.write_all(body.as_bytes())
                        .and_then(|_| f.sync_all())
                        .map_err(|e| StateError::io(&path, e))?;
                    return Ok(StateLock { path, stale_run });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let body = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = field(&body, "pid").and_then(|p| p.parse::<u32>().ok());
                    match pid {
                        Some(pid) if !alive(pid) => {
                            stale_run = field(&body, "run").map(str::to_string);
                            // Rename first so two runs taking over at once cannot both win.
                            let aside =
                                dir.join(format!("{LOCK_FILE}.stale-{}", std::process::id()));
                            if std::fs::rename(&path, &aside).is_ok() {
                                let _ = std::fs::remove_file(&aside);
                            }
                        }
                        _ => {
                            return Err(StateError::Locked {
                                path,
                                owner: body.trim().replace('\n', ", "),
                            })
                        }
                    }
                }
                Err(e) => return Err(StateError::io(&path, e)),
            }
        }
        Err(StateError::Locked {
            path,
            owner: "a run that keeps re-taking it".into(),
        })
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn field<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(str::trim)
}

/// Whether a process with this pid exists. Without `/proc`, assume it does.
fn alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails_and_stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let held = StateLock::acquire(dir.path(), "r1").unwrap();
        let err = StateLock::acquire(dir.path(), "r2")
            .unwrap_err()
            .to_string();
        assert!(err.contains("LOCK") && err.contains("r1"), "{err}");
        drop(held);
        assert!(!dir.path().join(LOCK_FILE).exists());

        // A pid far above pid_max belongs to no process: the lock is stale.
        std::fs::write(dir.path().join(LOCK_FILE), "pid 4294967\nrun dead-run\n").unwrap();
        let l = StateLock::acquire(dir.path(), "r3").unwrap();
        assert_eq!(l.stale_run.as_deref(), Some("dead-run"));
    }
}
