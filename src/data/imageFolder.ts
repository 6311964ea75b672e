// SPDX-License-Identifier: MIT
// Training images from a folder (recursive), the DRC CUB/Dogs/Cars layouts (spec §2.1) or the procedural demo
// set, decoded once into one uint8 CHW array (cached next to the run), with corrupt files skipped and counted.
import { createHash } from 'node:crypto';
import { type Stats, existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { extname, join, relative } from 'node:path';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { array, int, object, readJsonChecked, refine, str } from '../util/schema.js';
import { describeFsError } from '../util/fsErrors.js';
import { decodeSquare, imageExtensions } from './decode.js';
import { readNpyStrings } from './npy.js';
import { proceduralSample, proceduralSeed } from './procedural.js';

export interface ImageSet {
  /** Side length S. */
  size: number;
  /** Number of usable images. */
  count: number;
  /** count·3·S·S bytes, CHW per image. */
  pixels: Uint8Array;
  /** Where the images came from (paths relative to the root, or generated names). */
  names: string[];
  /** Files that could not be decoded, with the reason. */
  skipped: { path: string; reason: string }[];
  /** 'folder', 'cub', 'dogs', 'cars' or 'demo'. */
  source: string;
}

export interface LoadOptions {
  /** Called after each decoded file. */
  onProgress?: (done: number, total: number) => void;
  /** Warning sink for skipped files (default: stderr). */
  warn?: (message: string) => void;
  /** A file to cache the decoded set in (reused when the file list, sizes and mtimes match). */
  cachePath?: string;
  /** Files to leave out (paths as `trainingFiles` lists them): photos held out for the report. */
  exclude?: readonly string[];
  /** For `demo`: how many images (default 4000) and the seed. */
  demoCount?: number;
  seed?: number;
}

/**
 * All image files under dir, recursively, sorted. Symbolic links are followed (to files and to folders); a folder
 * reached twice (a link loop, or two links to one place) is walked once. A broken link with an image extension is
 * listed, so that decoding reports it ("cannot read …") instead of it vanishing silently.
 */
export function listImages(dir: string): string[] {
  const out: string[] = [];
  const visited = new Set<string>();
  const walk = (d: string) => {
    const real = realpathSync(d);
    if (visited.has(real)) return;
    visited.add(real);
    // In name order, so that which of two links to one folder is walked does not depend on the file system.
    const entries = readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const p = join(d, entry.name);
      const isImage = imageExtensions.has(extname(entry.name).toLowerCase());
      if (entry.isSymbolicLink()) {
        let target: Stats;
        try {
          target = statSync(p);
        } catch {
          if (isImage) out.push(p);
          continue;
        }
        if (target.isDirectory()) walk(p);
        else if (target.isFile() && isImage) out.push(p);
      } else if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && isImage) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Which layout a folder has: one of the DRC datasets or a plain image folder. */
export function detectLayout(dir: string): 'cub' | 'dogs' | 'cars' | 'folder' {
  if (existsSync(join(dir, 'images.txt')) && existsSync(join(dir, 'train_val_test_split.txt'))) return 'cub';
  if (existsSync(join(dir, 'data_mrcnn_train_select.npy'))) return 'cars';
  if (existsSync(join(dir, 'data_tr_sel.npy'))) return 'dogs';
  return 'folder';
}

/** A CUB table (`<id> <field> …` per line, whitespace-separated) as id → fields; blank and short lines skipped. */
export function readIdTable(path: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [id, ...rest] = line.trim().split(/\s+/);
    if (id && rest.length) m.set(id, rest);
  }
  return m;
}

/**
 * The GAN training files of a DRC layout (spec §2.1), or of a plain folder.
 * @throws InputError ERR_NO_IMAGES "cannot read <path>: <reason>" for a folder or list file it cannot read.
 */
export function trainingFiles(dir: string): { files: string[]; source: string } {
  try {
    return listTrainingFiles(dir);
  } catch (e) {
    const { code, path } = e as { code?: unknown; path?: unknown };
    if (e instanceof InputError || typeof code !== 'string') throw e;
    throw new InputError(`cannot read ${typeof path === 'string' ? path : dir}: ${describeFsError(e)}`, 'ERR_NO_IMAGES');
  }
}

function listTrainingFiles(dir: string): { files: string[]; source: string } {
  const layout = detectLayout(dir);
  if (layout === 'cub') {
    const names = readIdTable(join(dir, 'images.txt'));
    const files: string[] = [];
    for (const [id, [split]] of readIdTable(join(dir, 'train_val_test_split.txt'))) {
      const name = names.get(id)?.[0];
      if (split === '0' && name) files.push(join(dir, 'images', name));
    }
    return { files, source: 'cub' };
  }
  if (layout === 'cars') {
    const tokens = readNpyStrings(join(dir, 'data_mrcnn_train_select.npy'));
    return { files: tokens.map((t) => join(dir, 'data_mrcnn', 'train', 'orig', `${t}_orig.png`)), source: 'cars' };
  }
  if (layout === 'dogs') {
    const tokens = readNpyStrings(join(dir, 'data_tr_sel.npy'));
    return { files: tokens.map((t) => join(dir, 'train_orig', 'orig', `${t}_orig.png`)), source: 'dogs' };
  }
  return { files: listImages(dir), source: 'folder' };
}

function fingerprint(files: string[], size: number): string {
  const h = createHash('sha256');
  h.update(`v1 ${size}\n`);
  for (const f of files) {
    let st = '';
    try {
      const s = statSync(f);
      st = `${s.size} ${s.mtimeMs}`;
    } catch {
      st = 'missing';
    }
    h.update(`${f} ${st}\n`);
  }
  return h.digest('hex');
}

/** The cache's JSON: every field checked, and one name per image. */
const cacheMetaSchema = refine(
  object({
    key: str({ maxLength: 64 }),
    size: int(1, 4096),
    count: int(0, 1e8),
    names: array(str(), { max: 1e8 }),
    skipped: array(object({ path: str(), reason: str() }), { max: 1e8 }),
    source: str({ maxLength: 64 }),
  }),
  (m) => (m.names.length === m.count ? null : { path: 'names', reason: `must hold count = ${m.count} names, got ${m.names.length}` }),
);

/** The cached set, or null when there is none or it does not fit (a cache that fails a check is rebuilt, not an error). */
function readCache(path: string, key: string, size: number): ImageSet | null {
  try {
    const meta = readJsonChecked(cacheMetaSchema, { file: `${path}.json`, code: 'ERR_CACHE' });
    if (meta.key !== key || meta.size !== size) return null;
    const buf = readFileSync(path);
    if (buf.byteLength !== meta.count * 3 * size * size) return null;
    return { ...meta, pixels: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
  } catch {
    return null;
  }
}

function writeCache(path: string, key: string, set: ImageSet): void {
  const { pixels, ...meta } = set;
  writeFileAtomic(path, pixels);
  writeFileAtomic(`${path}.json`, Buffer.from(JSON.stringify({ ...meta, key })));
}

/**
 * `count` training files spread evenly over the sorted list (every k-th), for holding out of training: the same
 * files for the same folder every time.
 */
export function heldOutFiles(data: string, count: number): string[] {
  const { files } = trainingFiles(data);
  if (files.length < 2 * count) return [];
  return Array.from({ length: count }, (_, k) => files[Math.floor(((k + 0.5) * files.length) / count)]!);
}

/** HWC interleaved → CHW planar, into out at byte offset. */
export function hwcToChw(rgb: Uint8Array, size: number, out: Uint8Array, offset: number): void {
  const n = size * size;
  for (let i = 0; i < n; i++) {
    out[offset + i] = rgb[i * 3];
    out[offset + n + i] = rgb[i * 3 + 1];
    out[offset + 2 * n + i] = rgb[i * 3 + 2];
  }
}

/** The procedural training images (no masks). */
export function proceduralTrainingSet(size: number, count: number, seed = 0, onProgress?: (d: number, t: number) => void): ImageSet {
  const per = 3 * size * size;
  const pixels = new Uint8Array(count * per);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    hwcToChw(proceduralSample(size, proceduralSeed('train', i, seed)).rgb, size, pixels, i * per);
    names.push(`demo-${i}`);
    onProgress?.(i + 1, count);
  }
  return { size, count, pixels, names, skipped: [], source: 'demo' };
}

/**
 * Loads training images: `demo` (the procedural set), a DRC layout, or any folder of images.
 * @throws InputError ERR_NO_IMAGES when the folder is missing, empty, or nothing in it decodes.
 */
export async function loadTrainingImages(data: string, size: number, o: LoadOptions = {}): Promise<ImageSet> {
  if (data === 'demo') return proceduralTrainingSet(size, o.demoCount ?? 4000, o.seed ?? 0, o.onProgress);
  if (!existsSync(data) || !statSync(data).isDirectory()) {
    throw new InputError(`data folder not found: ${data}`, 'ERR_NO_IMAGES', 'give a folder of images, a DRC dataset folder, or "demo"');
  }
  const listed = trainingFiles(data);
  const excluded = new Set(o.exclude ?? []);
  const files = excluded.size ? listed.files.filter((f) => !excluded.has(f)) : listed.files;
  const source = listed.source;
  if (files.length === 0) {
    throw new InputError(`no images in ${data}`, 'ERR_NO_IMAGES', `looked recursively for ${[...imageExtensions].join(' ')}`);
  }
  const key = fingerprint(files, size);
  if (o.cachePath) {
    const cached = readCache(o.cachePath, key, size);
    if (cached) return cached;
  }
  const warn = o.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const per = 3 * size * size;
  const decoded: (Uint8Array | null)[] = new Array(files.length).fill(null);
  const skipped: { path: string; reason: string }[] = [];
  let next = 0;
  let done = 0;
  // sharp decodes on libvips threads; a few files in flight keep them busy.
  const workers = Array.from({ length: Math.max(2, cpus().length * 2) }, async () => {
    while (next < files.length) {
      const i = next++;
      try {
        decoded[i] = (await decodeSquare(files[i], size)).rgb;
      } catch (e) {
        const reason = (e as Error).message.split('\n')[0];
        skipped.push({ path: relative(data, files[i]), reason });
        warn(`skipping ${relative(data, files[i])}: ${reason}`);
      }
      o.onProgress?.(++done, files.length);
    }
  });
  await Promise.all(workers);
  const good = decoded.map((d, i) => [d, i] as const).filter(([d]) => d !== null);
  if (good.length === 0) {
    throw new InputError(`none of the ${files.length} files in ${data} could be decoded`, 'ERR_NO_IMAGES', skipped[0]?.reason);
  }
  const pixels = new Uint8Array(good.length * per);
  good.forEach(([d], k) => hwcToChw(d as Uint8Array, size, pixels, k * per));
  const set: ImageSet = {
    size,
    count: good.length,
    pixels,
    names: good.map(([, i]) => relative(data, files[i])),
    skipped,
    source,
  };
  if (o.cachePath) writeCache(o.cachePath, key, set);
  return set;
}
