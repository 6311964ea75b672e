// SPDX-License-Identifier: MIT
// Plain 2-D convolution with PyTorch's default initialisation (torch.nn.Conv2d), for the U-Net (spec §10.1).
import { ShapeError } from '../../tensor/errors.js';
import { empty } from '../../tensor/ops/creation.js';
import { conv2d } from '../../tensor/ops/nn.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';

export interface Conv2dOptions {
  /** Zero padding on each side (default 0). */
  padding?: number;
  /** Add a learned bias (default true). */
  bias?: boolean;
}

/**
 * torch.nn.Conv2d (stride 1): weight [O, I, k, k] and bias [O] drawn from U(−1/√fanIn, 1/√fanIn), which is what
 * PyTorch's kaiming_uniform_(a = √5) and its bias rule give; fanIn = I·k·k. No equalised learning rate.
 */
export class Conv2d extends Module {
  readonly weight: Tensor; // [O, I, k, k]
  readonly bias: Tensor | null; // [O]
  readonly padding: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    o: Conv2dOptions = {},
  ) {
    super();
    const bound = 1 / Math.sqrt(inChannels * kernel * kernel);
    this.weight = this.addParameter('weight', empty([outChannels, inChannels, kernel, kernel]).uniform_(-bound, bound));
    this.bias = (o.bias ?? true) ? this.addParameter('bias', empty([outChannels]).uniform_(-bound, bound)) : null;
    this.padding = o.padding ?? 0;
  }

  /** x [N, I, H, W] → [N, O, H + 2p − k + 1, W + 2p − k + 1]. */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(`${this.path('x')}: expected [N, ${this.inChannels}, H, W], got [${x.shape}]`);
    }
    return conv2d(x, this.weight, this.bias, { padding: this.padding });
  }
}
