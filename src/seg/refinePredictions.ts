// SPDX-License-Identifier: MIT
// Beyond the paper: test-time refinement of a segmenter's predictions, photo by photo, with no masks: the foreground
// probability averaged over the photo and its mirror image, then refined by the photo's own colours with a
// contrast-sensitive smoothness term (colourRefine.ts), at the network's size. The setting comes with the model
// (model.json `refine`, refineSetting.ts). Callers upsample the result as logits (model.ts resizeLogits), so binary
// masks stay the argmax and soft alpha stays soft.
import type { UNet } from '../models/unet.js';
import { fromBytes } from '../tensor/ops/creation.js';
import { noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { refineByColour } from './colourRefine.js';
import { foregroundLogit } from './model.js';
import { type RefineSetting, refineIsActive } from './refineSetting.js';

/** Probabilities are kept in [ε, 1 − ε] before the logit: |logit| ≤ 13.8, finite for the bilinear upsampling. */
const probabilityEpsilon = 1e-6;

function checkPixels(x: Tensor, pixels: Uint8Array): [number, number] {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (x.shape.length !== 4 || c !== 3 || h !== w)
    throw new RangeError(`refinePredictions: x must be [N, 3, S, S], got [${x.shape.join(', ')}]`);
  if (pixels.length !== n * 3 * h * w)
    throw new RangeError(`refinePredictions: pixels hold ${pixels.length} bytes, x needs ${n * 3 * h * w} (N·3·S²)`);
  return [n, h];
}

/**
 * Foreground probabilities [N, 1, S, S] of a batch, refined as `setting` says: mirror-averaged with `flip`, then
 * colour-refined with `colour`; without a setting (or an empty one), the sigmoid of today's logit.
 * @param x the network input [N, 3, S, S] (RGB / 127.5 − 1), on the network's device.
 * @param pixels the same photos as CHW bytes [N, 3, S, S] on the host (packChw): the colour step reads them.
 */
export function refinedProbabilities(net: UNet, x: Tensor, pixels: Uint8Array, setting: RefineSetting | null | undefined): Tensor {
  const [n, s] = checkPixels(x, pixels);
  return noGrad(() =>
    scope(() => {
      let p = foregroundLogit(net, x).sigmoid(); // [N, 1, S, S]
      if (setting?.flip) p = p.add(foregroundLogit(net, x.flip(3)).flip(3).sigmoid()).mul(0.5);
      if (!setting?.colour) return p;
      // The colour step runs on the host (per-photo histograms and mean-field sweeps), then comes back.
      const host = Float32Array.from(p.cpu().data() as Float32Array);
      refineByColour(host, pixels, n, s, setting.colour);
      return fromBytes(host, 'float32', [n, 1, s, s], x.device);
    }),
  );
}

/**
 * Foreground logits [N, 1, S, S] for upsampling (resizeLogits) and thresholding at 0: without an active setting
 * exactly foregroundLogit (today's masks, bit for bit); with one, the logit of refinedProbabilities, clamped to
 * ±13.8 (probabilities in [1e−6, 1 − 1e−6]).
 */
export function refinedLogits(net: UNet, x: Tensor, pixels: Uint8Array, setting: RefineSetting | null | undefined): Tensor {
  if (!refineIsActive(setting)) return foregroundLogit(net, x);
  return noGrad(() => scope(() => probabilityLogit(refinedProbabilities(net, x, pixels, setting))));
}

/** log p − log(1 − p) of probabilities clamped to [1e−6, 1 − 1e−6] (logits within ±13.8), in the caller's scope. */
export function probabilityLogit(p: Tensor): Tensor {
  const q = p.clamp(probabilityEpsilon, 1 - probabilityEpsilon);
  return q.log().sub(q.neg().log1p());
}
