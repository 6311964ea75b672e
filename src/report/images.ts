// SPDX-License-Identifier: MIT
// Images for the report, embedded as data URIs: sample grids as they are, test photos and masks as small PNGs,
// and an overlay that colours agreement and errors of the predicted mask on the photo.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

/** An image file path, or its encoded bytes (PNG, JPEG, WebP, …; a Buffer is a Uint8Array). */
export type ImageSource = string | Uint8Array;

/** MIME type from the first bytes, for the formats every browser shows; null for anything else. */
export function sniffImageType(bytes: Uint8Array): string | null {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  const isWebp = starts(0x52, 0x49, 0x46, 0x46) && [0x57, 0x45, 0x42, 0x50].every((b, i) => bytes[8 + i] === b); // RIFF….WEBP
  if (isWebp) return 'image/webp';
  return null;
}

async function bytesOf(src: ImageSource): Promise<Uint8Array> {
  return typeof src === 'string' ? readFile(src) : src;
}

function dataUri(mime: string, bytes: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

/** The image as a data URI: unchanged when browsers show its format, else converted to PNG. */
export async function imageDataUri(src: ImageSource): Promise<string> {
  const bytes = await bytesOf(src);
  const mime = sniffImageType(bytes);
  return mime ? dataUri(mime, bytes) : dataUri('image/png', await sharp(bytes).png().toBuffer());
}

/** Overlay colours: predicted and true foreground, predicted only, true only. Background stays as photographed. */
const overlayColours = { hit: [0, 158, 115], falsePositive: [213, 94, 0], falseNegative: [0, 114, 178] } as const;
const overlayAlpha = 0.55;

/** Data URIs of one test image's thumbnails, all the same size. */
export interface TestThumbnails {
  photo: string;
  pred: string;
  truth: string | null;
  overlay: string;
  width: number;
  height: number;
}

/** A mask at w×h (nearest neighbour), binarised at grey ≥ 128 (alpha flattened onto black). */
async function binaryMask(src: ImageSource, width: number, height: number): Promise<Uint8Array> {
  const { data, info } = await sharp(await bytesOf(src))
    .resize(width, height, { fit: 'fill', kernel: 'nearest' })
    .flatten({ background: '#000000' })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = data[i * info.channels]! >= 128 ? 1 : 0;
  return out;
}

async function greyPng(mask: Uint8Array, width: number, height: number): Promise<string> {
  const grey = Buffer.from(mask.map((v) => v * 255));
  return dataUri('image/png', await sharp(grey, { raw: { width, height, channels: 1 } }).png().toBuffer());
}

/**
 * Thumbnails of a photo (shrunk to fit maxPx × maxPx, never enlarged), its predicted and true masks at the same
 * size, and the overlay: green where both say foreground, orange where only the prediction does, blue where only
 * the truth does. Without a true mask the overlay colours the predicted foreground green.
 */
export async function testThumbnails(
  image: ImageSource,
  pred: ImageSource,
  truth: ImageSource | null,
  maxPx: number,
): Promise<TestThumbnails> {
  const { data: rgb, info } = await sharp(await bytesOf(image))
    .resize(maxPx, maxPx, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const p = await binaryMask(pred, width, height);
  const g = truth === null ? null : await binaryMask(truth, width, height);
  const photo = Buffer.alloc(width * height * 3);
  const overlay = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const isTrue = g === null ? p[i] : g[i];
    const colour = p[i] ? (isTrue ? overlayColours.hit : overlayColours.falsePositive) : isTrue ? overlayColours.falseNegative : null;
    for (let ch = 0; ch < 3; ch++) {
      const v = rgb[i * channels + (channels >= 3 ? ch : 0)]!;
      photo[i * 3 + ch] = v;
      overlay[i * 3 + ch] = colour ? Math.round(v * (1 - overlayAlpha) + colour[ch]! * overlayAlpha) : v;
    }
  }
  const png = async (raw: Buffer) =>
    dataUri('image/png', await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer());
  return {
    photo: await png(photo),
    pred: await greyPng(p, width, height),
    truth: g === null ? null : await greyPng(g, width, height),
    overlay: await png(overlay),
    width,
    height,
  };
}
