// SPDX-License-Identifier: MIT
// Training benchmark: full ILSGAN iterations (Gmain, Dmain, lazy Dreg every 16th, G_ema; ILS on) on random
// reals, timed per phase after a warm-up. The measured window is a whole number of Dreg periods so the
// lazy-regularisation mix is exact.
//
//   npm run bench:train -- --config tiny32 --device cpu [--batch 16] [--aug-p 0.2] [--periods 1] [--threads N]
//       [--precision auto|fp32|float16|bfloat16] [--tf32] [--cudnn-benchmark] [--launch-proxy] [--top K]
//
// --precision: mixed precision in the config's top numFp16Res resolutions (spec §3.7); 'auto' = float16 on a
// GPU, fp32 on the CPU. --tf32 / --cudnn-benchmark switch those GPU settings on. The GPU figure of issue 6 is
// s/kimg = seconds per 1000 images shown to D.
//
// The issue's CPU reference (official code, Debian PyTorch 1.13, this 2-core machine): tiny32, batch 16,
// ADA p = 0.2, ILS on: 2.2–2.4 s/iteration. Prints a table, then one JSON line:
// {"config", "device", "batch", "img_per_s", "s_per_iter", "ms_per_iter": {phase: ms}, ...}.
import * as t from '../src/index.js';
import { defaultTrainOptions, type Precision } from '../src/train/options.js';
import { IlsTrainer } from '../src/train/trainer.js';
import { flag, presetFlag, withChannels } from './flags.js';

const { configName, preset } = presetFlag();
const device = (flag('device') ?? 'cpu') as t.Device;
// --launch-proxy: the preset's topology (every layer, every op) with 8 channels everywhere, so the CPU time of an
// iteration is mostly host-side dispatch: the floor a launch-bound GPU iteration cannot go below.
const launchProxy = process.argv.includes('--launch-proxy');
const net = launchProxy ? withChannels(preset, 8) : preset;
const batch = Number(flag('batch') ?? (configName === 'tiny32' || configName === 'small64' ? 16 : 32));
const augP = Number(flag('aug-p') ?? 0.2);
const periods = Number(flag('periods') ?? 1);
if (flag('threads')) t.setNumThreads(Number(flag('threads')));
const precision = (flag('precision') ?? 'auto') as Precision;
const tf32 = process.argv.includes('--tf32');
const cudnnBenchmark = process.argv.includes('--cudnn-benchmark');
if (device !== 'cpu') {
  t.setTf32(tf32);
  t.setCudnnBenchmark(cudnnBenchmark);
}
const sync = () => {
  if (device !== 'cpu') t.cuda.synchronize();
};

t.manualSeed(0);
const trainer = new IlsTrainer(net, { ...defaultTrainOptions, batch, adaInitialP: augP, adaFixed: true, precision }, device);
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
// (autograd nodes excluded), and host reads (`item`, `toArray`: on a GPU each waits for the device's queue to
// drain). Issue 6 counts these on the CPU before a GPU is at hand.
const readsBefore = t.hostReads();
const census = t.profile(
  () => {
    for (let i = 0; i < interval; i++) trainer.step(reals);
    sync();
  },
  { byCaller: true },
);
const syncsPerIter = (t.hostReads() - readsBefore) / interval;
// Rows are "caller > op": all aten rows are every dispatch (nested ones included, e.g. a view's as_strided);
// " > aten::" rows are top-level calls (from TypeScript or the addon's list helpers); backward nodes are autograd's.
const perIter = (rows: typeof census.ops) => rows.reduce((a, r) => a + r.count, 0) / interval;
const atenRows = census.ops.filter((r) => r.name.split(' > ')[1].startsWith('aten::'));
const opsPerIter = perIter(atenRows);
const issuedPerIter = perIter(census.ops.filter((r) => r.name.startsWith(' > aten::')));
const nodesPerIter = perIter(census.ops.filter((r) => r.name.startsWith(' > autograd::engine::evaluate_function')));
const byOp = new Map<string, number>();
for (const r of atenRows) {
  const op = r.name.split(' > ')[1].slice(6);
  byOp.set(op, (byOp.get(op) ?? 0) + r.count);
}
const topOps = [...byOp]
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(flag('top') ?? 8))
  .map(([k, v]) => `${k} ${(v / interval).toFixed(0)}`);
console.log(
  `op census per iteration: ${opsPerIter.toFixed(0)} aten dispatches (${issuedPerIter.toFixed(0)} top-level, ` +
    `${nodesPerIter.toFixed(0)} backward nodes), ${syncsPerIter.toFixed(2)} host reads; most frequent: ${topOps.join(', ')}`,
);

const msPerIter = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Number((v / iterations).toFixed(1))]));
const sPerIter = totalMs / iterations / 1000;
const sPerKimg = (sPerIter / batch) * 1000;
const settings = `precision ${precision}${device !== 'cpu' ? `, tf32 ${tf32 ? 'on' : 'off'}, cudnn benchmark ${cudnnBenchmark ? 'on' : 'off'}` : ''}`;
console.log(
  `ilsgan training benchmark: ${configName}${launchProxy ? ' (launch proxy: 8 channels)' : ''}, ${device}, batch ${batch}, ADA p ${augP} (fixed), ILS on, ${settings}, ${t.getNumThreads()} threads`,
);
console.log(
  `${iterations} iterations (Dreg every ${interval}): ${sPerIter.toFixed(3)} s/iteration, ${(batch / sPerIter).toFixed(1)} img/s, ${sPerKimg.toFixed(2)} s/kimg`,
);
for (const [k, v] of Object.entries(msPerIter)) console.log(`  ${k.padEnd(6)} ${String(v).padStart(8)} ms/iteration`);
console.log(
  JSON.stringify({
    config: configName,
    launch_proxy: launchProxy,
    device,
    precision,
    tf32,
    cudnn_benchmark: cudnnBenchmark,
    batch,
    aug_p: augP,
    threads: t.getNumThreads(),
    iterations,
    s_per_iter: Number(sPerIter.toFixed(4)),
    img_per_s: Number((batch / sPerIter).toFixed(2)),
    s_per_kimg: Number(sPerKimg.toFixed(3)),
    ms_per_iter: msPerIter,
    aten_ops_per_iter: Math.round(opsPerIter),
    top_level_ops_per_iter: Math.round(issuedPerIter),
    backward_nodes_per_iter: Math.round(nodesPerIter),
    host_reads_per_iter: Number(syncsPerIter.toFixed(3)),
  }),
);
trainer.dispose();
