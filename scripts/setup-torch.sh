#!/usr/bin/env bash
# The PyTorch peer of the tests and benchmarks (bench/torch_peer.py): Debian's
# python3-torch (PyTorch, CPU) for the system Python. Only `npm test` and the bench
# scripts need it; the demo and the `ser` commands run without it. Idempotent.
set -euo pipefail

log() { printf 'setup-torch: %s\n' "$*" >&2; }
PY="${SER_TORCH_PYTHON:-/usr/bin/python3}"

if "$PY" -c 'import torch, numpy' >/dev/null 2>&1; then
  log "PyTorch present ($("$PY" -c 'import torch; print(torch.__version__)')); nothing to do."
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  log "PyTorch is missing for $PY and this is not a Debian-like system: install PyTorch (CPU) and numpy for it, or point SER_TORCH_PYTHON at a Python that has them."
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { log "need root (or sudo) to install python3-torch"; exit 1; }
  SUDO="sudo"
fi
log "installing Debian's python3-torch (a few hundred MB, once)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq python3-torch >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-torch >/dev/null; }
"$PY" -c 'import torch, numpy' || { log "python3-torch installed but $PY cannot import it"; exit 1; }
log "done"
