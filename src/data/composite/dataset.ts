// SPDX-License-Identifier: MIT
// A composite dataset on disk (datasets.md §2): training images without masks and test images with masks, made
// from object stamps over background photos, optionally split by instance (80 % / 20 % of the stamps and of the
// backgrounds), deterministic for a seed, with a manifest saying which source went where.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../../util/errors.js';
import { listImages } from '../imageFolder.js';
import { mulberry32 } from '../procedural.js';
import { CompositeBuffers, type CompositeRecipe, composeSample, defaultRecipe, workingFactor } from './sample.js';
import { type Background, type Skipped, type Stamp, decodeConcurrency, loadBackground, loadStamp } from './sources.js';
import { writeFileAtomic } from '../../util/atomicWrite.js';
import { mapLimit } from '../../util/mapLimit.js';
import { writePng } from '../decode.js';

/** A source file and the name the manifest records for it. */
export interface SourceFile {
  path: string;
  name: string;
}

export interface CompositeOptions {
  /** Object stamps (RGBA cut-outs): a folder (searched recursively) or a list of files. */
  objects: string | SourceFile[];
  /** Background photos: a folder (searched recursively) or a list of files. */
  backgrounds: string | SourceFile[];
  out: string;
  /** Training images (no masks). */
  n: number;
  /** Test images (with masks). */
  testN: number;
  /** Side length S. */
  size: number;
  /** Split by instance: 80 % of stamps and backgrounds for training, the rest for test. Otherwise all are used
   *  for both. */
  split: boolean;
  seed: number;
  /** Stamps whose alpha box is shorter than this on its long side are skipped (default minStampPxFor(size)). */
  minStampPx?: number;
  /** Fraction of the instances that go to training when splitting (0.8). */
  trainFraction?: number;
  recipe?: Partial<CompositeRecipe>;
  /** Called after each written image (done counts both splits) and after each decoded source file. */
  onProgress?: (done: number, total: number, phase: 'decode' | 'write') => void;
  /** Warning sink for skipped files (default: stderr). */
  warn?: (message: string) => void;
}

export interface CompositeManifest {
  format: 'ilsgan-composite';
  version: 1;
  size: number;
  seed: number;
  split: boolean;
  counts: { train: number; test: number };
  minStampPx: number;
  workingFactor: number;
  recipe: CompositeRecipe;
  objects: { train: string[]; test: string[] };
  backgrounds: { train: string[]; test: string[] };
  skipped: { objects: Skipped[]; backgrounds: Skipped[] };
  /** Mask area as a fraction of the frame over the test images. */
  testMaskFraction: { mean: number; min: number; max: number } | null;
  seconds: { decode: number; write: number };
}

/** The default minimum alpha-box long side for output size S: 64 px for sets up to 64², 112 px above
 *  (datasets.md §2: a stamp should not be upscaled much to fill its share of the frame). */
export function minStampPxFor(size: number): number {
  return size <= 64 ? 64 : 112;
}

/** Seed of sample i of a split: a hash of (seed, split, i), so the output does not depend on the write order. */
export function sampleSeed(seed: number, split: 'train' | 'test', i: number): number {
  let h = Math.imul(seed ^ 0x2545f491, 0x9e3779b1) ^ (split === 'train' ? 0x68bc21eb : 0x02e5be93);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ i;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Fisher–Yates with a seeded generator. */
function shuffled<T>(items: T[], rand: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function resolveSources(src: string | SourceFile[], what: string, flag: string): SourceFile[] {
  if (typeof src !== 'string') {
    if (src.length === 0) throw new InputError(`no ${what} given`, 'ERR_NO_IMAGES', `give at least two ${what} files`);
    return src;
  }
  if (!existsSync(src) || !statSync(src).isDirectory()) {
    throw new InputError(`${what} folder not found: ${src}`, 'ERR_NO_IMAGES', `give ${flag} <folder of images>`);
  }
  const files = listImages(src);
  if (files.length === 0) {
    throw new InputError(
      `no images in the ${what} folder ${src}`,
      'ERR_NO_IMAGES',
      `${flag} is searched recursively for PNG, JPEG, WebP, …`,
    );
  }
  return files.map((path) => ({ path, name: relative(src, path) }));
}

/** Splits instances by a seeded shuffle: round(fraction·n) for training (at least 1, leaving at least 1). */
function splitInstances<T extends { name: string }>(
  items: T[],
  fraction: number,
  rand: () => number,
  what: string,
): { train: T[]; test: T[] } {
  if (items.length < 2) {
    throw new InputError(
      `--split needs at least 2 usable ${what}, got ${items.length}`,
      'ERR_TOO_FEW',
      'add more files or leave out --split',
    );
  }
  const order = shuffled(items, rand);
  const k = Math.min(items.length - 1, Math.max(1, Math.round(fraction * items.length)));
  const byName = (a: T, b: T) => (a.name < b.name ? -1 : 1);
  return { train: order.slice(0, k).sort(byName), test: order.slice(k).sort(byName) };
}

/** Clears an earlier composite set in out (recognised by its manifest); refuses any other non-empty folder. */
function prepareOut(out: string): void {
  if (existsSync(out) && readdirSync(out).length > 0) {
    let ours = false;
    try {
      ours = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).format === 'ilsgan-composite';
    } catch {
      ours = false;
    }
    if (!ours) {
      throw new InputError(
        `output folder ${out} is not empty`,
        'ERR_OUT_NOT_EMPTY',
        'give a new folder (an earlier composite set there is replaced)',
      );
    }
    for (const d of ['train', 'test', 'manifest.json']) rmSync(join(out, d), { recursive: true, force: true });
  }
  mkdirSync(join(out, 'train', 'images'), { recursive: true });
  mkdirSync(join(out, 'test', 'images'), { recursive: true });
  mkdirSync(join(out, 'test', 'masks'), { recursive: true });
}

/**
 * Writes a composite dataset: `train/images/*.jpg`, `test/images/*.jpg`, `test/masks/*.png` (0/255) and
 * `manifest.json`. Source files that cannot be used are skipped with a warning and listed in the manifest.
 * @throws InputError ERR_NO_IMAGES (missing or empty folders, no usable stamp or background), ERR_TOO_FEW
 *   (fewer than 2 usable instances with split), ERR_OUT_NOT_EMPTY.
 */
export async function writeCompositeDataset(o: CompositeOptions): Promise<CompositeManifest> {
  const warn = o.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const recipe: CompositeRecipe = { ...defaultRecipe, ...o.recipe };
  const minStampPx = o.minStampPx ?? minStampPxFor(o.size);
  const factor = workingFactor(o.size);
  const work = o.size * factor;
  const objectFiles = resolveSources(o.objects, 'object stamps', '--objects');
  const backgroundFiles = resolveSources(o.backgrounds, 'backgrounds', '--backgrounds');

  const t0 = performance.now();
  const decodeTotal = objectFiles.length + backgroundFiles.length;
  let decoded = 0;
  const tick = () => o.onProgress?.(++decoded, decodeTotal, 'decode');
  // Backgrounds keep a short side of up to 1.5 working sizes: a crop of 35–100 % of it is then resampled to the
  // working size without much aliasing, and area averaging to S follows.
  const bgMax = Math.ceil(1.5 * work);
  const stampResults = await mapLimit(objectFiles, decodeConcurrency, async (f) => {
    const r = await loadStamp(f.path, f.name, work, minStampPx);
    tick();
    return r;
  });
  const bgResults = await mapLimit(backgroundFiles, decodeConcurrency, async (f) => {
    const r = await loadBackground(f.path, f.name, bgMax);
    tick();
    return r;
  });
  const stamps = stampResults.filter((r): r is Stamp => 'levels' in r);
  const backgrounds = bgResults.filter((r): r is Background => 'rgb' in r);
  const skippedObjects = stampResults.filter((r): r is Skipped => 'reason' in r);
  const skippedBackgrounds = bgResults.filter((r): r is Skipped => 'reason' in r);
  for (const s of [...skippedObjects, ...skippedBackgrounds]) warn(`skipping ${s.name}: ${s.detail}`);
  const countBy = (reason: string) => skippedObjects.filter((s) => s.reason === reason).length;
  if (stamps.length === 0) {
    throw new InputError(
      `none of the ${objectFiles.length} object files is a usable stamp (${countBy('no-alpha')} without alpha, ` +
        `${countBy('too-small')} smaller than ${minStampPx} px, ${countBy('unreadable')} unreadable)`,
      'ERR_NO_IMAGES',
      'objects must be RGBA cut-outs (transparent background); --min-stamp-px lowers the size limit',
    );
  }
  if (backgrounds.length === 0) {
    throw new InputError(
      `none of the ${backgroundFiles.length} background files could be decoded`,
      'ERR_NO_IMAGES',
      skippedBackgrounds[0]?.detail,
    );
  }
  const decodeSeconds = (performance.now() - t0) / 1000;

  const splitRand = mulberry32(sampleSeed(o.seed, 'train', -1));
  const fraction = o.trainFraction ?? 0.8;
  const stampSplit = o.split ? splitInstances(stamps, fraction, splitRand, 'object stamps') : { train: stamps, test: stamps };
  const bgSplit = o.split ? splitInstances(backgrounds, fraction, splitRand, 'backgrounds') : { train: backgrounds, test: backgrounds };

  prepareOut(o.out);
  const t1 = performance.now();
  const buf = new CompositeBuffers(o.size, factor);
  const total = o.n + o.testN;
  let written = 0;
  const fractions: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = decodeConcurrency * 2;
  for (const split of ['train', 'test'] as const) {
    const count = split === 'train' ? o.n : o.testN;
    const pool = split === 'train' ? stampSplit.train : stampSplit.test;
    const bgPool = split === 'train' ? bgSplit.train : bgSplit.test;
    const digits = Math.max(6, String(count - 1).length);
    for (let i = 0; i < count; i++) {
      // Composing is synchronous JS; encoding and writing run on libvips threads meanwhile.
      const rand = mulberry32(sampleSeed(o.seed, split, i));
      const stamp = pool[Math.floor(rand() * pool.length)];
      const bg = bgPool[Math.floor(rand() * bgPool.length)];
      const s = composeSample(stamp, bg, rand, buf, recipe);
      const stem = String(i).padStart(digits, '0');
      if (split === 'test') fractions.push(s.maskFraction);
      const job = (async () => {
        const raw = { raw: { width: o.size, height: o.size, channels: 3 as const } };
        await sharp(Buffer.from(s.rgb.buffer), raw)
          .jpeg({ quality: s.jpegQuality })
          .toFile(join(o.out, split, 'images', `${stem}.jpg`));
        if (split === 'test') {
          await writePng(join(o.out, split, 'masks', `${stem}.png`), s.mask, o.size, o.size, 1);
        }
        o.onProgress?.(++written, total, 'write');
      })();
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    }
  }
  await Promise.all(inFlight);
  const writeSeconds = (performance.now() - t1) / 1000;

  const names = (xs: { name: string }[]) => xs.map((x) => x.name);
  const manifest: CompositeManifest = {
    format: 'ilsgan-composite',
    version: 1,
    size: o.size,
    seed: o.seed,
    split: o.split,
    counts: { train: o.n, test: o.testN },
    minStampPx,
    workingFactor: factor,
    recipe,
    objects: { train: names(stampSplit.train), test: names(stampSplit.test) },
    backgrounds: { train: names(bgSplit.train), test: names(bgSplit.test) },
    skipped: { objects: skippedObjects, backgrounds: skippedBackgrounds },
    testMaskFraction: fractions.length
      ? { mean: fractions.reduce((a, b) => a + b, 0) / fractions.length, min: Math.min(...fractions), max: Math.max(...fractions) }
      : null,
    seconds: { decode: decodeSeconds, write: writeSeconds },
  };
  // Atomic: an earlier set is recognised (and replaced) by its manifest.
  writeFileAtomic(join(o.out, 'manifest.json'), new TextEncoder().encode(`${JSON.stringify(manifest, null, 1)}\n`));
  writeFileSync(
    join(o.out, 'README.txt'),
    `ilsgan composite dataset (${basename(o.out)}): ${o.n} training images (no masks), ${o.testN} test images with masks, ` +
      `${o.size}x${o.size}, seed ${o.seed}${o.split ? ', split by instance' : ''}. Made from third-party images: do not commit.\n`,
  );
  return manifest;
}
