// SPDX-License-Identifier: MIT
// A seedable host-side random generator with a small state that checkpoints can store: xoshiro128** (period
// 2^128 − 1), seeded through splitmix32. Used where per-sample random parameters are cheaper drawn in JS than as
// dozens of tiny device tensors (ADA's transform parameters).

/** The generator's whole state: four uint32 words (never all zero). */
export type HostRandomState = [number, number, number, number];

export class HostRandom {
  private s: Uint32Array;

  constructor(seed = 0) {
    this.s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** The next uint32. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1), 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box–Muller; one value per call, so the state alone describes the stream). */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  get state(): HostRandomState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  set state(v: HostRandomState) {
    if (!(Array.isArray(v) && v.length === 4 && v.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff))) {
      throw new RangeError(`HostRandom state must be four uint32 words, got ${JSON.stringify(v)}`);
    }
    if (v.every((w) => w === 0)) throw new RangeError('HostRandom state must not be all zero');
    this.s.set(v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
