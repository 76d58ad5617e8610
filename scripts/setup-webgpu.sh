#!/usr/bin/env bash
# Makes sure Dawn (npm `webgpu`) finds a Vulkan adapter on this machine.
#
# Idempotent. On Debian bookworm with no usable adapter it installs the Vulkan
# loader and Mesa's lavapipe (a CPU Vulkan driver) from `bookworm-backports`:
# bookworm's own Mesa 22 is too old for Dawn. The backports entry is derived
# from the URIs already configured in the machine's apt sources, so whatever
# mirror the machine uses is kept. Elsewhere it only says what to install.
set -euo pipefail

log() { printf 'setup-webgpu: %s\n' "$*" >&2; }

have_vulkan_driver() {
  # A Vulkan ICD manifest plus the loader is what Dawn's Vulkan backend needs.
  ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || return 1
  ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1
}

lavapipe_is_recent() {
  # Mesa >= 23 is needed; bookworm ships 22.3.
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -z "$v" ] && return 0  # not installed from Debian: some other driver, trust it
  dpkg --compare-versions "$v" ge 23
}

if have_vulkan_driver && lavapipe_is_recent; then
  log "Vulkan loader and driver present; nothing to do."
  exit 0
fi

if [ ! -r /etc/os-release ] || ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release; then
  log "no usable Vulkan driver found. Install the Vulkan loader (libvulkan1) and a"
  log "Vulkan driver: your GPU vendor's, or Mesa >= 23 lavapipe (mesa-vulkan-drivers)"
  log "for a CPU-only machine. Then run 'npx ser doctor'."
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { log "need root (or sudo) to install Vulkan packages"; exit 1; }
  SUDO="sudo"
fi

# Derive the backports entry from the first configured Debian archive URI that
# serves the plain `bookworm` suite (not the security archive).
backports_list=/etc/apt/sources.list.d/ser-webgpu-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  uri=""
  # deb822 format: a stanza with `URIs:` and `Suites:` containing bookworm.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '
      /^[[:space:]]*$/ { if (u != "" && s ~ /(^|[[:space:]])bookworm([[:space:]]|$)/) { print u; exit } u=""; s=""; next }
      /^URIs:/   { u=$2 }
      /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); s=$0 }
      END { if (u != "" && s ~ /(^|[[:space:]])bookworm([[:space:]]|$)/) print u }
    ' "$f" | head -n1)
    [ -n "$uri" ] && break
  done
  # One-line format: `deb URI bookworm main`.
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
  fi
  if [ -z "$uri" ]; then
    log "could not find a Debian bookworm archive in the apt sources to derive bookworm-backports from"
    exit 1
  fi
  log "enabling bookworm-backports from the configured archive"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" |
    $SUDO tee "$backports_list" >/dev/null
fi

log "installing libvulkan1 and mesa-vulkan-drivers from bookworm-backports"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq -t bookworm-backports libvulkan1 mesa-vulkan-drivers >/dev/null
log "done"
