// SPDX-License-Identifier: MIT
// Loading the sources of a composite dataset (datasets.md §2): RGBA object stamps, cropped to their alpha box and
// kept as a small mip chain, and background photos, kept as RGB with a capped short side. Decoding uses sharp.
import { cpus } from 'node:os';
import sharp from 'sharp';
import { readImageFile } from '../decode.js';
import { halveRgba } from './raster.js';

/** Alpha values at or below this (of 255) do not count for a stamp's bounding box: faint noise in the
 *  transparent area of some stamps would otherwise make the box the whole canvas. */
export const alphaBoxThreshold = 8;

/** One mip level of a stamp: interleaved RGBA, not premultiplied. */
export interface MipLevel {
  rgba: Uint8Array;
  width: number;
  height: number;
}

/** An object cut-out, cropped to its alpha bounding box. */
export interface Stamp {
  /** The source file's name as given (relative path for the manifest). */
  name: string;
  /** levels[0] is the crop, downscaled to a long side ≤ the working size; each next level halves it. */
  levels: MipLevel[];
  /** Alpha area of levels[0] in pixels (Σ alpha / 255). */
  area: number;
  /** Long side of the alpha box in the source file's pixels. */
  boxLongPx: number;
}

/** A background photo: interleaved RGB. */
export interface Background {
  name: string;
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** Why a source file was not used. */
export type SkipReason = 'unreadable' | 'no-alpha' | 'too-small';

export interface Skipped {
  name: string;
  reason: SkipReason;
  detail: string;
}

/**
 * Decodes one stamp: RGBA at full resolution, crop to the alpha box (alpha > alphaBoxThreshold), downscale with
 * sharp (premultiplied, Lanczos) to a long side ≤ maxSidePx, then mip levels down to ~16 px.
 * Returns a Skipped record for files without a usable alpha channel, too small ones and unreadable ones.
 */
export async function loadStamp(path: string, name: string, maxSidePx: number, minBoxPx: number): Promise<Stamp | Skipped> {
  try {
    const img = sharp(await readImageFile(path), { failOn: 'error', limitInputPixels: 2 ** 28 });
    const meta = await img.metadata();
    if (!meta.hasAlpha) return { name, reason: 'no-alpha', detail: 'the image has no alpha channel' };
    const full = await img.toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const { width, height, channels } = full.info;
    if (channels !== 4) throw new Error(`unexpected decode result: ${channels} channels`);
    const px = full.data;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    let minAlpha = 255;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const a = px[(y * width + x) * 4 + 3];
        if (a < minAlpha) minAlpha = a;
        if (a > alphaBoxThreshold) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
    }
    if (x1 < 0) return { name, reason: 'no-alpha', detail: 'the alpha channel is empty (fully transparent)' };
    if (minAlpha >= 250) return { name, reason: 'no-alpha', detail: 'the alpha channel is fully opaque (no cut-out)' };
    const boxW = x1 - x0 + 1;
    const boxH = y1 - y0 + 1;
    const boxLongPx = Math.max(boxW, boxH);
    if (boxLongPx < minBoxPx) {
      return { name, reason: 'too-small', detail: `alpha box ${boxW}×${boxH} px, long side below ${minBoxPx} px` };
    }
    const scale = Math.min(1, maxSidePx / boxLongPx);
    const w = Math.max(1, Math.round(boxW * scale));
    const h = Math.max(1, Math.round(boxH * scale));
    const crop = await sharp(px, { raw: { width, height, channels: 4 } })
      .extract({ left: x0, top: y0, width: boxW, height: boxH })
      .resize(w, h, { fit: 'fill', kernel: 'lanczos3' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const levels: MipLevel[] = [{ rgba: new Uint8Array(crop.data), width: crop.info.width, height: crop.info.height }];
    while (Math.max(levels[levels.length - 1].width, levels[levels.length - 1].height) > 32) {
      const l = levels[levels.length - 1];
      levels.push(halveRgba(l.rgba, l.width, l.height));
    }
    let area = 0;
    const l0 = levels[0].rgba;
    for (let i = 3; i < l0.length; i += 4) area += l0[i];
    return { name, levels, area: area / 255, boxLongPx };
  } catch (e) {
    return { name, reason: 'unreadable', detail: (e as Error).message.split('\n')[0] };
  }
}

/** Decodes one background photo to RGB with its short side capped at maxShortPx (never enlarged). */
export async function loadBackground(path: string, name: string, maxShortPx: number): Promise<Background | Skipped> {
  try {
    const out = await sharp(await readImageFile(path), { failOn: 'error', limitInputPixels: 2 ** 28 })
      .rotate()
      .resize(maxShortPx, maxShortPx, { fit: 'outside', withoutEnlargement: true, kernel: 'lanczos3' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (out.info.channels !== 3) throw new Error(`unexpected decode result: ${out.info.channels} channels`);
    return { name, rgb: new Uint8Array(out.data), width: out.info.width, height: out.info.height };
  } catch (e) {
    return { name, reason: 'unreadable', detail: (e as Error).message.split('\n')[0] };
  }
}

/** Decoding concurrency: a few files per core keeps libvips busy. */
export const decodeConcurrency = Math.max(2, cpus().length * 2);
