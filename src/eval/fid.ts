// SPDX-License-Identifier: MIT
// FID and KID (spec §12) of a run's G_ema composites against its training images, on the TF-ported Inception-v3
// features (selectCheckpoint.ts picks a checkpoint with them).
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadTrainingImages } from '../data/imageFolder.js';
import { mulberry32 } from '../data/procedural.js';
import { LatentStream } from '../models/latents.js';
import { type InceptionV3, inceptionFeatureDim, loadInception } from '../models/inception.js';
import type { Device } from '../tensor/device.js';
import { ArgumentError } from '../tensor/errors.js';
import { InputError } from '../util/errors.js';
import { fromBytes, tensor } from '../tensor/ops/creation.js';
import { getRngState, manualSeed, setRngState } from '../tensor/ops/random.js';
import { cuda } from '../tensor/runtime.js';
import { loadSafetensors, saveSafetensors } from '../tensor/safetensors.js';
import { dispose, noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type CheckpointState, loadGeneratorEma, resolveCheckpoint } from '../run/checkpoint.js';
import { runPaths } from '../run/layout.js';
import { toUint8 } from '../data/pixels.js';
import { type Matrix, traceSqrtProduct } from './linalg.js';

/** Mean and covariance of a feature set (float64). */
export interface FeatureStats {
  /** Number of samples. */
  n: number;
  /** Feature width d. */
  d: number;
  /** [d] mean. */
  mu: Float64Array;
  /** d×d covariance with the n − 1 denominator (numpy's np.cov). */
  sigma: Matrix;
}

/**
 * Mean and unbiased covariance of features [N, d] (any float dtype; computed in float64).
 * @throws ArgumentError for fewer than 2 samples or a non-2-D input.
 */
export function featureStats(features: Tensor): FeatureStats {
  if (features.ndim !== 2) throw new ArgumentError(`featureStats: expected features [N, d], got [${features.shape}]`);
  const [n, d] = features.shape;
  if (n < 2) throw new ArgumentError(`featureStats: need at least 2 samples for a covariance, got ${n}`);
  return scope(() => {
    const x = features.to({ device: 'cpu', dtype: 'float64' });
    const mu = x.mean(0); // [d]
    const c = x.sub(mu); // [N, d]
    const sigma = c
      .t()
      .matmul(c)
      .div(n - 1); // [d, d]
    return {
      n,
      d,
      mu: Float64Array.from(mu.data() as Float64Array),
      sigma: { n: d, data: Float64Array.from(sigma.contiguous().data() as Float64Array) },
    };
  });
}

/**
 * Fréchet distance between two Gaussians: ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2}) (spec §12). The cross
 * term is computed as Σ √λ(Lᵀ Σ_a L) with Σ_b = L Lᵀ (linalg.ts), which is real by construction.
 */
export function frechetDistance(a: FeatureStats, b: FeatureStats): number {
  if (a.d !== b.d) throw new ArgumentError(`frechetDistance: feature widths ${a.d} and ${b.d} differ`);
  let m = 0;
  for (let i = 0; i < a.d; i++) m += (a.mu[i] - b.mu[i]) ** 2;
  let tr = 0;
  for (let i = 0; i < a.d; i++) tr += a.sigma.data[i * a.d + i] + b.sigma.data[i * b.d + i];
  return m + tr - 2 * traceSqrtProduct(a.sigma, b.sigma);
}

export interface KidOptions {
  /** Number of subsets (20). */
  numSubsets?: number;
  /** Subset size cap (1000); the size is min(N_gen, N_real, cap). */
  maxSubsetSize?: number;
  /** Seed of the subset draws (0). */
  seed?: number;
}

/** k distinct indices out of n (partial Fisher–Yates). */
function sampleWithoutReplacement(n: number, k: number, rand: () => number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (n - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k);
}

/**
 * Kernel Inception Distance as StyleGAN2-ADA computes it (spec §12): per subset of m samples from each set,
 * the unbiased MMD² with the cubic kernel k(x, y) = (xᵀy/d + 1)³, averaged over subsets. Float64.
 * @param gen [N_g, d] features; @param real [N_r, d] features.
 */
export function kernelInceptionDistance(gen: Tensor, real: Tensor, o: KidOptions = {}): number {
  if (gen.ndim !== 2 || real.ndim !== 2 || gen.shape[1] !== real.shape[1]) {
    throw new ArgumentError(`kernelInceptionDistance: expected [N, d] features of equal d, got [${gen.shape}] and [${real.shape}]`);
  }
  const d = gen.shape[1];
  const m = Math.min(gen.shape[0], real.shape[0], o.maxSubsetSize ?? 1000);
  if (m < 2) throw new ArgumentError(`kernelInceptionDistance: need at least 2 samples per set, got ${m}`);
  const numSubsets = o.numSubsets ?? 20;
  const rand = mulberry32((o.seed ?? 0) + 0x4b1d);
  let t = 0;
  for (let s = 0; s < numSubsets; s++) {
    const gi = sampleWithoutReplacement(gen.shape[0], m, rand);
    const ri = sampleWithoutReplacement(real.shape[0], m, rand);
    t += scope(() => {
      const x = gen.indexSelect(0, tensor(new BigInt64Array(gi.map(BigInt)))).to({ device: 'cpu', dtype: 'float64' });
      const y = real.indexSelect(0, tensor(new BigInt64Array(ri.map(BigInt)))).to({ device: 'cpu', dtype: 'float64' });
      const k = (p: Tensor, q: Tensor) => p.matmul(q.t()).div(d).add(1).pow(3);
      const a = k(x, x).add(k(y, y));
      const b = k(x, y);
      // diag k(x, x) = (‖x_i‖²/d + 1)³: the trace without materialising the diagonal.
      const diag = (p: Tensor) => p.square().sum(1).div(d).add(1).pow(3).sum().item();
      const offDiag = a.sum().item() - diag(x) - diag(y);
      return offDiag / (m - 1) - (b.sum().item() * 2) / m;
    });
  }
  return t / numSubsets / m;
}

/** Options of fid(). */
export interface FidOptions {
  /** Training run directory. */
  run: string;
  /** Checkpoint name or path (resolveCheckpoint); the latest when omitted. */
  checkpoint?: string;
  /** Inception weights (safetensors; docs/fid.md). */
  inception: string;
  /** Generated samples (10 000, as fid10k). */
  n?: number;
  /** Use at most this many training images (all, as the official metric, when omitted). */
  maxReal?: number;
  /** Training data folder, when the one recorded in the checkpoint has moved. */
  data?: string;
  /** Seed of latents, noise and KID subsets (0). */
  seed?: number;
  /** Images per Inception pass (32). */
  batch?: number;
  device?: Device;
  /** Called during each phase with images done and total. */
  onProgress?: (phase: 'real' | 'generated', done: number, total: number) => void;
  /** Append the result to <run>/metric-fid.jsonl (true). */
  record?: boolean;
}

export interface FidResult {
  run: string;
  checkpoint: string;
  kimg: number;
  fid: number;
  kid: number;
  /** Generated and real images used. */
  n_gen: number;
  n_real: number;
  inception: string;
  seed: number;
  seconds: number;
}

/** Checks numbers, the run folder and the device. @throws InputError. */
export function checkFidOptions(o: FidOptions): void {
  for (const [k, v] of [
    ['n', o.n],
    ['maxReal', o.maxReal],
    ['batch', o.batch],
  ] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 2)) throw new InputError(`${k} must be an integer ≥ 2, got ${v}`, 'ERR_ARG');
  }
  if (!existsSync(o.run) || !statSync(o.run).isDirectory()) {
    throw new InputError(`run directory not found: ${o.run}`, 'ERR_NO_RUN', 'pass the --out folder of an `ilsgan train` run');
  }
  if ((o.device ?? 'cpu').startsWith('cuda') && !cuda.isAvailable()) {
    throw new InputError(`device ${o.device} requested but CUDA is not available`, 'ERR_DEVICE', 'use --device cpu');
  }
}

/** Inception features of uint8 CHW images, batch by batch, into a Float32Array [count, 2048]. */
async function featuresOfBytes(
  net: InceptionV3,
  pixels: Uint8Array,
  count: number,
  size: number,
  batch: number,
  device: Device,
  onProgress?: (d: number, t: number) => void,
): Promise<Float32Array> {
  const out = new Float32Array(count * inceptionFeatureDim);
  const per = 3 * size * size;
  for (let start = 0; start < count; start += batch) {
    const rows = Math.min(batch, count - start);
    const f = scope(() => {
      const x = fromBytes(pixels.subarray(start * per, (start + rows) * per), 'uint8', [rows, 3, size, size], device);
      return Float32Array.from(net.features(x).cpu().data() as Float32Array);
    });
    out.set(f, start * inceptionFeatureDim);
    onProgress?.(start + rows, count);
    await new Promise<void>((r) => setImmediate(r)); // let progress bars and signals run
  }
  return out;
}

/** A key for cached real features: the weights file, the image set and how many images were used. */
function realCacheKey(inception: string, names: readonly string[], size: number, count: number): string {
  const st = statSync(inception);
  const h = createHash('sha256');
  h.update(`v1 ${resolve(inception)} ${st.size} ${st.mtimeMs} ${size} ${count}\n`);
  for (const n of names.slice(0, count)) h.update(`${n}\n`);
  return h.digest('hex').slice(0, 16);
}

/** Real-image features of a run, computed once per (weights, data, count) and cached in <run>/fid-cache/. */
export async function realFeatures(
  o: FidOptions,
  net: InceptionV3,
  state: CheckpointState,
): Promise<{ features: Float32Array; count: number }> {
  const size = state.net.resolution;
  const data = o.data ?? state.data;
  const set = await loadTrainingImages(data, size, {
    cachePath: data === 'demo' ? undefined : runPaths(o.run).datasetCache,
    seed: state.options.seed,
  });
  const count = Math.min(set.count, o.maxReal ?? Number.POSITIVE_INFINITY);
  if (count < 2) throw new InputError(`FID needs at least 2 training images, ${data} has ${set.count}`, 'ERR_NO_IMAGES');
  const cacheDir = runPaths(o.run).fidCache;
  const cacheFile = join(cacheDir, `real-${realCacheKey(o.inception, set.names, size, count)}.safetensors`);
  if (existsSync(cacheFile)) {
    const { tensors } = loadSafetensors(cacheFile);
    try {
      const f = tensors.get('features');
      if (f && f.shape[0] === count && f.shape[1] === inceptionFeatureDim)
        return { features: Float32Array.from(f.data() as Float32Array), count };
    } finally {
      dispose([...tensors.values()]);
    }
  }
  const features = await featuresOfBytes(net, set.pixels, count, size, o.batch ?? 32, o.device ?? 'cpu', (d, t) =>
    o.onProgress?.('real', d, t),
  );
  mkdirSync(cacheDir, { recursive: true });
  scope(() =>
    saveSafetensors(cacheFile, { features: tensor(features, { shape: [count, inceptionFeatureDim] }) }, { format: 'ilsgan-fid-real' }),
  );
  return { features, count };
}

/** Features of n G_ema composites (ψ = 1, random noise, seeded latents and noise). */
async function generatedFeatures(o: FidOptions, net: InceptionV3, n: number): Promise<Float32Array> {
  const device = o.device ?? 'cpu';
  const batch = o.batch ?? 32;
  const { state, G } = loadGeneratorEma(o.run, o.checkpoint, device);
  const out = new Float32Array(n * inceptionFeatureDim);
  // Random noise draws from libtorch's generator: seed it for repeatable metrics, and leave it as it was.
  const saved = getRngState();
  try {
    manualSeed(o.seed ?? 0);
    const latents = new LatentStream(state.net.zDim, o.seed ?? 0);
    for (let start = 0; start < n; start += batch) {
      const rows = Math.min(batch, n - start);
      const f = noGrad(() =>
        scope(() => {
          const img = toUint8(G.forward(latents.next(rows, device), 'random').img); // [rows, 3, S, S]
          return Float32Array.from(net.features(img).cpu().data() as Float32Array);
        }),
      );
      out.set(f, start * inceptionFeatureDim);
      o.onProgress?.('generated', start + rows, n);
      await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    setRngState(saved);
    saved.dispose();
    G.dispose();
  }
  return out;
}

/** FID/KID from two feature arrays [N, 2048]. */
export function fidKidFromFeatures(gen: Float32Array, real: Float32Array, o: KidOptions = {}): { fid: number; kid: number } {
  return scope(() => {
    const g = tensor(gen, { shape: [gen.length / inceptionFeatureDim, inceptionFeatureDim] });
    const r = tensor(real, { shape: [real.length / inceptionFeatureDim, inceptionFeatureDim] });
    return { fid: frechetDistance(featureStats(g), featureStats(r)), kid: kernelInceptionDistance(g, r, o) };
  });
}

/**
 * fid() with an already loaded network and, optionally, the run's real features (selectCheckpoint scores several
 * checkpoints of one run with one network and one set of real features: they share data, size and seed).
 */
export async function fidWithNet(
  o: FidOptions,
  net: InceptionV3,
  realGiven?: { features: Float32Array; count: number },
): Promise<FidResult> {
  const t0 = Date.now();
  const n = o.n ?? 10_000;
  const { name, state } = resolveCheckpoint(o.run, o.checkpoint);
  const real = realGiven ?? (await realFeatures(o, net, state));
  const gen = await generatedFeatures({ ...o, checkpoint: o.checkpoint ?? name }, net, n);
  const { fid, kid } = fidKidFromFeatures(gen, real.features, { seed: o.seed ?? 0 });
  const result: FidResult = {
    run: resolve(o.run),
    checkpoint: name,
    kimg: state.curNimg / 1000,
    fid,
    kid,
    n_gen: n,
    n_real: real.count,
    inception: resolve(o.inception),
    seed: o.seed ?? 0,
    seconds: (Date.now() - t0) / 1000,
  };
  if (o.record ?? true) appendFileSync(runPaths(o.run).fidMetrics, `${JSON.stringify(result)}\n`);
  return result;
}

/**
 * FID and KID of a checkpoint's G_ema (ψ = 1, random noise) against the run's training images, on the FID
 * Inception-v3 (spec §12). Real features are cached in <run>/fid-cache/; the result is appended to
 * <run>/metric-fid.jsonl.
 * @throws InputError for a missing run, checkpoint, data folder or weights file, or invalid weights.
 * @example const { fid, kid } = await fid({ run: 'runs/birds', inception: 'pt_inception.safetensors' });
 */
export async function fid(o: FidOptions): Promise<FidResult> {
  checkFidOptions(o);
  resolveCheckpoint(o.run, o.checkpoint); // fail on a bad checkpoint before loading Inception
  const net = loadInception(o.inception, o.device ?? 'cpu');
  try {
    return await fidWithNet(o, net);
  } finally {
    net.dispose();
  }
}
