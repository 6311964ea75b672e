// SPDX-License-Identifier: MIT
// Training benchmark: full ILSGAN iterations (Gmain, Dmain, lazy Dreg every 16th, G_ema; ILS on) on random
// reals, timed per phase after a warm-up. The measured window is a whole number of Dreg periods so the
// lazy-regularisation mix is exact.
//
//   npm run bench:train -- --config tiny32 --device cpu [--batch 16] [--aug-p 0.2] [--periods 1] [--threads N]
//
// The CPU reference (official code, Debian PyTorch 1.13, this 2-core machine): tiny32, batch 16,
// ADA p = 0.2, ILS on: 2.2–2.4 s/iteration. Prints a table, then one JSON line:
// {"config", "device", "batch", "img_per_s", "s_per_iter", "ms_per_iter": {phase: ms}, ...}.
import { presets, type PresetName } from '../src/models/config.js';
import * as t from '../src/index.js';
import { defaultTrainOptions } from '../src/train/options.js';
import { IlsTrainer } from '../src/train/trainer.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const configName = (flag('config') ?? 'tiny32') as PresetName;
if (!(configName in presets)) throw new Error(`unknown config ${configName}: ${Object.keys(presets).join(', ')}`);
const device = (flag('device') ?? 'cpu') as t.Device;
const net = presets[configName];
const batch = Number(flag('batch') ?? (configName === 'tiny32' || configName === 'small64' ? 16 : 32));
const augP = Number(flag('aug-p') ?? 0.2);
const periods = Number(flag('periods') ?? 1);
if (flag('threads')) t.setNumThreads(Number(flag('threads')));
const sync = () => {
  if (device !== 'cpu') t.cuda.synchronize();
};

t.manualSeed(0);
const trainer = new IlsTrainer(net, { ...defaultTrainOptions, batch, adaInitialP: augP, adaFixed: true }, device);
const reals = t.keep(t.rand([batch, 3, net.resolution, net.resolution], { device }).mul(2).sub(1));
const interval = trainer.opts.dRegInterval;

// Warm-up: two iterations (one of them with Dreg), then align to the start of a Dreg period.
for (let i = 0; i < 2; i++) trainer.step(reals);
sync();

const phases = { gMain: 0, dMain: 0, dReg: 0, ema: 0 };
const time = (name: keyof typeof phases, f: () => void) => {
  const t0 = performance.now();
  f();
  sync();
  phases[name] += performance.now() - t0;
};
const iterations = interval * periods;
const started = performance.now();
for (let i = 0; i < iterations; i++) {
  time('gMain', () => trainer.gMain(batch));
  time('dMain', () => trainer.dMain(reals));
  if (i % interval === 0) time('dReg', () => trainer.dReg(reals));
  time('ema', () => trainer.updateEma(batch));
  trainer.curNimg += batch;
  trainer.iteration++;
}
const totalMs = performance.now() - started;
const losses = trainer.stats.read();
for (const [k, v] of Object.entries(losses)) {
  if (!Number.isFinite(v)) throw new Error(`non-finite ${k} during the benchmark`);
}

// Op census over one more Dreg period, under libtorch's op hooks (not timed): ops dispatched per iteration
// (autograd nodes excluded), and host synchronisations (`item`/`_local_scalar_dense`: a device→host read that
// stalls a GPU queue). Issue 6 counts these on the CPU before a GPU is at hand.
const census = t.profile(() => {
  for (let i = 0; i < interval; i++) trainer.step(reals);
  sync();
});
const dispatched = census.ops.filter((r) => r.name.startsWith('aten::'));
const opsPerIter = dispatched.reduce((a, r) => a + r.count, 0) / interval;
const syncsPerIter = dispatched.filter((r) => r.name === 'aten::_local_scalar_dense').reduce((a, r) => a + r.count, 0) / interval;
const topOps = [...dispatched].sort((a, b) => b.count - a.count).slice(0, 8).map((r) => `${r.name.slice(6)} ${(r.count / interval).toFixed(0)}`);
console.log(`op census: ${opsPerIter.toFixed(0)} aten ops/iteration, ${syncsPerIter.toFixed(2)} host syncs/iteration; most frequent: ${topOps.join(', ')}`);

const perIter = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Number((v / iterations).toFixed(1))]));
const sPerIter = totalMs / iterations / 1000;
console.log(`ilsgan training benchmark: ${configName}, ${device}, batch ${batch}, ADA p ${augP} (fixed), ILS on, ${t.getNumThreads()} threads`);
console.log(`${iterations} iterations (Dreg every ${interval}): ${sPerIter.toFixed(3)} s/iteration, ${(batch / sPerIter).toFixed(1)} img/s`);
for (const [k, v] of Object.entries(perIter)) console.log(`  ${k.padEnd(6)} ${String(v).padStart(8)} ms/iteration`);
console.log(
  JSON.stringify({
    config: configName,
    device,
    batch,
    aug_p: augP,
    threads: t.getNumThreads(),
    iterations,
    s_per_iter: Number(sPerIter.toFixed(4)),
    img_per_s: Number((batch / sPerIter).toFixed(2)),
    ms_per_iter: perIter,
    aten_ops_per_iter: Math.round(opsPerIter),
    host_syncs_per_iter: Number(syncsPerIter.toFixed(3)),
  }),
);
trainer.dispose();
