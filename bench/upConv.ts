// SPDX-License-Identifier: MIT
// The ×2 upsampling convolution two ways, forward + backward including the FIR, batch 16, on the CPU: upstream's
// transposed conv + FIR (conv2dResample, what src/ runs) and one plain convolution over the four output phases
// (bench/upConvPhases.ts). Prints a table, then one JSON line. Run: npx tsc -p tsconfig.json && node dist/bench/upConv.js
import * as t from '../src/index.js';
import { conv2dResample } from '../src/nn/functional/conv2dResample.js';
import { setupFilter } from '../src/nn/functional/upfirdn2d.js';
import { upConv2d } from './upConvPhases.js';

const reps = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type Up = (x: t.Tensor, w: t.Tensor, f: t.Tensor) => t.Tensor;
const transposed: Up = (x, w, f) => conv2dResample(x, w, { filter: f, up: 2, padding: 1 });
const phases: Up = (x, w, f) => upConv2d(x, w, f, { kernel: 3, padding: 1, flipWeight: false, flipFilter: false });

/** Median ms of one forward + backward of `up` (after one warm-up). */
function time(up: Up, inC: number, outC: number, res: number): number {
  t.manualSeed(0);
  const f = t.keep(setupFilter());
  const x = t.keep(t.randn([16, inC, res, res], { requiresGrad: true }));
  const w = t.keep(t.randn([outC, inC, 3, 3], { requiresGrad: true }));
  const step = () => t.scope(() => t.backward([up(x, w, f).square().mean()]));
  step();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    step();
    ms.push(performance.now() - t0);
  }
  t.dispose([f, x, w]);
  return median(ms);
}

const rows: Record<string, { transposedMs: number; phasesMs: number }> = {};
console.log(`| ×2 up conv, batch 16, fwd+bwd, ${t.getNumThreads()} threads | transposed ms | phases ms |\n|---|---|---|`);
for (const [inC, outC, res] of [
  [128, 128, 8],
  [128, 64, 16],
]) {
  const name = `${inC}→${outC} @${res}`;
  rows[name] = { transposedMs: time(transposed, inC, outC, res), phasesMs: time(phases, inC, outC, res) };
  console.log(`| ${name} | ${rows[name].transposedMs.toFixed(1)} | ${rows[name].phasesMs.toFixed(1)} |`);
}
console.log(JSON.stringify(rows));
