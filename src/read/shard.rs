//! Shard selection: which input files one task of an N-way sharded run reads.
//!
//! A file belongs to shard `xxh3_64_with_seed(key, SHARD_SEED) % N`, where `key` is the
//! file's path relative to the run's base directory (the config file's folder) when it lies
//! under it, else the path as listed. The choice therefore depends only on the path and N —
//! never on listing order, on which machine lists, or on the other files — so N tasks that
//! each list the same input pick disjoint sets that together cover it.
//!
//! The shard comes from `--shard i/N`, or from the scheduler's environment: a Slurm job
//! array (`SLURM_ARRAY_TASK_ID` minus `SLURM_ARRAY_TASK_MIN`, count
//! `SLURM_ARRAY_TASK_COUNT`) or a Kubernetes indexed Job (`JOB_COMPLETION_INDEX`, count
//! from `NEWSMILL_SHARD_COUNT`, since Kubernetes does not export the completion count).

use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Seed of the file → shard hash. Persisted implicitly (it decides which shard folder holds
/// which file), so it must never change.
pub const SHARD_SEED: u64 = 0x6e65_7773_6d69_6c6c; // "newsmill"

/// Environment variable giving the shard count for `JOB_COMPLETION_INDEX`.
pub const SHARD_COUNT_ENV: &str = "NEWSMILL_SHARD_COUNT";

/// One task of an N-way sharded run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    /// This task, `0..count`.
    pub index: u32,
    /// Number of shards, at least 1.
    pub count: u32,
}

/// A shard that cannot be parsed or does not fit its count.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShardError {
    /// Not of the form `i/N` with integers.
    #[error("shard {given:?}: expected i/N, e.g. 0/12")]
    Syntax {
        /// What was given.
        given: String,
    },
    /// `i >= N` or `N == 0`.
    #[error("shard {index}/{count}: the index must be in 0..{count} and the count at least 1")]
    Range {
        /// Index given.
        index: u64,
        /// Count given.
        count: u64,
    },
    /// An environment variable that is set but not a number, or a missing companion.
    #[error("{var}: {message}")]
    Env {
        /// The variable.
        var: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl ShardSpec {
    /// Checks `index < count` and `count >= 1`.
    pub fn new(index: u64, count: u64) -> Result<ShardSpec, ShardError> {
        if count == 0 || index >= count || count > u64::from(u32::MAX) {
            return Err(ShardError::Range { index, count });
        }
        Ok(ShardSpec {
            index: index as u32,
            count: count as u32,
        })
    }

    /// Parses `i/N`.
    pub fn parse(s: &str) -> Result<ShardSpec, ShardError> {
        let syntax = || ShardError::Syntax {
            given: s.to_string(),
        };
        let (i, n) = s.trim().split_once('/').ok_or_else(syntax)?;
        let i: u64 = i.trim().parse().map_err(|_| syntax())?;
        let n: u64 = n.trim().parse().map_err(|_| syntax())?;
        ShardSpec::new(i, n)
    }

    /// The shard from scheduler variables, looked up with `get` (pass `std::env::var`
    /// wrapped in `.ok()`); `Ok(None)` when neither Slurm nor an indexed Job is present.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<ShardSpec>, ShardError> {
        let num = |var: &'static str| -> Result<Option<u64>, ShardError> {
            match get(var) {
                None => Ok(None),
                Some(v) => v.trim().parse().map(Some).map_err(|_| ShardError::Env {
                    var,
                    message: format!("not a number: {v:?}"),
                }),
            }
        };
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let count = num("SLURM_ARRAY_TASK_COUNT")?.ok_or(ShardError::Env {
                var: "SLURM_ARRAY_TASK_COUNT",
                message: "not set although SLURM_ARRAY_TASK_ID is".into(),
            })?;
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let index = id.checked_sub(min).ok_or(ShardError::Env {
                var: "SLURM_ARRAY_TASK_ID",
                message: format!("{id} is below SLURM_ARRAY_TASK_MIN {min}"),
            })?;
            return ShardSpec::new(index, count).map(Some);
        }
        if let Some(index) = num("JOB_COMPLETION_INDEX")? {
            let count = num(SHARD_COUNT_ENV)?.ok_or(ShardError::Env {
                var: SHARD_COUNT_ENV,
                message: "set it to the Job's `completions` (JOB_COMPLETION_INDEX is set)".into(),
            })?;
            return ShardSpec::new(index, count).map(Some);
        }
        Ok(None)
    }

    /// Folder name of this shard's output, e.g. `shard-00003-of-00012`.
    pub fn dir_name(&self) -> String {
        format!("shard-{:05}-of-{:05}", self.index, self.count)
    }

    /// Whether `file` (as listed, resolved against `base_dir`) belongs to this shard.
    pub fn owns(&self, file: &Path, base_dir: &Path) -> bool {
        shard_of(file, base_dir, self.count) == self.index
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The hash key of a file: its path relative to `base_dir` when it lies under it.
pub fn shard_key(file: &Path, base_dir: &Path) -> String {
    let rel = file.strip_prefix(base_dir).unwrap_or(file);
    // Forward slashes, so a key computed on another OS picks the same shard.
    // The root is the empty first piece, so an absolute key reads "/data/x", not "//data/x".
    rel.components()
        .map(|c| match c {
            std::path::Component::RootDir => "".into(),
            c => c.as_os_str().to_string_lossy(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Shard (in `0..count`) a file belongs to.
pub fn shard_of(file: &Path, base_dir: &Path, count: u32) -> u32 {
    let key = shard_key(file, base_dir);
    (xxh3_64_with_seed(key.as_bytes(), SHARD_SEED) % u64::from(count.max(1))) as u32
}

/// The files of `listed` this shard owns, each with its position in `listed` (the global
/// input order a single-process run would read them in).
pub fn select(listed: &[PathBuf], base_dir: &Path, shard: ShardSpec) -> Vec<(usize, PathBuf)> {
    listed
        .iter()
        .enumerate()
        .filter(|(_, f)| shard.owns(f, base_dir))
        .map(|(i, f)| (i, f.clone()))
        .collect()
}

/// Shard indices as compact ranges for `sbatch --array=`: `[3, 7, 8, 9]` → `"3,7-9"`.
pub fn format_ranges(indices: &[u32]) -> String {
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn parses_and_checks_range() {
        assert_eq!(
            ShardSpec::parse("3/12").unwrap(),
            ShardSpec {
                index: 3,
                count: 12
            }
        );
        assert!(matches!(
            ShardSpec::parse("12/12"),
            Err(ShardError::Range { .. })
        ));
        assert!(matches!(
            ShardSpec::parse("0/0"),
            Err(ShardError::Range { .. })
        ));
        assert!(matches!(
            ShardSpec::parse("a/3"),
            Err(ShardError::Syntax { .. })
        ));
    }

    #[test]
    fn env_forms_equal_the_flag() {
        let slurm: HashMap<&str, &str> = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
        ]
        .into();
        let got = ShardSpec::from_env(|k| slurm.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(got, Some(ShardSpec::parse("3/5").unwrap()));
        let k8s: HashMap<&str, &str> =
            [("JOB_COMPLETION_INDEX", "3"), (SHARD_COUNT_ENV, "5")].into();
        let got = ShardSpec::from_env(|k| k8s.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(got, Some(ShardSpec::parse("3/5").unwrap()));
        assert_eq!(ShardSpec::from_env(|_| None).unwrap(), None);
        let no_count: HashMap<&str, &str> = [("JOB_COMPLETION_INDEX", "3")].into();
        assert!(ShardSpec::from_env(|k| no_count.get(k).map(|v| v.to_string())).is_err());
    }

    #[test]
    fn shards_are_disjoint_cover_and_ignore_order() {
        let base = Path::new("/corpus");
        let files: Vec<PathBuf> = (0..40)
            .map(|i| base.join(format!("part-{i:03}.jsonl")))
            .collect();
        let mut reversed = files.clone();
        reversed.reverse();
        let mut seen = vec![0; files.len()];
        for i in 0..3 {
            let s = ShardSpec::new(i, 3).unwrap();
            let a: Vec<PathBuf> = select(&files, base, s).into_iter().map(|x| x.1).collect();
            let mut b: Vec<PathBuf> = select(&reversed, base, s)
                .into_iter()
                .map(|x| x.1)
                .collect();
            b.reverse();
            assert_eq!(a, b);
            for f in &a {
                seen[files.iter().position(|g| g == f).unwrap()] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
    }

    #[test]
    fn key_is_relative_to_base() {
        let a = shard_of(Path::new("/x/in/a.jsonl"), Path::new("/x"), 1000);
        let b = shard_of(Path::new("/y/in/a.jsonl"), Path::new("/y"), 1000);
        assert_eq!(a, b);
    }

    #[test]
    fn ranges_for_array_flag() {
        assert_eq!(format_ranges(&[9, 3, 7, 8]), "3,7-9");
        assert_eq!(format_ranges(&[0]), "0");
        assert_eq!(format_ranges(&[]), "");
    }

    #[test]
    fn keys_use_forward_slashes_and_one_leading_slash() {
        let base = Path::new("/work/project");
        assert_eq!(
            shard_key(Path::new("/work/project/in/a.jsonl"), base),
            "in/a.jsonl"
        );
        assert_eq!(
            shard_key(Path::new("/elsewhere/b.jsonl"), base),
            "/elsewhere/b.jsonl"
        );
    }
}
