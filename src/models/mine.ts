// SPDX-License-Identifier: MIT
// The MINE statistics network T(x, y) (spec §11): Linear(2·D → hidden) → ReLU → Linear(hidden → 1) on the
// concatenated flattened pair, PyTorch's default Linear initialisation.
import { Module } from '../nn/module.js';
import type { Device } from '../tensor/device.js';
import { ShapeError } from '../tensor/errors.js';
import { linear } from '../tensor/ops/nn.js';
import { rand } from '../tensor/ops/random.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/** U(−1/√fanIn, 1/√fanIn): torch.nn.Linear's default for weight (kaiming_uniform, a = √5) and bias. */
function defaultLinearInit(shape: number[], fanIn: number, device: Device): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return scope(() =>
    rand(shape, { device })
      .mul(2 * bound)
      .sub(bound),
  );
}

/** Joint and marginal scores of one batch. */
export interface MineScores {
  /** [B] T(x_i, y_i). */
  joint: Tensor;
  /** [B] T(x_i, y_{j_i}). */
  marginal: Tensor;
}

export class MineNet extends Module {
  readonly fc1WeightX: Tensor; // [hidden, D], the columns that see x
  readonly fc1WeightY: Tensor; // [hidden, D], the columns that see y
  readonly fc1Bias: Tensor; // [hidden]
  readonly fc2Weight: Tensor; // [1, hidden]
  readonly fc2Bias: Tensor; // [1]

  /** @param inputDim D, the flattened size of x and of y. */
  constructor(
    readonly inputDim: number,
    readonly hidden: number,
    device: Device = 'cpu',
  ) {
    super();
    // fc1's weight [hidden, 2·D] is stored as its two column halves: the same layer and initialisation, but the
    // gradient of each half is written directly (slicing one tensor costs a zero-fill and a copy per step).
    this.fc1WeightX = this.addParameter('fc1.weight_x', defaultLinearInit([hidden, inputDim], 2 * inputDim, device));
    this.fc1WeightY = this.addParameter('fc1.weight_y', defaultLinearInit([hidden, inputDim], 2 * inputDim, device));
    this.fc1Bias = this.addParameter('fc1.bias', defaultLinearInit([hidden], 2 * inputDim, device));
    this.fc2Weight = this.addParameter('fc2.weight', defaultLinearInit([1, hidden], hidden, device));
    this.fc2Bias = this.addParameter('fc2.bias', defaultLinearInit([1], hidden, device));
  }

  /** T(x, y) = fc2(relu(fc1([x; y]))) for x, y [B, D] (flattened here if given as images): [B]. */
  forward(x: Tensor, y: Tensor): Tensor {
    return scope(() => {
      const h = linear(this.flat(x, 'x'), this.fc1WeightX, this.fc1Bias)
        .add(linear(this.flat(y, 'y'), this.fc1WeightY))
        .relu();
      return linear(h, this.fc2Weight, this.fc2Bias).flatten();
    });
  }

  /**
   * Joint T(x_i, y_i) and marginal T(x_i, y_{j_i}) scores for x, y [B, …] and indices j [B] (int64).
   * Equal to two forward() calls, with the first layer split as W·[x; y] = W_x·x + W_y·y so each half is
   * multiplied once and the shuffled pairs reuse W_y·y by row indexing: half the work of the first layer.
   */
  scores(x: Tensor, y: Tensor, j: Tensor): MineScores {
    return scope(() => {
      const hx = linear(this.flat(x, 'x'), this.fc1WeightX, this.fc1Bias); // [B, hidden]
      const hy = linear(this.flat(y, 'y'), this.fc1WeightY); // [B, hidden]
      const head = (h: Tensor) => linear(h.relu(), this.fc2Weight, this.fc2Bias).flatten(); // [B]
      return { joint: head(hx.add(hy)), marginal: head(hx.add(hy.indexSelect(0, j))) };
    });
  }

  private flat(t: Tensor, what: string): Tensor {
    const f = t.ndim === 2 ? t : t.flatten(1);
    if (f.shape[1] !== this.inputDim)
      throw new ShapeError(`${this.path(what)}: ${f.shape[1]} features per sample, expected ${this.inputDim}`);
    return f;
  }
}
