// SPDX-License-Identifier: MIT
// Engine benchmark: our addon against PyTorch (Debian's python3-torch, same libtorch, same thread count) on
// (1) a 3×3 conv forward+backward, batch 16, 64→64 channels, 64×64, and (2) a loop of small elementwise ops.
// `--device cuda` runs both sides on the GPU. Prints a table, then one JSON line:
// {"conv_fwd_bwd_ratio": ours/pytorch, "small_op_ratio": ours/pytorch, ...}.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as t from '../src/index.js';

const python = process.env.ILSGAN_BENCH_PYTHON ?? '/usr/bin/python3';
const threads = t.getNumThreads();
const deviceArg = process.argv.indexOf('--device');
const device = (deviceArg > 0 ? process.argv[deviceArg + 1] : 'cpu') as t.Device;
const sync = () => {
  if (device !== 'cpu') t.cuda.synchronize();
};
const reps = 7;
const convIters = 5;
const smallIters = 20_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function ours(): { convMs: number; smallOpUs: number; conv: number[]; small: number[] } {
  t.manualSeed(0);
  const x = t.keep(t.randn([16, 64, 64, 64], { device, requiresGrad: true }));
  const w = t.keep(t.randn([64, 64, 3, 3], { device, requiresGrad: true }));
  const convStep = () =>
    t.scope(() => {
      const y = t.nn.conv2d(x, w, null, { padding: 1 });
      y.backward(t.onesLike(y));
      x.grad = null;
      w.grad = null;
    });
  for (let i = 0; i < 2; i++) convStep();
  sync();
  const conv: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < convIters; i++) convStep();
    sync();
    conv.push((performance.now() - t0) / convIters);
  }
  const a = t.keep(t.randn([16], { device }));
  const b = t.keep(t.randn([16], { device }));
  // Each op's result is freed right away (as Python's refcount does), inside a scope as training code runs.
  const smallLoop = (n: number) =>
    t.scope(() => {
      for (let i = 0; i < n; i++) {
        a.add(b).dispose();
        a.mul(b).dispose();
        a.mul(0.5).dispose();
        a.sigmoid().dispose();
      }
    });
  smallLoop(1000);
  const small: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    smallLoop(smallIters);
    sync();
    small.push(((performance.now() - t0) / (smallIters * 4)) * 1e3);
  }
  t.dispose([x, w, a, b]);
  return { convMs: median(conv), smallOpUs: median(small), conv, small };
}

function pytorch(): { torch: string; threads: number; conv_ms: number; small_op_us: number } {
  const script = fileURLToPath(new URL('../../bench/pytorchRef.py', import.meta.url));
  if (!existsSync(python)) throw new Error(`${python} not found: install Debian's PyTorch (apt-get install python3-torch)`);
  const r = spawnSync(python, [script, String(threads), String(reps), String(convIters), String(smallIters), device], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(threads) },
  });
  if (r.status !== 0) {
    throw new Error(`PyTorch reference failed (needs Debian's python3-torch: apt-get install python3-torch):\n${r.stderr}`);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

// Alternate the two sides so that machine noise hits both.
const mine = ours();
const ref = pytorch();
const mine2 = ours();
const convMs = Math.min(mine.convMs, mine2.convMs);
const smallUs = Math.min(mine.smallOpUs, mine2.smallOpUs);
const rows = [
  ['work', 'ilsgan (Node)', 'PyTorch (Python)', 'ratio'],
  ['conv 3×3 fwd+bwd, 16×64×64×64 (ms)', convMs.toFixed(2), ref.conv_ms.toFixed(2), (convMs / ref.conv_ms).toFixed(3)],
  ['small elementwise op (µs)', smallUs.toFixed(2), ref.small_op_us.toFixed(2), (smallUs / ref.small_op_us).toFixed(3)],
];
const info = t.buildInfo();
console.log(`libtorch ${info.torchVersion} (ours) vs torch ${ref.torch} (Python); threads ${threads} vs ${ref.threads}`);
for (const row of rows) console.log(`${row[0].padEnd(38)} ${row[1].padStart(14)} ${row[2].padStart(17)} ${row[3].padStart(7)}`);
console.log(
  JSON.stringify({
    conv_fwd_bwd_ratio: Number((convMs / ref.conv_ms).toFixed(4)),
    small_op_ratio: Number((smallUs / ref.small_op_us).toFixed(4)),
    conv_ms: { ours: Number(convMs.toFixed(3)), pytorch: Number(ref.conv_ms.toFixed(3)) },
    small_op_us: { ours: Number(smallUs.toFixed(3)), pytorch: Number(ref.small_op_us.toFixed(3)) },
    threads,
    device,
    torch: info.torchVersion,
  }),
);
