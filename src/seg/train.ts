// SPDX-License-Identifier: MIT
// Segmentation training (spec §10.2, §10.4): U-Net on synthetic (image, mask) pairs, pixel-wise cross-entropy,
// Adam 1e-3, batch 64, 'color' augmentation, validation every 1000 iterations keeping the best foreground IoU.
import { constants as bufferConstants } from 'node:buffer';
import { mkdirSync } from 'node:fs';
import { mulberry32 } from '../data/procedural.js';
import { UNet } from '../models/unet.js';
import { AdaPipeline, colorOnly } from '../train/augment/adaPipeline.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../util/errors.js';
import { fromBytes, tensor } from '../tensor/ops/creation.js';
import { crossEntropy } from '../tensor/ops/nn.js';
import { manualSeed } from '../tensor/ops/random.js';
import { Adam } from '../tensor/optim/adam.js';
import { cuda, getNumThreads, setNumThreads } from '../tensor/runtime.js';
import { dispose, keep, noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type SyntheticSet, loadSyntheticSet } from './data.js';
import { GeometricAugment } from './geometricAugment.js';
import {
  type SegmenterConfig,
  type ValidationRecord,
  foregroundLogit,
  resizeLogits,
  saveSegmenterConfig,
  saveSegmenterWeights,
} from './model.js';
import { ProgressBar } from '../util/progress.js';
import { logOnly } from '../util/runLog.js';

export interface SegTrainOptions {
  /** Synthetic folder (the --out of `ilsgan generate`), or an already loaded set. */
  synthetic: string | SyntheticSet;
  /** Model directory to write (created). */
  out: string;
  /** Iterations (6000). */
  iterations?: number;
  /** Minibatch (64). */
  batch?: number;
  /** Adam learning rate (1e-3, constant). */
  lr?: number;
  /** U-Net width (64 = spec; smaller is a deviation for CPU demos). */
  width?: number;
  /** Network side S (64). */
  size?: number;
  /** '64': validate at S; '128': validate at 2S with logits upsampled (spec §10.4). Default '64'. */
  protocol?: '64' | '128';
  /** Seed of the sampler, initialisation and augmentation (0). */
  seed?: number;
  /** Validation interval in iterations (1000); validations run at min(20, valEvery) + k·valEvery and at the end. */
  valEvery?: number;
  /** Augmentation probability of each colour transform (0.5; 0 turns augmentation off). */
  augP?: number;
  /** Beyond the paper: also mirror, scale, rotate and shift each pair (seg/geometricAugment.ts). Default off. */
  geometric?: boolean;
  device?: Device;
  /** libtorch intra-op threads (default: as set). */
  threads?: number;
  /** Progress bar on stderr (default: when stderr is a TTY). */
  progress?: boolean;
  /** Log lines (validations) go here (default: stderr). */
  log?: (line: string) => void;
  onValidation?: (r: ValidationRecord) => void;
}

export interface SegTrainResult {
  out: string;
  config: SegmenterConfig;
  bestValIoU: number | null;
  bestIteration: number;
  history: ValidationRecord[];
  /** Mean seconds per training iteration (excluding validation). */
  secondsPerIteration: number;
}

/** Infinite shuffled index stream: a fresh seeded permutation every epoch. */
export class ShuffledSampler {
  private readonly rand: () => number;
  private order: Int32Array;
  private pos: number;

  constructor(
    readonly n: number,
    seed: number,
  ) {
    this.rand = mulberry32(seed ^ 0x5e65a1);
    this.order = new Int32Array(n);
    this.pos = n;
  }

  next(count: number): number[] {
    // A count beyond any typed array is refused here: growing the list until V8's fatal "invalid size" aborted.
    if (!Number.isSafeInteger(count) || count < 1 || count > bufferConstants.MAX_LENGTH) {
      throw new InputError(`batch must be a positive integer up to ${bufferConstants.MAX_LENGTH}, got ${count}`, 'ERR_ARG');
    }
    const out: number[] = [];
    while (out.length < count) {
      if (this.pos >= this.n) this.reshuffle();
      out.push(this.order[this.pos++]!);
    }
    return out;
  }

  private reshuffle(): void {
    for (let i = 0; i < this.n; i++) this.order[i] = i;
    for (let i = this.n - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      const t = this.order[i]!;
      this.order[i] = this.order[j]!;
      this.order[j] = t;
    }
    this.pos = 0;
  }
}

function checkOptions(
  o: SegTrainOptions,
): Required<Pick<SegTrainOptions, 'iterations' | 'batch' | 'lr' | 'width' | 'size' | 'protocol' | 'seed' | 'valEvery' | 'augP'>> {
  const r = {
    iterations: o.iterations ?? 6000,
    batch: o.batch ?? 64,
    lr: o.lr ?? 1e-3,
    width: o.width ?? 64,
    size: o.size ?? 64,
    protocol: o.protocol ?? '64',
    seed: o.seed ?? 0,
    valEvery: o.valEvery ?? 1000,
    augP: o.augP ?? 0.5,
  } as const;
  const posInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new InputError(`${name} must be a positive integer, got ${v}`, 'ERR_ARG');
  };
  posInt('iterations', r.iterations);
  posInt('batch', r.batch);
  posInt('width', r.width);
  posInt('valEvery', r.valEvery);
  if (!Number.isInteger(r.size) || r.size < 16 || r.size % 16 !== 0)
    throw new InputError(`size must be a multiple of 16, got ${r.size}`, 'ERR_ARG');
  // The float input batch alone is batch·3·size²·4 bytes: refuse what no buffer can hold before anything runs.
  const inputBytes = r.batch * 3 * r.size * r.size * 4;
  if (inputBytes > bufferConstants.MAX_LENGTH) {
    throw new InputError(
      `batch ${r.batch} at ${r.size}² needs ${inputBytes} bytes for its input alone, more than one buffer holds (${bufferConstants.MAX_LENGTH})`,
      'ERR_ARG',
      'use a smaller --batch',
    );
  }
  if (!(r.lr > 0)) throw new InputError(`lr must be positive, got ${r.lr}`, 'ERR_ARG');
  if (!Number.isInteger(r.seed) || r.seed < 0) throw new InputError(`seed must be a non-negative integer, got ${r.seed}`, 'ERR_ARG');
  if (!(r.augP >= 0 && r.augP <= 1)) throw new InputError(`augP must be in [0, 1], got ${r.augP}`, 'ERR_ARG');
  if (r.protocol !== '64' && r.protocol !== '128') throw new InputError(`protocol must be 64 or 128, got ${String(r.protocol)}`, 'ERR_ARG');
  if ((o.device ?? 'cpu').startsWith('cuda') && !cuda.isAvailable()) {
    throw new InputError(`device ${o.device} requested but CUDA is not available`, 'ERR_DEVICE', 'use --device cpu');
  }
  return r;
}

/**
 * Dataset-level foreground IoU of the validation split, BN in eval mode (spec §10.2): TP / (TP + FP + FN) with
 * pixels summed over all images; null when that is 0/0.
 */
export function validationIoU(net: UNet, images: Tensor, valMasks: Tensor, batch: number): number | null {
  const wasTraining = net.training;
  net.eval();
  let tp = 0;
  let fp = 0;
  let fn = 0;
  try {
    const n = images.shape[0];
    const e = valMasks.shape[1];
    for (let s = 0; s < n; s += batch) {
      const c = noGrad(() =>
        scope(() => {
          const k = Math.min(batch, n - s);
          const x = images.narrow(0, s, k).float().div(127.5).sub(1);
          const pred = resizeLogits(foregroundLogit(net, x), e, e).squeeze(1).gt(0); // [k, E, E] bool
          const gt = valMasks.narrow(0, s, k).gt(0);
          return [
            pred.logicalAnd(gt).sum().item(),
            pred.logicalAnd(gt.logicalNot()).sum().item(),
            pred.logicalNot().logicalAnd(gt).sum().item(),
          ];
        }),
      );
      tp += c[0]!;
      fp += c[1]!;
      fn += c[2]!;
    }
  } finally {
    net.train(wasTraining);
  }
  return tp + fp + fn === 0 ? null : tp / (tp + fp + fn);
}

/**
 * Trains a U-Net on a synthetic set and writes `out/model.safetensors` (the best validation IoU so far, replaced
 * atomically at each improvement) and `out/model.json`.
 * @throws InputError for bad options or data.
 */
export async function trainSegmenter(o: SegTrainOptions): Promise<SegTrainResult> {
  const opts = checkOptions(o);
  const device = o.device ?? 'cpu';
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const showBar = o.progress ?? Boolean(process.stderr.isTTY);
  const previousThreads = getNumThreads();
  if (o.threads !== undefined) setNumThreads(o.threads);
  const evalSize = opts.protocol === '128' ? 2 * opts.size : opts.size;
  try {
    let set: SyntheticSet;
    if (typeof o.synthetic === 'string') {
      const bar = new ProgressBar('decoding synthetic set {bar} {value}/{total}', showBar);
      set = await loadSyntheticSet(o.synthetic, { size: opts.size, evalSize, onProgress: (d, t) => bar.update(d, { total: t }) });
      bar.stop();
    } else {
      set = o.synthetic;
      if (set.size !== opts.size || set.evalSize !== evalSize) {
        throw new InputError(`the loaded set is at ${set.size}/${set.evalSize}, the options ask for ${opts.size}/${evalSize}`, 'ERR_ARG');
      }
    }
    log(
      `seg-train: ${set.n} synthetic samples (${set.train} train, ${set.val} validation) at ${set.imageSize}² → network ${opts.size}², validation masks ${evalSize}²`,
    );
    mkdirSync(o.out, { recursive: true });
    return await trainOnSet(set, opts, o, device, log, showBar);
  } finally {
    if (o.threads !== undefined) setNumThreads(previousThreads);
  }
}

async function trainOnSet(
  set: SyntheticSet,
  opts: ReturnType<typeof checkOptions>,
  o: SegTrainOptions,
  device: Device,
  log: (m: string) => void,
  showBar: boolean,
): Promise<SegTrainResult> {
  const s = opts.size;
  manualSeed(opts.seed);
  const net = new UNet({ width: opts.width });
  if (device !== 'cpu') net.to(device);
  net.train();
  const opt = new Adam(net.parameters(), { lr: opts.lr, betas: [0.9, 0.999] });
  const aug = new AdaPipeline(colorOnly, device, opts.seed);
  aug.p = opts.augP;
  const geometric = o.geometric ? new GeometricAugment(opts.seed) : null;
  const sampler = new ShuffledSampler(set.train, opts.seed);
  // The whole set lives on the device as uint8; a batch is one indexSelect away.
  const data = keep(
    scope(() => ({
      images: fromBytes(set.images, 'uint8', [set.n, 3, s, s], device),
      masks: fromBytes(set.masks, 'uint8', [set.n, s, s], device),
      valMasks: fromBytes(set.valMasks, 'uint8', [set.val, set.evalSize, set.evalSize], device),
    })),
  );
  const valImages = keep(data.images.narrow(0, set.train, set.val));
  const history: ValidationRecord[] = [];
  let best: ValidationRecord | null = null;
  const firstVal = Math.min(20, opts.valEvery);
  const started = Date.now();
  let trainSeconds = 0;
  let weightsSha256: string | undefined;
  const config = (finished: boolean): SegmenterConfig => ({
    format: 'ilsgan-segmenter',
    version: 1,
    arch: 'unet',
    width: opts.width,
    classes: 2,
    size: s,
    protocol: opts.protocol,
    evalSize: set.evalSize,
    input: 'rgb [-1,1]',
    weights: 'model.safetensors',
    weightsSha256,
    bestIteration: best?.iteration ?? 0,
    bestValIoU: best?.valIoU ?? null,
    history,
    training: {
      iterations: opts.iterations,
      batch: opts.batch,
      lr: opts.lr,
      seed: opts.seed,
      valEvery: opts.valEvery,
      augment: o.geometric ? 'color+geometric' : 'color',
      device,
      seconds: (Date.now() - started) / 1000,
      finished,
    },
    data: { synthetic: set.dir, n: set.n, train: set.train, val: set.val, imageSize: set.imageSize, ...set.source },
  });
  const bar = new ProgressBar(
    'seg-train {bar} {value}/{total} it | loss {loss} | val IoU {iou} (best {best}) | {ips} it/s | ETA {eta_formatted}',
    showBar,
    { etaBuffer: 50 },
  );
  bar.start(opts.iterations, 0, { loss: '-', iou: '-', best: '-', ips: '-' });
  let lossSum = 0;
  let lossCount = 0;
  try {
    for (let it = 1; it <= opts.iterations; it++) {
      const t0 = performance.now();
      const idx = sampler.next(opts.batch);
      const loss = scope(() => {
        const index = tensor(Int32Array.from(idx)).to({ device, dtype: 'int64' });
        let x = data.images.indexSelect(0, index).float().div(127.5).sub(1); // [B, 3, S, S] in [−1, 1]
        let target = data.masks.indexSelect(0, index).long(); // [B, S, S]
        if (geometric) [x, target] = geometric.apply(x, target);
        const l = crossEntropy(net.forward(aug.forward(x)), target);
        opt.zeroGrad();
        l.backward();
        opt.step();
        return l.item();
      });
      trainSeconds += (performance.now() - t0) / 1000;
      if (!Number.isFinite(loss)) {
        throw new InputError(`segmentation training diverged at iteration ${it} (loss ${loss})`, 'ERR_NON_FINITE', 'try a lower --lr');
      }
      lossSum += loss;
      lossCount++;
      if ((it - firstVal) % opts.valEvery === 0 || it === opts.iterations) {
        const valIoU = validationIoU(net, valImages, data.valMasks, opts.batch);
        const record: ValidationRecord = { iteration: it, valIoU, loss: lossSum / lossCount };
        history.push(record);
        lossSum = 0;
        lossCount = 0;
        const improved = best === null || (valIoU ?? -1) > (best.valIoU ?? -1);
        if (improved) {
          best = record;
          weightsSha256 = saveSegmenterWeights(o.out, net, { width: opts.width, size: s, protocol: opts.protocol });
        }
        saveSegmenterConfig(o.out, config(false));
        o.onValidation?.(record);
        const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));
        const line = `iteration ${it}/${opts.iterations}: loss ${record.loss.toFixed(4)}, validation IoU ${f(valIoU)}${improved ? ' (best, saved)' : ''}`;
        if (bar.shown) {
          bar.update(it, { payload: { iou: f(valIoU), best: f(best?.valIoU ?? null) } });
          logOnly(line); // the run's log.txt gets the line the bar stands for
        } else {
          log(line);
        }
      }
      bar.update(it, { payload: { loss: loss.toFixed(4), ips: (it / trainSeconds).toFixed(2) } });
      // Between steps (never inside a scope): lets the progress bar's timer and other callbacks run.
      await new Promise<void>((done) => setImmediate(done));
    }
  } finally {
    bar.stop();
    dispose([data, valImages]);
    aug.dispose();
    opt.dispose();
    net.dispose();
  }
  const final = config(true);
  saveSegmenterConfig(o.out, final);
  log(
    `seg-train: best validation IoU ${final.bestValIoU === null ? 'n/a' : final.bestValIoU.toFixed(4)} at iteration ${final.bestIteration}; model in ${o.out}`,
  );
  return {
    out: o.out,
    config: final,
    bestValIoU: final.bestValIoU,
    bestIteration: final.bestIteration,
    history,
    secondsPerIteration: trainSeconds / opts.iterations,
  };
}
