#!/usr/bin/env bash
# Makes sure Google's SwiftShader Vulkan driver is on this machine, so the kernel
# tests can run on a second, independent Vulkan implementation beside lavapipe
# (vitest.config.ts, project `swiftshader`).
#
# Idempotent. Debian's `chromium` package ships SwiftShader as
# /usr/lib/chromium/libvk_swiftshader.so with its ICD manifest beside it. That
# directory is not on the Vulkan loader's search path, so installing it changes
# nothing for other programs: only a process started with
# VK_ICD_FILENAMES=<manifest> uses it (src/kernels/vulkan-icd.ts knows both
# manifest paths below). SER_SWIFTSHADER=0 skips it, as it skips the test pass.
set -euo pipefail

log() { printf 'setup-swiftshader: %s\n' "$*" >&2; }
# shellcheck source=scripts/apt.sh
source "$(dirname "$0")/apt.sh"

if [ "${SER_SWIFTSHADER:-}" = "0" ]; then
  log "SER_SWIFTSHADER=0: not installing SwiftShader; the kernel tests will not run on it"
  exit 0
fi

lib=/usr/lib/chromium/libvk_swiftshader.so
manifest=/usr/lib/chromium/vk_swiftshader_icd.json
# Written only if a chromium build ships the library without its manifest. Not
# under a vulkan/icd.d directory, so the loader never picks it up by itself.
own_manifest=/usr/local/share/ser-webgpu/vk_swiftshader_icd.json

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ! -f "$lib" ]; then
  if ! command -v apt-get >/dev/null; then
    log "SwiftShader not found at $lib. Install your distribution's chromium package"
    log "(it ships libvk_swiftshader.so) or skip the SwiftShader test pass with SER_SWIFTSHADER=0."
    exit 1
  fi
  log "installing chromium (for its SwiftShader Vulkan driver)"
  apt_install --no-install-recommends chromium
  [ -f "$lib" ] || { log "chromium is installed but $lib is missing"; exit 1; }
fi

if [ ! -f "$manifest" ]; then
  manifest=$own_manifest
  if [ ! -f "$manifest" ]; then
    log "chromium ships no SwiftShader ICD manifest; writing $manifest"
    $SUDO mkdir -p "$(dirname "$manifest")"
    printf '{\n  "file_format_version": "1.0.0",\n  "ICD": { "library_path": "%s", "api_version": "1.3.0" }\n}\n' "$lib" |
      $SUDO tee "$manifest" >/dev/null
  fi
fi
log "SwiftShader present ($manifest)"
