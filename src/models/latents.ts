// SPDX-License-Identifier: MIT
// Seeded latent codes for generation: one standard-normal stream per seed, drawn batch by batch, so sample i
// gets the same z whatever the batch size or device (a JS PRNG; libtorch's generator is left alone).
import { mulberry32 } from '../data/procedural.js';
import type { Device } from '../tensor/device.js';
import { tensor } from '../tensor/ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';

/** Rows of N(0, I) latents, batch by batch (train/samples.ts's fixedLatents is its first batch). */
export class LatentStream {
  private readonly rand: () => number;
  private spare: number | null = null;

  constructor(
    readonly dim: number,
    readonly seed: number,
  ) {
    this.rand = mulberry32(seed + 0x9e3779b9);
  }

  /** The next standard-normal value (Box–Muller, both values of a pair used in order). */
  private normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = Math.max(this.rand(), 1e-12);
    const u2 = this.rand();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** The next `rows` latents as a float32 tensor [rows, dim]. */
  next(rows: number, device: Device = 'cpu'): Tensor {
    const v = new Float32Array(rows * this.dim);
    for (let i = 0; i < v.length; i++) v[i] = this.normal();
    return tensor(v, { shape: [rows, this.dim], device });
  }
}
