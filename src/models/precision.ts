// SPDX-License-Identifier: MIT
// Mixed precision at block granularity (spec §3.7): the blocks at the config's top numFp16Res resolutions run in a
// reduced dtype, the rest (and everything outside the blocks) in float32.
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { type NetworkConfig, fp16Resolution } from './config.js';

/** A synthesis or discriminator block: its resolution and the dtype it runs in (null: float32). */
export interface PrecisionBlock {
  readonly resolution: number;
  lowDtype: DType | null;
}

/** Sets `dtype` on the blocks at the config's top numFp16Res resolutions, float32 on the others (null: all). */
export function setBlockPrecision(blocks: readonly PrecisionBlock[], config: NetworkConfig, dtype: DType | null): void {
  const from = fp16Resolution(config);
  for (const b of blocks) b.lowDtype = dtype !== null && b.resolution >= from ? dtype : null;
}

/**
 * x in a block's dtype: `low` when the block is reduced; otherwise float32 if x comes reduced, else x as it is
 * (a float64 network stays float64).
 */
export function toBlockDtype(x: Tensor, low: DType | null): Tensor {
  if (low !== null) return x.dtype === low ? x : x.to(low);
  return x.dtype === 'float16' || x.dtype === 'bfloat16' ? x.to('float32') : x;
}
