// SPDX-License-Identifier: MIT
// upfirdn2d (spec §14): upsample by zero insertion, pad (negative = crop), FIR filter, downsample; and the
// StyleGAN2 FIR filter [1, 3, 3, 1].
import { tensor } from '../../tensor/ops/creation.js';
import { conv2d, pad } from '../../tensor/ops/nn.js';
import type { Tensor } from '../../tensor/tensor.js';
import { cast } from './cast.js';

/**
 * A normalised FIR filter. Short filters (< 8 taps) become the 2-D outer product [n, n] (the 4-tap binomial
 * [1, 3, 3, 1] → /64); long ones (≥ 8 taps, e.g. sym6) stay 1-D [n] and are applied separably, as upstream.
 */
export function setupFilter(taps: readonly number[] = [1, 3, 3, 1]): Tensor {
  const n = taps.length;
  if (n >= 8) {
    const total = taps.reduce((a, b) => a + b, 0);
    return tensor(
      taps.map((v) => v / total),
      { shape: [n] },
    );
  }
  const out: number[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) total += taps[i] * taps[j];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out.push((taps[i] * taps[j]) / total);
  return tensor(out, { shape: [n, n] });
}

export interface UpFirDnOptions {
  up?: number;
  down?: number;
  /** [x0, x1, y0, y1] (negative crops). */
  padding?: readonly [number, number, number, number];
  /** Use the filter as is (true) or flipped (false, a true convolution; the default). */
  flipFilter?: boolean;
  /** Overall gain; the 2-D filter is scaled by gain (= gain^(ndim/2) for ndim 2). */
  gain?: number;
}

/** x [N, C, H, W], f [fh, fw] (or separable [n]) → per-channel up → pad → FIR → down. */
export function upfirdn2d(x: Tensor, f: Tensor, o: UpFirDnOptions = {}): Tensor {
  const up = o.up ?? 1;
  const down = o.down ?? 1;
  const [px0, px1, py0, py1] = o.padding ?? [0, 0, 0, 0];
  const [n, c, h, w] = x.shape;
  let y = x;
  if (up > 1) {
    // Zero insertion: [N, C, H, 1, W, 1] padded to [N, C, H, up, W, up].
    y = y.reshape([n, c, h, 1, w, 1]);
    y = pad(y, [0, up - 1, 0, 0, 0, up - 1]);
    y = y.reshape([n, c, h * up, w * up]);
  }
  if (px0 > 0 || px1 > 0 || py0 > 0 || py1 > 0) {
    y = pad(y, [Math.max(px0, 0), Math.max(px1, 0), Math.max(py0, 0), Math.max(py1, 0)]);
  }
  if (px0 < 0 || px1 < 0 || py0 < 0 || py1 < 0) {
    const [hh, ww] = [y.shape[2], y.shape[3]];
    y = y.slice(2, Math.max(-py0, 0), hh - Math.max(-py1, 0)).slice(3, Math.max(-px0, 0), ww - Math.max(-px1, 0));
  }
  let k = f;
  const gain = o.gain ?? 1;
  // The filter carries gain^(ndim/2), so a separable filter applied twice multiplies by `gain` overall.
  if (gain !== 1) k = k.mul(f.ndim === 2 ? gain : Math.sqrt(gain));
  if (!(o.flipFilter ?? false)) k = k.flip(f.ndim === 2 ? [0, 1] : [0]);
  k = cast(k, y);
  // Downsampling is the convolution's stride (the same outputs as filtering everything and keeping every
  // `down`-th pixel, at 1/down² of the work).
  if (f.ndim === 2) {
    const weight = k.reshape([1, 1, f.shape[0], f.shape[1]]).expand([c, 1, f.shape[0], f.shape[1]]);
    y = conv2d(y, weight, null, { groups: c, stride: down });
  } else {
    const n1 = f.shape[0];
    y = conv2d(y, k.reshape([1, 1, 1, n1]).expand([c, 1, 1, n1]), null, { groups: c, stride: [1, down] });
    y = conv2d(y, k.reshape([1, 1, n1, 1]).expand([c, 1, n1, 1]), null, { groups: c, stride: [down, 1] });
  }
  return y;
}

/** ×2 upsampling with the FIR filter: zero insertion, pad (2, 1), gain 4 → [N, C, 2H, 2W]. */
export function upsample2d(x: Tensor, f: Tensor, up = 2): Tensor {
  const fw = f.shape[f.ndim - 1];
  const p0 = Math.floor((fw + up - 1) / 2);
  const p1 = Math.floor((fw - up) / 2);
  return upfirdn2d(x, f, { up, padding: [p0, p1, p0, p1], gain: up * up });
}

/** FIR-filtered ×2 downsampling: pad (1, 1) (+ `padding`), filter, keep every 2nd pixel → [N, C, H/2, W/2]. */
export function downsample2d(x: Tensor, f: Tensor, down = 2, o: { padding?: number; flipFilter?: boolean } = {}): Tensor {
  const fw = f.shape[f.ndim - 1];
  const p0 = (o.padding ?? 0) + Math.floor((fw - down + 1) / 2);
  const p1 = (o.padding ?? 0) + Math.floor((fw - down) / 2);
  return upfirdn2d(x, f, { down, padding: [p0, p1, p0, p1], flipFilter: o.flipFilter });
}
