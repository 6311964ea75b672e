#!/usr/bin/env bash
# On a GPU machine (see ../shared/gpu/README.md): build the addon against the image's PyTorch, run the CUDA
# tests and the engine benchmark on the GPU. Prepare here first with:
#   bash ../shared/gpu/pack.sh && npx tsc -p .
# then run this script there, carrying .gpu, dist and node_modules/node-addon-api.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .gpu/env.sh
export ILSGAN_BENCH_PYTHON=${ILSGAN_BENCH_PYTHON:-python3}
rm -rf build
time node scripts/buildNative.mjs
node -e "import('./dist/src/index.js').then(t => console.log(t.buildInfo().torchVersion, 'cuda', t.cuda.isAvailable(), t.cuda.deviceCount()))"
node --test --test-concurrency=1 dist/test/tensor/cuda.test.js dist/test/tensor/memory.test.js dist/test/tensor/doubleBackward.test.js
node dist/bench/engine.js --device cuda
