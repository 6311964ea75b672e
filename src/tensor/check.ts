// SPDX-License-Identifier: MIT
// Argument checks for public ops: O(arguments), messages built only on failure, naming the op and the value.
import { ArgumentError } from './errors.js';

function describe(v: unknown): string {
  return `${Array.isArray(v) ? JSON.stringify(v) : String(v)} (${Array.isArray(v) ? 'array' : typeof v})`;
}

export function int(v: unknown, op: string, name: string, opts: { min?: number } = {}): number {
  const min = opts.min ?? Number.NEGATIVE_INFINITY;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ArgumentError(
      `${op}: expected ${min === 1 ? 'positive ' : min === 0 ? 'non-negative ' : ''}integer for ${name}, got ${describe(v)}`,
    );
  }
  return v;
}

/** A number or [h, w] pair of integers ≥ min. */
export function pair(v: unknown, op: string, name: string, opts: { min?: number } = {}): [number, number] {
  const min = opts.min ?? 0;
  const ok = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= min;
  if (ok(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  const kind = min === 1 ? 'positive integer' : min === 0 ? 'non-negative integer' : 'integer';
  throw new ArgumentError(`${op}: expected ${kind} or [h, w] for ${name}, got ${describe(v)}`);
}

/**
 * A shape: non-negative safe integers (2^53 and beyond are not exact in a JS number). Whether the tensor fits in
 * memory is the addon's check (ERR_OUT_OF_MEMORY before it allocates), the same for every caller.
 */
export function shapeArg(v: unknown, op: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new ArgumentError(`${op}: expected a shape (array of non-negative integers below 2^53), got ${describe(v)}`);
  }
  return v as number[];
}

export function choice<T extends string>(v: unknown, allowed: readonly T[], op: string, name: string): T {
  if (!allowed.includes(v as T)) {
    throw new ArgumentError(`${op}: expected one of ${allowed.map((a) => `'${a}'`).join(', ')} for ${name}, got ${describe(v)}`);
  }
  return v as T;
}

export function finite(v: unknown, op: string, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ArgumentError(`${op}: expected a finite number for ${name}, got ${describe(v)}`);
  return v;
}
