#!/usr/bin/env bash
# librosa for the golden fixtures (bench/librosa_fixtures.py) and the front-end
# benchmark's librosa peer (bench/librosa_peer.py): a virtual environment in
# .venv-librosa (or $SER_LIBROSA_VENV) with librosa 0.11.0, installed by pip from
# the packages this machine's pip is configured to use. Neither `npm test` nor the
# `ser` commands need it: the fixtures are committed. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup-librosa: %s\n' "$*" >&2; }
VENV="${SER_LIBROSA_VENV:-.venv-librosa}"
LIBROSA=0.11.0

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import librosa, sys; sys.exit(librosa.__version__ != '$LIBROSA')" >/dev/null 2>&1; then
  log "librosa $LIBROSA present in $VENV; nothing to do."
  exit 0
fi
PY="${SER_LIBROSA_BASE_PYTHON:-python3}"
log "creating $VENV with $PY and installing librosa $LIBROSA"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet "librosa==$LIBROSA"
"$VENV/bin/python" -c 'import librosa; print("setup-librosa: librosa", librosa.__version__, "in", __import__("sys").prefix)'
