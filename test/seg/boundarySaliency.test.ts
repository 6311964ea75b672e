// SPDX-License-Identifier: MIT
// The boundary saliency (minimum barrier distance to the frame) and its use as a prior in the colour refinement.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { boundarySaliency } from '../../src/seg/boundarySaliency.js';
import { refineByColour } from '../../src/seg/colourRefine.js';

/** One grey CHW photo (the same value in R, G and B) from an S×S value function. */
function grey(S: number, value: (x: number, y: number) => number): Uint8Array {
  const px = new Uint8Array(3 * S * S);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const v = value(x, y);
      for (let c = 0; c < 3; c++) px[c * S * S + y * S + x] = v;
    }
  return px;
}

/** A deterministic pseudo-random stream in [0, 1). */
function stream(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

describe('boundary saliency', () => {
  test('the exact minimum barrier on a small photo: a ring walls in its centre, whatever the centre’s colour', () => {
    // 7×7: background 10, a ring of 100 at Chebyshev distance 2 from the centre, inside it 10 again.
    const S = 7;
    const px = grey(S, (x, y) => (Math.max(Math.abs(x - 3), Math.abs(y - 3)) === 2 ? 100 : 10));
    const sal = boundarySaliency(px, 1, S, { space: 'rgb' });
    // Every path from the centre to the frame climbs from 10 to 100: barrier 90, as the ring itself (10 → 100).
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const d = Math.max(Math.abs(x - 3), Math.abs(y - 3));
        assert.equal(sal[y * S + x], d === 3 ? 0 : 1, `(${x}, ${y})`);
      }
  });

  test('a textured background that reaches the frame scores below a plain object walled off from it', () => {
    // Pixel noise (60–120) everywhere except a flat disc of a colour the noise never takes.
    const S = 32;
    const r = stream(3);
    const inDisc = (x: number, y: number) => Math.hypot(x - 16, y - 15) < 7;
    const px = grey(S, (x, y) => (inDisc(x, y) ? 230 : Math.round(60 + 60 * r())));
    for (const space of ['rgb', 'lab'] as const) {
      const sal = boundarySaliency(px, 1, S, { space });
      let inside = Infinity;
      let outside = 0;
      for (let y = 1; y < S - 1; y++)
        for (let x = 1; x < S - 1; x++) {
          const v = sal[y * S + x]!;
          if (inDisc(x, y)) inside = Math.min(inside, v);
          else outside = Math.max(outside, v);
        }
      assert.ok(inside > outside, `${space}: the disc's lowest ${inside.toFixed(3)} above the noise's highest ${outside.toFixed(3)}`);
    }
  });

  test('several photos are independent; a flat photo is 0 everywhere (no NaN); values lie in [0, 1]', () => {
    const S = 16;
    const a = grey(S, (x, y) => (x > 4 && x < 11 && y > 4 && y < 11 ? 200 : 30));
    const flat = grey(S, () => 77);
    const both = new Uint8Array([...a, ...flat]);
    const sal = boundarySaliency(both, 2, S);
    assert.deepEqual(sal.subarray(0, S * S), boundarySaliency(a, 1, S));
    assert.ok(sal.subarray(S * S).every((v) => v === 0));
    assert.ok(sal.every((v) => v >= 0 && v <= 1));
  });

  test('the wrong byte count is refused', () => {
    assert.throws(() => boundarySaliency(new Uint8Array(3 * 16 * 16), 2, 16), /boundarySaliency: 768 bytes, expected 1536/);
  });
});

describe('the saliency prior in the colour refinement', () => {
  // A bright disc on a dark, textured background, both spanning colours the other also has a little of; the
  // segmenter's prior is the disc's mirror image on the wrong side, blurred, so the colours alone are misled.
  const S = 32;
  const r = stream(9);
  const inDisc = (x: number, y: number) => Math.hypot(x - 11, y - 16) < 6;
  const px = grey(S, (x, y) => (inDisc(x, y) ? 200 + Math.round(20 * r()) : Math.round(40 + 80 * r())));
  const prior = new Float32Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) prior[y * S + x] = 1 / (1 + Math.exp(-(6 - Math.hypot(x - 21, y - 16)) / 2));
  const iou = (p: Float32Array) => {
    let inter = 0;
    let union = 0;
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const a = p[y * S + x]! > 0.5;
        const b = inDisc(x, y);
        inter += a && b ? 1 : 0;
        union += a || b ? 1 : 0;
      }
    return inter / union;
  };

  test('weight 0 (or absent) is the refinement as before, bit for bit', () => {
    const o = { strength: 2, pairwise: 2 };
    assert.deepEqual(
      refineByColour(Float32Array.from(prior), px, 1, S, { ...o, saliency: 0 }),
      refineByColour(Float32Array.from(prior), px, 1, S, o),
    );
  });

  test('with weight 16 the walled-off disc wins over a wrong prior; without it the prior stays wrong', () => {
    const o = { strength: 2, pairwise: 2 };
    const without = iou(refineByColour(Float32Array.from(prior), px, 1, S, o));
    const withSal = iou(refineByColour(Float32Array.from(prior), px, 1, S, { ...o, saliency: 16 }));
    assert.ok(without < 0.3, `without: IoU ${without.toFixed(3)}`);
    assert.ok(withSal > 0.8, `with: IoU ${withSal.toFixed(3)}`);
  });
});
