// SPDX-License-Identifier: MIT
// A ceiling for the unsupervised pipeline (docs/quality.md, session 9): the recipe's U-Net trained on real test photos
// *with their true masks* and scored on the rest of the test set. Not a method (it uses the masks the pipeline never
// sees); it says how far the segmenter could go if its labels were right.
//
//   node dist/bench/supervisedCeiling.js [--test data/tux/TuxComposite-animals-64/test --train-n 1000 --iters 1000
//        --width 16 --size 32 --batch 32 --threads 2 --out data/tux/ceiling-animals]
//
// The test pairs sorted by name: the first `train-n` are linked into OUT/train/{images,masks} (the masks under their
// image's name, as seg-train pairs them) and trained on as seg-train does (90 % train, 10 % validation, the best
// validation IoU kept); the rest are linked into OUT/test and scored with and without the recipe's test-time
// refinement. Prints one JSON line.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as t from '../src/index.js';
import { cpuRecipe } from '../src/pipeline/recipes.js';
import { loadSyntheticSet } from '../src/seg/data.js';
import { evaluateSegmenter, pairImagesWithMasks } from '../src/seg/evaluate.js';
import { trainSegmenter } from '../src/seg/train.js';
import { flag } from './flags.js';

const test = flag('test') ?? 'data/tux/TuxComposite-animals-64/test';
const trainN = Number(flag('train-n') ?? 1000);
const iterations = Number(flag('iters') ?? 1000);
const width = Number(flag('width') ?? 16);
const size = Number(flag('size') ?? 32);
const batch = Number(flag('batch') ?? 32);
const out = flag('out') ?? join('data/tux', `ceiling-${basename(resolve(test, '..'))}`);
t.setNumThreads(Number(flag('threads') ?? 2));

const pairs = pairImagesWithMasks(join(test, 'images'), join(test, 'masks')).sort((a, b) => (a.stem < b.stem ? -1 : 1));
if (!(trainN >= 2 && trainN < pairs.length)) throw new RangeError(`--train-n must be in [2, ${pairs.length - 1}], got ${trainN}`);
const link = (dir: string, chosen: typeof pairs, maskUnderImageName: boolean) => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  for (const p of chosen) {
    symlinkSync(resolve(p.image), join(dir, 'images', basename(p.image)));
    symlinkSync(resolve(p.mask), join(dir, 'masks', maskUnderImageName ? basename(p.image) : basename(p.mask)));
  }
};
link(join(out, 'train'), pairs.slice(0, trainN), true);
link(join(out, 'test'), pairs.slice(trainN), false);

const started = Date.now();
const model = join(out, 'segmenter');
const trained = await trainSegmenter({
  synthetic: await loadSyntheticSet(join(out, 'train'), { size }),
  out: model,
  iterations,
  width,
  batch,
  size,
  valEvery: Math.max(1, Math.floor(iterations / 4)),
  progress: false,
  log: () => {},
});
const score = async (refine: boolean) => {
  const r = await evaluateSegmenter({
    model,
    images: join(out, 'test', 'images'),
    masks: join(out, 'test', 'masks'),
    refine: refine ? cpuRecipe.refine! : false,
    baselines: true,
  });
  return { DRC_IoU: r.DRC_IoU, IoU: r.IoU, ellipse: r.baselines!.centred_ellipse.DRC_IoU, images: r.images };
};
console.log(
  JSON.stringify({
    test,
    trainN,
    testN: pairs.length - trainN,
    iterations,
    width,
    size,
    bestValIoU: trained.bestValIoU,
    bestIteration: trained.bestIteration,
    plain: await score(false),
    refined: await score(true),
    seconds: (Date.now() - started) / 1000,
  }),
);
