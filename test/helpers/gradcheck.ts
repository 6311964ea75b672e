// SPDX-License-Identifier: MIT
// Finite-difference gradient checks in float64 (PyTorch's gradcheck / gradgradcheck, simplified).
import assert from 'node:assert/strict';
import { type Tensor, grad, noGrad, scope, tensor } from '../../src/index.js';

type Fn = (...inputs: Tensor[]) => Tensor;

/** Σ fn(inputs)·weights as a number, with weights fixed so every output element matters. */
function weightedSum(fn: Fn, inputs: Tensor[], weights: number[]): number {
  return scope(() => {
    const y = fn(...inputs);
    const w = tensor(weights, { dtype: 'float64', shape: y.shape });
    return y.mul(w).sum().item();
  });
}

function outputWeights(fn: Fn, inputs: Tensor[]): number[] {
  return scope(() => {
    const y = fn(...inputs); // with grad on: fn may itself take gradients (gradgradcheck's first-order fn)
    const n = y.numel;
    return Array.from({ length: n }, (_, i) => 0.5 + ((i * 7919) % 13) / 13);
  });
}

/**
 * Checks the analytic gradient of Σ w·fn(inputs) against central differences for every input that
 * requires grad. Inputs must be float64 leaves.
 */
export function gradcheck(fn: Fn, inputs: Tensor[], o: { eps?: number; atol?: number; rtol?: number } = {}): void {
  const eps = o.eps ?? 1e-6;
  const atol = o.atol ?? 1e-5;
  const rtol = o.rtol ?? 1e-3;
  const weights = outputWeights(fn, inputs);
  const wrt = inputs.filter((x) => x.requiresGrad);
  const analytic = scope(() => {
    const y = fn(...inputs);
    const w = tensor(weights, { dtype: 'float64', shape: y.shape });
    return grad([y.mul(w).sum()], wrt, { allowUnused: true }).map((g) => (g === null ? null : g.toArray()));
  });
  wrt.forEach((x, k) => {
    assert.equal(x.dtype, 'float64', 'gradcheck needs float64 inputs');
    const values = x.toArray();
    const numeric = values.map((v, i) => {
      const at = (delta: number) => {
        const moved = values.slice();
        moved[i] = v + delta;
        noGrad(() => scope(() => x.copy_(tensor(moved, { dtype: 'float64', shape: x.shape }))));
        return weightedSum(fn, inputs, weights);
      };
      const d = (at(eps) - at(-eps)) / (2 * eps);
      noGrad(() => scope(() => x.copy_(tensor(values, { dtype: 'float64', shape: x.shape }))));
      return d;
    });
    const a = analytic[k] ?? new Array(values.length).fill(0);
    for (let i = 0; i < values.length; i++) {
      if (Math.abs(a[i] - numeric[i]) > atol + rtol * Math.abs(numeric[i])) {
        assert.fail(`gradcheck: input ${k} element ${i}: analytic ${a[i]} vs numeric ${numeric[i]}`);
      }
    }
  });
}

/**
 * Checks second derivatives: the gradient of Σ v·∂(Σ w·fn)/∂inputs (built with createGraph) against finite
 * differences of the first-order gradient.
 */
export function gradgradcheck(fn: Fn, inputs: Tensor[], o: { eps?: number; atol?: number; rtol?: number } = {}): void {
  const weights = outputWeights(fn, inputs);
  const wrt = inputs.filter((x) => x.requiresGrad);
  const vs = wrt.map((x) => Array.from({ length: x.numel }, (_, i) => 0.3 + ((i * 104729) % 17) / 17));
  const firstOrder: Fn = (...xs: Tensor[]) => {
    const y = fn(...xs);
    const w = tensor(weights, { dtype: 'float64', shape: y.shape });
    const gs = grad(
      [y.mul(w).sum()],
      xs.filter((x) => x.requiresGrad),
      { createGraph: true, allowUnused: true },
    );
    let total: Tensor | null = null;
    gs.forEach((g, k) => {
      if (g === null) return;
      const term = g.mul(tensor(vs[k], { dtype: 'float64', shape: g.shape })).sum();
      total = total === null ? term : total.add(term);
    });
    if (total === null) throw new Error('gradgradcheck: no input reached');
    return total;
  };
  gradcheck(firstOrder, inputs, o);
}
