// SPDX-License-Identifier: MIT
// Segmentation metrics (spec §10.5) on hand-made masks against hand-computed values: empty cases, all-foreground,
// inverted predictions for the best-of-{fg, bg} variant, and a brute-force cross-check on random masks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SegMetrics, confusion, imageDice, imageIoU, preferInverted } from '../../src/eval/segMetrics.js';
import { ShapeError } from '../../src/tensor/errors.js';
import { assertClose } from '../helpers/assertClose.js';

const close = (actual: number | null, expected: number, message: string) => {
  assert.notEqual(actual, null, `${message} is null`);
  assertClose(actual!, expected, { rtol: 0, atol: 1e-12, message });
};

describe('per-image counts', () => {
  test('confusion, IoU and DICE of a 2×2 pair', () => {
    const c = confusion([1, 1, 0, 0], [1, 0, 1, 0]);
    assert.deepEqual(c, { tp: 1, fp: 1, fn: 1, tn: 1 });
    assert.equal(imageIoU(c), 1 / 3);
    assert.equal(imageDice(c), 0.5);
  });

  test('both empty is undefined (null), one side empty is 0', () => {
    assert.equal(imageIoU(confusion([0, 0], [0, 0])), null);
    assert.equal(imageDice(confusion([0, 0], [0, 0])), null);
    assert.equal(imageIoU(confusion([0, 0], [1, 0])), 0);
    assert.equal(imageDice(confusion([1, 0], [0, 0])), 0);
  });

  test('any nonzero value or true is foreground', () => {
    assert.deepEqual(confusion(new Uint8Array([255, 1, 0, 0]), [true, false, true, false]), { tp: 1, fp: 1, fn: 1, tn: 1 });
  });

  test('masks of different lengths are a ShapeError', () => {
    assert.throws(() => new SegMetrics().add([1, 0, 0], [1, 0]), ShapeError);
  });

  test('best of fg/bg: higher IoU, then higher accuracy, then as predicted', () => {
    assert.equal(preferInverted(confusion([0, 0, 0, 0], [1, 1, 0, 0])), true); // IoU 0 vs 0.5
    assert.equal(preferInverted(confusion([1, 1, 0, 0], [1, 0, 1, 0])), false); // 1/3 vs 1/3, accuracy 2 vs 2
    assert.equal(preferInverted(confusion([1, 0, 0, 0], [0, 0, 0, 0])), false); // 0 vs 0, accuracy 3 vs 1
    assert.equal(preferInverted(confusion([0, 0, 0, 0], [0, 0, 0, 0])), false); // both empty (1) vs 0
    assert.equal(preferInverted(confusion([1, 1, 1, 1], [0, 0, 0, 0])), true); // 0 vs both empty (1)
  });
});

describe('SegMetrics over a test set', () => {
  test('four images: overlap, both empty, prediction empty, ground truth empty', () => {
    const m = new SegMetrics();
    m.add([1, 1, 0, 0], [1, 0, 1, 0]); // A: tp 1 fp 1 fn 1 tn 1 → IoU 1/3, DICE 1/2
    m.add([0, 0, 0, 0], [0, 0, 0, 0]); // B: both empty → left out of the DRC means, counted
    m.add([0, 0, 0, 0], [1, 1, 0, 0]); // C: fn 2 tn 2 → 0, 0 (inverse: tp 2 fp 2 → IoU 1/2, DICE 2/3)
    m.add([1, 0, 0, 0], [0, 0, 0, 0]); // D: fp 1 tn 3 → 0, 0 (inverse also IoU 0; fewer errors as predicted)
    const r = m.result();
    assert.equal(r.images, 4);
    assert.equal(r.pixels, 16);
    assert.equal(r.both_empty, 1);
    close(r.DRC_IoU, (1 / 3 + 0 + 0) / 3, 'DRC_IoU');
    close(r.DRC_DICE, (1 / 2 + 0 + 0) / 3, 'DRC_DICE');
    // Pooled: tp 1, fp 2, fn 3, tn 10.
    close(r.IoU, 1 / 6, 'IoU');
    close(r.mIoU, (1 / 6 + 10 / 15) / 2, 'mIoU');
    close(r.pACC, 11 / 16, 'pACC');
    // Best of fg/bg: C inverted (tp 2 fp 2 fn 0 tn 0); pooled tp 3, fp 4, fn 1, tn 8.
    assert.equal(r.inverted_best, 1);
    assert.equal(r.both_empty_best, 1);
    close(r.DRC_IoU_best, (1 / 3 + 1 / 2 + 0) / 3, 'DRC_IoU_best');
    close(r.DRC_DICE_best, (1 / 2 + 2 / 3 + 0) / 3, 'DRC_DICE_best');
    close(r.IoU_best, 3 / 8, 'IoU_best');
    close(r.mIoU_best, (3 / 8 + 8 / 13) / 2, 'mIoU_best');
    close(r.pACC_best, 11 / 16, 'pACC_best');
  });

  test('all foreground everywhere: IoU 1, background IoU undefined so mIoU is null', () => {
    const m = new SegMetrics();
    m.add([1, 1, 1], [1, 1, 1]);
    const r = m.result();
    close(r.DRC_IoU, 1, 'DRC_IoU');
    close(r.DRC_DICE, 1, 'DRC_DICE');
    close(r.IoU, 1, 'IoU');
    assert.equal(r.mIoU, null);
    close(r.pACC, 1, 'pACC');
    assert.equal(r.inverted_best, 0);
  });

  test('an all-foreground prediction on a half-foreground mask', () => {
    const m = new SegMetrics();
    m.add([1, 1, 1, 1], [1, 1, 0, 0]); // tp 2 fp 2: IoU 1/2, DICE 2/3; bg IoU 0/2
    const r = m.result();
    close(r.DRC_IoU, 1 / 2, 'DRC_IoU');
    close(r.DRC_DICE, 2 / 3, 'DRC_DICE');
    close(r.mIoU, 1 / 4, 'mIoU');
    close(r.pACC, 1 / 2, 'pACC');
    assert.equal(r.inverted_best, 0, 'the inverse (all background) scores IoU 0');
  });

  test('a perfectly inverted prediction scores 0 as predicted and 1 as best of fg/bg', () => {
    const m = new SegMetrics();
    m.add([0, 0, 1, 1, 1], [1, 1, 0, 0, 0]);
    m.add([1, 0, 1, 1], [0, 1, 0, 0]);
    const r = m.result();
    close(r.DRC_IoU, 0, 'DRC_IoU');
    close(r.IoU, 0, 'IoU');
    close(r.mIoU, 0, 'mIoU');
    close(r.pACC, 0, 'pACC');
    assert.equal(r.inverted_best, 2);
    for (const k of ['DRC_IoU_best', 'DRC_DICE_best', 'IoU_best', 'mIoU_best', 'pACC_best'] as const) close(r[k], 1, k);
  });

  test('only empty images: DRC means and IoU undefined, both counted, accuracy 1', () => {
    const m = new SegMetrics();
    m.add([0, 0], [0, 0]);
    m.add([0, 0, 0], [0, 0, 0]);
    const r = m.result();
    assert.equal(r.both_empty, 2);
    assert.equal(r.DRC_IoU, null);
    assert.equal(r.DRC_DICE, null);
    assert.equal(r.IoU, null);
    assert.equal(r.mIoU, null);
    close(r.pACC, 1, 'pACC');
    assert.doesNotThrow(() => JSON.stringify(r));
  });

  test('no images: every metric null, counts 0', () => {
    const r = new SegMetrics().result();
    assert.equal(r.images, 0);
    assert.equal(r.DRC_IoU, null);
    assert.equal(r.pACC, null);
  });

  test('random masks agree with set-based formulas', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const m = new SegMetrics();
    let ious = 0;
    let dices = 0;
    let n = 0;
    let inter = 0;
    let union = 0;
    let bgInter = 0;
    let bgUnion = 0;
    let correct = 0;
    let total = 0;
    for (let img = 0; img < 20; img++) {
      const len = 5 + Math.floor(rand() * 60);
      const p = Array.from({ length: len }, () => (rand() < 0.4 ? 1 : 0));
      const g = Array.from({ length: len }, () => (rand() < 0.3 ? 1 : 0));
      m.add(p, g);
      const P = new Set(p.flatMap((v, i) => (v ? [i] : [])));
      const G = new Set(g.flatMap((v, i) => (v ? [i] : [])));
      const I = [...P].filter((i) => G.has(i)).length;
      const U = new Set([...P, ...G]).size;
      if (U > 0) {
        ious += I / U;
        dices += (2 * I) / (P.size + G.size);
        n++;
      }
      inter += I;
      union += U;
      bgInter += len - U;
      bgUnion += len - I;
      correct += len - (U - I);
      total += len;
    }
    const r = m.result();
    close(r.DRC_IoU, ious / n, 'DRC_IoU');
    close(r.DRC_DICE, dices / n, 'DRC_DICE');
    close(r.IoU, inter / union, 'IoU');
    close(r.mIoU, (inter / union + bgInter / bgUnion) / 2, 'mIoU');
    close(r.pACC, correct / total, 'pACC');
  });
});
