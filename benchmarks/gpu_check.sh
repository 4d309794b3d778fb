#!/usr/bin/env bash
# The GPU check: on a machine with CUDA, run the notebook cells flagged `cuda` (nbdev-test --flags cuda) and both
# benchmarks on the GPU, in under 5 minutes in all, and write benchmarks/results/*.cuda.md:
#   topology.cuda.md (bench_topology.py --quick), relative.cuda.md (bench_relative.py), gpu_check.cuda.md (a summary).
# Without CUDA it says so and exits 0. It installs nothing: it needs a Python with the project's dependencies
# (tools/setup.sh makes .venv); the peers (pyproject's `bench` extra) are measured when installed.
# Usage: bash benchmarks/gpu_check.sh            (PYTHON=... picks the interpreter; default .venv/bin/python, else python3)
#        GPU_CHECK_DEVICE=cpu GPU_CHECK_OUT=/tmp/gpu_check bash benchmarks/gpu_check.sh   (a dry run of the steps on the CPU)
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON; elif [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
DEVICE=${GPU_CHECK_DEVICE:-cuda}
OUT=${GPU_CHECK_OUT:-benchmarks/results}
if [ "$DEVICE" = cuda ] && ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  echo "gpu_check: no CUDA device visible to torch ($("$PY" -c 'import torch; print("torch", torch.__version__)' 2>&1 | tail -n 1)); nothing run"
  exit 0
fi
NBDEV_TEST=$(dirname "$PY")/nbdev-test; [ -x "$NBDEV_TEST" ] || NBDEV_TEST=nbdev-test
export OMP_NUM_THREADS=1 MPLBACKEND=Agg PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT"; logs=$(mktemp -d); status=0; t0=$SECONDS
rows=()
step() {   # name, time limit in seconds, command...: run it, keep its log, record the outcome
  local name=$1 limit=$2 t=$SECONDS rc; shift 2
  echo "== $name (at most ${limit} s): $*"
  timeout "$limit" "$@" >"$logs/$name.log" 2>&1; rc=$?
  tail -n 15 "$logs/$name.log"
  if [ $rc -eq 0 ]; then rows+=("| $name | passed | $((SECONDS - t)) s |")
  else status=1; rows+=("| $name | FAILED (exit $rc$([ $rc -eq 124 ] && echo ', over its time limit')) | $((SECONDS - t)) s |"); fi
}
flags=(); [ "$DEVICE" = cuda ] && flags=(--flags cuda)
small=(); [ "$DEVICE" = cuda ] || small=(--quick --repeats 3)   # a dry run on the CPU: a smaller grid, in time
# the notebooks that hold `cuda` cells; their other cells run too (they take seconds)
step cuda-cells 90 "$NBDEV_TEST" "${flags[@]}" --n-workers 2 --timing --file-re '^(10_relative|20_topology)\.ipynb$'
if ! grep -q '20_topology.ipynb' "$logs/cuda-cells.log"; then status=1; rows+=("| cuda-cells | FAILED: the notebooks did not run | |"); fi
step bench-topology 120 "$PY" benchmarks/bench_topology.py --quick --device "$DEVICE" --out "$OUT/topology.$DEVICE.md"
step bench-relative 75 "$PY" benchmarks/bench_relative.py "${small[@]}" --device "$DEVICE" --out "$OUT/relative.$DEVICE.md"
gpu=$("$PY" -c "import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA device')" 2>&1 | tail -n 1)
{
  echo "# GPU check"
  echo
  echo "Command: \`bash benchmarks/gpu_check.sh\`; device $DEVICE ($gpu); $("$PY" -c 'import torch; print("torch", torch.__version__)' 2>&1 | tail -n 1); whole run $((SECONDS - t0)) s."
  echo
  echo "| step | outcome | time |"
  echo "|---|---|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Results: \`topology.$DEVICE.md\`, \`relative.$DEVICE.md\`. Last lines of the notebook test:"
  echo
  echo '```'
  tail -n 5 "$logs/cuda-cells.log"
  echo '```'
} > "$OUT/gpu_check.$DEVICE.md"
cat "$OUT/gpu_check.$DEVICE.md"
echo "gpu_check: $([ $status -eq 0 ] && echo 'all steps passed' || echo 'some step FAILED'); logs in $logs"
exit $status
