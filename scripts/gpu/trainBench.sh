#!/usr/bin/env bash
# Issue 6 in one go on a GPU machine (see ../shared/gpu/README.md): build the addon against the image's PyTorch,
# run the CUDA tests, check the fast settings against float32 (bench/trainCheck.ts), then time ils64 training
# in each setting and ils128 in the fastest (bench/train.ts). Everything it prints is also written to
# $OUT/trainBench.log, and each benchmark's JSON line to $OUT/results.jsonl.
#
# Prepare on the CPU machine:   bash ../shared/gpu/pack.sh && npx tsc -p .
# Run there (device tool):      bash scripts/gpu/trainBench.sh    carrying .gpu, dist, node_modules/node-addon-api
# Rehearse on the CPU (no build, the full topology at 8 channels):
#   DEVICE=cpu SKIP_BUILD=1 CHECK_EXTRA="--channels 8 --batch 8" BENCH_EXTRA="--launch-proxy --batch 4" \
#     bash scripts/gpu/trainBench.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
DEVICE=${DEVICE:-cuda}
OUT=${OUT:-/tmp/ilsgan-gpu-out}
CHECK_EXTRA=${CHECK_EXTRA:-}
BENCH_EXTRA=${BENCH_EXTRA:-}
mkdir -p "$OUT"
LOG=$OUT/trainBench.log
: > "$LOG"
: > "$OUT/results.jsonl"
say() { echo "$*" | tee -a "$LOG"; }
# step <timeout s> <command…>: runs it, logs everything, keeps the JSON lines, never stops the script.
step() {
  local limit=$1; shift
  say "== $*"
  local t0=$SECONDS
  timeout "$limit" "$@" > "$OUT/step.txt" 2>&1
  local rc=$?
  cat "$OUT/step.txt" >> "$LOG"
  grep '^{' "$OUT/step.txt" >> "$OUT/results.jsonl"
  grep -v '^{' "$OUT/step.txt" | tail -n 25
  say "-- rc $rc, $((SECONDS - t0)) s"
  rm -f "$OUT/step.txt"
}

if [ "$DEVICE" != cpu ]; then
  source .gpu/env.sh
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$LOG"
fi
if [ -z "${SKIP_BUILD:-}" ]; then
  rm -rf build
  step 420 node scripts/buildNative.mjs || exit 1
  [ -f build/Release/ilsgan.node ] || { say "build failed"; exit 1; }
fi
step 60 node -e "import('./dist/src/index.js').then(t => console.log(t.buildInfo().torchVersion, 'cuda', t.cuda.isAvailable(), t.cuda.deviceCount()))"
[ "$DEVICE" != cpu ] && step 180 node --test --test-concurrency=1 dist/test/tensor/cuda.test.js

# Correctness: the same 4 iterations from seed 0 in float32 and in each fast setting.
step 240 node dist/bench/trainCheck.js --config ils64 --device "$DEVICE" --variant "$([ "$DEVICE" = cpu ] && echo bfloat16 || echo float16)" $CHECK_EXTRA
[ "$DEVICE" != cpu ] && step 240 node dist/bench/trainCheck.js --config ils64 --device "$DEVICE" --variant tf32 $CHECK_EXTRA

# Speed: the float32 baseline, then each setting added (the issue's figure is s/kimg).
step 240 node dist/bench/train.js --config ils64 --device "$DEVICE" --precision fp32 $BENCH_EXTRA
if [ "$DEVICE" != cpu ]; then
  step 240 node dist/bench/train.js --config ils64 --device "$DEVICE" --precision fp32 --cudnn-benchmark $BENCH_EXTRA
  step 240 node dist/bench/train.js --config ils64 --device "$DEVICE" --precision fp32 --cudnn-benchmark --tf32 $BENCH_EXTRA
  step 240 node dist/bench/train.js --config ils64 --device "$DEVICE" --precision float16 --cudnn-benchmark $BENCH_EXTRA
  step 300 node dist/bench/train.js --config ils128 --device "$DEVICE" --precision float16 --cudnn-benchmark $BENCH_EXTRA
fi
say "== summary (s/kimg)"
node -e "
const fs = require('fs');
for (const l of fs.readFileSync(process.argv[1], 'utf8').split('\n').filter(Boolean)) {
  const r = JSON.parse(l);
  if (r.check) console.log('check', r.variant, r.pass ? 'PASS' : 'FAIL', JSON.stringify(r.worst));
  else console.log(r.config, r.device, 'precision', r.precision, 'tf32', r.tf32, 'cudnn', r.cudnn_benchmark, '->', r.s_per_kimg, 's/kimg', r.img_per_s, 'img/s', 'ops/iter', r.aten_ops_per_iter, 'reads/iter', r.host_reads_per_iter);
}" "$OUT/results.jsonl" | tee -a "$LOG"
