// SPDX-License-Identifier: MIT
// The boundary saliency (src/seg/boundarySaliency.ts) on test photos (docs/quality.md, session 10): DRC_IoU of the
// saliency alone (thresholded at 0.2–0.5, and as a prior for the colour refinement), and added to a segmenter's
// flip-averaged log-odds with weight a at threshold t, before and after the recipe's colour refinement. One JSON line.
//   node dist/bench/saliencyCheck.js --model data/tux/seg/a32ramp15-ils-s0/adapted [--test …] [--threads 2]
//        [--at 64: the saliency computed at 64² and area-averaged to the network's size] [--space rgb|lab]
//        [--as 2,4,8 --ts 0.2,0.3,0.4: the weights and thresholds tried] [--passes 3]
import { join } from 'node:path';
import * as t from '../src/index.js';
import { readBinaryMask } from '../src/eval/maskFiles.js';
import { refineByColour } from '../src/seg/colourRefine.js';
import { boundarySaliency } from '../src/seg/boundarySaliency.js';
import { pairImagesWithMasks } from '../src/seg/evaluate.js';
import { loadSegmenter } from '../src/seg/model.js';
import { refinedProbabilities } from '../src/seg/refinePredictions.js';
import { decodePhoto, packChw, photoToInput } from '../src/seg/photos.js';
import { mapLimit } from '../src/util/mapLimit.js';
import { interpolate } from '../src/tensor/ops/nn.js';
import { drcIoU } from './drcIoU.js';
import { flag } from './flags.js';

t.setNumThreads(Number(flag('threads') ?? 1));
const test = flag('test') ?? 'data/tux/TuxComposite-animals-64/test';
const seg = loadSegmenter(flag('model')!);
const s = seg.config.size;
const at = Number(flag('at') ?? s);
const pairs = pairImagesWithMasks(join(test, 'images'), join(test, 'masks'), 'nearest').slice(0, Number(flag('n') ?? 2000));
const loaded = await mapLimit(pairs, 8, async (p) => {
  const photo = await decodePhoto(p.image);
  return { input: await photoToInput(photo, s), big: await photoToInput(photo, at), gt: (await readBinaryMask(p.mask, s, 'nearest')).mask };
});
const n = loaded.length;
const pixels = packChw(
  loaded.map((l) => l.input),
  s,
);
const t0 = Date.now();
let sal = boundarySaliency(
  packChw(
    loaded.map((l) => l.big),
    at,
  ),
  n,
  at,
  { passes: Number(flag('passes') ?? 3), space: (flag('space') ?? 'rgb') as 'rgb' | 'lab' },
);
const salMs = Date.now() - t0;
if (at !== s)
  sal = t.noGrad(() =>
    t.scope(() =>
      Float32Array.from(interpolate(t.fromBytes(sal, 'float32', [n, 1, at, at]), { size: [s, s], mode: 'area' }).data() as Float32Array),
    ),
  );
const p = t.noGrad(() =>
  t.scope(() => {
    const x = t.fromBytes(pixels, 'uint8', [n, 3, s, s]).float().div(127.5).sub(1);
    return Float32Array.from(refinedProbabilities(seg.net, x, pixels, { flip: true }).data() as Float32Array);
  }),
);
const score = (q: Float32Array) => drcIoU(q, s, n, (i) => loaded[i]!.gt);
const logit = (v: number) => Math.log(Math.min(1 - 1e-4, Math.max(1e-4, v)) / (1 - Math.min(1 - 1e-4, Math.max(1e-4, v))));
const sigm = (v: number) => 1 / (1 + Math.exp(-v));
const out: Record<string, number> = { salMs, seg: score(p) };
const colour = { levels: 8, strength: 2, rounds: 2, smoothing: 1, pairwise: 2 };
out.seg_refined = score(refineByColour(Float32Array.from(p), pixels, n, s, colour));
for (const th of [0.2, 0.3, 0.4, 0.5]) out[`sal_t${th}`] = score(sal.map((v) => (v > th ? 1 : 0)));
for (const a of (flag('as') ?? '2,4,8').split(',').map(Number))
  for (const th of (flag('ts') ?? '0.2,0.3,0.4').split(',').map(Number)) {
    const q = p.map((v, k) => sigm(logit(v) + a * (sal[k]! - th)));
    out[`comb_a${a}_t${th}`] = score(q);
    out[`comb_a${a}_t${th}_ref`] = score(refineByColour(q, pixels, n, s, colour));
  }
for (const a of [4, 8, 16])
  out[`salonly_a${a}_ref`] = score(
    refineByColour(
      sal.map((v) => sigm(a * (v - 0.4))),
      pixels,
      n,
      s,
      colour,
    ),
  );
console.log(JSON.stringify(out));
seg.dispose();
