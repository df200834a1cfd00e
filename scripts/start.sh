#!/usr/bin/env bash
# One command from a fresh clone: install system packages, install npm dependencies, build, run Vigil.
#   bash scripts/start.sh analyze capture.pcap --json
# Arguments are passed to `vigil`. (`vigil serve`, the default once issue 7 lands, is not built yet.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
npm run build --silent
if [ $# -eq 0 ]; then set -- --help; fi
exec node dist/src/cli/main.js "$@"
