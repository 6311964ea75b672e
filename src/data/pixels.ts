// SPDX-License-Identifier: MIT
// Pixel values: images live in tensors as float in [−1, 1] (v/127.5 − 1 on the way in) and leave as uint8.
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/** [N, C, H, W] float in [−1, 1] → uint8 as the official saver does: clamp(v·127.5 + 128, 0, 255). */
export function toUint8(x: Tensor): Tensor {
  return scope(() => x.mul(127.5).add(128).clamp(0, 255).to('uint8'));
}
