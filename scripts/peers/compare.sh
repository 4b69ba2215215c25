#!/usr/bin/env bash
# newsmill vs peers on Reuters-21578: NER tokens/s per core (spaCy en_core_web_sm, ner only)
# and dedup docs/s (datatrove MinHash, 4 phases, 1 worker). newsmill's figures come from
# `cargo bench --bench stages` (one thread): the NER tagger line and the two dedup lines.
# Run ./setup.sh first. Env: VENV (default scripts/peers/.venv), SPACY_LIMIT (default 3000 docs).
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
VENV=${VENV:-$HERE/.venv}
REUTERS=$HERE/../../../shared/data/reuters21578/reuters.jsonl.zst
[ -f "$REUTERS" ] || { echo "SKIPPED: $REUTERS not found"; exit 0; }
[ -x "$VENV/bin/python" ] || { echo "no venv at $VENV: run scripts/peers/setup.sh first"; exit 1; }
TMP=$(mktemp -d /tmp/newsmill-peers.XXXXXX)
echo "newsmill: cargo bench --bench stages ..." >&2
(cd "$HERE/../.." && cargo bench -q --bench stages 2>/dev/null) > "$TMP/stages.txt"
echo "spaCy NER ..." >&2
"$VENV/bin/python" spacy_ner.py --input "$REUTERS" --limit "${SPACY_LIMIT:-3000}" > "$TMP/spacy.json"
echo "datatrove MinHash ..." >&2
"$VENV/bin/python" datatrove_minhash.py --input "$REUTERS" --work "$TMP/dt" 2>"$TMP/dt.log" | tail -n 1 > "$TMP/dt.json"
python3 - "$TMP" <<'PY'
import json, re, sys
tmp = sys.argv[1]
st = open(f"{tmp}/stages.txt").read()
def rate(label):
    m = re.search(re.escape(label) + r"\s+\d+ docs\s+([\d.]+) docs/s", st)
    return float(m.group(1))
ner_tok = float(re.search(r"NER tagger\s+([\d.]+) tokens/s", st).group(1))
ext_tok = float(re.search(r"extract \(all of it\)\s+([\d.]+) tokens/s", st).group(1))
dd = 1 / (1 / rate("dedup signatures") + 1 / rate("dedup index + clusters"))
sp, dt = json.load(open(f"{tmp}/spacy.json")), json.load(open(f"{tmp}/dt.json"))
print("| comparison (one core) | newsmill | peer | ratio | target |")
print("|---|---|---|---|---|")
print(f"| NER tokens/s per core: tagger vs {sp['tool']} (ner only) | {ner_tok:,.0f} | {sp['tokens_per_cpu_sec']:,} | {ner_tok / sp['tokens_per_cpu_sec']:.1f}x | >= 50x |")
print(f"| NER tokens/s per core: whole extract stage vs spaCy ner | {ext_tok:,.0f} | {sp['tokens_per_cpu_sec']:,} | {ext_tok / sp['tokens_per_cpu_sec']:.1f}x | |")
print(f"| dedup docs/s per core: signatures+index vs {dt['tool']} | {dd:,.0f} | {dt['docs_per_cpu_sec']:,} | {dd / dt['docs_per_cpu_sec']:.0f}x | >= 100x |")
print()
print("spaCy:", json.dumps(sp))
print("datatrove:", json.dumps(dt))
PY
