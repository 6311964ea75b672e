// SPDX-License-Identifier: MIT
// Synthesis layer (spec §3.3): affine style, modulated 3×3 conv (optionally ×2 up), noise, bias, lrelu·√2, clamp.
import { biasAct } from '../functional/biasAct.js';
import { setupFilter } from '../functional/upfirdn2d.js';
import { ShapeError } from '../../tensor/errors.js';
import { zeros } from '../../tensor/ops/creation.js';
import { randn } from '../../tensor/ops/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { FullyConnected } from './fullyConnected.js';
import { cast } from '../functional/cast.js';
import { modulatedConv2d } from '../functional/modulatedConv2d.js';

/** 'random': fresh N(0,1) per call (training); 'const': the layer's fixed buffer; 'none': no noise. */
export type NoiseMode = 'random' | 'const' | 'none';

export class SynthesisLayer extends Module {
  readonly affine: FullyConnected; // w → s [N, I]; bias starts at 1 so s ≈ 1
  readonly weight: Tensor; //         [O, I, 3, 3] ~ N(0, 1), no equalised-lr gain (demodulation normalises)
  readonly noiseConst: Tensor; //     [R, R]
  readonly noiseStrength: Tensor; //  [] starts at 0
  readonly bias: Tensor; //           [O]
  readonly resampleFilter: Tensor | null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    wDim: number,
    readonly resolution: number,
    readonly opts: Readonly<{ up?: 1 | 2; convClamp?: number | null; kernel?: number }> = {},
  ) {
    super();
    const k = opts.kernel ?? 3;
    this.affine = this.addModule('affine', new FullyConnected(wDim, inChannels, { biasInit: 1 }));
    this.weight = this.addParameter('weight', randn([outChannels, inChannels, k, k]));
    this.resampleFilter = (opts.up ?? 1) > 1 ? this.addBuffer('resample_filter', setupFilter()) : null;
    this.noiseConst = this.addBuffer('noise_const', randn([resolution, resolution]));
    this.noiseStrength = this.addParameter('noise_strength', zeros([]));
    this.bias = this.addParameter('bias', zeros([outChannels]));
  }

  /** x [N, I, R/up, R/up], w [N, wDim] → [N, O, R, R], in x's dtype (float32, or reduced: see modulatedConv2d). */
  forward(x: Tensor, w: Tensor, noiseMode: NoiseMode = 'random', gain = 1): Tensor {
    const n = x.shape[0];
    const inRes = this.resolution / (this.opts.up ?? 1);
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels || x.shape[2] !== inRes || x.shape[3] !== inRes) {
      throw new ShapeError(`${this.path('x')}: expected [N, ${this.inChannels}, ${inRes}, ${inRes}], got [${x.shape}]`);
    }
    const styles = this.affine.forward(w);
    let y = modulatedConv2d(x, this.weight, styles, {
      up: this.opts.up,
      padding: (this.opts.kernel ?? 3) >> 1,
      filter: this.resampleFilter,
      demodulate: true,
    });
    if (noiseMode === 'random') {
      y = y.add(cast(randn([n, 1, this.resolution, this.resolution], { device: x.device }).mul(this.noiseStrength), y));
    } else if (noiseMode === 'const') {
      y = y.add(cast(this.noiseConst.mul(this.noiseStrength), y));
    }
    const clamp = this.opts.convClamp == null ? null : this.opts.convClamp * gain;
    return biasAct(y, this.bias, { act: 'lrelu', gain: Math.SQRT2 * gain, clamp });
  }
}
