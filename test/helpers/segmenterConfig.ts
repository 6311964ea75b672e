// SPDX-License-Identifier: MIT
// A complete, valid segmenter model.json (SegmenterConfig) for tests that write an untrained U-Net or plant fields.
import type { SegmenterConfig } from '../../src/seg/model.js';
import { UNet } from '../../src/models/unet.js';
import { saveSegmenter } from '../../src/seg/model.js';

/** An untrained run's model.json for a U-Net of `width` at `size`²; `overrides` replace top-level fields. */
export function segmenterConfig(width = 4, size = 32, overrides: Partial<SegmenterConfig> = {}): SegmenterConfig {
  return {
    format: 'ilsgan-segmenter',
    version: 1,
    arch: 'unet',
    width,
    classes: 2,
    size,
    protocol: '64',
    evalSize: size,
    input: 'rgb [-1,1]',
    weights: 'model.safetensors',
    bestIteration: 0,
    bestValIoU: null,
    history: [],
    training: { iterations: 0, batch: 1, lr: 0, seed: 0, valEvery: 1, augment: 'color', device: 'cpu', seconds: 0, finished: true },
    data: { synthetic: 'none', n: 0, train: 0, val: 0, imageSize: size },
    ...overrides,
  };
}

/** Saves a freshly initialised (untrained) width-4 U-Net at 32² into the existing folder `dir`. */
export function writeUntrainedSegmenter(dir: string): void {
  const net = new UNet({ width: 4 });
  saveSegmenter(dir, net, segmenterConfig());
  net.dispose();
}
