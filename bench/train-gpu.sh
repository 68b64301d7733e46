#!/usr/bin/env bash
# The PyTorch engine on a machine with a CUDA GPU: what CI (no GPU) cannot check.
#   1. the QAT forward on the GPU equals the simulator integer for integer (the CPU test with the
#      engine forced onto the device: conformance cases and every layer kind);
#   2. a short MNIST run through the CLI (--device cuda): the summary says engine pytorch, device
#      cuda, the QAT accuracy (through the simulator) is sane and the exported checkpoint verifies;
#   3. with 2 or more GPUs, the same run with torchrun DDP (--gpus N) lands within 1 pp of it;
#   4. samples/s of the engine at batch 64 / 256 / 1024 on ai85net5 and the ECG net (the issue's
#      H200 reference: 19k / 74k / 230k and 16k / 62k / 261k).
# Usage: bench/train-gpu.sh [PYTHON]          PYTHON: a torch with CUDA (default $QATWB_PYTHON, else python3)
#        DEVICE=cpu bench/train-gpu.sh [PYTHON] the same steps on the CPU, smaller (a dry run of this script;
#                                              step 3 then runs 2 gloo processes)
# Needs Node ≥ 20.6 with the repository's node_modules, and numpy in that Python.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-${QATWB_PYTHON:-python3}}"
DEVICE="${DEVICE:-cuda}"
OUT="${OUT:-$(mktemp -d)}"
fail() { echo "FAIL: $*" >&2; exit 1; }
GPUS=$("$PY" -c 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)')
echo "== $PY: torch $("$PY" -c 'import torch; print(torch.__version__)'), $GPUS CUDA device(s); checks on $DEVICE, files in $OUT"
case "$DEVICE" in
  cuda) [ "$GPUS" -ge 1 ] || fail "no CUDA device visible to $PY (DEVICE=cpu for a dry run)"
        LIMIT=10000 EPOCHS=4 BS=256 MIN_ACC=0.9 PROCS=$GPUS EPOCH_BATCHES=50 ;;
  cpu)  LIMIT=2000 EPOCHS=2 BS=32 MIN_ACC=0.75 PROCS=2 EPOCH_BATCHES=3 ;;
  *)    fail "DEVICE must be cuda or cpu, got $DEVICE" ;;
esac

echo "== 1. QAT forward on $DEVICE ≡ simulator"
QATWB_TEST_PYTHON="$PY" QATWB_TORCH_DEVICE=$DEVICE npx vitest run src-main/training/pytorch-equivalence.test.ts

RUN=(train --example mnist --limit $LIMIT --test 0.2 --epochs $EPOCHS --qat-start $((EPOCHS / 2)) --batch-size $BS --seed 4
     --engine pytorch --python "$PY" --device "$DEVICE" --json)
# The summary of one run: engine, device, QAT accuracy, the exported checkpoint's verification.
check() {
  node -e '
const [file, device, min] = process.argv.slice(1);
const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
const v = r.verification ?? {};
console.log(`${r.engine} on ${r.device} (${r.backend}): QAT ${(r.qatAccuracy * 100).toFixed(2)} %, ${r.samplesPerSecond.toFixed(0)} samples/s; checkpoint: BN left ${v.batchNormLeft}, on grid ${v.onGrid}`);
if (r.engine !== "pytorch" || r.device !== device || !(r.qatAccuracy >= Number(min)) || v.batchNormLeft !== 0 || v.onGrid !== true) process.exit(1);' "$@"
}
echo "== 2. MNIST on one $DEVICE"
node bin/qatwb.mjs "${RUN[@]}" --out "$OUT/one" > "$OUT/one.json" 2> "$OUT/one.log" || { tail -20 "$OUT/one.log"; fail "qatwb train on $DEVICE"; }
check "$OUT/one.json" "$DEVICE" "$MIN_ACC" || fail "run on one $DEVICE"

if [ "$PROCS" -ge 2 ]; then
  echo "== 3. MNIST with torchrun DDP, $PROCS processes on $DEVICE"
  node bin/qatwb.mjs "${RUN[@]}" --gpus "$PROCS" > "$OUT/ddp.json" 2> "$OUT/ddp.log" || { tail -20 "$OUT/ddp.log"; fail "qatwb train --gpus $PROCS"; }
  check "$OUT/ddp.json" "$DEVICE" "$MIN_ACC" || fail "DDP run"
  node -e '
const fs = require("fs");
const [a, b] = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
console.log(`DDP ${b.backend}: QAT ${(b.qatAccuracy * 100).toFixed(2)} % vs one process ${(a.qatAccuracy * 100).toFixed(2)} %`);
if (!/DDP/.test(b.backend) || Math.abs(a.qatAccuracy - b.qatAccuracy) > 0.01) process.exit(1);' "$OUT/one.json" "$OUT/ddp.json" || fail "DDP differs by more than 1 pp"
else
  echo "== 3. skipped: one GPU only"
fi

echo "== 4. samples/s of the engine on $DEVICE ($EPOCH_BATCHES batches an epoch, the third epoch's rate)"
for B in 64 256 1024; do
  BATCH=$B EPOCH_BATCHES=$EPOCH_BATCHES QATWB_PYTHON="$PY" QATWB_TORCH_DEVICE=$DEVICE ENGINE_ONLY=1 npx tsx bench/train.bench.ts
done
echo "all checks passed on $DEVICE (files in $OUT)"
