#!/usr/bin/env bash
# One set-up for a fresh checkout: npm dependencies, then a WebGPU adapter
# (lavapipe on machines without a GPU). Safe to run again; quick when done.
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
if [ ! -d node_modules/webgpu ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/setup-webgpu.sh
