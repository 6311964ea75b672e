// SPDX-License-Identifier: MIT
// Beyond the paper: adapting the segmenter to the user's own unlabeled photos by self-training.
//
// A U-Net trained on synthetic pairs has only seen GAN images; on real photos it meets backgrounds richer than the
// generator's. Each round, the current network (the teacher, eval mode) labels the real training photos: the
// foreground probability averaged over the photo and its mirror image; a pixel becomes a pseudo-label only where
// the two views agree and the average is confident (≥ `confidence` or ≤ 1 − `confidence`), the rest is ignored;
// with `colour`, the averaged probabilities are first refined by each photo's own colours (colourRefine.ts).
// The network then trains on half synthetic pairs (their true masks, as stage 1) and half real photos (their
// pseudo-labels, with the same colour augmentation and random mirroring; `photoShare` changes the halves), and becomes
// the next round's teacher.
// Nothing here sees a ground-truth mask of a real photo.
//
// With `paste` (beyond the paper, and beyond this stage's first version), a share of the synthetic half is not the
// GAN's composite but the GAN's foreground layer pasted with its soft mask onto a real training photo:
// m·fg + (1 − m)·photo. Its labels are the GAN mask where the object was pasted and the photo's pseudo-labels
// elsewhere (ignored where those are). The GAN's backgrounds are smooth and blurry and its objects are the
// textured part, so a U-Net trained on its composites alone learns "texture = object"; on a real photo's
// background the pasted object must be told apart from real clutter.
import { mkdirSync } from 'node:fs';
import type { ImageSet } from '../data/imageFolder.js';
import { mulberry32 } from '../data/procedural.js';
import { AdaPipeline, colorOnly } from '../train/augment/adaPipeline.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../util/errors.js';
import { cat, fromBytes, tensor, where } from '../tensor/ops/creation.js';
import { crossEntropy } from '../tensor/ops/nn.js';
import { manualSeed } from '../tensor/ops/random.js';
import { Adam } from '../tensor/optim/adam.js';
import { dispose, keep, noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { ProgressBar } from '../util/progress.js';
import { logOnly } from '../util/runLog.js';
import type { SyntheticLayers, SyntheticSet } from './data.js';
import { GeometricAugment } from './geometricAugment.js';
import { type ColourRefineOptions, refineByColour } from './colourRefine.js';
import {
  type Segmenter,
  type SegmenterConfig,
  foregroundLogit,
  loadSegmenter,
  saveSegmenterConfig,
  saveSegmenterWeights,
} from './model.js';
import { ShuffledSampler, validationIoU } from './train.js';

export interface AdaptOptions {
  /** The stage-1 segmenter (the folder `seg-train` wrote). */
  model: string;
  /** Unlabeled real photos at the model's size (the GAN's training images). */
  photos: ImageSet;
  /** The synthetic pairs stage 1 trained on (the non-photo part of every batch; their validation split is reported). */
  synthetic: SyntheticSet;
  /** Folder for the adapted model (same format as `seg-train`'s). */
  out: string;
  /** Self-training rounds (2). */
  rounds?: number;
  /** Iterations per round (400). */
  iterations?: number;
  /** Minibatch: half synthetic, half real (32); see `photoShare`. */
  batch?: number;
  /**
   * Share (0–1] of each minibatch taken from the real photos with their pseudo-labels (0.5); the rest are synthetic
   * pairs. 1 drops the synthetic pairs from the adaptation (their validation IoU is still reported).
   */
  photoShare?: number;
  /** Adam learning rate (2e-4: a fine-tune of stage 1's 1e-3). */
  lr?: number;
  /** A pixel's pseudo-label is kept where the averaged foreground probability is ≥ c or ≤ 1 − c (0.8). */
  confidence?: number;
  /** Mirror, scale, rotate and shift the synthetic half as seg-train's `geometric` (off). */
  geometric?: boolean;
  /** Refine the teacher's probabilities by each photo's colours before thresholding (colourRefine.ts); null = off. */
  colour?: ColourRefineOptions | null;
  /** Share (0–1) of the synthetic half pasted onto real photos (see the file comment; 0: off, the default). */
  paste?: number;
  /** The synthetic set's foreground layers and soft masks (data.ts `loadSyntheticLayers`); needed when `paste` > 0. */
  layers?: SyntheticLayers;
  /** At most this many photos are labelled per round, spread evenly over the set (4000). */
  maxPhotos?: number;
  seed?: number;
  device?: Device;
  progress?: boolean;
  log?: (line: string) => void;
}

export interface AdaptResult {
  out: string;
  /** Per round: the share of photo pixels that got a pseudo-label, the foreground share among them, and the
   *  synthetic validation IoU after the round. */
  rounds: { labelled: number; foreground: number; valIoU: number | null }[];
}

function checkAdaptOptions(o: AdaptOptions) {
  const r = {
    rounds: o.rounds ?? 2,
    iterations: o.iterations ?? 400,
    batch: o.batch ?? 32,
    lr: o.lr ?? 2e-4,
    confidence: o.confidence ?? 0.8,
    maxPhotos: o.maxPhotos ?? 4000,
    paste: o.paste ?? 0,
    photoShare: o.photoShare ?? 0.5,
    seed: o.seed ?? 0,
  };
  if (!(r.photoShare > 0 && r.photoShare <= 1)) throw new InputError(`adapt: photoShare must be in (0, 1], got ${r.photoShare}`, 'ERR_ARG');
  if (!(r.paste >= 0 && r.paste <= 1)) throw new InputError(`adapt: paste must be in [0, 1], got ${r.paste}`, 'ERR_ARG');
  if (r.paste > 0 && !o.layers) throw new InputError("adapt: paste needs the synthetic set's foreground layers", 'ERR_ARG');
  if (r.paste > 0 && o.geometric)
    throw new InputError('adapt: paste and geometric augmentation cannot be combined', 'ERR_ARG', 'turn one of them off');
  for (const k of ['rounds', 'iterations', 'batch', 'maxPhotos'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new InputError(`adapt: ${k} must be a positive integer, got ${r[k]}`, 'ERR_ARG');
  }
  if (r.batch < 2) throw new InputError('adapt: batch must be at least 2 (half synthetic, half real)', 'ERR_ARG');
  if (!(r.confidence > 0.5 && r.confidence < 1))
    throw new InputError(`adapt: confidence must be in (0.5, 1), got ${r.confidence}`, 'ERR_ARG');
  if (!(r.lr > 0)) throw new InputError(`adapt: lr must be positive, got ${r.lr}`, 'ERR_ARG');
  return r;
}

/**
 * Pseudo-labels of photos [n, 3, S, S] (uint8; `pixels` holds the same bytes on the host): int64 [n, S, S] with 1
 * foreground, 0 background and −100 (ignored) where the mirrored views disagree or the probability is not
 * confident. With `colour`, the flip-averaged probabilities are first refined by each photo's colours
 * (colourRefine.ts).
 */
export function pseudoLabels(
  net: Segmenter['net'],
  photos: Tensor,
  pixels: Uint8Array,
  confidence: number,
  colour: ColourRefineOptions | null = null,
  batch = 64,
): Tensor {
  const [n, , size] = photos.shape as [number, number, number, number];
  const plane = size * size;
  const probs = new Float32Array(n * plane);
  const agree = new Uint8Array(n * plane);
  noGrad(() => {
    for (let s = 0; s < n; s += batch) {
      scope(() => {
        const x = photos
          .narrow(0, s, Math.min(batch, n - s))
          .float()
          .div(127.5)
          .sub(1);
        const a = foregroundLogit(net, x);
        const b = foregroundLogit(net, x.flip(3)).flip(3);
        probs.set(a.sigmoid().add(b.sigmoid()).mul(0.5).cpu().data() as Float32Array, s * plane);
        agree.set(a.gt(0).eq(b.gt(0)).to('uint8').cpu().data() as Uint8Array, s * plane);
      });
    }
  });
  if (colour) refineByColour(probs, pixels, n, size, colour);
  const labels = new Int32Array(n * plane);
  for (let k = 0; k < labels.length; k++) {
    const p = probs[k]!;
    labels[k] = agree[k] && (p >= confidence || p <= 1 - confidence) ? (p > 0.5 ? 1 : 0) : -100;
  }
  return scope(() => tensor(labels, { shape: [n, size, size], device: photos.device }).long());
}

/**
 * The GAN's objects on real photos (the file comment): fg [b, 3, S, S] and photos [b, 3, S, S] uint8, alpha
 * [b, 1, S, S] uint8 (the soft mask, 0–255), masks [b, S, S] int64 (the GAN's binary masks), photoLabels [b, S, S]
 * int64 (pseudo-labels, −100 ignored). Returns the images m·fg + (1 − m)·photo in [−1, 1] and their labels: 1 where
 * the GAN's mask is, the photo's pseudo-label elsewhere.
 */
export function pasteOntoPhotos(fg: Tensor, alpha: Tensor, masks: Tensor, photos: Tensor, photoLabels: Tensor): [Tensor, Tensor] {
  const x = photos.float().lerp(fg.float(), alpha.float().div(255)).div(127.5).sub(1);
  return [x, where(masks.eq(1), masks, photoLabels)];
}

/** Self-trains the segmenter in `model` on `photos` (see the file comment) and writes the result to `out`. */
export async function adaptSegmenter(o: AdaptOptions): Promise<AdaptResult> {
  const opts = checkAdaptOptions(o);
  const device = o.device ?? 'cpu';
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const seg = loadSegmenter(o.model, device);
  const s = seg.config.size;
  if (o.photos.size !== s) throw new InputError(`adapt: the photos are at ${o.photos.size}², the model at ${s}²`, 'ERR_ARG');
  if (o.synthetic.size !== s) throw new InputError(`adapt: the synthetic set is at ${o.synthetic.size}², the model at ${s}²`, 'ERR_ARG');
  mkdirSync(o.out, { recursive: true });
  manualSeed(opts.seed);
  const net = seg.net;
  const set = o.synthetic;
  // Photos spread evenly over the set (its order is the folder's), at most maxPhotos.
  const count = Math.min(opts.maxPhotos, o.photos.count);
  const per = 3 * s * s;
  const chosen = new Uint8Array(count * per);
  for (let k = 0; k < count; k++) {
    const i = Math.floor((k * o.photos.count) / count);
    chosen.set(o.photos.pixels.subarray(i * per, (i + 1) * per), k * per);
  }
  const data = keep(
    scope(() => ({
      photos: fromBytes(chosen, 'uint8', [count, 3, s, s], device),
      images: fromBytes(set.images, 'uint8', [set.n, 3, s, s], device),
      masks: fromBytes(set.masks, 'uint8', [set.n, s, s], device),
      valMasks: fromBytes(set.valMasks, 'uint8', [set.val, set.evalSize, set.evalSize], device),
      fg: opts.paste > 0 ? fromBytes(o.layers!.fg, 'uint8', [set.n, 3, s, s], device) : null,
      alpha: opts.paste > 0 ? fromBytes(o.layers!.alpha, 'uint8', [set.n, 1, s, s], device) : null,
    })),
  );
  const valImages = keep(data.images.narrow(0, set.train, set.val));
  const aug = new AdaPipeline(colorOnly, device, opts.seed + 1);
  aug.p = 0.5;
  const opt = new Adam(net.parameters(), { lr: opts.lr, betas: [0.9, 0.999] });
  const geometric = o.geometric ? new GeometricAugment(opts.seed + 5) : null;
  const synthSampler = new ShuffledSampler(set.train, opts.seed + 2);
  const photoSampler = new ShuffledSampler(count, opts.seed + 3);
  // Real photos per minibatch (at least one), the rest synthetic; 0.5 of 32 is the first version's 16 + 16.
  const realPerBatch = Math.max(1, Math.min(opts.batch, Math.round(opts.batch * opts.photoShare)));
  const flipRand = mulberry32(opts.seed + 4);
  const pasteRand = mulberry32(opts.seed + 6);
  const rounds: AdaptResult['rounds'] = [];
  const bar = new ProgressBar(
    'adapt {bar} {value}/{total} it | round {round} | loss {loss} | ETA {eta_formatted}',
    o.progress ?? Boolean(process.stderr.isTTY),
  );
  bar.start(opts.rounds * opts.iterations, 0, { round: '-', loss: '-' });
  let labels: Tensor | null = null;
  const started = Date.now();
  try {
    for (let round = 0; round < opts.rounds; round++) {
      net.eval();
      if (labels) labels.dispose();
      labels = keep(pseudoLabels(net, data.photos, chosen, opts.confidence, o.colour ?? null));
      const [labelled, fg] = noGrad(() =>
        scope(() => {
          const known = labels!.ne(-100);
          const nKnown = known.sum().item();
          return [nKnown / labels!.numel, nKnown === 0 ? 0 : labels!.eq(1).sum().item() / nKnown];
        }),
      );
      net.train();
      let loss = 0;
      for (let it = 1; it <= opts.iterations; it++) {
        const si = opts.batch > realPerBatch ? synthSampler.next(opts.batch - realPerBatch) : [];
        const pi = photoSampler.next(realPerBatch);
        // Mirror some real photos together with their labels (a mirrored photo is as real as the original).
        const flips = pi.map(() => flipRand() < 0.5);
        // Which synthetic samples go onto which photo (drawn here, outside the scope, so the stream is the same
        // whatever the batch holds).
        const pasted = opts.paste > 0 ? si.map(() => (pasteRand() < opts.paste ? Math.floor(pasteRand() * count) : -1)) : [];
        loss = scope(() => {
          const sIdx = tensor(Int32Array.from(si)).to({ device, dtype: 'int64' });
          const pIdx = tensor(Int32Array.from(pi)).to({ device, dtype: 'int64' });
          let px = data.photos.indexSelect(0, pIdx);
          let py = labels!.indexSelect(0, pIdx);
          if (flips.some(Boolean)) {
            const f = tensor(flips.map((v) => (v ? 1 : 0))).to({ device, dtype: 'bool' });
            px = where(f.view([-1, 1, 1, 1]), px.flip(3), px);
            py = where(f.view([-1, 1, 1]), py.flip(2), py);
          }
          let sx = data.images.indexSelect(0, sIdx).float().div(127.5).sub(1);
          let sy = data.masks.indexSelect(0, sIdx).long();
          if (geometric) [sx, sy] = geometric.apply(sx, sy);
          if (pasted.some((b) => b >= 0)) {
            const rows = tensor(pasted.map((b) => (b >= 0 ? 1 : 0))).to({ device, dtype: 'bool' });
            const bIdx = tensor(Int32Array.from(pasted, (b) => Math.max(0, b))).to({ device, dtype: 'int64' });
            const [x, y] = pasteOntoPhotos(
              data.fg!.indexSelect(0, sIdx),
              data.alpha!.indexSelect(0, sIdx),
              sy,
              data.photos.indexSelect(0, bIdx),
              labels!.indexSelect(0, bIdx),
            );
            sx = where(rows.view([-1, 1, 1, 1]), x, sx);
            sy = where(rows.view([-1, 1, 1]), y, sy);
          }
          const real = px.float().div(127.5).sub(1);
          const x = aug.forward(si.length > 0 ? cat([sx, real], 0) : real);
          const logits = net.forward(x);
          const lSynth = si.length > 0 ? crossEntropy(logits.narrow(0, 0, si.length), sy) : null;
          const lReal = crossEntropy(logits.narrow(0, si.length, realPerBatch), py);
          // A batch whose real part has no confident pixel contributes the synthetic loss only; without synthetic
          // pairs it is skipped.
          const realOk = Number.isFinite(lReal.item());
          const l = lSynth ? (realOk ? lSynth.add(lReal) : lSynth) : realOk ? lReal : null;
          if (!l) return 0;
          opt.zeroGrad();
          l.backward();
          opt.step();
          return l.item();
        });
        if (!Number.isFinite(loss))
          throw new InputError(`adaptation diverged in round ${round + 1} at iteration ${it}`, 'ERR_NON_FINITE', 'run without --adapt');
        bar.update(round * opts.iterations + it, { payload: { round: String(round + 1), loss: loss.toFixed(4) } });
        await new Promise<void>((done) => setImmediate(done));
      }
      const valIoU = validationIoU(net, valImages, data.valMasks, opts.batch);
      rounds.push({ labelled, foreground: fg, valIoU });
      const line = `adapt round ${round + 1}/${opts.rounds}: ${(100 * labelled).toFixed(1)} % of photo pixels pseudo-labelled (${(100 * fg).toFixed(1)} % of them foreground); synthetic validation IoU ${valIoU === null ? 'n/a' : valIoU.toFixed(4)}`;
      // With a bar on the terminal, the line goes to the run's log.txt only.
      if (bar.shown) logOnly(line);
      else log(line);
    }
    net.eval();
    const weightsSha256 = saveSegmenterWeights(o.out, net, seg.config);
    const config: SegmenterConfig = {
      ...seg.config,
      weightsSha256,
      bestValIoU: rounds[rounds.length - 1]?.valIoU ?? null,
      adapted: {
        from: o.model,
        photos: count,
        rounds,
        iterations: opts.iterations,
        batch: opts.batch,
        lr: opts.lr,
        confidence: opts.confidence,
        colour: o.colour ?? null,
        ...(opts.paste > 0 ? { paste: opts.paste } : {}),
        ...(opts.photoShare !== 0.5 ? { photoShare: opts.photoShare } : {}),
        seconds: (Date.now() - started) / 1000,
      },
    };
    saveSegmenterConfig(o.out, config);
  } finally {
    bar.stop();
    if (labels) labels.dispose();
    dispose([data, valImages]);
    aug.dispose();
    opt.dispose();
    seg.dispose();
  }
  return { out: o.out, rounds };
}
