#!/usr/bin/env bash
# Run scripts/shard_clusters.duckdb.sql over a sharded run's signature files with PyPI duckdb
# in a private venv; prints CSV (doc_id,doc_key,cluster_id,cluster_size) on stdout.
#
#   scripts/shard_clusters.sh OUT_DIR [JACCARD_THRESHOLD] [MIN_SHINGLES]
#
# The venv lives in $NEWSMILL_DUCKDB_VENV (default .venv-duckdb next to this script) and is
# created on first use. Exit code 3: python3/venv/pip unavailable (callers may skip).
set -euo pipefail
out=${1:?usage: shard_clusters.sh OUT_DIR [JACCARD_THRESHOLD] [MIN_SHINGLES]}
threshold=${2:-0.5}
min_shingles=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
venv=${NEWSMILL_DUCKDB_VENV:-$here/.venv-duckdb}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 3; }
  python3 -m venv "$venv" >&2 || { echo "cannot create a venv in $venv" >&2; exit 3; }
  "$venv/bin/python" -m pip install --quiet 'duckdb>=1.1' >&2 || { echo "pip install duckdb failed" >&2; exit 3; }
fi
"$venv/bin/python" - "$here/shard_clusters.duckdb.sql" "$out" "$threshold" "$min_shingles" <<'PY'
import csv, sys
import duckdb
script, out, threshold, min_shingles = sys.argv[1:5]
con = duckdb.connect()
glob = f"{out}/shard-*/signatures/*.parquet".replace("'", "''")
con.execute(f"SET VARIABLE signatures = '{glob}'")
con.execute(f"SET VARIABLE jaccard_threshold = {float(threshold)}")
con.execute(f"SET VARIABLE min_shingles = {int(min_shingles)}")
text = open(script).read()
lines = [l for l in text.splitlines() if not l.lstrip().startswith("--")]
stmts = [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
for s in stmts[:-1]:
    con.execute(s)
rows = con.execute(stmts[-1]).fetchall()
w = csv.writer(sys.stdout)
w.writerow(["doc_id", "doc_key", "cluster_id", "cluster_size"])
for r in rows:
    w.writerow(r)
PY
