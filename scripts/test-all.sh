#!/usr/bin/env bash
# The whole test suite on a fresh machine: system packages, npm ci, build, type-check, lint, format check, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
npm run build
npm run lint
npm run format:check
node scripts/run-tests.mjs
