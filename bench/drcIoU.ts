// SPDX-License-Identifier: MIT
// The benchmark scripts' score: DRC_IoU (4 decimals) of foreground probabilities thresholded at ½ against binary masks.
import { type BinaryMask, SegMetrics } from '../src/eval/segMetrics.js';

/** DRC_IoU of `probs` (n planes of size², photo by photo; > ½ is foreground) against each photo's mask `gt(i)`. */
export function drcIoU(probs: Float32Array, size: number, n: number, gt: (i: number) => BinaryMask): number {
  const plane = size * size;
  const m = new SegMetrics();
  for (let i = 0; i < n; i++)
    m.add(
      Array.from(probs.subarray(i * plane, (i + 1) * plane), (v) => (v > 0.5 ? 1 : 0)),
      gt(i),
    );
  return Number(m.result().DRC_IoU!.toFixed(4));
}
