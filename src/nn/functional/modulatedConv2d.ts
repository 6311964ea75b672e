// SPDX-License-Identifier: MIT
// StyleGAN2 modulated convolution (spec §3.3): per-sample styles scale the input channels, then demodulation.
import { cast } from './cast.js';
import { conv2dResample } from './conv2dResample.js';
import type { Tensor } from '../../tensor/tensor.js';

export interface ModulatedConvOptions {
  up?: 1 | 2;
  padding: number;
  filter?: Tensor | null;
  demodulate: boolean;
}

/**
 * x [N, I, H, W], weight [O, I, k, k], styles [N, I] → [N, O, H·up, W·up], in x's dtype.
 * Scales activations instead of weights: one shared conv instead of N grouped ones, the same result (the
 * official non-fused training path). Demodulation uses σ²[n,o] = Σ_i s[n,i]²·Σ_k W[o,i,k]² as an [N,I]×[I,O]
 * matmul, never materialising [N, O, I, k, k] weights.
 *
 * Reduced precision (x float16/bfloat16; weight and styles stay float32): as upstream, W and s are first divided
 * by their max-norms (a no-op after demodulation, but it keeps the float16 activations in range), the
 * demodulation coefficients are computed in float32, and everything is cast to x's dtype for the convolution.
 */
export function modulatedConv2d(x: Tensor, weight: Tensor, styles: Tensor, o: ModulatedConvOptions): Tensor {
  const n = x.shape[0];
  const low = x.dtype !== 'float32';
  let w = weight;
  let s = styles;
  if (low && o.demodulate) {
    const fanIn = weight.shape[1] * weight.shape[2] * weight.shape[3];
    w = w.div(w.abs().amax([1, 2, 3], true).mul(Math.sqrt(fanIn))); // max_Ikk
    s = s.div(s.abs().amax(1, true)); // max_I
  }
  let y = conv2dResample(x.mul(cast(s, x).reshape([n, -1, 1, 1])), cast(w, x), {
    filter: o.filter ?? null,
    up: o.up ?? 1,
    padding: o.padding,
    flipWeight: (o.up ?? 1) === 1,
  });
  if (o.demodulate) {
    const dcoefs = s
      .square()
      .matmul(w.square().sum([2, 3]).t())
      .add(1e-8)
      .rsqrt(); // [N, O]
    y = y.mul(cast(dcoefs, x).reshape([n, -1, 1, 1]));
  }
  return y;
}
