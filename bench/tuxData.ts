// SPDX-License-Identifier: MIT
// Builds the TuxComposite benchmark sets (datasets.md §2) in a git-ignored cache folder: downloads the Debian
// packages tuxpaint-stamps-default, scratch and tuxpaint-data with apt-get (no install), unpacks them with
// dpkg -x, selects the photo stamps (two variants, animals and objects) and the photo backgrounds, and writes
// TuxComposite-<variant>-<size> with the split by instance. Never commit anything under the cache folder.
//
//   npm run bench:data [-- --cache data/tux --n 20000 --test-n 2000 --size 64 --seed 0 --variants animals,objects]
//
// Prints a table, then one JSON line with the counts and seconds per set.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { minStampPxFor, type SourceFile, writeCompositeDataset } from '../src/data/composite/dataset.js';
import { listImages } from '../src/data/imageFolder.js';
import { flag } from './flags.js';

const cache = resolve(flag('cache') ?? 'data/tux');
const n = Number(flag('n') ?? 20000);
const testN = Number(flag('test-n') ?? 2000);
const size = Number(flag('size') ?? 64);
const seed = Number(flag('seed') ?? 0);
const variants = (flag('variants') ?? 'animals,objects').split(',');
for (const v of variants) if (v !== 'animals' && v !== 'objects') throw new Error(`unknown variant ${v}: animals, objects`);

const packages = ['tuxpaint-stamps-default', 'scratch', 'tuxpaint-data'];
const debs = join(cache, 'debs');
const root = join(cache, 'root');

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** Downloads the .deb files (once; they stay in the cache). */
function download(): void {
  mkdirSync(debs, { recursive: true });
  const missing = packages.filter((p) => !readdirSync(debs).some((f) => f.startsWith(`${p}_`) && f.endsWith('.deb')));
  if (missing.length === 0) return;
  if (!has('apt-get') || !has('dpkg')) {
    fail(`apt-get and dpkg are needed to fetch ${missing.join(', ')} (Debian or Ubuntu); or put their .deb files into ${debs}`);
  }
  const get = () => spawnSync('apt-get', ['download', ...missing], { cwd: debs, encoding: 'utf8' });
  process.stderr.write(`downloading ${missing.join(', ')} (about 195 MB) into ${debs}\n`);
  let r = get();
  if (r.status !== 0) {
    // A fresh container often has no package lists yet.
    process.stderr.write('apt-get download failed; running apt-get update and trying again\n');
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    r = get();
  }
  if (r.status !== 0) {
    fail(
      `apt-get download ${missing.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}\n` +
        'hint: it needs network access to a Debian mirror (and root for apt-get update)',
    );
  }
}

/** Unpacks every .deb into root (once). */
function unpack(): void {
  const marker = join(root, '.unpacked');
  if (existsSync(marker)) return;
  mkdirSync(root, { recursive: true });
  for (const f of readdirSync(debs).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg', ['-x', join(debs, f), root]);
  writeFileSync(marker, `${new Date().toISOString()}\n`);
}

const stampRoot = () => join(root, 'usr/share/tuxpaint/stamps');

/** The photo stamps of a variant: datasets.md §2's exclusions (the size limit is applied by the composer). */
function stamps(variant: 'animals' | 'objects'): SourceFile[] {
  const excluded = (rel: string) => {
    const parts = rel.split('/');
    return (
      parts[0] === 'symbols' ||
      parts.includes('cartoon') ||
      parts.includes('toys') ||
      rel.startsWith('town/roadsigns/') ||
      rel.startsWith('town/flags/') ||
      rel.startsWith('seasonal/hanukkah/')
    );
  };
  return listImages(stampRoot())
    .map((path) => ({ path, name: relative(stampRoot(), path) }))
    .filter((f) => f.name.endsWith('.png') && !excluded(f.name) && (variant === 'objects' || f.name.startsWith('animals/')));
}

/** The drawn scenes among scratch's backgrounds (datasets.md §2). */
const drawn = [
  'Indoors/party-room',
  'Indoors/room1',
  'Indoors/room2',
  'Indoors/room3',
  'Indoors/spotlight-stage',
  'Nature/woods-and-bench',
  'Outdoors/school2',
];

function backgrounds(): SourceFile[] {
  const scratch = join(root, 'usr/share/scratch/Media/Backgrounds');
  const templates = join(root, 'usr/share/tuxpaint/templates');
  const fromScratch = listImages(scratch)
    .map((path) => ({ path, name: `scratch/${relative(scratch, path)}` }))
    .filter((f) => f.name.endsWith('.jpg') && f.name.split('/').length === 3 && !drawn.includes(f.name.slice(8, -4)));
  const fromTemplates = readdirSync(templates)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => ({ path: join(templates, f), name: `tuxpaint-templates/${f}` }));
  return [...fromScratch, ...fromTemplates];
}

const t0 = performance.now();
download();
unpack();
const fetchSeconds = (performance.now() - t0) / 1000;
const bgs = backgrounds();
const results: Record<string, unknown>[] = [];
for (const variant of variants as ('animals' | 'objects')[]) {
  const objects = stamps(variant);
  const out = join(cache, `TuxComposite-${variant}-${size}`);
  process.stderr.write(`${out}: ${objects.length} candidate stamps, ${bgs.length} backgrounds, ${n} + ${testN} images at ${size}²\n`);
  let last = 0;
  const m = await writeCompositeDataset({
    objects,
    backgrounds: bgs,
    out,
    n,
    testN,
    size,
    split: true,
    seed,
    minStampPx: minStampPxFor(size),
    warn: () => {},
    onProgress: (done, total, phase) => {
      const pct = Math.floor((100 * done) / total);
      if (phase === 'write' && pct >= last + 10) {
        last = pct;
        process.stderr.write(`  ${pct} %\n`);
      }
    },
  });
  const skipped = (reason: string) => m.skipped.objects.filter((s) => s.reason === reason).length;
  results.push({
    variant,
    out: relative(process.cwd(), out),
    stamps: {
      candidates: objects.length,
      train: m.objects.train.length,
      test: m.objects.test.length,
      too_small: skipped('too-small'),
      no_alpha: skipped('no-alpha'),
      unreadable: skipped('unreadable'),
    },
    backgrounds: { train: m.backgrounds.train.length, test: m.backgrounds.test.length, unreadable: m.skipped.backgrounds.length },
    images: m.counts,
    test_mask_fraction: m.testMaskFraction && Number(m.testMaskFraction.mean.toFixed(3)),
    seconds: { decode: Number(m.seconds.decode.toFixed(1)), write: Number(m.seconds.write.toFixed(1)) },
    ms_per_image: Number(((1000 * m.seconds.write) / (n + testN)).toFixed(2)),
  });
}

console.log('variant   stamps train/test (too small)  backgrounds train/test  images train/test  seconds');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the summary rows printed as they came back
for (const r of results as any[]) {
  console.log(
    `${r.variant.padEnd(9)} ${`${r.stamps.train}/${r.stamps.test} (${r.stamps.too_small})`.padEnd(28)} ${`${r.backgrounds.train}/${r.backgrounds.test}`.padEnd(23)} ${`${r.images.train}/${r.images.test}`.padEnd(18)} ${(r.seconds.decode + r.seconds.write).toFixed(1)}`,
  );
}
console.log(
  JSON.stringify({
    size,
    seed,
    fetch_seconds: Number(fetchSeconds.toFixed(1)),
    total_seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    sets: results,
  }),
);
