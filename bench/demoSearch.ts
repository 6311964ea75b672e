// SPDX-License-Identifier: MIT
// How the demo's configuration was chosen: runs the demo pipeline (procedural data, GAN, generate, U-Net, eval
// on the procedural test set with both baselines) with one variant of the GAN settings, and prints one JSON line
// with the metrics and the wall time of every stage. The README's demo table comes from these runs.
//
//   npm run bench:demo -- --variant demo            # the demo recipe itself
//   npm run bench:demo -- --variant no-prior        # without the fading mask prior
//   npm run bench:demo -- --variant paper-losses    # no prior, no upper mask hinge: the paper's losses
//   npm run bench:demo -- --variant ils-off         # the demo recipe without the ILS term
//   [--kimg K] [--threads N] [--seed S] [--out DIR]
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as t from '../src/index.js';
import type { NetworkConfig } from '../src/models/config.js';
import { demoNetwork, demoRecipe, demoTrainOptions } from '../src/pipeline/demo.js';
import { runPipeline } from '../src/pipeline/pipeline.js';
import type { TrainOptions } from '../src/train/options.js';
import { flag } from './flags.js';

const { maskPrior: _p, maskPriorKimg: _k, ...noPrior } = demoNetwork;
const variants: Record<string, { net: NetworkConfig; train: Partial<TrainOptions> }> = {
  demo: { net: demoNetwork, train: demoTrainOptions },
  'no-prior': { net: noPrior, train: demoTrainOptions },
  'paper-losses': { net: noPrior, train: { ...demoTrainOptions, maxMaskSize: null } },
  'ils-off': { net: demoNetwork, train: { ...demoTrainOptions, ils: false } },
};
const name = flag('variant') ?? 'demo';
const v = variants[name];
if (!v) throw new Error(`unknown variant ${name}: ${Object.keys(variants).join(', ')}`);
if (flag('threads')) t.setNumThreads(Number(flag('threads')));
const recipe = demoRecipe(false);
const kimg = Number(flag('kimg') ?? recipe.kimg);
const seed = Number(flag('seed') ?? 0);
const out = flag('out') ?? join(tmpdir(), `ilsgan-bench-demo-${name}-${kimg}-${seed}`);
rmSync(out, { recursive: true, force: true });

const r = await runPipeline({
  data: 'demo',
  out,
  config: v.net,
  kimg,
  train: { ...v.train, seed },
  demoCount: recipe.demoCount,
  synthetic: recipe.synthetic,
  seg: recipe.seg,
  testCount: recipe.testCount,
  route: `bench:demo variant ${name}`,
  progress: false,
  log: (l) => process.stderr.write(`${l}\n`),
});
const round = (x: number | null) => (x === null ? null : Number(x.toFixed(4)));
console.log(
  JSON.stringify({
    variant: name,
    kimg,
    seed,
    threads: t.getNumThreads(),
    DRC_IoU: round(r.eval!.DRC_IoU),
    DRC_DICE: round(r.eval!.DRC_DICE),
    IoU: round(r.eval!.IoU),
    baselines: { all_foreground: round(r.baselines!.all_foreground.DRC_IoU), centred_ellipse: round(r.baselines!.centred_ellipse.DRC_IoU) },
    seconds: Object.fromEntries(Object.entries(r.seconds).map(([k, s]) => [k, Number(s.toFixed(1))])),
    report: r.report,
  }),
);
