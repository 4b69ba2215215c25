//! newsmill: a batch pipeline that turns news article corpora into clean research datasets.
//!
//! Data flows one way: [`read`] (files → documents) → [`clean`] (normalise, strip
//! boilerplate, filter) → dedup → extract → [`write`](mod@write) (Parquet/CSV tables + report).
//! [`config::Config`] maps `pipeline.toml` onto each stage's config section and
//! [`pipeline::run`] wires the stages together. Each stage is a plain struct built from its
//! config section and can be used on one [`doc::Doc`] without the rest:
//!
//! ```
//! use newsmill::clean::{CleanConfig, CleanStats, Cleaner, Furniture};
//! use newsmill::doc::{Doc, Verdict};
//!
//! let cleaner = Cleaner::from_config(&CleanConfig::default()).unwrap();
//! let mut doc = Doc {
//!     text: "Exports rose by a fifth in the third quarter, the ministry said on Tuesday, \
//!            citing strong demand for machinery.\n\nLeave a Reply".into(),
//!     ..Doc::default()
//! };
//! let verdict = cleaner.process(&mut doc, &Furniture::default(), &mut CleanStats::default());
//! assert_eq!(verdict, Verdict::Keep);
//! assert!(!doc.text.contains("Leave a Reply"));
//! ```
#![warn(missing_docs)]

pub mod alloc;
pub mod clean;
pub mod config;
pub mod dedup;
pub mod doc;
pub mod eval;
pub mod extract;
pub(crate) mod lower;
pub mod pipeline;
pub mod progress;
pub mod read;
pub mod report;
pub mod state;
pub mod util;
pub mod write;
