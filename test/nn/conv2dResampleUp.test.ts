// SPDX-License-Identifier: MIT
// conv2dResample's ×2 up path (upstream's transposed conv + FIR) against a direct scalar-loop reference of
// upstream's arithmetic and in its gradients; and the parked phase-split alternative (bench/upConvPhases.ts, the one
// bench/upConv.ts times) against both, so the measurement compares two computations of the same map.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { conv2dResample } from '../../src/nn/functional/conv2dResample.js';
import { setupFilter } from '../../src/nn/functional/upfirdn2d.js';
import { upConv2d } from '../../bench/upConvPhases.js';
import { assertClose } from '../helpers/assertClose.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { noLeak } from '../helpers/noLeak.js';

type Grid = number[][];

/** Nested arrays from a tensor (row-major). */
function nest(x: t.Tensor): unknown {
  const flat = x.toArray();
  const build = (dims: readonly number[], offset: number): unknown => {
    if (dims.length === 0) return flat[offset];
    const stride = dims.slice(1).reduce((a, b) => a * b, 1);
    return Array.from({ length: dims[0] }, (_, i) => build(dims.slice(1), offset + i * stride));
  };
  return build(x.shape, 0);
}

/**
 * Upstream's up path (conv2d_resample with up = 2) written out pixel by pixel for one input and one output
 * channel pair summed over inputs: transposed conv (stride 2, padding pt), pad (px0 + pt, px1 + pt), FIR
 * correlation with the flipped filter × 4.
 */
function reference(x: Grid[], w: Grid[][], f: Grid, pad: number, flipWeight: boolean): Grid[] {
  const k = w[0][0].length;
  const fl = f.length;
  const h = x[0].length;
  let px0 = pad + Math.floor((fl + 1) / 2);
  let px1 = pad + Math.floor((fl - 2) / 2);
  px0 -= k - 1;
  px1 -= k - 2;
  const pt = Math.max(Math.min(-px0, -px1), 0);
  const tl = (h - 1) * 2 - 2 * pt + k;
  const out: Grid[] = [];
  for (let o = 0; o < w.length; o++) {
    const tc: Grid = Array.from({ length: tl }, () => new Array(tl).fill(0));
    for (let i = 0; i < x.length; i++) {
      for (let ny = 0; ny < h; ny++)
        for (let nx = 0; nx < h; nx++) {
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const my = 2 * ny + ky - pt;
              const mx = 2 * nx + kx - pt;
              if (my < 0 || my >= tl || mx < 0 || mx >= tl) continue;
              const wv = flipWeight ? w[o][i][k - 1 - ky][k - 1 - kx] : w[o][i][ky][kx];
              tc[my][mx] += x[i][ny][nx] * wv;
            }
        }
    }
    const p0 = px0 + pt;
    const p1 = px1 + pt;
    const len = tl + p0 + p1 - fl + 1;
    const y: Grid = Array.from({ length: len }, () => new Array(len).fill(0));
    const at = (r: number, c: number) => (r - p0 >= 0 && r - p0 < tl && c - p0 >= 0 && c - p0 < tl ? tc[r - p0][c - p0] : 0);
    for (let qy = 0; qy < len; qy++)
      for (let qx = 0; qx < len; qx++) {
        let acc = 0;
        for (let jy = 0; jy < fl; jy++) for (let jx = 0; jx < fl; jx++) acc += at(qy + jy, qx + jx) * 4 * f[fl - 1 - jy][fl - 1 - jx];
        y[qy][qx] = acc;
      }
    out.push(y);
  }
  return out;
}

const geometries: { k: number; pad: number; flip: boolean; taps: number[]; h: number }[] = [
  { k: 3, pad: 1, flip: false, taps: [1, 3, 3, 1], h: 4 }, // the synthesis layers
  { k: 3, pad: 1, flip: true, taps: [1, 3, 3, 1], h: 5 },
  { k: 3, pad: 0, flip: false, taps: [1, 3, 3, 1], h: 3 },
  { k: 1, pad: 0, flip: false, taps: [1, 3, 3, 1], h: 4 },
  { k: 5, pad: 2, flip: false, taps: [1, 2, 1], h: 3 }, //   odd filter: an odd-length output per axis
  { k: 3, pad: 1, flip: false, taps: [1, 1], h: 4 },
  { k: 2, pad: 0, flip: true, taps: [1, 3, 3, 1], h: 3 },
];

describe('conv2dResample ×2 up path and the phase-split alternative', () => {
  for (const g of geometries) {
    const name = `k ${g.k}, padding ${g.pad}, flipWeight ${g.flip}, filter [${g.taps}], ${g.h}×${g.h}`;
    test(`${name}: the transposed-conv path and the phase split equal the pixel-loop reference`, () => {
      noLeak(() =>
        t.scope(() => {
          const f = setupFilter(g.taps).to('float64');
          const x = t.randn([2, 3, g.h, g.h], { dtype: 'float64' });
          const w = t.randn([4, 3, g.k, g.k], { dtype: 'float64' });
          const transposed = conv2dResample(x, w, { filter: f, up: 2, padding: g.pad, flipWeight: g.flip });
          const phases = upConv2d(x, w, f, { kernel: g.k, padding: g.pad, flipWeight: g.flip, flipFilter: false });
          assert.deepEqual(phases.shape, transposed.shape);
          assertClose(phases, transposed, { rtol: 1e-10, atol: 1e-10 });
          const xs = nest(x) as Grid[][];
          const ws = nest(w) as Grid[][];
          const fs = nest(f) as Grid;
          const ref = reference(xs[1], ws, fs, g.pad, g.flip);
          assertClose(transposed.select(0, 1), ref.flat(2), { rtol: 1e-10, atol: 1e-10 });
          assertClose(phases.select(0, 1), ref.flat(2), { rtol: 1e-10, atol: 1e-10 });
        }),
      );
    });
  }

  test('gradients w.r.t. input and weight match finite differences (both ways)', () => {
    t.scope(() => {
      const f = setupFilter().to('float64');
      const x = t.randn([1, 2, 3, 3], { dtype: 'float64', requiresGrad: true });
      const w = t.randn([2, 2, 3, 3], { dtype: 'float64', requiresGrad: true });
      gradcheck((a, b) => conv2dResample(a, b, { filter: f, up: 2, padding: 1 }), [x, w]);
      gradcheck((a, b) => upConv2d(a, b, f, { kernel: 3, padding: 1, flipWeight: false, flipFilter: false }), [x, w]);
    });
  });

  test('float32 agrees with the transposed path at the synthesis-layer size', () => {
    t.scope(() => {
      const f = setupFilter();
      const x = t.randn([2, 16, 8, 8]);
      const w = t.randn([8, 16, 3, 3]);
      const a = upConv2d(x, w, f, { kernel: 3, padding: 1, flipWeight: false, flipFilter: false });
      const b = conv2dResample(x, w, { filter: f, up: 2, padding: 1 });
      assert.deepEqual(a.shape, [2, 8, 16, 16]);
      assertClose(a, b, { rtol: 1e-4, atol: 1e-4 });
    });
  });
});
