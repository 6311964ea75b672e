// SPDX-License-Identifier: MIT
// Mask terms: binarisation and size hinges (spec §7.4), including the optional upper hinge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { binarization, maskSize } from '../../src/train/loss/maskTerms.js';

const S = 8;

test('binarization and size hinges', () => {
  t.scope(() => {
    const half = t.full([1, 1, S, S], 0.5);
    assert.equal(binarization(half).item(), 0.5);
    assert.ok(Math.abs(maskSize(t.full([1, 1, S, S], 0.1), 0.25).item() - 0.15) < 1e-6);
    assert.ok(Math.abs(maskSize(t.full([1, 1, S, S], 0.8), 0.25, 0.5).item() - 0.3) < 1e-6);
  });
});
