// SPDX-License-Identifier: MIT
// hardtanh: clamp's values, finite-difference gradients (first and second order, as R1 through D needs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { assertClose } from '../helpers/assertClose.js';
import { gradcheck, gradgradcheck } from '../helpers/gradcheck.js';

test('hardtanh equals clamp in value and away from the bounds in gradient', () => {
  t.scope(() => {
    const x = t.tensor([-3, -1.5, -0.2, 0, 0.7, 1.5, 4], { dtype: 'float64', requiresGrad: true });
    const a = x.hardtanh(-1, 1);
    assert.deepEqual(a.toArray(), [-1, -1, -0.2, 0, 0.7, 1, 1]);
    assertClose(a, x.clamp(-1, 1));
    const [g] = t.grad([a.mul(t.tensor([1, 2, 3, 4, 5, 6, 7], { dtype: 'float64' })).sum()], [x]);
    assert.deepEqual(g!.toArray(), [0, 0, 3, 4, 5, 0, 0]);
    assert.throws(() => x.hardtanh(1, -1), t.ArgumentError);
  });
});

test('hardtanh gradients and double backward against finite differences', () => {
  t.scope(() => {
    // Products x·w stay at least 0.1 away from the kinks at ±0.5, so central differences are valid.
    const x = t.tensor([0.1, -0.2, 0.3, -0.35, 0.8, -0.9, 1.2, -1.5, 0.05, -2, 0.25, 3], { dtype: 'float64', requiresGrad: true });
    const w = t.tensor([1.1, 0.9, 1.05, 0.95, 1, 1.2, 0.8, 1.1, -1, 0.9, -1.2, -0.7], { dtype: 'float64', requiresGrad: true });
    gradcheck((a, b) => a.mul(b).hardtanh(-0.5, 0.5).square(), [x, w]);
    gradgradcheck((a, b) => a.mul(b).hardtanh(-0.5, 0.5).square(), [x, w]);
  });
});
