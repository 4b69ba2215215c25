#!/usr/bin/env bash
# Scale-up benchmark: builds release, generates 1x/4x/16x Reuters-based corpora, runs
# `newsmill run` on each at several thread counts under /usr/bin/time -v, prints ONE markdown
# table, then runs `cargo bench --bench stages` once. Never part of the test command.
# Each configuration runs REPEAT times, interleaved round by round (so a slow spell of a
# shared machine hits every configuration alike); the table gives the median run's figures
# and, in its own column, the best run's MB/s per core.
# Runs use the repo's ./pipeline.toml (the default config a user gets).
# Env: FACTORS (default "1 4 16"), THREADS (default "2 1"), REPEAT (default 3), SEED
#      (default 7), REUTERS (default: Reuters-21578 in ../shared), WORK (default: a temp dir,
#      removed at the end; give one to keep the corpora and outputs for the next run: a
#      corpus is named by factor and seed only, so use a fresh WORK for another REUTERS),
#      SKIP_CARGO_BENCH=1 to skip the per-stage bench.
set -euo pipefail
# A REUTERS given relative to the caller's directory is resolved before moving to the repo;
# a missing file the caller named is an error, a missing ../shared is a skip.
if [ -n "${REUTERS:-}" ]; then
  [ -f "$REUTERS" ] || { echo "error: REUTERS=$REUTERS not found" >&2; exit 1; }
  REUTERS=$(realpath "$REUTERS")
fi
cd "$(dirname "$0")/.."
ROOT=$PWD
REUTERS=${REUTERS:-../shared/data/reuters21578/reuters.jsonl.zst}
if [ ! -f "$REUTERS" ]; then
  echo "SKIPPED: $REUTERS not found (needs the team's ../shared data folder, or set REUTERS)"; exit 0
fi
FACTORS=${FACTORS:-"1 4 16"}
THREADS=${THREADS:-"2 1"}
SEED=${SEED:-7}
if [ -z "${WORK:-}" ]; then
  WORK=$(mktemp -d /tmp/newsmill-bench.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"
echo "building release..." >&2
cargo build --release -q
BIN=$ROOT/target/release/newsmill
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
REPEAT=${REPEAT:-3}
for f in $FACTORS; do
  corpus=$WORK/reuters-x$f-s$SEED.jsonl
  [ -f "$corpus" ] || python3 scripts/scaleup.py --input "$REUTERS" --output "$corpus" --factor "$f" --seed "$SEED"
done
for r in $(seq "$REPEAT"); do
  for f in $FACTORS; do
    for t in $THREADS; do
      out=$WORK/out-x$f-t$t-r$r
      rm -rf "$out"
      echo "round $r: x$f threads=$t ..." >&2
      /usr/bin/time -v "$BIN" run --input "$WORK/reuters-x$f-s$SEED.jsonl" --output "$out" -q --threads "$t" \
        2>"$out.time" >/dev/null
    done
  done
done
echo
echo "| corpus | threads | docs | MB text | wall s | CPU s | CPU util (cpu/wall/threads) | MB/s per core (median run) | MB/s per core (best run) | docs/s per core | peak RSS MB | dedup index B/doc | per-doc µs (CPU) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for f in $FACTORS; do
  for t in $THREADS; do
    python3 - "$WORK" "$f" "$t" "$REPEAT" <<'PY'
import json, re, sys
work, f, t, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
runs = []
for r in range(1, repeat + 1):
    out = f"{work}/out-x{f}-t{t}-r{r}"
    rep = json.load(open(f"{out}/report.json"))
    txt = open(f"{out}.time").read()
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt).group(1))
    runs.append((rep["throughput"]["cpu_secs"], rep, rss_kb))
runs.sort(key=lambda x: x[0])
cpu, r, rss_kb = runs[len(runs) // 2]
best = runs[0][1]["throughput"]["text_mb_per_cpu_sec"]
tp = r["throughput"]
docs = r["stages"]["read"]["docs_in"] if "read" in r["stages"] else r["totals"]["input_records"]
wall = tp["wall_secs"]
mb = tp["text_mb_per_cpu_sec"] * cpu
print(f"| {f}x | {t} | {docs} | {mb:.1f} | {wall:.1f} | {cpu:.1f} | {cpu / wall / t:.2f} | "
      f"{tp['text_mb_per_cpu_sec']:.2f} | {best:.2f} | {tp['docs_per_cpu_sec']:.0f} | "
      f"{max(x[2] for x in runs) / 1024:.0f} | {r['dedup']['index_bytes_per_doc']:.0f} | "
      f"{cpu / docs * 1e6:.0f} |")
PY
  done
done
if [ "${SKIP_CARGO_BENCH:-0}" != 1 ]; then
  echo
  echo "per-stage (cargo bench --bench stages, one thread):"
  cargo bench --bench stages 2>&1 | tail -n 40
fi
