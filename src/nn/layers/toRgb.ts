// SPDX-License-Identifier: MIT
// ToRGB (spec §3.3): the synthesis block's 1×1 modulated conv to image channels, without demodulation.
import { biasAct } from '../functional/biasAct.js';
import { modulatedConv2d } from '../functional/modulatedConv2d.js';
import { zeros } from '../../tensor/ops/creation.js';
import { randn } from '../../tensor/ops/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { FullyConnected } from './fullyConnected.js';

/** ToRGB (spec §3.3): 1×1 modulated conv without demodulation, styles scaled by 1/√I, bias, clamp. */
export class ToRgb extends Module {
  readonly affine: FullyConnected;
  readonly weight: Tensor; // [C_img, I, 1, 1]
  readonly bias: Tensor; //   [C_img]
  readonly weightGain: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    wDim: number,
    readonly convClamp: number | null = null,
  ) {
    super();
    this.affine = this.addModule('affine', new FullyConnected(wDim, inChannels, { biasInit: 1 }));
    this.weight = this.addParameter('weight', randn([outChannels, inChannels, 1, 1]));
    this.bias = this.addParameter('bias', zeros([outChannels]));
    this.weightGain = 1 / Math.sqrt(inChannels);
  }

  /** x [N, I, R, R], w [N, wDim] → [N, C_img, R, R], in x's dtype. */
  forward(x: Tensor, w: Tensor): Tensor {
    const styles = this.affine.forward(w).mul(this.weightGain);
    const y = modulatedConv2d(x, this.weight, styles, { padding: 0, demodulate: false });
    return biasAct(y, this.bias, { act: 'linear', clamp: this.convClamp });
  }
}
