#!/usr/bin/env bash
# Installs what Trellis needs and is missing: npm dependencies (npm ci) and the system
# packages the tests and the demo run for real (nats-server, prometheus, curl, nghttp2-client).
# Idempotent and quiet when everything is present. Usage: ensure-deps.sh [--npm] [--system]
# (no flag = both).
set -euo pipefail
cd "$(dirname "$0")/.."

want_npm=0 want_system=0
[ $# -eq 0 ] && want_npm=1 && want_system=1
for arg in "$@"; do
  case "$arg" in
    --npm) want_npm=1 ;;
    --system) want_system=1 ;;
    *) echo "ensure-deps: unknown option $arg (expected --npm or --system)" >&2; exit 2 ;;
  esac
done

log() { echo "[ensure-deps] $*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  log "Node.js 20 or newer is required (found $(node --version))."
  exit 1
fi

if [ $want_npm -eq 1 ]; then
  # package-lock.json is the contract; reinstall when it is newer than the installed tree.
  if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi

if [ $want_system -eq 1 ]; then
  # command -> Debian package
  declare -A packages=([nats-server]=nats-server [prometheus]=prometheus [curl]=curl
    [nghttp]=nghttp2-client [h2load]=nghttp2-client)
  # Installed without Recommends: prometheus would pull in prometheus-node-exporter, one more
  # packaged daemon that no test uses.
  declare -A lean=([prometheus]=1)
  missing=() missing_lean=()
  for cmd in "${!packages[@]}"; do
    if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ]; then
      if [ -n "${lean[${packages[$cmd]}]:-}" ]; then
        missing_lean+=("${packages[$cmd]}")
      else
        missing+=("${packages[$cmd]}")
      fi
    fi
  done
  if [ $((${#missing[@]} + ${#missing_lean[@]})) -gt 0 ]; then
    [ ${#missing[@]} -gt 0 ] && mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    if command -v apt-get >/dev/null 2>&1; then
      sudo=""
      [ "$(id -u)" -ne 0 ] && sudo="sudo"
      log "installing system packages: ${missing[*]} ${missing_lean[*]}"
      # Keep packaged services (the systemd units of nats-server and prometheus) from starting:
      # tests start their own, on free ports with their own config.
      policy_created=0
      if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod +x /usr/sbin/policy-rc.d
        policy_created=1
      fi
      export DEBIAN_FRONTEND=noninteractive
      updated=0
      # apt_install ARGS...: tries the cached package lists first, then refreshes them once.
      apt_install() {
        $sudo apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
        if [ $updated -eq 0 ]; then
          $sudo apt-get update -qq
          updated=1
        fi
        $sudo apt-get install -y -qq "$@" >/dev/null
      }
      [ ${#missing[@]} -gt 0 ] && apt_install "${missing[@]}"
      [ ${#missing_lean[@]} -gt 0 ] && apt_install --no-install-recommends "${missing_lean[@]}"
      if [ $policy_created -eq 1 ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
    else
      log "missing system packages: ${missing[*]} ${missing_lean[*]}. Install them with your package manager"
      log "(Debian/Ubuntu names: nats-server, prometheus, curl, nghttp2-client; elsewhere see"
      log "https://nats.io for nats-server and https://prometheus.io for prometheus)."
      exit 1
    fi
  fi
fi
