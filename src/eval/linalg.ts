// SPDX-License-Identifier: MIT
// Dense symmetric linear algebra in float64 for FID (spec §12): semi-definite Cholesky (JS), eigenvalues (and
// optionally eigenvectors) through libtorch's linalg_eigvalsh / linalg_eigh, the PSD square root, and
// Tr((Σ1 Σ2)^{1/2}) without forming a non-symmetric square root. These run once per FID evaluation on d ≤ 2048;
// the two O(d³) matrix products and the eigen-decomposition go through libtorch.
import { ArgumentError } from '../tensor/errors.js';
import { tensor } from '../tensor/ops/creation.js';
import { eigh, eigvalsh } from '../tensor/ops/nn.js';
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
    return { n, data: Float64Array.from(m.add(m.t()).mul(0.5).contiguous().data() as Float64Array) }; // exact symmetry
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
      continue; // column k stays zero
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
 * Eigenvalues (ascending) and, with `vectors`, eigenvectors of a symmetric matrix: libtorch's linalg_eigvalsh /
 * linalg_eigh (LAPACK syevd). Only the lower triangle of A is read. Eigenvector k is column k of the returned
 * row-major `vectors` matrix. At d = 2048 (FID's covariance) the eigenvalues took 0.75 s on one thread against
 * 11.7 s for the hand-written Householder + implicit QL pair (tred2/tql2) this replaced.
 * @throws ArgumentError for a non-square input or non-finite entries.
 */
export function symmetricEigen(a: Matrix, o: { vectors?: boolean } = {}): { values: Float64Array; vectors: Matrix | null } {
  checkSquare(a, 'symmetricEigen');
  const n = a.n;
  if (!a.data.every(Number.isFinite)) throw new ArgumentError('symmetricEigen: the matrix has non-finite entries');
  return scope(() => {
    const A = tensor(a.data, { shape: [n, n], dtype: 'float64' });
    if (!(o.vectors ?? false)) return { values: Float64Array.from(eigvalsh(A).data() as Float64Array), vectors: null };
    const { values, vectors } = eigh(A);
    return {
      values: Float64Array.from(values.data() as Float64Array),
      vectors: { n, data: Float64Array.from(vectors.contiguous().data() as Float64Array) },
    };
  });
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
