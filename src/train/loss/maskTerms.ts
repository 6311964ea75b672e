// SPDX-License-Identifier: MIT
// Mask binarisation and minimum-size hinges (spec §7.4), per sample, on the perturbed mask.
import type { Tensor } from '../../tensor/tensor.js';

/** mean_{h,w} min(m, 1 − m) per sample: [N, 1, S, S] → [N]. */
export function binarization(mask: Tensor): Tensor {
  return mask.minimum(mask.rsub(1)).flatten(1).mean(1);
}

/** relu(minSize − mean m) per sample (and, optionally, relu(mean m − maxSize)). */
export function maskSize(mask: Tensor, minSize = 0.25, maxSize: number | null = null): Tensor {
  const area = mask.flatten(1).mean(1);
  const low = area.rsub(minSize).relu();
  return maxSize === null ? low : low.add(area.sub(maxSize).relu());
}

/**
 * Not in the paper (TrainOptions.maskBorderWeight, off by default): relu(mean of m over the frame's outer ring of
 * width r − max) per sample, r = max(1, round(S/16)): [N, 1, S, S] → [N].
 */
export function maskBorder(mask: Tensor, max: number): Tensor {
  const s = mask.shape[3];
  const r = Math.max(1, Math.round(s / 16));
  const inner = s - 2 * r;
  const total = mask.flatten(1).sum(1);
  const inside = mask.narrow(2, r, inner).narrow(3, r, inner).flatten(1).sum(1);
  const ring = s * mask.shape[2] - inner * inner;
  return total.sub(inside).div(ring).sub(max).relu();
}

/**
 * Not in the paper (TrainOptions.maskDivWeight, off by default): relu(target − mean |m_i − m_{i+h}|) for the pairs
 * (i, i + h), h = ⌊N/2⌋; zero once two samples' masks differ by `target` on average, `target` when they are equal.
 */
export function maskDiversity(mask: Tensor, target: number): Tensor {
  const h = Math.floor(mask.shape[0] / 2);
  const diff = mask
    .narrow(0, 0, h)
    .sub(mask.narrow(0, h, h))
    .abs()
    .flatten(1)
    .mean(1); // [h]
  return diff.rsub(target).relu();
}
