#!/usr/bin/env bash
# Interleaved A/B of two newsmill binaries on one corpus: runs A, B, then B, A, ... ROUNDS times
# each (so a slow spell of a shared machine hits both alike), prints every run's CPU, wall and
# peak RSS, then each binary's mean and range, and checks that both wrote the same tables.
# Judge a change by this (and by callgrind instruction counts), not by two single runs.
# Never part of the test command.
#
# Usage: scripts/ab.sh BIN_A BIN_B [INPUT]
#   INPUT defaults to Reuters-21578 from ../shared (decompressed once into WORK).
# Env: ROUNDS (default 5), THREADS (default 2), CONFIG (default: the repo's pipeline.toml;
#      one with a nightly [state] dir would make the two sides share state), WORK (default:
#      a temp dir, removed at the end; give one to keep the outputs and the decompressed input).
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,12p "$0"; exit 2; }
# Paths given relative to the caller's directory, resolved before moving to the repo root.
A=$(realpath "$1"); B=$(realpath "$2")
INPUT=""
[ $# -ge 3 ] && INPUT=$(realpath "$3")
ROOT=$(realpath "$(dirname "$0")/..")
CONFIG=$(realpath "${CONFIG:-$ROOT/pipeline.toml}")
cd "$ROOT"
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-2}
if [ -z "${WORK:-}" ]; then
  WORK=$(mktemp -d /tmp/newsmill-ab.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"
if [ -z "$INPUT" ]; then
  REUTERS=../shared/data/reuters21578/reuters.jsonl.zst
  if [ ! -f "$REUTERS" ]; then
    echo "SKIPPED: $REUTERS not found (give an INPUT)"; exit 0
  fi
  command -v zstd > /dev/null || { echo "needs the zstd command (or give an INPUT)"; exit 1; }
  INPUT=$WORK/reuters.jsonl
  [ -f "$INPUT" ] || { zstd -dcq "$REUTERS" > "$INPUT.part" && mv "$INPUT.part" "$INPUT"; }
fi
> "$WORK/runs"
echo "| run | binary | CPU s (user + sys) | wall s | peak RSS MiB |"
echo "|---|---|---|---|---|"
for r in $(seq "$ROUNDS"); do
  # A first in odd rounds, B first in even ones, so neither always runs on a warmer machine.
  order="A B"; [ $((r % 2)) = 0 ] && order="B A"
  for side in $order; do
    bin=$A; [ $side = B ] && bin=$B
    out=$WORK/out-$side
    rm -rf "$out"
    /usr/bin/time -f "%U %S %e %M" -o "$WORK/time" \
      "$bin" run -c "$CONFIG" --input "$INPUT" --output "$out" -q --threads "$THREADS"
    read -r user sys wall rss < "$WORK/time"
    cpu=$(python3 -c "print(f'{$user + $sys:.2f}')")
    echo "$side $cpu $wall $rss" >> "$WORK/runs"
    echo "| $r | $side | $cpu | $wall | $((rss / 1024)) |"
  done
done
echo
python3 - "$WORK/runs" <<'PY'
import sys
runs = {}
for line in open(sys.argv[1]):
    side, cpu, wall, rss = line.split()
    runs.setdefault(side, []).append((float(cpu), float(wall), int(rss) / 1024))
mean = lambda xs: sum(xs) / len(xs)
for side in ("A", "B"):
    cpu = [r[0] for r in runs[side]]
    wall = [r[1] for r in runs[side]]
    rss = [r[2] for r in runs[side]]
    print(f"{side}: CPU {min(cpu):.2f}-{max(cpu):.2f} s, mean {mean(cpu):.2f}; "
          f"wall mean {mean(wall):.2f} s; peak RSS {min(rss):.0f}-{max(rss):.0f} MiB")
a, b = mean([r[0] for r in runs["A"]]), mean([r[0] for r in runs["B"]])
print(f"B vs A: CPU {100 * (b - a) / a:+.1f}% (mean)")
PY
# Tables only: report.json holds run ids and timings.
if diff -rq -x report.json "$WORK/out-A" "$WORK/out-B" > /dev/null; then
  echo "tables: identical"
else
  echo "tables: DIFFER"; diff -rq -x report.json "$WORK/out-A" "$WORK/out-B" || true
fi
