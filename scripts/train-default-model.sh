#!/usr/bin/env bash
# Re-trains the shipped default classifier (models/default) from the labeled captures of the
# corpus (NAME.pcap + NAME.truth.json: docs/ml.md, "Captures with truth files"). Reproducible: the
# same corpus, options and seed give the same model.json. Usage: scripts/train-default-model.sh [CORPUS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS="${1:-${VIGIL_SHARED_DIR:-../shared}/corpus}"
[ -f dist/src/cli/main.js ] || npm run build
# Destination port and initial TCP windows are left out: in lab captures they name the lab's
# services and operating systems rather than the attack, and would not carry over to other networks.
node dist/src/cli/main.js train --data "$CORPUS" --model random_forest --out models/default \
  --param trees=50 --param minSamplesLeaf=2 --seed 42 --test-size 0.2 --workers 1 \
  --exclude-features "Dst Port,FWD Init Win Bytes,Bwd Init Win Bytes" "$@"
