#!/usr/bin/env bash
# Installs what nabla needs beyond the repository on a Debian machine: Chromium (the WebGPU runtime for
# the GPU tests, the CLI's GPU path and the benchmark) and the npm packages. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x "${NABLA_CHROMIUM:-/usr/bin/chromium}" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
