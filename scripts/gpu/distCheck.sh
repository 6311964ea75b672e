#!/usr/bin/env bash
# Issue 17 on a GPU machine (see ../shared/gpu/README.md): build the addon against the image's PyTorch with c10d's
# NCCL, check the process group and training over it, and Gloo on the CPU as the control. Everything it prints
# goes to $OUT/distCheck.log, each check's JSON line to $OUT/results.jsonl, and the last line of stdout is one JSON
# summary: {"check": "distCheck", "pass", "steps": {name: "pass" | "fail …" | "skipped: …"}, "distributed", …}.
#
# Prepare on the CPU machine:  bash ../shared/gpu/pack.sh && npx tsc -p . && bash scripts/gpu/distCheck.sh pack
#   (pack puts the CLI's production dependencies, sharp and commander among them, into .gpu/deps.tar.xz)
# Run there (device tool):     bash scripts/gpu/distCheck.sh        carrying .gpu and dist
# Rehearse on the CPU:         DEVICE=cpu SKIP_BUILD=1 bash scripts/gpu/distCheck.sh
#   (the CUDA steps are skipped; RUN_NCCL=1 runs them anyway, to see them fail cleanly on an addon without NCCL;
#   FORCE_EQUIVALENCE=1 runs the equivalence step on $DEVICE, over Gloo on the CPU)
#
# Steps, each with its own time limit, all within DEADLINE seconds (default 450, under the 8 minutes allowed):
#   build             npm's build script against $TORCH_DIR; build/libtorch.json's "distributed" and why a
#                     backend is missing ("distributed_missing": no headers, or dist.cc did not compile with it)
#   nccl              1 rank of NCCL on cuda:0: all-reduce, broadcast, barrier values (bench/distCheck.ts)
#   nccl_train        ilsgan train --nproc 1 --device cuda (a group of one over NCCL): tiny32, 3 iterations, then
#                     --resume for a 4th
#   gloo              2 ranks of Gloo on the CPU (the control; skipped where the build has no Gloo headers, as
#                     with a pip PyTorch)
#   gloo_train        ilsgan train --nproc 2 --device cpu, 2 iterations
#   nccl_equivalence  2 ranks × batch 8 = 1 process × batch 16 over NCCL on cuda:0 and cuda:1
#                     (test/distributed/equivalence.test.ts); only with 2 GPUs or more: NCCL refuses two ranks on
#                     one GPU
set -uo pipefail
cd "$(dirname "$0")/../.."

if [ "${1:-}" = pack ]; then
  mkdir -p .gpu
  deps=$(npm ls --omit=dev --all --parseable 2> /dev/null | tail -n +2 | sed "s#^$PWD/##")
  # shellcheck disable=SC2086
  tar -cJf .gpu/deps.tar.xz $deps && du -sh .gpu/deps.tar.xz
  exit $?
fi

DEVICE=${DEVICE:-cuda}
OUT=${OUT:-/tmp/ilsgan-gpu-out}
DEADLINE=${DEADLINE:-450}
mkdir -p "$OUT"
LOG=$OUT/distCheck.log
: > "$LOG"
: > "$OUT/results.jsonl"
say() { echo "$*" | tee -a "$LOG"; }
declare -A STEP
ORDER=()
skip() {
  STEP[$1]="skipped: $2"
  ORDER+=("$1")
  say "== $1: skipped ($2)"
}
# step <name> <limit s> <command…>: runs it within its limit and the deadline, logs everything, keeps the JSON
# lines, records pass or fail; never stops the script.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((DEADLINE - SECONDS))
  if [ "$left" -lt 20 ]; then
    skip "$name" "no time left before the ${DEADLINE} s deadline"
    return 1
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  say "== $name: $* (limit ${limit} s)"
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@" > "$OUT/step.txt" 2>&1
  local rc=$?
  cat "$OUT/step.txt" >> "$LOG"
  grep '^{' "$OUT/step.txt" >> "$OUT/results.jsonl"
  grep -v '^{' "$OUT/step.txt" | tail -n 15
  rm -f "$OUT/step.txt"
  if [ "$rc" -eq 0 ]; then STEP[$name]=pass; else STEP[$name]="fail (rc $rc$([ "$rc" -eq 124 ] && echo ', timed out'))"; fi
  ORDER+=("$name")
  say "-- $name: ${STEP[$name]}, $((SECONDS - t0)) s"
  return "$rc"
}

# ilsgan train, then the run folder checked: the backend named in the log, finite losses, one metrics line per
# iteration. train_check <out> <backend> <iterations> <train flags…>
train_check() {
  local out=$1 backend=$2 iterations=$3
  shift 3
  rm -rf "$out"
  node dist/src/cli/main.js train --out "$out" --data demo --demo-n 64 --config tiny32 --snap 1 --no-progress "$@" 2> "$out.err" || {
    tail -n 20 "$out.err"
    return 1
  }
  cat "$out.err"
  node -e "
const fs = require('fs');
const [out, backend, iterations] = process.argv.slice(1);
const err = fs.readFileSync(out + '.err', 'utf8');
const lines = fs.readFileSync(out + '/metrics.jsonl', 'utf8').trim().split('\n').map(JSON.parse);
const bad = [];
if (!new RegExp('^data parallel: \\\\d+ process(es)? over ' + backend + ',', 'm').test(err)) bad.push('no \"data parallel: … over ' + backend + '\" line');
if (lines.length !== Number(iterations)) bad.push(lines.length + ' metrics lines, want ' + iterations);
for (const m of lines) for (const k of ['Loss/G/total', 'Loss/D/real', 'Mask/mean']) if (!Number.isFinite(m[k])) bad.push(k + ' = ' + m[k] + ' at iteration ' + m.iteration);
const last = lines[lines.length - 1] || {};
console.log(JSON.stringify({ check: 'train', backend, out, iterations: lines.length, pass: bad.length === 0, bad, last_loss_g: last['Loss/G/total'], img_per_s: last.img_per_s }));
process.exit(bad.length ? 1 : 0);" "$out" "$backend" "$iterations"
}

nccl_train() {
  local out=$OUT/nccl-run
  train_check "$out" nccl 3 --nproc 1 --device cuda --batch 8 --kimg 0.024 --tick 0.008 || return 1
  node dist/src/cli/main.js train --nproc 1 --resume "$out" --kimg 0.032 --no-progress 2> "$out.err" || {
    tail -n 20 "$out.err"
    return 1
  }
  grep -q 'resumed .* at 0.024 kimg' "$out.err" && [ "$(wc -l < "$out/metrics.jsonl")" -eq 4 ] && echo "resumed over nccl: 4 metrics lines"
}

# The equivalence test on $DEVICE (cuda: over NCCL); a skipped test (no NCCL in the build) is a failure here.
equivalence() {
  ILSGAN_TEST_DIST_DEVICE=$DEVICE node --test dist/test/distributed/equivalence.test.js > "$OUT/equivalence.txt" 2>&1
  local rc=$?
  cat "$OUT/equivalence.txt"
  [ "$rc" -eq 0 ] && grep -q '^# pass 1$' "$OUT/equivalence.txt"
}

# step runs commands under timeout, which sees no shell functions: these run as `bash -c name`.
export OUT DEVICE
export -f train_check nccl_train equivalence

GPUS=0
if [ "$DEVICE" != cpu ]; then
  # shellcheck disable=SC1091
  source .gpu/env.sh
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$LOG"
  GPUS=$(nvidia-smi -L | grep -c '^GPU ')
fi
GPUS=${GPUS:-0}
say "GPUs: $GPUS"
# The CLI's dependencies (carried packed: the GPU machine has no npm).
if [ ! -d node_modules/commander ] && [ -f .gpu/deps.tar.xz ]; then tar -xJf .gpu/deps.tar.xz; fi

if [ -n "${SKIP_BUILD:-}" ]; then
  skip build "SKIP_BUILD is set"
else
  step build 300 node scripts/buildNative.mjs
fi
DIST=$(node -e "try { const r = require('./build/libtorch.json'); console.log(JSON.stringify({ distributed: r.distributed ?? null, missing: r.distributed_missing ?? null, version: r.version, route: r.route, cuda: r.cuda })) } catch { console.log('{}') }")
say "build: $DIST"
has() { node -e "process.exit((require('./build/libtorch.json').distributed || '').split(', ').includes('$1') ? 0 : 1)" 2> /dev/null; }

if [ "$DEVICE" = cpu ] && [ -z "${RUN_NCCL:-}" ]; then
  skip nccl "DEVICE=cpu"
  skip nccl_train "DEVICE=cpu"
else
  step nccl 90 node dist/bench/distCheck.js --backend nccl --world 1 --device cuda --timeout-ms 60000
  step nccl_train 150 bash -c nccl_train
fi
if has gloo; then
  step gloo 60 node dist/bench/distCheck.js --backend gloo --world 2 --device cpu
  step gloo_train 120 bash -c 'train_check "$OUT/gloo-run" gloo 2 --nproc 2 --device cpu --batch 4 --kimg 0.008 --tick 0.004'
else
  skip gloo "the addon has no Gloo"
  skip gloo_train "the addon has no Gloo"
fi
if [ "$GPUS" -ge 2 ] || [ -n "${FORCE_EQUIVALENCE:-}" ]; then
  step nccl_equivalence 180 bash -c equivalence
else
  skip nccl_equivalence "$GPUS GPU(s): NCCL needs one GPU per rank"
fi

steps=""
for name in "${ORDER[@]}"; do steps+="$name=${STEP[$name]}"$'\n'; done
STEPS="$steps" node -e "
const steps = Object.fromEntries(process.env.STEPS.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const dist = JSON.parse(process.argv[1]);
const pass = Object.values(steps).every((s) => s === 'pass' || (s.startsWith('skipped') && !s.includes('no time left')));
console.log(JSON.stringify({ check: 'distCheck', device: process.argv[2], gpus: Number(process.argv[3]), pass, steps, ...dist, seconds: Number(process.argv[4]) }));
" "$DIST" "$DEVICE" "$GPUS" "$SECONDS" | tee -a "$LOG" | tee -a "$OUT/results.jsonl"
