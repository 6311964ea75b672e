// SPDX-License-Identifier: MIT
// Correctness check for the fast paths (issue 6): the same training iterations from one seed, once in float32
// and once with a faster setting, must give the same losses within a tolerance. Exits 1 when they do not.
//
//   node dist/bench/trainCheck.js --config ils64 --device cuda [--variant float16|bfloat16|tf32] [--iters 4]
//       [--batch 32] [--channels C] [--rtol 0.05] [--atol 0.02]
//
// --variant: float16 / bfloat16 = mixed precision in the config's top numFp16Res resolutions (spec §3.7);
// tf32 = TensorFloat-32 matmuls and convolutions on the GPU. Default: float16 on a GPU, bfloat16 on the CPU.
// --channels shrinks every layer to C channels (a quick CPU run of the full topology).
import * as t from '../src/index.js';
import { defaultTrainOptions, type Precision } from '../src/train/options.js';
import { IlsTrainer } from '../src/train/trainer.js';
import { flag, presetFlag, withChannels } from './flags.js';

const { configName, preset } = presetFlag();
const device = (flag('device') ?? 'cpu') as t.Device;
const variant = flag('variant') ?? (device === 'cpu' ? 'bfloat16' : 'float16');
if (!['float16', 'bfloat16', 'tf32'].includes(variant)) throw new Error(`--variant must be float16, bfloat16 or tf32, got ${variant}`);
const channels = flag('channels') ? Number(flag('channels')) : null;
const net = channels ? withChannels(preset, channels) : preset;
const batch = Number(flag('batch') ?? (device === 'cpu' ? 8 : 32));
const iters = Number(flag('iters') ?? 4);
const rtol = Number(flag('rtol') ?? 0.05);
const atol = Number(flag('atol') ?? 0.02);

/** Per-iteration losses of `iters` steps (the first with R1) from seed 0 on fixed random reals. */
function run(precision: Precision, tf32: boolean): Record<string, number>[] {
  if (device !== 'cpu') t.setTf32(tf32);
  t.manualSeed(0);
  const trainer = new IlsTrainer(net, { ...defaultTrainOptions, batch, adaInitialP: 0.2, adaFixed: true, precision }, device);
  const reals = t.keep(t.rand([batch, 3, net.resolution, net.resolution], { device }).mul(2).sub(1));
  const out: Record<string, number>[] = [];
  try {
    for (let i = 0; i < iters; i++) {
      trainer.step(reals);
      out.push(trainer.stats.read());
    }
  } finally {
    reals.dispose();
    trainer.dispose();
  }
  return out;
}

const reference = run('fp32', false);
const fast = variant === 'tf32' ? run('fp32', true) : run(variant as Precision, false);
if (device !== 'cpu') t.setTf32(false);

let worst = { key: '', iter: 0, ref: 0, got: 0, excess: -Infinity };
const rows: string[] = [];
for (let i = 0; i < iters; i++) {
  for (const [key, ref] of Object.entries(reference[i])) {
    const got = fast[i][key];
    const excess = Math.abs(got - ref) - (atol + rtol * Math.abs(ref));
    if (!Number.isFinite(got) || excess > worst.excess)
      worst = { key, iter: i, ref, got, excess: Number.isFinite(got) ? excess : Infinity };
    if (i === iters - 1) rows.push(`  ${key.padEnd(22)} ${ref.toFixed(5).padStart(10)} ${got.toFixed(5).padStart(10)}`);
  }
}
console.log(
  `training check: ${configName}${channels ? ` (${channels} channels)` : ''}, ${device}, batch ${batch}, ${iters} iterations, fp32 vs ${variant}`,
);
console.log(`  ${'loss (last iteration)'.padEnd(22)} ${'fp32'.padStart(10)} ${variant.padStart(10)}`);
for (const r of rows) console.log(r);
const ok = worst.excess <= 0;
console.log(
  `${ok ? 'PASS' : 'FAIL'}: worst ${worst.key} at iteration ${worst.iter}: fp32 ${worst.ref.toFixed(5)}, ${variant} ${worst.got.toFixed(5)} ` +
    `(tolerance ${atol} + ${rtol}·|fp32|)`,
);
console.log(JSON.stringify({ check: 'train', config: configName, device, variant, batch, iters, pass: ok, worst }));
process.exitCode = ok ? 0 : 1;
