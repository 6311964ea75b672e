// SPDX-License-Identifier: MIT
// `ilsgan eval --pred <dir> --masks <dir>`: scores a folder of predicted masks against ground truth (spec §10.5).
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import type { MaskResize } from '../../eval/maskFiles.js';
import { scoreMaskFolders } from '../../eval/scoreMaskFolders.js';
import type { SegMetricsResult } from '../../eval/segMetrics.js';
import { writeFileAtomic } from '../../util/atomicWrite.js';
import { choice, positiveInt } from '../parse.js';

/** The metrics as a readable table: as predicted, and best of fg/bg. */
function formatTable(r: SegMetricsResult, pred: string, masks: string, size: number | undefined): string {
  const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));
  const rows: [string, number | null, number | null][] = [
    ['DRC_IoU', r.DRC_IoU, r.DRC_IoU_best],
    ['DRC_DICE', r.DRC_DICE, r.DRC_DICE_best],
    ['IoU', r.IoU, r.IoU_best],
    ['mIoU', r.mIoU, r.mIoU_best],
    ['pACC', r.pACC, r.pACC_best],
  ];
  return [
    `${r.images} images${size === undefined ? '' : ` at ${size}×${size}`}: predictions ${pred}, masks ${masks}`,
    `  metric    predicted  best of fg/bg`,
    ...rows.map(([name, a, b]) => `  ${name.padEnd(9)} ${f(a).padStart(9)}  ${f(b).padStart(13)}`),
    `  both empty (left out of DRC_IoU/DRC_DICE): ${r.both_empty} predicted, ${r.both_empty_best} best of fg/bg`,
    `  inverted for best of fg/bg: ${r.inverted_best} of ${r.images}`,
    '',
  ].join('\n');
}

export function makeEvalCommand() {
  return new Command('eval')
    .description('score predicted masks against ground-truth masks (DRC_IoU, DRC_DICE, IoU, mIoU, pACC)')
    .requiredOption('--pred <dir>', 'folder of predicted masks (any image format; grey ≥ 128 = foreground)')
    .requiredOption('--masks <dir>', 'folder of ground-truth masks, paired with --pred by file name without extension')
    .option('--size <s>', 'resize predictions and masks to S×S first (needed when their sizes differ)', positiveInt)
    .option('--gt-resize <m>', 'how masks are resized: nearest (binarise, then sample) or bilinear (CUB soft masks)', choice(['nearest', 'bilinear'] as const), 'nearest' as MaskResize)
    .option('--json', 'one JSON line on stdout instead of the table')
    .option('--out <file>', 'also write the JSON to this file')
    .action(async (o) => {
      const r = await scoreMaskFolders(o.pred, o.masks, { size: o.size, gtResize: o.gtResize });
      const report = { pred: resolve(o.pred), masks: resolve(o.masks), size: o.size ?? null, gt_resize: o.gtResize, ...r };
      const line = `${JSON.stringify(report)}\n`;
      if (o.out !== undefined) {
        mkdirSync(dirname(resolve(o.out)), { recursive: true });
        writeFileAtomic(o.out, new TextEncoder().encode(line));
      }
      process.stdout.write(o.json ? line : formatTable(r, o.pred, o.masks, o.size));
    });
}
