#!/usr/bin/env bash
# The whole rebuild of work/ on a CUDA machine, resumable: each stage is skipped when its output exists, so a
# second call on the same machine (or with work/ carried back) only continues the flow training. The scripts are
# the same ones the CPU rebuild runs; on CUDA they use plain Linear layers and larger batches.
#   VARIANTS=24 VAE_MINUTES=3 FLOW_MINUTES=6 FLOW_TOTAL_MINUTES=20 tools/demo-model/train_gpu.sh
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
mkdir -p work
[ -f work/data.npz ] || $PY make_data.py --variants "${VARIANTS:-24}"
if [ ! -f work/vae.pt ]; then
  $PY train_vae.py --minutes "${VAE_MINUTES:-3}" --batch "${VAE_BATCH:-128}"
fi
[ -f work/latents.npz ] && [ -f work/vae_final.pt ] || $PY encode_latents.py
$PY train_flow.py --resume --minutes "${FLOW_MINUTES:-6}" --batch "${FLOW_BATCH:-512}" --lr "${FLOW_LR:-1e-3}" \
  --warmup 200 ${FLOW_TOTAL_MINUTES:+--total-minutes "$FLOW_TOTAL_MINUTES"}
$PY evaluate.py --n 100 --grid work/grid.png
