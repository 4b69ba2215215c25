//! `[state]` section: where a nightly run keeps what it must remember.

use serde::{Deserialize, Serialize};

/// `[state]`: what a run remembers for the next one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// State directory, relative to the config file's directory. When set, runs are
    /// incremental: only input files not in its manifest are processed, new documents are
    /// deduplicated against every earlier run, each run's rows land in new
    /// `<table>/run=<run_id>/` partitions and `entities` is rewritten as the merged snapshot;
    /// a run with nothing new changes nothing. Keep it next to the output (e.g.
    /// `"out/.state"`: hidden folders are not matched by table globs) and on the same
    /// filesystem. Default empty: a one-off run that replaces the output tables as a whole
    /// and remembers nothing.
    pub dir: String,
}

impl StateConfig {
    /// Whether runs are incremental.
    pub fn enabled(&self) -> bool {
        !self.dir.trim().is_empty()
    }
}
