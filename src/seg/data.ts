// SPDX-License-Identifier: MIT
// The synthetic (image, mask) set for segmentation training (spec §10.2): files sorted by name, the first
// int(0.9·n) for training and the rest for validation, decoded once into memory at the network's size.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { decodeRgb, imageExtensions } from '../data/decode.js';
import { listSome } from '../eval/maskFiles.js';
import { resizeBilinearPil } from '../eval/pilBilinear.js';
import { type SynthManifestRead, readSynthManifest } from '../gen/synthesize.js';
import { InputError } from '../util/errors.js';
import { packChw } from './photos.js';
import { mapLimit } from '../util/mapLimit.js';
import { fileInside, resolveInside } from '../util/safePath.js';

export interface SyntheticSet {
  dir: string;
  /** Samples, train + val. */
  n: number;
  train: number;
  val: number;
  /** Side of the synthetic images on disk (of the first one). */
  imageSize: number;
  /** Network side: images and training masks are at size×size. */
  size: number;
  /** Side of the validation masks (size, or 2·size for protocol 128). */
  evalSize: number;
  /** n·3·size² bytes, CHW per sample, RGB. */
  images: Uint8Array;
  /** n·size² bytes, 1 = foreground (mask value ≥ 128, spec §10.2). */
  masks: Uint8Array;
  /** val·evalSize² bytes for samples train…n−1 (the same bytes as `masks` when evalSize = size). */
  valMasks: Uint8Array;
  /** File names in order. */
  names: string[];
  /** From manifest.json, when the folder was written by `ilsgan generate`. */
  source?: { run: string; checkpoint: string; kimg: number };
  /** The folders of a pooled set (mergeSyntheticSets), in order; absent for one folder. */
  parts?: string[];
}

/**
 * Pools synthetic sets of the same sizes (several GANs' pairs, pipeline `gans`) into one: every set's training samples,
 * then every set's validation samples, so each set keeps its own 90/10 split. Names are prefixed by the set's
 * index (`0/000001.png`); `dir` lists the folders. A pooled set has no one folder of layers (loadSyntheticLayers).
 */
export function mergeSyntheticSets(sets: readonly SyntheticSet[]): SyntheticSet {
  const first = sets[0];
  if (!first) throw new InputError('no synthetic set to pool', 'ERR_ARG');
  if (sets.length === 1) return first;
  const { size, evalSize } = first;
  const odd = sets.find((s) => s.size !== size || s.evalSize !== evalSize);
  if (odd) throw new InputError(`cannot pool synthetic sets at ${size}² and ${odd.size}² (${odd.dir})`, 'ERR_ARG');
  const rgb = 3 * size * size;
  const grey = size * size;
  const train = sets.reduce((a, s) => a + s.train, 0);
  const val = sets.reduce((a, s) => a + s.val, 0);
  const images = new Uint8Array((train + val) * rgb);
  const masks = new Uint8Array((train + val) * grey);
  const valMasks = new Uint8Array(val * evalSize * evalSize);
  const names: string[] = [];
  let at = 0;
  // Training samples of every set first, then their validation samples (samples train…n−1 are validation).
  for (const part of ['train', 'val'] as const) {
    sets.forEach((s, k) => {
      const [from, count] = part === 'train' ? [0, s.train] : [s.train, s.val];
      images.set(s.images.subarray(from * rgb, (from + count) * rgb), at * rgb);
      masks.set(s.masks.subarray(from * grey, (from + count) * grey), at * grey);
      if (part === 'val') valMasks.set(s.valMasks, (at - train) * evalSize * evalSize);
      names.push(...s.names.slice(from, from + count).map((n) => `${k}/${n}`));
      at += count;
    });
  }
  return {
    dir: sets.map((s) => s.dir).join(' + '),
    n: train + val,
    train,
    val,
    imageSize: first.imageSize,
    size,
    evalSize,
    images,
    masks,
    valMasks,
    names,
    parts: sets.map((s) => s.dir),
  };
}

export interface LoadSyntheticOptions {
  size: number;
  evalSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Image and mask paths of a synthetic folder: from manifest.json, else images/+masks/ or the official img/+mask/. */
export function syntheticFiles(dir: string): { images: string[]; masks: string[]; names: string[]; manifest?: SynthManifestRead } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError(`synthetic folder not found: ${dir}`, 'ERR_NO_SYNTHETIC', 'pass the --out folder of `ilsgan generate`');
  }
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) {
    const m = readSynthManifest(manifestPath);
    // Every path the manifest names stays inside the set's folder (a planted manifest must not reach other data).
    const src = (field: string) => ({ file: manifestPath, field, code: 'ERR_NO_SYNTHETIC' });
    resolveInside(dir, m.folders.images, src('folders.images'));
    resolveInside(dir, m.folders.masks, src('folders.masks'));
    const samples = m.files
      .map((f, i) => ({
        name: f,
        image: fileInside(dir, m.folders.images, f, src(`files[${i}]`)),
        mask: fileInside(dir, m.folders.masks, f, src(`files[${i}]`)),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const names = samples.map((s) => s.name);
    const missing = samples.filter((s) => !existsSync(s.image) || !existsSync(s.mask)).map((s) => s.name);
    if (missing.length > 0) {
      throw new InputError(
        `${missing.length} samples listed in ${manifestPath} are missing an image or mask: ${listSome(missing)}`,
        'ERR_NO_SYNTHETIC',
      );
    }
    return { images: samples.map((s) => s.image), masks: samples.map((s) => s.mask), names, manifest: m };
  }
  for (const [imgDir, maskDir] of [
    ['images', 'masks'],
    ['img', 'mask'],
  ] as const) {
    const a = join(dir, imgDir);
    const b = join(dir, maskDir);
    if (!existsSync(a) || !existsSync(b)) continue;
    const list = (d: string) =>
      readdirSync(d)
        .filter((f) => !f.startsWith('.') && imageExtensions.has(extname(f).toLowerCase()))
        .sort();
    const imgs = list(a);
    const maskSet = new Set(list(b));
    const noMask = imgs.filter((f) => !maskSet.has(f));
    if (noMask.length > 0)
      throw new InputError(
        `${noMask.length} images in ${a} have no mask of the same name in ${b}: ${listSome(noMask)}`,
        'ERR_NO_SYNTHETIC',
      );
    return { images: imgs.map((f) => join(a, f)), masks: imgs.map((f) => join(b, f)), names: imgs };
  }
  throw new InputError(
    `${dir} has no manifest.json, images/ + masks/ or img/ + mask/`,
    'ERR_NO_SYNTHETIC',
    'pass the --out folder of `ilsgan generate`',
  );
}

/** A mask file's first channel at side×side, 0–255 (PIL-style bilinear resize when the sides differ). */
function greyAt(rgb: Uint8Array, width: number, height: number, side: number): Uint8Array {
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = rgb[3 * i]!;
  return width === side && height === side ? grey : resizeBilinearPil(grey, width, height, side, side);
}

/** A mask file's first channel as 0/1 at side×side (greyAt, then ≥ 128). */
function maskAt(rgb: Uint8Array, width: number, height: number, side: number): Uint8Array {
  const g = greyAt(rgb, width, height, side);
  const out = new Uint8Array(side * side);
  for (let i = 0; i < out.length; i++) out[i] = g[i]! >= 128 ? 1 : 0;
  return out;
}

/**
 * Decodes a synthetic set once: images stretched to size×size (RGB), masks thresholded at size (training) and at
 * evalSize (validation). Unreadable files are errors here: the set was written by us and must be complete.
 * @throws InputError for a missing or malformed folder, fewer than 2 samples, or an unreadable file.
 */
export async function loadSyntheticSet(dir: string, o: LoadSyntheticOptions): Promise<SyntheticSet> {
  const files = syntheticFiles(dir);
  const n = files.names.length;
  if (n < 2)
    throw new InputError(
      `${dir} has ${n} sample${n === 1 ? '' : 's'}; segmentation training needs at least 2 (90 % train, 10 % validation)`,
      'ERR_NO_SYNTHETIC',
    );
  const size = o.size;
  const evalSize = o.evalSize ?? size;
  const train = Math.max(1, Math.min(n - 1, Math.floor(0.9 * n)));
  const val = n - train;
  let done = 0;
  let imageSize = 0;
  const decoded = await mapLimit(files.names, 8, async (name, i) => {
    try {
      // Decoded straight at the network size (a same-size resize leaves the bytes as they are); the set's own
      // side is read once, from the first image.
      const { rgb } = await decodeRgb(files.images[i]!, size);
      if (i === 0) imageSize = files.manifest?.size ?? (await decodeRgb(files.images[0]!)).width;
      const m = await decodeRgb(files.masks[i]!);
      const mask = maskAt(m.rgb, m.width, m.height, size);
      const valMask = i >= train && evalSize !== size ? maskAt(m.rgb, m.width, m.height, evalSize) : null;
      o.onProgress?.(++done, n);
      return { rgb, mask, valMask };
    } catch (e) {
      throw new InputError(`cannot read synthetic sample ${name} in ${dir}: ${(e as Error).message.split('\n')[0]}`, 'ERR_NO_SYNTHETIC');
    }
  });
  const images = packChw(
    decoded.map((d) => d.rgb),
    size,
  );
  const masks = new Uint8Array(n * size * size);
  decoded.forEach((d, i) => masks.set(d.mask, i * size * size));
  let valMasks: Uint8Array;
  if (evalSize === size) {
    valMasks = masks.subarray(train * size * size);
  } else {
    valMasks = new Uint8Array(val * evalSize * evalSize);
    decoded.slice(train).forEach((d, k) => valMasks.set(d.valMask!, k * evalSize * evalSize));
  }
  const m = files.manifest;
  return {
    dir: resolve(dir),
    n,
    train,
    val,
    imageSize,
    size,
    evalSize,
    images,
    masks,
    valMasks,
    names: files.names,
    source: m ? { run: m.run, checkpoint: m.checkpoint, kimg: m.kimg } : undefined,
  };
}

/** A synthetic set's foreground layers and soft masks, in the same sample order as loadSyntheticSet's. */
export interface SyntheticLayers {
  /** n·3·size² bytes, CHW per sample: the GAN's foreground layer (RGB). */
  fg: Uint8Array;
  /** n·size² bytes: the soft mask m, 0–255. */
  alpha: Uint8Array;
}

/**
 * Decodes the fg/ and masks_soft/ layers `ilsgan generate` writes beside each composite, at the set's size (for
 * pasting the GAN's objects onto other backgrounds, adapt.ts).
 * @throws InputError ERR_NO_SYNTHETIC when the set has no such layers (not written by `ilsgan generate`, or an
 * official img/ + mask/ folder) or a file is unreadable.
 */
export async function loadSyntheticLayers(set: SyntheticSet): Promise<SyntheticLayers> {
  if (set.parts) throw new InputError(`the pooled synthetic set ${set.dir} has no one folder of layers`, 'ERR_NO_SYNTHETIC');
  const files = syntheticFiles(set.dir);
  const folders = files.manifest?.folders;
  if (!folders?.fg || !folders.masksSoft)
    throw new InputError(
      `${set.dir} has no foreground layers (fg/ and masks_soft/ in its manifest.json)`,
      'ERR_NO_SYNTHETIC',
      'generate the set with `ilsgan generate`, which writes them',
    );
  const src = (field: string) => ({ file: join(set.dir, 'manifest.json'), field, code: 'ERR_NO_SYNTHETIC' });
  const size = set.size;
  const decoded = await mapLimit(set.names, 8, async (name) => {
    try {
      const fg = (await decodeRgb(fileInside(set.dir, folders.fg!, name, src('folders.fg')), size)).rgb;
      const m = await decodeRgb(fileInside(set.dir, folders.masksSoft!, name, src('folders.masksSoft')));
      return { fg, alpha: greyAt(m.rgb, m.width, m.height, size) };
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(
        `cannot read the layers of synthetic sample ${name} in ${set.dir}: ${(e as Error).message.split('\n')[0]}`,
        'ERR_NO_SYNTHETIC',
      );
    }
  });
  const alpha = new Uint8Array(set.n * size * size);
  decoded.forEach((d, i) => alpha.set(d.alpha, i * size * size));
  return {
    fg: packChw(
      decoded.map((d) => d.fg),
      size,
    ),
    alpha,
  };
}
