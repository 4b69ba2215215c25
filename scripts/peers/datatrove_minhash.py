#!/usr/bin/env python3
"""datatrove MinHash dedup throughput (peer for newsmill's dedup stage).

Runs datatrove's four MinHash phases (signatures -> buckets -> clusters -> filter) with the
local executor, one worker (buckets: one task per bucket, run sequentially), on the same JSONL,
with datatrove's default MinhashConfig (5-grams, 14 buckets x 8 hashes). Reports docs/s over
the whole dedup (wall and CPU, the CPU figure is per core) and how many docs were removed.
Usage: datatrove_minhash.py --input reuters.jsonl[.zst] [--work DIR]
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets,
                                              MinhashDedupCluster, MinhashDedupFilter,
                                              MinhashDedupSignature)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers.jsonl import JsonlWriter


def cpu_now():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="dt-minhash-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(f"{work}/input")
    src = f"{work}/input/data.jsonl"
    with open(src, "wb") as f:
        subprocess.run(["zstd", "-dc", a.input] if a.input.endswith(".zst") else ["cat", a.input],
                       stdout=f, check=True)
    n_in = sum(1 for _ in open(src, "rb"))
    cfg = MinhashConfig()
    def reader():
        return JsonlReader(f"{work}/input", text_key="text", id_key="id")
    stages = [
        LocalPipelineExecutor(pipeline=[reader(), MinhashDedupSignature(output_folder=f"{work}/sigs", config=cfg)],
                              tasks=1, workers=1, logging_dir=f"{work}/logs/sigs"),
        LocalPipelineExecutor(pipeline=[MinhashDedupBuckets(input_folder=f"{work}/sigs", output_folder=f"{work}/buckets", config=cfg)],
                              tasks=cfg.num_buckets, workers=1, logging_dir=f"{work}/logs/buckets"),
        LocalPipelineExecutor(pipeline=[MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove_ids", config=cfg)],
                              tasks=1, workers=1, logging_dir=f"{work}/logs/clusters"),
        LocalPipelineExecutor(pipeline=[reader(), MinhashDedupFilter(input_folder=f"{work}/remove_ids"),
                                        JsonlWriter(f"{work}/output")],
                              tasks=1, workers=1, logging_dir=f"{work}/logs/filter"),
    ]
    w0, c0 = time.perf_counter(), cpu_now()
    phase = {}
    for name, ex in zip(["signatures", "buckets", "clusters", "filter"], stages):
        t = time.perf_counter()
        ex.run()
        phase[name] = round(time.perf_counter() - t, 2)
    wall, cpu = time.perf_counter() - w0, cpu_now() - c0
    kept = 0
    for root, _, files in os.walk(f"{work}/output"):
        for fn in files:
            opener = ["zstd", "-dc"] if fn.endswith(".zst") else (["zcat"] if fn.endswith(".gz") else ["cat"])
            kept += subprocess.run(opener + [os.path.join(root, fn)], capture_output=True).stdout.count(b"\n")
    print(json.dumps({"tool": "datatrove MinHash (default config)", "docs": n_in, "kept": kept,
                      "removed": n_in - kept, "wall_secs": round(wall, 2), "cpu_secs": round(cpu, 2),
                      "docs_per_sec": round(n_in / wall, 1), "docs_per_cpu_sec": round(n_in / cpu, 1),
                      "phase_wall_secs": phase}))


if __name__ == "__main__":
    main()
