// SPDX-License-Identifier: MIT
// Layered generator (spec §3, §3.4): background and foreground StyleGAN2 branches driven by the same z; the
// foreground's 4th channel is the alpha logit; composite = (1 − m)·bg + m·fg.
import type { NoiseMode } from '../nn/layers/synthesisLayer.js';
import { Module } from '../nn/module.js';
import { tensor } from '../tensor/ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { type NetworkConfig, checkConfig } from './config.js';
import { MappingNetwork } from './mapping.js';
import { SynthesisNetwork } from './synthesis.js';

/** One StyleGAN2 generator: mapping + synthesis. */
export class Generator extends Module {
  readonly mapping: MappingNetwork;
  readonly synthesis: SynthesisNetwork;

  constructor(
    readonly config: NetworkConfig,
    readonly imgChannels: number,
  ) {
    super();
    this.mapping = this.addModule(
      'mapping',
      new MappingNetwork(config.zDim, config.wDim, config.mappingLayers, config.mappingLrMultiplier),
    );
    this.synthesis = this.addModule('synthesis', new SynthesisNetwork(config, imgChannels));
  }

  /** Reduced precision for the top resolutions' blocks (see SynthesisNetwork.setPrecision). */
  setPrecision(dtype: DType | null): this {
    this.synthesis.setPrecision(dtype);
    return this;
  }

  /** z [N, zDim] → [N, imgChannels, S, S]. Style mixing is off (spec §3.6): every layer gets the same w. */
  forward(z: Tensor, noiseMode: NoiseMode = 'random'): Tensor {
    const w = this.mapping.forward(z);
    const ws = w.unsqueeze(1).expand([-1, this.synthesis.numWs, -1]);
    return this.synthesis.forward(ws, noiseMode);
  }
}

export interface Layers {
  /** [N, 3, S, S] background. */
  bg: Tensor;
  /** [N, 3, S, S] foreground RGB. */
  fg: Tensor;
  /** [N, 1, S, S] alpha in (0, 1). */
  mask: Tensor;
  /** [N, 3, S, S] composite (1 − m)·bg + m·fg. */
  img: Tensor;
}

export class LayeredGenerator extends Module {
  readonly bg: Generator;
  readonly fg: Generator;

  /** [1, 1, S, S] fixed alpha-logit offset (config.maskPrior), or null. */
  private readonly maskOffset: Tensor | null;
  /** Factor on the mask prior: 1 at the start, fading with `setKimg` when config.maskPriorKimg is set. */
  priorScale = 1;

  constructor(readonly config: NetworkConfig) {
    super();
    checkConfig(config);
    this.maskOffset = config.maskPrior ? this.addBuffer('mask_prior', centredBump(config.resolution, config.maskPrior)) : null;
    this.bg = this.addModule('bg', new Generator(config, 3));
    this.fg = this.addModule('fg', new Generator(config, 4));
  }

  /** Reduced precision for both branches' top-resolution blocks (spec §3.7); null = float32 throughout. */
  setPrecision(dtype: DType | null): this {
    this.bg.setPrecision(dtype);
    this.fg.setPrecision(dtype);
    return this;
  }

  /** Sets the mask prior's factor for training progress `kimg` (linear fade over config.maskPriorKimg). */
  setKimg(kimg: number): this {
    const k = this.config.maskPriorKimg;
    this.priorScale = k === undefined ? 1 : Math.max(0, 1 - kimg / k);
    return this;
  }

  /** z [N, zDim] → all layers (un-perturbed). */
  forward(z: Tensor, noiseMode: NoiseMode = 'random'): Layers {
    const bg = this.bg.forward(z, noiseMode);
    const out = this.fg.forward(z, noiseMode);
    const fg = out.narrow(1, 0, 3);
    const logit = out.narrow(1, 3, 1);
    const mask = (this.maskOffset && this.priorScale > 0 ? logit.add(this.priorFor(z).mul(this.priorScale)) : logit).sigmoid();
    return { bg, fg, mask, img: composite(bg, fg, mask) };
  }

  /** The mask prior for these latents: the one centred bump, or with config.maskPriorJitter one bump per sample. */
  private priorFor(z: Tensor): Tensor {
    const jitter = this.config.maskPriorJitter ?? 0;
    if (!(jitter > 0)) return this.maskOffset!;
    const k = Math.min(4, z.shape[1]!);
    const zs = z.narrow(1, 0, k).float().cpu().data() as Float32Array;
    const size = this.config.resolution;
    return tensor(jitteredBumps(zs, k, size, this.config.maskPrior!, jitter), { shape: [z.shape[0]!, 1, size, size], device: z.device });
  }
}

/** Φ(x), the standard normal CDF (Abramowitz–Stegun 7.1.26 via erf, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

/**
 * One bump per sample (config.maskPriorJitter): `zs` holds `k` leading latent values per sample (k ≤ 4; missing ones
 * count as 0); u = 2Φ(z) − 1 ∈ (−1, 1) moves the centre by u₀·jitter·S, u₁·jitter·S and scales the radii by
 * exp(2·jitter·u₂) (size) and exp(±2·jitter·u₃) (aspect, x against y). Returns n·S² values.
 */
export function jitteredBumps(zs: Float32Array, k: number, size: number, beta: number, jitter: number): Float32Array {
  const n = zs.length / k;
  const out = new Float32Array(n * size * size);
  for (let i = 0; i < n; i++) {
    const u = [0, 1, 2, 3].map((j) => (j < k ? 2 * normalCdf(zs[i * k + j]!) - 1 : 0));
    const r = bumpRadius(size) * Math.exp(2 * jitter * u[2]!);
    const centre = { x: size / 2 + u[0]! * jitter * size, y: size / 2 + u[1]! * jitter * size };
    fillBump(
      out.subarray(i * size * size, (i + 1) * size * size),
      size,
      beta,
      centre,
      r * Math.exp(2 * jitter * u[3]!),
      r * Math.exp(-2 * jitter * u[3]!),
    );
  }
  return out;
}

/** r₀ = √(0.3/π)·S: the radius of a disc covering 30 % of the frame. */
const bumpRadius = (size: number) => Math.sqrt(0.3 / Math.PI) * size;

/**
 * β·clamp(1 − d², −1, 1) into `out` (S×S, pixel centres), d² = ((x − cx)² + ((y − cy)·rx/ry)²) / rx²: an elliptic
 * bump with radii rx, ry (written so that rx = ry gives the disc's (Δx² + Δy²)/r² exactly).
 */
function fillBump(out: Float32Array, size: number, beta: number, centre: { x: number; y: number }, rx: number, ry: number) {
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d2 = ((x + 0.5 - centre.x) ** 2 + ((y + 0.5 - centre.y) * (rx / ry)) ** 2) / (rx * rx);
      out[y * size + x] = beta * Math.min(1, Math.max(-1, 1 - d2));
    }
  }
}

/** β·clamp(1 − (d/r₀)², −1, 1) on an S×S grid (pixel centres), r₀ = √(0.3/π)·S: [1, 1, S, S]. */
export function centredBump(size: number, beta: number): Tensor {
  const v = new Float32Array(size * size);
  fillBump(v, size, beta, { x: size / 2, y: size / 2 }, bumpRadius(size), bumpRadius(size));
  return tensor(v, { shape: [1, 1, size, size] });
}

/** (1 − m)·bg + m·fg = bg + m·(fg − bg). */
export function composite(bg: Tensor, fg: Tensor, mask: Tensor): Tensor {
  return bg.add(fg.sub(bg).mul(mask));
}
