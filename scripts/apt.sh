# Sourced by the set-up scripts (which define log): installs Debian packages as root
# or through sudo, refreshing the package lists only when an install fails without
# them (a fresh machine may have none, or stale ones).
apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root (or sudo) to install $*"; return 1; }
    sudo=(sudo)
  fi
  # Through env: sudo does not pass the caller's environment on.
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
  if ! "${apt[@]}" install -y -qq "$@" >/dev/null 2>&1; then
    log "install failed; refreshing the package lists and trying again"
    "${apt[@]}" update -qq
    "${apt[@]}" install -y -qq "$@" >/dev/null
  fi
}
