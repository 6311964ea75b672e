// SPDX-License-Identifier: MIT
// `ilsgan eval`: scores predicted masks (--pred) or a trained model's predictions on test images (--model) against
// ground truth (spec §10.3–10.5).
import { resolve } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import type { MaskResize } from '../../eval/maskFiles.js';
import type { SegMetricsResult } from '../../eval/segMetrics.js';
import { InputError } from '../../util/errors.js';
import { describeRefine } from '../../seg/refineSetting.js';
import { checkOutputFile, choice, deviceFlag, num, onOff, refineFlagHelp, resolveDevice, writeOutputFile } from '../parse.js';

/** The metrics as a readable table: as predicted, and best of fg/bg. */
function formatTable(r: SegMetricsResult, source: string, size: number | undefined): string {
  const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));
  const rows: [string, number | null, number | null][] = [
    ['DRC_IoU', r.DRC_IoU, r.DRC_IoU_best],
    ['DRC_DICE', r.DRC_DICE, r.DRC_DICE_best],
    ['IoU', r.IoU, r.IoU_best],
    ['mIoU', r.mIoU, r.mIoU_best],
    ['pACC', r.pACC, r.pACC_best],
  ];
  return [
    `${r.images} images${size === undefined ? '' : ` at ${size}×${size}`}: ${source}`,
    `  metric    predicted  best of fg/bg`,
    ...rows.map(([name, a, b]) => `  ${name.padEnd(9)} ${f(a).padStart(9)}  ${f(b).padStart(13)}`),
    `  both empty (left out of DRC_IoU/DRC_DICE): ${r.both_empty} predicted, ${r.both_empty_best} best of fg/bg`,
    `  inverted for best of fg/bg: ${r.inverted_best} of ${r.images}`,
    '',
  ].join('\n');
}

export function makeEvalCommand() {
  return new Command('eval')
    .description(
      'score segmentations against ground-truth masks (DRC_IoU, DRC_DICE, IoU, mIoU, pACC): predicted masks (--pred) or a model run on test images (--model)',
    )
    .option('--pred <dir>', 'folder of predicted masks (any image format; grey ≥ 128 = foreground)')
    .option('--model <dir>', 'segmentation model (the --out of ilsgan seg-train) to run on --images')
    .option('--images <dir>', 'with --model: folder of test images, or a DRC CUB/Dogs/Cars folder (its test split; no --masks)')
    .option('--masks <dir>', 'folder of ground-truth masks, paired by file name without extension')
    .option(
      '--size <s>',
      "compare at S×S (--pred: needed when sizes differ; --model: default the model's protocol size)",
      num('compareSide'),
    )
    .option(
      '--gt-resize <m>',
      'how masks are resized: nearest (binarise, then sample) or bilinear (CUB soft masks)',
      choice(['nearest', 'bilinear'] as const),
    )
    .option('--batch <n>', 'with --model: images per forward pass', num('batch'), 32)
    .option('--refine <on|off>', `with --model: ${refineFlagHelp}`, onOff)
    .option('--device <d>', 'with --model: auto (CUDA when present, else the CPU), cpu, cuda or cuda:N', deviceFlag, 'auto' as const)
    .option('--json', 'one JSON line on stdout instead of the table')
    .option('--out <file>', 'also write the JSON to this file')
    .action(async (o) => {
      if (o.out !== undefined) checkOutputFile(o.out, '--out');
      const device = o.model !== undefined ? await resolveDevice(o.device) : 'cpu';
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { scoreMaskFolders } = await import('../../eval/scoreMaskFolders.js');
      const { evaluateSegmenter } = await import('../../seg/evaluate.js');
      if ((o.model === undefined) === (o.pred === undefined)) {
        throw new InputError('eval needs exactly one of --pred <dir> (predicted masks) and --model <dir> (a seg-train model)', 'ERR_ARG');
      }
      let report: Record<string, unknown>;
      let r: SegMetricsResult;
      let source: string;
      let size: number | undefined;
      if (o.pred !== undefined) {
        if (o.masks === undefined) throw new InputError('eval --pred needs --masks <dir>', 'ERR_ARG');
        if (o.images !== undefined) throw new InputError('--images goes with --model, not --pred', 'ERR_ARG');
        if (o.refine !== undefined) throw new InputError('--refine goes with --model, not --pred', 'ERR_ARG');
        const gtResize: MaskResize = o.gtResize ?? 'nearest';
        r = await scoreMaskFolders(o.pred, o.masks, { size: o.size, gtResize });
        report = { pred: resolve(o.pred), masks: resolve(o.masks), size: o.size ?? null, gt_resize: gtResize, ...r };
        source = `predictions ${o.pred}, masks ${o.masks}`;
        size = o.size;
      } else {
        if (o.images === undefined)
          throw new InputError('eval --model needs --images <dir> (and --masks <dir> unless it is a DRC folder)', 'ERR_ARG');
        const e = await evaluateSegmenter({
          model: o.model as string,
          images: o.images,
          masks: o.masks,
          size: o.size,
          gtResize: o.gtResize,
          batch: o.batch,
          refine: o.refine,
          device,
        });
        const { netSize, source: from, size: at, refine, ...metrics } = e;
        r = metrics;
        report = {
          model: resolve(o.model as string),
          input: resolve(o.images),
          masks: o.masks === undefined ? null : resolve(o.masks),
          source: from,
          size: at,
          net_size: netSize,
          gt_resize: o.gtResize ?? null,
          refine,
          ...metrics,
        };
        source = `model ${o.model} on ${o.images}${o.masks === undefined ? ` (${e.source} test split)` : `, masks ${o.masks}`}`;
        if (refine) source += `; test-time refinement: ${describeRefine(refine)}`;
        size = e.size;
      }
      const line = `${JSON.stringify(report)}\n`;
      if (o.out !== undefined) writeOutputFile(o.out, '--out', new TextEncoder().encode(line));
      process.stdout.write(o.json ? line : formatTable(r, source, size));
    });
}
