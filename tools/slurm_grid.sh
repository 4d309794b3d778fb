#!/bin/bash
# The stitching grid on a SLURM cluster: N array tasks each train one share of the runs into a
# shared results folder, then one job builds the tables once every task has finished (see the
# Scaling up page of the docs).
# Usage: N=8 OUT=/shared/runs/paper PRESET=paper bash tools/slurm_grid.sh
# (GPUS=4: each task an accelerate launch on 4 GPUs; THREADS: torch threads per process, default 1)
set -euo pipefail
N=${N:-8}; OUT=${OUT:?set OUT to a results folder on a file system every node sees}
PRESET=${PRESET:-paper}; SEEDS=${SEEDS:-"7 8 1 5 0"}; GPUS=${GPUS:-1}; THREADS=${THREADS:-1}
mkdir -p "$OUT"
ARGS="--preset $PRESET --seeds $SEEDS --out $OUT --threads $THREADS --quiet"
RUN="relrep-stitch"
if [ "$GPUS" -gt 1 ]; then
    RUN="accelerate launch --multi_gpu --num_processes $GPUS -m relrep_nb.cli"; fi
train=$(sbatch --parsable --array=0-$((N-1)) --gres=gpu:$GPUS --cpus-per-task=8 --time=24:00:00 \
        --job-name=relrep-train --output="$OUT/slurm-%A_%a.out" \
        --wrap="$RUN $ARGS --shard \$SLURM_ARRAY_TASK_ID/$N")
sbatch --dependency=afterany:$train --gres=gpu:1 --time=2:00:00 --job-name=relrep-collect \
       --output="$OUT/slurm-collect-%j.out" --wrap="relrep-stitch $ARGS --collect"
echo "submitted array $train ($N shares) and its collect job; run this again to resume what failed"
