// SPDX-License-Identifier: MIT
// First-order gradient checks (float64 central differences) for the nn functional ops, plus forward values on
// hand-computed cases so a wrong-but-self-consistent op fails too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { caseChecker, leaf, uniform } from '../helpers/gradCases.js';
import { assertClose } from '../helpers/assertClose.js';

const liveAtStart = t.memory().liveTensors;

function f64(data: number[], shape: number[]): t.Tensor {
  return t.tensor(data, { dtype: 'float64', shape });
}

const check = caseChecker(3000, gradcheck);

// ---- conv2d: input, weight and bias -------------------------------------------------------------------------------

check('conv2d: plain', () => ({
  fn: (x, w, b) => t.nn.conv2d(x, w, b),
  inputs: [leaf([1, 2, 5, 5]), leaf([3, 2, 3, 3]), leaf([3])],
}));
check('conv2d: batch of 2, no bias', () => ({
  fn: (x, w) => t.nn.conv2d(x, w),
  inputs: [leaf([2, 2, 4, 4]), leaf([2, 2, 3, 3])],
}));
check('conv2d: stride 2, padding 1', () => ({
  fn: (x, w, b) => t.nn.conv2d(x, w, b, { stride: 2, padding: 1 }),
  inputs: [leaf([1, 2, 5, 5]), leaf([3, 2, 3, 3]), leaf([3])],
}));
check('conv2d: padding [1, 2], stride [1, 2]', () => ({
  fn: (x, w, b) => t.nn.conv2d(x, w, b, { padding: [1, 2], stride: [1, 2] }),
  inputs: [leaf([1, 2, 4, 4]), leaf([2, 2, 3, 2]), leaf([2])],
}));
check('conv2d: dilation 2', () => ({
  fn: (x, w, b) => t.nn.conv2d(x, w, b, { dilation: 2 }),
  inputs: [leaf([1, 2, 6, 6]), leaf([2, 2, 3, 3]), leaf([2])],
}));
check('conv2d: groups 2', () => ({
  fn: (x, w, b) => t.nn.conv2d(x, w, b, { groups: 2, padding: 1 }),
  inputs: [leaf([1, 4, 4, 4]), leaf([4, 2, 3, 3]), leaf([4])],
}));
check('conv2d: depthwise (groups = channels)', () => ({
  fn: (x, w, b) => t.nn.conv2d(x, w, b, { groups: 3, padding: 1 }),
  inputs: [leaf([1, 3, 4, 4]), leaf([3, 1, 3, 3]), leaf([3])],
}));
check('conv2d: followed by a nonlinearity', () => ({
  fn: (x, w, b) => t.nn.conv2d(x, w, b, { padding: 1 }).tanh(),
  inputs: [leaf([1, 2, 4, 4]), leaf([2, 2, 3, 3]), leaf([2])],
}));

// ---- convTranspose2d -------------------------------------------------------------------------------------------------

check('convTranspose2d: stride 2, padding 1, outputPadding 1 (input, weight, bias)', () => ({
  fn: (x, w, b) => t.nn.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }),
  inputs: [leaf([1, 2, 3, 3]), leaf([2, 3, 3, 3]), leaf([3])],
}));
check('convTranspose2d: stride 2, padding 1, outputPadding 1, no bias, batch 2', () => ({
  fn: (x, w) => t.nn.convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }),
  inputs: [leaf([2, 2, 2, 2]), leaf([2, 2, 3, 3])],
}));

// ---- interpolate / pooling --------------------------------------------------------------------------------------------

check('interpolate: nearest (size)', () => ({
  fn: (x) => t.nn.interpolate(x, { size: [5, 4], mode: 'nearest' }).cumsum(3),
  inputs: [leaf([1, 2, 3, 3])],
}));
check('interpolate: nearest (scaleFactor 2)', () => ({
  fn: (x) => t.nn.interpolate(x, { scaleFactor: 2 }).cumsum(3),
  inputs: [leaf([1, 2, 2, 3])],
}));
check('interpolate: bilinear, alignCorners false (up)', () => ({
  fn: (x) => t.nn.interpolate(x, { size: [5, 4], mode: 'bilinear' }),
  inputs: [leaf([1, 2, 3, 3])],
}));
check('interpolate: bilinear, alignCorners false (down, scaleFactor 0.5)', () => ({
  fn: (x) => t.nn.interpolate(x, { scaleFactor: 0.5, mode: 'bilinear' }),
  inputs: [leaf([1, 2, 4, 4])],
}));
check('interpolate: bilinear, alignCorners true', () => ({
  fn: (x) => t.nn.interpolate(x, { size: [5, 4], mode: 'bilinear', alignCorners: true }),
  inputs: [leaf([1, 2, 3, 3])],
}));
check('interpolate: area', () => ({
  fn: (x) => t.nn.interpolate(x, { size: [2, 3], mode: 'area' }),
  inputs: [leaf([1, 2, 4, 5])],
}));
check('adaptiveAvgPool2d', () => ({ fn: (x) => t.nn.adaptiveAvgPool2d(x, [2, 2]), inputs: [leaf([1, 2, 3, 5])] }));
check('avgPool2d: kernel 2', () => ({ fn: (x) => t.nn.avgPool2d(x, 2), inputs: [leaf([1, 2, 4, 4])] }));
check('avgPool2d: kernel 3, stride 2, padding 1, countIncludePad false, ceilMode', () => ({
  fn: (x) => t.nn.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false, ceilMode: true }),
  inputs: [leaf([1, 2, 4, 5])],
}));
check('maxPool2d: kernel 2', () => ({ fn: (x) => t.nn.maxPool2d(x, 2), inputs: [leaf([1, 2, 4, 4])] }));
check('maxPool2d: kernel 3, stride 2, padding 1 (overlapping windows)', () => ({
  fn: (x) => t.nn.maxPool2d(x, 3, { stride: 2, padding: 1 }),
  inputs: [leaf([1, 2, 5, 5])],
}));

// ---- gridSample / affineGrid -----------------------------------------------------------------------------------------

check('gridSample: bilinear, zeros, alignCorners false, w.r.t. input', () => {
  const grid = uniform([1, 3, 3, 2], -1.1, 1.1, false);
  return { fn: (x) => t.nn.gridSample(x, grid), inputs: [leaf([1, 2, 4, 4])] };
});
check('gridSample: bilinear, zeros, alignCorners false, w.r.t. input and grid', () => ({
  fn: (x, grid) => t.nn.gridSample(x, grid),
  inputs: [leaf([1, 2, 4, 4]), uniform([1, 3, 3, 2], -1.1, 1.1)],
}));
check('gridSample: batch 2, alignCorners true, w.r.t. input and grid', () => ({
  fn: (x, grid) => t.nn.gridSample(x, grid, { alignCorners: true }),
  inputs: [leaf([2, 1, 3, 4]), uniform([2, 2, 3, 2], -0.95, 0.95)],
}));
check('gridSample: border padding, w.r.t. input and grid', () => ({
  fn: (x, grid) => t.nn.gridSample(x, grid, { paddingMode: 'border' }),
  inputs: [leaf([1, 2, 3, 3]), uniform([1, 2, 3, 2], -0.9, 0.9)],
}));
check('gridSample: w.r.t. grid only (input without grad)', () => {
  const x = t.scope(() => t.randn([1, 2, 4, 4], { dtype: 'float64' }));
  return { fn: (grid) => t.nn.gridSample(x, grid), inputs: [uniform([1, 3, 3, 2], -1.1, 1.1)] };
});
check('affineGrid: w.r.t. theta, alignCorners false', () => ({
  fn: (theta) => t.nn.affineGrid(theta, [2, 1, 3, 4]).sin(),
  inputs: [leaf([2, 2, 3])],
}));
check('affineGrid: w.r.t. theta, alignCorners true', () => ({
  fn: (theta) => t.nn.affineGrid(theta, [1, 2, 4, 3], { alignCorners: true }).square(),
  inputs: [leaf([1, 2, 3])],
}));
check('affineGrid → gridSample: w.r.t. input and theta', () => ({
  fn: (x, theta) => t.nn.gridSample(x, t.nn.affineGrid(theta, [1, 2, 3, 3])),
  inputs: [
    leaf([1, 2, 4, 4]),
    t.tensor(
      [
        [
          [0.9, 0.2, 0.1],
          [-0.15, 0.8, -0.05],
        ],
      ],
      { dtype: 'float64', requiresGrad: true },
    ),
  ],
}));

// ---- normalisation / losses ---------------------------------------------------------------------------------------------

check('batchNorm: training mode, w.r.t. input, weight and bias', () => ({
  fn: (x, w, b) => t.nn.batchNorm(x, { weight: w, bias: b, training: true }),
  inputs: [leaf([3, 2, 2, 2]), leaf([2]), leaf([2])],
}));
check('batchNorm: training mode with running stats (updated in place), 2-D input', () => {
  const runningMean = t.zeros([3], { dtype: 'float64' });
  const runningVar = t.ones([3], { dtype: 'float64' });
  return {
    fn: (x, w, b) => t.nn.batchNorm(x, { weight: w, bias: b, runningMean, runningVar, training: true, momentum: 0.1 }),
    inputs: [leaf([4, 3]), leaf([3]), leaf([3])],
  };
});
check('batchNorm: training mode, no affine parameters', () => ({
  fn: (x) => t.nn.batchNorm(x, { training: true }),
  inputs: [leaf([2, 3, 2, 2])],
}));
check('crossEntropy: mean, w.r.t. logits', () => {
  const target = t.tensor([1, 0, 4, 1], { dtype: 'int64' });
  return { fn: (logits) => t.nn.crossEntropy(logits, target), inputs: [leaf([4, 5])] };
});
check('crossEntropy: class weights, sum', () => {
  const target = t.tensor([2, 0, 1], { dtype: 'int64' });
  const weight = t.tensor([0.5, 2, 1], { dtype: 'float64' });
  return { fn: (logits) => t.nn.crossEntropy(logits, target, { weight, reduction: 'sum' }), inputs: [leaf([3, 3])] };
});
check('crossEntropy: none, labelSmoothing 0.1, ignoreIndex', () => {
  const target = t.tensor([2, -1, 0, 3], { dtype: 'int64' });
  return {
    fn: (logits) => t.nn.crossEntropy(logits, target, { reduction: 'none', labelSmoothing: 0.1, ignoreIndex: -1 }),
    inputs: [leaf([4, 4])],
  };
});
check('crossEntropy: spatial [N, C, H, W]', () => {
  const target = t.tensor(
    [
      [
        [0, 2],
        [1, 1],
      ],
      [
        [2, 2],
        [0, 1],
      ],
    ],
    { dtype: 'int64' },
  );
  return { fn: (logits) => t.nn.crossEntropy(logits, target), inputs: [leaf([2, 3, 2, 2])] };
});
check('binaryCrossEntropyWithLogits: mean, w.r.t. logits', () => {
  const target = uniform([2, 3], 0, 1, false);
  return { fn: (x) => t.nn.binaryCrossEntropyWithLogits(x, target), inputs: [leaf([2, 3], (v) => 2 * v)] };
});
check('binaryCrossEntropyWithLogits: weight and posWeight, none', () => {
  const target = t.tensor(
    [
      [1, 0, 1],
      [0, 1, 0.5],
    ],
    { dtype: 'float64' },
  );
  const weight = t.tensor([0.5, 1, 2], { dtype: 'float64' });
  const posWeight = t.tensor([3, 1, 0.5], { dtype: 'float64' });
  return {
    fn: (x) => t.nn.binaryCrossEntropyWithLogits(x, target, { weight, posWeight, reduction: 'none' }),
    inputs: [leaf([2, 3], (v) => 2 * v)],
  };
});
check('binaryCrossEntropyWithLogits: sum, w.r.t. logits and target', () => ({
  fn: (x, target) => t.nn.binaryCrossEntropyWithLogits(x, target, { reduction: 'sum' }),
  inputs: [leaf([3, 2]), uniform([3, 2], 0.1, 0.9)],
}));

// ---- forward values on hand-computed cases -------------------------------------------------------------------------------

test('conv2d: values and gradients on a 1×1×3×3 input with a 2×2 kernel', () => {
  t.scope(() => {
    const x = t.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { dtype: 'float64', shape: [1, 1, 3, 3], requiresGrad: true });
    const w = t.tensor([1, 2, 3, 4], { dtype: 'float64', shape: [1, 1, 2, 2], requiresGrad: true });
    const b = t.tensor([0.5], { dtype: 'float64', requiresGrad: true });
    // Cross-correlation (no kernel flip): out[i][j] = Σ w[p][q]·x[i+p][j+q] + b.
    const y = t.nn.conv2d(x, w, b);
    assert.deepEqual(y.shape, [1, 1, 2, 2]);
    assertClose(y, [37.5, 47.5, 67.5, 77.5], { atol: 1e-12 });
    const [gx, gw, gb] = t.grad([y.sum()], [x, w, b]);
    assertClose(gx!, [1, 3, 2, 4, 10, 6, 3, 7, 4], { atol: 1e-12 });
    assertClose(gw!, [12, 16, 24, 28], { atol: 1e-12 });
    assertClose(gb!, [4], { atol: 1e-12 });
    // Padding 1, stride 2: windows start at (−1, −1), (−1, 1), (1, −1), (1, 1) of the zero-padded input.
    assertClose(t.nn.conv2d(x, w, null, { stride: 2, padding: 1 }), [4, 18, 36, 77], { atol: 1e-12 });
    // Dilation 2 with a 2×2 kernel on 3×3: one output, the four corners.
    assertClose(t.nn.conv2d(x, w, null, { dilation: 2 }), [1 * 1 + 2 * 3 + 3 * 7 + 4 * 9], { atol: 1e-12 });
  });
});

test('conv2d: values with two input channels, two groups and depthwise', () => {
  t.scope(() => {
    // Channel 0 is 1..9, channel 1 is all ones; kernel 1×1.
    const x = f64([1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 2, 3, 3]);
    // Full conv: out = 2·c0 + 10·c1.
    assertClose(t.nn.conv2d(x, f64([2, 10], [1, 2, 1, 1])), [12, 14, 16, 18, 20, 22, 24, 26, 28], { atol: 1e-12 });
    // Depthwise: out0 = 2·c0, out1 = −3·c1.
    const dw = t.nn.conv2d(x, f64([2, -3], [2, 1, 1, 1]), null, { groups: 2 });
    assertClose(dw, [2, 4, 6, 8, 10, 12, 14, 16, 18, -3, -3, -3, -3, -3, -3, -3, -3, -3], { atol: 1e-12 });
  });
});

test('convTranspose2d: values of a stride-2 transposed convolution', () => {
  t.scope(() => {
    const x = f64([1, 2, 3, 4], [1, 1, 2, 2]);
    const w = f64([1, 0, 0, 1], [1, 1, 2, 2]);
    // Each input pixel stamps x·w into its own 2×2 block.
    const y = t.nn.convTranspose2d(x, w, null, { stride: 2 });
    assert.deepEqual(y.shape, [1, 1, 4, 4]);
    assertClose(y, [1, 0, 2, 0, 0, 1, 0, 2, 3, 0, 4, 0, 0, 3, 0, 4], { atol: 1e-12 });
    // Padding 1 crops one pixel each side; outputPadding 1 adds one row and column at the end:
    // (2 − 1)·2 − 2·1 + 2 + 1 = 3.
    const z = t.nn.convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 });
    assert.deepEqual(z.shape, [1, 1, 3, 3]);
    // That is rows/cols 1..3 of the 4×4 result above extended by a zero row and column.
    assertClose(z, [1, 0, 2, 0, 4, 0, 3, 0, 4], { atol: 1e-12 });
  });
});

test('interpolate: bilinear values (alignCorners false and true), nearest and area', () => {
  t.scope(() => {
    // x[p][q] = 2p + q is bilinear in the coordinates, so the output is 2·pos(i) + pos(j).
    const x = f64([0, 1, 2, 3], [1, 1, 2, 2]);
    const expectFrom = (pos: number[]) => pos.flatMap((r) => pos.map((c) => 2 * r + c));
    // alignCorners false: src = max(0, (dst + 0.5)/2 − 0.5), clamped to the last pixel: 0, 0.25, 0.75, 1.
    assertClose(t.nn.interpolate(x, { size: 4, mode: 'bilinear' }), expectFrom([0, 0.25, 0.75, 1]), { atol: 1e-12 });
    assertClose(t.nn.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }), expectFrom([0, 0.25, 0.75, 1]), { atol: 1e-12 });
    // alignCorners true: src = dst·(in − 1)/(out − 1) = dst/3.
    assertClose(t.nn.interpolate(x, { size: 4, mode: 'bilinear', alignCorners: true }), expectFrom([0, 1 / 3, 2 / 3, 1]), {
      atol: 1e-12,
    });
    // A non-linear image: x = [[1, 5], [3, 0]] to 3×3 with alignCorners true (centre = mean of the four).
    const y = t.nn.interpolate(f64([1, 5, 3, 0], [1, 1, 2, 2]), { size: 3, mode: 'bilinear', alignCorners: true });
    assertClose(y, [1, 3, 5, 2, 2.25, 2.5, 3, 1.5, 0], { atol: 1e-12 });
    // Nearest: src = floor(dst · in/out).
    assertClose(t.nn.interpolate(f64([1, 2, 3, 4], [1, 1, 2, 2]), { size: [2, 4] }), [1, 1, 2, 2, 3, 3, 4, 4], { atol: 0 });
    // Area 4×4 → 2×2: block means of 0..15.
    const a = t.nn.interpolate(t.arange(0, 16, 1, { dtype: 'float64' }).reshape([1, 1, 4, 4]), { size: 2, mode: 'area' });
    assertClose(a, [2.5, 4.5, 10.5, 12.5], { atol: 1e-12 });
  });
});

test('pooling and gridSample: forward values', () => {
  t.scope(() => {
    const x = t.arange(0, 16, 1, { dtype: 'float64' }).reshape([1, 1, 4, 4]);
    assertClose(t.nn.avgPool2d(x, 2), [2.5, 4.5, 10.5, 12.5], { atol: 1e-12 });
    assertClose(t.nn.maxPool2d(x, 2), [5, 7, 13, 15], { atol: 0 });
    // The identity affine grid (alignCorners false) samples pixel centres exactly.
    const img = t.scope(() => t.randn([1, 2, 3, 4], { dtype: 'float64' }));
    const theta = f64([1, 0, 0, 0, 1, 0], [1, 2, 3]);
    const grid = t.nn.affineGrid(theta, [1, 2, 3, 4]);
    assertClose(t.nn.gridSample(img, grid), img, { atol: 1e-12 });
    // (0, 0) in a 4-wide, 3-high image is pixel (x 1.5, y 1): halfway between columns 1 and 2 of row 1.
    const g = f64([0, 0], [1, 1, 1, 2]);
    const v = img.toArray();
    assertClose(
      t.nn.gridSample(img, g),
      [0, 1].map((c) => (v[c * 12 + 4 + 1] + v[c * 12 + 4 + 2]) / 2),
      { atol: 1e-12 },
    );
  });
});

test('every test released its tensors', () => {
  assert.equal(t.memory().liveTensors, liveAtStart);
  assert.equal(t.memory().freedByGc, 0);
});
