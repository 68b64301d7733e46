#!/usr/bin/env bash
# The PyTorch engine on a machine with CUDA GPUs: what CI (no GPU) cannot check.
#   1. the QAT forward on CUDA equals the simulator on the conformance cases and every layer kind
#      (the same test as on CPU, with the engine forced onto the GPU);
#   2. a short MNIST run through the CLI on one GPU (--device cuda): summary says engine pytorch,
#      device cuda, and the QAT accuracy is sane; its exports go through the simulator;
#   3. with 2 or more GPUs, the same run with torchrun DDP (--gpus N) lands within 1 pp of it;
#   4. throughput: samples/s of the engine on the GPU at batch 64 / 256 / 1024 for ai85net5 and the
#      ECG net (printed; the issue's reference box did 19k / 74k / 230k and 16k / 62k / 261k).
# Usage: bench/train-gpu.sh [PYTHON]   (default: QATWB_PYTHON, else python3 with torch)
# Needs Node ≥ 20.6 with the repository's node_modules, and a Python with torch (CUDA build) + numpy.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-${QATWB_PYTHON:-python3}}"
OUT="${OUT:-$(mktemp -d)}"
echo "== PyTorch: $("$PY" -c 'import torch; print(torch.__version__, "CUDA", torch.cuda.is_available(), torch.cuda.device_count(), "GPU(s)")')"
GPUS=$("$PY" -c 'import torch; print(torch.cuda.device_count())')
if [ "$GPUS" -lt 1 ]; then echo "no CUDA device visible to $PY" >&2; exit 1; fi

echo "== 1. QAT forward on CUDA ≡ simulator"
QATWB_PYTHON="$PY" QATWB_TORCH_DEVICE=cuda npx vitest run src-main/training/pytorch-equivalence.test.ts

RUN=(train --example mnist --limit 10000 --test 0.2 --epochs 4 --qat-start 2 --batch-size 256 --seed 4 --engine pytorch --python "$PY" --json)
echo "== 2. MNIST on one GPU"
node bin/qatwb.mjs "${RUN[@]}" --device cuda --out "$OUT/one" > "$OUT/one.json"
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log(`engine ${r.engine}, device ${r.device}, ${r.backend}: QAT ${(r.qatAccuracy * 100).toFixed(2)} %, ${r.samplesPerSecond.toFixed(0)} samples/s`);
if (r.engine !== "pytorch" || r.device !== "cuda" || !(r.qatAccuracy > 0.9)) { console.error("FAIL"); process.exit(1); }' "$OUT/one.json"
node bin/qatwb.mjs simulate --checkpoint "$OUT/one/checkpoint.pth.tar" --network "$OUT/one/network.yaml" \
  --input "$OUT/one/sample.input.npy" --out "$OUT/one/sim.npy"
cmp <("$PY" -c 'import numpy,sys; print(numpy.load(sys.argv[1]).ravel().tolist())' "$OUT/one/sim.npy") \
    <("$PY" -c 'import numpy,sys; print(numpy.load(sys.argv[1]).ravel().tolist())' "$OUT/one/sample.expected.npy") \
  && echo "exported sample: simulator equals sample.expected.npy"

if [ "$GPUS" -ge 2 ]; then
  echo "== 3. MNIST with torchrun DDP on $GPUS GPUs"
  node bin/qatwb.mjs "${RUN[@]}" --device cuda --gpus "$GPUS" > "$OUT/ddp.json"
  node -e '
const fs = require("fs");
const a = JSON.parse(fs.readFileSync(process.argv[1], "utf8")), b = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
console.log(`DDP: ${b.backend}: QAT ${(b.qatAccuracy * 100).toFixed(2)} % vs one GPU ${(a.qatAccuracy * 100).toFixed(2)} %, ${b.samplesPerSecond.toFixed(0)} samples/s`);
if (!/DDP/.test(b.backend) || Math.abs(a.qatAccuracy - b.qatAccuracy) > 0.01) { console.error("FAIL"); process.exit(1); }' "$OUT/one.json" "$OUT/ddp.json"
else
  echo "== 3. skipped: one GPU only"
fi

echo "== 4. throughput on cuda"
for B in 64 256 1024; do
  BATCH=$B QATWB_PYTHON="$PY" QATWB_TORCH_DEVICE=cuda ENGINE_ONLY=1 npx tsx bench/train.bench.ts | grep -v '^{'
done
echo "all GPU checks passed (files in $OUT)"
