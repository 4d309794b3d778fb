#!/usr/bin/env bash
# Create .venv (if missing) and install relrep_nb with its dev extras into it.
# TORCH_SPEC chooses the torch build (default: the release these machines install from local disk).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
quiet() { grep -v "^WARNING: Location '.*' is ignored" || true; }
if ! .venv/bin/python -c "import torch, torchvision" 2>/dev/null; then
  .venv/bin/pip install -q $TORCH_SPEC 2>&1 | quiet
fi
.venv/bin/pip install -q -e ".[dev]" 2>&1 | quiet
.venv/bin/python -c "import relrep_nb, torch, fastai, nbdev; print(f'relrep_nb {relrep_nb.__version__}, torch {torch.__version__}, fastai {fastai.__version__}, nbdev {nbdev.__version__}')"
