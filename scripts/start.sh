#!/usr/bin/env bash
# One command from a fresh clone: install system packages, install npm dependencies, build, run Vigil.
#   bash scripts/start.sh                      # vigil serve (API on :3002, SQLite in ./data)
#   bash scripts/start.sh analyze capture.pcap --json
# Arguments are passed to `vigil`; without arguments it runs `vigil serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
npm run build --silent
if [ $# -eq 0 ]; then set -- serve; fi
exec node dist/src/cli/main.js "$@"
