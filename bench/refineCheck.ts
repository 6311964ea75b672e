// SPDX-License-Identifier: MIT
// How much the colour refinement (src/seg/colourRefine.ts) changes a segmenter's test masks, as a quick check of the
// pseudo-labels it would give: DRC_IoU of the segmenter alone, flip-averaged, and refined with several settings.
//   node dist/bench/refineCheck.js --model data/tux/seg/ils60-base/segmenter --test data/tux/TuxComposite-animals-64/test
//   node dist/bench/refineCheck.js --ellipse 32 ...    # no segmenter: the centred ellipse (as a 0.9/0.1 probability)
//        [--grid '[[levels, strength, rounds, smoothing, pairwise], …]']
//   node dist/bench/refineCheck.js --model A,B,C ...    # an ensemble: the models' flip-averaged probabilities averaged
//        [--blur σ: the network sees the photos blurred (Gaussian, σ in pixels at the network's size); the colour
//         refinement still reads the sharp photos]
import { join } from 'node:path';
import * as t from '../src/index.js';
import { readBinaryMask } from '../src/eval/maskFiles.js';
import { centredEllipse } from '../src/eval/baselines.js';
import { blur } from '../src/data/composite/raster.js';
import { SegMetrics } from '../src/eval/segMetrics.js';
import { refineByColour } from '../src/seg/colourRefine.js';
import { pairImagesWithMasks } from '../src/seg/evaluate.js';
import { loadSegmenter } from '../src/seg/model.js';
import { refinedProbabilities } from '../src/seg/refinePredictions.js';
import { decodePhoto, packChw, photoToInput } from '../src/seg/photos.js';
import { mapLimit } from '../src/util/mapLimit.js';
import { flag } from './flags.js';

t.setNumThreads(Number(flag('threads') ?? 1));
const test = flag('test') ?? 'data/tux/TuxComposite-animals-64/test';
const segs = flag('ellipse')
  ? []
  : flag('model')!
      .split(',')
      .map((m) => loadSegmenter(m));
const seg = segs[0] ?? null;
if (segs.some((g) => g.config.size !== seg!.config.size)) throw new RangeError('refineCheck: the models differ in size');
const s = seg?.config.size ?? Number(flag('ellipse'));
const pairs = pairImagesWithMasks(join(test, 'images'), join(test, 'masks'), 'nearest').slice(0, Number(flag('n') ?? 2000));
const loaded = await mapLimit(pairs, 8, async (p) => ({
  input: await photoToInput(await decodePhoto(p.image), s),
  gt: (await readBinaryMask(p.mask, s, 'nearest')).mask,
}));
const pixels = packChw(
  loaded.map((l) => l.input),
  s,
);
const n = loaded.length;
/** CHW bytes blurred plane by plane with the composite recipe's separable Gaussian (edges replicated), σ in pixels. */
const blurChw = (src: Uint8Array, sigma: number): Uint8Array => {
  const plane = new Float32Array(s * s);
  const tmp = new Float32Array(s * s);
  const out = new Uint8Array(src.length);
  for (let p = 0; p < src.length; p += s * s) {
    plane.set(src.subarray(p, p + s * s));
    blur(plane, s, { x0: 0, y0: 0, x1: s, y1: s }, sigma, tmp);
    for (let i = 0; i < s * s; i++) out[p + i] = Math.round(plane[i]!);
  }
  return out;
};
const sigma = Number(flag('blur') ?? 0);
const netPixels = sigma > 0 ? blurChw(pixels, sigma) : pixels;
const ellipseProbs = () => {
  const e = centredEllipse(s, s);
  const p = new Float32Array(n * s * s);
  for (let i = 0; i < p.length; i++) p[i] = e[i % (s * s)] ? 0.9 : 0.1;
  return [p, Float32Array.from(p)];
};
const probs =
  seg === null
    ? ellipseProbs()
    : t.noGrad(() =>
        t.scope(() => {
          const x = t.fromBytes(netPixels, 'uint8', [n, 3, s, s]).float().div(127.5).sub(1);
          return [null, { flip: true }].map((setting) => {
            const sum = segs.map((g) => refinedProbabilities(g.net, x, pixels, setting)).reduce((a, b) => a.add(b));
            return sum.div(segs.length).data() as Float32Array;
          });
        }),
      );
const score = (p: Float32Array) => {
  const m = new SegMetrics();
  const plane = s * s;
  for (let i = 0; i < n; i++)
    m.add(
      Array.from(p.subarray(i * plane, (i + 1) * plane), (v) => (v > 0.5 ? 1 : 0)),
      loaded[i]!.gt,
    );
  return Number(m.result().DRC_IoU!.toFixed(4));
};
const out: Record<string, number> = { plain: score(probs[0]!), flipAveraged: score(probs[1]!) };
for (const [levels, strength, rounds, smoothing, pairwise = 0] of (flag('grid') ? JSON.parse(flag('grid')!) : [[8, 1, 2, 1]]) as [
  number,
  number,
  number,
  number,
  number?,
][]) {
  out[`L${levels}_s${strength}_r${rounds}_m${smoothing}_p${pairwise}`] = score(
    refineByColour(Float32Array.from(probs[1]!), pixels, n, s, { levels, strength, rounds, smoothing, pairwise }),
  );
}
for (const g of segs) g.dispose();
console.log(JSON.stringify(out));
