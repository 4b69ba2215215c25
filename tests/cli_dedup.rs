//! End-to-end tests of deduplication: the sample's known copies, the persistent index in
//! `[state] dir`, and `newsmill eval dedup` on the shared labelled corpus.

mod common;

use common::*;

fn sample_config(w: &Workdir, extra: &str) -> std::path::PathBuf {
    let cfg = std::fs::read_to_string(repo().join("pipeline.toml"))
        .unwrap()
        .replace(
            "data/sample/",
            &format!("{}/data/sample/", repo().display()),
        );
    w.write("p.toml", format!("{cfg}\n{extra}"))
}

#[test]
fn sample_copies_are_found_and_dropped() {
    let w = Workdir::new();
    let cfg = sample_config(&w, "");
    w.newsmill_ok(&["run", "-q", "--config", cfg.to_str().unwrap()]);
    let dups = read_table(&w.join("out"), "duplicates");
    let mut pairs: Vec<(String, String, String)> = strs(&dups, "doc_id")
        .into_iter()
        .zip(strings(&dups, "kept_doc_id"))
        .zip(strs(&dups, "kind"))
        .map(|((d, k), kind)| (d, k.unwrap(), kind))
        .collect();
    pairs.sort();
    let expect = |d: &str, k: &str, kind: &str| (d.to_string(), k.to_string(), kind.to_string());
    assert_eq!(
        pairs,
        vec![
            expect("hg-near-001", "nw-002", "near"),
            expect("mp-dup-001", "nw-004", "exact"),
            expect("vt-dup-001", "hg-002", "exact"),
            expect("vt-near-002", "nw-001", "near"),
        ]
    );
    let docs = read_table(&w.join("out"), "documents");
    let ids = strs(&docs, "doc_id");
    assert!(!ids.contains(&"vt-dup-001".to_string()));
    // The representative carries the cluster size; its copies share its cluster id.
    let i = ids.iter().position(|d| d == "hg-002").unwrap();
    let sizes = docs.column("cluster_size").unwrap().i32().unwrap().clone();
    assert_eq!(sizes.get(i), Some(2));
    let cluster = strings(&docs, "cluster_id")[i].clone().unwrap();
    let dup_cluster = strs(&dups, "cluster_id");
    assert!(dup_cluster.contains(&cluster));
}

#[test]
fn mark_only_keeps_every_document() {
    let w = Workdir::new();
    let cfg = sample_config(&w, "").to_str().unwrap().to_string();
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("mode = \"drop\"", "mode = \"mark_only\"");
    std::fs::write(&cfg, text).unwrap();
    w.newsmill_ok(&["run", "-q", "--config", &cfg]);
    let docs = read_table(&w.join("out"), "documents");
    assert!(strs(&docs, "doc_id").contains(&"vt-dup-001".to_string()));
    assert_eq!(read_table(&w.join("out"), "duplicates").height(), 4);
    assert_eq!(report(&w.join("out"))["totals"]["duplicates"], 0);
}

#[test]
fn state_index_dedups_against_earlier_runs() {
    let w = Workdir::new();
    let lines: Vec<String> = std::fs::read_to_string(repo().join("data/sample/articles.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let first: Vec<&String> = lines.iter().filter(|l| l.contains("\"hg-002\"")).collect();
    let second: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("\"vt-dup-001\""))
        .collect();
    assert_eq!((first.len(), second.len()), (1, 1));
    w.write("night1/a.jsonl", format!("{}\n", first[0]));
    w.write("night2/b.jsonl", format!("{}\n", second[0]));
    let cfg = w.write("s.toml", "[state]\ndir = \"state\"\n");
    let c = cfg.to_str().unwrap();
    w.newsmill_ok(&[
        "run", "-q", "-c", c, "--input", "night1", "--output", "out1",
    ]);
    assert!(w.join("state/dedup-index.bin").exists());
    w.newsmill_ok(&[
        "run", "-q", "-c", c, "--input", "night2", "--output", "out2",
    ]);
    let dups = read_table(&w.join("out2"), "duplicates");
    assert_eq!(strs(&dups, "doc_id"), ["vt-dup-001"]);
    assert_eq!(
        strings(&dups, "kept_doc_id"),
        [Some("hg-002".to_string())],
        "kept by an earlier run, named through the state's doc ids"
    );
    assert_eq!(read_table(&w.join("out2"), "documents").height(), 0);
    assert_eq!(report(&w.join("out2"))["dedup"]["index_docs_before"], 1);

    // A damaged index is an error naming the file, never a silent reset.
    // (A night with new input: a rerun of night2 would be "nothing new" and load no index.)
    std::fs::write(w.join("state/dedup-index.bin"), b"not an index at all").unwrap();
    let third = lines.iter().find(|l| l.contains("\"nw-001\"")).unwrap();
    w.write("night3/c.jsonl", format!("{third}\n"));
    let out = w.newsmill(&[
        "run", "-q", "-c", c, "--input", "night3", "--output", "out3",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dedup-index.bin"), "{err}");
}

#[test]
fn eval_dedup_on_the_dev_corpus() {
    let (Some(corpus), Some(labels)) = (
        shared("data/neardup/dev/corpus.jsonl"),
        shared("data/neardup/dev/labels.jsonl"),
    ) else {
        return;
    };
    let w = Workdir::new();
    let out = w.newsmill_ok(&[
        "eval",
        "dedup",
        "--corpus",
        corpus.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ours = stdout
        .lines()
        .find(|l| l.starts_with("newsmill (config)"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let nums: Vec<f64> = ours
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    let (ari, precision) = (nums[0], nums[1]);
    assert!(ari >= 0.95, "ARI {ari}\n{stdout}");
    assert!(precision >= 0.98, "precision {precision}\n{stdout}");
}
