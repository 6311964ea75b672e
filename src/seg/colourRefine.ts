// SPDX-License-Identifier: MIT
// Beyond the paper: refining a photo's foreground probabilities with the photo's own colours (GrabCut's idea,
// without the graph cut). A segmenter trained on GAN images knows roughly where and how big the object is, but
// its outline follows the GAN's shapes. Each photo then gets two colour histograms, one weighted by the
// foreground probability and one by the background probability, and every pixel's log-odds move by how much
// likelier its colour is under the foreground histogram than under the background one; a few rounds re-estimate
// the histograms from the refined probabilities (EM). Where object and background share colours the ratio is near
// 1 and the segmenter's opinion stands.

import { boundarySaliency } from './boundarySaliency.js';

export interface ColourRefineOptions {
  /** Levels per RGB channel of the histograms (8 → 512 bins). */
  levels?: number;
  /** Weight of the colour log-likelihood ratio against the segmenter's log-odds (1). */
  strength?: number;
  /** EM rounds (2). */
  rounds?: number;
  /** Pseudo-count added to every bin (1); with `balanced`, the pseudo-mass of each histogram as a multiple of its own mass. */
  smoothing?: number;
  /**
   * Give each histogram pseudo-counts in proportion to its own mass (smoothing · N / bins) instead of the same
   * `smoothing` in both (false). With equal pseudo-counts a rare colour is judged by the pseudo-counts alone, and
   * after normalising by the two masses that favours the smaller side, usually the foreground: a background pixel
   * whose colour occurs nowhere else in the photo (texture, clutter) is pulled towards the object by up to
   * log(N_bg / N_fg) per unit of strength, more with each EM round (0.1 went to 0.3 in test/seg/adapt.test.ts).
   * Balanced, a colour seen nowhere carries no evidence either way. Measured the same on TuxComposite (docs/quality.md,
   * session 8), so it is off.
   */
  balanced?: boolean;
  /**
   * Weight of a contrast-sensitive smoothness term between 8-neighbours (0: off). GrabCut's pairwise term, solved by
   * mean-field iterations instead of a graph cut: each pixel's log-odds get + pairwise · Σ_j w_kj·(2·p_j − 1),
   * w_kj = exp(−β·|c_k − c_j|²)/dist, β = 1 / (2·mean |c_k − c_j|²) over the photo (GrabCut's β), so neighbours of
   * similar colour pull towards the same label and edges in the photo let labels change.
   */
  pairwise?: number;
  /** Mean-field iterations per EM round when `pairwise` or `bilateral` > 0 (5). */
  meanField?: number;
  /**
   * Weight of a long-range bilateral smoothness term (0: off; not in GrabCut: the appearance kernel of a dense CRF,
   * Krähenbühl & Koltun 2011, normalised). Each pixel's log-odds get + bilateral · Σ_j K_kj·(2·p_j − 1) / Σ_j K_kj over
   * the pixels j within 2·`bilateralSpatial` of it, K_kj = exp(−|x_k − x_j|²/(2·θ_xy²) − |c_k − c_j|²/(2·θ_rgb²)):
   * pixels of like colour in the same part of the photo pull towards the same label, across gaps the 8-neighbour
   * term cannot bridge (a leg behind grass, a hole in a mask), and a region unlike its surroundings keeps its own.
   */
  bilateral?: number;
  /** θ_xy of the bilateral term, in pixels at the refinement's size (6). */
  bilateralSpatial?: number;
  /** θ_rgb of the bilateral term, in RGB levels 0–255 (16). */
  bilateralColour?: number;
  /**
   * Weight of the photo's boundary saliency (boundarySaliency.ts: the minimum barrier distance to the frame in
   * CIELAB, 0–1 per photo) added to the segmenter's log-odds before the colour step (0: off): + weight · (saliency −
   * `saliencyThreshold`). Parts of the photo joined to the frame by colours that barely change are pulled towards
   * background, however textured; parts walled off from it towards the object.
   */
  saliency?: number;
  /** The saliency at which that term is 0 (0.5). */
  saliencyThreshold?: number;
}

const clampP = (p: number) => Math.min(1 - 1e-4, Math.max(1e-4, p));

/**
 * Refines foreground probabilities in place. `probs`: n·S² values in [0, 1], image by image; `pixels`: n·3·S² bytes,
 * CHW per image (the photos the probabilities belong to). Returns `probs`.
 */
export function refineByColour(
  probs: Float32Array,
  pixels: Uint8Array,
  n: number,
  size: number,
  o: ColourRefineOptions = {},
): Float32Array {
  const levels = o.levels ?? 8;
  const strength = o.strength ?? 1;
  const rounds = o.rounds ?? 2;
  const smoothing = o.smoothing ?? 1;
  const balanced = o.balanced ?? false;
  const pairwise = o.pairwise ?? 0;
  const meanField = o.meanField ?? 5;
  const saliency = o.saliency ?? 0;
  const saliencyThreshold = o.saliencyThreshold ?? 0.5;
  const bilateral = o.bilateral ?? 0;
  const plane = size * size;
  const kernel = bilateral > 0 ? bilateralKernel(size, o.bilateralSpatial ?? 6) : null;
  const kernelWeights = kernel ? new Float32Array(plane * kernel.dx.length) : null;
  const kernelTotal = new Float32Array(kernel ? plane : 0);
  const bilateralMsg = new Float32Array(kernel ? plane : 0);
  const sal = saliency > 0 ? boundarySaliency(pixels, n, size, { space: 'lab' }) : null;
  const unary = new Float32Array(plane);
  const around = pairwise > 0 ? neighbourIndices(size) : null;
  const weights = around ? new Float32Array(around.length) : null;
  const next = new Float32Array(plane);
  const bins = levels ** 3;
  const shift = 256 / levels;
  const binOf = new Int32Array(plane);
  const prior = new Float32Array(plane);
  const hf = new Float64Array(bins);
  const hb = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const p = probs.subarray(i * plane, (i + 1) * plane);
    const base = i * 3 * plane;
    for (let k = 0; k < plane; k++) {
      const r = Math.floor(pixels[base + k]! / shift);
      const g = Math.floor(pixels[base + plane + k]! / shift);
      const b = Math.floor(pixels[base + 2 * plane + k]! / shift);
      binOf[k] = (r * levels + g) * levels + b;
      let q = clampP(p[k]!);
      if (sal) {
        q = clampP(1 / (1 + Math.exp(-(Math.log(q / (1 - q)) + saliency * (sal[i * plane + k]! - saliencyThreshold)))));
        p[k] = q;
      }
      prior[k] = Math.log(q / (1 - q));
    }
    if (around) edgeWeights(pixels.subarray(base, base + 3 * plane), plane, around, weights!);
    if (kernel)
      bilateralWeights(pixels.subarray(base, base + 3 * plane), size, kernel, o.bilateralColour ?? 16, kernelWeights!, kernelTotal);
    for (let round = 0; round < rounds; round++) {
      let sf = 1e-6;
      let sb = 1e-6;
      for (let k = 0; k < plane; k++) {
        sf += p[k]!;
        sb += 1 - p[k]!;
      }
      hf.fill(balanced ? (smoothing * sf) / bins : smoothing);
      hb.fill(balanced ? (smoothing * sb) / bins : smoothing);
      for (let k = 0; k < plane; k++) {
        hf[binOf[k]!] += p[k]!;
        hb[binOf[k]!] += 1 - p[k]!;
      }
      // log [h_fg(c)/N_fg ÷ h_bg(c)/N_bg]. Equal pseudo-counts only keep empty bins finite and add no mass to the
      // norm; balanced ones scale both histograms' mass by (1 + smoothing), which cancels in the ratio.
      const norm = Math.log(sb / sf);
      for (let k = 0; k < plane; k++) {
        unary[k] = prior[k]! + strength * (Math.log(hf[binOf[k]!]! / hb[binOf[k]!]!) + norm);
        p[k] = 1 / (1 + Math.exp(-unary[k]!));
      }
      if (around || kernel) {
        for (let it = 0; it < meanField; it++) {
          if (kernel) bilateralMessages(p, size, kernel, kernelWeights!, kernelTotal, bilateralMsg);
          for (let k = 0; k < plane; k++) {
            let z = unary[k]!;
            if (around) {
              let msg = 0;
              for (let e = k * neighbours.length; e < (k + 1) * neighbours.length; e++)
                if (around[e]! >= 0) msg += weights![e]! * (2 * p[around[e]!]! - 1);
              z += pairwise * msg;
            }
            if (kernel) z += bilateral * bilateralMsg[k]!;
            next[k] = 1 / (1 + Math.exp(-z));
          }
          p.set(next);
        }
      }
    }
  }
  return probs;
}

/** The 8-neighbourhood as (dx, dy). */
const neighbours: readonly (readonly [number, number])[] = [
  [-1, -1],
  [0, -1],
  [1, -1],
  [-1, 0],
  [1, 0],
  [-1, 1],
  [0, 1],
  [1, 1],
];

/** For each pixel of an S×S grid, the indices of its 8 neighbours in `neighbours` order, −1 outside the grid. */
function neighbourIndices(size: number): Int32Array {
  const out = new Int32Array(size * size * neighbours.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      neighbours.forEach(([dx, dy], d) => {
        const xx = x + dx;
        const yy = y + dy;
        out[(y * size + x) * neighbours.length + d] = xx < 0 || yy < 0 || xx >= size || yy >= size ? -1 : yy * size + xx;
      });
    }
  }
  return out;
}

/**
 * GrabCut's contrast-sensitive weights of one CHW photo into `out` (one per entry of `around`):
 * exp(−β·|Δc|²)/distance, 0 outside the grid.
 */
function edgeWeights(chw: Uint8Array, plane: number, around: Int32Array, out: Float32Array) {
  const d2 = (a: number, b: number) => {
    let s = 0;
    for (let c = 0; c < 3; c++) {
      const v = chw[c * plane + a]! - chw[c * plane + b]!;
      s += v * v;
    }
    return s;
  };
  const pixelOf = (e: number) => Math.floor(e / neighbours.length);
  let sum = 0;
  let count = 0;
  for (let e = 0; e < around.length; e++) {
    if (around[e]! < 0) continue;
    sum += d2(pixelOf(e), around[e]!);
    count++;
  }
  const beta = 1 / (2 * Math.max(sum / Math.max(count, 1), 1e-6));
  for (let e = 0; e < around.length; e++) {
    const [dx, dy] = neighbours[e % neighbours.length]!;
    out[e] = around[e]! < 0 ? 0 : Math.exp(-beta * d2(pixelOf(e), around[e]!)) / Math.hypot(dx, dy);
  }
}

/** The bilateral term's window: offsets (dx, dy) within 2·θ_xy of a pixel (itself excluded) and their spatial factors. */
interface BilateralKernel {
  dx: Int32Array;
  dy: Int32Array;
  spatial: Float32Array;
}

function bilateralKernel(size: number, theta: number): BilateralKernel {
  const r = Math.min(size - 1, Math.ceil(2 * theta));
  const dx: number[] = [];
  const dy: number[] = [];
  const spatial: number[] = [];
  for (let y = -r; y <= r; y++) {
    for (let x = -r; x <= r; x++) {
      const d2 = x * x + y * y;
      if (d2 === 0 || d2 > r * r) continue;
      dx.push(x);
      dy.push(y);
      spatial.push(Math.exp(-d2 / (2 * theta * theta)));
    }
  }
  return { dx: Int32Array.from(dx), dy: Int32Array.from(dy), spatial: Float32Array.from(spatial) };
}

/** K_kj of one CHW photo into `out` (offset-major: out[e·S² + k], 0 outside the frame) and Σ_j K_kj into `total`. */
function bilateralWeights(
  chw: Uint8Array,
  size: number,
  kernel: BilateralKernel,
  thetaColour: number,
  out: Float32Array,
  total: Float32Array,
) {
  const plane = size * size;
  const inv = 1 / (2 * thetaColour * thetaColour);
  out.fill(0);
  total.fill(1e-6);
  for (let e = 0; e < kernel.dx.length; e++) {
    const dx = kernel.dx[e]!;
    const dy = kernel.dy[e]!;
    const sp = kernel.spatial[e]!;
    const w = out.subarray(e * plane, (e + 1) * plane);
    for (let y = Math.max(0, -dy); y < Math.min(size, size - dy); y++) {
      for (let x = Math.max(0, -dx); x < Math.min(size, size - dx); x++) {
        const k = y * size + x;
        const j = k + dy * size + dx;
        const r = chw[k]! - chw[j]!;
        const g = chw[plane + k]! - chw[plane + j]!;
        const b = chw[2 * plane + k]! - chw[2 * plane + j]!;
        const a = (r * r + g * g + b * b) * inv;
        if (a > 12) continue; // e^−12 < 10⁻⁵: too unlike to count, and exp is the costly part
        const v = sp * Math.exp(-a);
        w[k] = v;
        total[k] += v;
      }
    }
  }
}

/** Σ_j K_kj·(2·p_j − 1) / Σ_j K_kj at every pixel k into `out`. */
function bilateralMessages(
  p: Float32Array,
  size: number,
  kernel: BilateralKernel,
  w: Float32Array,
  total: Float32Array,
  out: Float32Array,
) {
  const plane = size * size;
  out.fill(0);
  for (let e = 0; e < kernel.dx.length; e++) {
    const dx = kernel.dx[e]!;
    const dy = kernel.dy[e]!;
    const shift = dy * size + dx;
    const we = w.subarray(e * plane, (e + 1) * plane);
    for (let y = Math.max(0, -dy); y < Math.min(size, size - dy); y++) {
      const row = y * size;
      for (let k = row + Math.max(0, -dx); k < row + Math.min(size, size - dx); k++) out[k] += we[k]! * (2 * p[k + shift]! - 1);
    }
  }
  for (let k = 0; k < plane; k++) out[k] /= total[k]!;
}
