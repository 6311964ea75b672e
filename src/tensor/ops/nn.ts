// SPDX-License-Identifier: MIT
// nn functional ops (torch.nn.functional names): convolution, linear, resampling, pooling, normalisation, losses.
import { choice, int, pair } from '../check.js';
import { ArgumentError } from '../errors.js';
import { native } from '../native.js';
import { type Tensor, wrap } from '../tensor.js';

type IntOrPair = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: IntOrPair;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  groups?: number;
}

/**
 * 2-D convolution. x [N, I, H, W], w [O, I/groups, kH, kW], b [O] or null.
 * @throws TensorError ERR_TORCH on shape mismatch (libtorch's message).
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  const stride = pair(o.stride ?? 1, 'conv2d', 'stride', { min: 1 });
  const padding = pair(o.padding ?? 0, 'conv2d', 'padding', { min: 0 });
  const dilation = pair(o.dilation ?? 1, 'conv2d', 'dilation', { min: 1 });
  const groups = int(o.groups ?? 1, 'conv2d', 'groups', { min: 1 });
  return wrap(native.conv2d(x.handle, w.handle, b?.handle ?? null, stride, padding, dilation, groups));
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: IntOrPair;
}

/** Transposed 2-D convolution. w [I, O/groups, kH, kW]. */
export function convTranspose2d(x: Tensor, w: Tensor, b: Tensor | null = null, o: ConvTranspose2dOptions = {}): Tensor {
  const stride = pair(o.stride ?? 1, 'convTranspose2d', 'stride', { min: 1 });
  const padding = pair(o.padding ?? 0, 'convTranspose2d', 'padding', { min: 0 });
  const outputPadding = pair(o.outputPadding ?? 0, 'convTranspose2d', 'outputPadding', { min: 0 });
  const dilation = pair(o.dilation ?? 1, 'convTranspose2d', 'dilation', { min: 1 });
  const groups = int(o.groups ?? 1, 'convTranspose2d', 'groups', { min: 1 });
  return wrap(native.convTranspose2d(x.handle, w.handle, b?.handle ?? null, stride, padding, outputPadding, groups, dilation));
}

/** x·wᵀ + b. x [..., I], w [O, I], b [O]. */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  return wrap(native.linear(x.handle, w.handle, b?.handle ?? null));
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  return wrap(native.matmul(a.handle, b.handle));
}

/**
 * Eigenvalues (ascending) of symmetric matrices x [..., n, n] (libtorch's linalg_eigvalsh: LAPACK on the CPU).
 * Only one triangle is read: the lower (default) or, with `upper`, the upper.
 */
export function eigvalsh(x: Tensor, o: { upper?: boolean } = {}): Tensor {
  return wrap(native.linalgEigvalsh(x.handle, o.upper ?? false));
}

/** Eigenvalues (ascending) and eigenvectors (column k of `vectors` for value k) of symmetric matrices, as eigvalsh. */
export function eigh(x: Tensor, o: { upper?: boolean } = {}): { values: Tensor; vectors: Tensor } {
  const [values, vectors] = native.linalgEigh(x.handle, o.upper ?? false);
  return { values: wrap(values), vectors: wrap(vectors) };
}

const interpModes = ['nearest', 'bilinear', 'bicubic', 'area'] as const;
export interface InterpolateOptions {
  /** Output [h, w] (or a number for both); or give scaleFactor. */
  size?: IntOrPair;
  scaleFactor?: number | readonly [number, number];
  mode?: (typeof interpModes)[number];
  /** For bilinear/bicubic; default false. */
  alignCorners?: boolean;
}

/** Resizes [N, C, H, W] (torch.nn.functional.interpolate; 'area' is adaptive average pooling). */
export function interpolate(x: Tensor, o: InterpolateOptions): Tensor {
  const mode = choice(o.mode ?? 'nearest', interpModes, 'interpolate', 'mode');
  const [h, w] = [x.shape[2], x.shape[3]];
  if (x.ndim !== 4) throw new ArgumentError(`interpolate: expected a 4-D [N, C, H, W] input, got ${x.ndim}-D`);
  let size: [number, number];
  let scales: [number | null, number | null] = [null, null];
  if (o.size !== undefined) {
    size = pair(o.size, 'interpolate', 'size', { min: 1 });
  } else if (o.scaleFactor !== undefined) {
    const s = typeof o.scaleFactor === 'number' ? [o.scaleFactor, o.scaleFactor] : o.scaleFactor;
    if (!(s[0] > 0 && s[1] > 0)) throw new ArgumentError(`interpolate: expected positive scaleFactor, got ${String(o.scaleFactor)}`);
    size = [Math.floor(h * s[0]), Math.floor(w * s[1])];
    scales = [s[0], s[1]];
  } else {
    throw new ArgumentError('interpolate: give size or scaleFactor');
  }
  if (o.alignCorners !== undefined && (mode === 'nearest' || mode === 'area')) {
    throw new ArgumentError(`interpolate: alignCorners only applies to bilinear and bicubic, not ${mode}`);
  }
  return wrap(native.interpolate(x.handle, size, interpModes.indexOf(mode), o.alignCorners ?? false, scales[0], scales[1]));
}

export function avgPool2d(
  x: Tensor,
  kernel: IntOrPair,
  o: { stride?: IntOrPair; padding?: IntOrPair; ceilMode?: boolean; countIncludePad?: boolean } = {},
): Tensor {
  const k = pair(kernel, 'avgPool2d', 'kernel', { min: 1 });
  const stride = pair(o.stride ?? k, 'avgPool2d', 'stride', { min: 1 });
  const padding = pair(o.padding ?? 0, 'avgPool2d', 'padding', { min: 0 });
  return wrap(native.avgPool2d(x.handle, k, stride, padding, o.ceilMode ?? false, o.countIncludePad ?? true));
}

export function maxPool2d(
  x: Tensor,
  kernel: IntOrPair,
  o: { stride?: IntOrPair; padding?: IntOrPair; dilation?: IntOrPair; ceilMode?: boolean } = {},
): Tensor {
  const k = pair(kernel, 'maxPool2d', 'kernel', { min: 1 });
  const stride = pair(o.stride ?? k, 'maxPool2d', 'stride', { min: 1 });
  const padding = pair(o.padding ?? 0, 'maxPool2d', 'padding', { min: 0 });
  const dilation = pair(o.dilation ?? 1, 'maxPool2d', 'dilation', { min: 1 });
  return wrap(native.maxPool2d(x.handle, k, stride, padding, dilation, o.ceilMode ?? false));
}

export function adaptiveAvgPool2d(x: Tensor, size: IntOrPair): Tensor {
  return wrap(native.adaptiveAvgPool2d(x.handle, pair(size, 'adaptiveAvgPool2d', 'size', { min: 1 })));
}

const padModes = ['constant', 'reflect', 'replicate', 'circular'] as const;
/** Pads the last dims: pads = [left, right, top, bottom, …] (last dim first, as torch.nn.functional.pad). */
export function pad(x: Tensor, pads: readonly number[], o: { mode?: (typeof padModes)[number]; value?: number } = {}): Tensor {
  const mode = choice(o.mode ?? 'constant', padModes, 'pad', 'mode');
  if (pads.length % 2 !== 0 || !pads.every(Number.isInteger)) {
    throw new ArgumentError(`pad: expected an even number of integer pads, got ${JSON.stringify(pads)}`);
  }
  return wrap(native.pad(x.handle, pads as number[], padModes.indexOf(mode), o.value ?? 0));
}

const gridModes = ['bilinear', 'nearest'] as const;
const gridPadding = ['zeros', 'border', 'reflection'] as const;
/**
 * Samples x [N, C, H, W] at grid [N, Ho, Wo, 2] (normalised (x, y) in [−1, 1]). Its input gradient is itself
 * differentiable (double backward w.r.t. x works; w.r.t. the grid it is first-order only).
 */
export function gridSample(
  x: Tensor,
  grid: Tensor,
  o: { mode?: (typeof gridModes)[number]; paddingMode?: (typeof gridPadding)[number]; alignCorners?: boolean } = {},
): Tensor {
  const mode = choice(o.mode ?? 'bilinear', gridModes, 'gridSample', 'mode');
  const padding = choice(o.paddingMode ?? 'zeros', gridPadding, 'gridSample', 'paddingMode');
  return wrap(native.gridSample(x.handle, grid.handle, gridModes.indexOf(mode), gridPadding.indexOf(padding), o.alignCorners ?? false));
}

/** Sampling grid [N, H, W, 2] for affine matrices theta [N, 2, 3]; size = [N, C, H, W]. */
export function affineGrid(theta: Tensor, size: readonly number[], o: { alignCorners?: boolean } = {}): Tensor {
  return wrap(native.affineGrid(theta.handle, [...size], o.alignCorners ?? false));
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** Batch statistics (and update running stats in place) when true; running stats when false. */
  training: boolean;
  momentum?: number;
  eps?: number;
}

export function batchNorm(x: Tensor, o: BatchNormOptions): Tensor {
  return wrap(
    native.batchNorm(
      x.handle,
      o.weight?.handle ?? null,
      o.bias?.handle ?? null,
      o.runningMean?.handle ?? null,
      o.runningVar?.handle ?? null,
      o.training,
      o.momentum ?? 0.1,
      o.eps ?? 1e-5,
    ),
  );
}

export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(`dropout: expected p in [0, 1], got ${p}`);
  return wrap(native.dropout(x.handle, p, training));
}

const reductions = ['none', 'mean', 'sum'] as const;
type Reduction = (typeof reductions)[number];

/** Cross-entropy of logits [N, C, …] against class indices [N, …] (int64). */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  o: { weight?: Tensor | null; reduction?: Reduction; ignoreIndex?: number; labelSmoothing?: number } = {},
): Tensor {
  const reduction = choice(o.reduction ?? 'mean', reductions, 'crossEntropy', 'reduction');
  return wrap(
    native.crossEntropy(
      logits.handle,
      target.handle,
      o.weight?.handle ?? null,
      reductions.indexOf(reduction),
      o.ignoreIndex ?? -100,
      o.labelSmoothing ?? 0,
    ),
  );
}

export function binaryCrossEntropyWithLogits(
  x: Tensor,
  target: Tensor,
  o: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  const reduction = choice(o.reduction ?? 'mean', reductions, 'binaryCrossEntropyWithLogits', 'reduction');
  return wrap(
    native.binaryCrossEntropyWithLogits(
      x.handle,
      target.handle,
      o.weight?.handle ?? null,
      o.posWeight?.handle ?? null,
      reductions.indexOf(reduction),
    ),
  );
}

/** One-hot encoding of int64 class indices: [..] → [.., numClasses] (int64). */
export function oneHot(x: Tensor, numClasses = -1): Tensor {
  return wrap(native.oneHot(x.handle, numClasses));
}

export function softmax(x: Tensor, dim: number): Tensor {
  return wrap(native.softmax(x.handle, dim));
}
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return wrap(native.logSoftmax(x.handle, dim));
}
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return wrap(native.leakyRelu(x.handle, negativeSlope));
}
