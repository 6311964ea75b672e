// SPDX-License-Identifier: MIT
// Discriminator (spec §5): StyleGAN2 residual D with FIR downsampling, minibatch std and an FC epilogue.
import { Conv2dLayer } from '../nn/layers/conv2dLayer.js';
import { FullyConnected } from '../nn/layers/fullyConnected.js';
import { MinibatchStd } from '../nn/layers/minibatchStd.js';
import { Module } from '../nn/module.js';
import { ShapeError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { type NetworkConfig, channelsAt, checkConfig } from './config.js';
import { setBlockPrecision, toBlockDtype } from './precision.js';

export class DiscriminatorBlock extends Module {
  readonly fromrgb: Conv2dLayer | null = null;
  readonly conv0: Conv2dLayer;
  readonly conv1: Conv2dLayer;
  readonly skip: Conv2dLayer;
  /** The dtype the block runs in when reduced (spec §3.7), or null for float32. */
  lowDtype: DType | null = null;

  constructor(
    readonly resolution: number,
    inChannels: number,
    tmpChannels: number,
    outChannels: number,
    imgChannels: number,
    convClamp: number | null,
  ) {
    super();
    if (inChannels === 0) {
      this.fromrgb = this.addModule('fromrgb', new Conv2dLayer(imgChannels, tmpChannels, { kernel: 1, activation: 'lrelu', convClamp }));
    }
    this.conv0 = this.addModule('conv0', new Conv2dLayer(tmpChannels, tmpChannels, { kernel: 3, activation: 'lrelu', convClamp }));
    this.conv1 = this.addModule('conv1', new Conv2dLayer(tmpChannels, outChannels, { kernel: 3, activation: 'lrelu', down: 2, convClamp }));
    this.skip = this.addModule('skip', new Conv2dLayer(tmpChannels, outChannels, { kernel: 1, bias: false, down: 2 }));
  }

  forward(x: Tensor): Tensor {
    x = toBlockDtype(x, this.lowDtype);
    const h = this.fromrgb === null ? x : this.fromrgb.forward(x);
    const y = this.skip.forward(h, Math.SQRT1_2);
    return y.add(this.conv1.forward(this.conv0.forward(h), Math.SQRT1_2));
  }
}

/** The 4×4 epilogue (upstream's DiscriminatorEpilogue): minibatch std, 3×3 conv, FC, FC to one logit. */
export class DiscriminatorEpilogue extends Module {
  readonly mbstd: MinibatchStd;
  readonly conv: Conv2dLayer;
  readonly fc: FullyConnected;
  readonly out: FullyConnected;

  constructor(
    readonly channels: number,
    config: Pick<NetworkConfig, 'mbstdGroupSize' | 'mbstdChannels' | 'convClamp'>,
  ) {
    super();
    const c = channels;
    this.mbstd = this.addModule('mbstd', new MinibatchStd(config.mbstdGroupSize, config.mbstdChannels));
    this.conv = this.addModule(
      'conv',
      new Conv2dLayer(c + config.mbstdChannels, c, { kernel: 3, activation: 'lrelu', convClamp: config.convClamp }),
    );
    this.fc = this.addModule('fc', new FullyConnected(c * 16, c, { activation: 'lrelu' }));
    this.out = this.addModule('out', new FullyConnected(c, 1));
  }

  /** x [N, C, 4, 4] → logits [N, 1], in float32 (the epilogue is never reduced). */
  forward(x: Tensor): Tensor {
    x = this.conv.forward(this.mbstd.forward(toBlockDtype(x, null)));
    return this.out.forward(this.fc.forward(x.flatten(1)));
  }
}

export class Discriminator extends Module {
  readonly blocks: DiscriminatorBlock[] = [];
  readonly b4: DiscriminatorEpilogue;

  constructor(
    readonly config: NetworkConfig,
    readonly imgChannels = 3,
  ) {
    super();
    checkConfig(config);
    const s = config.resolution;
    for (let r = s; r > 4; r /= 2) {
      const inC = r < s ? channelsAt(config, r) : 0;
      const block = new DiscriminatorBlock(r, inC, channelsAt(config, r), channelsAt(config, r / 2), imgChannels, config.convClamp);
      this.blocks.push(this.addModule(`b${r}`, block));
    }
    this.b4 = this.addModule('b4', new DiscriminatorEpilogue(channelsAt(config, 4), config));
  }

  /** Runs the blocks at the config's top numFp16Res resolutions in `dtype` (null: all float32). */
  setPrecision(dtype: DType | null): this {
    setBlockPrecision(this.blocks, this.config, dtype);
    return this;
  }

  /** img [N, C, S, S] → logits [N, 1]. */
  forward(img: Tensor): Tensor {
    const s = this.config.resolution;
    if (img.ndim !== 4 || img.shape[1] !== this.imgChannels || img.shape[2] !== s || img.shape[3] !== s) {
      throw new ShapeError(`${this.path('img')}: expected [N, ${this.imgChannels}, ${s}, ${s}], got [${img.shape}]`);
    }
    let x = img;
    for (const b of this.blocks) x = b.forward(x);
    return this.b4.forward(x);
  }
}
