// SPDX-License-Identifier: MIT
// The ILS term (spec §7.5): a CLUB upper bound on the mutual information between the visible region of one
// layer and the invisible region of the other, with a predetermined Laplace (or Gaussian) conditional.
import { where } from '../../tensor/ops/creation.js';
import { randperm } from '../../tensor/ops/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { IlsDistribution } from '../../run/trainOptions.js';

export type { IlsDistribution, IlsSchedule } from '../../run/trainOptions.js';

/** Keeps gradients only where −1 < v < 1 (a detached copy elsewhere; same values). */
export function gateGradient(v: Tensor): Tensor {
  return where(v.abs().lt(1), v, v.detach());
}

/**
 * Sampled CLUB bound for one (x | y) pair with q(x|y) = Laplace(y, 1) (or N(y, 1)): with per-sample
 * pos_n = mean|x_n − y_n|, neg_n = mean|x_π(n) − y_n| over C·H·W, UB = −mean pos + negWeight·mean neg.
 * Gaussian: mean squared error with a factor 0.5. `perm` is a random permutation (fixed points allowed).
 */
export function clubBound(x: Tensor, y: Tensor, perm: Tensor, o: { distribution?: IlsDistribution; negWeight?: number } = {}): Tensor {
  const dist = (a: Tensor, b: Tensor) => {
    const diff = a.sub(b);
    return o.distribution === 'gaussian' ? diff.square().flatten(1).mean(1).mul(0.5) : diff.abs().flatten(1).mean(1);
  };
  const pos = dist(x, y);
  const neg = dist(x.indexSelect(0, perm), y);
  return pos
    .mean()
    .neg()
    .add(neg.mean().mul(o.negWeight ?? 1));
}

export interface IlsTerms {
  /** UB_1 + UB_2 (to be weighted by σ). */
  total: Tensor;
  /** UB of (invisible bg | visible fg) and of (invisible fg | visible bg), for logging. */
  ub1: Tensor;
  ub2: Tensor;
}

/**
 * ILS on the un-perturbed layers fg, bg [N, 3, S, S] and mask [N, 1, S, S]: pairs (x = bg̃·m | y = fg̃·m) and
 * (x = fg̃·(1 − m) | y = bg̃·(1 − m)), each with its own permutation.
 */
export function ilsTerms(fg: Tensor, bg: Tensor, mask: Tensor, o: { distribution?: IlsDistribution; negWeight?: number } = {}): IlsTerms {
  const n = fg.shape[0];
  const fgG = gateGradient(fg);
  const bgG = gateGradient(bg);
  const inv = mask.rsub(1);
  const ub1 = clubBound(bgG.mul(mask), fgG.mul(mask), randperm(n, { device: fg.device }), o);
  const ub2 = clubBound(fgG.mul(inv), bgG.mul(inv), randperm(n, { device: fg.device }), o);
  return { total: ub1.add(ub2), ub1, ub2 };
}
