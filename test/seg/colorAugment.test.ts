// SPDX-License-Identifier: MIT
// The segmentation 'color' augmentation (spec §10.2): colour transforms only, so pixel geometry is untouched (a
// two-colour image stays two flat halves with a sharp edge); p = 0 is the identity; p = 1 changes every sample.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { AdaPipeline, colorOnly } from '../../src/train/augment/adaPipeline.js';
import { noLeak } from '../helpers/noLeak.js';

describe("segmentation 'color' augmentation", () => {
  test('no geometric resampling; every sample recoloured at p = 1; identity at p = 0', () => {
    t.manualSeed(0);
    const aug = new AdaPipeline(colorOnly);
    noLeak(() =>
      t.scope(() => {
        // [8, 3, 8, 8]: left half colour a, right half colour b, per sample.
        const a = t.rand([8, 3, 1, 1]).mul(2).sub(1);
        const b = t.rand([8, 3, 1, 1]).mul(2).sub(1);
        const left = t.arange(0, 8).lt(4).view([1, 1, 1, 8]).expand([8, 3, 8, 8]);
        const x = t.where(left, a.expand([8, 3, 8, 8]), b.expand([8, 3, 8, 8]));
        aug.p = 0;
        assert.equal(aug.forward(x).sub(x).abs().amax().item(), 0);
        aug.p = 1;
        const y = aug.forward(x);
        assert.deepEqual(y.shape, [8, 3, 8, 8]);
        const l = y.narrow(3, 0, 4);
        const r = y.narrow(3, 4, 4);
        // Each half is still flat (to float rounding): no blur across the edge, no shift.
        assert.ok(
          l
            .sub(l.narrow(3, 0, 1).narrow(2, 0, 1))
            .abs()
            .amax()
            .item() < 1e-5,
        );
        assert.ok(
          r
            .sub(r.narrow(3, 0, 1).narrow(2, 0, 1))
            .abs()
            .amax()
            .item() < 1e-5,
        );
        const changed = y.sub(x).abs().amax([1, 2, 3]).gt(1e-3).sum().item();
        assert.equal(changed, 8);
      }),
    );
    aug.dispose();
  });
});
