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

/** Overlay fill colours: predicted and true foreground, predicted only, true only. Background stays as photographed. */
const overlayColours = { hit: [0, 158, 115], falsePositive: [213, 94, 0], falseNegative: [0, 114, 178] } as const;
/** The fill is semi-transparent so the photo shows through it. */
const overlayAlpha = 0.4;
/** The predicted mask's outline: a light line with a dark halo on both sides, so one of the two contrasts with any
 *  photo (WCAG contrast ≥ 4.5 against white, black and every colour in between). */
const outlineColour = [255, 255, 255] as const;
const haloColour = [17, 17, 17] as const;

/**
 * Marks the predicted mask's outline (1) and its halo (2) on a w×h grid: outline pixels are foreground pixels
 * with a background 4-neighbour; the halo is every other pixel within one step (8-neighbourhood) of the outline.
 */
export function outlineWithHalo(mask: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? null : mask[y * width + x]!);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      // The image border is not an edge of the object: only a background neighbour inside the image is.
      if ([at(x - 1, y), at(x + 1, y), at(x, y - 1), at(x, y + 1)].some((v) => v === 0)) out[y * width + x] = 1;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (out[y * width + x] !== 1) continue;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < width && yy < height && out[yy * width + xx] === 0) out[yy * width + xx] = 2;
        }
      }
    }
  }
  return out;
}

/** Per-image IoU of two binary masks of the same size; null when both are empty. */
export function maskIoU(pred: Uint8Array, truth: Uint8Array): number | null {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < pred.length; i++) {
    if (pred[i] && truth[i]) inter++;
    if (pred[i] || truth[i]) union++;
  }
  return union === 0 ? null : inter / union;
}

/** Data URIs of one test image's thumbnails, all the same size. */
export interface TestThumbnails {
  photo: string;
  pred: string;
  truth: string | null;
  overlay: string;
  /** The photo with the predicted background transparent (PNG with alpha). */
  cutout: string;
  /** IoU of the predicted and true mask at thumbnail size; null without a true mask (or both empty). */
  iou: number | null;
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
  return dataUri(
    'image/png',
    await sharp(grey, { raw: { width, height, channels: 1 } })
      .png()
      .toBuffer(),
  );
}

/** The overlay of a predicted mask `p` (and true mask `g`, or null) on an RGB photo, as raw RGB. */
export function overlayPixels(
  rgb: Uint8Array,
  channels: number,
  p: Uint8Array,
  g: Uint8Array | null,
  width: number,
  height: number,
): Buffer {
  const line = outlineWithHalo(p, width, height);
  const overlay = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const isTrue = g === null ? p[i] : g[i];
    const fill = p[i] ? (isTrue ? overlayColours.hit : overlayColours.falsePositive) : isTrue ? overlayColours.falseNegative : null;
    const solid = line[i] === 1 ? outlineColour : line[i] === 2 ? haloColour : null;
    for (let ch = 0; ch < 3; ch++) {
      const v = rgb[i * channels + (channels >= 3 ? ch : 0)]!;
      overlay[i * 3 + ch] = solid ? solid[ch]! : fill ? Math.round(v * (1 - overlayAlpha) + fill[ch]! * overlayAlpha) : v;
    }
  }
  return overlay;
}

/**
 * Thumbnails of a photo (shrunk to fit maxPx × maxPx, never enlarged), its predicted and true masks at the same
 * size, the cut-out, and the overlay: a semi-transparent fill (green where both say foreground, orange where only
 * the prediction does, blue where only the truth does) and the predicted outline, white with a dark halo. Without
 * a true mask the overlay fills the predicted foreground green.
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
  const cutout = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const v = rgb[i * channels + (channels >= 3 ? ch : 0)]!;
      photo[i * 3 + ch] = v;
      cutout[i * 4 + ch] = v;
    }
    cutout[i * 4 + 3] = p[i] ? 255 : 0;
  }
  const png = async (raw: Buffer, ch: 3 | 4 = 3) =>
    dataUri(
      'image/png',
      await sharp(raw, { raw: { width, height, channels: ch } })
        .png()
        .toBuffer(),
    );
  return {
    photo: await png(photo),
    pred: await greyPng(p, width, height),
    truth: g === null ? null : await greyPng(g, width, height),
    overlay: await png(overlayPixels(rgb, channels, p, g, width, height)),
    cutout: await png(cutout, 4),
    iou: g === null ? null : maskIoU(p, g),
    width,
    height,
  };
}
