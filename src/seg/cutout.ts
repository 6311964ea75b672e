// SPDX-License-Identifier: MIT
// Output compositing for `ilsgan segment`: a photo and its foreground alpha (0–255 per pixel, at the photo's size)
// → a grey mask, an RGBA cut-out on transparency, or an RGB cut-out on a solid colour; PNG bytes for files and stdout.
import sharp from 'sharp';
import type { Photo } from './photos.js';

/** Where a cut-out's background goes: transparent (RGBA PNG) or a solid sRGB colour (RGB PNG). */
export type Background = 'transparent' | readonly [number, number, number];

/** How the mask's alpha is written: 0/255 (the logits' argmax) or the foreground probability scaled to 0–255. */
export type AlphaMode = 'binary' | 'soft';

/**
 * Parses a --background value: `transparent`, or `#RRGGBB` (hex, either case).
 * @returns null for anything else (the caller words the error for its flag).
 */
export function parseBackground(v: string): Background | null {
  if (v === 'transparent') return 'transparent';
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(v);
  if (!m) return null;
  return [Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16), Number.parseInt(m[3]!, 16)];
}

/** A raw image ready to encode: interleaved bytes, width·height·channels. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/**
 * The cut-out of a photo. Alpha is mask·(the photo's own alpha)/255, so pixels the photo made transparent stay
 * transparent; on a colour, each channel is alpha-blended over it (straight alpha, 8-bit sRGB, no linearisation,
 * as image editors flatten).
 * @param alpha width·height bytes, 255 = foreground.
 */
export function composeCutout(photo: Photo, alpha: Uint8Array, background: Background): RawImage {
  const n = photo.width * photo.height;
  if (alpha.length !== n) throw new RangeError(`composeCutout: alpha has ${alpha.length} bytes, the photo ${n} pixels`);
  const src = photo.rgba;
  if (background === 'transparent') {
    const rgba = src.slice();
    for (let i = 0; i < n; i++) rgba[4 * i + 3] = Math.round((alpha[i]! * src[4 * i + 3]!) / 255);
    return { data: rgba, width: photo.width, height: photo.height, channels: 4 };
  }
  const rgb = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    const a = (alpha[i]! * src[4 * i + 3]!) / (255 * 255);
    for (let k = 0; k < 3; k++) rgb[3 * i + k] = Math.round(src[4 * i + k]! * a + background[k]! * (1 - a));
  }
  return { data: rgb, width: photo.width, height: photo.height, channels: 3 };
}

/** A mask as a raw 8-bit grey image. */
export function maskImage(photo: { width: number; height: number }, alpha: Uint8Array): RawImage {
  return { data: alpha, width: photo.width, height: photo.height, channels: 1 };
}

/** PNG bytes of a raw image (grey masks as 8-bit greyscale PNGs, not widened to RGB). */
export async function encodePng(img: RawImage): Promise<Buffer> {
  const s = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  });
  return (img.channels === 1 ? s.toColourspace('b-w') : s).png().toBuffer();
}
