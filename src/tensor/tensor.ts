// SPDX-License-Identifier: MIT
// The Tensor class: a handle plus cached metadata and thin PyTorch-named methods, each one native call.
import { constants as bufferConstants } from 'node:buffer';
import { type Device, deviceCode, deviceName } from './device.js';
import { type DType, dtypeCode, dtypeName, elementSize, isFloatingPoint } from './dtype.js';
import { ArgumentError, disposedError, TensorError } from './errors.js';
import { type Handle, native } from './native.js';
import { type Tracked, keptSlot, scopeSlot, track, untrack } from './scope.js';

export type Scalar = number;
type Frame = Tracked[typeof scopeSlot];

/**
 * A typed array holds at most buffer.constants.MAX_LENGTH elements (2^32 in Node 20): refuse a larger host copy
 * before the addon makes it, with the error the addon gives when the copy cannot be allocated.
 */
function checkHostCopy(length: number, what: string): void {
  if (length > bufferConstants.MAX_LENGTH) {
    throw new TensorError(
      `${what}: ${length} entries exceed the largest typed array (${bufferConstants.MAX_LENGTH}); read the tensor in slices`,
      'ERR_OUT_OF_MEMORY',
    );
  }
}

/** Wraps a fresh native handle (registers it with the current scope). */
export function wrap(h: Handle): Tensor {
  return new Tensor(h);
}

function dimList(dims: number | readonly number[] | undefined): number[] {
  if (dims === undefined) return [];
  return typeof dims === 'number' ? [dims] : (dims as number[]);
}

/**
 * An n-dimensional array on a device, with autograd. Methods follow PyTorch's names and semantics
 * (broadcasting, type promotion, negative dims); in-place methods end in `_` and return `this`.
 */
export class Tensor implements Tracked {
  // Engine state, not API: the addon handle (read through `handle`), cached metadata, and the scope bookkeeping
  // under symbol keys that only scope.ts uses.
  #handle: Handle;
  #shape: readonly number[] | undefined;
  #dtype: DType | undefined;
  [scopeSlot]: Frame = null;
  [keptSlot] = false;

  constructor(handle: Handle) {
    this.#handle = handle;
    track(this);
  }

  /** The native handle; throws ERR_DISPOSED after dispose(). */
  get handle(): Handle {
    if (this.#handle < 0) throw disposedError();
    return this.#handle;
  }

  get isDisposed(): boolean {
    return this.#handle < 0;
  }

  /** Frees the tensor now (idempotent). Views and autograd keep the memory they still need alive. */
  dispose(): void {
    if (this.#handle < 0) return;
    untrack(this);
    native.dispose(this.#handle);
    this.#handle = -1;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- metadata -----------------------------------------------------------------------------------------

  get shape(): readonly number[] {
    if (this.#shape === undefined) this.#shape = Object.freeze(native.shape(this.handle));
    return this.#shape;
  }
  /** Size of one dim (negative counts from the end). */
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new ArgumentError(`size: dim ${dim} out of range for ${s.length}-d tensor`);
    return s[d];
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    let n = 1;
    for (const s of this.shape) n *= s;
    return n;
  }
  get dtype(): DType {
    if (this.#dtype === undefined) this.#dtype = dtypeName(native.dtype(this.handle));
    return this.#dtype;
  }
  get device(): Device {
    return deviceName(native.device(this.handle));
  }
  get isCuda(): boolean {
    return native.device(this.handle) >= 0;
  }
  isContiguous(): boolean {
    return native.isContiguous(this.handle);
  }
  toString(): string {
    if (this.#handle < 0) return 'Tensor(disposed)';
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }

  // ---- host data ----------------------------------------------------------------------------------------

  /** The single value of a one-element tensor (bool → 0/1). Synchronises with the device. */
  item(): number {
    return native.item(this.handle);
  }
  /**
   * The elements in row-major order as a typed array of the tensor's dtype (float16/bfloat16 as Float32Array,
   * bool as Uint8Array, int64 as BigInt64Array).
   */
  data(): Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | BigInt64Array {
    const d = this.dtype;
    checkHostCopy(this.numel, 'data()');
    if (d === 'float16' || d === 'bfloat16') {
      const h = native.to(this.handle, dtypeCode('float32'), null, false);
      try {
        return new Float32Array(native.toBuffer(h));
      } finally {
        native.dispose(h);
      }
    }
    const buf = native.toBuffer(this.handle);
    switch (d) {
      case 'float32':
        return new Float32Array(buf);
      case 'float64':
        return new Float64Array(buf);
      case 'int32':
        return new Int32Array(buf);
      case 'int16':
        return new Int16Array(buf);
      case 'int8':
        return new Int8Array(buf);
      case 'int64':
        return new BigInt64Array(buf);
      default:
        return new Uint8Array(buf);
    }
  }
  /** The raw bytes in row-major order (what safetensors stores). */
  bytes(): Uint8Array {
    checkHostCopy(this.numel * elementSize(this.dtype), 'bytes()');
    return new Uint8Array(native.toBuffer(this.handle));
  }
  /** The elements as a flat number array. */
  toArray(): number[] {
    const a = this.data();
    return a instanceof BigInt64Array ? Array.from(a, Number) : Array.from(a);
  }
  /** The elements as nested arrays following the shape (a number for 0-d). */
  tolist(): unknown {
    const flat = this.toArray();
    const shape = this.shape;
    if (shape.length === 0) return flat[0];
    let pos = 0;
    const build = (d: number): unknown[] => {
      const out: unknown[] = [];
      for (let i = 0; i < shape[d]; i++) out.push(d === shape.length - 1 ? flat[pos++] : build(d + 1));
      return out;
    };
    return build(0);
  }

  // ---- conversion ---------------------------------------------------------------------------------------

  /** A tensor on another device and/or of another dtype (`this` itself is never returned: always a new handle). */
  to(target: Device | DType | { device?: Device; dtype?: DType }, opts: { copy?: boolean } = {}): Tensor {
    let dtype: number | null = null;
    let device: number | null = null;
    if (typeof target === 'string') {
      if (target === 'cpu' || target.startsWith('cuda')) device = deviceCode(target);
      else dtype = dtypeCode(target as DType);
    } else {
      if (target.device !== undefined) device = deviceCode(target.device);
      if (target.dtype !== undefined) dtype = dtypeCode(target.dtype);
    }
    return wrap(native.to(this.handle, dtype, device, opts.copy ?? false));
  }
  cpu(): Tensor {
    return this.to('cpu');
  }
  cuda(index = 0): Tensor {
    return this.to(`cuda:${index}`);
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  half(): Tensor {
    return this.to('float16');
  }
  long(): Tensor {
    return this.to('int64');
  }
  bool(): Tensor {
    return this.to('bool');
  }
  clone(): Tensor {
    return wrap(native.clone(this.handle));
  }
  contiguous(): Tensor {
    return wrap(native.contiguous(this.handle));
  }
  detach(): Tensor {
    return wrap(native.detach(this.handle));
  }
  /** A second handle to the same tensor (same autograd identity), with its own lifetime. */
  alias(): Tensor {
    return wrap(native.alias(this.handle));
  }
  isFloatingPoint(): boolean {
    return isFloatingPoint(this.dtype);
  }
  elementSize(): number {
    return elementSize(this.dtype);
  }

  // ---- autograd -----------------------------------------------------------------------------------------

  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  set requiresGrad(on: boolean) {
    native.setRequiresGrad(this.handle, on);
  }
  requiresGrad_(on = true): this {
    native.setRequiresGrad(this.handle, on);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** The accumulated gradient, as a new handle (null if none). */
  get grad(): Tensor | null {
    const g = native.getGrad(this.handle);
    return g === null ? null : wrap(g);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g === null ? null : g.handle);
  }
  retainGrad(): this {
    native.retainGrad(this.handle);
    return this;
  }
  get gradFn(): string | null {
    return native.gradFnName(this.handle);
  }
  /** Accumulates gradients of this tensor into the leaves' `.grad` (gradient defaults to 1 for scalars). */
  backward(gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward([this.handle], [gradient?.handle ?? null], opts.retainGraph ?? null, opts.createGraph ?? false);
  }

  // ---- arithmetic (broadcasting; a number operand is a scalar) ------------------------------------------

  add(other: Tensor | Scalar, alpha = 1): Tensor {
    return typeof other === 'number'
      ? wrap(native.addScalar(this.handle, other * alpha))
      : wrap(native.add(this.handle, other.handle, alpha));
  }
  sub(other: Tensor | Scalar, alpha = 1): Tensor {
    return typeof other === 'number'
      ? wrap(native.addScalar(this.handle, -other * alpha))
      : wrap(native.sub(this.handle, other.handle, alpha));
  }
  /** other − this. */
  rsub(other: Scalar): Tensor {
    return wrap(native.rsubScalar(this.handle, other));
  }
  mul(other: Tensor | Scalar): Tensor {
    return typeof other === 'number' ? wrap(native.mulScalar(this.handle, other)) : wrap(native.mul(this.handle, other.handle));
  }
  div(other: Tensor | Scalar, roundingMode?: 'trunc' | 'floor'): Tensor {
    if (roundingMode !== undefined) {
      const b = typeof other === 'number' ? scalarLike(this, other) : other;
      try {
        return wrap(native.divMode(this.handle, b.handle, roundingMode));
      } finally {
        if (b !== other) b.dispose();
      }
    }
    return typeof other === 'number' ? wrap(native.divScalar(this.handle, other)) : wrap(native.div(this.handle, other.handle));
  }
  /** other / this. */
  rdiv(other: Scalar): Tensor {
    return wrap(native.rdivScalar(this.handle, other));
  }
  pow(exponent: Tensor | Scalar): Tensor {
    return typeof exponent === 'number' ? wrap(native.powScalar(this.handle, exponent)) : wrap(native.pow(this.handle, exponent.handle));
  }
  /** base ** this. */
  rpow(base: Scalar): Tensor {
    return wrap(native.rpowScalar(this.handle, base));
  }
  remainder(other: Tensor | Scalar): Tensor {
    return typeof other === 'number' ? wrap(native.remainderScalar(this.handle, other)) : wrap(native.remainder(this.handle, other.handle));
  }
  minimum(other: Tensor | Scalar): Tensor {
    return typeof other === 'number' ? wrap(native.minimumScalar(this.handle, other)) : wrap(native.minimum(this.handle, other.handle));
  }
  maximum(other: Tensor | Scalar): Tensor {
    return typeof other === 'number' ? wrap(native.maximumScalar(this.handle, other)) : wrap(native.maximum(this.handle, other.handle));
  }
  atan2(other: Tensor): Tensor {
    return wrap(native.atan2(this.handle, other.handle));
  }
  lerp(end: Tensor, weight: Tensor | Scalar): Tensor {
    return typeof weight === 'number'
      ? wrap(native.lerp(this.handle, end.handle, weight))
      : wrap(native.lerpTensor(this.handle, end.handle, weight.handle));
  }
  /** this + value · a · b. */
  addcmul(a: Tensor, b: Tensor, value = 1): Tensor {
    return wrap(native.addcmul(this.handle, a.handle, b.handle, value));
  }

  // ---- comparisons and logic ----------------------------------------------------------------------------

  eq(other: Tensor | Scalar): Tensor {
    return typeof other === 'number' ? wrap(native.eqScalar(this.handle, other)) : wrap(native.eq(this.handle, other.handle));
  }
  ne(other: Tensor | Scalar): Tensor {
    return typeof other === 'number' ? wrap(native.neScalar(this.handle, other)) : wrap(native.ne(this.handle, other.handle));
  }
  lt(other: Tensor | Scalar): Tensor {
    return typeof other === 'number' ? wrap(native.ltScalar(this.handle, other)) : wrap(native.lt(this.handle, other.handle));
  }
  le(other: Tensor | Scalar): Tensor {
    return typeof other === 'number' ? wrap(native.leScalar(this.handle, other)) : wrap(native.le(this.handle, other.handle));
  }
  gt(other: Tensor | Scalar): Tensor {
    return typeof other === 'number' ? wrap(native.gtScalar(this.handle, other)) : wrap(native.gt(this.handle, other.handle));
  }
  ge(other: Tensor | Scalar): Tensor {
    return typeof other === 'number' ? wrap(native.geScalar(this.handle, other)) : wrap(native.ge(this.handle, other.handle));
  }
  logicalAnd(other: Tensor): Tensor {
    return wrap(native.logicalAnd(this.handle, other.handle));
  }
  logicalOr(other: Tensor): Tensor {
    return wrap(native.logicalOr(this.handle, other.handle));
  }
  logicalXor(other: Tensor): Tensor {
    return wrap(native.logicalXor(this.handle, other.handle));
  }
  logicalNot(): Tensor {
    return wrap(native.logicalNot(this.handle));
  }
  isnan(): Tensor {
    return wrap(native.isnan(this.handle));
  }
  isinf(): Tensor {
    return wrap(native.isinf(this.handle));
  }
  isfinite(): Tensor {
    return wrap(native.isfinite(this.handle));
  }

  // ---- unary --------------------------------------------------------------------------------------------

  neg(): Tensor {
    return wrap(native.neg(this.handle));
  }
  abs(): Tensor {
    return wrap(native.abs(this.handle));
  }
  sign(): Tensor {
    return wrap(native.sign(this.handle));
  }
  sqrt(): Tensor {
    return wrap(native.sqrt(this.handle));
  }
  rsqrt(): Tensor {
    return wrap(native.rsqrt(this.handle));
  }
  square(): Tensor {
    return wrap(native.square(this.handle));
  }
  reciprocal(): Tensor {
    return wrap(native.reciprocal(this.handle));
  }
  exp(): Tensor {
    return wrap(native.exp(this.handle));
  }
  expm1(): Tensor {
    return wrap(native.expm1(this.handle));
  }
  log(): Tensor {
    return wrap(native.log(this.handle));
  }
  log1p(): Tensor {
    return wrap(native.log1p(this.handle));
  }
  sin(): Tensor {
    return wrap(native.sin(this.handle));
  }
  cos(): Tensor {
    return wrap(native.cos(this.handle));
  }
  erf(): Tensor {
    return wrap(native.erf(this.handle));
  }
  sigmoid(): Tensor {
    return wrap(native.sigmoid(this.handle));
  }
  logSigmoid(): Tensor {
    return wrap(native.logSigmoid(this.handle));
  }
  tanh(): Tensor {
    return wrap(native.tanh(this.handle));
  }
  relu(): Tensor {
    return wrap(native.relu(this.handle));
  }
  gelu(): Tensor {
    return wrap(native.gelu(this.handle));
  }
  round(): Tensor {
    return wrap(native.round(this.handle));
  }
  floor(): Tensor {
    return wrap(native.floor(this.handle));
  }
  ceil(): Tensor {
    return wrap(native.ceil(this.handle));
  }
  trunc(): Tensor {
    return wrap(native.trunc(this.handle));
  }
  /** log(1 + exp(β·x))/β, linear above `threshold` (PyTorch's softplus). */
  softplus(beta = 1, threshold = 20): Tensor {
    return wrap(native.softplus(this.handle, beta, threshold));
  }
  leakyRelu(negativeSlope = 0.01): Tensor {
    return wrap(native.leakyRelu(this.handle, negativeSlope));
  }
  clamp(min: number | null, max: number | null = null): Tensor {
    return wrap(native.clamp(this.handle, min, max));
  }
  /**
   * clamp(min, max) with PyTorch's hardtanh gradient: zero at exactly min or max (clamp passes it there), one
   * fused backward kernel instead of clamp's four.
   */
  hardtanh(min: number, max: number): Tensor {
    if (!(min <= max)) throw new ArgumentError(`hardtanh: min ${min} must not exceed max ${max}`);
    return wrap(native.hardtanh(this.handle, min, max));
  }
  nanToNum(nan = 0, posinf = Number.MAX_VALUE, neginf = -Number.MAX_VALUE): Tensor {
    return wrap(native.nanToNum(this.handle, nan, posinf, neginf));
  }

  // ---- in place (for persistent state under noGrad) -----------------------------------------------------

  add_(other: Tensor | Scalar, alpha = 1): this {
    if (typeof other === 'number') native.addScalar_(this.handle, other * alpha);
    else native.add_(this.handle, other.handle, alpha);
    return this;
  }
  sub_(other: Tensor | Scalar, alpha = 1): this {
    return this.add_(other, -alpha);
  }
  mul_(other: Tensor | Scalar): this {
    if (typeof other === 'number') native.mulScalar_(this.handle, other);
    else native.mul_(this.handle, other.handle);
    return this;
  }
  div_(other: Tensor | Scalar): this {
    if (typeof other === 'number') native.mulScalar_(this.handle, 1 / other);
    else native.div_(this.handle, other.handle);
    return this;
  }
  lerp_(end: Tensor, weight: number): this {
    native.lerp_(this.handle, end.handle, weight);
    return this;
  }
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    native.addcmul_(this.handle, a.handle, b.handle, value);
    return this;
  }
  copy_(src: Tensor): this {
    native.copy_(this.handle, src.handle);
    return this;
  }
  /**
   * Makes this tensor hold `src`'s data (any device or dtype) while keeping its identity: handles, autograd
   * leaf-ness and requiresGrad (PyTorch's `p.data = src`). Used to move parameters between devices.
   */
  setData_(src: Tensor): this {
    native.setData(this.handle, src.handle);
    this.#shape = undefined;
    this.#dtype = undefined;
    return this;
  }
  zero_(): this {
    native.zero_(this.handle);
    return this;
  }
  fill_(value: number): this {
    native.fill_(this.handle, value);
    return this;
  }
  clamp_(min: number | null, max: number | null = null): this {
    native.clamp_(this.handle, min, max);
    return this;
  }
  nanToNum_(nan = 0, posinf = Number.MAX_VALUE, neginf = -Number.MAX_VALUE): this {
    native.nanToNum_(this.handle, nan, posinf, neginf);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    native.normal_(this.handle, mean, std);
    return this;
  }
  uniform_(low = 0, high = 1): this {
    native.uniform_(this.handle, low, high);
    return this;
  }

  // ---- reductions (dims omitted = all) ------------------------------------------------------------------

  sum(dims?: number | readonly number[], keepdim = false, opts: { dtype?: DType } = {}): Tensor {
    const dt = opts.dtype === undefined ? null : dtypeCode(opts.dtype);
    return wrap(native.sum(this.handle, dimList(dims), keepdim, dt));
  }
  mean(dims?: number | readonly number[], keepdim = false, opts: { dtype?: DType } = {}): Tensor {
    const dt = opts.dtype === undefined ? null : dtypeCode(opts.dtype);
    return wrap(native.mean(this.handle, dimList(dims), keepdim, dt));
  }
  /** Variance (unbiased by default, as PyTorch). */
  var(dims?: number | readonly number[], keepdim = false, opts: { unbiased?: boolean } = {}): Tensor {
    return wrap(native.var(this.handle, dimList(dims), opts.unbiased ?? true, keepdim));
  }
  std(dims?: number | readonly number[], keepdim = false, opts: { unbiased?: boolean } = {}): Tensor {
    return wrap(native.std(this.handle, dimList(dims), opts.unbiased ?? true, keepdim));
  }
  prod(): Tensor {
    return wrap(native.prod(this.handle));
  }
  /** Max over dims (values only); without dims, the global max. */
  amax(dims?: number | readonly number[], keepdim = false): Tensor {
    return wrap(native.amax(this.handle, dimList(dims), keepdim));
  }
  amin(dims?: number | readonly number[], keepdim = false): Tensor {
    return wrap(native.amin(this.handle, dimList(dims), keepdim));
  }
  /** Max along one dim: values and indices. */
  max(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.maxDim(this.handle, dim, keepdim);
    return { values: wrap(v), indices: wrap(i) };
  }
  min(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.minDim(this.handle, dim, keepdim);
    return { values: wrap(v), indices: wrap(i) };
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return wrap(native.argmax(this.handle, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return wrap(native.argmin(this.handle, dim ?? null, keepdim));
  }
  logsumexp(dims?: number | readonly number[], keepdim = false): Tensor {
    return wrap(native.logsumexp(this.handle, dimList(dims), keepdim));
  }
  all(): Tensor {
    return wrap(native.all(this.handle));
  }
  any(): Tensor {
    return wrap(native.any(this.handle));
  }
  cumsum(dim: number): Tensor {
    return wrap(native.cumsum(this.handle, dim));
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.sort(this.handle, dim, descending);
    return { values: wrap(v), indices: wrap(i) };
  }
  topk(k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
    const [v, i] = native.topk(this.handle, k, dim, largest);
    return { values: wrap(v), indices: wrap(i) };
  }
  softmax(dim: number): Tensor {
    return wrap(native.softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return wrap(native.logSoftmax(this.handle, dim));
  }

  // ---- shape --------------------------------------------------------------------------------------------

  reshape(shape: readonly number[]): Tensor {
    return wrap(native.reshape(this.handle, shape as number[]));
  }
  view(shape: readonly number[]): Tensor {
    return wrap(native.view(this.handle, shape as number[]));
  }
  permute(dims: readonly number[]): Tensor {
    return wrap(native.permute(this.handle, dims as number[]));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return wrap(native.transpose(this.handle, dim0, dim1));
  }
  /** Transpose of a 2-D tensor (PyTorch's `.t()`). */
  t(): Tensor {
    return wrap(native.transpose(this.handle, 0, 1));
  }
  expand(shape: readonly number[]): Tensor {
    return wrap(native.expand(this.handle, shape as number[]));
  }
  repeat(reps: readonly number[]): Tensor {
    return wrap(native.repeat(this.handle, reps as number[]));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return wrap(native.flatten(this.handle, startDim, endDim));
  }
  squeeze(dim?: number): Tensor {
    return wrap(dim === undefined ? native.squeeze(this.handle) : native.squeezeDim(this.handle, dim));
  }
  unsqueeze(dim: number): Tensor {
    return wrap(native.unsqueeze(this.handle, dim));
  }
  /** Splits into pieces of `size` (a number) or of the given sizes along dim. */
  split(size: number | readonly number[], dim = 0): Tensor[] {
    let sizes: number[];
    if (typeof size === 'number') {
      if (!(Number.isInteger(size) && size > 0)) throw new ArgumentError(`split: expected a positive integer size, got ${size}`);
      const n = this.size(dim);
      sizes = [];
      for (let s = 0; s < n; s += size) sizes.push(Math.min(size, n - s));
    } else {
      sizes = size as number[];
    }
    return native.splitWithSizes(this.handle, sizes, dim).map(wrap);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return native.chunk(this.handle, chunks, dim).map(wrap);
  }
  unbind(dim = 0): Tensor[] {
    return native.unbind(this.handle, dim).map(wrap);
  }
  /** x[..., start:end:step, ...] along dim (end omitted or null = to the end; negative values count back). */
  slice(dim: number, start = 0, end: number | null = null, step = 1): Tensor {
    return wrap(native.slice(this.handle, dim, start, end, step));
  }
  /** x[..., index, ...] along dim (removes the dim). */
  select(dim: number, index: number): Tensor {
    return wrap(native.select(this.handle, dim, index));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return wrap(native.narrow(this.handle, dim, start, length));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(native.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return wrap(native.gather(this.handle, dim, index.handle));
  }
  scatter(dim: number, index: Tensor, src: Tensor): Tensor {
    return wrap(native.scatter(this.handle, dim, index.handle, src.handle));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return wrap(native.scatterAdd(this.handle, dim, index.handle, src.handle));
  }
  /** Advanced indexing x[i0, i1, …] with index tensors (null = the whole dim). */
  index(indices: readonly (Tensor | null)[]): Tensor {
    return wrap(
      native.index(
        this.handle,
        indices.map((t) => (t === null ? null : t.handle)),
      ),
    );
  }
  /** Out-of-place x[indices] = values (or += with accumulate). */
  indexPut(indices: readonly (Tensor | null)[], values: Tensor, accumulate = false): Tensor {
    return wrap(
      native.indexPut(
        this.handle,
        indices.map((t) => (t === null ? null : t.handle)),
        values.handle,
        accumulate,
      ),
    );
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return wrap(native.maskedFill(this.handle, mask.handle, value));
  }
  maskedSelect(mask: Tensor): Tensor {
    return wrap(native.maskedSelect(this.handle, mask.handle));
  }
  nonzero(): Tensor {
    return wrap(native.nonzero(this.handle));
  }
  roll(shifts: number | readonly number[], dims: number | readonly number[]): Tensor {
    return wrap(native.roll(this.handle, dimList(shifts), dimList(dims)));
  }
  flip(dims: number | readonly number[]): Tensor {
    return wrap(native.flip(this.handle, dimList(dims)));
  }
  tril(diagonal = 0): Tensor {
    return wrap(native.tril(this.handle, diagonal));
  }
  triu(diagonal = 0): Tensor {
    return wrap(native.triu(this.handle, diagonal));
  }
  matmul(other: Tensor): Tensor {
    return wrap(native.matmul(this.handle, other.handle));
  }
}

/** A 0-d tensor of `value` with x's dtype and device. */
export function scalarLike(x: Tensor, value: number): Tensor {
  return wrap(native.scalarTensor(value, native.dtype(x.handle), native.device(x.handle)));
}
