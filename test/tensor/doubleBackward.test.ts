// SPDX-License-Identifier: MIT
// Second-order gradient checks (gradgradcheck, float64) for the ops the R1 penalty differentiates twice, an R1
// check on a small conv net against finite differences, and the gridSample grid-path limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { gradgradcheck } from '../helpers/gradcheck.js';
import { caseChecker, normals, leaf, uniform, avoid } from '../helpers/gradCases.js';

const liveAtStart = t.memory().liveTensors;

const check = caseChecker(4000, gradgradcheck);

const SQRT2 = Math.SQRT2;
const lrelu = (x: t.Tensor) => x.leakyRelu(0.2).mul(SQRT2);

// ---- conv2d ----------------------------------------------------------------------------------------------------------

check('conv2d plain: second order (bilinear in x and w)', () => ({
  fn: (x, w, b) => t.nn.conv2d(x, w, b),
  inputs: [leaf([1, 2, 4, 4]), leaf([2, 2, 3, 3]), leaf([2])],
}));
check('conv2d plain, padding 1, then tanh: second order', () => ({
  fn: (x, w, b) => t.nn.conv2d(x, w, b, { padding: 1 }).tanh(),
  inputs: [leaf([1, 2, 4, 4]), leaf([2, 2, 3, 3]), leaf([2])],
}));
check('conv2d stride 2, padding 1, then square: second order', () => ({
  fn: (x, w, b) => t.nn.conv2d(x, w, b, { stride: 2, padding: 1 }).square(),
  inputs: [leaf([1, 2, 5, 5]), leaf([2, 2, 3, 3]), leaf([2])],
}));
check('conv2d depthwise (groups = channels), then square: second order', () => ({
  fn: (x, w, b) => t.nn.conv2d(x, w, b, { groups: 3, padding: 1 }).square(),
  inputs: [leaf([1, 3, 4, 4]), leaf([3, 1, 3, 3]), leaf([3])],
}));

// ---- pointwise -------------------------------------------------------------------------------------------------------

check('leakyRelu(0.2)·√2 then square: second order', () => ({
  fn: (x) => lrelu(x).square(),
  inputs: [leaf([3, 4], (v) => avoid(v, [0]))],
}));
check('leakyRelu(0.2)·√2 between two linear maps (R1 pattern): second order', () => ({
  // ∂/∂x depends on w only through the leakyRelu mask, which the double backward must apply.
  fn: (x, w1, w2) => t.nn.linear(lrelu(t.nn.linear(x, w1)), w2),
  inputs: [leaf([2, 3]), leaf([4, 3]), leaf([2, 4])],
}));
check('clamp inside its range (some elements outside), then times x: second order', () => ({
  fn: (x) => x.clamp(-1, 1).mul(x).sin(),
  inputs: [leaf([3, 4], (v) => avoid(1.3 * v, [-1, 1]))],
}));
check('clamp inside its range, times a weight: second order', () => ({
  fn: (x, w) => x.clamp(-2, 2).mul(w).tanh(),
  inputs: [leaf([2, 3], (v) => avoid(v, [-2, 2])), leaf([3])],
}));

// ---- minibatch standard deviation (mean / var / sqrt) ----------------------------------------------------------------------

check('minibatch-std: x − mean, square, mean, +1e-8, sqrt, mean: second order', () => ({
  fn: (x) => x.sub(x.mean(0, true)).square().mean(0).add(1e-8).sqrt().mean(),
  inputs: [leaf([4, 2, 3])],
}));
check('minibatch-std with var(unbiased false) and a group reshape: second order', () => ({
  fn: (x) => x.reshape([2, 2, 3]).var(0, false, { unbiased: false }).add(1e-8).sqrt().mean([1], true).mul(x.sum()),
  inputs: [leaf([4, 3])],
}));
check('std (unbiased) and mean: second order', () => ({
  fn: (x) => x.std(0).mul(x.mean(1).sum()),
  inputs: [leaf([3, 4])],
}));

// ---- matmul / linear ------------------------------------------------------------------------------------------------------

check('matmul 2-D: second order', () => ({ fn: (a, b) => a.matmul(b), inputs: [leaf([3, 4]), leaf([4, 2])] }));
check('matmul batched, then tanh: second order', () => ({
  fn: (a, b) => a.matmul(b).tanh(),
  inputs: [leaf([2, 2, 3]), leaf([2, 3, 2])],
}));
check('linear with bias, then softplus: second order', () => ({
  fn: (x, w, b) => t.nn.linear(x, w, b).softplus(),
  inputs: [leaf([2, 3]), leaf([4, 3]), leaf([4])],
}));

// ---- pad ----------------------------------------------------------------------------------------------------------------

check('pad constant, then conv2d: second order', () => ({
  fn: (x, w) => t.nn.conv2d(t.nn.pad(x, [1, 1, 1, 1], { value: 0.5 }), w).square(),
  inputs: [leaf([1, 1, 3, 3]), leaf([2, 1, 3, 3])],
}));
check('pad reflect, then conv2d: second order', () => ({
  fn: (x, w) => t.nn.conv2d(t.nn.pad(x, [1, 1, 1, 1], { mode: 'reflect' }), w).square(),
  inputs: [leaf([1, 1, 3, 3]), leaf([2, 1, 3, 3])],
}));
check('pad reflect then square: second order (pure pad path)', () => ({
  fn: (x) => t.nn.pad(x, [2, 1, 1, 2], { mode: 'reflect' }).square(),
  inputs: [leaf([1, 2, 3, 3])],
}));

// ---- gridSample w.r.t. its input -------------------------------------------------------------------------------------------

check('gridSample (bilinear, zeros) w.r.t. input, then square: second order', () => {
  const grid = uniform([1, 3, 3, 2], -1.1, 1.1, false);
  return { fn: (x) => t.nn.gridSample(x, grid).square(), inputs: [leaf([1, 2, 4, 4])] };
});
check('conv2d → gridSample (bilinear, zeros) → leakyRelu: second order w.r.t. input and weight', () => {
  const grid = uniform([1, 3, 3, 2], -1, 1, false);
  return {
    fn: (x, w) => lrelu(t.nn.gridSample(t.nn.conv2d(x, w, null, { padding: 1 }), grid)).square(),
    inputs: [leaf([1, 1, 4, 4]), leaf([2, 1, 3, 3])],
  };
});
test('gridSample: input-gradient built with createGraph while the grid also requires grad', () => {
  t.scope(() => {
    t.manualSeed(4100);
    // The usual R1 case: only the image is differentiated twice; the grid requiring grad must not get in the way.
    const grid = uniform([1, 3, 3, 2], -1.1, 1.1);
    const x = leaf([1, 2, 4, 4]);
    gradgradcheck((xx) => t.nn.gridSample(xx, grid).square(), [x]);
  });
});

// ---- R1 on a small conv net ------------------------------------------------------------------------------------------------

test('R1 on a conv net: gradient of Σ(∂D/∂x)² w.r.t. every weight matches finite differences', () => {
  t.scope(() => {
    t.manualSeed(4200);
    // D: conv 3×3 (pad 1) → leakyRelu(0.2)·√2 → conv 3×3 stride 2 (pad 1) → flatten → linear → scalar per sample.
    const params = {
      w1: leaf([3, 2, 3, 3], (v) => 0.4 * v),
      b1: leaf([3], (v) => 0.1 * v),
      w2: leaf([2, 3, 3, 3], (v) => 0.4 * v),
      b2: leaf([2], (v) => 0.1 * v),
      wl: leaf([1, 8], (v) => 0.5 * v),
      bl: leaf([1], (v) => 0.1 * v),
    };
    const names = Object.keys(params) as (keyof typeof params)[];
    const images = t.tensor(normals(2 * 2 * 4 * 4), { dtype: 'float64', shape: [2, 2, 4, 4] });
    const D = (x: t.Tensor) => {
      const h1 = lrelu(t.nn.conv2d(x, params.w1, params.b1, { padding: 1 }));
      const h2 = lrelu(t.nn.conv2d(h1, params.w2, params.b2, { stride: 2, padding: 1 }));
      return t.nn.linear(h2.flatten(1), params.wl, params.bl);
    };
    const r1 = (): t.Tensor => {
      const x = images.detach().requiresGrad_(true);
      const [gx] = t.grad([D(x).sum()], [x], { createGraph: true });
      return gx!.square().sum();
    };

    // Analytic: backprop R1 into the weights' .grad (double backward through conv, leakyRelu, linear).
    const r = r1();
    assert.ok(r.requiresGrad, 'R1 must be differentiable w.r.t. the weights');
    r.backward();
    // The last bias does not reach ∂D/∂x at all (its .grad stays null); count that as zeros.
    const gradOf = (p: t.Tensor) => p.grad?.toArray() ?? new Array<number>(p.numel).fill(0);
    const analytic = Object.fromEntries(names.map((n) => [n, gradOf(params[n])]));
    assert.equal(params.bl.grad, null, 'R1 does not depend on the last bias');
    // The same through grad() instead of .backward().
    const viaGrad = t.grad(
      [r1()],
      names.map((n) => params[n]),
      { allowUnused: true },
    );
    names.forEach((n, k) => {
      const g = viaGrad[k]?.toArray() ?? new Array<number>(params[n].numel).fill(0);
      g.forEach((v, i) => assert.ok(Math.abs(v - analytic[n][i]) <= 1e-12 * (1 + Math.abs(v)), `${n}[${i}]: grad() vs backward()`));
    });

    // Numeric: central differences of R1 in each weight element.
    const eps = 1e-6;
    let checked = 0;
    for (const n of names) {
      const p = params[n];
      const values = p.toArray();
      const set = (vals: number[]) => t.noGrad(() => t.scope(() => p.copy_(t.tensor(vals, { dtype: 'float64', shape: p.shape }))));
      for (let i = 0; i < values.length; i++) {
        const at = (d: number) => {
          const moved = values.slice();
          moved[i] += d;
          set(moved);
          return t.scope(() => r1().item());
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        set(values);
        const a = analytic[n][i];
        assert.ok(Math.abs(a - numeric) <= 1e-5 + 1e-3 * Math.abs(numeric), `R1 grad ${n}[${i}]: analytic ${a} vs numeric ${numeric}`);
        checked++;
      }
    }
    assert.equal(checked, 54 + 3 + 54 + 2 + 8 + 1);
    // R1 is not trivially zero w.r.t. any weight (the biases only move the leakyRelu kinks: zero a.e.).
    for (const n of ['w1', 'w2', 'wl'] as const)
      assert.ok(
        analytic[n].some((v) => Math.abs(v) > 1e-8),
        `R1 grad of ${n} is all zero`,
      );
    for (const n of names) params[n].grad = null;
  });
});

test('R1 on the conv net: gradgradcheck through input and weights together', () => {
  t.scope(() => {
    t.manualSeed(4201);
    const x = leaf([1, 1, 4, 4]);
    const w1 = leaf([2, 1, 3, 3], (v) => 0.5 * v);
    const w2 = leaf([2, 2, 3, 3], (v) => 0.5 * v);
    const wl = leaf([1, 8], (v) => 0.5 * v);
    gradgradcheck(
      (xx, a, b, c) =>
        t.nn.linear(lrelu(t.nn.conv2d(lrelu(t.nn.conv2d(xx, a, null, { padding: 1 })), b, null, { stride: 2, padding: 1 })).flatten(1), c),
      [x, w1, w2, wl],
    );
  });
});

// ---- gridSample: the grid path is first-order only ------------------------------------------------------------------------

test('gridSample: a second-order gradient through the grid-gradient path throws ERR_TORCH_NOT_IMPLEMENTED', () => {
  t.scope(() => {
    t.manualSeed(4300);
    const x = leaf([1, 1, 3, 3]);
    const grid = uniform([1, 2, 2, 2], -0.8, 0.8);
    const y = t.nn.gridSample(x, grid);
    const [, gGrid] = t.grad([y.square().sum()], [x, grid], { createGraph: true });
    assert.ok(gGrid !== null && gGrid.requiresGrad);
    assert.throws(
      () => t.grad([gGrid!.square().sum()], [grid]),
      (e: unknown) => e instanceof t.TensorError && (e as t.TensorError).code === 'ERR_TORCH_NOT_IMPLEMENTED',
    );
    assert.throws(
      () => t.grad([gGrid!.sum()], [x], { allowUnused: true }),
      (e: unknown) => e instanceof t.TensorError && (e as t.TensorError).code === 'ERR_TORCH_NOT_IMPLEMENTED',
    );
  });
});

// The R1-style second derivative w.r.t. the grid (through the input-gradient) is not implemented: it must throw
// rather than silently drop the term.
test('gridSample: ∂/∂grid of Σ(∂L/∂x)² is correct or throws ERR_TORCH_NOT_IMPLEMENTED', () => {
  t.scope(() => {
    t.manualSeed(4301);
    const x = leaf([1, 1, 3, 3]);
    const grid = uniform([1, 2, 2, 2], -0.8, 0.8);
    const r1 = (g: t.Tensor) => {
      const [gx] = t.grad([t.nn.gridSample(x, g).square().sum()], [x], { createGraph: true });
      return gx!.square().sum();
    };
    let analytic: number[];
    try {
      analytic = t.grad([r1(grid)], [x, grid])[1]!.toArray();
    } catch (e) {
      assert.ok(e instanceof t.TensorError && e.code === 'ERR_TORCH_NOT_IMPLEMENTED', `unexpected error: ${String(e)}`);
      return;
    }
    const values = grid.toArray();
    const eps = 1e-6;
    values.forEach((v, i) => {
      const at = (d: number) =>
        t.scope(() => {
          const moved = values.slice();
          moved[i] = v + d;
          return r1(t.tensor(moved, { dtype: 'float64', shape: grid.shape })).item();
        });
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      assert.ok(
        Math.abs(analytic[i] - numeric) <= 1e-5 + 1e-3 * Math.abs(numeric),
        `grid[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`,
      );
    });
  });
});

test('every test released its tensors', () => {
  assert.equal(t.memory().liveTensors, liveAtStart);
  assert.equal(t.memory().freedByGc, 0);
});
