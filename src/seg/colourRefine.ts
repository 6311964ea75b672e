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
  /** Mean-field iterations per EM round when `pairwise` > 0 (5). */
  meanField?: number;
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
  const plane = size * size;
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
      if (around) {
        for (let it = 0; it < meanField; it++) {
          for (let k = 0; k < plane; k++) {
            let msg = 0;
            for (let e = k * neighbours.length; e < (k + 1) * neighbours.length; e++)
              if (around[e]! >= 0) msg += weights![e]! * (2 * p[around[e]!]! - 1);
            next[k] = 1 / (1 + Math.exp(-(unary[k]! + pairwise * msg)));
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
