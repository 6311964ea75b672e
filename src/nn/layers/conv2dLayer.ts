// SPDX-License-Identifier: MIT
// Plain conv layer with equalised learning rate and optional FIR resampling (the discriminator's; spec §3.5, §5).
import { type Activation, biasAct, defaultGain } from '../functional/biasAct.js';
import { cast } from '../functional/cast.js';
import { conv2dResample } from '../functional/conv2dResample.js';
import { setupFilter } from '../functional/upfirdn2d.js';
import { ShapeError } from '../../tensor/errors.js';
import { zeros } from '../../tensor/ops/creation.js';
import { randn } from '../../tensor/ops/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';

export interface Conv2dLayerOptions {
  kernel: number;
  activation?: Activation;
  bias?: boolean;
  up?: 1 | 2;
  down?: 1 | 2;
  /** Clamp of the activation output (scaled by the call's gain), or null. */
  convClamp?: number | null;
}

export class Conv2dLayer extends Module {
  readonly weight: Tensor; // [O, I, k, k] ~ N(0, 1)
  readonly bias: Tensor | null; // [O]
  readonly resampleFilter: Tensor | null;
  readonly weightGain: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly opts: Readonly<Conv2dLayerOptions>,
  ) {
    super();
    const k = opts.kernel;
    this.weight = this.addParameter('weight', randn([outChannels, inChannels, k, k]));
    this.bias = (opts.bias ?? true) ? this.addParameter('bias', zeros([outChannels])) : null;
    this.resampleFilter = (opts.up ?? 1) > 1 || (opts.down ?? 1) > 1 ? this.addBuffer('resample_filter', setupFilter()) : null;
    this.weightGain = 1 / Math.sqrt(inChannels * k * k);
  }

  /**
   * x [N, I, H, W] → [N, O, H·up/down, W·up/down] in x's dtype (the weight is cast to it: reduced precision as
   * upstream); gain scales the activation gain and the clamp.
   */
  forward(x: Tensor, gain = 1): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(`${this.path('x')}: expected [N, ${this.inChannels}, H, W], got [${x.shape}]`);
    }
    const act = this.opts.activation ?? 'linear';
    const y = conv2dResample(x, cast(this.weight.mul(this.weightGain), x), {
      filter: this.resampleFilter,
      up: this.opts.up,
      down: this.opts.down,
      padding: this.opts.kernel >> 1,
      flipWeight: (this.opts.up ?? 1) === 1,
    });
    const clamp = this.opts.convClamp == null ? null : this.opts.convClamp * gain;
    return biasAct(y, this.bias, { act, gain: defaultGain[act] * gain, clamp });
  }
}
