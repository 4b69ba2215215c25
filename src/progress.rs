//! Progress on stderr: an indicatif bar on a terminal, plain periodic log lines otherwise
//! (cron mail and CI logs should not fill with carriage returns).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::ProgressMode;

/// Progress of one pass over the data.
pub struct Progress {
    bar: Option<ProgressBar>,
    log: bool,
    label: &'static str,
    total: u64,
    bytes: bool,
    interval: Duration,
    last_log: Instant,
    start: Instant,
}

impl Progress {
    /// A progress display for `total` units (bytes when `bytes`, else documents).
    pub fn new(
        mode: ProgressMode,
        label: &'static str,
        total: u64,
        bytes: bool,
        interval_secs: u64,
    ) -> Progress {
        let use_bar = match mode {
            ProgressMode::Auto => std::io::stderr().is_terminal(),
            ProgressMode::Bar => true,
            ProgressMode::Log | ProgressMode::Off => false,
        };
        let bar = use_bar.then(|| {
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let tmpl = if bytes {
                "{prefix:>8} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}"
            } else {
                "{prefix:>8} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} docs {per_sec} ETA {eta} {msg}"
            };
            b.set_style(ProgressStyle::with_template(tmpl).unwrap_or_else(|_| ProgressStyle::default_bar()));
            b.set_prefix(label);
            b
        });
        Progress {
            bar,
            log: matches!(mode, ProgressMode::Log)
                || (matches!(mode, ProgressMode::Auto) && !use_bar),
            label,
            total,
            bytes,
            interval: Duration::from_secs(interval_secs.max(1)),
            last_log: Instant::now(),
            start: Instant::now(),
        }
    }

    /// Report the position (units done) and the number of documents seen.
    pub fn update(&mut self, pos: u64, docs: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos.min(self.total));
            b.set_message(format!("{docs} docs"));
        } else if self.log && self.last_log.elapsed() >= self.interval {
            self.last_log = Instant::now();
            let secs = self.start.elapsed().as_secs_f64().max(1e-9);
            if self.bytes {
                eprintln!(
                    "[{}] {:.1}/{:.1} MB, {} docs, {:.0} docs/s",
                    self.label,
                    pos as f64 / 1e6,
                    self.total as f64 / 1e6,
                    docs,
                    docs as f64 / secs
                );
            } else {
                eprintln!(
                    "[{}] {}/{} docs, {:.0} docs/s",
                    self.label,
                    pos,
                    self.total,
                    pos as f64 / secs
                );
            }
        }
    }

    /// Remove the bar.
    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
