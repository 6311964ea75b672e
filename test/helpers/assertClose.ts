// SPDX-License-Identifier: MIT
// Numeric comparison helpers for tests.
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/index.js';

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise (a, b tensors or number arrays of the same length). */
export function assertClose(
  actual: Tensor | ArrayLike<number> | number,
  expected: Tensor | ArrayLike<number> | number,
  o: { rtol?: number; atol?: number; message?: string } = {},
): void {
  const a = toNumbers(actual);
  const b = toNumbers(expected);
  const rtol = o.rtol ?? 1e-5;
  const atol = o.atol ?? 1e-6;
  assert.equal(a.length, b.length, `${o.message ?? 'assertClose'}: length ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    const ok = Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i]));
    if (!ok) assert.fail(`${o.message ?? 'assertClose'}: element ${i}: ${a[i]} vs ${b[i]} (rtol ${rtol}, atol ${atol})`);
  }
}

function toNumbers(v: Tensor | ArrayLike<number> | number): number[] {
  if (typeof v === 'number') return [v];
  if (typeof (v as Tensor).toArray === 'function') return (v as Tensor).toArray();
  return Array.from(v as ArrayLike<number>);
}
