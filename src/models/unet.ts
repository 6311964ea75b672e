// SPDX-License-Identifier: MIT
// The segmentation U-Net of spec §10.1: 4 levels, BatchNorm, ReLU, bilinear ×2 upsampling (align_corners = True),
// a 1×1 output conv with 2 logits; PyTorch's state-dict names (inc.double_conv.0.weight, down1.maxpool_conv.1…).
import { BatchNorm2d } from '../nn/layers/batchNorm2d.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Module } from '../nn/module.js';
import { ShapeError } from '../tensor/errors.js';
import { cat } from '../tensor/ops/creation.js';
import { interpolate, maxPool2d, pad } from '../tensor/ops/nn.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

export interface UNetOptions {
  /**
   * Channels of the first level (64, the spec's network; levels have width·{1, 2, 4, 8, 8}). A smaller width
   * (16 for CPU demos) is a deviation from the official network that keeps its layout and names.
   */
  width?: number;
  /** Input channels (3). */
  inChannels?: number;
  /** Output classes (2: background, foreground). */
  classes?: number;
}

/** [conv3×3(p1) → BN → ReLU] ×2, as nn.Sequential indices 0–5 (ReLUs at 2 and 5 hold no state). */
export class DoubleConv extends Module {
  readonly conv0: Conv2d;
  readonly bn0: BatchNorm2d;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
  ) {
    super();
    this.conv0 = this.addModule('double_conv.0', new Conv2d(inChannels, outChannels, 3, { padding: 1 }));
    this.bn0 = this.addModule('double_conv.1', new BatchNorm2d(outChannels));
    this.conv1 = this.addModule('double_conv.3', new Conv2d(outChannels, outChannels, 3, { padding: 1 }));
    this.bn1 = this.addModule('double_conv.4', new BatchNorm2d(outChannels));
  }

  forward(x: Tensor): Tensor {
    return this.bn1.forward(this.conv1.forward(this.bn0.forward(this.conv0.forward(x)).relu())).relu();
  }
}

/** maxpool 2 → double conv (maxpool_conv.0 is the pool). */
export class Down extends Module {
  readonly conv: DoubleConv;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.conv = this.addModule('maxpool_conv.1', new DoubleConv(inChannels, outChannels));
  }

  forward(x: Tensor): Tensor {
    return this.conv.forward(maxPool2d(x, 2));
  }
}

/** Bilinear ×2 (align_corners = True), zero-pad to the skip's size, concat [skip, up] → double conv. */
export class Up extends Module {
  readonly conv: DoubleConv;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.conv = this.addModule('conv', new DoubleConv(inChannels, outChannels));
  }

  /** x [N, C, h, w] from below, skip [N, C', H, W] → [N, O, H, W]. */
  forward(x: Tensor, skip: Tensor): Tensor {
    let up = interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: true });
    const dy = skip.shape[2] - up.shape[2];
    const dx = skip.shape[3] - up.shape[3];
    // Only odd input sizes get here (never at 64); pad as the official code does, left/top getting the smaller half.
    if (dy !== 0 || dx !== 0) up = pad(up, [dx >> 1, dx - (dx >> 1), dy >> 1, dy - (dy >> 1)]);
    return this.conv.forward(cat([skip, up], 1));
  }
}

/** The segmentation network: 3 × S × S image in [−1, 1] → 2 logits per pixel (spec §10.1). */
export class UNet extends Module {
  readonly width: number;
  readonly inChannels: number;
  readonly classes: number;
  readonly inc: DoubleConv;
  readonly down1: Down;
  readonly down2: Down;
  readonly down3: Down;
  readonly down4: Down;
  readonly up1: Up;
  readonly up2: Up;
  readonly up3: Up;
  readonly up4: Up;
  readonly outc: Conv2d;

  constructor(o: UNetOptions = {}) {
    super();
    const w = (this.width = o.width ?? 64);
    this.inChannels = o.inChannels ?? 3;
    this.classes = o.classes ?? 2;
    if (!Number.isInteger(w) || w < 1) throw new RangeError(`UNet: expected a positive integer width, got ${w}`);
    this.inc = this.addModule('inc', new DoubleConv(this.inChannels, w));
    this.down1 = this.addModule('down1', new Down(w, 2 * w));
    this.down2 = this.addModule('down2', new Down(2 * w, 4 * w));
    this.down3 = this.addModule('down3', new Down(4 * w, 8 * w));
    this.down4 = this.addModule('down4', new Down(8 * w, 8 * w)); // bilinear variant: 16w / 2
    this.up1 = this.addModule('up1', new Up(16 * w, 4 * w));
    this.up2 = this.addModule('up2', new Up(8 * w, 2 * w));
    this.up3 = this.addModule('up3', new Up(4 * w, w));
    this.up4 = this.addModule('up4', new Up(2 * w, w));
    this.outc = this.addModule('outc.conv', new Conv2d(w, this.classes, 1));
  }

  /** img [N, 3, H, W] (H, W ≥ 16; multiples of 16 avoid padding) → logits [N, classes, H, W]. */
  forward(img: Tensor): Tensor {
    if (img.ndim !== 4 || img.shape[1] !== this.inChannels || img.shape[2] < 16 || img.shape[3] < 16) {
      throw new ShapeError(`${this.path('img')}: expected [N, ${this.inChannels}, H ≥ 16, W ≥ 16], got [${img.shape}]`);
    }
    return scope(() => {
      const x1 = this.inc.forward(img);
      const x2 = this.down1.forward(x1);
      const x3 = this.down2.forward(x2);
      const x4 = this.down3.forward(x3);
      const x5 = this.down4.forward(x4);
      let x = this.up1.forward(x5, x4);
      x = this.up2.forward(x, x3);
      x = this.up3.forward(x, x2);
      x = this.up4.forward(x, x1);
      return this.outc.forward(x);
    });
  }
}
