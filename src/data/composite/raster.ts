// SPDX-License-Identifier: MIT
// Per-pixel helpers for the composite datasets (datasets.md §2) on raw Float32 planes: bilinear sampling, a
// fractional grey erosion, a separable Gaussian blur and area-averaging downsampling. Plain JS loops: at the
// working sizes (≤ 256²) they cost a few milliseconds per image, far less than decoding and JPEG encoding.

/** A single-channel float image, row-major. */
export interface Plane {
  data: Float32Array;
  width: number;
  height: number;
}

/** A pixel rectangle [x0, x1) × [y0, y1). */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Resamples the square crop (left, top, side) of an interleaved RGB uint8 image to out (3 planes of
 * size·size, values 0–1) with a bilinear filter, clamping at the image border.
 */
export function sampleCrop(
  rgb: Uint8Array,
  width: number,
  height: number,
  left: number,
  top: number,
  side: number,
  size: number,
  out: Float32Array[],
): void {
  const step = side / size;
  const [r, g, b] = out;
  for (let y = 0; y < size; y++) {
    const sy = Math.min(Math.max(top + (y + 0.5) * step - 0.5, 0), height - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, height - 1);
    const ty = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = Math.min(Math.max(left + (x + 0.5) * step - 0.5, 0), width - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, width - 1);
      const tx = sx - x0;
      const w00 = (1 - tx) * (1 - ty);
      const w01 = tx * (1 - ty);
      const w10 = (1 - tx) * ty;
      const w11 = tx * ty;
      const i00 = (y0 * width + x0) * 3;
      const i01 = (y0 * width + x1) * 3;
      const i10 = (y1 * width + x0) * 3;
      const i11 = (y1 * width + x1) * 3;
      const o = y * size + x;
      r[o] = (w00 * rgb[i00] + w01 * rgb[i01] + w10 * rgb[i10] + w11 * rgb[i11]) / 255;
      g[o] = (w00 * rgb[i00 + 1] + w01 * rgb[i01 + 1] + w10 * rgb[i10 + 1] + w11 * rgb[i11 + 1]) / 255;
      b[o] = (w00 * rgb[i00 + 2] + w01 * rgb[i01 + 2] + w10 * rgb[i10 + 2] + w11 * rgb[i11 + 2]) / 255;
    }
  }
}

/** A 2-D affine map from output pixel centres to source pixel coordinates: src = A·(x, y) + t. */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  tx: number;
  ty: number;
}

/**
 * Warps an interleaved RGBA uint8 image (not premultiplied) into premultiplied float planes: for each output
 * pixel in rect, src = (a·x + b·y + tx, c·x + d·y + ty) is sampled bilinearly, with zero alpha outside the
 * source. alpha and rgb (3 planes) are size·size; pixels outside rect are left as they are.
 */
export function warpRgba(
  rgba: Uint8Array,
  width: number,
  height: number,
  m: Affine,
  rect: Rect,
  size: number,
  alpha: Float32Array,
  rgb: Float32Array[],
): void {
  const [pr, pg, pb] = rgb;
  const k = 1 / (255 * 255);
  for (let y = rect.y0; y < rect.y1; y++) {
    for (let x = rect.x0; x < rect.x1; x++) {
      const sx = m.a * (x + 0.5) + m.b * (y + 0.5) + m.tx - 0.5;
      const sy = m.c * (x + 0.5) + m.d * (y + 0.5) + m.ty - 0.5;
      const o = y * size + x;
      if (sx <= -1 || sy <= -1 || sx >= width || sy >= height) {
        alpha[o] = 0;
        pr[o] = pg[o] = pb[o] = 0;
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const tx = sx - x0;
      const ty = sy - y0;
      let sa = 0;
      let sr = 0;
      let sg = 0;
      let sb = 0;
      // Premultiply each tap before weighting: interpolating straight colours would drag the (arbitrary) colour
      // of transparent pixels into the object's edge.
      for (let j = 0; j < 4; j++) {
        const xx = x0 + (j & 1);
        const yy = y0 + (j >> 1);
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
        const w = (j & 1 ? tx : 1 - tx) * (j >> 1 ? ty : 1 - ty);
        const i = (yy * width + xx) * 4;
        const wa = w * rgba[i + 3];
        sa += wa;
        sr += wa * rgba[i];
        sg += wa * rgba[i + 1];
        sb += wa * rgba[i + 2];
      }
      alpha[o] = sa / 255;
      pr[o] = sr * k;
      pg[o] = sg * k;
      pb[o] = sb * k;
    }
  }
}

/** Grey erosion (a min filter) of plane within rect by a square of half-width `radius` (fractional: the result
 *  is interpolated between the integer radii around it). tmp must hold size·size floats. */
export function erode(plane: Float32Array, size: number, rect: Rect, radius: number, tmp: Float32Array, tmp2: Float32Array): void {
  const k = Math.floor(radius);
  const frac = radius - k;
  if (radius <= 0) return;
  // tmp2 ← erosion by k + 1 (only needed when frac > 0), plane ← erosion by k, then the mix.
  if (frac > 0) {
    minFilter(plane, size, rect, k + 1, tmp, tmp2);
  }
  if (k > 0) minFilter(plane, size, rect, k, tmp, plane);
  if (frac > 0) {
    for (let y = rect.y0; y < rect.y1; y++) {
      for (let x = rect.x0; x < rect.x1; x++) {
        const o = y * size + x;
        plane[o] += frac * (tmp2[o] - plane[o]);
      }
    }
  }
}

/** out ← separable min filter (square of half-width r) of src within rect. The window is cut at the rect's
 *  border: the caller's rect holds a zero margin around the object, or ends at the frame, where the object is
 *  cut by the frame and must not be eroded. */
function minFilter(src: Float32Array, size: number, rect: Rect, r: number, tmp: Float32Array, out: Float32Array): void {
  for (let y = rect.y0; y < rect.y1; y++) {
    const row = y * size;
    for (let x = rect.x0; x < rect.x1; x++) {
      const hi = row + Math.min(x + r, rect.x1 - 1);
      let m = 1;
      for (let i = row + Math.max(x - r, rect.x0); i <= hi; i++) if (src[i] < m) m = src[i];
      tmp[row + x] = m;
    }
  }
  for (let y = rect.y0; y < rect.y1; y++) {
    const lo = Math.max(y - r, rect.y0) * size;
    const hi = Math.min(y + r, rect.y1 - 1) * size;
    for (let x = rect.x0; x < rect.x1; x++) {
      let m = 1;
      for (let i = lo + x; i <= hi + x; i += size) if (tmp[i] < m) m = tmp[i];
      out[y * size + x] = m;
    }
  }
}

/** Normalised 1-D Gaussian taps for σ (radius ⌈3σ⌉). */
export function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    k[i + r] = Math.exp((-i * i) / (2 * sigma * sigma));
    sum += k[i + r];
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** In-place separable Gaussian blur of plane within rect, clamping at the rect's border (replicate). */
export function blur(plane: Float32Array, size: number, rect: Rect, sigma: number, tmp: Float32Array): void {
  if (sigma <= 0) return;
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) >> 1;
  const n = k.length;
  const { x0, x1, y0, y1 } = rect;
  // Rows, then columns; the clamped index is only computed near the border, the interior is a plain dot product.
  for (let y = y0; y < y1; y++) {
    const row = y * size;
    for (let x = x0; x < x1; x++) {
      let s = 0;
      if (x - r >= x0 && x + r < x1) {
        const base = row + x - r;
        for (let j = 0; j < n; j++) s += k[j] * plane[base + j];
      } else {
        for (let j = 0; j < n; j++) s += k[j] * plane[row + Math.min(Math.max(x + j - r, x0), x1 - 1)];
      }
      tmp[row + x] = s;
    }
  }
  for (let y = y0; y < y1; y++) {
    const inside = y - r >= y0 && y + r < y1;
    for (let x = x0; x < x1; x++) {
      let s = 0;
      if (inside) {
        let i = (y - r) * size + x;
        for (let j = 0; j < n; j++, i += size) s += k[j] * tmp[i];
      } else {
        for (let j = 0; j < n; j++) s += k[j] * tmp[Math.min(Math.max(y + j - r, y0), y1 - 1) * size + x];
      }
      plane[y * size + x] = s;
    }
  }
}

/** out (size/f)² ← the mean of each f×f block of src (size²): area averaging by an integer factor. */
export function downsampleArea(src: Float32Array, size: number, f: number, out: Float32Array): void {
  const s = size / f;
  const inv = 1 / (f * f);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      let sum = 0;
      for (let dy = 0; dy < f; dy++) {
        const row = (y * f + dy) * size + x * f;
        for (let dx = 0; dx < f; dx++) sum += src[row + dx];
      }
      out[y * s + x] = sum * inv;
    }
  }
}

/** Box 2× downsampling of an interleaved RGBA uint8 image with premultiplied averaging (a mip level). */
export function halveRgba(rgba: Uint8Array, width: number, height: number): { rgba: Uint8Array; width: number; height: number } {
  const w = Math.max(1, width >> 1);
  const h = Math.max(1, height >> 1);
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let a = 0;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 0; j < 4; j++) {
        const xx = Math.min(2 * x + (j & 1), width - 1);
        const yy = Math.min(2 * y + (j >> 1), height - 1);
        const i = (yy * width + xx) * 4;
        const al = rgba[i + 3];
        a += al;
        r += al * rgba[i];
        g += al * rgba[i + 1];
        b += al * rgba[i + 2];
      }
      const o = (y * w + x) * 4;
      out[o + 3] = Math.round(a / 4);
      if (a > 0) {
        out[o] = Math.round(r / a);
        out[o + 1] = Math.round(g / a);
        out[o + 2] = Math.round(b / a);
      }
    }
  }
  return { rgba: out, width: w, height: h };
}
