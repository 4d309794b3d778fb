#!/usr/bin/env bash
# The README's main command: set up .venv, then run the main job (the index notebook's example).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
.venv/bin/nbdev-test nbs/index.ipynb --verbose
