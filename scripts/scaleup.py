#!/usr/bin/env python3
"""Scale the Reuters-21578 JSONL up k-fold with distinct synthetic articles (stdlib only).

Why: the benchmark must show linear cost and flat memory at 1x/4x/16x, which needs corpora that
are larger but not just repeated (repeats would be exact duplicates and skip most of the work).
Each synthetic doc takes the lead paragraph of one base story and follows it with paragraphs
sampled from other stories of the same (first) topic. A controlled share (--near-share) of docs
are near-copies of earlier synthetic docs: truncated to 60-90% of their paragraphs or lightly
edited (one paragraph dropped, a few words changed), so dedup has real work.
Deterministic: same input, --factor and --seed give byte-identical output.

Usage: scaleup.py --input reuters.jsonl[.zst] --output out.jsonl[.zst] --factor 4 [--seed 7]
"""
import argparse
import json
import random
import subprocess
import sys


def open_lines(path):
    """Yields text lines of a JSONL file, decompressing .zst with the zstd CLI."""
    if path.endswith(".zst"):
        proc = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
        for raw in proc.stdout:
            yield raw.decode("utf-8")
        if proc.wait() != 0:
            sys.exit(f"zstd -dc {path} failed")
    else:
        with open(path, encoding="utf-8") as f:
            yield from f


def paragraphs(text):
    """Un-wraps Reuters text: a paragraph starts at a line indented by 4 spaces."""
    paras, cur = [], []
    for line in text.split("\n"):
        if line.startswith("    ") and cur:
            paras.append(" ".join(cur))
            cur = []
        s = line.strip()
        if s:
            cur.append(s)
    if cur:
        paras.append(" ".join(cur))
    return [p for p in paras if len(p.split()) >= 3]


def load(path):
    stories = []
    for line in open_lines(path):
        line = line.strip()
        if not line:
            continue
        rec = json.loads(line)
        paras = paragraphs(rec.get("text") or "")
        if not paras:
            continue
        topics = rec.get("topics") or []
        stories.append({
            "title": rec.get("title") or "",
            "published": rec.get("published") or "",
            "topic": topics[0] if topics else "_none",
            "paras": paras,
        })
    return stories


EDIT_WORDS = ["also", "reportedly", "further", "again", "still", "now"]


def near_copy(rng, doc):
    """A truncated or lightly edited copy of `doc` (a dict with a paragraph list)."""
    paras = list(doc["paras"])
    if len(paras) >= 3 and rng.random() < 0.5:
        keep = max(2, int(len(paras) * rng.uniform(0.6, 0.9)))
        paras = paras[:keep]
    else:
        if len(paras) >= 4:
            del paras[rng.randrange(1, len(paras))]
        i = rng.randrange(len(paras))
        words = paras[i].split()
        for _ in range(min(3, len(words))):
            words.insert(rng.randrange(len(words) + 1), rng.choice(EDIT_WORDS))
        paras[i] = " ".join(words)
    return paras


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--factor", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--near-share", type=float, default=0.05,
                    help="share of output docs that are near-copies (default 0.05)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    stories = load(args.input)
    by_topic = {}
    for i, s in enumerate(stories):
        by_topic.setdefault(s["topic"], []).append(i)
    topics = sorted(by_topic)
    total = len(stories) * args.factor
    if args.output.endswith(".zst"):
        out_f = open(args.output[:-4], "w", encoding="utf-8")
        out_path = args.output[:-4]
    else:
        out_f = open(args.output, "w", encoding="utf-8")
        out_path = None
    recent = []  # last synthetic docs, sources of near-copies (bounded: flat memory)
    for n in range(total):
        base = stories[n % len(stories)]
        if recent and rng.random() < args.near_share:
            src = recent[rng.randrange(len(recent))]
            paras, title, published = near_copy(rng, src), src["title"], src["published"]
        else:
            pool = by_topic[base["topic"]]
            want = max(1, len(base["paras"]) - 1)
            body = []
            for _ in range(want):
                other = stories[pool[rng.randrange(len(pool))]]
                body.append(other["paras"][rng.randrange(len(other["paras"]))] if len(other["paras"]) > 1 else other["paras"][0])
            paras = [base["paras"][0]] + body
            title, published = base["title"], base["published"]
            recent.append({"paras": paras, "title": title, "published": published})
            if len(recent) > 2000:
                recent.pop(rng.randrange(len(recent)))
        rec = {"id": f"scaled-{args.seed}-{n + 1}", "title": title, "published": published,
               "text": "\n\n".join(paras)}
        out_f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    out_f.close()
    if out_path:
        subprocess.run(["zstd", "-q", "-f", "--rm", out_path, "-o", args.output], check=True)
    print(f"scaleup: {len(stories)} base stories, {len(topics)} topics -> {total} docs in {args.output}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
