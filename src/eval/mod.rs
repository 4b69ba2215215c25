//! Evaluation against labelled data: the scorers behind `newsmill eval …`.
//!
//! Each scorer reimplements the metric the public benchmark uses (conlleval for NER, ...)
//! and is cross-checked against the reference scripts in the shared data folder.

pub mod conll;
pub mod conll04;
pub mod dedup;
pub mod dedup_metrics;
pub mod extract;
pub mod extract_metrics;
pub mod ner;
