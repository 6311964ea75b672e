// SPDX-License-Identifier: MIT
// Mutual information between layers of a synthetic set with MINE (spec §11): Donsker–Varadhan lower bound,
// trained and evaluated on the same samples; the "separate" run (visible fg vs invisible bg, visible bg vs
// invisible fg) and the "single" run (whole fg vs whole bg); reported = mean of the last 20 evaluations, nats.
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeRgb } from '../data/decode.js';
import { hwcToChw } from '../data/imageFolder.js';
import { mulberry32 } from '../data/procedural.js';
import { readSynthManifest } from '../gen/synthesize.js';
import { mapLimit } from '../util/mapLimit.js';
import { fileInside, resolveInside } from '../util/safePath.js';
import { MineNet } from '../models/mine.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../util/errors.js';
import { arange, fromBytes, tensor } from '../tensor/ops/creation.js';
import { getRngState, manualSeed, randint, setRngState } from '../tensor/ops/random.js';
import { Adam } from '../tensor/optim/adam.js';
import { cuda } from '../tensor/runtime.js';
import { dispose, keep, noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/** How MINE is trained and evaluated. */
export interface MineSchedule {
  /** Images are resized to size×size before flattening (the official script: 64). */
  size: number;
  /** Hidden width of the statistics network (3000). */
  hidden: number;
  /** Training iterations (100 000). */
  iterations: number;
  /** Training batch (64). */
  batch: number;
  /** Evaluate on the whole set every this many iterations (400). */
  evalEvery: number;
  /** Evaluation batch (128). */
  evalBatch: number;
  /** Adam learning rate (2e-4). */
  lr: number;
  /** The reported value is the mean of the last this many evaluations (20). */
  average: number;
  /** ReduceLROnPlateau on the evaluation MI: factor, patience (in evaluations) and relative threshold. */
  plateau: { factor: number; patience: number; threshold: number };
}

const plateau = { factor: 0.1, patience: 10, threshold: 1e-4 };

/**
 * `paper`: the official eval_MI_MINE.py settings (spec §11). `fast` (the default): images at 32×32, hidden 128,
 * 2000 iterations, an evaluation every 50 (40 in all, the last 20 averaged), the same optimiser, bound, plateau
 * rule (patience in evaluations) and batches: a few minutes on two CPU cores for ~1000 samples. Numbers from different schedules are not
 * comparable with each other; compare runs under one schedule.
 */
export const mineSchedules: Readonly<Record<'paper' | 'fast', Readonly<MineSchedule>>> = {
  paper: { size: 64, hidden: 3000, iterations: 100_000, batch: 64, evalEvery: 400, evalBatch: 128, lr: 2e-4, average: 20, plateau },
  fast: { size: 32, hidden: 128, iterations: 2000, batch: 64, evalEvery: 50, evalBatch: 128, lr: 2e-4, average: 20, plateau },
};

/**
 * torch.optim.lr_scheduler.ReduceLROnPlateau in mode 'max' with a relative threshold and no cooldown: after more
 * than `patience` steps without a value above best·(1 + threshold), every group's lr is multiplied by `factor`.
 */
export class ReduceLrOnPlateau {
  best = Number.NEGATIVE_INFINITY;
  badSteps = 0;

  constructor(
    readonly opt: Adam,
    readonly o: Readonly<MineSchedule['plateau']>,
  ) {}

  /** Feeds one evaluation; returns true when the learning rate was reduced. */
  step(value: number): boolean {
    if (value > this.best * (1 + this.o.threshold)) {
      this.best = value;
      this.badSteps = 0;
    } else {
      this.badSteps++;
    }
    if (this.badSteps <= this.o.patience) return false;
    this.badSteps = 0;
    let reduced = false;
    for (const g of this.opt.groups) {
      const lr = g.lr * this.o.factor;
      if (g.lr - lr > 1e-8) {
        g.lr = lr;
        reduced = true;
      }
    }
    return reduced;
  }
}

/** A batch of (x, y) pairs for sample indices idx [B] (int64); tensors [B, …] with D values per sample. */
export type MinePairSource = (idx: Tensor) => { x: Tensor; y: Tensor };

/** One evaluation: the MI estimate of each net and the learning rate in effect. */
export interface MineEvaluation {
  iteration: number;
  mi: number[];
  lr: number;
}

export interface MineRunResult {
  /** Mean of the last `average` evaluations, per net (nats). */
  average: number[];
  history: MineEvaluation[];
  /** Training batches skipped because the bound was NaN or infinite. */
  skipped: number;
}

export interface TrainMineOptions {
  /** Seed of initialisation, batches and shuffles (0). libtorch's generator is restored afterwards. */
  seed?: number;
  device?: Device;
  /** Called after every evaluation with the iterations done. */
  onProgress?: (iterations: number) => void;
}

/** DV bound mean T(joint) − log mean exp T(marginal), with the log-mean-exp done stably. */
function dvBound(net: MineNet, x: Tensor, y: Tensor, j: Tensor): Tensor {
  return scope(() => {
    const { joint, marginal } = net.scores(x, y, j);
    return joint.mean().sub(marginal.logsumexp(0).sub(Math.log(marginal.shape[0])));
  });
}

/**
 * Trains one MINE net per source jointly (loss = −Σ bounds, one Adam) on `count` samples and evaluates them on
 * the whole set every `evalEvery` iterations (sequential batches, y shuffled within each batch by indices drawn
 * uniformly with replacement, MI = mean of the per-batch bounds). The plateau rule watches the sum of the nets'
 * estimates. Every tensor made here is freed before it returns.
 */
export async function trainMine(
  count: number,
  sources: readonly MinePairSource[],
  inputDim: number,
  s: Readonly<MineSchedule>,
  o: TrainMineOptions = {},
): Promise<MineRunResult> {
  const device = o.device ?? 'cpu';
  if (count < 2) throw new InputError(`MINE needs at least 2 samples, got ${count}`, 'ERR_ARG');
  const batch = Math.min(s.batch, count);
  const saved = getRngState();
  const seed = o.seed ?? 0;
  manualSeed(seed);
  const nets = sources.map(() => new MineNet(inputDim, s.hidden, device));
  const opt = new Adam(
    nets.flatMap((n) => n.parameters()),
    { lr: s.lr },
  );
  const scheduler = new ReduceLrOnPlateau(opt, s.plateau);
  const rand = mulberry32(seed + 0x313e);
  let order = new Int32Array(0);
  let pos = count;
  const nextBatch = (): Tensor => {
    if (pos + batch > count) {
      // A new epoch: a fresh permutation (Fisher–Yates; the official DataLoader reshuffles every epoch).
      order = Int32Array.from({ length: count }, (_, i) => i);
      for (let i = count - 1; i > 0; i--) {
        const k = Math.floor(rand() * (i + 1));
        [order[i], order[k]] = [order[k], order[i]];
      }
      pos = 0;
    }
    const idx = new BigInt64Array(batch);
    for (let i = 0; i < batch; i++) idx[i] = BigInt(order[pos + i]);
    pos += batch;
    return tensor(idx, { device });
  };
  const evaluate = (): number[] =>
    noGrad(() =>
      nets.map((net, k) => {
        let sum = 0;
        let n = 0;
        for (let start = 0; start < count; start += s.evalBatch) {
          const b = scope(() => {
            const rows = Math.min(s.evalBatch, count - start);
            const { x, y } = sources[k](arange(start, start + rows, 1, { dtype: 'int64', device }));
            return dvBound(net, x, y, randint(0, rows, [rows], { device })).item();
          });
          if (Number.isFinite(b)) {
            sum += b;
            n++;
          }
        }
        return n ? sum / n : Number.NaN;
      }),
    );
  const history: MineEvaluation[] = [];
  let skipped = 0;
  try {
    for (let it = 1; it <= s.iterations; it++) {
      const ok = scope(() => {
        const idx = nextBatch();
        const j = randint(0, batch, [batch], { device });
        const bounds = sources.map((src, k) => {
          const { x, y } = src(idx);
          return dvBound(nets[k], x, y, j);
        });
        const total = bounds.reduce((a, b) => a.add(b));
        if (!Number.isFinite(total.item())) return false; // the official script skips such batches
        opt.zeroGrad();
        total.neg().backward();
        opt.step();
        return true;
      });
      if (!ok) skipped++;
      if (it % s.evalEvery === 0) {
        const mi = evaluate();
        history.push({ iteration: it, mi, lr: opt.groups[0].lr });
        scheduler.step(mi.reduce((a, b) => a + b, 0));
        o.onProgress?.(it);
        await new Promise<void>((r) => setImmediate(r)); // let the progress bar and signals run
      }
    }
  } finally {
    opt.zeroGrad();
    opt.dispose();
    for (const n of nets) n.dispose();
    setRngState(saved);
    saved.dispose();
  }
  const last = history.slice(-s.average);
  const average = sources.map((_, k) => {
    const v = last.map((h) => h.mi[k]).filter(Number.isFinite);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
  });
  return { average, history, skipped };
}

/** The fg, bg and soft-mask layers of a synthetic folder as uint8 tensors (kept: the caller disposes them). */
export interface SyntheticLayers {
  n: number;
  size: number;
  /** [N, 3, S, S] uint8. */
  fg: Tensor;
  /** [N, 3, S, S] uint8. */
  bg: Tensor;
  /** [N, 1, S, S] uint8, 255·m. */
  mask: Tensor;
}

/**
 * Reads fg/, bg/ and masks_soft/ of an `ilsgan generate` folder (manifest.json lists the files), resized to
 * size×size (sharp's linear filter) when they differ.
 * @throws InputError ERR_NO_SYNTHETIC for a folder without a manifest or with missing/unreadable files.
 */
export async function loadSyntheticLayers(
  dir: string,
  size: number,
  o: { maxSamples?: number; device?: Device } = {},
): Promise<SyntheticLayers> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new InputError(`${dir} has no manifest.json`, 'ERR_NO_SYNTHETIC', 'pass the --out folder of `ilsgan generate`');
  }
  const m = readSynthManifest(manifestPath);
  // The three layer folders, each checked to lie inside the set (as is every file below): a planted manifest
  // must not make mi read other data.
  const src = (field: string) => ({ file: manifestPath, field, code: 'ERR_NO_SYNTHETIC' });
  const folders = (['fg', 'bg', 'masksSoft'] as const).map((k) => {
    const folder = m.folders[k];
    if (folder === undefined)
      throw new InputError(
        `${manifestPath}: field folders.${k} is missing`,
        'ERR_NO_SYNTHETIC',
        'mi needs the fg/, bg/ and masks_soft/ folders of `ilsgan generate`',
      );
    resolveInside(dir, folder, src(`folders.${k}`));
    return folder;
  });
  const files = m.files.slice(0, o.maxSamples ?? m.files.length);
  const n = files.length;
  const per = 3 * size * size;
  const fg = new Uint8Array(n * per);
  const bg = new Uint8Array(n * per);
  const mask = new Uint8Array(n * size * size);
  const resizeTo = m.size === size ? undefined : size;
  const read = async (path: string) => {
    try {
      const r = await decodeRgb(path, resizeTo);
      if (r.width !== size || r.height !== size) throw new Error(`${r.width}×${r.height}, expected ${size}×${size}`);
      return r.rgb;
    } catch (e) {
      throw new InputError(`${path}: ${(e as Error).message.split('\n')[0]}`, 'ERR_NO_SYNTHETIC');
    }
  };
  const paths = files.map((file, i) => folders.map((folder) => fileInside(dir, folder, file, src(`files[${i}]`))));
  await mapLimit(files, Math.max(2, cpus().length * 2), async (_file, i) => {
    const [f, b, s] = await Promise.all(paths[i]!.map(read));
    hwcToChw(f, size, fg, i * per);
    hwcToChw(b, size, bg, i * per);
    for (let p = 0; p < size * size; p++) mask[i * size * size + p] = s[p * 3]; // grey: R = G = B
  });
  const device = o.device ?? 'cpu';
  return keep({
    n,
    size,
    fg: fromBytes(fg, 'uint8', [n, 3, size, size], device),
    bg: fromBytes(bg, 'uint8', [n, 3, size, size], device),
    mask: fromBytes(mask, 'uint8', [n, 1, size, size], device),
  });
}

export interface MiOptions {
  /** An `ilsgan generate` output folder. */
  synthetic: string;
  /** 'fast' (default), 'paper', or a full schedule. */
  schedule?: 'fast' | 'paper' | MineSchedule;
  /** Use only the first this many samples. */
  maxSamples?: number;
  seed?: number;
  device?: Device;
  /** Iterations done over both runs, out of 2 · iterations. */
  onProgress?: (done: number, total: number) => void;
}

/** The result, with the official script's keys (MI_estimation_results.json). */
export interface MiResult {
  /** Separate run: visible fg vs invisible bg (nats). */
  ave_MI_train1: number;
  /** Separate run: visible bg vs invisible fg (nats). */
  ave_MI_train2: number;
  /** Single run: fg vs bg (nats). */
  ave_MI_train: number;
  units: 'nats';
  synthetic: string;
  n: number;
  size: number;
  schedule: string;
  params: MineSchedule;
  seed: number;
  seconds: number;
  skipped_batches: { separate: number; single: number };
  history: { separate: MineEvaluation[]; single: MineEvaluation[] };
}

/**
 * MINE estimates of spec §11 on a synthetic folder: the separate run (two nets) and the single run.
 * @throws InputError for a missing or malformed folder, or a schedule that does not give one evaluation.
 * @example const r = await estimateMi({ synthetic: 'runs/birds/synthetic' }); r.ave_MI_train1;
 */
export async function estimateMi(o: MiOptions): Promise<MiResult> {
  const t0 = Date.now();
  const schedName = typeof o.schedule === 'string' ? o.schedule : o.schedule === undefined ? 'fast' : 'custom';
  const s: MineSchedule = typeof o.schedule === 'object' ? o.schedule : { ...mineSchedules[o.schedule ?? 'fast'] };
  for (const k of ['size', 'hidden', 'iterations', 'batch', 'evalEvery', 'evalBatch', 'average'] as const) {
    if (!(Number.isInteger(s[k]) && s[k] >= 1))
      throw new InputError(`MINE schedule: ${k} must be a positive integer, got ${s[k]}`, 'ERR_ARG');
  }
  if (s.iterations < s.evalEvery) {
    throw new InputError(`MINE schedule: ${s.iterations} iterations give no evaluation (one every ${s.evalEvery})`, 'ERR_ARG');
  }
  const device = o.device ?? 'cpu';
  if (device.startsWith('cuda') && !cuda.isAvailable()) {
    throw new InputError(`device ${device} requested but CUDA is not available`, 'ERR_DEVICE', 'use --device cpu');
  }
  const seed = o.seed ?? 0;
  const layers = await loadSyntheticLayers(o.synthetic, s.size, { maxSamples: o.maxSamples, device });
  try {
    const { n } = layers;
    const dim = 3 * s.size * s.size;
    const rows = (idx: Tensor) => {
      const fg = layers.fg.indexSelect(0, idx).float().div(127.5).sub(1); // [B, 3, S, S] in [−1, 1]
      const bg = layers.bg.indexSelect(0, idx).float().div(127.5).sub(1);
      const m = layers.mask.indexSelect(0, idx).float().div(255); // [B, 1, S, S] in [0, 1]
      return { fg, bg, m };
    };
    const total = 2 * s.iterations;
    const separate = await trainMine(
      n,
      [
        (idx) => {
          const { fg, bg, m } = rows(idx);
          return { x: fg.mul(m), y: bg.mul(m) };
        }, // visible fg, invisible bg
        (idx) => {
          const { fg, bg, m } = rows(idx);
          const v = m.rsub(1);
          return { x: bg.mul(v), y: fg.mul(v) };
        }, // visible bg, invisible fg
      ],
      dim,
      s,
      { seed, device, onProgress: (d) => o.onProgress?.(d, total) },
    );
    const single = await trainMine(
      n,
      [
        (idx) => {
          const { fg, bg } = rows(idx);
          return { x: fg, y: bg };
        },
      ],
      dim,
      s,
      { seed: seed + 1, device, onProgress: (d) => o.onProgress?.(s.iterations + d, total) },
    );
    return {
      ave_MI_train1: separate.average[0],
      ave_MI_train2: separate.average[1],
      ave_MI_train: single.average[0],
      units: 'nats',
      synthetic: resolve(o.synthetic),
      n,
      size: s.size,
      schedule: schedName,
      params: s,
      seed,
      seconds: (Date.now() - t0) / 1000,
      skipped_batches: { separate: separate.skipped, single: single.skipped },
      history: { separate: separate.history, single: single.history },
    };
  } finally {
    dispose([layers.fg, layers.bg, layers.mask]);
  }
}
