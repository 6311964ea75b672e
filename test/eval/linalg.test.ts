// SPDX-License-Identifier: MIT
// FID's linear algebra (spec §12): eigen-decomposition reconstructs A, the PSD square root squares back, the
// semi-definite Cholesky handles singular matrices, and Tr((Σ1Σ2)^{1/2}) matches closed forms (commuting,
// non-commuting 2×2) and the symmetric form Tr((Σ2^{1/2} Σ1 Σ2^{1/2})^{1/2}).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { type Matrix, choleskyPsd, matmul, sqrtmPsd, symmetricEigen, traceSqrtProduct } from '../../src/eval/linalg.js';
import { assertClose } from '../helpers/assertClose.js';
import { noLeak } from '../helpers/noLeak.js';

/** XᵀX/k for X [k, n] ~ N(0, 1): PSD, singular when k < n. */
function randomPsd(n: number, k: number, seed: number): Matrix {
  t.manualSeed(seed);
  return t.scope(() => {
    const x = t.randn([k, n], { dtype: 'float64' });
    return { n, data: Float64Array.from(x.t().matmul(x).div(k).data() as Float64Array) };
  });
}

const mat = (n: number, rows: number[][]): Matrix => ({ n, data: Float64Array.from(rows.flat()) });

describe('symmetricEigen', () => {
  test('A·v = λ·v, orthonormal vectors, ascending values; values-only path agrees', () => {
    for (const n of [1, 2, 5, 33]) {
      const a = randomPsd(n, n + 3, n);
      const { values, vectors } = symmetricEigen(a, { vectors: true });
      const V = (vectors as Matrix).data;
      for (let c = 0; c < n; c++) {
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += a.data[i * n + k] * V[k * n + c];
          assertClose(s, values[c] * V[i * n + c], { atol: 1e-10, rtol: 0, message: `n=${n} (Av)[${i}] for λ${c}` });
        }
      }
      const vtv = matmul(
        { n, data: Float64Array.from({ length: n * n }, (_, i) => V[(i % n) * n + Math.floor(i / n)]) },
        vectors as Matrix,
      );
      assertClose(
        vtv.data,
        Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)),
        { atol: 1e-12, rtol: 0, message: 'VᵀV = I' },
      );
      for (let i = 1; i < n; i++) assert.ok(values[i] >= values[i - 1]);
      assertClose(symmetricEigen(a).values, values, { atol: 1e-10, rtol: 0 });
    }
  });

  test('a matrix with known eigenvalues (diagonal and a 2×2 rotation of one)', () => {
    assert.deepEqual(
      [
        ...symmetricEigen(
          mat(3, [
            [3, 0, 0],
            [0, 1, 0],
            [0, 0, 2],
          ]),
        ).values,
      ],
      [1, 2, 3],
    );
    // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
    assertClose(
      symmetricEigen(
        mat(2, [
          [2, 1],
          [1, 2],
        ]),
      ).values,
      [1, 3],
      { atol: 1e-14 },
    );
  });
});

describe('eigvalsh / eigh (the addon, which symmetricEigen runs on)', () => {
  test('only the chosen triangle is read; batched input gives one ascending row per matrix', () => {
    noLeak(() =>
      t.scope(() => {
        // Lower triangle of [[2, 1], [1, 2]] (eigenvalues 1, 3) with 100 above; upper triangle of [[4, 0], [0, 1]].
        const x = t.tensor(
          [
            [
              [2, 100],
              [1, 2],
            ],
            [
              [4, 0],
              [-7, 1],
            ],
          ],
          { dtype: 'float64' },
        );
        assertClose(t.nn.eigvalsh(x.select(0, 0)), [1, 3], { atol: 1e-14 });
        assertClose(t.nn.eigvalsh(x.select(0, 1), { upper: true }), [1, 4], { atol: 1e-14 });
        assert.deepEqual(t.nn.eigvalsh(x).shape, [2, 2]);
        assertClose(t.nn.eigvalsh(x).select(0, 0), [1, 3], { atol: 1e-14 });
      }),
    );
  });

  test('eigh: A·V = V·diag(λ) with orthonormal columns, the values those of eigvalsh', () => {
    noLeak(() =>
      t.scope(() => {
        const a = randomPsd(6, 9, 7);
        const A = t.tensor(a.data, { shape: [6, 6], dtype: 'float64' });
        const { values, vectors } = t.nn.eigh(A);
        assertClose(A.matmul(vectors), vectors.mul(values.reshape([1, 6])), { atol: 1e-12, rtol: 0 });
        assertClose(vectors.t().matmul(vectors), t.eye(6, 6, { dtype: 'float64' }), { atol: 1e-12, rtol: 0 });
        assertClose(values, t.nn.eigvalsh(A), { atol: 1e-12, rtol: 0 });
      }),
    );
  });

  test('symmetricEigen refuses non-finite entries with an ArgumentError naming itself', () => {
    assert.throws(
      () =>
        symmetricEigen(
          mat(2, [
            [1, NaN],
            [NaN, 1],
          ]),
        ),
      (e: Error) => e instanceof t.ArgumentError && /symmetricEigen: .*non-finite/.test(e.message),
    );
  });
});

describe('sqrtmPsd and choleskyPsd', () => {
  test('the square root of a known matrix: [[5, 4], [4, 5]] = [[2, 1], [1, 2]]²', () => {
    assertClose(
      sqrtmPsd(
        mat(2, [
          [5, 4],
          [4, 5],
        ]),
      ).data,
      [2, 1, 1, 2],
      { atol: 1e-12 },
    );
  });

  test('S·S = A for a random PSD matrix, including a singular one', () => {
    for (const [n, k] of [
      [12, 40],
      [12, 5],
    ]) {
      const a = randomPsd(n, k, 7);
      const s = sqrtmPsd(a);
      assertClose(matmul(s, s).data, a.data, { atol: 1e-10, rtol: 0, message: `n=${n}, rank ${Math.min(n, k)}` });
    }
  });

  test('L·Lᵀ = A with zero columns for a rank-deficient A; a negative-definite matrix is refused', () => {
    const a = randomPsd(10, 4, 3); // rank 4
    const L = choleskyPsd(a);
    const lt: Matrix = { n: 10, data: Float64Array.from({ length: 100 }, (_, i) => L.data[(i % 10) * 10 + Math.floor(i / 10)]) };
    assertClose(matmul(L, lt).data, a.data, { atol: 1e-10, rtol: 0 });
    let zeroCols = 0;
    for (let c = 0; c < 10; c++) if (Array.from({ length: 10 }, (_, r) => L.data[r * 10 + c]).every((v) => v === 0)) zeroCols++;
    assert.equal(zeroCols, 6);
    assert.throws(
      () =>
        choleskyPsd(
          mat(2, [
            [-1, 0],
            [0, 1],
          ]),
        ),
      /not positive semi-definite/,
    );
  });
});

describe('traceSqrtProduct', () => {
  test('commuting matrices: Σ √(a_i b_i)', () => {
    const a = mat(3, [
      [4, 0, 0],
      [0, 9, 0],
      [0, 0, 0.25],
    ]);
    const b = mat(3, [
      [1, 0, 0],
      [0, 4, 0],
      [0, 0, 1],
    ]);
    assertClose(traceSqrtProduct(a, b), 2 + 6 + 0.5, { rtol: 1e-12 });
  });

  test('non-commuting 2×2: Tr √M = √(tr M + 2√det M)', () => {
    const a = mat(2, [
      [2, 1],
      [1, 3],
    ]);
    const b = mat(2, [
      [1, -0.5],
      [-0.5, 2],
    ]);
    const m = matmul(a, b).data; // [[m0, m1], [m2, m3]]
    const expected = Math.sqrt(m[0] + m[3] + 2 * Math.sqrt(m[0] * m[3] - m[1] * m[2]));
    assertClose(traceSqrtProduct(a, b), expected, { rtol: 1e-12 });
  });

  test('equals Tr((Σ2^{1/2} Σ1 Σ2^{1/2})^{1/2}) on random and singular matrices; no tensor left behind', () => {
    noLeak(() => {
      for (const [n, k1, k2] of [
        [20, 50, 60],
        [20, 8, 50],
        [20, 50, 6],
      ]) {
        const s1 = randomPsd(n, k1, 11);
        const s2 = randomPsd(n, k2, 12);
        const r = sqrtmPsd(s2);
        const inner = matmul(matmul(r, s1), r);
        let expected = 0;
        for (const v of symmetricEigen(inner).values) expected += Math.sqrt(Math.max(v, 0));
        assertClose(traceSqrtProduct(s1, s2), expected, { rtol: 1e-8, message: `n=${n}, ranks ${k1}/${k2}` });
      }
    });
  });
});
