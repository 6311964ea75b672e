// SPDX-License-Identifier: MIT
// Segmentation metrics of spec §10.5 (`calc_metrics`) on binary masks, accumulated image by image, plus the
// best-of-{fg, bg} variant that slot-attention papers report.
import { ShapeError } from '../tensor/errors.js';

/** A binary mask, one entry per pixel: nonzero (or true) = foreground. */
export type BinaryMask = ArrayLike<number | boolean>;

/** What `SegMetrics.result()` returns. A metric that is undefined on the data (0/0) is `null`. */
export interface SegMetricsResult {
  /** Mean over images of |P∩G| / |P∪G|, over the images where prediction or ground truth has foreground. */
  DRC_IoU: number | null;
  /** Mean over images of 2|P∩G| / (|P| + |G|), over the same images as DRC_IoU. */
  DRC_DICE: number | null;
  /** Foreground IoU of the dataset-level confusion matrix: TP / (TP + FP + FN), pixels summed over all images. */
  IoU: number | null;
  /** Mean of the dataset-level foreground and background IoUs. */
  mIoU: number | null;
  /** Fraction of pixels classified correctly. */
  pACC: number | null;
  /** The same five with each image's prediction replaced by its inverse where that scores a higher IoU. */
  DRC_IoU_best: number | null;
  DRC_DICE_best: number | null;
  IoU_best: number | null;
  mIoU_best: number | null;
  pACC_best: number | null;
  /** Images scored. */
  images: number;
  /** Pixels scored (all images together). */
  pixels: number;
  /**
   * Images whose prediction and ground truth are both empty: their IoU and DICE are 0/0 (the official code's
   * per-image value is NaN, which makes its mean NaN), so they are left out of DRC_IoU and DRC_DICE and
   * counted here. They still count in IoU, mIoU and pACC (as correctly classified background).
   */
  both_empty: number;
  /** The same count for the best-of variant (an all-foreground prediction on an empty mask inverts to one). */
  both_empty_best: number;
  /** Images where the best-of variant used the inverted prediction. */
  inverted_best: number;
}

/** Pixel counts of one image: true/false positives/negatives with foreground as the positive class. */
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** Counts the confusion matrix of one prediction against one ground truth (same length). */
export function confusion(pred: BinaryMask, gt: BinaryMask): Confusion {
  if (pred.length !== gt.length) throw new ShapeError(`prediction has ${pred.length} pixels but ground truth has ${gt.length}`);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] ? 1 : 0;
    const g = gt[i] ? 1 : 0;
    tp += p & g;
    fp += p & (g ^ 1);
    fn += (p ^ 1) & g;
  }
  return { tp, fp, fn, tn: pred.length - tp - fp - fn };
}

/** The confusion matrix of the inverted prediction (foreground ↔ background) against the same ground truth. */
export function invertedConfusion(c: Confusion): Confusion {
  return { tp: c.fn, fp: c.tn, fn: c.tp, tn: c.fp };
}

/** Per-image foreground IoU; null when prediction and ground truth are both empty. */
export function imageIoU(c: Confusion): number | null {
  const union = c.tp + c.fp + c.fn;
  return union === 0 ? null : c.tp / union;
}

/** Per-image DICE; null when prediction and ground truth are both empty. */
export function imageDice(c: Confusion): number | null {
  const sizes = 2 * c.tp + c.fp + c.fn;
  return sizes === 0 ? null : (2 * c.tp) / sizes;
}

/** Sums for one variant (as predicted, or best of fg/bg). */
class Tally {
  iouSum = 0;
  diceSum = 0;
  scored = 0;
  bothEmpty = 0;
  tp = 0;
  fp = 0;
  fn = 0;
  tn = 0;

  add(c: Confusion): void {
    const iou = imageIoU(c);
    const dice = imageDice(c);
    if (iou === null || dice === null) {
      this.bothEmpty++;
    } else {
      this.iouSum += iou;
      this.diceSum += dice;
      this.scored++;
    }
    this.tp += c.tp;
    this.fp += c.fp;
    this.fn += c.fn;
    this.tn += c.tn;
  }

  metrics(): { DRC_IoU: number | null; DRC_DICE: number | null; IoU: number | null; mIoU: number | null; pACC: number | null } {
    const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
    const fgIoU = ratio(this.tp, this.tp + this.fp + this.fn);
    const bgIoU = ratio(this.tn, this.tn + this.fp + this.fn);
    return {
      DRC_IoU: ratio(this.iouSum, this.scored),
      DRC_DICE: ratio(this.diceSum, this.scored),
      IoU: fgIoU,
      mIoU: fgIoU === null || bgIoU === null ? null : (fgIoU + bgIoU) / 2,
      pACC: ratio(this.tp + this.tn, this.tp + this.fp + this.fn + this.tn),
    };
  }
}

/**
 * Which of a prediction and its inverse the best-of variant keeps: the higher per-image IoU (both empty counts
 * as a perfect 1), then the higher pixel accuracy, then the prediction as it is.
 */
export function preferInverted(c: Confusion): boolean {
  const inv = invertedConfusion(c);
  const score = (x: Confusion) => imageIoU(x) ?? 1;
  const s = score(c);
  const si = score(inv);
  if (si !== s) return si > s;
  return inv.tp + inv.tn > c.tp + c.tn;
}

/** Accumulates the metrics of spec §10.5 over a test set: `add(pred, gt)` per image, then `result()`. */
export class SegMetrics {
  private readonly plain = new Tally();
  private readonly best = new Tally();
  private images = 0;
  private inverted = 0;

  /** Scores one image; `pred` and `gt` are binary masks of the same length (nonzero = foreground). */
  add(pred: BinaryMask, gt: BinaryMask): Confusion {
    const c = confusion(pred, gt);
    this.addConfusion(c);
    return c;
  }

  /** Scores one image from its confusion counts. */
  addConfusion(c: Confusion): void {
    this.images++;
    this.plain.add(c);
    if (preferInverted(c)) {
      this.inverted++;
      this.best.add(invertedConfusion(c));
    } else {
      this.best.add(c);
    }
  }

  result(): SegMetricsResult {
    const p = this.plain.metrics();
    const b = this.best.metrics();
    return {
      ...p,
      DRC_IoU_best: b.DRC_IoU,
      DRC_DICE_best: b.DRC_DICE,
      IoU_best: b.IoU,
      mIoU_best: b.mIoU,
      pACC_best: b.pACC,
      images: this.images,
      pixels: this.plain.tp + this.plain.fp + this.plain.fn + this.plain.tn,
      both_empty: this.plain.bothEmpty,
      both_empty_best: this.best.bothEmpty,
      inverted_best: this.inverted,
    };
  }
}
