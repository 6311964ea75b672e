// SPDX-License-Identifier: MIT
// The TF-ported Inception-v3 feature network used for FID/KID (spec §12): the 2015-12-05 TensorFlow graph as
// pytorch-fid ports it (torchvision's Inception3 with the FIDInceptionA/C/E_1/E_2 blocks), 2048-d pool features,
// with user-supplied weights in a safetensors file (docs/fid.md says how to make one).
import { existsSync, statSync } from 'node:fs';
import { Module } from '../nn/module.js';
import type { Device } from '../tensor/device.js';
import { ShapeError } from '../tensor/errors.js';
import { InputError } from '../util/errors.js';
import { cat, ones, zeros } from '../tensor/ops/creation.js';
import { adaptiveAvgPool2d, avgPool2d, batchNorm, conv2d, interpolate, maxPool2d } from '../tensor/ops/nn.js';
import { randn } from '../tensor/ops/random.js';
import { loadSafetensors } from '../tensor/safetensors.js';
import { dispose, noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

type Pair = number | [number, number];

/** Conv (no bias) → BatchNorm (eps 0.001, running statistics) → ReLU: torchvision's BasicConv2d. */
class BasicConv2d extends Module {
  readonly weight: Tensor; // [O, I, kh, kw]
  readonly bnWeight: Tensor;
  readonly bnBias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: Pair,
    readonly opts: Readonly<{ stride?: number; padding?: Pair }> = {},
  ) {
    super();
    const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
    // Random weights (He-scaled) so an unloaded network still runs (shape tests); real use loads a file.
    this.weight = this.addParameter('conv.weight', randn([outChannels, inChannels, kh, kw]).mul(Math.sqrt(2 / (inChannels * kh * kw))));
    this.bnWeight = this.addParameter('bn.weight', ones([outChannels]));
    this.bnBias = this.addParameter('bn.bias', zeros([outChannels]));
    this.runningMean = this.addBuffer('bn.running_mean', zeros([outChannels]));
    this.runningVar = this.addBuffer('bn.running_var', ones([outChannels]));
  }

  forward(x: Tensor): Tensor {
    return scope(() => {
      const y = conv2d(x, this.weight, null, { stride: this.opts.stride ?? 1, padding: this.opts.padding ?? 0 });
      return batchNorm(y, {
        weight: this.bnWeight,
        bias: this.bnBias,
        runningMean: this.runningMean,
        runningVar: this.runningVar,
        training: false,
        eps: 0.001,
      }).relu();
    });
  }
}

/** 3×3 average pooling, stride 1, padding 1, padded zeros not counted (the TF graph's SAME pooling). */
const avgPool3 = (x: Tensor) => avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false });

/** Mixed_5b/5c/5d (FIDInceptionA): 1×1, 5×5, double 3×3 and pooled branches. */
class InceptionA extends Module {
  private readonly b1: BasicConv2d;
  private readonly b5: BasicConv2d[];
  private readonly b3: BasicConv2d[];
  private readonly pool: BasicConv2d;

  constructor(inChannels: number, poolFeatures: number) {
    super();
    this.b1 = this.addModule('branch1x1', new BasicConv2d(inChannels, 64, 1));
    this.b5 = [
      this.addModule('branch5x5_1', new BasicConv2d(inChannels, 48, 1)),
      this.addModule('branch5x5_2', new BasicConv2d(48, 64, 5, { padding: 2 })),
    ];
    this.b3 = [
      this.addModule('branch3x3dbl_1', new BasicConv2d(inChannels, 64, 1)),
      this.addModule('branch3x3dbl_2', new BasicConv2d(64, 96, 3, { padding: 1 })),
      this.addModule('branch3x3dbl_3', new BasicConv2d(96, 96, 3, { padding: 1 })),
    ];
    this.pool = this.addModule('branch_pool', new BasicConv2d(inChannels, poolFeatures, 1));
  }

  forward(x: Tensor): Tensor {
    return scope(() => cat([this.b1.forward(x), chain(this.b5, x), chain(this.b3, x), this.pool.forward(avgPool3(x))], 1));
  }
}

/** Mixed_6a (InceptionB): strided 3×3, strided double 3×3 and max-pooled branches. */
class InceptionB extends Module {
  private readonly b3: BasicConv2d;
  private readonly b3dbl: BasicConv2d[];

  constructor(inChannels: number) {
    super();
    this.b3 = this.addModule('branch3x3', new BasicConv2d(inChannels, 384, 3, { stride: 2 }));
    this.b3dbl = [
      this.addModule('branch3x3dbl_1', new BasicConv2d(inChannels, 64, 1)),
      this.addModule('branch3x3dbl_2', new BasicConv2d(64, 96, 3, { padding: 1 })),
      this.addModule('branch3x3dbl_3', new BasicConv2d(96, 96, 3, { stride: 2 })),
    ];
  }

  forward(x: Tensor): Tensor {
    return scope(() => cat([this.b3.forward(x), chain(this.b3dbl, x), maxPool2d(x, 3, { stride: 2 })], 1));
  }
}

/** Mixed_6b–6e (FIDInceptionC): factorised 7×7 branches. */
class InceptionC extends Module {
  private readonly b1: BasicConv2d;
  private readonly b7: BasicConv2d[];
  private readonly b7dbl: BasicConv2d[];
  private readonly pool: BasicConv2d;

  constructor(inChannels: number, c7: number) {
    super();
    const row = { padding: [0, 3] as [number, number] }; // 1×7
    const col = { padding: [3, 0] as [number, number] }; // 7×1
    this.b1 = this.addModule('branch1x1', new BasicConv2d(inChannels, 192, 1));
    this.b7 = [
      this.addModule('branch7x7_1', new BasicConv2d(inChannels, c7, 1)),
      this.addModule('branch7x7_2', new BasicConv2d(c7, c7, [1, 7], row)),
      this.addModule('branch7x7_3', new BasicConv2d(c7, 192, [7, 1], col)),
    ];
    this.b7dbl = [
      this.addModule('branch7x7dbl_1', new BasicConv2d(inChannels, c7, 1)),
      this.addModule('branch7x7dbl_2', new BasicConv2d(c7, c7, [7, 1], col)),
      this.addModule('branch7x7dbl_3', new BasicConv2d(c7, c7, [1, 7], row)),
      this.addModule('branch7x7dbl_4', new BasicConv2d(c7, c7, [7, 1], col)),
      this.addModule('branch7x7dbl_5', new BasicConv2d(c7, 192, [1, 7], row)),
    ];
    this.pool = this.addModule('branch_pool', new BasicConv2d(inChannels, 192, 1));
  }

  forward(x: Tensor): Tensor {
    return scope(() => cat([this.b1.forward(x), chain(this.b7, x), chain(this.b7dbl, x), this.pool.forward(avgPool3(x))], 1));
  }
}

/** Mixed_7a (InceptionD): strided 3×3 and 7×7×3 branches, max-pooled branch. */
class InceptionD extends Module {
  private readonly b3: BasicConv2d[];
  private readonly b7x3: BasicConv2d[];

  constructor(inChannels: number) {
    super();
    this.b3 = [
      this.addModule('branch3x3_1', new BasicConv2d(inChannels, 192, 1)),
      this.addModule('branch3x3_2', new BasicConv2d(192, 320, 3, { stride: 2 })),
    ];
    this.b7x3 = [
      this.addModule('branch7x7x3_1', new BasicConv2d(inChannels, 192, 1)),
      this.addModule('branch7x7x3_2', new BasicConv2d(192, 192, [1, 7], { padding: [0, 3] })),
      this.addModule('branch7x7x3_3', new BasicConv2d(192, 192, [7, 1], { padding: [3, 0] })),
      this.addModule('branch7x7x3_4', new BasicConv2d(192, 192, 3, { stride: 2 })),
    ];
  }

  forward(x: Tensor): Tensor {
    return scope(() => cat([chain(this.b3, x), chain(this.b7x3, x), maxPool2d(x, 3, { stride: 2 })], 1));
  }
}

/**
 * Mixed_7b/7c (FIDInceptionE_1 / _2): split 1×3 + 3×1 branches. The pooled branch differs between the two,
 * as in the TF graph: average pooling without padded zeros in 7b, max pooling in 7c.
 */
class InceptionE extends Module {
  private readonly b1: BasicConv2d;
  private readonly b3: BasicConv2d;
  private readonly b3a: BasicConv2d;
  private readonly b3b: BasicConv2d;
  private readonly b3dbl: BasicConv2d[];
  private readonly b3dblA: BasicConv2d;
  private readonly b3dblB: BasicConv2d;
  private readonly pool: BasicConv2d;

  constructor(
    inChannels: number,
    readonly poolKind: 'avg' | 'max',
  ) {
    super();
    const row = { padding: [0, 1] as [number, number] }; // 1×3
    const col = { padding: [1, 0] as [number, number] }; // 3×1
    this.b1 = this.addModule('branch1x1', new BasicConv2d(inChannels, 320, 1));
    this.b3 = this.addModule('branch3x3_1', new BasicConv2d(inChannels, 384, 1));
    this.b3a = this.addModule('branch3x3_2a', new BasicConv2d(384, 384, [1, 3], row));
    this.b3b = this.addModule('branch3x3_2b', new BasicConv2d(384, 384, [3, 1], col));
    this.b3dbl = [
      this.addModule('branch3x3dbl_1', new BasicConv2d(inChannels, 448, 1)),
      this.addModule('branch3x3dbl_2', new BasicConv2d(448, 384, 3, { padding: 1 })),
    ];
    this.b3dblA = this.addModule('branch3x3dbl_3a', new BasicConv2d(384, 384, [1, 3], row));
    this.b3dblB = this.addModule('branch3x3dbl_3b', new BasicConv2d(384, 384, [3, 1], col));
    this.pool = this.addModule('branch_pool', new BasicConv2d(inChannels, 192, 1));
  }

  forward(x: Tensor): Tensor {
    return scope(() => {
      const b3 = this.b3.forward(x);
      const bd = chain(this.b3dbl, x);
      const pooled = this.poolKind === 'avg' ? avgPool3(x) : maxPool2d(x, 3, { stride: 1, padding: 1 });
      return cat(
        [
          this.b1.forward(x),
          this.b3a.forward(b3),
          this.b3b.forward(b3),
          this.b3dblA.forward(bd),
          this.b3dblB.forward(bd),
          this.pool.forward(pooled),
        ],
        1,
      );
    });
  }
}

function chain(layers: readonly BasicConv2d[], x: Tensor): Tensor {
  return scope(() => layers.reduce((h, l) => l.forward(h), x));
}

/** Feature width of the pool layer. */
export const inceptionFeatureDim = 2048;

/** Tensors a weights file may hold besides ours, ignored: the 1008-way classifier and BatchNorm step counters. */
const optionalTensors: [RegExp, (name: string) => number[] | null][] = [
  [/^fc\.weight$/, () => [1008, 2048]],
  [/^fc\.bias$/, () => [1008]],
  [/\.bn\.num_batches_tracked$/, () => null], // a scalar of any shape
];

/**
 * Inception-v3 as the FID feature extractor (pytorch-fid's `fid_inception_v3`, = the TF 2015-12-05 graph):
 * uint8 images in, 2048-d features out. State-dict names are torchvision's (`Conv2d_1a_3x3.conv.weight`,
 * `Mixed_7c.branch_pool.bn.running_var`, …), so pytorch-fid's weights convert 1:1 (docs/fid.md).
 */
export class InceptionV3 extends Module {
  private readonly stem: BasicConv2d[];
  private readonly mixed5: InceptionA[];
  private readonly mixed6a: InceptionB;
  private readonly mixed6: InceptionC[];
  private readonly mixed7a: InceptionD;
  private readonly mixed7: InceptionE[];

  constructor() {
    super();
    this.stem = [
      this.addModule('Conv2d_1a_3x3', new BasicConv2d(3, 32, 3, { stride: 2 })),
      this.addModule('Conv2d_2a_3x3', new BasicConv2d(32, 32, 3)),
      this.addModule('Conv2d_2b_3x3', new BasicConv2d(32, 64, 3, { padding: 1 })),
      this.addModule('Conv2d_3b_1x1', new BasicConv2d(64, 80, 1)),
      this.addModule('Conv2d_4a_3x3', new BasicConv2d(80, 192, 3)),
    ];
    this.mixed5 = [
      this.addModule('Mixed_5b', new InceptionA(192, 32)),
      this.addModule('Mixed_5c', new InceptionA(256, 64)),
      this.addModule('Mixed_5d', new InceptionA(288, 64)),
    ];
    this.mixed6a = this.addModule('Mixed_6a', new InceptionB(288));
    this.mixed6 = [
      this.addModule('Mixed_6b', new InceptionC(768, 128)),
      this.addModule('Mixed_6c', new InceptionC(768, 160)),
      this.addModule('Mixed_6d', new InceptionC(768, 160)),
      this.addModule('Mixed_6e', new InceptionC(768, 192)),
    ];
    this.mixed7a = this.addModule('Mixed_7a', new InceptionD(768));
    this.mixed7 = [this.addModule('Mixed_7b', new InceptionE(1280, 'avg')), this.addModule('Mixed_7c', new InceptionE(2048, 'max'))];
    this.eval().requiresGrad_(false);
  }

  /**
   * Pool features of x [N, 3, H, W] in [−1, 1] at the network's input size (299 for FID; ≥ 75 works).
   * @returns [N, 2048] float32.
   */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== 3) throw new ShapeError(`inception: expected x [N, 3, H, W], got [${x.shape}]`);
    if (x.shape[2] < 75 || x.shape[3] < 75)
      throw new ShapeError(`inception: input must be at least 75×75, got ${x.shape[2]}×${x.shape[3]}`);
    return noGrad(() =>
      scope(() => {
        let h = this.stem[0].forward(x);
        h = this.stem[1].forward(h);
        h = this.stem[2].forward(h);
        h = maxPool2d(h, 3, { stride: 2 });
        h = this.stem[3].forward(h);
        h = this.stem[4].forward(h);
        h = maxPool2d(h, 3, { stride: 2 });
        for (const m of this.mixed5) h = m.forward(h);
        h = this.mixed6a.forward(h);
        for (const m of this.mixed6) h = m.forward(h);
        h = this.mixed7a.forward(h);
        for (const m of this.mixed7) h = m.forward(h);
        return adaptiveAvgPool2d(h, 1).flatten(1); // [N, 2048]
      }),
    );
  }

  /**
   * FID features of 8-bit images: uint8 [N, 3, H, W] → [0, 1] → bilinear resize to `size` (299;
   * align_corners false) → [−1, 1] → pool features [N, 2048] (pytorch-fid's InceptionV3 wrapper).
   */
  features(images: Tensor, size = 299): Tensor {
    return noGrad(() =>
      scope(() => {
        let x = images.to({ device: this.stem[0].weight.device, dtype: 'float32' }).div(255);
        if (x.shape[2] !== size || x.shape[3] !== size) x = interpolate(x, { size, mode: 'bilinear', alignCorners: false });
        return this.forward(x.mul(2).sub(1));
      }),
    );
  }

  /** The name and shape of every tensor a weights file must hold. */
  expectedTensors(): Map<string, number[]> {
    return new Map([...this.stateDict()].map(([k, v]) => [k, [...v.shape]]));
  }
}

/**
 * Checks a weights map against the network: missing tensors, unexpected ones and wrong shapes are collected and
 * reported together (the classifier `fc.*` and `*.num_batches_tracked` are allowed and ignored).
 * @throws InputError ERR_INCEPTION_WEIGHTS listing every problem (the first 10 of each kind, with counts).
 */
export function validateInceptionWeights(tensors: Map<string, { shape: readonly number[] }>, source = 'weights'): void {
  const expected = expectedInceptionTensors();
  const missing = [...expected.keys()].filter((k) => !tensors.has(k));
  const unexpected: string[] = [];
  const misshaped: string[] = [];
  for (const [name, t] of tensors) {
    const want = expected.get(name) ?? optionalTensors.find(([re]) => re.test(name))?.[1](name);
    if (want === undefined) unexpected.push(name);
    else if (want !== null && t.shape.join(',') !== want.join(','))
      misshaped.push(`${name} is [${t.shape.join(', ')}], expected [${want.join(', ')}]`);
  }
  if (missing.length + unexpected.length + misshaped.length === 0) return;
  const list = (what: string, xs: string[]) =>
    xs.length ? [`${xs.length} ${what}: ${xs.slice(0, 10).join('; ')}${xs.length > 10 ? `; … (${xs.length - 10} more)` : ''}`] : [];
  throw new InputError(
    `${source} is not the FID Inception-v3 state dict: ${[...list('missing', missing), ...list('unexpected', unexpected), ...list('with the wrong shape', misshaped)].join(' | ')}`,
    'ERR_INCEPTION_WEIGHTS',
    "convert pytorch-fid's pt_inception-2015-12-05-6726825d.pth as docs/fid.md shows",
  );
}

let expectedCache: Map<string, number[]> | null = null;

/** Every tensor name a weights file must hold, with its shape (torchvision's Inception3 names). */
export function expectedInceptionTensors(): Map<string, number[]> {
  if (expectedCache === null) {
    const net = new InceptionV3();
    try {
      expectedCache = net.expectedTensors();
    } finally {
      net.dispose();
    }
  }
  return expectedCache;
}

/**
 * Loads the FID Inception from a safetensors file (float32, float16 or float64 tensors) onto `device`, after
 * validating every name and shape. The caller disposes the network.
 * @throws InputError ERR_NO_INCEPTION (no such file), ERR_SAFETENSORS (malformed) or ERR_INCEPTION_WEIGHTS.
 */
export function loadInception(path: string, device: Device = 'cpu'): InceptionV3 {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new InputError(
      `Inception weights not found: ${path}`,
      'ERR_NO_INCEPTION',
      'see docs/fid.md for how to make the safetensors file',
    );
  }
  const { tensors } = loadSafetensors(path);
  try {
    validateInceptionWeights(tensors, path);
    const net = new InceptionV3();
    try {
      noGrad(() =>
        scope(() => {
          for (const [name, dst] of net.stateDict()) dst.copy_((tensors.get(name) as Tensor).to('float32'));
        }),
      );
      net.to(device);
    } catch (e) {
      net.dispose();
      throw e;
    }
    return net;
  } finally {
    dispose([...tensors.values()]);
  }
}
