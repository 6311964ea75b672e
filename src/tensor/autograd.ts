// SPDX-License-Identifier: MIT
// Functional autograd: gradients of outputs w.r.t. inputs, including create-graph (double backward for R1).
import { native } from './native.js';
import { type Tensor, wrap } from './tensor.js';

export interface GradOptions {
  /** Gradients flowing into each output (default: ones for scalar outputs). */
  gradOutputs?: readonly (Tensor | null)[];
  /** Keep the graph for another backward (defaults to createGraph, as PyTorch). */
  retainGraph?: boolean;
  /** Record the gradient computation itself, so it can be differentiated again. */
  createGraph?: boolean;
  /** Return null for inputs the outputs do not depend on instead of throwing. */
  allowUnused?: boolean;
}

/**
 * ∂(Σ outputs)/∂inputs without touching `.grad` (PyTorch's `torch.autograd.grad`).
 * @example const [g] = grad([d.forward(x).sum()], [x], { createGraph: true }); // R1
 * @throws TensorError ERR_TORCH if an input was not used and allowUnused is false.
 */
export function grad(outputs: readonly Tensor[], inputs: readonly Tensor[], o: GradOptions = {}): (Tensor | null)[] {
  const r = native.grad(
    outputs.map((t) => t.handle),
    inputs.map((t) => t.handle),
    (o.gradOutputs ?? []).map((t) => (t === null ? null : t.handle)),
    o.retainGraph ?? null,
    o.createGraph ?? false,
    o.allowUnused ?? false,
  );
  return r.map((h) => (h === null ? null : wrap(h)));
}

/** Backward from several roots at once (one graph traversal). */
export function backward(
  roots: readonly Tensor[],
  gradients: readonly (Tensor | null)[] = [],
  o: { retainGraph?: boolean; createGraph?: boolean } = {},
): void {
  native.backward(
    roots.map((t) => t.handle),
    gradients.map((t) => (t === null ? null : t.handle)),
    o.retainGraph ?? null,
    o.createGraph ?? false,
  );
}
