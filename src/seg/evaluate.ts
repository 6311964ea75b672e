// SPDX-License-Identifier: MIT
// Scores a trained segmenter on real images with ground-truth masks (spec §10.3–10.5): a folder of images and a
// folder of masks paired by name, or the test split of a DRC CUB / Dogs / Cars folder (spec §2.2). A model whose
// model.json has `refine` is scored with its predictions refined (refinePredictions.ts), as `segment` writes them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { detectLayout, readIdTable } from '../data/imageFolder.js';
import { readNpyStrings } from '../data/npy.js';
import { type MaskResize, listSome, pairByStem, readBinaryMask } from '../eval/maskFiles.js';
import { BaselineMetrics, type BaselineResults } from '../eval/baselines.js';
import { SegMetrics, type SegMetricsResult, confusion, imageIoU } from '../eval/segMetrics.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../util/errors.js';
import { fromBytes } from '../tensor/ops/creation.js';
import { noGrad, scope } from '../tensor/scope.js';
import { type Segmenter, loadSegmenter, resizeLogits } from './model.js';
import { refinedLogits } from './refinePredictions.js';
import { type RefineSetting, chooseRefine } from './refineSetting.js';
import { type Box, decodePhoto, packChw, photoToInput } from './photos.js';
import { mapLimit } from '../util/mapLimit.js';

/** One test image with its ground truth and how the official loader prepares them. */
export interface TestPair {
  stem: string;
  image: string;
  mask: string;
  /** CUB's bounding box [x, y, w, h]: image and mask are cropped around it before resizing (spec §2.2). */
  bbox?: readonly [number, number, number, number];
  gtResize: MaskResize;
}

export interface EvaluateOptions {
  model: string | Segmenter;
  /** Folder of test images, or a DRC CUB / Dogs / Cars folder (then without `masks`). */
  images: string;
  /** Folder of ground-truth masks paired with `images` by file name without extension. */
  masks?: string;
  /** Side at which predictions and masks are compared (default: the model's evalSize, 64 or 128). */
  size?: number;
  /** How masks are resized (default: nearest; bilinear for CUB, as its loader). */
  gtResize?: MaskResize;
  batch?: number;
  device?: Device;
  /** Also score the trivial baselines (all foreground, centred ellipse) on the same ground truth. */
  baselines?: boolean;
  /** Also return each image's IoU (the per-image term of DRC_IoU), for the report's ranking. */
  perImage?: boolean;
  /** Test-time refinement: absent → model.json's; false → none; true → model.json's or the default (chooseRefine). */
  refine?: boolean | RefineSetting;
  onProgress?: (done: number, total: number) => void;
}

export interface EvaluateResult extends SegMetricsResult {
  /** 'folder', 'cub', 'dogs' or 'cars'. */
  source: string;
  size: number;
  /** The network's input side. */
  netSize: number;
  /** The test-time refinement the predictions had (null: none). */
  refine: RefineSetting | null;
  /** With `baselines: true`: the trivial baselines on the same masks at the same size. */
  baselines?: BaselineResults;
  /** With `perImage: true`: each test image's IoU by its name (stem), in test-set order; null when the predicted
   *  and true masks are both empty. */
  perImage?: { name: string; iou: number | null }[];
}

/** Pairs images and masks by stem. @throws InputError listing the files without a partner on either side. */
export function pairImagesWithMasks(imagesDir: string, masksDir: string, gtResize: MaskResize = 'nearest'): TestPair[] {
  return pairByStem(
    { dir: imagesDir, what: 'image', noun: 'image' },
    { dir: masksDir, what: 'ground-truth mask', noun: 'mask' },
    'images and masks',
  ).map((p) => ({ stem: p.stem, image: p.a, mask: p.b, gtResize }));
}

/** The test split of a DRC dataset folder (spec §2.2), or null for a plain folder. */
export function drcTestPairs(root: string): { source: string; pairs: TestPair[] } | null {
  const layout = detectLayout(root);
  if (layout === 'cub') {
    const table = (file: string) => readIdTable(join(root, file));
    const names = table('images.txt');
    const split = table('train_val_test_split.txt');
    if (!existsSync(join(root, 'bounding_boxes.txt')))
      throw new InputError(`${root} looks like CUB but has no bounding_boxes.txt`, 'ERR_NO_IMAGES');
    const boxes = table('bounding_boxes.txt');
    const pairs: TestPair[] = [];
    for (const [id, [name]] of names) {
      if (split.get(id)?.[0] !== '2' || !name) continue;
      const b = boxes.get(id)?.map(Number);
      if (!b || b.length < 4 || b.some((v) => !Number.isFinite(v)))
        throw new InputError(`CUB image ${id} (${name}) has no bounding box`, 'ERR_NO_IMAGES');
      pairs.push({
        stem: name.replace(/\.[^./]+$/, ''),
        image: join(root, 'images', name),
        mask: join(root, 'segmentations', name.replace(/\.[^./]+$/, '.png')),
        bbox: [b[0]!, b[1]!, b[2]!, b[3]!],
        gtResize: 'bilinear',
      });
    }
    return { source: 'cub', pairs };
  }
  if (layout === 'dogs' || layout === 'cars') {
    const tokens = readNpyStrings(join(root, layout === 'dogs' ? 'data_te_sel.npy' : 'data_mrcnn_test_select.npy'));
    const dir = join(root, 'data_mrcnn', 'test', 'resized');
    return {
      source: layout,
      pairs: tokens.map((t) => ({
        stem: t,
        image: join(dir, `${t}_resized.png`),
        mask: join(dir, `${t}_maskresized.png`),
        gtResize: 'nearest' as const,
      })),
    };
  }
  return null;
}

/** CUB's test crop (spec §2.2): a square of side 1.5·max(w, h) centred on the box, cut at the image border. */
export function cubCropBox(bbox: readonly [number, number, number, number], width: number, height: number): Box {
  const [x, y, w, h] = bbox;
  const r = Math.trunc(0.75 * Math.max(w, h));
  const cx = Math.trunc((2 * x + w) / 2);
  const cy = Math.trunc((2 * y + h) / 2);
  return [Math.max(0, cx - r), Math.max(0, cy - r), Math.min(width, cx + r), Math.min(height, cy + r)];
}

/**
 * Predicts every test image and scores the predictions with spec §10.5's metrics at size×size.
 * @throws InputError for missing/unmatched files (listing them) or unreadable images and masks.
 */
export async function evaluateSegmenter(o: EvaluateOptions): Promise<EvaluateResult> {
  let source = 'folder';
  let pairs: TestPair[];
  if (o.masks === undefined) {
    const drc = existsSync(o.images) ? drcTestPairs(o.images) : null;
    if (!drc)
      throw new InputError(`${o.images} is not a DRC CUB/Dogs/Cars folder; give --masks <dir> with its ground-truth masks`, 'ERR_ARG');
    source = drc.source;
    pairs = drc.pairs;
    const missing = pairs.flatMap((p) => [p.image, p.mask]).filter((f) => !existsSync(f));
    if (missing.length > 0)
      throw new InputError(
        `${missing.length} test file${missing.length === 1 ? ' is' : 's are'} missing from ${o.images}: ${listSome(missing)}`,
        'ERR_NO_IMAGES',
      );
    if (pairs.length === 0) throw new InputError(`no test images in ${o.images}`, 'ERR_NO_IMAGES');
  } else {
    pairs = pairImagesWithMasks(o.images, o.masks, o.gtResize ?? 'nearest');
  }
  const seg = typeof o.model === 'string' ? loadSegmenter(o.model, o.device ?? 'cpu') : o.model;
  const size = o.size ?? seg.config.evalSize;
  const s = seg.config.size;
  const batch = o.batch ?? 32;
  const refine = chooseRefine(seg.config.refine, o.refine);
  const metrics = new SegMetrics();
  const baselines = o.baselines ? new BaselineMetrics() : null;
  const perImage: { name: string; iou: number | null }[] = [];
  try {
    for (let start = 0; start < pairs.length; start += batch) {
      const chunk = pairs.slice(start, start + batch);
      const loaded = await mapLimit(chunk, 8, async (p) => {
        let photo: Awaited<ReturnType<typeof decodePhoto>>;
        try {
          photo = await decodePhoto(p.image);
        } catch (e) {
          throw new InputError(`cannot read test image ${p.image}: ${(e as Error).message.split('\n')[0]}`, 'ERR_IMAGE_FILE');
        }
        const box = p.bbox ? cubCropBox(p.bbox, photo.width, photo.height) : undefined;
        const input = await photoToInput(photo, s, box);
        const gt = (await readBinaryMask(p.mask, size, o.gtResize ?? p.gtResize, box)).mask;
        return { input, gt };
      });
      const pixels = packChw(
        loaded.map((l) => l.input),
        s,
      );
      const preds = noGrad(() =>
        scope(() => {
          const x = fromBytes(pixels, 'uint8', [loaded.length, 3, s, s], seg.device).float().div(127.5).sub(1);
          const m = resizeLogits(refinedLogits(seg.net, x, pixels, refine), size, size)
            .gt(0)
            .to('uint8');
          return m.cpu().data() as Uint8Array;
        }),
      );
      loaded.forEach((l, k) => {
        const pred = preds.subarray(k * size * size, (k + 1) * size * size);
        metrics.add(pred, l.gt);
        if (o.perImage) perImage.push({ name: chunk[k]!.stem, iou: imageIoU(confusion(pred, l.gt)) });
        baselines?.add(l.gt, size, size);
      });
      o.onProgress?.(Math.min(start + batch, pairs.length), pairs.length);
    }
  } finally {
    if (typeof o.model === 'string') seg.dispose();
  }
  return {
    source,
    size,
    netSize: s,
    refine,
    ...metrics.result(),
    ...(baselines ? { baselines: baselines.result() } : {}),
    ...(o.perImage ? { perImage } : {}),
  };
}
