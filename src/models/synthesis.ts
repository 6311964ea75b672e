// SPDX-License-Identifier: MIT
// Synthesis network (spec §3.2): "skip" architecture, constant input, two modulated convs per resolution,
// a ToRGB per block whose outputs are summed through FIR ×2 upsampling.
import { upsample2d } from '../nn/functional/upfirdn2d.js';
import { type NoiseMode, SynthesisLayer } from '../nn/layers/synthesisLayer.js';
import { ToRgb } from '../nn/layers/toRgb.js';
import { setupFilter } from '../nn/functional/upfirdn2d.js';
import { Module } from '../nn/module.js';
import { ShapeError } from '../tensor/errors.js';
import { randn } from '../tensor/ops/random.js';
import type { Tensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { type NetworkConfig, blockResolutions, channelsAt } from './config.js';
import { setBlockPrecision, toBlockDtype } from './precision.js';

export class SynthesisBlock extends Module {
  readonly const: Tensor | null = null; // [C, 4, 4] for b4
  readonly conv0: SynthesisLayer | null = null;
  readonly conv1: SynthesisLayer;
  readonly torgb: ToRgb;
  readonly resampleFilter: Tensor;
  /** Number of ws the convs consume (the ToRGB shares the next block's first). */
  readonly numConv: number;
  /** The dtype the convs run in when reduced (spec §3.7), or null for float32; the ToRGB output is float32. */
  lowDtype: DType | null = null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly resolution: number,
    imgChannels: number,
    c: NetworkConfig,
  ) {
    super();
    this.resampleFilter = this.addBuffer('resample_filter', setupFilter());
    if (inChannels === 0) {
      this.const = this.addParameter('const', randn([outChannels, resolution, resolution]));
    } else {
      this.conv0 = this.addModule(
        'conv0',
        new SynthesisLayer(inChannels, outChannels, c.wDim, resolution, { up: 2, convClamp: c.convClamp }),
      );
    }
    this.conv1 = this.addModule('conv1', new SynthesisLayer(outChannels, outChannels, c.wDim, resolution, { convClamp: c.convClamp }));
    this.torgb = this.addModule('torgb', new ToRgb(outChannels, imgChannels, c.wDim, c.convClamp));
    this.numConv = inChannels === 0 ? 1 : 2;
  }

  /** ws [N, numConv + 1, wDim] → (x, img) at this resolution. */
  forward(x: Tensor | null, img: Tensor | null, ws: Tensor, noiseMode: NoiseMode): { x: Tensor; img: Tensor } {
    const n = ws.shape[0];
    let h: Tensor;
    let k = 0;
    if (this.const !== null) {
      h = this.const.unsqueeze(0).expand([n, -1, -1, -1]);
      h = this.conv1.forward(toBlockDtype(h, this.lowDtype), ws.select(1, k++), noiseMode);
    } else {
      if (x === null) throw new ShapeError(`${this.path('x')}: missing input`);
      h = (this.conv0 as SynthesisLayer).forward(toBlockDtype(x, this.lowDtype), ws.select(1, k++), noiseMode);
      h = this.conv1.forward(h, ws.select(1, k++), noiseMode);
    }
    const y = toBlockDtype(this.torgb.forward(h, ws.select(1, k)), null);
    const out = img === null ? y : upsample2d(img, this.resampleFilter).add(y);
    return { x: h, img: out };
  }
}

export class SynthesisNetwork extends Module {
  readonly blocks: SynthesisBlock[] = [];
  /** Σ convs + 1 (10 at 64, 12 at 128). */
  readonly numWs: number;

  constructor(
    readonly config: NetworkConfig,
    readonly imgChannels: number,
  ) {
    super();
    let numWs = 0;
    for (const r of blockResolutions(config)) {
      const inC = r === 4 ? 0 : channelsAt(config, r / 2);
      const block = this.addModule(`b${r}`, new SynthesisBlock(inC, channelsAt(config, r), r, imgChannels, config));
      this.blocks.push(block);
      numWs += block.numConv;
    }
    this.numWs = numWs + 1;
  }

  /** Runs the blocks at the config's top numFp16Res resolutions in `dtype` (null: all float32). */
  setPrecision(dtype: DType | null): this {
    setBlockPrecision(this.blocks, this.config, dtype);
    return this;
  }

  /** ws [N, numWs, wDim] → img [N, imgChannels, S, S] (unbounded; no tanh). */
  forward(ws: Tensor, noiseMode: NoiseMode = 'random'): Tensor {
    if (ws.ndim !== 3 || ws.shape[1] !== this.numWs) {
      throw new ShapeError(`${this.path('ws')}: expected [N, ${this.numWs}, wDim], got [${ws.shape}]`);
    }
    let x: Tensor | null = null;
    let img: Tensor | null = null;
    let idx = 0;
    for (const b of this.blocks) {
      ({ x, img } = b.forward(x, img, ws.narrow(1, idx, b.numConv + 1), noiseMode));
      idx += b.numConv;
    }
    return img as Tensor;
  }
}
