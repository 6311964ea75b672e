// SPDX-License-Identifier: MIT
// Image decoding with sharp (libvips): any format sharp reads (PNG, JPEG, WebP, TIFF, GIF, AVIF), any mode
// (grey, RGBA, 16-bit, palette, EXIF-rotated) → 8-bit sRGB, centre square crop (spec §2.1), resize to S.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { describeFsError } from '../util/fsErrors.js';
import { InputError } from '../util/errors.js';

/** File extensions treated as images when scanning folders. */
export const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif', '.bmp']);

export interface DecodedImage {
  /** Interleaved RGB bytes, size·size·3. */
  rgb: Uint8Array;
  /** Original width and height (after EXIF orientation). */
  width: number;
  height: number;
}

/**
 * The bytes of an image file, read before sharp sees them: sharp reports any file it cannot open as "missing or of
 * an unsupported image format", while this says why ("cannot read x.png: permission denied"). Buffers pass
 * through. `read` is for tests (a mode-000 file is readable by root, who runs CI).
 * @throws InputError ERR_FILE "cannot read <file>: <reason>"
 */
export async function readImageFile(input: string | Buffer, read: (path: string) => Promise<Buffer> = readFile): Promise<Buffer> {
  if (typeof input !== 'string') return input;
  try {
    return await read(input);
  } catch (e) {
    throw new InputError(`cannot read ${input}: ${describeFsError(e)}`, 'ERR_FILE');
  }
}

/** Centre square crop box as the official loader computes it (integer arithmetic; spec §2.1). */
export function centreSquare(width: number, height: number): { left: number; top: number; side: number } {
  if (height > width) return { left: 0, top: Math.floor((height - width) / 2), side: width };
  return { left: Math.floor((width - height) / 2), top: 0, side: height };
}

/**
 * Decodes an image file (or buffer), crops the centre square and resizes it to size×size with an
 * antialiased linear filter (like PIL's bilinear when downsampling). An alpha channel is dropped, as PIL's
 * convert('RGB') in the official loaders does (no compositing).
 * @throws InputError "cannot read <file>: <reason>" for a file it cannot read; sharp's Error for corrupt input.
 */
export async function decodeSquare(input: string | Buffer, size: number): Promise<DecodedImage> {
  const img = sharp(await readImageFile(input), { failOn: 'error', limitInputPixels: 2 ** 28 }).rotate();
  const meta = await img.metadata();
  if (!meta.width || !meta.height) throw new InputError('image has no size', 'ERR_IMAGE_FILE');
  // EXIF orientations 5–8 swap the axes; .rotate() applies the orientation before the crop.
  const swap = (meta.orientation ?? 1) >= 5;
  const width = swap ? meta.height : meta.width;
  const height = swap ? meta.width : meta.height;
  const { left, top, side } = centreSquare(width, height);
  const rgb = await img
    .removeAlpha()
    .extract({ left, top, width: side, height: side })
    .resize(size, size, { kernel: 'linear', fit: 'fill' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (rgb.info.channels !== 3 || rgb.data.length !== size * size * 3) {
    throw new Error(`unexpected decode result: ${rgb.info.channels} channels, ${rgb.data.length} bytes`);
  }
  return { rgb: new Uint8Array(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength), width, height };
}

/** Decodes a whole image (no crop) to 8-bit RGB at its own size, or resized to size×size (stretching). */
export async function decodeRgb(input: string | Buffer, resizeTo?: number): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  let img = sharp(await readImageFile(input), { failOn: 'error', limitInputPixels: 2 ** 28 })
    .rotate()
    .removeAlpha();
  if (resizeTo !== undefined) img = img.resize(resizeTo, resizeTo, { kernel: 'linear', fit: 'fill' });
  const out = await img.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { rgb: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength), width: out.info.width, height: out.info.height };
}

/** Writes interleaved RGB (or RGBA, or grey with channels 1: an 8-bit greyscale PNG) bytes as a PNG. */
export async function writePng(path: string, data: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): Promise<void> {
  const img = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } });
  // Without the explicit colourspace sharp widens one raw channel to sRGB and writes an RGB PNG.
  await (channels === 1 ? img.toColourspace('b-w') : img).png().toFile(path);
}
