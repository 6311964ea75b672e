// SPDX-License-Identifier: MIT
// The upsampling convolution of conv2d_resample (spec §14), as one ordinary convolution: a measured
// alternative, parked here (bench/upConv.ts times it against the up path src/ uses).
//
// Upstream computes "×2 up + k×k conv + FIR" as a stride-2 transposed convolution followed by a depthwise
// FIR filter; libtorch runs that transposed convolution through im2col + BLAS. This file is the alternative
// the training issue asked to measure: no transposed convolution at all. The whole chain is linear and shift-invariant
// with period 2, so it splits into four phases: output pixel (2i+a, 2j+b) is a plain correlation of the
// *input* with a small kernel r_ab. Stacking the four phase kernels along the output channels gives one
// conv2d with 4·O outputs at the input resolution, then a pixel shuffle. The phase kernels are a fixed linear
// map of the weights (transposed-conv taps convolved with the FIR filter, then split by phase), applied as one
// [O·I, k²] × [k², 4·s²] matmul, so gradients reach the weights through ordinary ops.
//
// The result equals upstream's up to floating-point rounding (test/nn/conv2dResampleUp.test.ts checks it against
// the transposed-convolution path in float64). It costs 4× the multiply-adds of the transposed conv (every phase
// kernel is s×s = 3×3), and measured 2× slower on 2 CPU cores once OpenBLAS runs on OpenMP threads, so src/ does
// not use it; it may pay off where transposed convolutions are slow.
import { ArgumentError } from '../src/tensor/errors.js';
import { tensor } from '../src/tensor/ops/creation.js';
import { conv2d, pad } from '../src/tensor/ops/nn.js';
import type { Tensor } from '../src/tensor/tensor.js';

export interface UpConvGeometry {
  /** Kernel size k of the square weight [O, I, k, k]. */
  kernel: number;
  /** Padding passed to conv2d_resample (k >> 1 for "same"). */
  padding: number;
  /** Upstream's flip_weight (false on the modulated-conv up path: transposed-conv taps used unflipped). */
  flipWeight: boolean;
  /** upfirdn2d's flip_filter (false upstream). */
  flipFilter: boolean;
}

interface Plan {
  /** [k², 4·s²] map from flattened weights to the stacked phase kernels (row-major). */
  basis: Float64Array;
  taps: number; //      s: phase kernel size
  padLeft: number; //   input padding (negative: crop) before the phase convolution
  padRight: number;
  outExtra: number; //  phase outputs per axis = H + outExtra
  outCrop: number; //   final length per axis = 2·(H + outExtra) − outCrop
}

// Plans depend on the filter's values and the geometry only; they hold plain numbers (the small basis tensor
// is made per call, so no native memory outlives the call's scope).
const plans = new WeakMap<Tensor, Map<string, Plan>>();

/**
 * x [N, I, H, W], w [O, I, k, k], f the 2-D FIR filter [F, F] → [N, O, 2H', 2W'], equal to upstream's
 * conv_transpose2d(stride 2) + upfirdn2d(f, gain 4) for the same geometry.
 */
export function upConv2d(x: Tensor, w: Tensor, f: Tensor, g: UpConvGeometry): Tensor {
  if (f.ndim !== 2) throw new ArgumentError('upConv2d: expects a 2-D FIR filter');
  const [o, i, k] = [w.shape[0], w.shape[1], w.shape[2]];
  if (w.shape[3] !== k || k !== g.kernel)
    throw new ArgumentError(`upConv2d: expected a square ${g.kernel}×${g.kernel} kernel, got [${w.shape}]`);
  const [n, , h, wd] = x.shape;
  const plan = planFor(f, g);
  const s = plan.taps;
  const basis = tensor(plan.basis, { shape: [k * k, 4 * s * s], dtype: w.dtype, device: w.device });
  // Phase kernels [4·O, I, s, s], ordered (phase y, phase x, o).
  const kernels = w
    .reshape([o * i, k * k])
    .matmul(basis)
    .reshape([o, i, 4, s, s])
    .permute([2, 0, 1, 3, 4])
    .reshape([4 * o, i, s, s]);
  let y: Tensor;
  if (plan.padLeft === plan.padRight && plan.padLeft >= 0) {
    y = conv2d(x, kernels, null, { padding: plan.padLeft });
  } else {
    const p = [plan.padLeft, plan.padRight, plan.padLeft, plan.padRight];
    y = conv2d(pad(x, p), kernels);
  }
  const [ho, wo] = [h + plan.outExtra, wd + plan.outExtra];
  // Pixel shuffle: [N, (ay, ax, O), H', W'] → [N, O, H', ay, W', ax] → [N, O, 2H', 2W'].
  y = y
    .reshape([n, 2, 2, o, ho, wo])
    .permute([0, 3, 4, 1, 5, 2])
    .reshape([n, o, 2 * ho, 2 * wo]);
  if (plan.outCrop > 0) y = y.slice(2, 0, 2 * ho - plan.outCrop).slice(3, 0, 2 * wo - plan.outCrop);
  return y;
}

function planFor(f: Tensor, g: UpConvGeometry): Plan {
  let byKey = plans.get(f);
  if (!byKey) plans.set(f, (byKey = new Map()));
  const key = `${g.kernel}/${g.padding}/${g.flipWeight}/${g.flipFilter}`;
  let plan = byKey.get(key);
  if (!plan) {
    const flat = f.toArray();
    const fl = f.shape[0];
    const rows = Array.from({ length: fl }, (_, r) => flat.slice(r * fl, (r + 1) * fl));
    plan = makePlan(rows, g);
    byKey.set(key, plan);
  }
  return plan;
}

function makePlan(f: number[][], g: UpConvGeometry): Plan {
  const up = 2;
  const k = g.kernel;
  const fl = f.length;
  // conv2d_resample's padding arithmetic for up = 2, as upstream.
  let px0 = g.padding + Math.floor((fl + up - 1) / 2);
  let px1 = g.padding + Math.floor((fl - up) / 2);
  px0 -= k - 1;
  px1 -= k - up;
  const pt = Math.max(Math.min(-px0, -px1), 0); // transposed-conv padding
  // Per axis: transposed conv t[m] = Σ x[n]·w'[κ] over m = 2n + κ − pt, FIR y[q] = Σ_j t[q + j − (px0 + pt)]·h[j].
  // So y[q] = Σ_n x[n]·v[q − 2n − px0] with v[d] = Σ_{κ − j = d} w'[κ]·h[j], d ∈ [−(F−1), k−1].
  const c = px0;
  const lengthOut = 2 * (0 - 1) + k - 2 * pt + (px0 + pt) + (px1 + pt) - fl + 1; // + 2H
  // Phase a: y[2i + a] = Σ_s x[i + s]·v[a − c − 2s]; the common tap range s ∈ [sLo, sHi] covers both phases.
  let sLo = Infinity;
  let sHi = -Infinity;
  for (const a of [0, 1]) {
    sLo = Math.min(sLo, Math.ceil((a - c - (k - 1)) / 2));
    sHi = Math.max(sHi, Math.floor((a - c + (fl - 1)) / 2));
  }
  const s = sHi - sLo + 1;
  // Outputs per phase: phase 0 has ceil(lengthOut / 2) of them; lengthOut = 2H + lengthOut(H=0).
  const outExtra = Math.ceil(lengthOut / 2);
  const outCrop = 2 * outExtra - lengthOut;
  const padLeft = -sLo;
  const padRight = outExtra + s - 1 - padLeft;
  // h: the FIR taps as a correlation (upfirdn2d flips the filter unless flipFilter), with gain up².
  const hAt = (jy: number, jx: number) => up * up * (g.flipFilter ? f[jy][jx] : f[fl - 1 - jy][fl - 1 - jx]);
  // w'[κ] = w[κ] (flipWeight false) or w[k−1−κ]; basis[(ky, kx), (ay, ax, ty, tx)].
  const cols = 4 * s * s;
  const basis = new Float64Array(k * k * cols);
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      const ey = g.flipWeight ? k - 1 - ky : ky;
      const ex = g.flipWeight ? k - 1 - kx : kx;
      for (let ay = 0; ay < 2; ay++) {
        for (let ax = 0; ax < 2; ax++) {
          for (let ty = 0; ty < s; ty++) {
            const jy = ey - (ay - c - 2 * (ty + sLo)); // κ − j = d  →  j = κ − d
            if (jy < 0 || jy >= fl) continue;
            for (let tx = 0; tx < s; tx++) {
              const jx = ex - (ax - c - 2 * (tx + sLo));
              if (jx < 0 || jx >= fl) continue;
              basis[(ky * k + kx) * cols + ((ay * 2 + ax) * s + ty) * s + tx] = hAt(jy, jx);
            }
          }
        }
      }
    }
  }
  return {
    basis,
    taps: s,
    padLeft,
    padRight,
    outExtra,
    outCrop,
  };
}
