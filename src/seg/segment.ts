// SPDX-License-Identifier: MIT
// Segments real photos with a trained U-Net: each whole image stretched to S×S (as the test protocol, spec §2.2),
// batched forward passes, logits upsampled bilinearly to the original size before the argmax (spec §10.4), or their
// sigmoid for soft alpha; writes a grey mask and a cut-out (on transparency or a colour) per image, for a folder or
// for one photo (file or bytes in, PNG bytes out). A model whose model.json has `refine` gets its predictions refined
// first, at the network's size (refinePredictions.ts).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { imageExtensions } from '../data/decode.js';
import { listImages } from '../data/imageFolder.js';
import { listSome } from '../eval/maskFiles.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../util/errors.js';
import { fromBytes } from '../tensor/ops/creation.js';
import { noGrad, scope } from '../tensor/scope.js';
import { type Segmenter, loadSegmenter, resizeLogits } from './model.js';
import { refinedLogits } from './refinePredictions.js';
import { type RefineSetting, chooseRefine } from './refineSetting.js';
import { type Photo, decodePhoto, packChw, photoToInput } from './photos.js';
import { type AlphaMode, type Background, composeCutout, encodePng, maskImage } from './cutout.js';
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
  /** Mask values: 'binary' 0/255 (default) or 'soft' (foreground probability · 255). */
  alpha?: AlphaMode;
  /** Cut-out background: 'transparent' (RGBA, default) or an sRGB colour (RGB). */
  background?: Background;
  /** Test-time refinement: absent → model.json's; false → none; true → model.json's or the default (chooseRefine). */
  refine?: boolean | RefineSetting;
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
  /** Mean foreground fraction (mean alpha / 255) over the written masks. */
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
      const written = Object.values(segmentFolders)
        .map((f) => join(out, f))
        .filter((d) => isInside(d, input));
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
    throw new InputError(
      `several inputs would write the same mask name: ${listSome(clashes)}`,
      'ERR_NAME_CLASH',
      'rename or move one of each pair',
    );
  }
  return { files, names };
}

/**
 * Foreground masks (width·height bytes each) of decoded photos at their own sizes. The logits are upsampled
 * bilinearly to the photo's size first (spec §10.4); 'binary' is their argmax (0/255, the masks `eval` scores), 'soft'
 * their sigmoid · 255, so soft ≥ 128 exactly where binary is 255. With a refinement setting the logits are those of the
 * refined probabilities (refinePredictions.ts), upsampled the same way.
 * @param inputs CHW bytes [N, 3, S, S] (packChw of photoToInput).
 * @param refine the test-time refinement (default: model.json's `refine`, none without it); null: none.
 */
export function predictMasks(
  seg: Segmenter,
  inputs: Uint8Array,
  sizes: readonly { width: number; height: number }[],
  alpha: AlphaMode = 'binary',
  refine: RefineSetting | null = seg.config.refine ?? null,
): Uint8Array[] {
  const s = seg.config.size;
  return noGrad(() =>
    scope(() => {
      const batch = fromBytes(inputs, 'uint8', [sizes.length, 3, s, s], seg.device).float().div(127.5).sub(1);
      const logit = refinedLogits(seg.net, batch, inputs, refine); // [N, 1, S, S]
      return sizes.map(({ width, height }, i) =>
        scope(() => {
          const up = resizeLogits(logit.narrow(0, i, 1), height, width); // [1, 1, h, w]
          // + 0.5 then truncation rounds to nearest: sigmoid ≤ 1 keeps the result ≤ 255.
          const m = alpha === 'soft' ? up.sigmoid().mul(255).add(0.5).to('uint8') : up.gt(0).to('uint8').mul(255);
          return m.cpu().data() as Uint8Array;
        }),
      );
    }),
  );
}

/** Mean of alpha / 255: the foreground fraction of a mask. */
function foregroundFraction(alpha: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < alpha.length; i++) sum += alpha[i]!;
  return alpha.length === 0 ? 0 : sum / (255 * alpha.length);
}

export interface SegmentPhotoOptions {
  /** Model directory or a loaded segmenter (left open). */
  model: string | Segmenter;
  /** Image file path, or its bytes (stdin). */
  input: string | Buffer;
  /** How the input is named in errors ("stdin" for bytes by default). */
  label?: string;
  alpha?: AlphaMode;
  background?: Background;
  /** Return the mask instead of the cut-out. */
  maskOnly?: boolean;
  /** Test-time refinement: absent → model.json's; false → none; true → model.json's or the default (chooseRefine). */
  refine?: boolean | RefineSetting;
  device?: Device;
}

/**
 * Segments one photo: PNG bytes of its cut-out (or mask) at the photo's own size.
 * @throws InputError ERR_IMAGE_FILE "cannot read <file>: <reason>" when the photo cannot be read or decoded.
 */
export async function segmentPhoto(o: SegmentPhotoOptions): Promise<{ png: Buffer; width: number; height: number; foreground: number }> {
  const label = o.label ?? (typeof o.input === 'string' ? o.input : 'stdin');
  let photo: Photo;
  try {
    if (typeof o.input !== 'string' && o.input.length === 0) throw new Error('no bytes');
    photo = await decodePhoto(o.input);
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0] ?? 'unreadable';
    const msg = reason.startsWith('cannot read ') ? reason : `cannot read ${label}: ${reason}`;
    throw new InputError(msg, 'ERR_IMAGE_FILE', 'give a PNG, JPEG, WebP, TIFF, GIF or AVIF image');
  }
  const seg = typeof o.model === 'string' ? loadSegmenter(o.model, o.device ?? 'cpu') : o.model;
  try {
    const s = seg.config.size;
    const input = await photoToInput(photo, s);
    const refine = chooseRefine(seg.config.refine, o.refine);
    const alpha = predictMasks(seg, packChw([input], s), [photo], o.alpha ?? 'binary', refine)[0]!;
    const img = o.maskOnly ? maskImage(photo, alpha) : composeCutout(photo, alpha, o.background ?? 'transparent');
    return { png: await encodePng(img), width: photo.width, height: photo.height, foreground: foregroundFraction(alpha) };
  } finally {
    if (typeof o.model === 'string') seg.dispose();
  }
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
  const alphaMode = o.alpha ?? 'binary';
  const background = o.background ?? 'transparent';
  const refine = chooseRefine(seg.config.refine, o.refine);
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
        const predicted = predictMasks(
          seg,
          packChw(
            good.map((g) => g.input),
            s,
          ),
          good.map((g) => g.photo),
          alphaMode,
          refine,
        );
        const writes: Promise<void>[] = [];
        good.forEach((g, k) => {
          const mask = predicted[k]!;
          fgSum += foregroundFraction(mask);
          masks.push(join(segmentFolders.masks, g.name));
          writes.push(writeOutputs(o.out, g.name, g.photo, mask, writeCutouts ? background : null));
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
    throw new InputError(
      `none of the ${files.length} input files could be read`,
      'ERR_NO_IMAGES',
      skipped[0] ? `${skipped[0].path}: ${skipped[0].reason}` : undefined,
    );
  }
  return { written: masks.length, skipped, masks, meanForeground: fgSum / masks.length };
}

/** Writes masks/<name> and, unless `background` is null, cutouts/<name>. */
async function writeOutputs(out: string, name: string, photo: Photo, mask: Uint8Array, background: Background | null): Promise<void> {
  const write = async (folder: string, png: Promise<Buffer>) => {
    const path = join(out, folder, name);
    mkdirSync(dirname(path), { recursive: true });
    await writeFile(path, await png);
  };
  const writes = [write(segmentFolders.masks, encodePng(maskImage(photo, mask)))];
  if (background !== null) writes.push(write(segmentFolders.cutouts, encodePng(composeCutout(photo, mask, background))));
  await Promise.all(writes);
}
