// SPDX-License-Identifier: MIT
// Beyond the paper: a photo's own "how far from the frame" map, the minimum barrier distance to the image border
// (Zhang et al., "Minimum Barrier Salient Object Detection at 80 FPS", ICCV 2015, its FastMBD raster scans). In an
// object-centred photo the background reaches the frame and the object does not: a pixel that can be joined to
// the border by a path whose colours never change much (low barrier) is likely background, however textured it
// is, and one that every path to the border must climb over a large colour change to reach is likely the object.
// It needs no training and sees real photos, so it is independent of the GAN's mistakes (its smooth backgrounds
// teach the segmenter that texture is object).

export interface BoundarySaliencyOptions {
  /** Raster-scan passes (each a forward and a backward sweep); FastMBD uses 3. */
  passes?: number;
  /** The colour space the barriers are measured in: 'rgb' (0–255 per channel) or 'lab' (CIELAB, D65). */
  space?: 'rgb' | 'lab';
}

/**
 * The minimum barrier distance of every pixel to the image border, per photo, computed per channel of the colour
 * space (`space`, 'rgb' by default), summed over the three, and divided by its largest value (a photo whose map is 0
 * everywhere stays 0). The colour refinement uses 'lab' (measured better on TuxComposite, docs/quality.md).
 * @param pixels n·3·S² bytes, CHW per photo.
 * @returns n·S² values in [0, 1], photo by photo.
 */
export function boundarySaliency(pixels: Uint8Array, n: number, size: number, o: BoundarySaliencyOptions = {}): Float32Array {
  const passes = o.passes ?? 3;
  const lab = (o.space ?? 'rgb') === 'lab';
  const plane = size * size;
  if (pixels.length !== n * 3 * plane) throw new RangeError(`boundarySaliency: ${pixels.length} bytes, expected ${n * 3 * plane}`);
  const out = new Float32Array(n * plane);
  const d = new Float32Array(plane);
  const hi = new Float32Array(plane);
  const lo = new Float32Array(plane);
  const chans = [0, 1, 2].map(() => new Float32Array(plane));
  for (let i = 0; i < n; i++) {
    const photo = pixels.subarray(i * 3 * plane, (i + 1) * 3 * plane);
    if (lab) toLab(photo, plane, chans);
    else for (let c = 0; c < 3; c++) for (let k = 0; k < plane; k++) chans[c]![k] = photo[c * plane + k]!;
    const sal = out.subarray(i * plane, (i + 1) * plane);
    for (let c = 0; c < 3; c++) {
      minimumBarrier(chans[c]!, size, passes, d, hi, lo);
      for (let k = 0; k < plane; k++) sal[k] = sal[k]! + d[k]!;
    }
    normaliseMax(sal);
  }
  return out;
}

/** FastMBD on one channel: d = min over paths to the border of (max − min along the path), approximated by raster scans. */
function minimumBarrier(img: Float32Array, s: number, passes: number, d: Float32Array, hi: Float32Array, lo: Float32Array): void {
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++) {
      const k = y * s + x;
      hi[k] = lo[k] = img[k]!;
      d[k] = y === 0 || x === 0 || y === s - 1 || x === s - 1 ? 0 : Infinity;
    }
  const relax = (k: number, j: number) => {
    const v = img[k]!;
    const h = Math.max(hi[j]!, v);
    const l = Math.min(lo[j]!, v);
    if (h - l < d[k]!) {
      d[k] = h - l;
      hi[k] = h;
      lo[k] = l;
    }
  };
  for (let p = 0; p < passes; p++) {
    for (let y = 1; y < s - 1; y++)
      for (let x = 1; x < s - 1; x++) {
        const k = y * s + x;
        relax(k, k - s);
        relax(k, k - 1);
      }
    for (let y = s - 2; y > 0; y--)
      for (let x = s - 2; x > 0; x--) {
        const k = y * s + x;
        relax(k, k + s);
        relax(k, k + 1);
      }
  }
}

/** sRGB bytes (CHW planes) to CIELAB (D65) planes: L in [0, 100], a and b about ±100. */
function toLab(photo: Uint8Array, plane: number, out: Float32Array[]): void {
  const lin = (v: number) => {
    const u = v / 255;
    return u <= 0.04045 ? u / 12.92 : ((u + 0.055) / 1.055) ** 2.4;
  };
  const f = (v: number) => (v > 216 / 24389 ? Math.cbrt(v) : ((24389 / 27) * v + 16) / 116);
  for (let k = 0; k < plane; k++) {
    const r = lin(photo[k]!);
    const g = lin(photo[plane + k]!);
    const b = lin(photo[2 * plane + k]!);
    const fx = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047);
    const fy = f(0.2126 * r + 0.7152 * g + 0.0722 * b);
    const fz = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
    out[0]![k] = 116 * fy - 16;
    out[1]![k] = 500 * (fx - fy);
    out[2]![k] = 200 * (fy - fz);
  }
}

function normaliseMax(v: Float32Array): void {
  let max = 0;
  for (let k = 0; k < v.length; k++) max = Math.max(max, v[k]!);
  if (max > 0) for (let k = 0; k < v.length; k++) v[k] = v[k]! / max;
}
