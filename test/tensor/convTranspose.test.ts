// SPDX-License-Identifier: MIT
// convTranspose2d runs on the CPU as the input-gradient of a convolution (ops_nn.cc): values against a direct
// scatter-add reference over strides, padding, output padding, dilation and groups, first- and second-order
// gradients against finite differences, and the error paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { assertClose } from '../helpers/assertClose.js';
import { gradcheck, gradgradcheck } from '../helpers/gradcheck.js';

interface Geo {
  stride: number;
  padding: number;
  outputPadding: number;
  dilation: number;
  groups: number;
}

/** out[n, g·Og + o, y·s − p + ky·d, x·s − p + kx·d] += x[n, g·Ig + i, y, x] · w[g·Ig + i, o, ky, kx]. */
function reference(x: t.Tensor, w: t.Tensor, b: t.Tensor | null, g: Geo): { data: number[]; shape: number[] } {
  const [n, cin, h, wd] = x.shape;
  const [, og, k] = w.shape;
  const cout = og * g.groups;
  const ig = cin / g.groups;
  const ho = (h - 1) * g.stride - 2 * g.padding + g.dilation * (k - 1) + g.outputPadding + 1;
  const wo = (wd - 1) * g.stride - 2 * g.padding + g.dilation * (k - 1) + g.outputPadding + 1;
  const xs = x.toArray();
  const ws = w.toArray();
  const bs = b?.toArray();
  const out = new Array(n * cout * ho * wo).fill(0);
  for (let bn = 0; bn < n; bn++)
    for (let c = 0; c < cout; c++)
      for (let yy = 0; yy < ho; yy++)
        for (let xx = 0; xx < wo; xx++) {
          out[((bn * cout + c) * ho + yy) * wo + xx] = bs ? bs[c] : 0;
        }
  for (let bn = 0; bn < n; bn++)
    for (let ci = 0; ci < cin; ci++) {
      const grp = Math.floor(ci / ig);
      for (let y = 0; y < h; y++)
        for (let xq = 0; xq < wd; xq++) {
          const v = xs[((bn * cin + ci) * h + y) * wd + xq];
          for (let o = 0; o < og; o++)
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const oy = y * g.stride - g.padding + ky * g.dilation;
                const ox = xq * g.stride - g.padding + kx * g.dilation;
                if (oy < 0 || oy >= ho || ox < 0 || ox >= wo) continue;
                out[((bn * cout + grp * og + o) * ho + oy) * wo + ox] += v * ws[((ci * og + o) * k + ky) * k + kx];
              }
        }
    }
  return { data: out, shape: [n, cout, ho, wo] };
}

const geometries: Geo[] = [
  { stride: 2, padding: 0, outputPadding: 0, dilation: 1, groups: 1 },
  { stride: 2, padding: 1, outputPadding: 1, dilation: 1, groups: 1 },
  { stride: 1, padding: 1, outputPadding: 0, dilation: 1, groups: 1 },
  { stride: 3, padding: 2, outputPadding: 2, dilation: 1, groups: 2 },
  { stride: 2, padding: 1, outputPadding: 1, dilation: 2, groups: 1 },
];

for (const g of geometries) {
  test(`values: stride ${g.stride}, padding ${g.padding}, outputPadding ${g.outputPadding}, dilation ${g.dilation}, groups ${g.groups}`, () => {
    t.scope(() => {
      for (const dtype of ['float64', 'float32'] as const) {
        const x = t.randn([2, 4, 5, 4], { dtype });
        const w = t.randn([4, 3, 3, 3], { dtype });
        const b = t.randn([3 * g.groups], { dtype });
        const y = t.nn.convTranspose2d(x, w, b, g);
        const ref = reference(x, w, b, g);
        assert.deepEqual(y.shape, ref.shape);
        assertClose(y, ref.data, dtype === 'float64' ? { rtol: 1e-10, atol: 1e-10 } : { rtol: 1e-4, atol: 1e-4 });
      }
    });
  });
}

test('first- and second-order gradients against finite differences', () => {
  t.scope(() => {
    const x = t.randn([1, 2, 3, 3], { dtype: 'float64', requiresGrad: true });
    const w = t.randn([2, 2, 3, 3], { dtype: 'float64', requiresGrad: true });
    const b = t.randn([2], { dtype: 'float64', requiresGrad: true });
    const f = (a: t.Tensor, c: t.Tensor, d: t.Tensor) =>
      t.nn.convTranspose2d(a, c, d, { stride: 2, padding: 1, outputPadding: 1 }).square();
    gradcheck(f, [x, w, b]);
    gradgradcheck(f, [x, w, b]);
  });
});

test('bad arguments throw and the process lives on', () => {
  t.scope(() => {
    const x = t.randn([1, 4, 3, 3]);
    assert.throws(() => t.nn.convTranspose2d(x, t.randn([3, 2, 3, 3])), t.TensorError); //  channel mismatch
    assert.throws(() => t.nn.convTranspose2d(x, t.randn([4, 2, 3, 3]), t.randn([3])), t.TensorError); // bias size
    assert.throws(() => t.nn.convTranspose2d(x, t.randn([4, 2, 9, 9]), null, { padding: 9 }), t.TensorError);
    assert.deepEqual(t.nn.convTranspose2d(x, t.randn([4, 2, 3, 3])).shape, [1, 2, 5, 5]);
  });
});
