// SPDX-License-Identifier: MIT
// Beyond the paper: geometric augmentation of (image, mask) pairs for the segmenter.
//
// The official segmenter sees its synthetic pairs with colour augmentation only (spec §10.2). A short CPU-budget GAN
// tends to draw the object at one place and scale, often with nearly one mask shape; a U-Net trained on that learns
// "a blob there" rather than "this looks like the object". A random mirror, scale, rotation and shift, applied to
// the image and its mask alike, removes that shortcut. Image and mask are sampled through one grid (bilinear,
// border reflected, so the scene continues past the edge as in a wider crop); the mask is thresholded at 0.5 again.
import { affineGrid, gridSample } from '../tensor/ops/nn.js';
import { cat, tensor } from '../tensor/ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { HostRandom } from '../util/hostRandom.js';

export interface GeometricRanges {
  /** Largest |log2 scale| (0.25: ×0.84 to ×1.19). */
  logScale: number;
  /** Largest rotation in degrees (15). */
  rotateDeg: number;
  /** Largest shift as a fraction of the side (0.125, Tx's range). */
  shift: number;
}

export const defaultGeometricRanges: GeometricRanges = { logScale: 0.25, rotateDeg: 15, shift: 0.125 };

export class GeometricAugment {
  private readonly rand: HostRandom;

  constructor(
    seed: number,
    readonly ranges: GeometricRanges = defaultGeometricRanges,
  ) {
    this.rand = new HostRandom(seed ^ 0x6e0a);
  }

  /** The per-sample 2×3 output→input maps in normalised coordinates, [N, 2, 3] float32 (drawn on the host). */
  private thetas(n: number): Float32Array {
    const r = this.ranges;
    const out = new Float32Array(n * 6);
    const u = () => 2 * this.rand.uniform() - 1;
    for (let i = 0; i < n; i++) {
      const flip = this.rand.uniform() < 0.5 ? -1 : 1;
      const s = 2 ** (r.logScale * u());
      const a = ((r.rotateDeg * Math.PI) / 180) * u();
      const tx = 2 * r.shift * u();
      const ty = 2 * r.shift * u();
      const c = Math.cos(a) / s;
      const sn = Math.sin(a) / s;
      // input = R(a)/s · (flip·x, y) + t
      out.set([c * flip, -sn, tx, sn * flip, c, ty], i * 6);
    }
    return out;
  }

  /**
   * images [N, 3, S, S] (float, any range) and masks [N, S, S] (int64 0/1) → the same transform applied to both:
   * [images, masks] in the same dtypes.
   */
  apply(images: Tensor, masks: Tensor): [Tensor, Tensor] {
    const [n, , h, w] = images.shape;
    const theta = tensor(this.thetas(n!), { shape: [n!, 2, 3], device: images.device });
    const grid = affineGrid(theta, [n!, 4, h!, w!]);
    const both = gridSample(cat([images, masks.unsqueeze(1).to({ dtype: images.dtype })], 1), grid, { paddingMode: 'reflection' });
    return [both.narrow(1, 0, 3), both.narrow(1, 3, 1).squeeze(1).gt(0.5).long()];
  }
}
