// SPDX-License-Identifier: MIT
// Tx (spec §4): integer translation of the foreground layer and its mask by up to ±xintMax·S, zero fill.
import { arange } from '../tensor/ops/creation.js';
import { pad } from '../tensor/ops/nn.js';
import { rand } from '../tensor/ops/random.js';
import type { Tensor } from '../tensor/tensor.js';

/** Per-sample ε ~ U[−1, 1]² [N, 2] (drawn fresh for every phase). */
export function drawShiftEps(n: number, device: Tensor['device']): Tensor {
  return rand([n, 2], { device }).mul(2).sub(1);
}

/**
 * Shifts x [N, C, S, S] by (tx, ty) = round(xintMax·ε·S) per sample (round half to even, as torch.round):
 * out(y, x) = in(y − ty, x − tx) where in bounds, 0 elsewhere. Content moves right/down for positive shifts.
 * One gather over a zero-padded copy; gradients flow back to x.
 */
export function shiftLayers(x: Tensor, eps: Tensor, xintMax = 0.125): Tensor {
  const [n, c, h, w] = x.shape;
  const p = Math.ceil(xintMax * w); // the largest |shift|
  const shift = eps
    .mul(xintMax * w)
    .round()
    .to('int64'); // [N, 2] (tx, ty), both scaled by the width
  const tx = shift.select(1, 0).reshape([n, 1, 1]);
  const ty = shift.select(1, 1).reshape([n, 1, 1]);
  const wp = w + 2 * p;
  const rows = arange(h, undefined, 1, { device: x.device }).reshape([1, h, 1]).sub(ty).add(p); // [N, H, 1]
  const cols = arange(w, undefined, 1, { device: x.device }).reshape([1, 1, w]).sub(tx).add(p); // [N, 1, W]
  const index = rows
    .mul(wp)
    .add(cols)
    .reshape([n, 1, h * w])
    .expand([n, c, h * w]);
  const padded = pad(x, [p, p, p, p]).flatten(2); // [N, C, (H+2p)·(W+2p)]
  return padded.gather(2, index).reshape([n, c, h, w]);
}
