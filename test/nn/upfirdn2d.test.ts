// SPDX-License-Identifier: MIT
// upfirdn2d's downsampling runs as a strided convolution; it must equal filtering at full resolution and then
// keeping every 2nd pixel (upstream's reference implementation), for 2-D and separable filters, with gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { downsample2d, setupFilter, upfirdn2d } from '../../src/nn/functional/upfirdn2d.js';
import { sym6 } from '../../src/train/augment/adaPipeline.js';
import { assertClose } from '../helpers/assertClose.js';
import { gradcheck } from '../helpers/gradcheck.js';

/** Upstream's order: pad, FIR at full resolution (a true convolution: flipped taps), then x[:, :, ::2, ::2]. */
function filterThenSlice(x: t.Tensor, taps: number[], pad: number): t.Tensor {
  const n = taps.length;
  const total = taps.reduce((a, b) => a + b, 0) ** 2;
  const k2 = t
    .tensor(
      taps.flatMap((a) => taps.map((b) => (a * b) / total)),
      { shape: [n, n], dtype: x.dtype },
    )
    .flip([0, 1]);
  const c = x.shape[1];
  const y = t.nn.conv2d(t.nn.pad(x, [pad, pad, pad, pad]), k2.reshape([1, 1, n, n]).expand([c, 1, n, n]), null, { groups: c });
  return y.slice(2, 0, null, 2).slice(3, 0, null, 2);
}

for (const [name, taps] of [
  ['[1, 3, 3, 1] (2-D filter)', [1, 3, 3, 1]],
  ['sym6 (separable)', sym6],
] as const) {
  test(`downsample2d with ${name} equals full-resolution filtering then slicing`, () => {
    t.scope(() => {
      const f = setupFilter([...taps]).to('float64');
      for (const size of [8, 9, 16]) {
        const x = t.randn([2, 3, size, size], { dtype: 'float64' });
        const fast = downsample2d(x, f);
        const pad = Math.floor((taps.length - 2 + 1) / 2);
        const padR = Math.floor((taps.length - 2) / 2);
        assert.equal(pad - padR <= 1, true);
        const ref = pad === padR ? filterThenSlice(x, [...taps], pad) : null;
        if (ref) {
          assert.deepEqual(fast.shape, ref.shape);
          // setupFilter stores the taps in float32, the reference keeps them in float64.
          assertClose(fast, ref, { rtol: 1e-6, atol: 1e-7 });
        }
        // Independent of the padding arithmetic: the same call with down = 1, sliced.
        const full = upfirdn2d(x, f, { padding: [pad, padR, pad, padR] })
          .slice(2, 0, null, 2)
          .slice(3, 0, null, 2);
        assert.deepEqual(fast.shape, full.shape);
        assertClose(fast, full, { rtol: 1e-10, atol: 1e-12 });
      }
    });
  });
}

test('strided FIR downsampling has finite-difference gradients', () => {
  t.scope(() => {
    const f = setupFilter().to('float64');
    const x = t.randn([1, 2, 6, 6], { dtype: 'float64', requiresGrad: true });
    gradcheck((a) => downsample2d(a, f), [x]);
  });
});
