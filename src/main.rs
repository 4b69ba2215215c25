//! The `newsmill` command line: a dispatcher. Each subcommand parses its flags, builds the
//! config and calls one library function; exit code 0 on success, 2 on config/usage
//! errors, 1 on runtime failures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use newsmill::config::{Config, ConfigError};
use newsmill::pipeline::{self, RunContext};
use newsmill::read::{InputFormat, ShardSpec};

// The pipeline makes and drops many small strings and vectors per document (tokens, feature
// keys, table cells); mimalloc's thread-local free lists cost a fraction of glibc malloc's
// locking and consolidation (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOC: newsmill::alloc::Mimalloc = newsmill::alloc::Mimalloc;

/// `print!` that ends the process quietly (exit 0) when stdout is a closed pipe, so
/// `newsmill eval ... | head` does not panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout().lock(), $($arg)*) {
            stdout_failed(e);
        }
    }};
}

/// `println!` with [`out!`]'s handling of a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            stdout_failed(e);
        }
    }};
}

/// The error and its causes, joined by ": ", leaving out a cause whose text an outer message
/// already quotes (the library's errors say "cannot read PATH: CAUSE" and also expose CAUSE as
/// their source, which `{:#}` would print twice).
fn chain_message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let m = cause.to_string();
        if out.contains(&m) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&m);
    }
    out
}

/// A reader that went away (`| head`) is success; anything else is reported.
fn stdout_failed(e: std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write to standard output: {e}");
    std::process::exit(1);
}

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
    /// Score a stage against labelled data.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Train a model shipped in data/models/.
    #[command(subcommand)]
    Train(TrainCommand),
    /// Show the runs recorded in `[state] dir`, the state's size, and how to read every
    /// night's partitions at once from polars or DuckDB.
    Status {
        /// Config file; default ./pipeline.toml when it exists, else built-in defaults.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Merge the shards of a sharded run (`run --shard i/N`) under DIR: global dedup over
    /// every shard's signatures, then the final tables. Refuses while a shard is unfinished.
    Merge {
        /// The sharded run's output directory (holds shards.json and shard-*/).
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Print the effective configuration (defaults merged with the config file) as TOML.
    Config {
        /// Config file; default ./pipeline.toml when it exists, else built-in defaults.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum EvalCommand {
    /// NER on a CoNLL-2003 file: conlleval P/R/F1 per type and micro.
    Ner {
        /// CoNLL-2003 file (`TOKEN POS CHUNK NER` lines).
        #[arg(long)]
        conll: PathBuf,
        /// Write `token gold pred` lines here (blank line between sentences).
        #[arg(long)]
        predictions: Option<PathBuf>,
        /// Config whose `[extract]` section is used; default ./pipeline.toml or built-ins.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// HTML main-text extraction on a folder of pages: shingle P/R/F1 as the
    /// article-extraction benchmark defines it, and pages/s.
    Extract {
        /// Folder with `<id>.html.gz` (or `<id>.html`) pages.
        #[arg(long)]
        html_dir: PathBuf,
        /// Ground truth JSON: {id: {"articleBody": ...}}.
        #[arg(long)]
        ground_truth: PathBuf,
        /// Config whose `[clean]` section is used.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Print each page's precision and recall.
        #[arg(long)]
        per_page: bool,
    },
    /// Relations on a CoNLL04 file: entity F1 and strict relation P/R/F1 per label and micro.
    Relations {
        /// CoNLL04 JSON file (tokens, entities, relations).
        #[arg(long)]
        conll04: PathBuf,
        /// Write predictions as JSON lines in the dataset's format.
        #[arg(long)]
        predictions: Option<PathBuf>,
        /// Config whose `[extract]` section is used.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Near-duplicate clustering on a labelled corpus: adjusted Rand index and pairwise
    /// P/R/F1, for the configured dedup and for classic MinHash (Jaccard >= 0.8).
    Dedup(EvalDedupArgs),
}

#[derive(clap::Args, Debug)]
struct EvalDedupArgs {
    /// Corpus JSONL (id, text, ... as in `[input.fields]`).
    #[arg(long)]
    corpus: PathBuf,
    /// Labels JSONL: {"id": ..., "cluster": ...} per document.
    #[arg(long)]
    labels: PathBuf,
    /// Config whose `[clean]`, `[dedup]` and `[input.fields]` are used.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Write `doc_id,cluster_id` predictions here (CSV).
    #[arg(long)]
    predictions: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum TrainCommand {
    /// Train the relation classifier on CoNLL04 (deterministic).
    Relations {
        /// Training file (train.CoNLL04.json).
        #[arg(long)]
        conll04: PathBuf,
        /// Development file for thresholds (valid.CoNLL04.json).
        #[arg(long)]
        dev: Option<PathBuf>,
        /// Where to write the model.
        #[arg(long)]
        out: PathBuf,
        /// NER model whose spans the classifier also learns from; default the built-in one.
        #[arg(long)]
        ner_model: Option<PathBuf>,
        /// NER model whose spans the decision margins are tuned on; default the built-in one.
        #[arg(long)]
        dev_ner_model: Option<PathBuf>,
    },
    /// Train the NER model on CoNLL-2003 (deterministic given --seed).
    Ner {
        /// Training file (eng.train).
        #[arg(long)]
        conll: PathBuf,
        /// Development file for early stopping (eng.testa).
        #[arg(long)]
        dev: Option<PathBuf>,
        /// Where to write the model.
        #[arg(long)]
        out: PathBuf,
        /// Gazetteer sources folder (the shared data's `gazetteer/` layout).
        #[arg(long)]
        gazetteer: Option<PathBuf>,
        /// Unlabelled news JSONL(.zst) with a `text` field, for word clusters.
        #[arg(long)]
        unlabelled: Option<PathBuf>,
        /// Extra training sentences in CoNLL04 format (train.CoNLL04.json).
        #[arg(long)]
        conll04: Option<PathBuf>,
        /// Times the CoNLL04 sentences are repeated in training.
        #[arg(long, default_value_t = 4)]
        conll04_repeat: usize,
        /// Maximum epochs per stage.
        #[arg(long, default_value_t = 14)]
        epochs: usize,
        /// Shuffling seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
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
    /// Input format (auto, jsonl, csv, parquet, text, html, warc); replaces `[input] format`.
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
    /// Run one shard `i/N` of a sharded run (0-based); default from SLURM_ARRAY_TASK_ID /
    /// SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX / NEWSMILL_SHARD_COUNT when set.
    #[arg(long)]
    shard: Option<String>,
}

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
                    shard: None,
                },
            ))
        }
        None => Ok((
            Config::default(),
            RunContext {
                base_dir: PathBuf::from("."),
                config_path: None,
                shard: None,
            },
        )),
    }
}

fn cmd_run(args: RunArgs) -> Result<()> {
    let (mut cfg, mut ctx) = load_config(args.config.as_deref()).map_err(usage)?;
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
                usage(format!(
                    "--format: unknown format {f:?} (auto, jsonl, csv, parquet, text, html, warc)"
                ))
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
    cfg.validate(&origin).map_err(usage)?;
    if ctx.base_dir.as_os_str().is_empty() {
        ctx.base_dir = PathBuf::from(".");
    }
    ctx.shard = match &args.shard {
        Some(s) => Some(ShardSpec::parse(s).map_err(usage)?),
        None => ShardSpec::from_env(|k| std::env::var(k).ok()).map_err(usage)?,
    };
    let report = pipeline::run(&cfg, &ctx)?;
    if !args.quiet {
        eprintln!("{}", report.summary());
        if let Some(s) = &ctx.shard {
            eprintln!(
                "  shard {s} (0-based) of a sharded run: copies are found by `newsmill merge`, so this shard counts none"
            );
        }
        eprintln!(
            "  output: {}",
            Path::new(&ctx.base_dir).join(&cfg.output.dir).display()
        );
    }
    Ok(())
}

fn cmd_merge(out: &Path) -> Result<()> {
    let r = pipeline::merge(out)?;
    eprintln!(
        "merged {} shards: {} signed docs -> {} kept, {} duplicates, {} rejected; {:.1}s, peak RSS {:.0} MB, index {:.0} B/doc",
        r.shard_count, r.signed_docs, r.kept, r.duplicates, r.rejected, r.wall_secs, r.peak_rss_mb, r.index_bytes_per_doc
    );
    Ok(())
}

fn cmd_status(config: Option<&Path>) -> Result<()> {
    let (cfg, ctx) = load_config(config).map_err(usage)?;
    out!("{}", pipeline::status(&cfg, &ctx)?);
    Ok(())
}

fn usage(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(UsageErrorWrap(e.to_string()))
}

fn cmd_eval(cmd: EvalCommand) -> Result<()> {
    match cmd {
        EvalCommand::Ner {
            conll,
            predictions,
            config,
        } => {
            let (cfg, ctx) = load_config(config.as_deref()).map_err(usage)?;
            let t = std::time::Instant::now();
            let x = newsmill::extract::Extractor::from_config(&cfg.extract, &ctx.base_dir)?;
            let load_secs = t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let report =
                newsmill::eval::ner::evaluate_production(&x, &conll, predictions.as_deref())?;
            let secs = t.elapsed().as_secs_f64();
            out!("{}", report.to_text());
            outln!(
                "model load {load_secs:.2}s; tagged {} tokens in {secs:.2}s ({:.0} tokens/s)",
                report.tokens,
                report.tokens as f64 / secs.max(1e-9)
            );
            Ok(())
        }
        EvalCommand::Dedup(a) => cmd_eval_dedup(a),
        EvalCommand::Relations {
            conll04,
            predictions,
            config,
        } => {
            let (mut cfg, ctx) = load_config(config.as_deref()).map_err(usage)?;
            cfg.extract.relations = true;
            let x = newsmill::extract::Extractor::from_config(&cfg.extract, &ctx.base_dir)?;
            let rel = x
                .relation_extractor()
                .expect("relations were enabled above");
            let t = std::time::Instant::now();
            let report =
                newsmill::eval::conll04::evaluate(&x, rel, &conll04, predictions.as_deref())?;
            out!("{}", report.to_text());
            outln!("evaluated in {:.2}s", t.elapsed().as_secs_f64());
            Ok(())
        }
        EvalCommand::Extract {
            html_dir,
            ground_truth,
            config,
            per_page,
        } => {
            let (cfg, _) = load_config(config.as_deref()).map_err(usage)?;
            let r = newsmill::eval::extract::evaluate(&cfg.clean, &html_dir, &ground_truth)?;
            if per_page {
                for (id, c) in &r.pages {
                    let p = if c.tp + c.fp > 0.0 {
                        c.tp / (c.tp + c.fp)
                    } else {
                        0.0
                    };
                    let rc = if c.tp + c.fn_ > 0.0 {
                        c.tp / (c.tp + c.fn_)
                    } else {
                        0.0
                    };
                    outln!("{id} precision {p:.3} recall {rc:.3}");
                }
            }
            let s = &r.score;
            outln!(
                "pages {}  precision {:.4}  recall {:.4}  F1 {:.4}  ({} empty)  {:.0} pages/s per core",
                s.pages, s.precision, s.recall, s.f1, s.empty_predictions, r.pages_per_cpu_sec
            );
            Ok(())
        }
    }
}

fn cmd_eval_dedup(a: EvalDedupArgs) -> Result<()> {
    use newsmill::eval::dedup;
    let (cfg, _) = load_config(a.config.as_deref()).map_err(usage)?;
    let t = std::time::Instant::now();
    let docs = dedup::load_corpus(&cfg, &a.corpus)?;
    let prep = t.elapsed().as_secs_f64();
    let gold = dedup::load_labels(&a.labels, &docs)?;
    outln!("{} documents read and cleaned in {prep:.2}s", docs.len());
    outln!(
        "{:<22} {:>7} {:>9} {:>7} {:>7} {:>10} {:>11}",
        "method",
        "ARI",
        "precision",
        "recall",
        "F1",
        "docs/s",
        "bytes/doc"
    );
    let ours = dedup::score(&cfg.dedup, &docs, &gold)?;
    let base = dedup::score(&dedup::classic_minhash(&cfg.dedup), &docs, &gold)?;
    for (name, s) in [
        ("newsmill (config)", &ours),
        ("classic MinHash J>=0.8", &base),
    ] {
        outln!(
            "{name:<22} {:>7.4} {:>9.4} {:>7.4} {:>7.4} {:>10.0} {:>11.0}",
            s.ari,
            s.precision,
            s.recall,
            s.f1,
            s.docs_per_sec,
            s.bytes_per_doc
        );
    }
    if let Some(p) = &a.predictions {
        dedup::write_predictions(p, &docs, &ours.clusters)?;
    }
    Ok(())
}

fn cmd_train(cmd: TrainCommand) -> Result<()> {
    match cmd {
        TrainCommand::Relations {
            conll04,
            dev,
            out,
            ner_model,
            dev_ner_model,
        } => {
            let opts = newsmill::extract::relations::TrainOptions {
                ner_model,
                dev_ner_model,
                ..Default::default()
            };
            let r = newsmill::extract::relations::train(&conll04, dev.as_deref(), &out, &opts)?;
            eprintln!(
                "{} features, {} bytes; model written to {}",
                r.features,
                r.bytes,
                out.display()
            );
            Ok(())
        }
        TrainCommand::Ner {
            conll,
            dev,
            out,
            gazetteer,
            unlabelled,
            conll04,
            conll04_repeat,
            epochs,
            seed,
        } => {
            let opts = newsmill::extract::ner::TrainOptions {
                epochs,
                seed,
                gazetteer_dir: gazetteer,
                unlabelled,
                conll04,
                conll04_repeat,
                ..Default::default()
            };
            let report = newsmill::extract::ner::train(&conll, dev.as_deref(), &out, &opts)?;
            eprintln!(
                "dev F1 {:.4}; model written to {}",
                report.dev_f1,
                out.display()
            );
            Ok(())
        }
    }
}

/// Marks errors that are the user's to fix (bad config, bad flags): exit code 2, not 1.
#[derive(Debug)]
struct UsageErrorWrap(String);

impl std::fmt::Display for UsageErrorWrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageErrorWrap {}

fn main() -> ExitCode {
    newsmill::alloc::no_transparent_huge_pages();
    let cli = Cli::parse();
    let res = match cli.command {
        Command::Run(args) => cmd_run(args),
        Command::Eval(e) => cmd_eval(e),
        Command::Train(t) => cmd_train(t),
        Command::Status { config } => cmd_status(config.as_deref()),
        Command::Merge { output } => cmd_merge(&output),
        Command::Config { config } => load_config(config.as_deref())
            .map(|(cfg, _)| out!("{}", cfg.to_toml()))
            .map_err(usage),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let usage = e.downcast_ref::<UsageErrorWrap>().is_some();
            eprintln!("error: {}", chain_message(&e));
            if usage {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
