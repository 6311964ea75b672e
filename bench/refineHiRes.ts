// SPDX-License-Identifier: MIT
// Two checks of a segmenter's test masks (docs/quality.md, session 6):
// * test-time refinement at the photo's resolution instead of the network's: the segmenter predicts at its size S
//   (flip-averaged), its logits are upsampled to H (bilinear), the colour + smoothness refinement runs on the photo
//   at H, and the result is scored at S (area-averaged probability > ½) and at H;
// * with --errors 1, where the refined masks at S go wrong: the fractions of true-positive, false-positive and
//   false-negative pixels, precision, recall, quantiles of the per-image IoU and the share of images below 0.2.
//   node dist/bench/refineHiRes.js --model DIR [--hi 64] [--grid '[[levels, strength, rounds, smoothing, pairwise], …]']
//        [--errors 1] [--test data/tux/TuxComposite-objects-64/test] [--n 2000] [--threads 1]
import { join } from 'node:path';
import * as t from '../src/index.js';
import { readBinaryMask } from '../src/eval/maskFiles.js';
import { SegMetrics, confusion, imageIoU } from '../src/eval/segMetrics.js';
import { refineByColour } from '../src/seg/colourRefine.js';
import { pairImagesWithMasks } from '../src/seg/evaluate.js';
import { loadSegmenter, resizeLogits } from '../src/seg/model.js';
import { refinedProbabilities } from '../src/seg/refinePredictions.js';
import { decodePhoto, packChw, photoToInput } from '../src/seg/photos.js';
import { mapLimit } from '../src/util/mapLimit.js';
import { flag } from './flags.js';
import { interpolate } from '../src/tensor/ops/nn.js';

t.setNumThreads(Number(flag('threads') ?? 1));
const test = flag('test') ?? 'data/tux/TuxComposite-animals-64/test';
const seg = loadSegmenter(flag('model')!);
const s = seg.config.size;
const hi = Number(flag('hi') ?? 64);
const pairs = pairImagesWithMasks(join(test, 'images'), join(test, 'masks'), 'nearest').slice(0, Number(flag('n') ?? 2000));
const loaded = await mapLimit(pairs, 8, async (p) => {
  const photo = await decodePhoto(p.image);
  return {
    lo: await photoToInput(photo, s),
    hi: await photoToInput(photo, hi),
    gtLo: (await readBinaryMask(p.mask, s, 'nearest')).mask,
    gtHi: (await readBinaryMask(p.mask, hi, 'nearest')).mask,
  };
});
const n = loaded.length;
const loPix = packChw(
  loaded.map((l) => l.lo),
  s,
);
const hiPix = packChw(
  loaded.map((l) => l.hi),
  hi,
);
const [loProbs, hiProbs] = t.noGrad(() =>
  t.scope(() => {
    const x = t.fromBytes(loPix, 'uint8', [n, 3, s, s]).float().div(127.5).sub(1);
    const p = refinedProbabilities(seg.net, x, loPix, { flip: true }).clamp(1e-6, 1 - 1e-6);
    const logit = p.log().sub(p.neg().log1p());
    return [Float32Array.from(p.data() as Float32Array), Float32Array.from(resizeLogits(logit, hi, hi).sigmoid().data() as Float32Array)];
  }),
);
const down = (p: Float32Array): Float32Array =>
  t.noGrad(() =>
    t.scope(() =>
      Float32Array.from(interpolate(t.fromBytes(p, 'float32', [n, 1, hi, hi]), { size: [s, s], mode: 'area' }).data() as Float32Array),
    ),
  );
const score = (p: Float32Array, size: number, hiGt: boolean) => {
  const m = new SegMetrics();
  const plane = size * size;
  for (let i = 0; i < n; i++)
    m.add(
      Array.from(p.subarray(i * plane, (i + 1) * plane), (v) => (v > 0.5 ? 1 : 0)),
      hiGt ? loaded[i]!.gtHi : loaded[i]!.gtLo,
    );
  return Number(m.result().DRC_IoU!.toFixed(4));
};
const out: Record<string, number> = {
  lo_flip: score(loProbs, s, false),
  hi_flip_at_lo: score(down(hiProbs), s, false),
  hi_flip_at_hi: score(hiProbs, hi, true),
};
for (const [levels, strength, rounds, smoothing, pairwise = 0] of (flag('grid')
  ? JSON.parse(flag('grid')!)
  : [[8, 2, 2, 1, 2]]) as number[][]) {
  const o = { levels, strength, rounds, smoothing, pairwise };
  const key = `L${levels}_s${strength}_r${rounds}_m${smoothing}_p${pairwise}`;
  out[`lo_${key}`] = score(refineByColour(Float32Array.from(loProbs), loPix, n, s, o), s, false);
  const h = refineByColour(Float32Array.from(hiProbs), hiPix, n, hi, o);
  out[`hi_${key}_at_lo`] = score(down(h), s, false);
  out[`hi_${key}_at_hi`] = score(h, hi, true);
}
seg.dispose();
console.log(JSON.stringify(out));
if (flag('errors')) {
  const p = refineByColour(Float32Array.from(loProbs), loPix, n, s, { levels: 8, strength: 2, rounds: 2, smoothing: 1, pairwise: 2 });
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const ious: number[] = [];
  const plane = s * s;
  for (let i = 0; i < n; i++) {
    const c = confusion(
      Array.from(p.subarray(i * plane, (i + 1) * plane), (v) => (v > 0.5 ? 1 : 0)),
      loaded[i]!.gtLo,
    );
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
    ious.push(imageIoU(c) ?? 0);
  }
  ious.sort((x, y) => x - y);
  const q = (f: number) => Number(ious[Math.floor(f * (n - 1))]!.toFixed(3));
  console.log(
    JSON.stringify({
      tp: tp / (n * plane),
      fp: fp / (n * plane),
      fn: fn / (n * plane),
      precision: tp / (tp + fp),
      recall: tp / (tp + fn),
      q10: q(0.1),
      q25: q(0.25),
      q50: q(0.5),
      q75: q(0.75),
      q90: q(0.9),
      below02: ious.filter((v) => v < 0.2).length / n,
    }),
  );
}
