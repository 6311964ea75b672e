// SPDX-License-Identifier: MIT
// Network configuration (spec §3, §5, §16) and the presets: the paper's ils64/ils128 and small CPU ones.

export interface NetworkConfig {
  /** Image side S (a power of two, 32–256). */
  resolution: number;
  /** Latent z and intermediate w dims (512). */
  zDim: number;
  wDim: number;
  /** FC layers in each mapping network (8). */
  mappingLayers: number;
  /** Learning-rate multiplier of the mapping layers (0.01). */
  mappingLrMultiplier: number;
  /** Channels at resolution r: min(channelBase / r, channelMax) (16384 / 256). */
  channelBase: number;
  channelMax: number;
  /** Clamp of conv outputs (256), or null. */
  convClamp: number | null;
  /**
   * Blocks at the top N resolutions (r ≥ max(2^(log2 S + 1 − N), 8)) may run in reduced precision with the
   * ±convClamp clamps (spec §3.7; the paper's configs: 4). Whether they do is the trainer's `precision` option;
   * weights and parameter counts do not depend on it. Absent = 0.
   */
  numFp16Res?: number;
  /** Minibatch-std group size (4) and channels (1). */
  mbstdGroupSize: number;
  mbstdChannels: number;
  /**
   * Not in the paper (default 0 = none): a fixed centred bump β·clamp(1 − (d/r₀)², −1, 1) added to the alpha
   * logit, with d the distance from the centre and r₀ the radius of a disc covering 30 % of the frame. At the
   * start the mask is then a centred disc; the network can move or reshape it (it only has to outweigh β). A
   * prior for object-centred data, used by the demo to skip the early phase where masks settle on a corner, an
   * edge or nothing at all.
   */
  maskPrior?: number;
  /** kimg over which the mask prior fades linearly to 0 (then the generator is the paper's); absent = never. */
  maskPriorKimg?: number;
  /**
   * Not in the paper (default 0): the mask prior's bump differs per sample, as a function of z (z₀…z₃ through the
   * normal CDF to u ∈ (−1, 1)): its centre moves by up to ±jitter·S on each axis and its radii scale by
   * exp(±2·jitter) (size and aspect). A single bump for every sample imprints one mask on every sample; objects in
   * photos vary in place and size, and with a prior that is a function of z the generator can take the variation
   * over as the prior fades.
   */
  maskPriorJitter?: number;
}

export const presets = {
  /** The paper's 64×64 configuration (`ILS_predL`). */
  ils64: {
    resolution: 64,
    zDim: 512,
    wDim: 512,
    mappingLayers: 8,
    mappingLrMultiplier: 0.01,
    channelBase: 16384,
    channelMax: 256,
    convClamp: 256,
    mbstdGroupSize: 4,
    mbstdChannels: 1,
    numFp16Res: 4,
  },
  /** The paper's 128×128 configuration (`ILS`). */
  ils128: {
    resolution: 128,
    zDim: 512,
    wDim: 512,
    mappingLayers: 8,
    mappingLrMultiplier: 0.01,
    channelBase: 16384,
    channelMax: 256,
    convClamp: 256,
    mbstdGroupSize: 4,
    mbstdChannels: 1,
    numFp16Res: 4,
  },
  /** 32×32, channel base 2048 / max 128, 2 mapping layers: the CPU reference setting of the speed target. */
  tiny32: {
    resolution: 32,
    zDim: 512,
    wDim: 512,
    mappingLayers: 2,
    mappingLrMultiplier: 0.01,
    channelBase: 2048,
    channelMax: 128,
    convClamp: 256,
    mbstdGroupSize: 4,
    mbstdChannels: 1,
    numFp16Res: 4,
  },
  /** 64×64 with few channels: trains on 2 CPU cores in tens of minutes. */
  small64: {
    resolution: 64,
    zDim: 256,
    wDim: 256,
    mappingLayers: 2,
    mappingLrMultiplier: 0.01,
    channelBase: 4096,
    channelMax: 128,
    convClamp: 256,
    mbstdGroupSize: 4,
    mbstdChannels: 1,
    numFp16Res: 4,
  },
} satisfies Record<string, NetworkConfig>;

export type PresetName = keyof typeof presets;

/** Channels at resolution r. */
export function channelsAt(c: NetworkConfig, r: number): number {
  return Math.min(Math.floor(c.channelBase / r), c.channelMax);
}

/** The lowest resolution that runs in reduced precision (Infinity when none does): max(2^(log2 S + 1 − N), 8). */
export function fp16Resolution(c: NetworkConfig): number {
  const n = c.numFp16Res ?? 0;
  return n > 0 ? Math.max(2 ** (Math.log2(c.resolution) + 1 - n), 8) : Infinity;
}

/** Block resolutions 4, 8, …, S. */
export function blockResolutions(c: NetworkConfig): number[] {
  const out: number[] = [];
  for (let r = 4; r <= c.resolution; r *= 2) out.push(r);
  return out;
}

export function checkConfig(c: NetworkConfig): NetworkConfig {
  const r = c.resolution;
  if (!(Number.isInteger(Math.log2(r)) && r >= 32 && r <= 256)) {
    throw new RangeError(`resolution must be a power of two from 32 to 256, got ${r}`);
  }
  for (const k of ['zDim', 'wDim', 'mappingLayers', 'channelBase', 'channelMax', 'mbstdGroupSize', 'mbstdChannels'] as const) {
    if (!(Number.isInteger(c[k]) && c[k] > 0)) throw new RangeError(`${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.numFp16Res !== undefined && !(Number.isInteger(c.numFp16Res) && c.numFp16Res >= 0)) {
    throw new RangeError(`numFp16Res must be a non-negative integer, got ${c.numFp16Res}`);
  }
  if (c.maskPrior !== undefined && !Number.isFinite(c.maskPrior)) throw new RangeError(`maskPrior must be a number, got ${c.maskPrior}`);
  if (c.maskPriorKimg !== undefined && !(c.maskPriorKimg > 0))
    throw new RangeError(`maskPriorKimg must be positive, got ${c.maskPriorKimg}`);
  if (c.maskPriorJitter !== undefined && !(c.maskPriorJitter >= 0 && c.maskPriorJitter <= 0.5))
    throw new RangeError(`maskPriorJitter must be in [0, 0.5], got ${c.maskPriorJitter}`);
  return c;
}
