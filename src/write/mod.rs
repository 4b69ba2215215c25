//! Writers: table rows → part files under the output directory, committed atomically.
//!
//! Input: per-batch row builders ([`DocumentRows`], [`RejectRows`], [`DuplicateRows`], ...)
//! turned into polars frames. Output: `<output.dir>/<table>/part-NNNNN.{parquet,csv}` and
//! `report.json`. Config: `[output]` ([`OutputConfig`]).
//!
//! Everything is written under a staging folder first ([`Staging`]) and renamed into place
//! only when the run completes, so readers never see a half-written table and a failed run
//! leaves the previous output as it was. Row order equals input order whatever the thread
//! count, so outputs are byte-identical across `[run] threads`. Only this module (and the
//! Parquet reader) imports polars.

mod commit;
mod config;
pub mod schema;
pub mod shards;
mod sink;
mod spool;
mod tables;

use std::path::{Path, PathBuf};

pub use commit::{Staging, STAGING_PREFIX};
pub use config::{OutputConfig, OutputFormat};
pub use sink::TableWriter;
pub use spool::{Spool, SpoolReader, SpoolWriter};
pub use tables::{
    DocLabels, DocumentRows, DuplicateRow, DuplicateRows, EntityRow, EntityRows, MentionRows,
    QuoteRow, QuoteRows, RejectRows, RelationRow, RelationRows, Rows,
};

/// Errors writing output; each names the file or folder concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Filesystem error.
    #[error("cannot write {path}: {source}")]
    Io {
        /// File or folder.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// polars failed to encode a table.
    #[error("cannot write {path}: {source}")]
    Polars {
        /// File or folder.
        path: PathBuf,
        /// polars error.
        source: polars::prelude::PolarsError,
    },
}

impl WriteError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        WriteError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn polars(path: &Path, source: polars::prelude::PolarsError) -> Self {
        WriteError::Polars {
            path: path.to_path_buf(),
            source,
        }
    }
}
