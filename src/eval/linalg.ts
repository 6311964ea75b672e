// SPDX-License-Identifier: MIT
// Dense symmetric linear algebra in float64 JS for FID (spec §12): semi-definite Cholesky, Householder
// tridiagonalisation + implicit QL eigenvalues (and optionally eigenvectors), the PSD square root, and
// Tr((Σ1 Σ2)^{1/2}) without forming a non-symmetric square root.
//
// The addon has no LAPACK binding (it stays a thin generic tensor layer); these run once per FID evaluation on
// d ≤ 2048, where the O(d³) eigenvalue path takes seconds (the Inception passes take minutes). The two O(d³)
// matrix products go through libtorch.
import { ArgumentError } from '../tensor/errors.js';
import { tensor } from '../tensor/ops/creation.js';
import { scope } from '../tensor/scope.js';

/** A dense row-major square matrix. */
export interface Matrix {
  /** Side n. */
  n: number;
  /** n·n values, row-major. */
  data: Float64Array;
}

function checkSquare(a: Matrix, what: string): void {
  if (!(Number.isInteger(a.n) && a.n >= 1 && a.data.length === a.n * a.n)) {
    throw new ArgumentError(`${what}: expected an n×n matrix (n·n values), got n = ${a.n} with ${a.data.length} values`);
  }
}

/** A·B for n×n matrices (libtorch float64 matmul). */
export function matmul(a: Matrix, b: Matrix): Matrix {
  if (a.n !== b.n) throw new ArgumentError(`matmul: sides ${a.n} and ${b.n} differ`);
  const n = a.n;
  return scope(() => {
    const ta = tensor(a.data, { shape: [n, n], dtype: 'float64' });
    const tb = tensor(b.data, { shape: [n, n], dtype: 'float64' });
    return { n, data: Float64Array.from(ta.matmul(tb).data() as Float64Array) };
  });
}

/** Aᵀ·B·A for n×n matrices (libtorch float64 matmuls). */
export function congruence(a: Matrix, b: Matrix): Matrix {
  if (a.n !== b.n) throw new ArgumentError(`congruence: sides ${a.n} and ${b.n} differ`);
  const n = a.n;
  return scope(() => {
    const ta = tensor(a.data, { shape: [n, n], dtype: 'float64' });
    const tb = tensor(b.data, { shape: [n, n], dtype: 'float64' });
    const m = ta.t().matmul(tb).matmul(ta);
    return { n, data: Float64Array.from(m.add(m.t()).mul(0.5).contiguous().data() as Float64Array) };  // exact symmetry
  });
}

/**
 * Lower-triangular L with L·Lᵀ = A for a symmetric positive semi-definite A. A pivot at or below
 * `tol · max diag(A)` (a direction A does not span, up to rounding) gives a zero column instead of a failure,
 * so singular covariances (fewer samples than dimensions) work; the dropped variance is below the tolerance.
 * @throws ArgumentError for a non-square input or a clearly negative pivot (A is not PSD).
 */
export function choleskyPsd(a: Matrix, tol = 1e-12): Matrix {
  checkSquare(a, 'choleskyPsd');
  const { n, data: A } = a;
  const L = new Float64Array(n * n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, A[i * n + i]);
  const floor = tol * maxDiag;
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    let d = A[rk + k];
    for (let j = 0; j < k; j++) d -= L[rk + j] * L[rk + j];
    if (d <= floor) {
      if (d < -1e-6 * Math.max(maxDiag, 1e-300)) {
        throw new ArgumentError(`choleskyPsd: the matrix is not positive semi-definite (pivot ${k} is ${d})`);
      }
      continue;                                          // column k stays zero
    }
    const lkk = Math.sqrt(d);
    L[rk + k] = lkk;
    const inv = 1 / lkk;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      let s = A[ri + k];
      for (let j = 0; j < k; j++) s -= L[ri + j] * L[rk + j];
      L[ri + k] = s * inv;
    }
  }
  return { n, data: L };
}

/**
 * Eigenvalues (ascending) and, with `vectors`, eigenvectors of a symmetric matrix: Householder reduction to
 * tridiagonal form, then the implicit QL algorithm (the classic tred2/tql2 pair). Only the lower triangle of
 * A is read. Eigenvector k is column k of the returned row-major `vectors` matrix.
 * @throws ArgumentError for a non-square input; Error if QL does not converge (non-finite input).
 */
export function symmetricEigen(a: Matrix, o: { vectors?: boolean } = {}): { values: Float64Array; vectors: Matrix | null } {
  checkSquare(a, 'symmetricEigen');
  const n = a.n;
  const wantVectors = o.vectors ?? false;
  // W = Vᵀ (see tridiagonalize); A is symmetric, so W starts as A with its lower triangle mirrored up.
  const W = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c <= r; c++) {
      const v = a.data[r * n + c];
      W[c * n + r] = v;
      W[r * n + c] = v;
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(W, n, d, e, wantVectors);
  tridiagonalQl(d, e, n, wantVectors ? W : null);
  // Sort ascending (tql2 leaves them nearly sorted).
  const order = Array.from(d.keys()).sort((i, j) => d[i] - d[j]);
  const values = Float64Array.from(order, (i) => d[i]);
  if (!wantVectors) return { values, vectors: null };
  const out = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const src = order[c] * n;
    for (let r = 0; r < n; r++) out[r * n + c] = W[src + r];
  }
  return { values, vectors: { n, data: out } };
}

/**
 * Householder tridiagonalisation (tred2): d = diagonal, e[1..] = sub-diagonal; W ← Qᵀ when wantVectors.
 * W holds the transpose of the textbook working matrix V (W[c·n + r] = V[r][c]): the inner loops walk columns
 * of V, which are contiguous rows of W (a strided walk over a 2048² matrix is several times slower).
 */
function tridiagonalize(W: Float64Array, n: number, d: Float64Array, e: Float64Array, wantVectors: boolean): void {
  for (let j = 0; j < n; j++) d[j] = W[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = W[j * n + i - 1];
        W[j * n + i] = 0;
        W[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // e = A·u over the lower triangle (the O(n³) part of the reduction).
      for (let j = 0; j < i; j++) {
        const cj = j * n;
        f = d[j];
        W[i * n + j] = f;
        g = e[j] + W[cj + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const v = W[cj + k];
          g += v * d[k];
          e[k] += v * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      // Rank-2 update of the lower triangle.
      for (let j = 0; j < i; j++) {
        const cj = j * n;
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) W[cj + k] -= f * e[k] + g * d[k];
        d[j] = W[cj + i - 1];
        W[cj + i] = 0;
      }
    }
    d[i] = h;
  }
  if (wantVectors) {
    // Accumulate the transformations.
    for (let i = 0; i < n - 1; i++) {
      const ci1 = (i + 1) * n;
      W[i * n + n - 1] = W[i * n + i];
      W[i * n + i] = 1;
      const h = d[i + 1];
      if (h !== 0) {
        for (let k = 0; k <= i; k++) d[k] = W[ci1 + k] / h;
        for (let j = 0; j <= i; j++) {
          const cj = j * n;
          let g = 0;
          for (let k = 0; k <= i; k++) g += W[ci1 + k] * W[cj + k];
          for (let k = 0; k <= i; k++) W[cj + k] -= g * d[k];
        }
      }
      for (let k = 0; k <= i; k++) W[ci1 + k] = 0;
    }
    for (let j = 0; j < n; j++) {
      d[j] = W[j * n + n - 1];
      W[j * n + n - 1] = 0;
    }
    W[(n - 1) * n + n - 1] = 1;
  } else {
    for (let j = 0; j < n; j++) d[j] = W[j * n + j];
  }
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e) (tql2); rotates the rows of W (= columns of V) when given. */
function tridiagonalQl(d: Float64Array, e: Float64Array, n: number, W: Float64Array | null): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symmetricEigen: QL iteration did not converge (non-finite input?)');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (W !== null) {
            const ci = i * n;
            const ci1 = ci + n;
            for (let k = 0; k < n; k++) {
              const wh = W[ci1 + k];
              W[ci1 + k] = s * W[ci + k] + c * wh;
              W[ci + k] = c * W[ci + k] - s * wh;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/** The PSD square root V·diag(√max(λ, 0))·Vᵀ of a symmetric matrix (small negative eigenvalues: rounding). */
export function sqrtmPsd(a: Matrix): Matrix {
  const { values, vectors } = symmetricEigen(a, { vectors: true });
  const n = a.n;
  const V = (vectors as Matrix).data;
  const out = new Float64Array(n * n);
  const s = Float64Array.from(values, (v) => Math.sqrt(Math.max(v, 0)));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += V[i * n + k] * s[k] * V[j * n + k];
      out[i * n + j] = acc;
      out[j * n + i] = acc;
    }
  }
  return { n, data: out };
}

/**
 * Tr((Σ1 Σ2)^{1/2}) for symmetric PSD Σ1, Σ2 (the cross term of FID). Σ1 Σ2 is not symmetric, but with
 * Σ2 = L Lᵀ its eigenvalues are those of the symmetric PSD Lᵀ Σ1 L, so the trace of its principal square root
 * is Σ √λᵢ(Lᵀ Σ1 L): one semi-definite Cholesky, two matmuls and one eigenvalue-only decomposition, with no
 * complex intermediate (scipy's sqrtm of the product can return a complex result from rounding alone).
 */
export function traceSqrtProduct(sigma1: Matrix, sigma2: Matrix): number {
  checkSquare(sigma1, 'traceSqrtProduct');
  checkSquare(sigma2, 'traceSqrtProduct');
  if (sigma1.n !== sigma2.n) throw new ArgumentError(`traceSqrtProduct: sides ${sigma1.n} and ${sigma2.n} differ`);
  const L = choleskyPsd(sigma2);
  const M = congruence(L, sigma1);
  const { values } = symmetricEigen(M);
  let tr = 0;
  for (const v of values) tr += Math.sqrt(Math.max(v, 0));
  return tr;
}
