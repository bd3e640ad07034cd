#!/usr/bin/env bash
# Installs the Debian packages openwa needs to build and run, when any is missing.
# Usage: scripts/setup.sh [build|test|perf]   (each level includes the ones before it)
set -euo pipefail

level="${1:-build}"
packages=(pkg-config libsqlite3-dev libpq-dev libhiredis-dev libssl-dev liburing-dev zlib1g-dev libsodium-dev libturbojpeg0-dev)
case "$level" in
  build) ;;
  # chromium drives the browser engine's tests (real Chromium over the DevTools pipe);
  # chromium-headless-shell is the lighter build that perf/browser-bench.sh compares against.
  test) packages+=(curl gcc python3-dev zbar-tools postgresql redis-server chromium) ;;
  perf) packages+=(curl gcc python3-dev zbar-tools postgresql redis-server chromium chromium-headless-shell postgresql-contrib wrk nginx-light hyperfine time) ;;
  *) echo "usage: $0 [build|test|perf]" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Independent implementations the tests cross-check against (PyPI): python-axolotl for Signal,
# segno for QR codes, python-socketio (with its WebSocket client) for the real-time channel.
if [ "$level" != build ]; then
  # moto's server is the S3-compatible server of the media storage tests.
  # Each entry is "modules to import:package to install" (several modules comma-separated).
  for module in axolotl:python-axolotl segno:segno moto.server:moto[server] socketio,websocket:python-socketio[client]; do
    if ! python3 -c "import ${module%%:*}" >/dev/null 2>&1; then
      echo "installing ${module#*:}"
      python3 -m pip install --quiet "${module#*:}"
    fi
  done
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "swift 6.1 or newer is required on PATH (https://www.swift.org/install/linux/)" >&2
  exit 1
fi
