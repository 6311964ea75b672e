// SPDX-License-Identifier: MIT
// Segments real photos with a trained U-Net: each whole image stretched to S×S (as the test protocol, spec §2.2),
// batched forward passes, logits upsampled bilinearly to the original size before the argmax (spec §10.4); writes a
// 0/255 grey mask and an RGBA cutout per image.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { imageExtensions, writePng } from '../data/decode.js';
import { listImages } from '../data/imageFolder.js';
import { listSome } from '../eval/maskFiles.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../tensor/errors.js';
import { fromBytes } from '../tensor/ops/creation.js';
import { noGrad, scope } from '../tensor/scope.js';
import { type Segmenter, foregroundLogit, loadSegmenter, resizeLogits } from './model.js';
import { type Photo, decodePhoto, packChw, photoToInput } from './photos.js';
import { mapLimit } from '../util/mapLimit.js';

/** Output sub-folders: `masks/<name>.png` (grey 0/255) and `cutouts/<name>.png` (RGBA, alpha = mask). */
export const segmentFolders = { masks: 'masks', cutouts: 'cutouts' } as const;

export interface SegmentOptions {
  /** Model directory (the --out of seg-train) or a loaded segmenter (left open). */
  model: string | Segmenter;
  /** An image file or a folder (searched recursively). */
  input: string;
  /** Output folder; masks/ and cutouts/ mirror the input's sub-folders. */
  out: string;
  /** Images per forward pass (32). */
  batch?: number;
  /** Write cutouts (true). */
  cutouts?: boolean;
  device?: Device;
  onProgress?: (done: number, total: number) => void;
  /** Warnings for skipped files (default: stderr). */
  warn?: (message: string) => void;
}

export interface SegmentResult {
  /** Images segmented. */
  written: number;
  /** Files that could not be read, with the reason. */
  skipped: { path: string; reason: string }[];
  /** Output mask paths, relative to out, in input order. */
  masks: string[];
  /** Mean foreground fraction over the written masks. */
  meanForeground: number;
}

/** Whether `path` is `dir` or lies inside it (both resolved; no file system access). */
function isInside(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Input files and their output names (path relative to the input root, extension replaced by .png). Files in the
 * folders written under `out` (masks/, cutouts/) are left out, so an output folder equal to or inside the input
 * folder is never segmented again on a rerun.
 */
export function segmentInputs(input: string, out?: string): { files: string[]; names: string[] } {
  if (!existsSync(input)) throw new InputError(`input not found: ${input}`, 'ERR_NO_IMAGES');
  let files: string[];
  let root: string;
  if (statSync(input).isDirectory()) {
    files = listImages(input);
    root = input;
    if (out !== undefined) {
      // The folders this command writes (out may be the input folder itself, or inside it).
      const written = Object.values(segmentFolders).map((f) => join(out, f)).filter((d) => isInside(d, input));
      files = files.filter((f) => !written.some((d) => isInside(f, d)));
    }
  } else {
    files = [input];
    root = dirname(input);
  }
  if (files.length === 0) {
    throw new InputError(`no images in ${input}`, 'ERR_NO_IMAGES', `looked recursively for ${[...imageExtensions].join(' ')}`);
  }
  const names = files.map((f) => {
    const rel = relative(root, f);
    return join(dirname(rel), `${basename(rel, extname(rel))}.png`);
  });
  // photo.jpg and photo.png in one folder would write the same mask: refuse rather than overwrite.
  const seen = new Map<string, string>();
  const clashes: string[] = [];
  names.forEach((n, i) => {
    const other = seen.get(n);
    if (other !== undefined) clashes.push(`${other} / ${relative(root, files[i]!)}`);
    else seen.set(n, relative(root, files[i]!));
  });
  if (clashes.length > 0) {
    throw new InputError(`several inputs would write the same mask name: ${listSome(clashes)}`, 'ERR_NAME_CLASH', 'rename or move one of each pair');
  }
  return { files, names };
}

/** Foreground masks (0/255 bytes, width·height each) of decoded photos at their own sizes. */
export function predictMasks(seg: Segmenter, inputs: Uint8Array, sizes: readonly { width: number; height: number }[]): Uint8Array[] {
  const s = seg.config.size;
  return noGrad(() =>
    scope(() => {
      const batch = fromBytes(inputs, 'uint8', [sizes.length, 3, s, s], seg.device).float().div(127.5).sub(1);
      const logit = foregroundLogit(seg.net, batch); // [N, 1, S, S]
      return sizes.map(({ width, height }, i) =>
        scope(() => {
          const m = resizeLogits(logit.narrow(0, i, 1), height, width).gt(0).to('uint8').mul(255);
          return m.cpu().data() as Uint8Array;
        }),
      );
    }),
  );
}

/**
 * Segments every image under `input` and writes masks (and cutouts) to `out`. Unreadable files are skipped
 * with a warning and counted.
 * @throws InputError when the input has no images, or none of them can be read.
 */
export async function segmentImages(o: SegmentOptions): Promise<SegmentResult> {
  const { files, names } = segmentInputs(o.input, o.out);
  const batch = o.batch ?? 32;
  if (!Number.isInteger(batch) || batch < 1) throw new InputError(`batch must be a positive integer, got ${batch}`, 'ERR_ARG');
  const warn = o.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const seg = typeof o.model === 'string' ? loadSegmenter(o.model, o.device ?? 'cpu') : o.model;
  const s = seg.config.size;
  const writeCutouts = o.cutouts ?? true;
  const skipped: SegmentResult['skipped'] = [];
  const masks: string[] = [];
  let fgSum = 0;
  let pendingWrites: Promise<unknown> = Promise.resolve();
  try {
    for (let start = 0; start < files.length; start += batch) {
      const chunk = files.slice(start, start + batch).map((f, k) => ({ file: f, name: names[start + k]! }));
      // Decode this chunk (libvips threads) while the previous chunk's PNGs are still being written.
      const decoded = await mapLimit(chunk, 8, async (c) => {
        try {
          const photo = await decodePhoto(c.file);
          return { ...c, photo, input: await photoToInput(photo, s) };
        } catch (e) {
          const reason = (e as Error).message.split('\n')[0] ?? 'unreadable';
          skipped.push({ path: c.file, reason });
          warn(`skipping ${c.file}: ${reason}`);
          return null;
        }
      });
      const good = decoded.filter((d): d is NonNullable<typeof d> => d !== null);
      await pendingWrites;
      if (good.length > 0) {
        const predicted = predictMasks(seg, packChw(good.map((g) => g.input), s), good.map((g) => g.photo));
        const writes: Promise<void>[] = [];
        good.forEach((g, k) => {
          const mask = predicted[k]!;
          let fg = 0;
          for (let i = 0; i < mask.length; i++) fg += mask[i]! >> 7;
          fgSum += fg / mask.length;
          masks.push(join(segmentFolders.masks, g.name));
          writes.push(writeOutputs(o.out, g.name, g.photo, mask, writeCutouts));
        });
        pendingWrites = Promise.all(writes);
      }
      o.onProgress?.(Math.min(start + batch, files.length), files.length);
    }
    await pendingWrites;
  } finally {
    if (typeof o.model === 'string') seg.dispose();
  }
  if (masks.length === 0) {
    throw new InputError(`none of the ${files.length} input files could be read`, 'ERR_NO_IMAGES', skipped[0] ? `${skipped[0].path}: ${skipped[0].reason}` : undefined);
  }
  return { written: masks.length, skipped, masks, meanForeground: fgSum / masks.length };
}

async function writeOutputs(out: string, name: string, photo: Photo, mask: Uint8Array, cutout: boolean): Promise<void> {
  const maskPath = join(out, segmentFolders.masks, name);
  mkdirSync(dirname(maskPath), { recursive: true });
  const writes = [writePng(maskPath, mask, photo.width, photo.height, 1)];
  if (cutout) {
    const cutPath = join(out, segmentFolders.cutouts, name);
    mkdirSync(dirname(cutPath), { recursive: true });
    const rgba = photo.rgba.slice();
    // alpha = mask, keeping pixels the photo itself made transparent transparent.
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) rgba[4 * i + 3] = 0;
    writes.push(writePng(cutPath, rgba, photo.width, photo.height, 4));
  }
  await Promise.all(writes);
}
