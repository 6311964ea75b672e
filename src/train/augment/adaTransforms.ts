// SPDX-License-Identifier: MIT
// ADA's per-sample transform parameters and matrices (spec §6), drawn and composed on the host in float64.
// StyleGAN2-ADA builds these on the training device from about 450 tiny tensor ops per call (2 400 dispatches
// with their internals) and reads the padding margins back with a device sync; here they cost microseconds of JS
// and one upload, and the image work (pad, resample, colour matmul) stays on the device. The distributions and the
// composition order are the official ones; only the random stream differs (HostRandom instead of torch's).
import type { HostRandom } from '../../util/hostRandom.js';

/** Probability multipliers and ranges (the 'bgc' pipeline's fields; see adaPipeline.ts). */
export interface AdaSettings {
  xflip: number;
  rotate90: number;
  xint: number;
  xintMax: number;
  scale: number;
  rotate: number;
  aniso: number;
  xfrac: number;
  scaleStd: number;
  rotateMax: number;
  anisoStd: number;
  xfracStd: number;
  brightness: number;
  contrast: number;
  lumaflip: number;
  hue: number;
  saturation: number;
  brightnessStd: number;
  contrastStd: number;
  hueMax: number;
  saturationStd: number;
}

/** Row-major 3×3 (geometric, homogeneous 2-D) or 4×4 (colour, homogeneous RGB) matrix. */
export type Mat = Float64Array;

export function matmul(a: Mat, b: Mat, n: number): Mat {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      out[i * n + j] = s;
    }
  }
  return out;
}
export function identity(n: number): Mat {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}
export const translate2d = (tx: number, ty: number): Mat => Float64Array.of(1, 0, tx, 0, 1, ty, 0, 0, 1);
export const scale2d = (sx: number, sy: number): Mat => Float64Array.of(sx, 0, 0, 0, sy, 0, 0, 0, 1);
export const rotate2d = (theta: number): Mat => {
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  return Float64Array.of(c, -s, 0, s, c, 0, 0, 0, 1);
};
export const translate3d = (tx: number, ty: number, tz: number): Mat => Float64Array.of(1, 0, 0, tx, 0, 1, 0, ty, 0, 0, 1, tz, 0, 0, 0, 1);
export const scale3d = (sx: number, sy: number, sz: number): Mat => Float64Array.of(sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, sz, 0, 0, 0, 0, 1);
/** Rotation by theta about the unit axis v (Rodrigues), homogeneous 4×4. */
export function rotate3d(v: readonly [number, number, number], theta: number): Mat {
  const [x, y, z] = v;
  const s = Math.sin(theta);
  const c = Math.cos(theta);
  const cc = 1 - c;
  return Float64Array.of(
    cc * x * x + c,
    cc * x * y - s * z,
    cc * x * z + s * y,
    0,
    cc * x * y + s * z,
    cc * y * y + c,
    cc * y * z - s * x,
    0,
    cc * x * z - s * y,
    cc * y * z + s * x,
    cc * z * z + c,
    0,
    0,
    0,
    0,
    1,
  );
}

/** torch.round: halves to even. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface AdaTransforms {
  /** Per sample, the inverse geometric transform in pixel coordinates (origin at the image centre); null when
   * the settings enable no geometric transform (then the geometric stage is skipped, as upstream). */
  geometric: Mat[] | null;
  /** Per sample, the 4×4 colour matrix acting on (r, g, b, 1). */
  colour: Mat[];
}

/**
 * Draws the transforms of one batch. Each transform is applied to a sample with probability (multiplier · p),
 * one gate draw per sample, in the official order: geometric composed by right-multiplication of inverses
 * (xflip, rotate90, xint, scale, rotate, aniso, rotate, xfrac), colour by left-multiplication (brightness,
 * contrast, luma flip, hue, saturation). Hue and saturation need colour images (channels > 1).
 */
export function drawAdaTransforms(
  s: AdaSettings,
  p: number,
  batch: number,
  width: number,
  height: number,
  channels: number,
  rng: HostRandom,
): AdaTransforms {
  const on = (prob: number) => rng.uniform() < prob;
  const hasGeometric = s.xflip > 0 || s.rotate90 > 0 || s.xint > 0 || s.scale > 0 || s.rotate > 0 || s.aniso > 0 || s.xfrac > 0;
  const pRot = 1 - Math.sqrt(Math.min(Math.max(1 - s.rotate * p, 0), 1));
  const k = 1 / Math.sqrt(3);
  const vvT = new Float64Array(16); // outer product of the luma axis (k, k, k, 0)
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) vvT[i * 4 + j] = k * k;
  const geometric: Mat[] = [];
  const colour: Mat[] = [];
  for (let n = 0; n < batch; n++) {
    if (hasGeometric) {
      let g = identity(3);
      const right = (m: Mat) => (g = matmul(g, m, 3));
      if (s.xflip > 0) {
        const i = Math.floor(rng.uniform() * 2);
        if (on(s.xflip * p)) right(scale2d(1 - 2 * i, 1));
      }
      if (s.rotate90 > 0) {
        const i = Math.floor(rng.uniform() * 4);
        if (on(s.rotate90 * p)) right(rotate2d((i * Math.PI) / 2)); // the inverse of a rotation by −i·π/2
      }
      if (s.xint > 0) {
        const tx = (rng.uniform() * 2 - 1) * s.xintMax;
        const ty = (rng.uniform() * 2 - 1) * s.xintMax;
        if (on(s.xint * p)) right(translate2d(-roundHalfEven(tx * width), -roundHalfEven(ty * height)));
      }
      if (s.scale > 0) {
        const v = 2 ** (rng.normal() * s.scaleStd);
        if (on(s.scale * p)) right(scale2d(1 / v, 1 / v));
      }
      if (s.rotate > 0) {
        const theta = (rng.uniform() * 2 - 1) * Math.PI * s.rotateMax;
        if (on(pRot)) right(rotate2d(theta));
      }
      if (s.aniso > 0) {
        const v = 2 ** (rng.normal() * s.anisoStd);
        if (on(s.aniso * p)) right(scale2d(1 / v, v));
      }
      if (s.rotate > 0) {
        const theta = (rng.uniform() * 2 - 1) * Math.PI * s.rotateMax;
        if (on(pRot)) right(rotate2d(theta));
      }
      if (s.xfrac > 0) {
        const tx = rng.normal() * s.xfracStd;
        const ty = rng.normal() * s.xfracStd;
        if (on(s.xfrac * p)) right(translate2d(-tx * width, -ty * height));
      }
      geometric.push(g);
    }
    let c = identity(4);
    const left = (m: Mat) => (c = matmul(m, c, 4));
    if (s.brightness > 0) {
      const v = rng.normal() * s.brightnessStd;
      if (on(s.brightness * p)) left(translate3d(v, v, v));
    }
    if (s.contrast > 0) {
      const v = 2 ** (rng.normal() * s.contrastStd);
      if (on(s.contrast * p)) left(scale3d(v, v, v));
    }
    if (s.lumaflip > 0) {
      const i = Math.floor(rng.uniform() * 2);
      if (on(s.lumaflip * p)) left(identity(4).map((e, j) => e - 2 * vvT[j] * i)); // Householder reflection
    }
    if (s.hue > 0 && channels > 1) {
      const theta = (rng.uniform() * 2 - 1) * Math.PI * s.hueMax;
      if (on(s.hue * p)) left(rotate3d([k, k, k], theta));
    }
    if (s.saturation > 0 && channels > 1) {
      const v = 2 ** (rng.normal() * s.saturationStd);
      if (on(s.saturation * p)) left(identity(4).map((e, j) => vvT[j] + (e - vvT[j]) * v));
    }
    colour.push(c);
  }
  return { geometric: hasGeometric ? geometric : null, colour };
}

/**
 * The reflect padding [x0, y0, x1, y1] that keeps every transformed corner (plus the filter's support, `pad`
 * pixels) inside the padded image, each in [0, size − 1]: StyleGAN2-ADA's margin, which it reads back from the
 * device.
 */
export function paddingMargins(gInv: readonly Mat[], width: number, height: number, pad: number): [number, number, number, number] {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const m = [-Infinity, -Infinity, -Infinity, -Infinity];
  for (const g of gInv) {
    for (const [x, y] of [
      [-cx, -cy],
      [cx, -cy],
      [cx, cy],
      [-cx, cy],
    ]) {
      const px = g[0] * x + g[1] * y + g[2];
      const py = g[3] * x + g[4] * y + g[5];
      m[0] = Math.max(m[0], -px);
      m[1] = Math.max(m[1], -py);
      m[2] = Math.max(m[2], px);
      m[3] = Math.max(m[3], py);
    }
  }
  const add = [pad * 2 - cx, pad * 2 - cy, pad * 2 - cx, pad * 2 - cy];
  const lim = [width - 1, height - 1, width - 1, height - 1];
  return m.map((v, i) => Math.ceil(Math.min(Math.max(v + add[i], 0), lim[i]))) as [number, number, number, number];
}
