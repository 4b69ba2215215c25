//! Shared helpers for the end-to-end tests: a throwaway working directory, a wrapper around
//! the real `newsmill` binary, and table readers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polars::prelude::*;

/// A temporary directory the binary runs in.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Run `newsmill <args>` in this directory.
    pub fn newsmill(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_newsmill"))
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("run newsmill")
    }

    /// Run and insist on success.
    pub fn newsmill_ok(&self, args: &[&str]) -> Output {
        let out = self.newsmill(args);
        assert!(
            out.status.success(),
            "newsmill {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// Repository root (where pipeline.toml and data/ live).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/<rel>` if present; otherwise prints why the test is skipped and returns None.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = repo().join("..").join("shared").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: {} not found (the shared data folder is not available)",
            p.display()
        );
        None
    }
}

/// Parquet part files under `dir`, at any depth (`run=<id>/` partitions too), sorted by
/// path: run ids sort in run order, part numbers in write order.
pub fn parquet_parts(dir: &Path) -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "parquet") {
                out.push(p);
            }
        }
    }
    let mut parts = Vec::new();
    walk(dir, &mut parts);
    parts.sort();
    parts
}

/// All part files of a table (every partition), concatenated in path order.
pub fn read_table(out: &Path, table: &str) -> DataFrame {
    let dir = out.join(table);
    let parts = parquet_parts(&dir);
    assert!(!parts.is_empty(), "no parquet parts in {}", dir.display());
    let mut frames = parts.iter().map(|p| {
        ParquetReader::new(std::fs::File::open(p).unwrap())
            .finish()
            .unwrap()
    });
    let mut df = frames.next().unwrap();
    for f in frames {
        df.vstack_mut(&f).unwrap();
    }
    df
}

/// A string column as owned values (nulls as None).
pub fn strings(df: &DataFrame, col: &str) -> Vec<Option<String>> {
    let c = df.column(col).unwrap().str().unwrap().clone();
    (0..c.len()).map(|i| c.get(i).map(str::to_string)).collect()
}

/// A non-null string column.
pub fn strs(df: &DataFrame, col: &str) -> Vec<String> {
    strings(df, col)
        .into_iter()
        .map(|s| s.unwrap_or_else(|| panic!("null in {col}")))
        .collect()
}

/// The run report as JSON.
pub fn report(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// Run the pipeline over the shared seed article (as a one-file text directory) and return
/// the workdir (tables under `out/`) with the parsed `seed/expected.toml`; `None` (after a
/// skip message) when the shared folder is absent.
pub fn run_seed() -> Option<(Workdir, toml::Value)> {
    let seed = shared("seed/article.txt")?;
    let expected = shared("seed/expected.toml")?;
    let expected: toml::Value =
        toml::from_str(&std::fs::read_to_string(expected).unwrap()).unwrap();
    let w = Workdir::new();
    std::fs::create_dir_all(w.join("in")).unwrap();
    std::fs::copy(&seed, w.join("in/article.txt")).unwrap();
    w.newsmill_ok(&["run", "-q", "--input", "in", "--output", "out"]);
    Some((w, expected))
}
