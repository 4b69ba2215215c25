//! End-to-end tests of `newsmill run`: the shipped sample, the seed article, the Reuters
//! corpus, bad input and determinism across thread counts.

mod common;

use std::io::Write;

use common::*;

fn run_sample(w: &Workdir, extra: &[&str]) -> std::path::PathBuf {
    let cfg = repo().join("pipeline.toml");
    let out = w.join("out");
    let mut args = vec![
        "run",
        "--quiet",
        "--config",
        cfg.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    w.newsmill_ok(&args);
    out
}

#[test]
fn sample_run_writes_documents_and_rejects() {
    let w = Workdir::new();
    let out = run_sample(&w, &[]);
    let docs = read_table(&out, "documents");
    let rejects = read_table(&out, "rejects");
    assert!(docs.height() >= 20, "only {} documents kept", docs.height());
    let reasons = strs(&rejects, "reason");
    for r in ["malformed_record", "not_an_object", "wrong_language"] {
        assert!(
            reasons.iter().any(|x| x == r),
            "no {r} reject in {reasons:?}"
        );
    }
    let texts = strs(&docs, "text");
    assert!(texts.iter().all(|t| !t.trim().is_empty()));
    for t in &texts {
        for furniture in ["Leave a Reply", "All rights reserved", "We use cookies"] {
            assert!(!t.contains(furniture), "{furniture:?} survived in {t:?}");
        }
        assert!(!t.contains('\u{200b}') && !t.contains('\u{00a0}'));
    }
    let rep = report(&out);
    assert_eq!(rep["totals"]["balanced"], true);
    let t = &rep["totals"];
    assert_eq!(
        t["input_records"].as_u64().unwrap(),
        t["kept"].as_u64().unwrap()
            + t["duplicates"].as_u64().unwrap()
            + t["rejected"].as_u64().unwrap()
    );
    assert!(
        rep["clean"]["boilerplate_repeated_removed"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn same_bytes_for_one_and_two_threads() {
    let a = Workdir::new();
    let b = Workdir::new();
    let out_a = run_sample(&a, &["--threads", "1"]);
    let out_b = run_sample(&b, &["--threads", "2"]);
    for table in ["documents", "rejects", "duplicates"] {
        let pa = std::fs::read(out_a.join(table).join("part-00000.parquet")).unwrap();
        let pb = std::fs::read(out_b.join(table).join("part-00000.parquet")).unwrap();
        assert!(pa == pb, "{table} differs between 1 and 2 threads");
    }
}

#[test]
fn csv_output_alongside_parquet() {
    let w = Workdir::new();
    let cfg = std::fs::read_to_string(repo().join("pipeline.toml"))
        .unwrap()
        .replace(
            "formats = [\"parquet\"]",
            "formats = [\"parquet\", \"csv\"]",
        )
        .replace(
            "data/sample/",
            &format!("{}/data/sample/", repo().display()),
        );
    let cfg_path = w.write("p.toml", cfg);
    w.newsmill_ok(&["run", "-q", "--config", cfg_path.to_str().unwrap()]);
    let csv = std::fs::read_to_string(w.join("out/documents/part-00000.csv")).unwrap();
    let parquet_rows = read_table(&w.join("out"), "documents").height();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(rdr.headers().unwrap().get(0), Some("doc_id"));
    assert_eq!(rdr.records().count(), parquet_rows);
}

#[test]
fn seed_article_is_cleaned() {
    let Some((w, expected)) = run_seed() else {
        return;
    };
    let clean = &expected["clean"];
    let docs = read_table(&w.join("out"), "documents");
    assert_eq!(docs.height(), 1);
    let text = &strs(&docs, "text")[0];
    for line in clean["removed_lines"].as_array().unwrap() {
        assert!(!text.contains(line.as_str().unwrap()), "{line} survived");
    }
    assert!(
        text.starts_with(clean["kept_prefix"].as_str().unwrap()),
        "{text}"
    );
    assert!(
        text.ends_with(clean["kept_suffix"].as_str().unwrap()),
        "{text}"
    );
    assert_eq!(strs(&docs, "title")[0], clean["title"].as_str().unwrap());
    assert_eq!(strings(&docs, "lang")[0].as_deref(), Some("en"));
}

#[test]
fn reuters_every_story_accounted_for() {
    let Some(reuters) = shared("data/reuters21578/reuters.jsonl.zst") else {
        return;
    };
    let w = Workdir::new();
    w.newsmill_ok(&[
        "run",
        "-q",
        "--input",
        reuters.to_str().unwrap(),
        "--output",
        "out",
    ]);
    let rep = report(&w.join("out"));
    let t = &rep["totals"];
    assert_eq!(t["input_records"], 21578);
    assert_eq!(t["balanced"], true);
    let docs = read_table(&w.join("out"), "documents");
    let rejects = read_table(&w.join("out"), "rejects");
    assert_eq!(
        docs.height() as u64 + rejects.height() as u64 + t["duplicates"].as_u64().unwrap(),
        21578
    );
    let texts = strs(&docs, "text");
    assert!(
        texts.iter().all(|t| !t.trim().is_empty()),
        "empty document kept"
    );
    // Paragraphs come back whole: no single line breaks remain inside paragraphs.
    let wrapped = texts
        .iter()
        .filter(|t| t.replace("\n\n", "").contains('\n'))
        .count();
    assert_eq!(wrapped, 0, "{wrapped} documents still hard-wrapped");
    let first = texts
        .iter()
        .find(|t| t.starts_with("Showers continued throughout the week in the Bahia cocoa zone"))
        .expect("the first Reuters story is kept");
    assert!(
        first.contains("in its weekly review.\n\nThe dry period means"),
        "{first}"
    );
}

#[test]
fn bad_inputs_become_rejects_not_crashes() {
    let w = Workdir::new();
    // Truncated gzip in the middle of a record.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 0..500 {
        writeln!(
            enc,
            "{{\"id\":\"g{i}\",\"text\":\"Officials in the capital said on Monday that talks on the trade agreement would resume next week after a pause of several months, story {i}.\"}}"
        )
        .unwrap();
    }
    let gz = enc.finish().unwrap();
    w.write("in/a_truncated.jsonl.gz", &gz[..gz.len() * 2 / 3]);
    // Invalid UTF-8, a JSON value that is not an object, a record without text.
    w.write(
        "in/b_mixed.jsonl",
        b"{\"id\":\"u1\",\"text\":\"caf\xe9 au lait\"}\n[1,2,3]\n{\"id\":\"nt\"}\n{not json\n"
            .as_slice(),
    );
    // A CSV whose header lacks the text column.
    w.write("in/c_nocol.csv", "id,body\n1,hello there\n");
    let out = w.newsmill_ok(&["run", "--input", "in", "--output", "out"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("balanced"), "{stderr}");
    let rejects = read_table(&w.join("out"), "rejects");
    let reasons = strs(&rejects, "reason");
    for r in [
        "truncated_input",
        "undecodable_bytes",
        "not_an_object",
        "missing_text",
        "malformed_record",
    ] {
        assert!(reasons.iter().any(|x| x == r), "no {r} in {reasons:?}");
    }
    let files = strs(&rejects, "input_file");
    assert!(files.iter().any(|f| f.ends_with("c_nocol.csv")));
    let details = strs(&rejects, "detail");
    assert!(details
        .iter()
        .any(|d| d.contains("`text`") && d.contains("body")));
}

#[test]
fn unreadable_path_and_config_typo_are_clear_errors() {
    let w = Workdir::new();
    let out = w.newsmill(&["run", "--input", "does/not/exist.jsonl", "--output", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does/not/exist.jsonl") && err.contains("does not exist"),
        "{err}"
    );

    let cfg = w.write("bad.toml", "[clean]\nmin_wrods = 5\n");
    let out = w.newsmill(&["run", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("min_wrods") && err.contains("bad.toml"),
        "{err}"
    );

    let cfg = w.write("range.toml", "[clean]\nmax_non_letter_ratio = 3.0\n");
    let out = w.newsmill(&["run", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[clean] max_non_letter_ratio"));
}

#[test]
fn failed_run_keeps_previous_output() {
    let w = Workdir::new();
    w.write("in/a.jsonl", "{\"id\":\"a\",\"text\":\"The harbour authority said on Friday that cargo volumes rose for a third month in a row, driven by grain exports.\"}\n");
    w.newsmill_ok(&["run", "-q", "--input", "in", "--output", "out"]);
    let before = std::fs::read(w.join("out/documents/part-00000.parquet")).unwrap();
    // A second run that fails before committing (its input vanished).
    let out = w.newsmill(&[
        "run",
        "-q",
        "--input",
        "in/missing.jsonl",
        "--output",
        "out",
    ]);
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read(w.join("out/documents/part-00000.parquet")).unwrap(),
        before
    );
    let hidden: Vec<_> = std::fs::read_dir(w.join("out"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".newsmill-staging")
        })
        .collect();
    assert!(hidden.is_empty());
}

#[test]
fn parquet_input_round_trips_a_documents_table() {
    let w = Workdir::new();
    let out = run_sample(&w, &[]);
    let kept = read_table(&out, "documents");
    // The documents table is itself a valid input: its id column is `doc_id`.
    let cfg = w.write(
        "pq.toml",
        "[input.fields]\nid = \"doc_id\"\n[dedup]\nenabled = false\n",
    );
    let part = out.join("documents/part-00000.parquet");
    w.newsmill_ok(&[
        "run",
        "-q",
        "-c",
        cfg.to_str().unwrap(),
        "--input",
        part.to_str().unwrap(),
        "--output",
        "again",
    ]);
    let again = read_table(&w.join("again"), "documents");
    assert_eq!(strs(&again, "doc_id"), strs(&kept, "doc_id"));
    assert_eq!(
        strs(&again, "text"),
        strs(&kept, "text"),
        "clean text is a fixed point"
    );
    assert_eq!(strs(&again, "input_file")[0], part.display().to_string());
    let rows: Vec<i64> = again
        .column("input_record")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(rows, (1..=kept.height() as i64).collect::<Vec<_>>());
}

#[test]
fn closed_stdout_pipe_is_not_a_crash() {
    // `newsmill config | head -0`: the reader is gone before the first write.
    let w = Workdir::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_newsmill"))
        .arg("config")
        .current_dir(w.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run newsmill");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for newsmill");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
