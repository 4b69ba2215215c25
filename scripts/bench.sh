#!/usr/bin/env bash
# Scale-up benchmark: builds release, generates 1x/4x/16x Reuters-based corpora, runs
# `newsmill run` on each at several thread counts under /usr/bin/time -v, prints ONE markdown
# table, then runs `cargo bench --bench stages` once. Never part of the test command.
# Env: FACTORS (default "1 4 16"), THREADS (default "2 1"), SEED (default 7),
#      WORK (default: a fresh temp dir), SKIP_CARGO_BENCH=1 to skip the per-stage bench.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REUTERS=../shared/data/reuters21578/reuters.jsonl.zst
if [ ! -f "$REUTERS" ]; then
  echo "SKIPPED: $REUTERS not found (needs the team's ../shared data folder)"; exit 0
fi
FACTORS=${FACTORS:-"1 4 16"}
THREADS=${THREADS:-"2 1"}
SEED=${SEED:-7}
WORK=${WORK:-$(mktemp -d /tmp/newsmill-bench.XXXXXX)}
mkdir -p "$WORK"
echo "building release..." >&2
cargo build --release -q
BIN=$ROOT/target/release/newsmill
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
ROWS=()
for f in $FACTORS; do
  corpus=$WORK/reuters-x$f.jsonl
  [ -f "$corpus" ] || python3 scripts/scaleup.py --input "$REUTERS" --output "$corpus" --factor "$f" --seed "$SEED"
  for t in $THREADS; do
    out=$WORK/out-x$f-t$t
    rm -rf "$out"
    echo "run x$f threads=$t ..." >&2
    /usr/bin/time -v "$BIN" run --input "$corpus" --output "$out" -q --threads "$t" 2>"$out.time" >/dev/null
    ROWS+=("$(python3 - "$out/report.json" "$out.time" "$f" "$t" <<'PY'
import json, re, sys
rep, tfile, f, t = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
r = json.load(open(rep))
tp = r["throughput"]
txt = open(tfile).read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt).group(1))
docs = r["stages"]["read"]["docs_in"] if "read" in r["stages"] else r["totals"]["input_records"]
cpu, wall = tp["cpu_secs"], tp["wall_secs"]
mb = tp["text_mb_per_cpu_sec"] * cpu
print(f"| {f}x | {t} | {docs} | {mb:.1f} | {wall:.1f} | {cpu:.1f} | {cpu / wall / t:.2f} | "
      f"{tp['text_mb_per_cpu_sec']:.2f} | {tp['docs_per_cpu_sec']:.0f} | {rss_kb / 1024:.0f} | "
      f"{r['dedup']['index_bytes_per_doc']:.0f} | {cpu / docs * 1e6:.0f} |")
PY
)")
  done
done
echo
echo "| corpus | threads | docs | MB text | wall s | CPU s | CPU util (cpu/wall/threads) | MB/s per core | docs/s per core | peak RSS MB | dedup index B/doc | per-doc µs (CPU) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
if [ "${SKIP_CARGO_BENCH:-0}" != 1 ]; then
  echo
  echo "per-stage (cargo bench --bench stages, one thread):"
  cargo bench --bench stages 2>&1 | tail -n 40
fi
