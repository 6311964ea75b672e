// SPDX-License-Identifier: MIT
// Minibatch standard deviation (spec §5): per-group std over the batch, appended as extra channels.
import { ShapeError } from '../../tensor/errors.js';
import { cat } from '../../tensor/ops/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';

export class MinibatchStd extends Module {
  constructor(
    readonly groupSize: number,
    readonly numChannels = 1,
  ) {
    super();
  }

  /** x [N, C, H, W] → [N, C + F, H, W]. Groups are the samples whose indices agree modulo N/G. */
  forward(x: Tensor): Tensor {
    const [n, c, h, w] = x.shape;
    const g = Math.min(this.groupSize, n);
    const f = this.numChannels;
    if (n % g !== 0) throw new ShapeError(`${this.path('x')}: batch ${n} is not a multiple of the group size ${g}`);
    if (c % f !== 0) throw new ShapeError(`${this.path('x')}: ${c} channels do not split into ${f} groups`);
    let y = x.reshape([g, -1, f, c / f, h, w]); // [G, M, F, c, H, W]
    y = y.sub(y.mean(0)); //                      deviation from the group mean
    y = y.square().mean(0); //                    [M, F, c, H, W] variance over the group
    y = y.add(1e-8).sqrt(); //                    std
    y = y.mean([2, 3, 4]); //                     [M, F]
    y = y.reshape([-1, f, 1, 1]).repeat([g, 1, h, w]); // [N, F, H, W]
    return cat([x, y], 1);
  }
}
