// SPDX-License-Identifier: MIT
// Mapping network (spec §3.1): normalise z, FC layers with lr multiplier 0.01 and lrelu, track w_avg.
import { FullyConnected } from '../nn/layers/fullyConnected.js';
import { Module } from '../nn/module.js';
import { ShapeError } from '../tensor/errors.js';
import { zeros } from '../tensor/ops/creation.js';
import { noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

export class MappingNetwork extends Module {
  readonly layers: FullyConnected[] = [];
  readonly wAvg: Tensor; // [wDim] EMA of w; only truncation would use it (never, ψ = 1)
  readonly wAvgBeta = 0.995;

  constructor(
    readonly zDim: number,
    readonly wDim: number,
    numLayers: number,
    lrMultiplier: number,
  ) {
    super();
    for (let i = 0; i < numLayers; i++) {
      const inF = i === 0 ? zDim : wDim;
      this.layers.push(this.addModule(`fc${i}`, new FullyConnected(inF, wDim, { activation: 'lrelu', lrMultiplier })));
    }
    this.wAvg = this.addBuffer('w_avg', zeros([wDim]));
  }

  /** z [N, zDim] → w [N, wDim]. In training mode w_avg moves towards the batch mean. */
  forward(z: Tensor, o: { updateWAvg?: boolean } = {}): Tensor {
    if (z.ndim !== 2 || z.shape[1] !== this.zDim) throw new ShapeError(`${this.path('z')}: expected [N, ${this.zDim}], got [${z.shape}]`);
    // Normalise the second moment: z / sqrt(mean(z²) + 1e-8).
    let x = z.mul(z.square().mean(1, true).add(1e-8).rsqrt());
    for (const fc of this.layers) x = fc.forward(x);
    if (this.training && (o.updateWAvg ?? true)) {
      noGrad(() => scope(() => void this.wAvg.copy_(x.detach().mean(0).lerp(this.wAvg, this.wAvgBeta))));
    }
    return x;
  }
}
