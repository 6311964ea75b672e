// SPDX-License-Identifier: MIT
// StyleGAN2 modulated convolution (spec §3.3): per-sample styles scale the input channels, then demodulation.
import { conv2dResample } from '../functional/conv2dResample.js';
import type { Tensor } from '../../tensor/tensor.js';

export interface ModulatedConvOptions {
  up?: 1 | 2;
  padding: number;
  filter?: Tensor | null;
  demodulate: boolean;
}

/**
 * x [N, I, H, W], weight [O, I, k, k], styles [N, I] → [N, O, H·up, W·up].
 * Scales activations instead of weights: one shared conv instead of N grouped ones, the same result (the
 * official non-fused training path). Demodulation uses σ²[n,o] = Σ_i s[n,i]²·Σ_k W[o,i,k]² as an [N,I]×[I,O]
 * matmul, never materialising [N, O, I, k, k] weights.
 */
export function modulatedConv2d(x: Tensor, weight: Tensor, styles: Tensor, o: ModulatedConvOptions): Tensor {
  const n = x.shape[0];
  let y = conv2dResample(x.mul(styles.reshape([n, -1, 1, 1])), weight, {
    filter: o.filter ?? null, up: o.up ?? 1, padding: o.padding, flipWeight: (o.up ?? 1) === 1,
  });
  if (o.demodulate) {
    const dcoefs = styles.square().matmul(weight.square().sum([2, 3]).t()).add(1e-8).rsqrt(); // [N, O]
    y = y.mul(dcoefs.reshape([n, -1, 1, 1]));
  }
  return y;
}
