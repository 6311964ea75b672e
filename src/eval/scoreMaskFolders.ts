// SPDX-License-Identifier: MIT
// Scores a folder of predicted masks against a folder of ground-truth masks (paired by name) with spec §10.5.
import { InputError } from '../util/errors.js';
import { type MaskResize, listSome, pairMaskFolders, readBinaryMask } from './maskFiles.js';
import { SegMetrics, type SegMetricsResult } from './segMetrics.js';

export interface ScoreFoldersOptions {
  /** Bring every mask to size×size (predictions by nearest neighbour, ground truth by `gtResize`). */
  size?: number;
  /** How ground-truth masks are resized (default nearest; spec §2.2). */
  gtResize?: MaskResize;
  /** Called after each image. */
  onProgress?: (done: number, total: number) => void;
}

/** Decodes this many images at a time (sharp works off the main thread). */
const inFlight = 8;

/**
 * Reads every pair, checks that prediction and mask have the same size (after `size`, if given) and
 * accumulates the metrics in file-name order.
 * @throws InputError for unmatched files, unreadable files or differing sizes (listing them).
 */
export async function scoreMaskFolders(predDir: string, gtDir: string, opts: ScoreFoldersOptions = {}): Promise<SegMetricsResult> {
  const pairs = pairMaskFolders(predDir, gtDir);
  const metrics = new SegMetrics();
  const mismatched: string[] = [];
  for (let start = 0; start < pairs.length; start += inFlight) {
    const batch = pairs.slice(start, start + inFlight);
    const loaded = await Promise.all(
      batch.map(
        async (p) => [await readBinaryMask(p.pred, opts.size, 'nearest'), await readBinaryMask(p.gt, opts.size, opts.gtResize)] as const,
      ),
    );
    loaded.forEach(([pred, gt], i) => {
      if (pred.width !== gt.width || pred.height !== gt.height) {
        mismatched.push(`${batch[i]!.stem} (${pred.width}×${pred.height} vs ${gt.width}×${gt.height})`);
      } else if (mismatched.length === 0) {
        metrics.add(pred.mask, gt.mask);
      }
    });
    opts.onProgress?.(Math.min(start + inFlight, pairs.length), pairs.length);
  }
  if (mismatched.length > 0) {
    throw new InputError(
      `${mismatched.length} prediction${mismatched.length === 1 ? ' differs' : 's differ'} in size from ${mismatched.length === 1 ? 'its mask' : 'their masks'}: ${listSome(mismatched)}`,
      'ERR_MASK_SIZE',
      'pass --size S to resize predictions and masks to S×S',
    );
  }
  return metrics.result();
}
