// SPDX-License-Identifier: MIT
// Trivial segmentation baselines, scored on the same test set as a model: a result near them means nothing
// was learned. "All foreground" predicts every pixel as object; "centred ellipse" predicts a fixed ellipse in
// the middle of the frame (objects in photo datasets and in the procedural set are roughly centred).
import { SegMetrics, type SegMetricsResult } from './segMetrics.js';

/** Foreground fraction of the fixed centred ellipse (a disc at square sizes): typical object area. */
export const ellipseArea = 0.3;

/** A w×h mask of a centred ellipse covering `area` of the frame (axes proportional to the sides). */
export function centredEllipse(width: number, height: number, area = ellipseArea): Uint8Array {
  // π·a·b = area·w·h with a/b = w/h ⇒ a = w·√(area/π), b = h·√(area/π).
  const k = Math.sqrt(area / Math.PI);
  const a = width * k;
  const b = height * k;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const dy = (y + 0.5 - height / 2) / b;
    for (let x = 0; x < width; x++) {
      const dx = (x + 0.5 - width / 2) / a;
      out[y * width + x] = dx * dx + dy * dy <= 1 ? 1 : 0;
    }
  }
  return out;
}

export interface BaselineResults {
  all_foreground: SegMetricsResult;
  centred_ellipse: SegMetricsResult;
}

/** Scores both baselines against ground-truth masks (each with its own width and height). */
export function scoreBaselines(truths: Iterable<{ mask: ArrayLike<number>; width: number; height: number }>): BaselineResults {
  const all = new SegMetrics();
  const ellipse = new SegMetrics();
  const ellipses = new Map<string, Uint8Array>();
  for (const g of truths) {
    all.add(new Uint8Array(g.width * g.height).fill(1), g.mask);
    const key = `${g.width}x${g.height}`;
    let e = ellipses.get(key);
    if (!e) ellipses.set(key, (e = centredEllipse(g.width, g.height)));
    ellipse.add(e, g.mask);
  }
  return { all_foreground: all.result(), centred_ellipse: ellipse.result() };
}
