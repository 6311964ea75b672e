// SPDX-License-Identifier: MIT
// R1 gradient penalty (spec §7.3): ‖∂ΣD(Aug(x))/∂x‖² per sample, through the augmentation (double backward).
import { grad } from '../../tensor/autograd.js';
import type { Tensor } from '../../tensor/tensor.js';

/**
 * Per-sample squared gradient norm of Σ logits w.r.t. `reals` (which must require grad), with the graph kept
 * so the penalty can be backpropagated into D. Returns [N] and the logits.
 */
export function r1Penalty(reals: Tensor, logits: Tensor): Tensor {
  const [g] = grad([logits.sum()], [reals], { createGraph: true });
  return (g as Tensor).square().sum([1, 2, 3]);
}
