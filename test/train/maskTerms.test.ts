// SPDX-License-Identifier: MIT
// Mask terms: binarisation and size hinges (spec §7.4), including the optional upper hinge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { binarization, maskBorder, maskDiversity, maskSize } from '../../src/train/loss/maskTerms.js';

const S = 8;

test('binarization and size hinges', () => {
  t.scope(() => {
    const half = t.full([1, 1, S, S], 0.5);
    assert.equal(binarization(half).item(), 0.5);
    assert.ok(Math.abs(maskSize(t.full([1, 1, S, S], 0.1), 0.25).item() - 0.15) < 1e-6);
    assert.ok(Math.abs(maskSize(t.full([1, 1, S, S], 0.8), 0.25, 0.5).item() - 0.3) < 1e-6);
  });
});

test('mask-diversity hinge (not in the paper): target for equal pairs, 0 once they differ enough', () => {
  t.scope(() => {
    const a = t.zeros([1, 1, S, S]);
    const b = t.ones([1, 1, S, S]);
    const quarter = t.cat([t.ones([1, 1, S / 4, S]), t.zeros([1, 1, (3 * S) / 4, S])], 2); // differs from a on 25 %
    // Pairs (0, 2) and (1, 3): equal, then completely different.
    assert.deepEqual(
      maskDiversity(t.cat([a, a, a, b], 0), 0.15)
        .toArray()
        .map((v) => Number(v.toFixed(6))),
      [0.15, 0],
    );
    assert.ok(Math.abs(maskDiversity(t.cat([a, quarter], 0), 0.3).item() - 0.05) < 1e-6);
  });
});

test('frame-border hinge (not in the paper): a full mask and a ground band pay, an object inside the frame does not', () => {
  t.scope(() => {
    const n = 32; // ring width 2: 1024 − 28² = 240 pixels
    const full = t.ones([1, 1, n, n]);
    const centre = t.cat(
      [
        t.zeros([1, 1, 8, n]),
        t.ones([1, 1, 16, n]).mul(t.cat([t.zeros([1, 1, 1, 8]), t.ones([1, 1, 1, 16]), t.zeros([1, 1, 1, 8])], 3)),
        t.zeros([1, 1, 8, n]),
      ],
      2,
    );
    const band = t.cat([t.zeros([1, 1, n - 4, n]), t.ones([1, 1, 4, n])], 2); // ring ∩ band: 2·32 + 2·4 = 72 → 0.3
    const got = maskBorder(t.cat([full, centre, band], 0), 0.2).toArray();
    assert.ok(Math.abs(got[0] - 0.8) < 1e-6, `full: ${got[0]}`);
    assert.equal(got[1], 0);
    assert.ok(Math.abs(got[2] - 0.1) < 1e-6, `band: ${got[2]}`);
  });
});

test("minimum-mask ramp (not in the paper): the paper's constant without it, linear between the ramp's ends with it", async () => {
  const { defaultTrainOptions, minMaskSizeAt } = await import('../../src/train/options.js');
  const o = { ...defaultTrainOptions };
  assert.equal(minMaskSizeAt(o, 1e9), 0.25);
  const ramp = { ...o, minMaskSizeEnd: 0.1, minMaskRampKimg: [10, 20] as [number, number] };
  assert.equal(minMaskSizeAt(ramp, 0), 0.25);
  assert.equal(minMaskSizeAt(ramp, 10_000), 0.25);
  assert.ok(Math.abs(minMaskSizeAt(ramp, 15_000) - 0.175) < 1e-12);
  assert.ok(Math.abs(minMaskSizeAt(ramp, 20_000) - 0.1) < 1e-12);
  assert.ok(Math.abs(minMaskSizeAt(ramp, 1e9) - 0.1) < 1e-12);
  // Only the end given: the default span, 15 to 30 kimg. A span of zero length is a step.
  const end = { ...o, minMaskSizeEnd: 0.15 };
  assert.equal(minMaskSizeAt(end, 15_000), 0.25);
  assert.ok(Math.abs(minMaskSizeAt(end, 22_500) - 0.2) < 1e-12);
  assert.equal(minMaskSizeAt(end, 30_000), 0.15);
  const step = { ...o, minMaskSizeEnd: 0.15, minMaskRampKimg: [20, 20] as [number, number] };
  assert.equal(minMaskSizeAt(step, 19_999), 0.25);
  assert.equal(minMaskSizeAt(step, 20_000), 0.15);
});
