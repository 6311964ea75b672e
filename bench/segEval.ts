// SPDX-License-Identifier: MIT
// The segmentation half of the pipeline for one GAN checkpoint, for the quality curve (docs/quality.md):
// generate → seg-train → (adapt) → eval on real test images, each variant in its own folder, one JSON line out.
//
//   node dist/bench/segEval.js --run data/tux/runs/a32-ils-s0 --checkpoint ckpt-000020000 \
//        --test data/tux/TuxComposite-animals-64/test --out data/tux/seg/a32-ils-s0-20 \
//        [--n 4000 --iters 1000 --width 16 --batch 32 --adapt on --adapt-rounds 2 --adapt-iters 400 --threads 2]
//        [--colour on --pairwise 2 --balanced on: the adaptation's colour-refined pseudo-labels, balanced histograms]
//        [--levels 8 --mean-field 5 --colour-rounds 2 --smoothing 1: those pseudo-labels' histogram levels per channel,
//         mean-field iterations, EM rounds and pseudo-count]
//        [--photo-share 0.5 --max-photos 4000: the adaptation's share of real photos per minibatch, photos labelled]
//        [--saliency W --saliency-threshold 0.5: the boundary saliency in the adaptation's pseudo-labels (colour on)]
//        [--seed S: the U-Net's and the adaptation's seed (0)]
//        [--size S: the U-Net's side (the GAN's, at most 64): synthetic pairs, photos and scoring at S²]
//        [--untrained on: no stage 1 (the U-Net in OUT/untrained takes one step on the synthetic pairs, i.e. it is
//         untrained); with --photo-share 1 the adaptation then never trains on a GAN image: a baseline without the GAN]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as t from '../src/index.js';
import { loadTrainingImages } from '../src/data/imageFolder.js';
import { synthesize } from '../src/gen/synthesize.js';
import { adaptSegmenter } from '../src/seg/adapt.js';
import { loadSyntheticLayers, loadSyntheticSet } from '../src/seg/data.js';
import { evaluateSegmenter } from '../src/seg/evaluate.js';
import { trainSegmenter } from '../src/seg/train.js';
import { readCheckpointState } from '../src/run/checkpoint.js';
import { flag } from './flags.js';

const run = flag('run')!;
const checkpoint = flag('checkpoint');
const test = flag('test') ?? 'data/tux/TuxComposite-animals-64/test';
const out = flag('out')!;
const n = Number(flag('n') ?? 4000);
const iters = Number(flag('iters') ?? 1000);
const width = Number(flag('width') ?? 16);
const batch = Number(flag('batch') ?? 32);
const adapt = flag('adapt') === 'on';
const seed = Number(flag('seed') ?? 0);
t.setNumThreads(Number(flag('threads') ?? 2));
const seconds: Record<string, number> = {};
const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
  const s = Date.now();
  const r = await f();
  seconds[name] = (Date.now() - s) / 1000;
  return r;
};
const synthDir = join(out, 'synthetic');
if (!existsSync(join(synthDir, 'manifest.json'))) await timed('generate', () => synthesize({ run, checkpoint, n, out: synthDir }));
const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as { net: { resolution: number } };
const size = Number(flag('size') ?? Math.min(64, config.net.resolution));
const set = await loadSyntheticSet(synthDir, { size });
const untrained = flag('untrained') === 'on';
const segDir = join(out, untrained ? 'untrained' : 'segmenter');
const seg =
  existsSync(join(segDir, 'model.json')) && flag('reuse') === 'on'
    ? { bestValIoU: null }
    : await timed('segtrain', () =>
        trainSegmenter({
          synthetic: set,
          out: segDir,
          iterations: untrained ? 1 : iters,
          seed,
          width,
          batch,
          size,
          valEvery: Math.max(1, Math.floor(iters / 4)),
          geometric: flag('geometric') === 'on',
          progress: false,
          log: () => {},
        }),
      );
const score = async (model: string) => {
  const r = await evaluateSegmenter({ model, images: join(test, 'images'), masks: join(test, 'masks'), baselines: true });
  return {
    DRC_IoU: r.DRC_IoU,
    IoU: r.IoU,
    mIoU: r.mIoU,
    ellipse: r.baselines!.centred_ellipse.DRC_IoU,
    allFg: r.baselines!.all_foreground.DRC_IoU,
  };
};
const result: Record<string, unknown> = {
  run,
  checkpoint,
  n,
  iters,
  width,
  batch,
  geometric: flag('geometric') === 'on',
  valIoU: seg.bestValIoU,
  stage1: await score(segDir),
};
if (adapt) {
  const photos = await loadTrainingImages(readCheckpointState(run).state.data, size, {
    cachePath: size === config.net.resolution ? join(run, 'dataset-cache.u8') : undefined,
  });
  const adaptDir = join(out, flag('adapt-name') ?? 'adapted');
  const paste = Number(flag('paste') ?? 0);
  const layers = paste > 0 ? await loadSyntheticLayers(set) : undefined;
  const a = await timed('adapt', () =>
    adaptSegmenter({
      model: segDir,
      photos,
      synthetic: set,
      out: adaptDir,
      rounds: Number(flag('adapt-rounds') ?? 2),
      iterations: Number(flag('adapt-iters') ?? 400),
      confidence: Number(flag('confidence') ?? 0.8),
      lr: Number(flag('adapt-lr') ?? 2e-4),
      photoShare: Number(flag('photo-share') ?? 0.5),
      maxPhotos: Number(flag('max-photos') ?? 4000),
      seed,
      geometric: flag('geometric') === 'on',
      progress: false,
      paste,
      layers,
      colour:
        flag('colour') === 'on'
          ? {
              strength: Number(flag('colour-strength') ?? 2),
              pairwise: Number(flag('pairwise') ?? 0),
              ...(flag('levels') ? { levels: Number(flag('levels')) } : {}),
              ...(flag('mean-field') ? { meanField: Number(flag('mean-field')) } : {}),
              ...(flag('colour-rounds') ? { rounds: Number(flag('colour-rounds')) } : {}),
              ...(flag('smoothing') ? { smoothing: Number(flag('smoothing')) } : {}),
              ...(flag('balanced') === 'on' ? { balanced: true } : {}),
              ...(flag('bilateral')
                ? {
                    bilateral: Number(flag('bilateral')),
                    bilateralSpatial: Number(flag('bilateral-xy') ?? 6),
                    bilateralColour: Number(flag('bilateral-rgb') ?? 16),
                  }
                : {}),
              ...(flag('saliency')
                ? { saliency: Number(flag('saliency')), saliencyThreshold: Number(flag('saliency-threshold') ?? 0.5) }
                : {}),
            }
          : null,
    }),
  );
  result.adapt = { colour: flag('colour') === 'on', paste, rounds: a.rounds, ...(await score(adaptDir)) };
}
result.seconds = seconds;
console.log(JSON.stringify(result));
