#!/usr/bin/env bash
# The PyTorch peer of the tests and benchmarks (bench/torch_peer.py): Debian's
# python3-torch (PyTorch, CPU) for the system Python. Only `npm test` and the bench
# scripts need it; the demo and the `ser` commands run without it. Idempotent.
set -euo pipefail

log() { printf 'setup-torch: %s\n' "$*" >&2; }
PY="${SER_TORCH_PYTHON:-/usr/bin/python3}"
# shellcheck source=scripts/apt.sh
source "$(dirname "$0")/apt.sh"

if "$PY" -c 'import torch, numpy' >/dev/null 2>&1; then
  log "PyTorch present ($("$PY" -c 'import torch; print(torch.__version__)')); nothing to do."
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  log "PyTorch is missing for $PY and this is not a Debian-like system: install PyTorch (CPU) and numpy for it, or point SER_TORCH_PYTHON at a Python that has them."
  exit 1
fi
log "installing Debian's python3-torch (a few hundred MB, once)"
apt_install python3-torch
"$PY" -c 'import torch, numpy' || { log "python3-torch installed but $PY cannot import it"; exit 1; }
log "done"
