// SPDX-License-Identifier: MIT
// Shared pieces of the gradient-check suites (gradPointwise, gradReduceShape, gradNn, doubleBackward): float64
// leaf inputs drawn from the seeded generator, the Case shape, and a `check` that runs one case per test with its
// own seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';

export type Fn = (...xs: t.Tensor[]) => t.Tensor;

export interface Case {
  fn: Fn;
  inputs: t.Tensor[];
  opts?: { eps?: number; atol?: number; rtol?: number };
}

/** Standard-normal values from the seeded generator, as a JS array (the tensor is released at once). */
export function normals(n: number, scale = 1): number[] {
  const v = t.scope(() => t.randn([n], { dtype: 'float64' }).toArray());
  return scale === 1 ? v : v.map((x) => x * scale);
}

/** Uniform values in [lo, hi) from the seeded generator. */
export function uniforms(n: number, lo: number, hi: number): number[] {
  return t.scope(() => t.rand([n], { dtype: 'float64' }).toArray()).map((u) => lo + (hi - lo) * u);
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A float64 leaf that requires grad. `map` post-processes the normal draws (e.g. to keep them positive). */
export function leaf(shape: readonly number[], map: (v: number) => number = (v) => v): t.Tensor {
  return t.tensor(normals(numel(shape)).map(map), { dtype: 'float64', shape, requiresGrad: true });
}

/** A float64 tensor of uniform values in [lo, hi) (a grid, probabilities); requiresGrad as asked. */
export function uniform(shape: readonly number[], lo: number, hi: number, requiresGrad = true): t.Tensor {
  return t.tensor(uniforms(numel(shape), lo, hi), { dtype: 'float64', shape, requiresGrad });
}

/** Moves v at least `margin` away from every point in `kinks` (non-differentiable points of the op under test). */
export function avoid(v: number, kinks: readonly number[], margin = 0.15): number {
  let out = v;
  for (const k of kinks) {
    if (Math.abs(out - k) < margin) out = out >= k ? k + margin + Math.abs(out - k) : k - margin - Math.abs(out - k);
  }
  return out;
}

/**
 * `check(name, make)` registers one test per case: seeds firstSeed, firstSeed + 1, … in registration order, builds
 * the case inside a scope, asserts its inputs are float64 leaves that require grad, and runs `checker` on it.
 */
export function caseChecker(
  firstSeed: number,
  checker: (fn: Fn, inputs: t.Tensor[], opts: Case['opts']) => void,
): (name: string, make: () => Case, o?: { todo?: string }) => void {
  let seed = firstSeed;
  return (name, make, o = {}) => {
    const s = seed++;
    test(name, o, () => {
      t.scope(() => {
        t.manualSeed(s);
        const { fn, inputs, opts } = make();
        for (const x of inputs) assert.ok(x.requiresGrad && x.isLeaf && x.dtype === 'float64', `${name}: bad test input`);
        checker(fn, inputs, opts);
      });
    });
  };
}
