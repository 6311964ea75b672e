// SPDX-License-Identifier: MIT
// Beyond the paper: refining a photo's foreground probabilities with the photo's own colours (GrabCut's idea,
// without the graph cut). A segmenter trained on GAN images knows roughly where and how big the object is, but
// its outline follows the GAN's shapes. Each photo then gets two colour histograms, one weighted by the
// foreground probability and one by the background probability, and every pixel's log-odds move by how much
// likelier its colour is under the foreground histogram than under the background one; a few rounds re-estimate
// the histograms from the refined probabilities (EM). Where object and background share colours the ratio is near
// 1 and the segmenter's opinion stands.

export interface ColourRefineOptions {
  /** Levels per RGB channel of the histograms (8 → 512 bins). */
  levels?: number;
  /** Weight of the colour log-likelihood ratio against the segmenter's log-odds (1). */
  strength?: number;
  /** EM rounds (2). */
  rounds?: number;
  /** Pseudo-count added to every bin (1). */
  smoothing?: number;
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
  const plane = size * size;
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
      const q = clampP(p[k]!);
      prior[k] = Math.log(q / (1 - q));
    }
    for (let round = 0; round < rounds; round++) {
      hf.fill(smoothing);
      hb.fill(smoothing);
      let sf = 1e-6;
      let sb = 1e-6;
      for (let k = 0; k < plane; k++) {
        hf[binOf[k]!] += p[k]!;
        hb[binOf[k]!] += 1 - p[k]!;
        sf += p[k]!;
        sb += 1 - p[k]!;
      }
      // log [h_fg(c)/N_fg ÷ h_bg(c)/N_bg]: the pseudo-counts only keep empty bins finite, they add no mass.
      const norm = Math.log(sb / sf);
      for (let k = 0; k < plane; k++) {
        const logit = prior[k]! + strength * (Math.log(hf[binOf[k]!]! / hb[binOf[k]!]!) + norm);
        p[k] = 1 / (1 + Math.exp(-logit));
      }
    }
  }
  return probs;
}
