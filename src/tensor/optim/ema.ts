// SPDX-License-Identifier: MIT
// Exponential moving average of a parameter set (StyleGAN2's G_ema): θ_ema ← θ + β·(θ_ema − θ).
import { ArgumentError } from '../errors.js';
import { native } from '../native.js';
import { onGpu } from './adam.js';
import { keep } from '../scope.js';
import type { Tensor } from '../tensor.js';

export class Ema {
  /** The averaged copies, one per source tensor (kept; dispose() frees them). */
  readonly shadow: readonly Tensor[];
  private readonly owned: boolean;
  /** One multi-tensor lerp per update where libtorch has it (2.x): on CUDA a few kernels instead of one per
   * tensor. Defaults to whether the first tensor is on a GPU. */
  foreach: boolean;

  /** Starts the average at the current values of `source` (or tracks existing `target` tensors). */
  constructor(
    readonly source: readonly Tensor[],
    target?: readonly Tensor[],
  ) {
    if (target && target.length !== source.length) throw new ArgumentError('Ema: target and source differ in length');
    this.owned = target === undefined;
    this.shadow = target ?? keep(source.map((t) => t.detach().clone()));
    if (target)
      native.copyList_(
        target.map((t) => t.handle),
        source.map((t) => t.handle),
      );
    this.foreach = onGpu(source);
  }

  /** θ_ema ← lerp(θ_ema, θ, 1 − β); β = 0 copies, β = 1 freezes. */
  update(beta: number): void {
    if (!(beta >= 0 && beta <= 1)) throw new ArgumentError(`Ema.update: expected beta in [0, 1], got ${beta}`);
    native.lerpList_(
      this.shadow.map((t) => t.handle),
      this.source.map((t) => t.handle),
      1 - beta,
      this.foreach,
    );
  }

  /** Copies values verbatim (buffers such as noise constants and running stats). */
  copyFrom(src: readonly Tensor[], dst: readonly Tensor[]): void {
    native.copyList_(
      dst.map((t) => t.handle),
      src.map((t) => t.handle),
    );
  }

  /** Frees the averaged copies it made (tensors passed in as `target` stay the caller's). */
  dispose(): void {
    if (this.owned) for (const t of this.shadow) t.dispose();
  }
}
