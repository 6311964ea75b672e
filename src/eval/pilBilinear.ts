// SPDX-License-Identifier: MIT
// PIL's BILINEAR resize of an 8-bit grey image (Resample.c: triangle filter widened when downsampling,
// 22-bit fixed-point weights, horizontal pass then vertical, each rounded to 8 bits), for ground-truth masks.

const precisionBits = 32 - 8 - 2;

/** Fixed-point weights of each output pixel along one axis: [first input index, weights…]. */
function coefficients(inSize: number, outSize: number): { start: Int32Array; count: Int32Array; weights: Int32Array; stride: number } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * stride);
  const pre = new Float64Array(stride);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < n; x++) {
      const t = Math.abs((x + xmin - center + 0.5) / filterScale);
      pre[x] = t < 1 ? 1 - t : 0;
      total += pre[x]!;
    }
    for (let x = 0; x < n; x++) {
      const w = total === 0 ? 0 : pre[x]! / total;
      weights[xx * stride + x] = Math.trunc(w < 0 ? -0.5 + w * 2 ** precisionBits : 0.5 + w * 2 ** precisionBits);
    }
    start[xx] = xmin;
    count[xx] = n;
  }
  return { start, count, weights, stride };
}

/** Rounds a fixed-point sum to a byte as PIL's clip8 does. */
function clip8(sum: number): number {
  const v = Math.floor(sum / 2 ** precisionBits);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Resizes a width×height grey image (one byte per pixel) to outW×outH exactly as PIL's `resize(…, BILINEAR)`. */
export function resizeBilinearPil(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  let img = src;
  let w = width;
  if (outW !== width) {
    const c = coefficients(width, outW);
    const out = new Uint8Array(outW * height);
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < outW; xx++) {
        let sum = 2 ** (precisionBits - 1);
        const base = y * width + c.start[xx]!;
        for (let x = 0; x < c.count[xx]!; x++) sum += img[base + x]! * c.weights[xx * c.stride + x]!;
        out[y * outW + xx] = clip8(sum);
      }
    }
    img = out;
    w = outW;
  }
  if (outH !== height) {
    const c = coefficients(height, outH);
    const out = new Uint8Array(w * outH);
    for (let yy = 0; yy < outH; yy++) {
      for (let x = 0; x < w; x++) {
        let sum = 2 ** (precisionBits - 1);
        for (let y = 0; y < c.count[yy]!; y++) sum += img[(c.start[yy]! + y) * w + x]! * c.weights[yy * c.stride + y]!;
        out[yy * w + x] = clip8(sum);
      }
    }
    img = out;
  }
  return img === src ? src.slice() : img;
}
