//! The `newsmill` command line: a dispatcher. Each subcommand parses its flags, builds the
//! config and calls one library function; exit code 0 on success, 2 on config/usage
//! errors, 1 on runtime failures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use newsmill::config::{Config, ConfigError};
use newsmill::pipeline::{self, RunContext};
use newsmill::read::InputFormat;

/// Turn news article corpora into clean research datasets.
#[derive(Parser, Debug)]
#[command(name = "newsmill", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the pipeline: read → clean → dedup → extract → write tables and report.json.
    Run(RunArgs),
    /// Print the effective configuration (defaults merged with the config file) as TOML.
    Config {
        /// Config file; default ./pipeline.toml when it exists, else built-in defaults.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Config file; default ./pipeline.toml when it exists, else built-in defaults.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Input files, directories or globs (repeatable); replaces `[input] paths`.
    #[arg(long, short)]
    input: Vec<String>,
    /// Input format (auto, jsonl, csv, parquet, text); replaces `[input] format`.
    #[arg(long)]
    format: Option<String>,
    /// Output directory; replaces `[output] dir`.
    #[arg(long, short)]
    output: Option<String>,
    /// Worker threads (0 = all cores); replaces `[run] threads`.
    #[arg(long)]
    threads: Option<usize>,
    /// Read at most this many records; replaces `[input] limit`.
    #[arg(long)]
    limit: Option<u64>,
    /// No progress display and no summary.
    #[arg(long, short)]
    quiet: bool,
}

/// Usage/config errors exit with 2, everything else with 1.
struct UsageError(String);

fn load_config(path: Option<&Path>) -> Result<(Config, RunContext), ConfigError> {
    let default = Path::new("pipeline.toml");
    let chosen = match path {
        Some(p) => Some(p.to_path_buf()),
        None if default.exists() => Some(default.to_path_buf()),
        None => None,
    };
    match chosen {
        Some(p) => {
            let cfg = Config::load(&p)?;
            let base_dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            Ok((
                cfg,
                RunContext {
                    base_dir,
                    config_path: Some(p),
                },
            ))
        }
        None => Ok((
            Config::default(),
            RunContext {
                base_dir: PathBuf::from("."),
                config_path: None,
            },
        )),
    }
}

fn cmd_run(args: RunArgs) -> Result<()> {
    let (mut cfg, mut ctx) = load_config(args.config.as_deref())
        .map_err(|e| anyhow::Error::new(UsageErrorWrap(e.to_string())))?;
    // Flags are relative to the working directory, config values to the config file.
    let cwd = std::env::current_dir()?;
    let abs = |p: &str| {
        let p = Path::new(p);
        if p.is_absolute() {
            p.display().to_string()
        } else {
            cwd.join(p).display().to_string()
        }
    };
    if !args.input.is_empty() {
        cfg.input.paths = args.input.iter().map(|p| abs(p)).collect();
    }
    if let Some(f) = args.format {
        cfg.input.format = toml::Value::String(f.clone())
            .try_into::<InputFormat>()
            .map_err(|_| {
                anyhow::Error::new(UsageErrorWrap(format!(
                    "--format: unknown format {f:?} (auto, jsonl, csv, parquet, text)"
                )))
            })?;
    }
    if let Some(o) = args.output {
        cfg.output.dir = abs(&o);
    }
    if let Some(t) = args.threads {
        cfg.run.threads = t;
    }
    if let Some(l) = args.limit {
        cfg.input.limit = l;
    }
    if args.quiet {
        cfg.run.progress = newsmill::config::ProgressMode::Off;
    }
    let origin = ctx
        .config_path
        .clone()
        .unwrap_or_else(|| PathBuf::from("<defaults>"));
    cfg.validate(&origin)
        .map_err(|e| anyhow::Error::new(UsageErrorWrap(e.to_string())))?;
    if ctx.base_dir.as_os_str().is_empty() {
        ctx.base_dir = PathBuf::from(".");
    }
    let report = pipeline::run(&cfg, &ctx)?;
    if !args.quiet {
        eprintln!("{}", report.summary());
        eprintln!(
            "  output: {}",
            Path::new(&ctx.base_dir).join(&cfg.output.dir).display()
        );
    }
    Ok(())
}

#[derive(Debug)]
struct UsageErrorWrap(String);

impl std::fmt::Display for UsageErrorWrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageErrorWrap {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.command {
        Command::Run(args) => cmd_run(args),
        Command::Config { config } => load_config(config.as_deref())
            .map(|(cfg, _)| print!("{}", cfg.to_toml()))
            .map_err(|e| anyhow::Error::new(UsageErrorWrap(e.to_string()))),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let usage = e.downcast_ref::<UsageErrorWrap>().is_some();
            let _ = UsageError(String::new()).0;
            eprintln!("error: {e:#}");
            if usage {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
