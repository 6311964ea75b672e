// SPDX-License-Identifier: MIT
// The TuxComposite quality benchmark: the whole pipeline (GAN → select → generate → U-Net → adapt → eval) on the
// TuxComposite sets (made by `npm run bench:data`), with the ILS term on and off, for each seed, evaluated on each
// set's test images and masks next to the two trivial baselines. Every run is resumable (runPipeline's stages) in
// <out>/<set>/<ils-on|ils-off>-seed<S>.
//
//   npm run bench:quality -- --recipe cpu --seeds 0,1,2                 # the CPU recipe (src/pipeline/recipes.ts)
//   npm run bench:quality -- --config small64 --kimg 200 --seeds 0      # a preset with the paper's segmentation
//        [--sets animals,objects --threads 2 --out data/tux/quality --adapt on|off --seg-geometric on|off]
//        [--refine on|off: with or without test-time refinement (default: the recipe's)]
//        [--gans k: GANs pooled per run (default: the recipe's)]
//        [--precision fp32|bfloat16|float16|auto: the GAN's training precision (default: the recipe's: bfloat16 on a CPU
//         with native bfloat16, else fp32; without a recipe auto = fp32 on CPUs)]
//        [--ils on|off: only those runs, to run the two halves as two 1-thread processes side by side; a later call
//         without it resumes every finished run from its stage records and prints the whole table]
//
// Prints one JSON line: {"recipe", "sets": {"animals": {"ils_on": {"mean", "sd", "per_seed"}, "ils_off": {…},
// "baselines": {…}, "minutes_per_run"}, …}}.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as t from '../src/index.js';
import { type PresetName, presets } from '../src/models/config.js';
import { runPipeline, type PipelineResult } from '../src/pipeline/pipeline.js';
import { type Precision, precisions } from '../src/run/trainOptions.js';
import { adaptSetting, getRecipe, recipeCpuPrecision, recipeFacts, recipeTrainOptions, refineSetting } from '../src/pipeline/recipes.js';
import { flag } from './flags.js';

const recipeName = flag('recipe') ?? (flag('config') ? undefined : 'cpu');
const recipe = recipeName ? getRecipe(recipeName) : null;
const config = flag('config') as PresetName | undefined;
if (config && !(config in presets)) throw new Error(`unknown config ${config}: ${Object.keys(presets).join(', ')}`);
const kimg = Number(flag('kimg') ?? recipe?.kimg);
const gans = Number(flag('gans') ?? recipe?.gans ?? 1);
if (!(kimg > 0)) throw new Error('--kimg is required without --recipe');
const seeds = (flag('seeds') ?? '0').split(',').map(Number);
const sets = (flag('sets') ?? 'animals').split(',');
const threads = Number(flag('threads') ?? 2);
const outRoot = flag('out') ?? join('data/tux', `quality-${recipeName ?? `${config}-${kimg}kimg`}`);
const onOff = (name: string): boolean | undefined => (flag(name) === undefined ? undefined : flag(name) === 'on');
const adaptFlag = onOff('adapt');
const ilsOnly = onOff('ils');
const geometricFlag = onOff('seg-geometric');
const precision = flag('precision') as Precision | undefined;
if (precision !== undefined && !precisions.includes(precision))
  throw new Error(`--precision must be ${precisions.join(', ')}, got ${precision}`);
t.setNumThreads(threads);

const round = (x: number | null) => (x === null ? null : Number(x.toFixed(4)));
const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean: round(mean), sd: round(sd) };
};

const report: Record<string, unknown> = {};
for (const set of sets) {
  const data = join('data/tux', `TuxComposite-${set}-64`);
  for (const d of ['train/images', 'test/images', 'test/masks']) {
    if (!existsSync(join(data, d))) {
      process.stderr.write(`error: ${join(data, d)} not found\nhint: run \`npm run bench:data\` first\n`);
      process.exit(2);
    }
  }
  const runs: Record<string, PipelineResult[]> = { 'ils-on': [], 'ils-off': [] };
  const minutes: number[] = [];
  for (const seed of seeds) {
    for (const ils of [true, false]) {
      if (ilsOnly !== undefined && ils !== ilsOnly) continue;
      const name = `${ils ? 'ils-on' : 'ils-off'}`;
      const out = join(outRoot, set, `${name}-seed${seed}`);
      process.stderr.write(`--- ${set} ${name} seed ${seed} → ${out}\n`);
      const adapt = adaptSetting(recipe, adaptFlag);
      const r = await runPipeline({
        data: join(data, 'train/images'),
        out,
        config: config ?? recipe!.network,
        kimg,
        gans,
        train: { ils, seed, ...(precision ? { precision } : {}) },
        recipeTrain: recipe ? recipeTrainOptions(recipe, 'cpu') : undefined,
        test: { images: join(data, 'test/images'), masks: join(data, 'test/masks') },
        synthetic: recipe?.synthetic,
        seg: { ...recipe?.seg, ...(geometricFlag === undefined ? {} : { geometric: geometricFlag }) },
        adapt,
        refine: refineSetting(recipe, onOff('refine')),
        facts: recipe ? recipeFacts(recipe) : undefined,
        route: `bench:quality ${name} seed ${seed}`,
        title: `TuxComposite-${set}, ${name}, seed ${seed}`,
        progress: false,
        log: (l) => process.stderr.write(`${l}\n`),
      });
      runs[name]!.push(r);
      minutes.push(Object.values(r.seconds).reduce((a, b) => a + b, 0) / 60);
    }
  }
  if (ilsOnly !== undefined) {
    const name = ilsOnly ? 'ils-on' : 'ils-off';
    console.log(
      JSON.stringify({ set, [name.replace('-', '_')]: runs[name]!.map((r, i) => ({ seed: seeds[i], DRC_IoU: round(r.eval!.DRC_IoU) })) }),
    );
    continue;
  }
  const summary = (rs: PipelineResult[]) => ({
    ...stats(rs.map((r) => r.eval!.DRC_IoU ?? 0)),
    per_seed: rs.map((r, i) => ({ seed: seeds[i], DRC_IoU: round(r.eval!.DRC_IoU), IoU: round(r.eval!.IoU), mIoU: round(r.eval!.mIoU) })),
  });
  const b = runs['ils-on']![0]!.baselines!;
  report[set] = {
    ils_on: summary(runs['ils-on']!),
    ils_off: summary(runs['ils-off']!),
    baselines: { all_foreground: round(b.all_foreground.DRC_IoU), centred_ellipse: round(b.centred_ellipse.DRC_IoU) },
    test_images: runs['ils-on']![0]!.eval!.images,
    minutes_per_run: stats(minutes),
  };
}
console.log(
  JSON.stringify({
    recipe: recipeName ?? null,
    config: config ?? null,
    kimg,
    seeds,
    threads,
    adapt: adaptFlag ?? null,
    gans,
    precision: precision ?? (recipe ? recipeCpuPrecision(recipe) : null),
    sets: report,
  }),
);
