// SPDX-License-Identifier: MIT
// The tensor engine's public face: re-exports only.
export { Tensor, scalarLike } from './tensor.js';
export type { Scalar } from './tensor.js';
export type { DType } from './dtype.js';
export { dtypeNames, isFloatingPoint, elementSize } from './dtype.js';
export type { Device } from './device.js';
export { TensorError, InputError, ShapeError, ArgumentError } from './errors.js';
export { scope, keep, dispose, noGrad, enableGrad, isGradEnabled, memory } from './scope.js';
export type { MemoryInfo } from './scope.js';
export * from './ops/creation.js';
export * from './ops/random.js';
export * as nn from './ops/nn.js';
export { grad, backward } from './autograd.js';
export { Adam, sanitizeGrads } from './optim/adam.js';
export type { AdamOptions, ParamGroup } from './optim/adam.js';
export { Ema } from './optim/ema.js';
export { distBackends, distAvailable, distInit, distState, allReduce_, broadcast_, barrier, distDestroy } from './dist.js';
export type { DistBackend, DistOptions } from './dist.js';
export { saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors } from './safetensors.js';
export type { LoadedSafetensors, TensorMap } from './safetensors.js';
export {
  setNumThreads,
  getNumThreads,
  cuda,
  setCudnnBenchmark,
  setTf32,
  setAutocast,
  buildInfo,
  profile,
  hostReads,
  type OpProfileRow,
} from './runtime.js';
