// SPDX-License-Identifier: MIT
// ADA augmentation, pipeline 'bgc' (spec §6; StyleGAN2-ADA's AugmentPipe): blit (xflip, rotate90, xint),
// geometric (scale, rotate, aniso, xfrac) and colour (brightness, contrast, lumaflip, hue, saturation)
// transforms, each applied with probability p; differentiable w.r.t. the images (G's loss and R1 go through it).
import { affineGrid, gridSample, pad } from '../../tensor/ops/nn.js';
import { fromBytes } from '../../tensor/ops/creation.js';
import type { Device } from '../../tensor/device.js';
import type { Tensor } from '../../tensor/tensor.js';
import { downsample2d, setupFilter, upsample2d } from '../../nn/functional/upfirdn2d.js';
import { keep, scope } from '../../tensor/scope.js';
import { HostRandom, type HostRandomState } from '../../util/hostRandom.js';
import { drawAdaTransforms, matmul, paddingMargins, scale2d, translate2d, type AdaSettings, type Mat } from './adaTransforms.js';

export type { AdaSettings } from './adaTransforms.js';

/** Low-pass taps of the sym6 wavelet (spec §6), used to up/downsample around the geometric resampling. */
export const sym6 = [
  0.015404109327027373, 0.0034907120842174702, -0.11799011114819057, -0.048311742585633, 0.4910559419267466, 0.787641141030194,
  0.3379294217276218, -0.07263752278646252, -0.021060292512300564, 0.04472490177066578, 0.0017677118642428036, -0.007800708325034148,
];

/** The 'bgc' defaults of StyleGAN2-ADA. */
export const bgc: AdaSettings = {
  xflip: 1,
  rotate90: 1,
  xint: 1,
  xintMax: 0.125,
  scale: 1,
  rotate: 1,
  aniso: 1,
  xfrac: 1,
  scaleStd: 0.2,
  rotateMax: 1,
  anisoStd: 0.2,
  xfracStd: 0.125,
  brightness: 1,
  contrast: 1,
  lumaflip: 1,
  hue: 1,
  saturation: 1,
  brightnessStd: 0.2,
  contrastStd: 0.5,
  hueMax: 1,
  saturationStd: 1,
};

/**
 * The segmentation pipeline 'color' (spec §10.2, `seg_augment.AugmentPipe`): brightness, contrast, luma flip, hue
 * and saturation only, each with probability p (0.5) per sample.
 */
export const colorOnly: AdaSettings = {
  ...bgc,
  xflip: 0,
  rotate90: 0,
  xint: 0,
  scale: 0,
  rotate: 0,
  aniso: 0,
  xfrac: 0,
};

/**
 * StyleGAN2-ADA's AugmentPipe. The per-sample parameters and matrices are drawn on the host (adaTransforms.ts)
 * from its own seeded generator, whose state checkpoints store; the images are transformed on their device.
 * A call dispatches about 40 ops and never waits for the device.
 */
export class AdaPipeline {
  /** Augmentation strength, adapted by the training loop (spec §6). */
  p = 0;
  private readonly hz: Tensor;
  private readonly rng: HostRandom;

  constructor(
    readonly s: AdaSettings = bgc,
    device: Device = 'cpu',
    seed = 0,
  ) {
    this.hz = keep(scope(() => setupFilter(sym6).to(device))); // scope frees the pre-.to() copy
    this.rng = new HostRandom(seed ^ 0xada);
  }

  /** The random generator's state (for checkpoints). */
  get rngState(): HostRandomState {
    return this.rng.state;
  }
  set rngState(v: HostRandomState) {
    this.rng.state = v;
  }

  /** images [N, C, H, W] (C = 3 for colour ops) → augmented, same shape. The identity (no op) at p = 0. */
  forward(images: Tensor): Tensor {
    if (this.p <= 0) return images;
    const [b, c, h, w] = images.shape;
    if (c !== 1 && c !== 3) throw new RangeError(`AdaPipeline: colour transforms need 1 or 3 channels, got ${c}`);
    const { geometric, colour } = drawAdaTransforms(this.s, this.p, b, w, h, c, this.rng);
    let x = geometric ? this.geometric(images, geometric) : images;

    // Colour: y = M·(r, g, b) + t per pixel; grey images use the mean of M's rows and of t (as upstream).
    const cm = new Float32Array(b * c * 4);
    for (let n = 0; n < b; n++) {
      const m = colour[n];
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 4; j++) {
          if (c === 3) cm[(n * 3 + i) * 4 + j] = m[i * 4 + j];
          else cm[n * 4 + j] += m[i * 4 + j] / 3;
        }
      }
    }
    const mat = fromBytes(cm, 'float32', [b, c, 4], images.device).to(x.dtype);
    const flat = x.reshape([b, c, h * w]);
    const offset = mat.narrow(2, 3, 1);
    x = c === 3 ? mat.narrow(2, 0, 3).matmul(flat).add(offset) : flat.mul(mat.narrow(2, 0, 3).sum(2, true)).add(offset);
    return x.reshape([b, c, h, w]);
  }

  /** Executes the inverse transforms gInv (pixel coordinates, origin at the centre) on the device. */
  private geometric(images: Tensor, gInv: readonly Mat[]): Tensor {
    const [b, c, h, w] = images.shape;
    const hzPad = Math.floor(this.hz.shape[0] / 4);
    const [mx0, my0, mx1, my1] = paddingMargins(gInv, w, h, hzPad);
    let x = pad(images, [mx0, mx1, my0, my1], { mode: 'reflect' });
    x = upsample2d(x, this.hz);
    const shape = [b, c, (h + hzPad * 2) * 2, (w + hzPad * 2) * 2];
    // Into the padded, 2× upsampled frame, then into affine_grid's normalised coordinates.
    const before = matmul(
      matmul(matmul(scale2d(2 / x.shape[3], 2 / x.shape[2]), translate2d(-0.5, -0.5), 3), scale2d(2, 2), 3),
      translate2d((mx0 - mx1) / 2, (my0 - my1) / 2),
      3,
    );
    const after = matmul(matmul(scale2d(1 / 2, 1 / 2), translate2d(0.5, 0.5), 3), scale2d(shape[3] / 2, shape[2] / 2), 3);
    const theta = new Float32Array(b * 6);
    for (let n = 0; n < b; n++) theta.set(matmul(matmul(before, gInv[n], 3), after, 3).subarray(0, 6), n * 6);
    const grid = affineGrid(fromBytes(theta, 'float32', [b, 2, 3], images.device).to(x.dtype), shape, { alignCorners: false });
    x = gridSample(x, grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: false });
    return downsample2d(x, this.hz, 2, { padding: -hzPad * 2, flipFilter: true });
  }

  dispose(): void {
    this.hz.dispose();
  }
}
