// SPDX-License-Identifier: MIT
// Batch normalisation over [N, C, H, W] with running statistics (torch.nn.BatchNorm2d), for the U-Net (spec §10.1).
import { ShapeError } from '../../tensor/errors.js';
import { ones, zeros } from '../../tensor/ops/creation.js';
import { batchNorm } from '../../tensor/ops/nn.js';
import { noGrad } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';

/**
 * torch.nn.BatchNorm2d(C) with its defaults: affine weight 1 and bias 0, eps 1e-5, momentum 0.1, running mean 0 and
 * variance 1. In training mode it normalises with the batch statistics and updates the running ones in place
 * (the variance with Bessel's correction, as PyTorch); in eval mode it uses the running statistics. The state
 * names are PyTorch's: weight, bias, running_mean, running_var, num_batches_tracked (int64, 0-d).
 */
export class BatchNorm2d extends Module {
  readonly weight: Tensor; // [C]
  readonly bias: Tensor; // [C]
  readonly runningMean: Tensor; // [C]
  readonly runningVar: Tensor; // [C]
  readonly numBatchesTracked: Tensor; // [] int64

  constructor(
    readonly channels: number,
    readonly opts: Readonly<{ eps?: number; momentum?: number }> = {},
  ) {
    super();
    this.weight = this.addParameter('weight', ones([channels]));
    this.bias = this.addParameter('bias', zeros([channels]));
    this.runningMean = this.addBuffer('running_mean', zeros([channels]));
    this.runningVar = this.addBuffer('running_var', ones([channels]));
    this.numBatchesTracked = this.addBuffer('num_batches_tracked', zeros([], { dtype: 'int64' }));
  }

  /** x [N, C, H, W] → same shape. */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.channels) {
      throw new ShapeError(`${this.path('x')}: expected [N, ${this.channels}, H, W], got [${x.shape}]`);
    }
    if (this.training) noGrad(() => this.numBatchesTracked.add_(1));
    return batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: this.training,
      momentum: this.opts.momentum ?? 0.1,
      eps: this.opts.eps ?? 1e-5,
    });
  }
}
