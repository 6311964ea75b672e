// SPDX-License-Identifier: MIT
// Creation ops: from JS data, constants, ranges.
import { shapeArg } from '../check.js';
import { type Device, deviceCode } from '../device.js';
import { type DType, dtypeCode, dtypeOfTypedArray } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import { native } from '../native.js';
import { Tensor, wrap } from '../tensor.js';

export interface CreateOptions {
  /** Element type; default float32 (for typed arrays: the array's own type). */
  dtype?: DType;
  /** Default 'cpu'. */
  device?: Device;
  requiresGrad?: boolean;
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

type Nested = number | boolean | readonly Nested[];

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let d: Nested = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0] as Nested;
  }
  return shape;
}

function flatten(data: Nested, shape: number[], out: number[], depth: number): void {
  if (depth === shape.length) {
    if (typeof data === 'number') out.push(data);
    else if (typeof data === 'boolean') out.push(data ? 1 : 0);
    else throw new ArgumentError(`tensor: expected numbers at depth ${depth}, got ${typeof data}`);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new ArgumentError(`tensor: ragged nested array (expected length ${shape[depth]} at depth ${depth})`);
  }
  for (const x of data) flatten(x, shape, out, depth + 1);
}

/** Host buffer for `values` in the given dtype. */
function encode(values: ArrayLike<number>, dtype: DType): ArrayBufferView {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    case 'int16':
      return Int16Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'uint8':
      return Uint8Array.from(values);
    case 'bool':
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
    case 'int64':
      return BigInt64Array.from(Array.from(values), (v) => BigInt(Math.trunc(v)));
    default:
      return Float32Array.from(values); // float16/bfloat16: converted from float32 by libtorch
  }
}

/**
 * A tensor from nested arrays, a typed array (with `shape`), or a number (0-d).
 * Number data defaults to float32 (JS has no int/float distinction); booleans to bool.
 * @example tensor([[1, 2], [3, 4]])           // float32 [2, 2]
 * @example tensor(new Int32Array(6), { shape: [2, 3] })
 */
export function tensor(data: Nested | ArrayBufferView, o: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  const device = deviceCode(o.device ?? 'cpu');
  if (ArrayBuffer.isView(data)) {
    const own = dtypeOfTypedArray(data);
    if (own === null) throw new ArgumentError('tensor: unsupported typed array type');
    const shape = o.shape ? shapeArg([...o.shape], 'tensor') : [data.byteLength / (data as Float32Array).BYTES_PER_ELEMENT];
    // Straight to the device when no conversion is needed (fromBuffer's upload does not wait for the device).
    if (o.dtype === undefined || o.dtype === own) return finish(wrap(native.fromBuffer(data, dtypeCode(own), shape, device)), o);
    return finish(moveAndDispose(wrap(native.fromBuffer(data, dtypeCode(own), shape, -1)), o), o);
  }
  const shape = inferShape(data as Nested);
  const flat: number[] = [];
  flatten(data as Nested, shape, flat, 0);
  const dtype = o.dtype ?? (isBoolData(data as Nested) ? 'bool' : 'float32');
  const hostType = dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype;
  const sameType = hostType === dtype;
  const t = wrap(
    native.fromBuffer(
      encode(flat, hostType),
      dtypeCode(hostType),
      o.shape ? shapeArg([...o.shape], 'tensor') : shape,
      sameType ? device : -1,
    ),
  );
  return finish(sameType ? t : moveAndDispose(t, o), o);
}

function isBoolData(d: Nested): boolean {
  let x: Nested = d;
  while (Array.isArray(x)) x = x[0] as Nested;
  return typeof x === 'boolean';
}

function moveAndDispose(t: Tensor, o: CreateOptions): Tensor {
  try {
    return t.to({ device: o.device ?? 'cpu', dtype: o.dtype ?? t.dtype });
  } finally {
    t.dispose();
  }
}

/** A tensor over raw little-endian bytes (safetensors, images). The bytes are copied. */
export function fromBytes(bytes: ArrayBufferView | ArrayBuffer, dtype: DType, shape: readonly number[], device: Device = 'cpu'): Tensor {
  return wrap(native.fromBuffer(bytes, dtypeCode(dtype), shapeArg([...shape], 'fromBytes'), deviceCode(device)));
}

export function zeros(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(wrap(native.zeros(shapeArg([...shape], 'zeros'), dtypeCode(o.dtype ?? 'float32'), deviceCode(o.device ?? 'cpu'))), o);
}
export function ones(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(wrap(native.ones(shapeArg([...shape], 'ones'), dtypeCode(o.dtype ?? 'float32'), deviceCode(o.device ?? 'cpu'))), o);
}
export function empty(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(wrap(native.empty(shapeArg([...shape], 'empty'), dtypeCode(o.dtype ?? 'float32'), deviceCode(o.device ?? 'cpu'))), o);
}
export function full(shape: readonly number[], value: number, o: CreateOptions = {}): Tensor {
  return finish(wrap(native.full(shapeArg([...shape], 'full'), value, dtypeCode(o.dtype ?? 'float32'), deviceCode(o.device ?? 'cpu'))), o);
}
/** A 0-d tensor. */
export function scalar(value: number, o: CreateOptions = {}): Tensor {
  return finish(wrap(native.scalarTensor(value, dtypeCode(o.dtype ?? 'float32'), deviceCode(o.device ?? 'cpu'))), o);
}
export function zerosLike(x: Tensor): Tensor {
  return wrap(native.zerosLike(x.handle));
}
export function onesLike(x: Tensor): Tensor {
  return wrap(native.onesLike(x.handle));
}
export function fullLike(x: Tensor, value: number): Tensor {
  return wrap(native.fullLike(x.handle, value));
}
/** [start, end) in steps; `arange(n)` is 0..n−1. Default dtype int64 for integer arguments, else float32. */
export function arange(start: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  const ints = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = o.dtype ?? (ints ? 'int64' : 'float32');
  return finish(wrap(native.arange(start, end, step, dtypeCode(dtype), deviceCode(o.device ?? 'cpu'))), o);
}
export function linspace(start: number, end: number, steps: number, o: CreateOptions = {}): Tensor {
  return finish(wrap(native.linspace(start, end, steps, dtypeCode(o.dtype ?? 'float32'), deviceCode(o.device ?? 'cpu'))), o);
}
export function eye(n: number, m = n, o: CreateOptions = {}): Tensor {
  return finish(wrap(native.eye(n, m, dtypeCode(o.dtype ?? 'float32'), deviceCode(o.device ?? 'cpu'))), o);
}

// Multi-tensor ops that have no natural receiver.

export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  return wrap(
    native.cat(
      xs.map((x) => x.handle),
      dim,
    ),
  );
}
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  return wrap(
    native.stack(
      xs.map((x) => x.handle),
      dim,
    ),
  );
}
/** cond ? a : b elementwise; numbers become 0-d tensors of the other operand's dtype. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const ref = typeof a === 'number' ? (typeof b === 'number' ? null : b) : a;
  const ta = typeof a === 'number' ? scalarOf(a, ref, cond) : a;
  const tb = typeof b === 'number' ? scalarOf(b, ref, cond) : b;
  try {
    return wrap(native.where(cond.handle, ta.handle, tb.handle));
  } finally {
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}

function scalarOf(v: number, like: Tensor | null, cond: Tensor): Tensor {
  return wrap(native.scalarTensor(v, like ? native.dtype(like.handle) : dtypeCode('float32'), native.device((like ?? cond).handle)));
}
