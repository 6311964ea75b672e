// SPDX-License-Identifier: MIT
// Dtype names (PyTorch's, lower-case) and their at::ScalarType codes.
import { ArgumentError } from './errors.js';

export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const codes: Record<DType, number> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};
const names: DType[] = [];
for (const [name, code] of Object.entries(codes)) names[code] = name as DType;

export const dtypeNames = Object.keys(codes) as DType[];

export function dtypeCode(d: DType): number {
  const c = codes[d];
  if (c === undefined) throw new ArgumentError(`expected a dtype (${dtypeNames.join(', ')}), got ${String(d)}`);
  return c;
}

export function dtypeName(code: number): DType {
  const n = names[code];
  if (n === undefined) throw new ArgumentError(`unknown dtype code ${code}`);
  return n;
}

export function isFloatingPoint(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

/** Bytes per element. */
export function elementSize(d: DType): number {
  switch (d) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
    case 'bfloat16':
    case 'int16':
      return 2;
    default:
      return 1;
  }
}

export type TypedArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | BigInt64Array | Uint16Array;

/** The dtype a typed array holds (Uint16Array is taken as raw float16 bits only when asked for explicitly). */
export function dtypeOfTypedArray(a: ArrayBufferView): DType | null {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'uint8';
  if (a instanceof BigInt64Array) return 'int64';
  return null;
}
