// SPDX-License-Identifier: MIT
// Mask images as binary masks (any format, mode or bit depth; grey ≥ 128 = foreground), optionally resized as the
// official test loaders do (spec §2.2), and prediction/ground-truth folders paired by file name stem.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InputError } from '../util/errors.js';
import { decodeRgb, imageExtensions } from '../data/decode.js';
import { resizeBilinearPil } from './pilBilinear.js';

/** How a mask is brought to S×S: spec §2.2, Dog/Car (`nearest`, after binarising) or CUB (`bilinear`, before). */
export type MaskResize = 'nearest' | 'bilinear';

export interface BinaryMaskImage {
  /** width·height bytes, row-major, 1 = foreground, 0 = background. */
  mask: Uint8Array;
  width: number;
  height: number;
}

/** 8-bit RGB → 8-bit luma with PIL's `convert('L')` integer formula (ITU-R 601-2: 299/587/114 per mille). */
export function rgbToGrey(rgb: Uint8Array): Uint8Array {
  const n = rgb.length / 3;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (rgb[3 * i]! * 19595 + rgb[3 * i + 1]! * 38470 + rgb[3 * i + 2]! * 7471 + 0x8000) >>> 16;
  return out;
}

/** Nearest-neighbour resize of a one-byte-per-pixel image, sampling at pixel centres as PIL's NEAREST does. */
export function resizeNearest(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH);
  const cols = new Int32Array(outW);
  for (let x = 0; x < outW; x++) cols[x] = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outW));
  for (let y = 0; y < outH; y++) {
    const row = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outH)) * width;
    for (let x = 0; x < outW; x++) out[y * outW + x] = src[row + cols[x]!]!;
  }
  return out;
}

/** Foreground iff grey ≥ 128 (⇔ value/255 > 0.5 for 8-bit values; 16-bit images arrive as the top byte). */
export function binarise(grey: Uint8Array): Uint8Array {
  const out = new Uint8Array(grey.length);
  for (let i = 0; i < grey.length; i++) out[i] = grey[i]! >= 128 ? 1 : 0;
  return out;
}

/**
 * Reads a mask image as a binary mask. Colour, palette, alpha (dropped, as PIL's convert does) and 16-bit images
 * are converted to 8-bit grey first. With `size`, the mask becomes size×size (stretched if not square):
 * `nearest` binarises then samples (what PIL does to the Dog/Car 1-bit masks), `bilinear` resizes the grey
 * values as PIL's BILINEAR does (antialiased when downsampling) and then binarises (the CUB soft masks).
 * `box` crops the grey mask first ([left, top, right, bottom), cut at the border; CUB's test crop).
 * @throws InputError when the file cannot be decoded.
 */
export async function readBinaryMask(
  path: string,
  size?: number,
  resize: MaskResize = 'nearest',
  box?: readonly [number, number, number, number],
): Promise<BinaryMaskImage> {
  let decoded: Awaited<ReturnType<typeof decodeRgb>>;
  try {
    decoded = await decodeRgb(path);
  } catch (e) {
    throw new InputError(`cannot read mask ${path}: ${(e as Error).message}`, 'ERR_MASK_FILE');
  }
  let { width, height } = decoded;
  let grey = rgbToGrey(decoded.rgb);
  if (box) {
    // [left, top, right, bottom), cut at the image border and at least one pixel.
    const [l, t] = [Math.min(box[0], width - 1), Math.min(box[1], height - 1)];
    const [w, h] = [Math.max(1, Math.min(box[2], width) - l), Math.max(1, Math.min(box[3], height) - t)];
    const crop = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) crop.set(grey.subarray((t + y) * width + l, (t + y) * width + l + w), y * w);
    [grey, width, height] = [crop, w, h];
  }
  if (size === undefined || (size === width && size === height)) return { mask: binarise(grey), width, height };
  if (resize === 'nearest') return { mask: resizeNearest(binarise(grey), width, height, size, size), width: size, height: size };
  return { mask: binarise(resizeBilinearPil(grey, width, height, size, size)), width: size, height: size };
}

/** At most `limit` names, then how many more: `a.png, b.png and 3 more`. */
export function listSome(names: readonly string[], limit = 10): string {
  const shown = names.slice(0, limit).join(', ');
  return names.length > limit ? `${shown} and ${names.length - limit} more` : shown;
}

/** The image files directly in `dir`, keyed by name without extension. */
export function masksByStem(dir: string, what: string): Map<string, string> {
  if (!existsSync(dir)) throw new InputError(`${what} folder not found: ${dir}`, 'ERR_MASK_FOLDER');
  if (!statSync(dir).isDirectory()) throw new InputError(`${what} is not a folder: ${dir}`, 'ERR_MASK_FOLDER');
  const byStem = new Map<string, string>();
  const duplicates: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const ext = extname(name);
    if (!imageExtensions.has(ext.toLowerCase()) || name.startsWith('.')) continue;
    const stem = name.slice(0, name.length - ext.length);
    const seen = byStem.get(stem);
    if (seen !== undefined) duplicates.push(`${seen} / ${name}`);
    else byStem.set(stem, name);
  }
  if (duplicates.length > 0)
    throw new InputError(`${what} folder ${dir} has several images with the same name: ${listSome(duplicates)}`, 'ERR_MASK_FOLDER');
  if (byStem.size === 0) throw new InputError(`no images in ${what} folder ${dir}`, 'ERR_MASK_FOLDER');
  return byStem;
}

export interface MaskPair {
  stem: string;
  pred: string;
  gt: string;
}

/** One side of a pairing by stem: its folder, the label masksByStem uses for it, and the noun in messages. */
export interface StemSide {
  dir: string;
  what: string;
  noun: string;
}

/**
 * Pairs the image files of two folders by file name stem (the extension may differ: `0001.png` matches
 * `0001.jpg`), sorted by stem.
 * @throws InputError ERR_MASK_MISMATCH listing the unmatched files on either side (`a`'s first), under `header`.
 */
export function pairByStem(a: StemSide, b: StemSide, header: string): { stem: string; a: string; b: string }[] {
  const as = masksByStem(a.dir, a.what);
  const bs = masksByStem(b.dir, b.what);
  const noB = [...as.keys()].filter((s) => !bs.has(s)).map((s) => as.get(s)!);
  const noA = [...bs.keys()].filter((s) => !as.has(s)).map((s) => bs.get(s)!);
  if (noB.length > 0 || noA.length > 0) {
    const parts: string[] = [];
    const lacking = (files: string[], side: StemSide, other: StemSide) =>
      `${files.length} ${side.noun}${files.length === 1 ? ' has' : 's have'} no ${other.noun} in ${other.dir} (${listSome(files)})`;
    if (noB.length > 0) parts.push(lacking(noB, a, b));
    if (noA.length > 0) parts.push(lacking(noA, b, a));
    throw new InputError(`${header} do not match: ${parts.join('; ')}`, 'ERR_MASK_MISMATCH', 'files are paired by name without extension');
  }
  return [...as.keys()].sort().map((stem) => ({ stem, a: join(a.dir, as.get(stem)!), b: join(b.dir, bs.get(stem)!) }));
}

/**
 * Pairs the predictions in `predDir` with the ground-truth masks in `gtDir` by file name stem, sorted by stem.
 * @throws InputError listing the unmatched files on either side.
 */
export function pairMaskFolders(predDir: string, gtDir: string): MaskPair[] {
  return pairByStem(
    { dir: gtDir, what: 'ground-truth mask', noun: 'ground-truth mask' },
    { dir: predDir, what: 'prediction', noun: 'prediction' },
    'predictions and masks',
  ).map((p) => ({ stem: p.stem, pred: p.b, gt: p.a }));
}
