// SPDX-License-Identifier: MIT
// Real photos for segmentation: any format/mode/bit depth, EXIF orientation applied, decoded once at full size;
// the network input is the whole image (or a crop box) stretched to S×S, as the test loaders do (spec §2.2).
import sharp from 'sharp';
import { readImageFile } from '../data/decode.js';
import { hwcToChw } from '../data/imageFolder.js';

export interface Photo {
  /** Interleaved RGBA, width·height·4 bytes, 8-bit sRGB (alpha 255 where the file has none). */
  rgba: Uint8Array;
  /** Size after EXIF orientation. */
  width: number;
  height: number;
}

/** A crop box in pixels: [left, top, right, bottom), right/bottom exclusive. */
export type Box = readonly [number, number, number, number];

const limitInputPixels = 2 ** 28;

/**
 * Decodes an image file to 8-bit sRGB RGBA at its own size (grey, palette, 16-bit and CMYK converted; EXIF
 * orientation applied).
 * @throws Error "cannot read <file>: <reason>" for a file it cannot read, from sharp for corrupt files.
 */
export async function decodePhoto(input: string | Buffer): Promise<Photo> {
  const out = await sharp(await readImageFile(input), { failOn: 'error', limitInputPixels })
    .rotate()
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (out.info.channels !== 4) throw new Error(`unexpected decode result: ${out.info.channels} channels`);
  return {
    rgba: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength),
    width: out.info.width,
    height: out.info.height,
  };
}

/**
 * The network input of a photo: its RGB (alpha dropped, as PIL's convert('RGB')), optionally cropped to `box`,
 * stretched to size×size with an antialiased linear filter (PIL's bilinear when downsampling). HWC bytes.
 */
export async function photoToInput(photo: Photo, size: number, box?: Box): Promise<Uint8Array> {
  let img = sharp(Buffer.from(photo.rgba.buffer, photo.rgba.byteOffset, photo.rgba.byteLength), {
    raw: { width: photo.width, height: photo.height, channels: 4 },
    limitInputPixels,
  }).removeAlpha();
  if (box) img = img.extract({ left: box[0], top: box[1], width: box[2] - box[0], height: box[3] - box[1] });
  const out = await img.resize(size, size, { kernel: 'linear', fit: 'fill' }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (out.info.channels !== 3 || out.data.length !== size * size * 3) {
    throw new Error(`unexpected resize result: ${out.info.channels} channels, ${out.data.length} bytes`);
  }
  return new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
}

/** HWC RGB bytes of n images (size×size each) → one CHW Uint8Array [n, 3, size, size]. */
export function packChw(images: readonly Uint8Array[], size: number): Uint8Array {
  const plane = size * size;
  const out = new Uint8Array(images.length * 3 * plane);
  images.forEach((rgb, k) => hwcToChw(rgb, size, out, k * 3 * plane));
  return out;
}
