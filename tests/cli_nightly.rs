//! End-to-end tests of incremental nightly runs (`[state] dir`, issue 8): nights equal one
//! run, a rerun is a no-op, a run killed at any point recovers to the uninterrupted result,
//! the lock, damaged state files, changed inputs, and `newsmill status`.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use polars::prelude::DataFrame;

/// A config reading `in/` and writing `out/`, with state in `out/.state` unless `state` is
/// false.
fn config(w: &Workdir, name: &str, state: bool, extract: bool) -> String {
    let mut s = String::from(
        "[input]\npaths = [\"in\"]\n[output]\ndir = \"out\"\n[run]\nprogress = \"off\"\n",
    );
    s.push_str(&format!("[extract]\nenabled = {extract}\n"));
    if state {
        s.push_str("[state]\ndir = \"out/.state\"\n");
    }
    w.write(name, s).display().to_string()
}

fn sample_lines() -> Vec<String> {
    std::fs::read_to_string(repo().join("data/sample/articles.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Write `lines` as `in/<name>`.
fn night(w: &Workdir, name: &str, lines: &[String]) {
    w.write(&format!("in/{name}"), lines.join("\n") + "\n");
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The rows of a table as sorted-or-ordered strings over the given columns.
fn rows(df: &DataFrame, cols: &[&str]) -> Vec<String> {
    let cols: Vec<Vec<String>> = cols
        .iter()
        .map(|c| {
            let s = df.column(c).unwrap().as_materialized_series().clone();
            let s = s.cast(&polars::prelude::DataType::String).unwrap();
            let ca = s.str().unwrap().clone();
            (0..ca.len())
                .map(|i| ca.get(i).unwrap_or("<null>").to_string())
                .collect()
        })
        .collect();
    (0..df.height())
        .map(|i| {
            cols.iter()
                .map(|c| c[i].as_str())
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Every table's content that must not depend on how the input was split into runs.
fn snapshot(out: &Path, extract: bool) -> Vec<(String, Vec<String>)> {
    let mut v = vec![
        (
            "documents".to_string(),
            rows(
                &read_table(out, "documents"),
                &["doc_id", "title", "text", "content_hash"],
            ),
        ),
        (
            // Sorted: copies whose representative is not known yet when they are met (an
            // earlier night's, or a later row's) are written at the end of their run.
            "duplicates".to_string(),
            sorted(rows(&read_table(out, "duplicates"), &["doc_id", "kind"])),
        ),
        (
            "rejects".to_string(),
            rows(
                &read_table(out, "rejects"),
                &["input_record", "doc_id", "reason"],
            ),
        ),
    ];
    if extract {
        v.push((
            "mentions".into(),
            rows(
                &read_table(out, "mentions"),
                &["doc_id", "mention_id", "entity_id", "text", "start", "end"],
            ),
        ));
        v.push((
            "entities".into(),
            rows(
                &read_table(out, "entities"),
                &[
                    "entity_id",
                    "name",
                    "type",
                    "n_mentions",
                    "n_docs",
                    "first_seen",
                    "last_seen",
                ],
            ),
        ));
        let e = read_table(out, "entities");
        let aliases = e.column("aliases").unwrap().list().unwrap().clone();
        let joined: Vec<String> = (0..aliases.len())
            .map(|i| match aliases.get_as_series(i) {
                Some(s) => {
                    let ca = s.str().unwrap().clone();
                    let v: Vec<Option<&str>> = (0..ca.len()).map(|j| ca.get(j)).collect();
                    format!("{v:?}")
                }
                None => "<null>".into(),
            })
            .collect();
        v.push(("entity aliases".into(), joined));
    }
    v
}

fn assert_same(a: &[(String, Vec<String>)], b: &[(String, Vec<String>)], what: &str) {
    assert_eq!(a.len(), b.len());
    for ((ta, ra), (_, rb)) in a.iter().zip(b) {
        assert_eq!(ra.len(), rb.len(), "{what}: {ta} row counts differ");
        for (i, (x, y)) in ra.iter().zip(rb).enumerate() {
            assert_eq!(x, y, "{what}: {ta} row {i} differs");
        }
    }
}

/// Names of the `run=` partitions of a table.
fn partitions(out: &Path, table: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(out.join(table))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

/// Every file under `dir` with its bytes, for "nothing changed" checks.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(d: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, &mut v);
    v.sort();
    v
}

#[test]
fn rerun_of_a_night_is_a_no_op_and_status_lists_the_runs() {
    let w = Workdir::new();
    let c = config(&w, "p.toml", true, true);
    let lines = sample_lines();
    night(&w, "a.jsonl", &lines[..20]);
    w.newsmill_ok(&["run", "-c", &c]);
    night(&w, "b.jsonl", &lines[20..]);
    w.newsmill_ok(&["run", "-c", &c]);
    assert_eq!(partitions(&w.join("out"), "documents").len(), 2);
    let before = tree(&w.join("out"));
    let again = w.newsmill_ok(&["run", "-c", &c]);
    assert!(stderr(&again).contains("nothing new"), "{}", stderr(&again));
    assert!(before == tree(&w.join("out")), "a no-op run changed files");

    let st = w.newsmill_ok(&["status", "-c", &c]);
    let text = String::from_utf8_lossy(&st.stdout);
    for p in partitions(&w.join("out"), "documents") {
        let id = p.strip_prefix("run=").unwrap();
        assert!(text.contains(id), "{id} missing from status:\n{text}");
    }
    assert!(text.contains("2 runs, 2 input files processed"), "{text}");
    assert!(
        text.contains("state size:") && text.contains("bytes per document"),
        "{text}"
    );
    assert!(text.contains("hive_partitioning"), "{text}");

    // A changed setting is pointed out, not silently mixed in.
    let changed = std::fs::read_to_string(&c).unwrap() + "[clean]\nmin_words = 20\n";
    w.write("p.toml", changed);
    let again = w.newsmill_ok(&["run", "-c", &c]);
    assert!(
        stderr(&again).contains("settings changed since the last run"),
        "{}",
        stderr(&again)
    );
    assert_eq!(report(&w.join("out"))["totals"]["balanced"], true);
}

#[test]
fn sample_nights_equal_one_run() {
    let lines = sample_lines();
    let one = Workdir::new();
    night(&one, "a.jsonl", &lines[..20]);
    night(&one, "b.jsonl", &lines[20..]);
    let c = config(&one, "p.toml", false, true);
    one.newsmill_ok(&["run", "-c", &c]);

    let n = Workdir::new();
    let c = config(&n, "p.toml", true, true);
    night(&n, "a.jsonl", &lines[..20]);
    n.newsmill_ok(&["run", "-c", &c]);
    night(&n, "b.jsonl", &lines[20..]);
    n.newsmill_ok(&["run", "-c", &c]);
    assert_same(
        &snapshot(&one.join("out"), true),
        &snapshot(&n.join("out"), true),
        "nights vs one run",
    );
}

#[test]
fn a_run_killed_at_any_point_recovers_to_the_uninterrupted_result() {
    let lines = sample_lines();
    let reference = Workdir::new();
    let c = config(&reference, "p.toml", true, true);
    night(&reference, "a.jsonl", &lines[..20]);
    reference.newsmill_ok(&["run", "-c", &c]);
    night(&reference, "b.jsonl", &lines[20..]);
    reference.newsmill_ok(&["run", "-c", &c]);
    let want = snapshot(&reference.join("out"), true);

    for point in ["read", "write", "staged", "commit", "committed"] {
        let w = Workdir::new();
        let c = config(&w, "p.toml", true, true);
        night(&w, "a.jsonl", &lines[..20]);
        w.newsmill_ok(&["run", "-c", &c]);
        night(&w, "b.jsonl", &lines[20..]);
        let killed = std::process::Command::new(env!("CARGO_BIN_EXE_newsmill"))
            .args(["run", "-c", &c])
            .env("NEWSMILL_FAIL_AT", point)
            .current_dir(w.path())
            .output()
            .unwrap();
        assert!(!killed.status.success(), "{point}: the run was not stopped");
        assert!(stderr(&killed).contains("failure point"), "{point}");
        // The dead run's lock is stale: the next run takes it over and recovers.
        let rerun = w.newsmill_ok(&["run", "-c", &c]);
        let msg = stderr(&rerun);
        if point == "commit" || point == "committed" {
            assert!(msg.contains("finished committing run"), "{point}: {msg}");
        }
        let out = w.join("out");
        assert_same(&want, &snapshot(&out, true), point);
        for t in ["documents", "mentions", "rejects"] {
            assert_eq!(partitions(&out, t).len(), 2, "{point}: {t}");
        }
        let hidden: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .chain(std::fs::read_dir(out.join(".state")).unwrap())
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(".newsmill-staging") || n.ends_with(".next") || n == "LOCK")
            .collect();
        assert!(hidden.is_empty(), "{point}: leftovers {hidden:?}");
        let again = w.newsmill_ok(&["run", "-c", &c]);
        assert!(stderr(&again).contains("nothing new"), "{point}");
    }
}

#[test]
fn a_live_lock_stops_a_second_run_and_a_stale_one_is_taken_over() {
    let w = Workdir::new();
    let c = config(&w, "p.toml", true, false);
    night(&w, "a.jsonl", &sample_lines()[..10]);
    // This test process is alive: its pid makes a live lock.
    w.write(
        "out/.state/LOCK",
        format!("pid {}\nrun 00009-x\n", std::process::id()),
    );
    let out = w.newsmill(&["run", "-c", &c]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("another newsmill run holds the state dir") && err.contains("LOCK"),
        "{err}"
    );
    assert!(!w.join("out/documents").exists(), "nothing may be written");
    w.write("out/.state/LOCK", "pid 4294967\nrun 00009-x\n");
    w.newsmill_ok(&["run", "-c", &c]);
    assert!(!w.join("out/.state/LOCK").exists());
}

#[test]
fn damaged_state_files_are_errors_naming_them_never_reset() {
    let lines = sample_lines();
    for (i, file) in ["manifest.bin", "entities.bin", "dedup-index.bin"]
        .iter()
        .enumerate()
    {
        let w = Workdir::new();
        let c = config(&w, "p.toml", true, true);
        night(&w, "a.jsonl", &lines[..20]);
        w.newsmill_ok(&["run", "-c", &c]);
        let path = w.join(&format!("out/.state/{file}"));
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 3;
        bytes[at] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        night(&w, &format!("b{i}.jsonl"), &lines[20..]);
        let out = w.newsmill(&["run", "-c", &c]);
        assert!(!out.status.success(), "{file}: damage went unnoticed");
        let err = stderr(&out);
        assert!(err.contains(file), "{file}: {err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{file} was rewritten");
        assert_eq!(partitions(&w.join("out"), "documents").len(), 1);
    }
}

#[test]
fn a_changed_input_is_reprocessed_and_reported() {
    let lines = sample_lines();
    let w = Workdir::new();
    let c = config(&w, "p.toml", true, false);
    night(&w, "a.jsonl", &lines[..20]);
    w.newsmill_ok(&["run", "-c", &c]);
    let kept1 = read_table(&w.join("out"), "documents").height();
    night(&w, "a.jsonl", &lines);
    let out = w.newsmill_ok(&["run", "-c", &c]);
    let err = stderr(&out);
    assert!(
        err.contains("changed since processed, reprocessed"),
        "{err}"
    );
    assert!(err.contains("a.jsonl"), "{err}");
    // The first 20 lines' documents are not written twice: they are exact copies now.
    let docs = strs(&read_table(&w.join("out"), "documents"), "doc_id");
    let mut unique = docs.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), docs.len(), "duplicate document rows");
    let dups = read_table(&w.join("out"), "duplicates");
    assert!(dups.height() >= kept1, "{} < {kept1}", dups.height());
}

#[test]
fn one_off_and_nightly_runs_do_not_share_an_output() {
    let w = Workdir::new();
    night(&w, "a.jsonl", &sample_lines()[..10]);
    let nightly = config(&w, "n.toml", true, false);
    let one_off = config(&w, "o.toml", false, false);
    w.newsmill_ok(&["run", "-c", &nightly]);
    let out = w.newsmill(&["run", "-c", &one_off]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("nightly partitions"),
        "{}",
        stderr(&out)
    );

    let w = Workdir::new();
    night(&w, "a.jsonl", &sample_lines()[..10]);
    let nightly = config(&w, "n.toml", true, false);
    let one_off = config(&w, "o.toml", false, false);
    w.newsmill_ok(&["run", "-c", &one_off]);
    let out = w.newsmill(&["run", "-c", &nightly]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("one-off run"), "{}", stderr(&out));
}

/// The first `n` Reuters lines, or None (skipped) without the shared data.
fn reuters_lines(n: usize) -> Option<Vec<String>> {
    let p = shared("data/reuters21578/reuters.jsonl.zst")?;
    let bytes = zstd::decode_all(std::fs::File::open(p).unwrap()).unwrap();
    Some(
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .take(n)
            .map(str::to_string)
            .collect(),
    )
}

/// One run over three files vs three nightly runs adding one file each.
fn three_nights_vs_one_run(lines: &[String], extract: bool) -> (Workdir, Workdir) {
    let third = lines.len() / 3;
    let parts = [
        &lines[..third],
        &lines[third..2 * third],
        &lines[2 * third..],
    ];
    let one = Workdir::new();
    for (i, p) in parts.iter().enumerate() {
        night(&one, &format!("night{i}.jsonl"), p);
    }
    let c = config(&one, "p.toml", false, extract);
    one.newsmill_ok(&["run", "-c", &c]);
    let n = Workdir::new();
    let c = config(&n, "p.toml", true, extract);
    for (i, p) in parts.iter().enumerate() {
        night(&n, &format!("night{i}.jsonl"), p);
        n.newsmill_ok(&["run", "-c", &c]);
    }
    let again = n.newsmill_ok(&["run", "-c", &c]);
    assert!(stderr(&again).contains("nothing new"));
    (one, n)
}

#[test]
fn reuters_three_nights_dedup_like_one_run() {
    let Some(lines) = reuters_lines(3000) else {
        return;
    };
    let (one, n) = three_nights_vs_one_run(&lines, false);
    let (a, b) = (one.join("out"), n.join("out"));
    assert_same(&snapshot(&a, false), &snapshot(&b, false), "reuters dedup");
    assert_eq!(partitions(&b, "documents").len(), 3);
    // Clusters up to naming: every copy names the same representative, also when an
    // earlier night kept it.
    let kept = |out: &Path| {
        let d = read_table(out, "duplicates");
        let mut v: Vec<(String, Option<String>)> = strs(&d, "doc_id")
            .into_iter()
            .zip(strings(&d, "kept_doc_id"))
            .collect();
        v.sort();
        v
    };
    let (ka, kb) = (kept(&a), kept(&b));
    assert!(!ka.is_empty(), "the slice has no duplicates to compare");
    assert_eq!(ka, kb);
    let night_of = |out: &Path| {
        let d = read_table(out, "documents");
        strs(&d, "doc_id")
            .into_iter()
            .zip(strs(&d, "input_file"))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let docs = night_of(&b);
    let d = read_table(&b, "duplicates");
    let cross_night = strs(&d, "input_file")
        .iter()
        .zip(strings(&d, "kept_doc_id"))
        .filter(|(f, k)| k.as_ref().and_then(|k| docs.get(k)) != Some(*f))
        .count();
    assert!(
        cross_night > 0,
        "no copy of an earlier night's document in the slice"
    );
    eprintln!(
        "reuters {} lines: {} duplicates, {cross_night} of them across nights",
        lines.len(),
        ka.len()
    );
}

#[test]
fn reuters_three_nights_keep_entity_ids_and_mentions() {
    let Some(lines) = reuters_lines(450) else {
        return;
    };
    let (one, n) = three_nights_vs_one_run(&lines, true);
    assert_same(
        &snapshot(&one.join("out"), true),
        &snapshot(&n.join("out"), true),
        "reuters entities",
    );
    assert!(read_table(&n.join("out"), "entities").height() > 100);
}

#[test]
fn a_first_night_killed_before_its_commit_leaves_no_trace() {
    let w = Workdir::new();
    let c = config(&w, "p.toml", true, false);
    night(&w, "a.jsonl", &sample_lines()[..20]);
    let killed = std::process::Command::new(env!("CARGO_BIN_EXE_newsmill"))
        .args(["run", "-c", &c])
        .env("NEWSMILL_FAIL_AT", "staged")
        .current_dir(w.path())
        .output()
        .unwrap();
    assert!(!killed.status.success());
    assert!(
        !w.join("out/documents").exists(),
        "a partition became visible"
    );
    let st = w.newsmill_ok(&["status", "-c", &c]);
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(
        text.contains("0 runs") && text.contains("locked by"),
        "{text}"
    );
    let rerun = w.newsmill_ok(&["run", "-c", &c]);
    assert!(stderr(&rerun).contains("discarded the uncommitted leftovers"));
    assert_eq!(partitions(&w.join("out"), "documents").len(), 1);
}

#[test]
fn status_without_state_explains_one_off_runs() {
    let w = Workdir::new();
    let c = config(&w, "p.toml", false, false);
    let st = w.newsmill_ok(&["status", "-c", &c]);
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(text.contains("no [state] dir configured"), "{text}");
}
