#!/usr/bin/env bash
# The README's main command: set up .venv, then run the main job: the offline cross-lingual stitching grid
# (relrep-stitch; results, tables and the death-time figure under runs/offline). Arguments go to relrep-stitch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
.venv/bin/relrep-stitch --out runs/offline "$@"
