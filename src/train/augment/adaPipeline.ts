// SPDX-License-Identifier: MIT
// ADA augmentation, pipeline 'bgc' (spec §6; StyleGAN2-ADA's AugmentPipe): blit (xflip, rotate90, xint),
// geometric (scale, rotate, aniso, xfrac) and colour (brightness, contrast, lumaflip, hue, saturation)
// transforms, each applied with probability p; differentiable w.r.t. the images (G's loss and R1 go through it).
import { affineGrid, gridSample, pad } from '../../tensor/ops/nn.js';
import { eye, where, zerosLike, onesLike, tensor } from '../../tensor/ops/creation.js';
import { rand, randn } from '../../tensor/ops/random.js';
import type { Device } from '../../tensor/device.js';
import type { Tensor } from '../../tensor/tensor.js';
import { downsample2d, setupFilter, upsample2d } from '../../nn/functional/upfirdn2d.js';
import { rotate2dInv, rotate3d, scale2d, scale2dInv, scale3d, translate2d, translate2dInv, translate3d } from './matrices.js';
import { keep, scope } from '../../tensor/scope.js';

/** Low-pass taps of the sym6 wavelet (spec §6), used to up/downsample around the geometric resampling. */
export const sym6 = [
  0.015404109327027373, 0.0034907120842174702, -0.11799011114819057, -0.048311742585633, 0.4910559419267466,
  0.787641141030194, 0.3379294217276218, -0.07263752278646252, -0.021060292512300564, 0.04472490177066578,
  0.0017677118642428036, -0.007800708325034148,
];

/** Probability multipliers and ranges; the 'bgc' defaults of StyleGAN2-ADA. */
export interface AdaSettings {
  xflip: number; rotate90: number; xint: number; xintMax: number;
  scale: number; rotate: number; aniso: number; xfrac: number;
  scaleStd: number; rotateMax: number; anisoStd: number; xfracStd: number;
  brightness: number; contrast: number; lumaflip: number; hue: number; saturation: number;
  brightnessStd: number; contrastStd: number; hueMax: number; saturationStd: number;
}

export const bgc: AdaSettings = {
  xflip: 1, rotate90: 1, xint: 1, xintMax: 0.125,
  scale: 1, rotate: 1, aniso: 1, xfrac: 1, scaleStd: 0.2, rotateMax: 1, anisoStd: 0.2, xfracStd: 0.125,
  brightness: 1, contrast: 1, lumaflip: 1, hue: 1, saturation: 1,
  brightnessStd: 0.2, contrastStd: 0.5, hueMax: 1, saturationStd: 1,
};

/**
 * The segmentation pipeline 'color' (spec §10.2, `seg_augment.AugmentPipe`): brightness, contrast, luma flip, hue
 * and saturation only, each with probability p (0.5) per sample.
 */
export const colorOnly: AdaSettings = {
  ...bgc, xflip: 0, rotate90: 0, xint: 0, scale: 0, rotate: 0, aniso: 0, xfrac: 0,
};

export class AdaPipeline {
  /** Augmentation strength, adapted by the training loop (spec §6). */
  p = 0;
  private readonly hz: Tensor;

  constructor(readonly s: AdaSettings = bgc, device: Device = 'cpu') {
    this.hz = keep(scope(() => setupFilter(sym6).to(device))); // scope frees the pre-.to() copy
  }

  /** images [N, C, H, W] (C = 3 for colour ops) → augmented, same shape. The identity (no op) at p = 0. */
  forward(images: Tensor): Tensor {
    if (this.p <= 0) return images;
    const [b, c, h, w] = images.shape;
    const d = images.device;
    const s = this.s;
    const p = this.p;
    // where(U < prob, value, fallback), one draw per sample.
    const gate = (value: Tensor, prob: number, fallback: Tensor, shape: number[] = [b]) =>
      where(rand(shape, { device: d }).lt(prob), value, fallback);

    // Geometric: compose the inverse transform.
    let gInv = eye(3, 3, { device: d }).unsqueeze(0).expand([b, 3, 3]);
    if (s.xflip > 0) {
      let i = rand([b], { device: d }).mul(2).floor();
      i = gate(i, s.xflip * p, zerosLike(i));
      gInv = gInv.matmul(scale2dInv(i.mul(-2).add(1), 1, b, d));
    }
    if (s.rotate90 > 0) {
      let i = rand([b], { device: d }).mul(4).floor();
      i = gate(i, s.rotate90 * p, zerosLike(i));
      gInv = gInv.matmul(rotate2dInv(i.mul(-Math.PI / 2), b, d));
    }
    if (s.xint > 0) {
      let t = rand([b, 2], { device: d }).mul(2).sub(1).mul(s.xintMax);
      t = gate(t, s.xint * p, zerosLike(t), [b, 1]);
      gInv = gInv.matmul(translate2dInv(t.select(1, 0).mul(w).round(), t.select(1, 1).mul(h).round(), b, d));
    }
    if (s.scale > 0) {
      let v = randn([b], { device: d }).mul(s.scaleStd).rpow(2);
      v = gate(v, s.scale * p, onesLike(v));
      gInv = gInv.matmul(scale2dInv(v, v, b, d));
    }
    const pRot = 1 - Math.sqrt(Math.min(Math.max(1 - s.rotate * p, 0), 1));
    if (s.rotate > 0) {
      let theta = rand([b], { device: d }).mul(2).sub(1).mul(Math.PI * s.rotateMax);
      theta = gate(theta, pRot, zerosLike(theta));
      gInv = gInv.matmul(rotate2dInv(theta.neg(), b, d));
    }
    if (s.aniso > 0) {
      let v = randn([b], { device: d }).mul(s.anisoStd).rpow(2);
      v = gate(v, s.aniso * p, onesLike(v));
      gInv = gInv.matmul(scale2dInv(v, v.reciprocal(), b, d));
    }
    if (s.rotate > 0) {
      let theta = rand([b], { device: d }).mul(2).sub(1).mul(Math.PI * s.rotateMax);
      theta = gate(theta, pRot, zerosLike(theta));
      gInv = gInv.matmul(rotate2dInv(theta.neg(), b, d));
    }
    if (s.xfrac > 0) {
      let t = randn([b, 2], { device: d }).mul(s.xfracStd);
      t = gate(t, s.xfrac * p, zerosLike(t), [b, 1]);
      gInv = gInv.matmul(translate2dInv(t.select(1, 0).mul(w), t.select(1, 1).mul(h), b, d));
    }
    // As upstream, the geometric stage runs only when some geometric transform is enabled (the segmentation
    // 'color' pipeline of spec §10.2 has none, and resampling would blur its images).
    const hasGeometric = s.xflip > 0 || s.rotate90 > 0 || s.xint > 0 || s.scale > 0 || s.rotate > 0 || s.aniso > 0 || s.xfrac > 0;
    let x = hasGeometric ? this.geometric(images, gInv) : images;

    // Colour: compose a 4×4 matrix acting on (r, g, b, 1).
    let cm = eye(4, 4, { device: d }).unsqueeze(0).expand([b, 4, 4]);
    if (s.brightness > 0) {
      let v = randn([b], { device: d }).mul(s.brightnessStd);
      v = gate(v, s.brightness * p, zerosLike(v));
      cm = translate3d(v, v, v, b, d).matmul(cm);
    }
    if (s.contrast > 0) {
      let v = randn([b], { device: d }).mul(s.contrastStd).rpow(2);
      v = gate(v, s.contrast * p, onesLike(v));
      cm = scale3d(v, v, v, b, d).matmul(cm);
    }
    const k = 1 / Math.sqrt(3);
    const luma = tensor([k, k, k, 0], { device: d }); // the luma axis
    const vvT = luma.unsqueeze(1).matmul(luma.unsqueeze(0)); // [4, 4]
    const i4 = eye(4, 4, { device: d });
    if (s.lumaflip > 0) {
      let i = rand([b, 1, 1], { device: d }).mul(2).floor();
      i = gate(i, s.lumaflip * p, zerosLike(i), [b, 1, 1]);
      cm = i4.sub(vvT.mul(2).mul(i)).matmul(cm); // Householder reflection
    }
    if (s.hue > 0 && c > 1) {
      let theta = rand([b], { device: d }).mul(2).sub(1).mul(Math.PI * s.hueMax);
      theta = gate(theta, s.hue * p, zerosLike(theta));
      cm = rotate3d([k, k, k], theta, b, d).matmul(cm);
    }
    if (s.saturation > 0 && c > 1) {
      let v = randn([b, 1, 1], { device: d }).mul(s.saturationStd).rpow(2);
      v = gate(v, s.saturation * p, onesLike(v), [b, 1, 1]);
      cm = vvT.add(i4.sub(vvT).mul(v)).matmul(cm);
    }
    if (cm.dtype !== x.dtype) cm = cm.to(x.dtype);
    const flat = x.reshape([b, c, h * w]);
    if (c === 3) {
      x = cm.narrow(1, 0, 3).narrow(2, 0, 3).matmul(flat).add(cm.narrow(1, 0, 3).narrow(2, 3, 1));
    } else if (c === 1) {
      const m = cm.narrow(1, 0, 3).narrow(2, 0, 3).mean(1, true);
      x = flat.mul(m.sum(2, true)).add(cm.narrow(1, 0, 3).narrow(2, 3, 1).mean(1, true));
    } else {
      throw new RangeError(`AdaPipeline: colour transforms need 1 or 3 channels, got ${c}`);
    }
    return x.reshape([b, c, h, w]);
  }

  /** Executes the inverse transform gInv [B, 3, 3] (pixel coordinates, origin at the centre). */
  private geometric(images: Tensor, gInvIn: Tensor): Tensor {
    const [b, c, h, w] = images.shape;
    const d = images.device;
    const hzPad = Math.floor(this.hz.shape[0] / 4);
    const cx = (w - 1) / 2;
    const cy = (h - 1) / 2;
    // Padding: how far the transformed corners reach outside the image, plus the filter's support.
    const cp = tensor([[-cx, -cy, 1], [cx, -cy, 1], [cx, cy, 1], [-cx, cy, 1]], { device: d });
    const corners = gInvIn.matmul(cp.t()); // [B, 3, 4]
    const margin = corners.narrow(1, 0, 2).permute([1, 0, 2]).flatten(1); // [2, B·4]
    const m = margin.neg().amax(1).toArray().concat(margin.amax(1).toArray()); // [x0, y0, x1, y1]
    const add = [hzPad * 2 - cx, hzPad * 2 - cy, hzPad * 2 - cx, hzPad * 2 - cy];
    const lim = [w - 1, h - 1, w - 1, h - 1];
    const [mx0, my0, mx1, my1] = m.map((v, i) => Math.ceil(Math.min(Math.max(v + add[i], 0), lim[i])));
    let x = pad(images, [mx0, mx1, my0, my1], { mode: 'reflect' });
    let gInv = translate2d((mx0 - mx1) / 2, (my0 - my1) / 2, b, d).matmul(gInvIn);
    x = upsample2d(x, this.hz);
    gInv = scale2d(2, 2, b, d).matmul(gInv).matmul(scale2dInv(2, 2, b, d));
    gInv = translate2d(-0.5, -0.5, b, d).matmul(gInv).matmul(translate2dInv(-0.5, -0.5, b, d));
    const shape = [b, c, (h + hzPad * 2) * 2, (w + hzPad * 2) * 2];
    gInv = scale2d(2 / x.shape[3], 2 / x.shape[2], b, d).matmul(gInv).matmul(scale2dInv(2 / shape[3], 2 / shape[2], b, d));
    const grid = affineGrid(gInv.narrow(1, 0, 2).to(x.dtype), shape, { alignCorners: false });
    x = gridSample(x, grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: false });
    return downsample2d(x, this.hz, 2, { padding: -hzPad * 2, flipFilter: true });
  }

  dispose(): void {
    this.hz.dispose();
  }
}
