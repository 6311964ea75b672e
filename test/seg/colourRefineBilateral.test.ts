// SPDX-License-Identifier: MIT
// The colour step's bilateral term (colourRefine.ts `bilateral`): with the colour histograms off (strength 0), it moves
// a misplaced edge of the segmenter's guess onto the photo's colour edge and stops there, fills scattered holes where
// the photo says nothing, one sweep equals the sum written out pixel by pixel, and mirrored inputs give the mirrored
// output.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refineByColour } from '../../src/seg/colourRefine.js';

const S = 24;
const plane = S * S;
const mask = (p: Float32Array) => Array.from(p, (v) => (v > 0.5 ? 1 : 0));

/** A photo whose left `edge` columns are one colour and the rest another. */
function twoColours(edge: number): Uint8Array {
  const px = new Uint8Array(3 * plane);
  for (let k = 0; k < plane; k++) {
    const left = k % S < edge;
    px[k] = left ? 200 : 40;
    px[plane + k] = 90;
    px[2 * plane + k] = left ? 40 : 200;
  }
  return px;
}

describe('refineByColour: the bilateral term', () => {
  test('a guess whose edge is 3 pixels off the colour edge moves onto it', () => {
    const px = twoColours(12);
    const guess = Float32Array.from({ length: plane }, (_, k) => (k % S < 15 ? 0.6 : 0.4));
    const o = { strength: 0, rounds: 1, meanField: 10 };
    const without = mask(refineByColour(Float32Array.from(guess), px, 1, S, o));
    const withTerm = mask(refineByColour(Float32Array.from(guess), px, 1, S, { ...o, bilateral: 3, bilateralSpatial: 4 }));
    const truth = Array.from({ length: plane }, (_, k) => (k % S < 12 ? 1 : 0));
    assert.notDeepEqual(without, truth, 'without the term the guess stands');
    assert.deepEqual(withTerm, truth);
  });

  test('scattered holes in a confident region are filled where colours carry no evidence', () => {
    const px = new Uint8Array(3 * plane).fill(128);
    const guess = new Float32Array(plane);
    let holes = 0;
    for (let k = 0; k < plane; k++) {
      const inside = Math.hypot((k % S) - 11.5, Math.floor(k / S) - 11.5) < 7;
      const hole = inside && k % 7 === 3;
      holes += hole ? 1 : 0;
      guess[k] = inside ? (hole ? 0.35 : 0.9) : 0.1;
    }
    const out = refineByColour(Float32Array.from(guess), px, 1, S, { strength: 0, rounds: 1, bilateral: 3, bilateralSpatial: 3 });
    assert.ok(holes > 10);
    for (let k = 0; k < plane; k++) if (guess[k] === 0.35) assert.ok(out[k]! > 0.5, `hole ${k}: ${out[k]}`);
    for (let k = 0; k < plane; k++) if (guess[k] === 0.1) assert.ok(out[k]! < 0.5, `background ${k}: ${out[k]}`);
  });

  test('one mean-field sweep is the normalised bilateral average of 2p − 1, computed pixel by pixel', () => {
    const px = Uint8Array.from({ length: 3 * plane }, (_, i) => (i * 97 + (i >> 5) * 31) % 256);
    const guess = Float32Array.from({ length: plane }, (_, k) => 0.05 + 0.9 * (((k * 29) % 23) / 23));
    const [w, theta, thetaRgb] = [1.5, 2.5, 40];
    const out = refineByColour(Float32Array.from(guess), px, 1, S, {
      strength: 0,
      rounds: 1,
      meanField: 1,
      bilateral: w,
      bilateralSpatial: theta,
      bilateralColour: thetaRgb,
    });
    const r = Math.ceil(2 * theta);
    for (const k of [0, 5, S + 1, 200, 301, plane - 1]) {
      const [x, y] = [k % S, Math.floor(k / S)];
      let num = 0;
      let den = 1e-6;
      for (let yy = 0; yy < S; yy++) {
        for (let xx = 0; xx < S; xx++) {
          const d2 = (xx - x) ** 2 + (yy - y) ** 2;
          if (d2 === 0 || d2 > r * r) continue;
          const j = yy * S + xx;
          let c2 = 0;
          for (let c = 0; c < 3; c++) c2 += (px[c * plane + k]! - px[c * plane + j]!) ** 2;
          const kk = Math.exp(-d2 / (2 * theta * theta) - c2 / (2 * thetaRgb * thetaRgb));
          num += kk * (2 * guess[j]! - 1);
          den += kk;
        }
      }
      const want = 1 / (1 + Math.exp(-(Math.log(guess[k]! / (1 - guess[k]!)) + (w * num) / den)));
      assert.ok(Math.abs(out[k]! - want) < 1e-4, `pixel ${k}: ${out[k]} against ${want}`);
    }
  });

  test('mirroring the photo and the guess mirrors the result', () => {
    const px = twoColours(9);
    for (let k = 0; k < plane; k++) px[plane + k] = (k * 37) % 256; // texture in green
    const guess = Float32Array.from({ length: plane }, (_, k) => 0.2 + 0.6 * (((k * 13) % 17) / 17));
    const mirror = <T extends Uint8Array | Float32Array>(a: T, planes: number): T => {
      const out = a.slice() as T;
      for (let c = 0; c < planes; c++)
        for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[c * plane + y * S + x] = a[c * plane + y * S + (S - 1 - x)]!;
      return out;
    };
    const o = { levels: 8, strength: 2, rounds: 2, pairwise: 2, bilateral: 2, bilateralSpatial: 3 };
    const a = refineByColour(Float32Array.from(guess), px, 1, S, o);
    const b = refineByColour(mirror(guess, 1), mirror(px, 3), 1, S, o);
    const mb = mirror(b, 1);
    for (let k = 0; k < plane; k++) assert.ok(Math.abs(a[k]! - mb[k]!) < 1e-5, `pixel ${k}: ${a[k]} against ${mb[k]}`);
  });
});
