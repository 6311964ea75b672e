// SPDX-License-Identifier: MIT
// The only file that loads the addon: the typed surface of native/src (one export = one libtorch call).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TensorError } from './errors.js';

/** A tensor handle: a number naming a slot in the addon's table (generation-checked, never a pointer). */
export type Handle = number;
/** at::ScalarType code (see dtype.ts). */
export type DtypeCode = number;
/** -1 for the CPU, k for cuda:k (see device.ts). */
export type DeviceCode = number;
type H = Handle;
type Opt = Handle | null;

/** Everything the addon exports. Arguments are positional and already normalised by the TS layer. */
export interface NativeBinding {
  // Lifetime and metadata (tensor_core.cc)
  setErrorClass(ctor: new (message: string) => Error): void;
  dispose(h: H): void;
  releaseAll(): number;
  liveTensors(): number;
  liveBytes(cuda: boolean): number;
  shape(h: H): number[];
  strides(h: H): number[];
  dim(h: H): number;
  numel(h: H): number;
  dtype(h: H): DtypeCode;
  device(h: H): DeviceCode;
  isContiguous(h: H): boolean;
  fromBuffer(bytes: ArrayBufferView | ArrayBuffer, dtype: DtypeCode, shape: number[], device: DeviceCode): H;
  toBuffer(h: H): ArrayBuffer;
  item(h: H): number;
  full(shape: number[], value: number, dtype: DtypeCode, device: DeviceCode): H;
  empty(shape: number[], dtype: DtypeCode, device: DeviceCode): H;
  zeros(shape: number[], dtype: DtypeCode, device: DeviceCode): H;
  ones(shape: number[], dtype: DtypeCode, device: DeviceCode): H;
  scalarTensor(value: number, dtype: DtypeCode, device: DeviceCode): H;
  zerosLike(h: H): H;
  onesLike(h: H): H;
  fullLike(h: H, value: number): H;
  arange(start: number, end: number, step: number, dtype: DtypeCode, device: DeviceCode): H;
  linspace(start: number, end: number, steps: number, dtype: DtypeCode, device: DeviceCode): H;
  eye(n: number, m: number, dtype: DtypeCode, device: DeviceCode): H;
  to(h: H, dtype: DtypeCode | null, device: DeviceCode | null, copy: boolean): H;
  clone(h: H): H;
  contiguous(h: H): H;
  detach(h: H): H;
  alias(h: H): H;
  copy_(dst: H, src: H): void;
  setData(dst: H, src: H): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;

  // Pointwise (ops_pointwise.cc)
  add(a: H, b: H, alpha: number): H;
  sub(a: H, b: H, alpha: number): H;
  mul(a: H, b: H): H;
  div(a: H, b: H): H;
  divMode(a: H, b: H, mode: 'trunc' | 'floor'): H;
  pow(a: H, b: H): H;
  minimum(a: H, b: H): H;
  maximum(a: H, b: H): H;
  atan2(a: H, b: H): H;
  remainder(a: H, b: H): H;
  eq(a: H, b: H): H;
  ne(a: H, b: H): H;
  lt(a: H, b: H): H;
  le(a: H, b: H): H;
  gt(a: H, b: H): H;
  ge(a: H, b: H): H;
  logicalAnd(a: H, b: H): H;
  logicalOr(a: H, b: H): H;
  logicalXor(a: H, b: H): H;
  addScalar(a: H, s: number): H;
  mulScalar(a: H, s: number): H;
  divScalar(a: H, s: number): H;
  rsubScalar(a: H, s: number): H;
  rdivScalar(a: H, s: number): H;
  powScalar(a: H, s: number): H;
  rpowScalar(a: H, s: number): H;
  remainderScalar(a: H, s: number): H;
  eqScalar(a: H, s: number): H;
  neScalar(a: H, s: number): H;
  ltScalar(a: H, s: number): H;
  leScalar(a: H, s: number): H;
  gtScalar(a: H, s: number): H;
  geScalar(a: H, s: number): H;
  minimumScalar(a: H, s: number): H;
  maximumScalar(a: H, s: number): H;
  neg(x: H): H;
  abs(x: H): H;
  sign(x: H): H;
  sqrt(x: H): H;
  rsqrt(x: H): H;
  square(x: H): H;
  reciprocal(x: H): H;
  exp(x: H): H;
  expm1(x: H): H;
  log(x: H): H;
  log1p(x: H): H;
  sin(x: H): H;
  cos(x: H): H;
  erf(x: H): H;
  sigmoid(x: H): H;
  logSigmoid(x: H): H;
  tanh(x: H): H;
  relu(x: H): H;
  round(x: H): H;
  floor(x: H): H;
  ceil(x: H): H;
  trunc(x: H): H;
  logicalNot(x: H): H;
  isnan(x: H): H;
  isinf(x: H): H;
  isfinite(x: H): H;
  softplus(x: H, beta: number, threshold: number): H;
  leakyRelu(x: H, slope: number): H;
  gelu(x: H): H;
  clamp(x: H, min: number | null, max: number | null): H;
  hardtanh(x: H, min: number, max: number): H;
  where(cond: H, a: H, b: H): H;
  lerp(a: H, b: H, w: number): H;
  lerpTensor(a: H, b: H, w: H): H;
  addcmul(a: H, b: H, c: H, value: number): H;
  nanToNum(x: H, nan: number, posinf: number, neginf: number): H;
  add_(a: H, b: H, alpha: number): void;
  addScalar_(a: H, s: number): void;
  mul_(a: H, b: H): void;
  mulScalar_(a: H, s: number): void;
  div_(a: H, b: H): void;
  lerp_(a: H, b: H, w: number): void;
  zero_(a: H): void;
  fill_(a: H, v: number): void;
  addcmul_(a: H, b: H, c: H, value: number): void;
  nanToNum_(a: H, nan: number, posinf: number, neginf: number): void;
  clamp_(a: H, min: number | null, max: number | null): void;

  // Reductions (ops_reduce.cc); an empty dims list reduces all dims
  sum(x: H, dims: number[], keepdim: boolean, dtype: DtypeCode | null): H;
  mean(x: H, dims: number[], keepdim: boolean, dtype: DtypeCode | null): H;
  var(x: H, dims: number[], unbiased: boolean, keepdim: boolean): H;
  std(x: H, dims: number[], unbiased: boolean, keepdim: boolean): H;
  prod(x: H): H;
  amax(x: H, dims: number[], keepdim: boolean): H;
  amin(x: H, dims: number[], keepdim: boolean): H;
  maxDim(x: H, dim: number, keepdim: boolean): [H, H];
  minDim(x: H, dim: number, keepdim: boolean): [H, H];
  argmax(x: H, dim: number | null, keepdim: boolean): H;
  argmin(x: H, dim: number | null, keepdim: boolean): H;
  logsumexp(x: H, dims: number[], keepdim: boolean): H;
  all(x: H): H;
  any(x: H): H;
  cumsum(x: H, dim: number): H;
  sort(x: H, dim: number, descending: boolean): [H, H];
  topk(x: H, k: number, dim: number, largest: boolean): [H, H];

  // Shape (ops_shape.cc)
  reshape(x: H, shape: number[]): H;
  view(x: H, shape: number[]): H;
  permute(x: H, dims: number[]): H;
  transpose(x: H, d0: number, d1: number): H;
  expand(x: H, shape: number[]): H;
  repeat(x: H, reps: number[]): H;
  flatten(x: H, start: number, end: number): H;
  squeeze(x: H): H;
  squeezeDim(x: H, dim: number): H;
  unsqueeze(x: H, dim: number): H;
  cat(xs: H[], dim: number): H;
  stack(xs: H[], dim: number): H;
  splitWithSizes(x: H, sizes: number[], dim: number): H[];
  chunk(x: H, chunks: number, dim: number): H[];
  unbind(x: H, dim: number): H[];
  slice(x: H, dim: number, start: number, end: number | null, step: number): H;
  select(x: H, dim: number, index: number): H;
  narrow(x: H, dim: number, start: number, length: number): H;
  indexSelect(x: H, dim: number, index: H): H;
  gather(x: H, dim: number, index: H): H;
  scatter(x: H, dim: number, index: H, src: H): H;
  scatterAdd(x: H, dim: number, index: H, src: H): H;
  index(x: H, indices: Opt[]): H;
  indexPut(x: H, indices: Opt[], values: H, accumulate: boolean): H;
  maskedFill(x: H, mask: H, value: number): H;
  maskedSelect(x: H, mask: H): H;
  nonzero(x: H): H;
  roll(x: H, shifts: number[], dims: number[]): H;
  flip(x: H, dims: number[]): H;
  tril(x: H, diagonal: number): H;
  triu(x: H, diagonal: number): H;
  pad(x: H, pads: number[], mode: number, value: number): H;

  // nn functional (ops_nn.cc)
  conv2d(x: H, w: H, b: Opt, stride: number[], padding: number[], dilation: number[], groups: number): H;
  convTranspose2d(x: H, w: H, b: Opt, stride: number[], padding: number[], outputPadding: number[], groups: number, dilation: number[]): H;
  linear(x: H, w: H, b: Opt): H;
  matmul(a: H, b: H): H;
  linalgEigvalsh(x: H, upper: boolean): H;
  linalgEigh(x: H, upper: boolean): H[];
  softmax(x: H, dim: number): H;
  logSoftmax(x: H, dim: number): H;
  interpolate(x: H, size: number[], mode: number, alignCorners: boolean, scaleH: number | null, scaleW: number | null): H;
  avgPool2d(x: H, kernel: number[], stride: number[], padding: number[], ceilMode: boolean, countIncludePad: boolean): H;
  maxPool2d(x: H, kernel: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean): H;
  adaptiveAvgPool2d(x: H, size: number[]): H;
  gridSample(x: H, grid: H, mode: number, padding: number, alignCorners: boolean): H;
  affineGrid(theta: H, size: number[], alignCorners: boolean): H;
  batchNorm(x: H, w: Opt, b: Opt, runningMean: Opt, runningVar: Opt, training: boolean, momentum: number, eps: number): H;
  dropout(x: H, p: number, training: boolean): H;
  crossEntropy(logits: H, target: H, weight: Opt, reduction: number, ignoreIndex: number, labelSmoothing: number): H;
  binaryCrossEntropyWithLogits(x: H, target: H, weight: Opt, posWeight: Opt, reduction: number): H;
  oneHot(x: H, numClasses: number): H;

  // Autograd (autograd.cc)
  setRequiresGrad(h: H, on: boolean): void;
  requiresGrad(h: H): boolean;
  isLeaf(h: H): boolean;
  retainGrad(h: H): void;
  getGrad(h: H): H | null;
  setGrad(h: H, g: Opt): void;
  gradFnName(h: H): string | null;
  backward(roots: H[], grads: Opt[], retainGraph: boolean | null, createGraph: boolean): void;
  grad(
    outputs: H[],
    inputs: H[],
    gradOutputs: Opt[],
    retainGraph: boolean | null,
    createGraph: boolean,
    allowUnused: boolean,
  ): (H | null)[];
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;

  // Parameter-list updates (optim.cc)
  adamStep(
    params: H[],
    expAvg: H[],
    expAvgSq: H[],
    steps: Float64Array,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    foreach: boolean,
  ): void;
  sanitizeGrads(params: H[], nan: number, posinf: number, neginf: number, flat: boolean): void;
  clearGrads(params: H[]): void;
  lerpList_(dst: H[], src: H[], weight: number, foreach: boolean): void;
  copyList_(dst: H[], src: H[]): void;

  // Random (random.cc)
  manualSeed(seed: number): void;
  randn(shape: number[], dtype: DtypeCode, device: DeviceCode): H;
  rand(shape: number[], dtype: DtypeCode, device: DeviceCode): H;
  randint(low: number, high: number, shape: number[], dtype: DtypeCode, device: DeviceCode): H;
  randperm(n: number, dtype: DtypeCode, device: DeviceCode): H;
  bernoulli(p: H): H;
  normal_(h: H, mean: number, std: number): void;
  uniform_(h: H, low: number, high: number): void;
  getRngState(): H;
  setRngState(state: H): void;

  // Runtime (runtime.cc)
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(device: number | null): void;
  cudaMemoryStats(device: number): [number, number, number] | null;
  cudaEmptyCache(): void;
  setCudnnBenchmark(on: boolean): void;
  setTf32(on: boolean): void;
  setAutocast(enabled: boolean, cuda: boolean, dtype: DtypeCode): void;
  buildInfo(): { torchVersion: string; cudaHeaders: boolean; parallelInfo: string };
  profileStart(byCaller: boolean): void;
  hostReads(): number;
  profileStop(): [string, number, number, number][];

  // Process group over c10d (dist.cc); only distBackends exists when the addon was built without Gloo and NCCL.
  distBackends(): string[];
  distInit?(
    rank: number,
    worldSize: number,
    masterAddr: string,
    masterPort: number,
    timeoutMs: number,
    glooDevice: string,
    backend: string,
    cudaDevice: number,
  ): void;
  distAllReduce?(tensors: H[], average: boolean): void;
  distBroadcast?(tensors: H[], root: number): void;
  distBarrier?(): void;
  distDestroy?(): void;
  distState?(): { rank: number; worldSize: number; backend: string; device: string; failure: string | null } | null;
}

function addonPath(): string {
  if (process.env.ILSGAN_NATIVE) return process.env.ILSGAN_NATIVE;
  // dist/src/tensor/native.js and src/tensor/native.ts both sit three levels below the package root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', 'Release', 'ilsgan.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('ilsgan: the native addon is not built (build/Release/ilsgan.node). Run: npm run build:native');
}

/** What scripts/buildNative.mjs recorded about the build it made (build/libtorch.json), if it is there. */
export interface BuildRecord {
  route?: string;
  source?: string;
  version?: string | null;
  blas?: string | null;
  lib?: string;
  /** The c10d process-group backends native/src/dist.cc was built with: 'gloo', 'gloo, nccl', 'nccl' or 'not built'. */
  distributed?: string;
  /** Why a backend was left out (its headers are missing, or dist.cc did not compile with it), per backend. */
  distributed_missing?: Record<string, string>;
}

/** The loaded addon's file and the build record beside it (null when absent or unreadable). */
export function addonBuild(): { path: string; record: BuildRecord | null } {
  const path = addonPath();
  try {
    return { path, record: JSON.parse(readFileSync(join(dirname(dirname(path)), 'libtorch.json'), 'utf8')) as BuildRecord };
  } catch {
    return { path, record: null };
  }
}

function load(): NativeBinding {
  const binding = createRequire(import.meta.url)(addonPath()) as NativeBinding;
  binding.setErrorClass(TensorError);
  // libtorch defaults to one intra-op thread on these machines; use every core unless told otherwise.
  const threads = Number(process.env.ILSGAN_NUM_THREADS ?? cpus().length);
  binding.setNumThreads(Number.isInteger(threads) && threads > 0 ? threads : cpus().length);
  return binding;
}

/** The loaded addon. */
export const native: NativeBinding = load();
