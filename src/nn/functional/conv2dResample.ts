// SPDX-License-Identifier: MIT
// conv2d_resample (spec §14): 2-D convolution with optional FIR-filtered ×2 up- or downsampling.
import { ArgumentError } from '../../tensor/errors.js';
import { conv2d, convTranspose2d } from '../../tensor/ops/nn.js';
import type { Tensor } from '../../tensor/tensor.js';
import { upfirdn2d } from './upfirdn2d.js';

export interface Conv2dResampleOptions {
  /** FIR filter [fh, fw] for resampling (required when up or down is 2). */
  filter?: Tensor | null;
  up?: 1 | 2;
  down?: 1 | 2;
  /** Symmetric padding of the convolution (kernel >> 1 for "same"). */
  padding?: number;
  /**
   * The official flip_weight: true (up = 1) computes cross-correlation as conv2d does; for up = 2 the
   * official layers pass false, which makes the transposed convolution use the weights unflipped.
   */
  flipWeight?: boolean;
}

/** x [N, I, H, W], w [O, I, k, k] → [N, O, H·up/down, W·up/down] (for padding = k >> 1). */
export function conv2dResample(x: Tensor, w: Tensor, o: Conv2dResampleOptions = {}): Tensor {
  const up = o.up ?? 1;
  const down = o.down ?? 1;
  const k = w.shape[2];
  const f = o.filter ?? null;
  let px0 = o.padding ?? 0;
  let px1 = px0;
  if ((up > 1 || down > 1) && f === null) throw new ArgumentError('conv2dResample: resampling needs a filter');
  const fw = f?.shape[1] ?? 1;
  if (up > 1) {
    px0 += Math.floor((fw + up - 1) / 2);
    px1 += Math.floor((fw - up) / 2);
  }
  if (down > 1) {
    px0 += Math.floor((fw - down + 1) / 2);
    px1 += Math.floor((fw - down) / 2);
  }
  const fir = f as Tensor;
  // 1×1 kernel with downsampling: filter and subsample first, then the cheap 1×1 conv (D's skip path).
  if (k === 1 && down > 1 && up === 1) {
    return conv2d(upfirdn2d(x, fir, { down, padding: [px0, px1, px0, px1] }), w);
  }
  // Downsampling: FIR with padding, then a strided convolution.
  if (down > 1 && up === 1) {
    return conv2d(upfirdn2d(x, fir, { padding: [px0, px1, px0, px1] }), w, null, { stride: down });
  }
  // Upsampling: upstream's transposed convolution (stride 2), then the FIR filter with gain up². Measured on 2 CPU
  // cores, batch 16, fwd+bwd including the FIR, against one plain convolution over the four output phases
  // (bench/upConvPhases.ts, timed by bench/upConv.ts): 128→128 @8: transposed 21.4 ms, phases 58.8 ms; 128→64 @16:
  // 43.5 vs 111.1 ms (the transposed conv runs as mkldnn's conv backward-data, ops_nn.cc; through libtorch's im2col
  // path it took 30.5 and 51.1 ms, and 5× that with the pthread OpenBLAS build, see scripts/buildNative.mjs).
  if (up > 1) {
    px0 -= k - 1;
    px1 -= k - up;
    const pt = Math.max(Math.min(-px0, -px1), 0);
    // Transposed conv takes [I, O, k, k]; flipWeight = false (official up path) means: do not flip the taps.
    let wt = w.transpose(0, 1);
    if (o.flipWeight ?? false) wt = wt.flip([2, 3]);
    const y = convTranspose2d(x, wt, null, { stride: up, padding: pt });
    return upfirdn2d(y, fir, { padding: [px0 + pt, px1 + pt, px0 + pt, px1 + pt], gain: up * up });
  }
  if (px0 === px1) return conv2d(x, w, null, { padding: px0 });
  throw new ArgumentError('conv2dResample: asymmetric padding without resampling is not supported');
}
