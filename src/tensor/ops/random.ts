// SPDX-License-Identifier: MIT
// Random tensors from libtorch's default generators (seedable with manualSeed).
import { shapeArg } from '../check.js';
import { deviceCode } from '../device.js';
import { dtypeCode } from '../dtype.js';
import { native } from '../native.js';
import { type Tensor, wrap } from '../tensor.js';
import type { CreateOptions } from './creation.js';

/** Seeds the CPU generator and every CUDA generator. */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`manualSeed: expected a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** Standard normal samples. */
export function randn(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(wrap(native.randn(shapeArg([...shape], 'randn'), dtypeCode(o.dtype ?? 'float32'), deviceCode(o.device ?? 'cpu'))), o);
}
/** Uniform samples in [0, 1). */
export function rand(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(wrap(native.rand(shapeArg([...shape], 'rand'), dtypeCode(o.dtype ?? 'float32'), deviceCode(o.device ?? 'cpu'))), o);
}
/** Integers in [low, high); dtype int64 by default. */
export function randint(low: number, high: number, shape: readonly number[], o: CreateOptions = {}): Tensor {
  return wrap(native.randint(low, high, shapeArg([...shape], 'randint'), dtypeCode(o.dtype ?? 'int64'), deviceCode(o.device ?? 'cpu')));
}
/** A random permutation of 0..n−1 (int64 by default). */
export function randperm(n: number, o: CreateOptions = {}): Tensor {
  return wrap(native.randperm(n, dtypeCode(o.dtype ?? 'int64'), deviceCode(o.device ?? 'cpu')));
}
/** One Bernoulli draw per element of the probability tensor p (same shape and dtype). */
export function bernoulli(p: Tensor): Tensor {
  return wrap(native.bernoulli(p.handle));
}
/** The CPU generator's state (uint8 tensor), for checkpoints. */
export function getRngState(): Tensor {
  return wrap(native.getRngState());
}
export function setRngState(state: Tensor): void {
  native.setRngState(state.handle);
}
