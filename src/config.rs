//! `pipeline.toml` → [`Config`]: loading, defaults and validation.
//!
//! Each section is defined next to its stage (`[input]` in `read/`, `[clean]` in `clean/`,
//! ...); this module composes them, owns file loading, and reports every problem at once
//! with the file and key it concerns. Unknown keys are errors (serde `deny_unknown_fields`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::clean::CleanConfig;
use crate::dedup::DedupConfig;
use crate::extract::ExtractConfig;
use crate::read::InputConfig;
pub use crate::state::StateConfig;
use crate::write::OutputConfig;

/// Progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProgressMode {
    /// A progress bar when stderr is a terminal, periodic log lines otherwise.
    #[default]
    Auto,
    /// Always a progress bar.
    Bar,
    /// Always log lines.
    Log,
    /// Nothing but the final summary.
    Off,
}

/// `[run]`: execution settings that do not change results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Worker threads; 0 = one per core. Output is identical for any value. Default 0.
    pub threads: usize,
    /// Documents per batch flowing through the stages; memory grows with it. Default 2000.
    pub batch_size: usize,
    /// Progress display: `auto`, `bar`, `log` or `off`. Default `auto`.
    pub progress: ProgressMode,
    /// Seconds between progress log lines when not drawing a bar. Default 10.
    pub log_interval_secs: u64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            threads: 0,
            batch_size: 2000,
            progress: ProgressMode::Auto,
            log_interval_secs: 10,
        }
    }
}

impl RunConfig {
    /// Problems with the section, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if self.batch_size == 0 {
            errs.push("[run] batch_size: must be positive".into());
        }
        if self.threads > 1024 {
            errs.push(format!("[run] threads: at most 1024, got {}", self.threads));
        }
        if self.log_interval_secs == 0 {
            errs.push("[run] log_interval_secs: must be positive".into());
        }
        errs
    }
}

/// The whole run configuration, one field per `pipeline.toml` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[input]`
    pub input: InputConfig,
    /// `[output]`
    pub output: OutputConfig,
    /// `[run]`
    pub run: RunConfig,
    /// `[clean]`
    pub clean: CleanConfig,
    /// `[dedup]`
    pub dedup: DedupConfig,
    /// `[extract]`
    pub extract: ExtractConfig,
    /// `[state]`
    pub state: StateConfig,
}

/// Why a config cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// Config file.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// TOML syntax error, unknown key or wrong value type.
    #[error("{path}: {message}")]
    Parse {
        /// Config file.
        path: PathBuf,
        /// The parser's message, which names the key and position.
        message: String,
    },
    /// Values out of range or inconsistent.
    #[error("{path}: invalid configuration:\n  {}", problems.join("\n  "))]
    Invalid {
        /// Config file (or `<defaults>`).
        path: PathBuf,
        /// One line per problem, each naming its key.
        problems: Vec<String>,
    },
}

/// The key as the user wrote it: the table header in brackets, then the key, e.g.
/// `run.threads` → `[run] threads`, `input.fields.id` → `[input.fields] id`,
/// `input.paths[1]` → `[input] paths[1]`; a top-level name alone is `[name]` (an unknown
/// section, or a section given a plain value). `None` when the path is empty.
fn key_name(path: &serde_path_to_error::Path) -> Option<String> {
    use serde_path_to_error::Segment;
    let segs: Vec<&Segment> = path.iter().collect();
    let render = |segs: &[&Segment]| {
        let mut out = String::new();
        for seg in segs {
            match seg {
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                Segment::Seq { index } => out.push_str(&format!("[{index}]")),
                Segment::Unknown => out.push_str(if out.is_empty() { "?" } else { ".?" }),
            }
        }
        out
    };
    // The last named segment is the key; everything before it is the table header.
    let last_key = segs
        .iter()
        .rposition(|s| !matches!(s, Segment::Seq { .. }))?;
    if last_key == 0 {
        return Some(format!("[{}]", render(&segs)));
    }
    Some(format!(
        "[{}] {}",
        render(&segs[..last_key]),
        render(&segs[last_key..])
    ))
}

impl Config {
    /// Load and validate a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_toml(&text, path)
    }

    /// Parse and validate TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let parse_error = |message: String| ConfigError::Parse {
            path: origin.to_path_buf(),
            message: message.trim_end().to_string(),
        };
        let de = toml::de::Deserializer::parse(text).map_err(|e| parse_error(e.to_string()))?;
        let cfg: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            // toml's message points at the line; the key path says which setting it is, as
            // `validate` does ("[run] threads: ..."), which matters when the same key name
            // appears in several sections.
            let key = key_name(e.path());
            let inner = e.into_inner().to_string();
            parse_error(match key {
                Some(key) => format!("{key}: {inner}"),
                None => inner,
            })
        })?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Check every section; all problems are reported together.
    pub fn validate(&self, origin: &Path) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        problems.extend(self.input.validate());
        problems.extend(self.output.validate());
        problems.extend(self.run.validate());
        problems.extend(self.clean.validate());
        problems.extend(self.dedup.validate());
        problems.extend(self.extract.validate());
        if self.state.enabled() && self.input.limit > 0 {
            problems.push(
                "[input] limit: cannot be used with [state] dir (a partly read file would be recorded as processed)"
                    .into(),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid {
                path: origin.to_path_buf(),
                problems,
            })
        }
    }

    /// The config as TOML (every key, defaults included).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config types serialise to TOML")
    }

    /// Hash of the settings that affect results (everything but `[run]` and the input and
    /// output locations), so two runs can be compared in a report.
    pub fn result_hash(&self) -> String {
        let mut c = self.clone();
        c.run = RunConfig::default();
        c.input.paths.clear();
        c.output.dir.clear();
        c.state.dir.clear();
        format!("{:016x}", xxh3_64(c.to_toml().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_round_trips_through_toml() {
        let c = Config::default();
        let back: Config = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn shipped_pipeline_toml_parses() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline.toml");
        let c = Config::load(&p).unwrap();
        assert!(!c.input.paths.is_empty());
    }

    #[test]
    fn typo_is_named() {
        let err = Config::from_toml("[clean]\nmin_wrods = 3\n", Path::new("p.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("min_wrods") && msg.contains("p.toml"), "{msg}");
    }

    #[test]
    fn wrong_value_type_names_section_and_key() {
        // Several sections have a key of the same name; the message must say which one.
        for (toml, key) in [
            ("[run]\nthreads = \"many\"\n", "[run] threads: "),
            ("[input]\npaths = [\"a\", 1]\n", "[input] paths[1]: "),
            ("[dedup]\nenabled = \"yes\"\n", "[dedup] enabled: "),
            ("[output]\nzstd_level = 2.5\n", "[output] zstd_level: "),
            ("[input.fields]\nid = 3\n", "[input.fields] id: "),
            ("[input]\nfields = { id = 3 }\n", "[input.fields] id: "),
            ("run = 3\n", "[run]: "),
        ] {
            let msg = Config::from_toml(toml, Path::new("p.toml"))
                .unwrap_err()
                .to_string();
            assert!(
                msg.starts_with(&format!("p.toml: {key}")),
                "{toml:?} gave {msg}"
            );
            assert!(msg.contains("invalid type"), "{msg}");
        }
        let msg = Config::from_toml("[run\n", Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("p.toml: TOML parse error"), "{msg}");
    }

    #[test]
    fn bad_values_are_all_reported() {
        let err = Config::from_toml(
            "[clean]\nmax_non_letter_ratio = 1.5\n[run]\nbatch_size = 0\n",
            Path::new("p.toml"),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("[clean] max_non_letter_ratio"), "{msg}");
        assert!(msg.contains("[run] batch_size"), "{msg}");
    }

    #[test]
    fn limit_cannot_be_combined_with_state() {
        let err = Config::from_toml(
            "[input]\nlimit = 5\n[state]\ndir = \"s\"\n",
            Path::new("p.toml"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("[input] limit"), "{err}");
    }

    #[test]
    fn hash_ignores_threads_and_paths() {
        let a = Config::default();
        let mut b = a.clone();
        b.run.threads = 7;
        b.output.dir = "elsewhere".into();
        assert_eq!(a.result_hash(), b.result_hash());
        b.clean.min_words = 99;
        assert_ne!(a.result_hash(), b.result_hash());
    }
}
