// SPDX-License-Identifier: MIT
// Dtype matching for reduced precision: weights, biases, filters and noise (float32) are cast to the dtype the
// activations run in (float16/bfloat16 in the top-resolution blocks, spec §3.7).
import type { Tensor } from '../../tensor/tensor.js';

/** t in like's dtype (t itself when it already is). */
export function cast(t: Tensor, like: Tensor): Tensor {
  return t.dtype === like.dtype ? t : t.to(like.dtype);
}
