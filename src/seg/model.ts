// SPDX-License-Identifier: MIT
// A trained segmenter on disk (model.safetensors + model.json) and its forward pass: foreground-minus-background
// logits at the network's size, bilinearly resized to any output size (spec §10.3–10.4).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UNet } from '../models/unet.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../util/errors.js';
import { interpolate } from '../tensor/ops/nn.js';
import { cuda } from '../tensor/runtime.js';
import { loadSafetensors, saveSafetensors } from '../tensor/safetensors.js';
import { dispose, noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { resolveInside } from '../util/safePath.js';
import type { ColourRefineOptions } from './colourRefine.js';
import { type RefineSetting, refineSettingSchema } from './refineSetting.js';
import {
  type Schema,
  array,
  bool,
  int,
  literal,
  nullable,
  num,
  object,
  oneOf,
  optional,
  readJsonChecked,
  refine,
  sha256Hex,
  str,
} from '../util/schema.js';

export const segmenterFormat = 'ilsgan-segmenter';
export const weightsFile = 'model.safetensors';
export const configFile = 'model.json';

/** One validation of a training run. */
export interface ValidationRecord {
  iteration: number;
  /** Dataset-level foreground IoU on the validation split (null: no foreground predicted nor present). */
  valIoU: number | null;
  /** Mean training loss since the previous validation. */
  loss: number;
}

/** model.json: everything needed to rebuild and run the network, and how it was trained. */
export interface SegmenterConfig {
  format: typeof segmenterFormat;
  version: 1;
  /** The network (spec §10.1); width 64 is the official one. */
  arch: 'unet';
  width: number;
  classes: 2;
  /** Side the network runs at: inputs are resized to size×size. */
  size: number;
  /** '64': masks are predicted and scored at `size` (spec §10.3); '128': at 2·size, logits upsampled (§10.4). */
  protocol: '64' | '128';
  /** Side at which validation masks were scored (size, or 2·size for protocol 128). */
  evalSize: number;
  /** Inputs: RGB → v/127.5 − 1. Output: logit 1 > logit 0 ⇔ foreground. */
  input: 'rgb [-1,1]';
  weights: typeof weightsFile;
  /** SHA-256 (hex) of the weights file, verified on load (absent in models written before issue 14: those still
   *  load, unverified). */
  weightsSha256?: string;
  bestIteration: number;
  bestValIoU: number | null;
  history: ValidationRecord[];
  training: {
    iterations: number;
    batch: number;
    lr: number;
    seed: number;
    valEvery: number;
    augment: 'color' | 'color+geometric';
    device: string;
    seconds: number;
    finished: boolean;
  };
  /** Present when the model was adapted to real photos after training (seg/adapt.ts). */
  adapted?: {
    from: string;
    photos: number;
    rounds: { labelled: number; foreground: number; valIoU: number | null }[];
    iterations: number;
    batch: number;
    lr: number;
    confidence: number;
    colour: ColourRefineOptions | null;
    /** The share of synthetic samples pasted onto real photos (absent: none). */
    paste?: number;
    /** The share of each minibatch taken from the real photos (absent: one half). */
    photoShare?: number;
    seconds: number;
  };
  /** Beyond the paper: test-time refinement that `segment` and `eval` apply to every photo's prediction
   *  (refinePredictions.ts); absent in older models and when not asked for: predictions as the network gives them. */
  refine?: RefineSetting;
  /** The synthetic set it was trained on. */
  data: {
    synthetic: string;
    n: number;
    train: number;
    val: number;
    imageSize: number;
    run?: string;
    checkpoint?: string;
    kimg?: number;
  };
}

/** A loaded segmenter: the network in eval mode and its config. Dispose with `dispose()`. */
export interface Segmenter {
  net: UNet;
  config: SegmenterConfig;
  device: Device;
  dispose(): void;
}

/** Writes the weights (PyTorch state-dict names, loadable with safetensors.torch.load_file) and model.json, atomically. */
export function saveSegmenter(dir: string, net: UNet, config: SegmenterConfig): void {
  const weightsSha256 = saveSegmenterWeights(dir, net, config);
  saveSegmenterConfig(dir, { ...config, weightsSha256 });
}

/** Writes model.safetensors; returns its SHA-256 for model.json's `weightsSha256`. */
export function saveSegmenterWeights(dir: string, net: UNet, config: Pick<SegmenterConfig, 'width' | 'size' | 'protocol'>): string {
  return noGrad(() =>
    scope(() => {
      const cpu = new Map<string, Tensor>();
      for (const [k, v] of net.stateDict()) cpu.set(k, v.detach().cpu().contiguous());
      return saveSafetensors(join(dir, weightsFile), cpu, {
        format: segmenterFormat,
        version: '1',
        arch: 'unet',
        width: String(config.width),
        size: String(config.size),
        protocol: config.protocol,
      });
    }),
  );
}

export function saveSegmenterConfig(dir: string, config: SegmenterConfig): void {
  writeFileAtomic(join(dir, configFile), Buffer.from(`${JSON.stringify(config, null, 1)}\n`));
}

/**
 * Sets model.json's test-time refinement (`refine`) in a model folder, or removes it with null; every other field
 * stays as it was. Returns the config written.
 * @throws InputError as readSegmenterConfig when the folder holds no valid model.json.
 */
export function writeSegmenterRefine(dir: string, setting: RefineSetting | null): SegmenterConfig {
  const { refine: _previous, ...rest } = readSegmenterConfig(dir);
  const config: SegmenterConfig = setting ? { ...rest, refine: setting } : rest;
  saveSegmenterConfig(dir, config);
  return config;
}

const count = int(0, 1e9);
const fraction = num(0, 1);

/** model.json as SegmenterConfig: every field range-checked (U-Net width ≤ 4096, sizes multiples of 16 ≤ 4096). */
export const segmenterConfigSchema = object({
  format: literal(segmenterFormat),
  version: literal(1),
  arch: literal('unet'),
  width: int(1, 4096),
  classes: literal(2),
  size: refine(int(16, 4096), (v) => (v % 16 === 0 ? null : { path: '', reason: `must be a multiple of 16, got ${v}` })),
  protocol: oneOf(['64', '128']),
  evalSize: int(1, 8192),
  input: literal('rgb [-1,1]'),
  weights: literal(weightsFile),
  weightsSha256: optional(sha256Hex()),
  bestIteration: count,
  bestValIoU: nullable(fraction),
  history: array(object({ iteration: count, valIoU: nullable(fraction), loss: num() }), { max: 1e6 }),
  training: object({
    iterations: count,
    batch: int(1, 65536),
    lr: num(0, 1e3),
    seed: int(0, Number.MAX_SAFE_INTEGER),
    valEvery: int(1, 1e9),
    augment: oneOf(['color', 'color+geometric']),
    device: str({ maxLength: 64 }),
    seconds: num(0, 1e12),
    finished: bool(),
  }),
  adapted: optional(
    object({
      from: str(),
      photos: count,
      rounds: array(object({ labelled: fraction, foreground: fraction, valIoU: nullable(fraction) }), { max: 1e4 }),
      iterations: count,
      batch: int(1, 65536),
      lr: num(0, 1e3),
      confidence: fraction,
      colour: nullable(
        object({
          levels: optional(int(0, 1e6)),
          strength: optional(num(0, 1e3)),
          rounds: optional(int(0, 1e6)),
          smoothing: optional(num(0, 1e6)),
          // The CLI takes weights up to 1e6 (--adapt-pairwise, --adapt-saliency): a record of what ran reads them all.
          pairwise: optional(num(0, 1e6)),
          meanField: optional(int(0, 1e6)),
          balanced: optional(bool()),
          saliency: optional(num(0, 1e6)),
          saliencyThreshold: optional(fraction),
          bilateral: optional(num(0, 1e6)),
          bilateralSpatial: optional(num(0, 1e6)),
          bilateralColour: optional(num(0, 1e6)),
        }),
      ),
      paste: optional(fraction),
      photoShare: optional(fraction),
      seconds: num(0, 1e12),
    }),
  ),
  refine: optional(refineSettingSchema),
  data: object({
    synthetic: str(),
    n: count,
    train: count,
    val: count,
    imageSize: int(0, 65536),
    run: optional(str()),
    checkpoint: optional(str({ maxLength: 1024 })),
    kimg: optional(num(0, 1e12)),
  }),
}) satisfies Schema<SegmenterConfig>;

/**
 * Reads model.json, every field checked (segmenterConfigSchema).
 * @throws InputError ERR_NO_MODEL (no model.json) / ERR_MODEL naming the file and the field.
 */
export function readSegmenterConfig(dir: string): SegmenterConfig {
  const path = join(dir, configFile);
  if (!existsSync(path)) {
    throw new InputError(
      `no segmentation model in ${dir} (${configFile} missing)`,
      'ERR_NO_MODEL',
      'pass the --out folder of `ilsgan seg-train`',
    );
  }
  return readJsonChecked(segmenterConfigSchema, { file: path, code: 'ERR_MODEL' });
}

/**
 * Loads a segmenter from a model directory (eval mode, on `device`).
 * @throws InputError when the directory, config or weights are missing or do not fit the network.
 */
export function loadSegmenter(dir: string, device: Device = 'cpu'): Segmenter {
  const config = readSegmenterConfig(dir);
  if (device.startsWith('cuda') && !cuda.isAvailable()) {
    throw new InputError(`device ${device} requested but CUDA is not available`, 'ERR_DEVICE', 'use --device cpu');
  }
  const weightsPath = resolveInside(dir, config.weights, { file: join(dir, configFile), field: 'weights', code: 'ERR_MODEL' });
  const { tensors } = loadSafetensors(weightsPath, { sha256: config.weightsSha256, requireFinite: true });
  const net = new UNet({ width: config.width });
  try {
    net.loadStateDict(tensors);
  } catch (e) {
    net.dispose();
    throw new InputError(`${weightsPath} does not fit a width-${config.width} U-Net: ${(e as Error).message}`, 'ERR_MODEL');
  } finally {
    dispose([...tensors.values()]);
  }
  if (device !== 'cpu') net.to(device);
  net.eval();
  return { net, config, device, dispose: () => net.dispose() };
}

/**
 * Foreground evidence logit₁ − logit₀ of a batch. x [N, 3, S, S] in [−1, 1] → [N, 1, S, S]; argmax is `> 0`.
 * Bilinear resizing is linear, so resizing this difference equals differencing the resized logits (spec §10.4),
 * with half the work.
 */
export function foregroundLogit(net: UNet, x: Tensor): Tensor {
  return noGrad(() =>
    scope(() => {
      const logits = net.forward(x); // [N, 2, S, S]
      return logits.narrow(1, 1, 1).sub(logits.narrow(1, 0, 1));
    }),
  );
}

/** Resizes [N, 1, S, S] logits to [N, 1, h, w] (bilinear, align_corners = False, as spec §10.4); same size → as is. */
export function resizeLogits(logit: Tensor, h: number, w: number): Tensor {
  if (logit.shape[2] === h && logit.shape[3] === w) return logit.alias();
  return interpolate(logit, { size: [h, w], mode: 'bilinear', alignCorners: false });
}
