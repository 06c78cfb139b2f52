#!/usr/bin/env bash
# Installs everything Skywatch needs on a fresh Debian 12 machine: Debian packages (ffmpeg, Chromium
# for browser tests, GStreamer's RTSP server for streaming tests, redis-server) and the npm packages.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(ffmpeg chromium redis-server python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime-node's install step downloads CUDA files; the CPU binaries ship in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
# npm may skip install scripts without failing: the native SQLite driver (alert review) must load.
node -e "require('better-sqlite3')" 2>/dev/null || { echo "setup: rebuilding better-sqlite3"; npm rebuild better-sqlite3 --loglevel=error; }
echo "setup: done"
