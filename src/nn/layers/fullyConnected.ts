// SPDX-License-Identifier: MIT
// Fully connected layer with equalised learning rate (spec §3.5).
import { type Activation, biasAct } from '../functional/biasAct.js';
import { ShapeError } from '../../tensor/errors.js';
import { full } from '../../tensor/ops/creation.js';
import { linear } from '../../tensor/ops/nn.js';
import { randn } from '../../tensor/ops/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';

export interface FullyConnectedOptions {
  /** Activation after the bias (default linear). */
  activation?: Activation;
  /** Learning-rate multiplier λ: stored weight ~ N(0, 1)/λ, used weight = stored·λ/√fanIn (default 1). */
  lrMultiplier?: number;
  /** Initial value of the (used) bias (default 0; the affine layers of modulated convs use 1). */
  biasInit?: number;
  bias?: boolean;
}

export class FullyConnected extends Module {
  readonly weight: Tensor; // [O, I] stored
  readonly bias: Tensor | null; // [O] stored
  readonly weightGain: number;
  readonly biasGain: number;
  readonly activation: Activation;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    o: FullyConnectedOptions = {},
  ) {
    super();
    const lr = o.lrMultiplier ?? 1;
    this.activation = o.activation ?? 'linear';
    this.weight = this.addParameter('weight', randn([outFeatures, inFeatures]).div_(lr));
    this.bias = (o.bias ?? true) ? this.addParameter('bias', full([outFeatures], (o.biasInit ?? 0) / lr)) : null;
    this.weightGain = lr / Math.sqrt(inFeatures);
    this.biasGain = lr;
  }

  /** x [N, I] → [N, O]. */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ShapeError(`${this.path('x')}: expected [N, ${this.inFeatures}], got [${x.shape}]`);
    }
    const w = this.weight.mul(this.weightGain);
    const b = this.bias === null ? null : this.biasGain === 1 ? this.bias : this.bias.mul(this.biasGain);
    if (this.activation === 'linear') return linear(x, w, b);
    return biasAct(linear(x, w), b, { act: this.activation });
  }
}
