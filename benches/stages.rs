//! Per-stage throughput on a fixed input: `cargo bench --bench stages`.
//!
//! Uses the Reuters-21578 JSONL from the shared data folder when present (else the sample
//! corpus) and reports, per stage, documents/s and MB/s of article text per CPU second (one
//! thread, so per core), plus the NER tagger's tokens/s and model load time. Timings are
//! printed, never asserted.

use std::path::{Path, PathBuf};
use std::time::Instant;

use newsmill::clean::{CleanConfig, CleanStats, Cleaner, Furniture};
use newsmill::dedup::{DedupConfig, DedupIndex, DocMeta, Signer};
use newsmill::doc::{Doc, Verdict};
use newsmill::extract::{sentences, tokens, ExtractConfig, Extractor};
use newsmill::read::{InputConfig, ReadItem, Source};

// The allocator the `newsmill` binary uses, so stage figures match whole runs.
#[global_allocator]
static ALLOC: newsmill::alloc::Mimalloc = newsmill::alloc::Mimalloc;

fn cpu() -> f64 {
    newsmill::util::cpu_secs().unwrap_or(0.0)
}

fn line(stage: &str, docs: usize, bytes: usize, secs: f64) {
    println!(
        "{stage:<28} {docs:>7} docs {:>8.0} docs/s {:>7.2} MB/s",
        docs as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
}

fn main() {
    newsmill::alloc::no_transparent_huge_pages();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let reuters = root.join("../shared/data/reuters21578/reuters.jsonl.zst");
    let input = if reuters.exists() {
        reuters
    } else {
        eprintln!("shared Reuters corpus not found; benchmarking the sample corpus instead");
        root.join("data/sample/articles.jsonl")
    };
    println!(
        "input: {} (one thread; per-CPU-second figures)",
        input.display()
    );
    let cfg = InputConfig {
        paths: vec![input.display().to_string()],
        ..InputConfig::default()
    };
    let t = cpu();
    let docs: Vec<Doc> = Source::from_config(&cfg, Path::new("."))
        .expect("input exists")
        .records()
        .filter_map(|r| match r {
            ReadItem::Doc(d) => Some(*d),
            ReadItem::Reject(_) | ReadItem::Skipped(_) => None,
        })
        .collect();
    let raw_bytes: usize = docs.iter().map(|d| d.raw_bytes as usize).sum();
    line("read (jsonl.zst)", docs.len(), raw_bytes, cpu() - t);

    let cleaner = Cleaner::from_config(&CleanConfig::default()).expect("default config");
    let mut cleaned = docs.clone();
    let t = cpu();
    let mut stats = CleanStats::default();
    cleaned.retain_mut(|d| cleaner.process(d, &Furniture::default(), &mut stats) == Verdict::Keep);
    line("clean", docs.len(), raw_bytes, cpu() - t);
    let clean_bytes: usize = cleaned.iter().map(|d| d.text.len()).sum();

    let dcfg = DedupConfig::default();
    let signer = Signer::from_config(&dcfg).expect("default config");
    let t = cpu();
    let sigs: Vec<_> = cleaned.iter().map(|d| signer.sign(&d.text)).collect();
    line("dedup signatures", cleaned.len(), clean_bytes, cpu() - t);
    let t = cpu();
    let mut index = DedupIndex::new(&dcfg);
    for (i, s) in sigs.iter().enumerate() {
        index.add(
            DocMeta {
                key: i as u64,
                n_chars: 0,
                published: None,
            },
            s,
        );
    }
    let _ = index.finish();
    line(
        "dedup index + clusters",
        cleaned.len(),
        clean_bytes,
        cpu() - t,
    );
    println!(
        "{:<28} {:.0} bytes/doc",
        "dedup index memory",
        index.bytes_per_doc()
    );

    let t = Instant::now();
    let x =
        Extractor::from_config(&ExtractConfig::default(), Path::new(".")).expect("built-in model");
    println!(
        "{:<28} {:.3}s",
        "NER model + gazetteer load",
        t.elapsed().as_secs_f64()
    );

    let t = cpu();
    let mut n_tokens = 0usize;
    let tokenized: Vec<(Vec<tokens::Token>, Vec<std::ops::Range<usize>>)> = cleaned
        .iter()
        .map(|d| {
            let toks = tokens::tokenize(&d.text);
            let sents = sentences::split_sentences(&d.text, &toks);
            n_tokens += toks.len();
            (toks, sents)
        })
        .collect();
    line("tokens + sentences", cleaned.len(), clean_bytes, cpu() - t);

    let t = cpu();
    for (d, (toks, sents)) in cleaned.iter().zip(&tokenized) {
        let words: Vec<Vec<&str>> = sents
            .iter()
            .map(|r| toks[r.clone()].iter().map(|t| t.text(&d.text)).collect())
            .collect();
        std::hint::black_box(x.ner().tag_document(&words));
    }
    let secs = cpu() - t;
    line("NER tagger", cleaned.len(), clean_bytes, secs);
    println!(
        "{:<28} {:>8.0} tokens/s",
        "NER tagger",
        n_tokens as f64 / secs
    );

    let t = cpu();
    let mut mentions = 0usize;
    for d in &cleaned {
        mentions += x.process(d).mentions.len();
    }
    let secs = cpu() - t;
    line("extract (all of it)", cleaned.len(), clean_bytes, secs);
    println!(
        "{:<28} {:>8.0} tokens/s, {mentions} mentions",
        "extract (all of it)",
        n_tokens as f64 / secs
    );
}
