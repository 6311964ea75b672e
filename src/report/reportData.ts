// SPDX-License-Identifier: MIT
// What the HTML report is made from: mostly paths a pipeline already has on disk (run directory, eval JSON,
// baseline JSON, test images and masks), each optional, so a report can be written at any stage of a run.
import type { ImageSource } from './images.js';
import type { LiveStatus } from './live.js';

/** The five columns of the metrics table (spec §10.5), in order. */
export const metricNames = ['DRC_IoU', 'DRC_DICE', 'IoU', 'mIoU', 'pACC'] as const;
export type MetricName = (typeof metricNames)[number];

/**
 * Segmentation scores as `ilsgan eval` and `scoreBaselines` produce them (a SegMetricsResult, possibly with more
 * keys): missing, null or non-finite values show as "n/a". `<name>_best` are the best-of-fg/bg variants.
 */
export type MetricValues = { [K in MetricName | `${MetricName}_best`]?: number | null } & { images?: number | null };

/** Scores of both trivial baselines (the shape of `BaselineResults` in src/eval/baselines.ts). */
export interface BaselineValues {
  all_foreground?: MetricValues | null;
  centred_ellipse?: MetricValues | null;
}

/** One test photo with its predicted and (if known) true mask: paths or encoded image bytes. */
export interface TestImage {
  name: string;
  image: ImageSource;
  pred: ImageSource;
  /** Ground-truth mask; null or absent when the photo has none. */
  truth?: ImageSource | null;
  /** Its IoU as the evaluation scored it; absent: computed from `pred` and `truth` at thumbnail size. */
  iou?: number | null;
}

/** One test image's IoU (of the predicted foreground with the true one; null when both are empty). */
export interface ImageScore {
  name: string;
  iou: number | null;
}

/** Everything the report shows; every field is optional and a missing piece shows as "no data" or "n/a". */
export interface ReportData {
  /** Page title (default "ilsgan report"). */
  title?: string;
  /** The "what this is" paragraph (a default explains the method and the page). */
  intro?: string;
  /** Training run directory: metrics.jsonl, samples-*.png and config.json are read from it. */
  runDir?: string;
  /** How the generator came about, e.g. "trained from scratch" or "continued from committed checkpoint X". */
  route?: string;
  /** Wall-clock seconds of each pipeline stage, in order (null: not run or unknown). */
  stages?: readonly { name: string; seconds: number | null }[];
  /** More rows for the run table, after those read from the run directory. */
  facts?: readonly { label: string; value: string | number | null }[];
  /** Most sample grids on the snapshot slider (default 12): the initial one, then snapshots spread over the run,
   *  always the last. */
  maxSampleGrids?: number;
  /**
   * The model's scores on the test set, or the path of a JSON file with them (what `ilsgan eval --out` writes).
   * If that object has a `baselines` key and `baselines` below is absent, the baselines are taken from it.
   */
  evaluation?: MetricValues | string;
  /** The trivial baselines' scores on the same test set, or the path of a JSON file with them. */
  baselines?: BaselineValues | string;
  /** One line about the test set, shown under the metrics table ("200 procedural test images at 64²"). */
  testSetNote?: string;
  /**
   * Test photos. Those with a true mask are ranked by IoU (the worst and best 8 shown with predicted mask, true
   * mask and overlay); those without are shown with their cut-outs, and lead the page when there are no metrics.
   */
  testImages?: readonly TestImage[];
  /** Per-image IoU over the whole test set, for its distribution (default: from the test photos with masks). */
  perImage?: readonly ImageScore[];
  /** The U-Net's folder (or its model.json): its validation IoU across training is drawn. */
  segmenter?: string;
  /** The command line shown in the footer (default: this process's, with the CLI shown as `ilsgan`). */
  commandLine?: string;
  /** Test photos are shrunk to fit this many pixels a side (default 160; never enlarged). */
  thumbnailPx?: number;
  /** Time stamp at the bottom of the page (default: now). */
  generatedAt?: Date;
  /** A run still going (or stopped early): a banner at the top and, while running, a reload every few seconds. */
  live?: LiveStatus;
}

/** What writeReport did. */
export interface ReportSummary {
  path: string;
  bytes: number;
  /** Pieces that were missing or unreadable, one line each (also stated on the page). */
  missing: string[];
}
