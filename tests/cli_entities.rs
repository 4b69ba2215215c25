//! End-to-end tests of entity extraction: the seed article's entities and aliases, thread
//! determinism of the entity tables, and `newsmill eval ner`.

mod common;

use common::*;

#[test]
fn seed_article_entities_and_aliases() {
    let Some((w, expected)) = run_seed() else {
        return;
    };
    let ents = read_table(&w.join("out"), "entities");
    let mentions = read_table(&w.join("out"), "mentions");
    let names = strs(&ents, "name");
    let types = strs(&ents, "type");
    let ids = strs(&ents, "entity_id");
    let m_text = strs(&mentions, "text");
    let m_id = strs(&mentions, "entity_id");
    for e in expected["entity"].as_array().unwrap() {
        let name = e["name"].as_str().unwrap();
        let typ = e["type"].as_str().unwrap();
        let i = names
            .iter()
            .zip(&types)
            .position(|(n, t)| n == name && t == typ)
            .unwrap_or_else(|| panic!("entity {name} ({typ}) not found in {names:?}"));
        for alias in e
            .get("aliases")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            let alias = alias.as_str().unwrap();
            let alias_ids: Vec<&String> = m_text
                .iter()
                .zip(&m_id)
                .filter(|(t, _)| *t == alias)
                .map(|(_, id)| id)
                .collect();
            assert!(!alias_ids.is_empty(), "alias {alias} never mentioned");
            assert!(
                alias_ids.iter().all(|id| **id == ids[i]),
                "alias {alias} does not resolve to {name}"
            );
        }
    }
}

#[test]
fn entity_tables_identical_across_thread_counts() {
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let w = Workdir::new();
        let cfg = repo().join("pipeline.toml");
        w.newsmill_ok(&[
            "run",
            "-q",
            "-c",
            cfg.to_str().unwrap(),
            "--output",
            "out",
            "--threads",
            threads,
        ]);
        let bytes: Vec<Vec<u8>> = ["mentions", "entities", "documents", "relations", "quotes"]
            .iter()
            .map(|t| std::fs::read(w.join("out").join(t).join("part-00000.parquet")).unwrap())
            .collect();
        outs.push(bytes);
    }
    assert!(
        outs[0] == outs[1],
        "entity tables differ between 1 and 2 threads"
    );
}

#[test]
fn eval_ner_on_a_tiny_file_and_on_testa() {
    let w = Workdir::new();
    let tiny = w.write(
        "t.conll",
        "-DOCSTART- -X- O O\n\nJohn NNP I-NP I-PER\nKerry NNP I-NP I-PER\nmet VBD I-VP O\nSergey NNP I-NP I-PER\nLavrov NNP I-NP I-PER\nin IN I-PP O\nGeneva NNP I-NP I-LOC\n. . O O\n",
    );
    let pred = w.join("pred.txt");
    let out = w.newsmill_ok(&[
        "eval",
        "ner",
        "--conll",
        tiny.to_str().unwrap(),
        "--predictions",
        pred.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("processed 8 tokens with 3 phrases; found: 3 phrases; correct: 3."),
        "{stdout}"
    );
    let lines = std::fs::read_to_string(&pred).unwrap();
    assert!(
        lines.starts_with("John I-PER I-PER\nKerry I-PER I-PER\n"),
        "{lines}"
    );

    let Some(testa) = shared("data/conll2003/eng.testa") else {
        return;
    };
    let out = w.newsmill_ok(&["eval", "ner", "--conll", testa.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let f1: f64 = stdout
        .split("FB1:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(f1 >= 90.0, "testa F1 {f1}\n{stdout}");
}

#[test]
fn missing_or_corrupt_model_is_a_clear_error() {
    let w = Workdir::new();
    w.write("in/a.jsonl", "{\"id\":\"a\",\"text\":\"Officials in Nairobi said on Monday that the new rail line to Mombasa would open next year after delays.\"}\n");
    w.write("bad.bin", b"NMNERMDL this is not a model");
    for (model, needle) in [("missing.bin", "missing.bin"), ("bad.bin", "bad.bin")] {
        let cfg = w.write("m.toml", format!("[extract]\nner_model = \"{model}\"\n"));
        let out = w.newsmill(&[
            "run",
            "-q",
            "-c",
            cfg.to_str().unwrap(),
            "--input",
            "in",
            "--output",
            "out",
        ]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle) && err.contains("NER model"), "{err}");
    }
    assert!(
        !w.join("out").join("documents").exists(),
        "nothing committed"
    );
}
