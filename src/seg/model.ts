// SPDX-License-Identifier: MIT
// A trained segmenter on disk (model.safetensors + model.json) and its forward pass: foreground-minus-background
// logits at the network's size, bilinearly resized to any output size (spec §10.3–10.4).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UNet } from '../models/unet.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../tensor/errors.js';
import { interpolate } from '../tensor/ops/nn.js';
import { cuda } from '../tensor/runtime.js';
import { loadSafetensors, saveSafetensors } from '../tensor/safetensors.js';
import { dispose, noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from '../util/atomicWrite.js';

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
  bestIteration: number;
  bestValIoU: number | null;
  history: ValidationRecord[];
  training: {
    iterations: number; batch: number; lr: number; seed: number; valEvery: number; augment: 'color' | 'color+geometric'; device: string;
    seconds: number; finished: boolean;
  };
  /** Present when the model was adapted to real photos after training (seg/adapt.ts). */
  adapted?: {
    from: string; photos: number; rounds: { labelled: number; foreground: number; valIoU: number | null }[]; iterations: number;
    batch: number; lr: number; confidence: number; colour: { levels?: number; strength?: number; rounds?: number } | null; seconds: number;
  };
  /** The synthetic set it was trained on. */
  data: {
    synthetic: string; n: number; train: number; val: number; imageSize: number;
    run?: string; checkpoint?: string; kimg?: number;
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
  saveSegmenterWeights(dir, net, config);
  saveSegmenterConfig(dir, config);
}

export function saveSegmenterWeights(dir: string, net: UNet, config: Pick<SegmenterConfig, 'width' | 'size' | 'protocol'>): void {
  noGrad(() =>
    scope(() => {
      const cpu = new Map<string, Tensor>();
      for (const [k, v] of net.stateDict()) cpu.set(k, v.detach().cpu().contiguous());
      saveSafetensors(join(dir, weightsFile), cpu, {
        format: segmenterFormat, version: '1', arch: 'unet', width: String(config.width), size: String(config.size),
        protocol: config.protocol,
      });
    }),
  );
}

export function saveSegmenterConfig(dir: string, config: SegmenterConfig): void {
  writeFileAtomic(join(dir, configFile), Buffer.from(`${JSON.stringify(config, null, 1)}\n`));
}

/** Reads model.json, checking what the code relies on. @throws InputError ERR_NO_MODEL / ERR_MODEL. */
export function readSegmenterConfig(dir: string): SegmenterConfig {
  const path = join(dir, configFile);
  if (!existsSync(path)) {
    throw new InputError(`no segmentation model in ${dir} (${configFile} missing)`, 'ERR_NO_MODEL', 'pass the --out folder of `ilsgan seg-train`');
  }
  let c: SegmenterConfig;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as SegmenterConfig;
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`, 'ERR_MODEL');
  }
  const ok = c !== null && typeof c === 'object' && c.format === segmenterFormat && c.arch === 'unet' &&
    Number.isInteger(c.width) && c.width > 0 && Number.isInteger(c.size) && c.size >= 16 &&
    Number.isInteger(c.evalSize) && c.evalSize > 0;
  if (!ok) throw new InputError(`${path} is not an ilsgan segmentation model config`, 'ERR_MODEL');
  return c;
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
  const { tensors } = loadSafetensors(join(dir, config.weights ?? weightsFile));
  const net = new UNet({ width: config.width });
  try {
    net.loadStateDict(tensors);
  } catch (e) {
    net.dispose();
    throw new InputError(`${join(dir, weightsFile)} does not fit a width-${config.width} U-Net: ${(e as Error).message}`, 'ERR_MODEL');
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
