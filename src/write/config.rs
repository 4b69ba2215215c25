//! `[output]` section.

use serde::{Deserialize, Serialize};

/// Table file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    /// Apache Parquet, zstd-compressed; list columns stay lists.
    Parquet,
    /// CSV with a header row; list columns are joined with `list_separator`.
    Csv,
}

/// `[output]`: where and how tables are written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Output directory; one sub-folder per table plus `report.json`. Relative paths are
    /// resolved against the config file's directory. Default `"out"`.
    pub dir: String,
    /// Formats to write, any of `parquet`, `csv`. Default `["parquet"]`.
    pub formats: Vec<OutputFormat>,
    /// Rows per part file before a new `part-NNNNN` file is started. Default 1000000.
    pub rows_per_file: usize,
    /// Rows per Parquet row group, filled across batches (cut early at ~32 MiB of rows).
    /// Default 65536.
    pub row_group_rows: usize,
    /// zstd level for Parquet pages, 1 (fast) to 22 (small). Default 3.
    pub zstd_level: i32,
    /// Separator used to join list values (entity aliases) in CSV output. Default `"|"`.
    pub list_separator: String,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            dir: "out".into(),
            formats: vec![OutputFormat::Parquet],
            rows_per_file: 1_000_000,
            row_group_rows: 65_536,
            zstd_level: 3,
            list_separator: "|".into(),
        }
    }
}

impl OutputConfig {
    /// Problems with the section, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if self.dir.trim().is_empty() {
            errs.push("[output] dir: must not be empty".into());
        }
        if self.formats.is_empty() {
            errs.push("[output] formats: list at least one of \"parquet\", \"csv\"".into());
        }
        if self.rows_per_file == 0 {
            errs.push("[output] rows_per_file: must be positive".into());
        }
        if self.row_group_rows == 0 {
            errs.push("[output] row_group_rows: must be positive".into());
        }
        if !(1..=22).contains(&self.zstd_level) {
            errs.push(format!(
                "[output] zstd_level: must be in 1..=22, got {}",
                self.zstd_level
            ));
        }
        errs
    }
}
