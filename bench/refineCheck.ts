// SPDX-License-Identifier: MIT
// How much the colour refinement (src/seg/colourRefine.ts) changes a segmenter's test masks, as a quick check of the
// pseudo-labels it would give: DRC_IoU of the segmenter alone, flip-averaged, and refined with several settings.
//   node dist/bench/refineCheck.js --model data/tux/seg/ils60-base/segmenter --test data/tux/TuxComposite-animals-64/test
//   node dist/bench/refineCheck.js --ellipse 32 ...    # no segmenter: the centred ellipse (as a 0.9/0.1 probability)
//        [--grid '[[levels, strength, rounds, smoothing, pairwise, balanced (0/1), saliency, saliency threshold,
//                   bilateral, bilateral θ_xy, bilateral θ_rgb], …]']
//   node dist/bench/refineCheck.js --model A,B,C ...    # an ensemble: the models' flip-averaged probabilities averaged
//        [--blur σ: the network sees the photos blurred (Gaussian, σ in pixels at the network's size); the colour
//         refinement still reads the sharp photos]
//        [--errors 1: a second JSON line, where the first grid setting's refined masks go wrong: the fractions of
//         true-positive, false-positive and false-negative pixels, precision, recall, quantiles of the per-image IoU
//         and the share of images below 0.2 (docs/quality.md, session 6)]
//        [--scales 48,80: also a multi-scale prediction, the flip-averaged probabilities of the photos resized to each
//         side (bilinear), brought back to the network's size as logits and averaged with the network's own size's
//         (probability mean); every grid setting is then also run on it (keys ms_…)]
//        [--failures 1: a line on which photos the first grid setting fails: mean IoU and the share below 0.2 by whether
//         the true object touches the frame and by the true object's size (terciles), and for the photos below 0.2
//         the predicted and true foreground shares, empty predictions and predictions touching the frame]
//        [--largest 1: also score every grid setting with only the largest 8-connected foreground region of each mask kept
//         (one object per photo)]
//        [--hi H: also refine at the photo's resolution H instead of the network's: the flip-averaged logits upsampled
//         to H (bilinear), each grid setting run on the photo at H, scored at the network's size (area-averaged
//         probability > ½) and at H]
//        [--lo L: also score the flip-averaged and every refined prediction area-averaged down to L (a model at 64²
//         scored as a 32² one is: the masks nearest-resized to L)]
import { join } from 'node:path';
import * as t from '../src/index.js';
import { readBinaryMask } from '../src/eval/maskFiles.js';
import { centredEllipse } from '../src/eval/baselines.js';
import { blur } from '../src/data/composite/raster.js';
import { confusion, imageIoU } from '../src/eval/segMetrics.js';
import { refineByColour } from '../src/seg/colourRefine.js';
import { pairImagesWithMasks } from '../src/seg/evaluate.js';
import { foregroundLogit, loadSegmenter, resizeLogits } from '../src/seg/model.js';
import { probabilityLogit, refinedProbabilities } from '../src/seg/refinePredictions.js';
import { decodePhoto, packChw, photoToInput } from '../src/seg/photos.js';
import { mapLimit } from '../src/util/mapLimit.js';
import { interpolate } from '../src/tensor/ops/nn.js';
import { drcIoU } from './drcIoU.js';
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
const hi = flag('hi') ? Number(flag('hi')) : null;
const pairs = pairImagesWithMasks(join(test, 'images'), join(test, 'masks'), 'nearest').slice(0, Number(flag('n') ?? 2000));
const loaded = await mapLimit(pairs, 8, async (p) => {
  const photo = await decodePhoto(p.image);
  return {
    input: await photoToInput(photo, s),
    gt: (await readBinaryMask(p.mask, s, 'nearest')).mask,
    hi: hi === null ? null : { input: await photoToInput(photo, hi), gt: (await readBinaryMask(p.mask, hi, 'nearest')).mask },
  };
});
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
/** The models' averaged probabilities (plain, then flip-averaged), 100 photos per forward pass (all 2000 at once took
 *  ~15 GB at 64²); each batch's input is built once for both. */
const scales = flag('scales') ? flag('scales')!.split(',').map(Number) : [];
const modelProbs = (): Float32Array[] => {
  const passes = [null, { flip: true }];
  const all = [...passes, ...(scales.length ? [null] : [])].map(() => new Float32Array(n * s * s));
  const per = 3 * s * s;
  for (let b = 0; b < n; b += 100) {
    const len = Math.min(100, n - b);
    t.noGrad(() =>
      t.scope(() => {
        const x = t
          .fromBytes(netPixels.subarray(b * per, (b + len) * per), 'uint8', [len, 3, s, s])
          .float()
          .div(127.5)
          .sub(1);
        const own = pixels.subarray(b * per, (b + len) * per);
        passes.forEach((setting, k) => {
          const sum = segs.map((g) => refinedProbabilities(g.net, x, own, setting)).reduce((a, c) => a.add(c));
          all[k]!.set(sum.div(segs.length).data() as Float32Array, b * s * s);
        });
        if (scales.length) {
          // Each scale's flip average, back at the network's size through its logit; then the mean over the scales
          // and the network's own size.
          let sum = t.fromBytes(all[1]!.subarray(b * s * s, (b + len) * s * s), 'float32', [len, 1, s, s]);
          for (const z of scales) {
            const xz = interpolate(x, { size: [z, z], mode: 'bilinear', alignCorners: false });
            for (const g of segs) {
              const pz = foregroundLogit(g.net, xz)
                .sigmoid()
                .add(foregroundLogit(g.net, xz.flip(3)).flip(3).sigmoid())
                .mul(0.5);
              sum = sum.add(resizeLogits(probabilityLogit(pz), s, s).sigmoid().div(segs.length));
            }
          }
          all[2]!.set(sum.div(scales.length + 1).data() as Float32Array, b * s * s);
        }
      }),
    );
  }
  return all;
};
const probs = seg === null ? ellipseProbs() : modelProbs();
/** Per image, the binary mask (probability > ½) of plane i of p against its ground truth. */
const binary = (p: Float32Array, size: number, i: number) =>
  Array.from(p.subarray(i * size * size, (i + 1) * size * size), (v) => (v > 0.5 ? 1 : 0));
/** n probability planes of from² area-averaged to to² (the --hi and --lo scores). */
const areaResize = (p: Float32Array, from: number, to: number): Float32Array =>
  t.noGrad(() =>
    t.scope(() =>
      Float32Array.from(
        interpolate(t.fromBytes(p, 'float32', [n, 1, from, from]), { size: [to, to], mode: 'area' }).data() as Float32Array,
      ),
    ),
  );
const score = (p: Float32Array, size = s, gt = (i: number) => loaded[i]!.gt) => drcIoU(p, size, n, gt);
const grid = (flag('grid') ? JSON.parse(flag('grid')!) : [[8, 1, 2, 1]]) as [
  number,
  number,
  number,
  number,
  number?,
  number?,
  number?,
  number?,
  number?,
  number?,
  number?,
][];
const settings = grid.map(
  ([
    levels,
    strength,
    rounds,
    smoothing,
    pairwise = 0,
    balanced = 0,
    saliency = 0,
    saliencyThreshold = 0.5,
    bilateral = 0,
    bilateralSpatial = 6,
    bilateralColour = 16,
  ]) => ({
    key:
      `L${levels}_s${strength}_r${rounds}_m${smoothing}_p${pairwise}${balanced ? '_bal' : ''}` +
      `${saliency ? `_sal${saliency}_t${saliencyThreshold}` : ''}` +
      `${bilateral ? `_bil${bilateral}_xy${bilateralSpatial}_rgb${bilateralColour}` : ''}`,
    o: {
      levels,
      strength,
      rounds,
      smoothing,
      pairwise,
      balanced: balanced === 1,
      saliency,
      saliencyThreshold,
      bilateral,
      bilateralSpatial,
      bilateralColour,
    },
  }),
);
const out: Record<string, number> = { plain: score(probs[0]!), flipAveraged: score(probs[1]!) };
const refined = settings.map(({ key, o }) => {
  const r = refineByColour(Float32Array.from(probs[1]!), pixels, n, s, o);
  out[key] = score(r);
  return r;
});
if (probs[2]) {
  out.multiScale = score(probs[2]);
  for (const { key, o } of settings) out[`ms_${key}`] = score(refineByColour(Float32Array.from(probs[2]), pixels, n, s, o));
}
if (hi !== null) {
  // The flip-averaged probabilities as logits, upsampled to H; the refinement reads the photos at H.
  const hiPixels = packChw(
    loaded.map((l) => l.hi!.input),
    hi,
  );
  const hiGt = (i: number) => loaded[i]!.hi!.gt;
  const hiProbs = t.noGrad(() =>
    t.scope(() => {
      const logit = probabilityLogit(t.fromBytes(probs[1]!, 'float32', [n, 1, s, s]));
      return Float32Array.from(resizeLogits(logit, hi, hi).sigmoid().data() as Float32Array);
    }),
  );
  const down = (p: Float32Array) => areaResize(p, hi, s);
  out.hi_flip_at_lo = score(down(hiProbs));
  out.hi_flip_at_hi = score(hiProbs, hi, hiGt);
  for (const { key, o } of settings) {
    const h = refineByColour(Float32Array.from(hiProbs), hiPixels, n, hi, o);
    out[`hi_${key}_at_lo`] = score(down(h));
    out[`hi_${key}_at_hi`] = score(h, hi, hiGt);
  }
}
const lo = flag('lo') ? Number(flag('lo')) : null;
if (lo !== null) {
  const loGt = await mapLimit(pairs, 8, async (p) => (await readBinaryMask(p.mask, lo, 'nearest')).mask);
  const down = (p: Float32Array) => areaResize(p, s, lo);
  const loMask = (i: number) => loGt[i]!;
  out[`flipAveraged_at${lo}`] = score(down(probs[1]!), lo, loMask);
  settings.forEach(({ key }, j) => (out[`${key}_at${lo}`] = score(down(refined[j]!), lo, loMask)));
}
/** Keeps only the largest 8-connected foreground region of each S×S plane of p (others set to 0). */
const largestRegion = (p: Float32Array): Float32Array => {
  const q = Float32Array.from(p);
  const label = new Int32Array(s * s);
  const stack: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * s * s;
    label.fill(0);
    let best = 0;
    let bestSize = 0;
    let next = 0;
    for (let k = 0; k < s * s; k++) {
      if (q[o + k]! <= 0.5 || label[k]) continue;
      next++;
      let size = 0;
      label[k] = next;
      stack.push(k);
      while (stack.length) {
        const c = stack.pop()!;
        size++;
        const y = Math.floor(c / s);
        const x = c % s;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || xx < 0 || yy >= s || xx >= s) continue;
            const e = yy * s + xx;
            if (q[o + e]! > 0.5 && !label[e]) {
              label[e] = next;
              stack.push(e);
            }
          }
      }
      if (size > bestSize) {
        bestSize = size;
        best = next;
      }
    }
    for (let k = 0; k < s * s; k++) if (q[o + k]! > 0.5 && label[k] !== best) q[o + k] = 0;
  }
  return q;
};
if (flag('largest')) settings.forEach(({ key }, j) => (out[`${key}_largest`] = score(largestRegion(refined[j]!))));
for (const g of segs) g.dispose();
console.log(JSON.stringify(out));
if (flag('errors') && refined.length) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const ious: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = confusion(binary(refined[0]!, s, i), loaded[i]!.gt);
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
    ious.push(imageIoU(c) ?? 0);
  }
  ious.sort((x, y) => x - y);
  const q = (f: number) => Number(ious[Math.floor(f * (n - 1))]!.toFixed(3));
  const pixelsAll = n * s * s;
  console.log(
    JSON.stringify({
      setting: settings[0]!.key,
      foreground: (tp + fp) / pixelsAll,
      tp: tp / pixelsAll,
      fp: fp / pixelsAll,
      fn: fn / pixelsAll,
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

if (flag('failures') && refined.length) {
  type Row = { iou: number; gtArea: number; predArea: number; gtBorder: boolean; predBorder: boolean };
  const onBorder = (m: ArrayLike<number>) => {
    for (let k = 0; k < s * s; k++) {
      const x = k % s;
      const y = Math.floor(k / s);
      if (m[k] && (x === 0 || y === 0 || x === s - 1 || y === s - 1)) return true;
    }
    return false;
  };
  const area = (m: ArrayLike<number>) => Array.from(m).reduce((a: number, v) => a + (v ? 1 : 0), 0) / (s * s);
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const pred = binary(refined[0]!, s, i);
    const gt = loaded[i]!.gt;
    rows.push({
      iou: imageIoU(confusion(pred, gt)) ?? 0,
      gtArea: area(gt),
      predArea: area(pred),
      gtBorder: onBorder(gt),
      predBorder: onBorder(pred),
    });
  }
  /** The mean of f over the rows g (3 decimals; 0 for none). */
  const mean = (g: Row[], f: (r: Row) => number) => Number((g.reduce((a, r) => a + f(r), 0) / Math.max(1, g.length)).toFixed(3));
  const summary = (g: Row[]) => ({ n: g.length, meanIoU: mean(g, (r) => r.iou), below02: mean(g, (r) => (r.iou < 0.2 ? 1 : 0)) });
  const areas = rows.map((r) => r.gtArea).sort((a, b) => a - b);
  const [t1, t2] = [areas[Math.floor(n / 3)]!, areas[Math.floor((2 * n) / 3)]!];
  const failed = rows.filter((r) => r.iou < 0.2);
  console.log(
    JSON.stringify({
      setting: settings[0]!.key,
      objectTouchesFrame: summary(rows.filter((r) => r.gtBorder)),
      objectInside: summary(rows.filter((r) => !r.gtBorder)),
      smallThird: { maxArea: Number(t1.toFixed(3)), ...summary(rows.filter((r) => r.gtArea <= t1)) },
      middleThird: summary(rows.filter((r) => r.gtArea > t1 && r.gtArea <= t2)),
      largeThird: summary(rows.filter((r) => r.gtArea > t2)),
      failures: {
        n: failed.length,
        predArea: mean(failed, (r) => r.predArea),
        gtArea: mean(failed, (r) => r.gtArea),
        emptyPrediction: mean(failed, (r) => (r.predArea < 0.01 ? 1 : 0)),
        predictionTouchesFrame: mean(failed, (r) => (r.predBorder ? 1 : 0)),
        objectTouchesFrame: mean(failed, (r) => (r.gtBorder ? 1 : 0)),
      },
    }),
  );
}
