// SPDX-License-Identifier: MIT
// Minibatches of training images: an infinite, seeded shuffling sampler over a decoded ImageSet, turned into
// float tensors in [−1, 1] on the training device (x/127.5 − 1, spec §0).
import { constants as bufferConstants } from 'node:buffer';
import type { Device } from '../tensor/device.js';
import { InputError } from '../util/errors.js';
import { fromBytes } from '../tensor/ops/creation.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ImageSet } from './imageFolder.js';
import { mulberry32 } from './procedural.js';

export class BatchSampler {
  private order: Uint32Array;
  private pos = 0;
  private rand: () => number;
  /** Epochs completed (the sampler reshuffles at each). */
  epoch = 0;

  constructor(
    readonly set: ImageSet,
    readonly seed = 0,
  ) {
    this.rand = mulberry32(seed ^ 0x5eed);
    this.order = this.shuffled();
  }

  private shuffled(): Uint32Array {
    const o = new Uint32Array(this.set.count);
    for (let i = 0; i < o.length; i++) o[i] = i;
    for (let i = o.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [o[i], o[j]] = [o[j], o[i]];
    }
    return o;
  }

  /** The next n image indices (wrapping into a fresh shuffle at the end of an epoch). */
  nextIndices(n: number): number[] {
    this.checkBatch(n);
    const out: number[] = [];
    while (out.length < n) {
      if (this.pos >= this.order.length) {
        this.order = this.shuffled();
        this.pos = 0;
        this.epoch++;
      }
      out.push(this.order[this.pos++]);
    }
    return out;
  }

  /**
   * Refuses a batch whose bytes (n·3·S·S) no typed array can hold, before anything is allocated for it: a
   * `--batch 1e12` used to grow the index list until V8 died with a fatal "invalid size" error (SIGTRAP).
   */
  private checkBatch(n: number): void {
    if (!Number.isSafeInteger(n) || n < 1) throw new InputError(`batch size must be a positive integer, got ${n}`, 'ERR_INVALID_ARG_VALUE');
    const bytes = n * 3 * this.set.size * this.set.size;
    if (bytes > bufferConstants.MAX_LENGTH) {
      throw new InputError(
        `a batch of ${n} images at ${this.set.size}² takes ${bytes} bytes, more than one buffer can hold (${bufferConstants.MAX_LENGTH})`,
        'ERR_OUT_OF_MEMORY',
        'use a smaller --batch',
      );
    }
  }

  /** Bytes of the given images, n·3·S·S. */
  gather(indices: readonly number[]): Uint8Array {
    const per = 3 * this.set.size * this.set.size;
    const out = new Uint8Array(indices.length * per);
    indices.forEach((idx, k) => out.set(this.set.pixels.subarray(idx * per, (idx + 1) * per), k * per));
    return out;
  }

  /** The next batch as float [n, 3, S, S] in [−1, 1] on `device`. */
  next(n: number, device: Device = 'cpu'): Tensor {
    const bytes = this.gather(this.nextIndices(n));
    const s = this.set.size;
    return scope(() => fromBytes(bytes, 'uint8', [n, 3, s, s], device).float().div(127.5).sub(1));
  }

  /** Position for checkpoints: epoch and offset (the RNG is replayed from the seed). */
  state(): { epoch: number; pos: number } {
    return { epoch: this.epoch, pos: this.pos };
  }

  /** Restores a state() by replaying the shuffles (deterministic from the seed). */
  restore(st: { epoch: number; pos: number }): void {
    this.rand = mulberry32(this.seed ^ 0x5eed);
    this.order = this.shuffled();
    for (let e = 0; e < st.epoch; e++) this.order = this.shuffled();
    this.epoch = st.epoch;
    this.pos = st.pos;
  }
}
