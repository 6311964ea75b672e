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

/** Accumulates both baselines over ground-truth masks, image by image (like SegMetrics). */
export class BaselineMetrics {
  private readonly all = new SegMetrics();
  private readonly ellipse = new SegMetrics();
  private readonly ellipses = new Map<string, Uint8Array>();

  add(mask: ArrayLike<number>, width: number, height: number): void {
    this.all.add(new Uint8Array(width * height).fill(1), mask);
    const key = `${width}x${height}`;
    let e = this.ellipses.get(key);
    if (!e) this.ellipses.set(key, (e = centredEllipse(width, height)));
    this.ellipse.add(e, mask);
  }

  result(): BaselineResults {
    return { all_foreground: this.all.result(), centred_ellipse: this.ellipse.result() };
  }
}

/** Scores both baselines against ground-truth masks (each with its own width and height). */
export function scoreBaselines(truths: Iterable<{ mask: ArrayLike<number>; width: number; height: number }>): BaselineResults {
  const b = new BaselineMetrics();
  for (const g of truths) b.add(g.mask, g.width, g.height);
  return b.result();
}
