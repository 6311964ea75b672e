// SPDX-License-Identifier: MIT
// The composite dataset (datasets.md §2) on tiny RGBA stamps and backgrounds made here with sharp: counts, sizes
// and modes, binary masks whose area is near the recipe's coverage, determinism for a seed, the split by
// instance, skipped files, and the errors for empty folders and stamps without alpha (library and CLI).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { type CompositeManifest, writeCompositeDataset } from '../../src/data/composite/dataset.js';
import { mulberry32 } from '../../src/data/procedural.js';
import { repoRoot } from '../helpers/childProcess.js';

let root = '';
const quiet = () => {};

function dir(name: string): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** An RGBA stamp: a textured ellipse with a 2-px soft edge on a transparent w×h canvas. */
async function writeStamp(path: string, w: number, h: number, seed: number): Promise<void> {
  const rand = mulberry32(seed);
  const px = new Uint8Array(w * h * 4);
  const [r, g, b] = [rand() * 255, rand() * 255, rand() * 255];
  const rx = w * 0.4;
  const ry = h * 0.4;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = Math.hypot((x + 0.5 - w / 2) / rx, (y + 0.5 - h / 2) / ry);
      const a = Math.min(1, Math.max(0, ((1 - d) * Math.min(rx, ry)) / 2));
      const i = (y * w + x) * 4;
      px.set([r + 30 * rand() - 15, g, b, a * 255], i);
    }
  }
  await sharp(px, { raw: { width: w, height: h, channels: 4 } })
    .png()
    .toFile(path);
}

/** An RGB background: a gradient with noise. */
async function writeBackground(path: string, w: number, h: number, seed: number): Promise<void> {
  const rand = mulberry32(seed);
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set([(x * 255) / w, (y * 255) / h, 60 + rand() * 100], (y * w + x) * 3);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(path);
}

function files(d: string): string[] {
  return readdirSync(d).sort();
}

function manifest(out: string): CompositeManifest {
  return JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-composite-'));
  const objects = dir('objects');
  mkdirSync(join(objects, 'sub'));
  for (let i = 0; i < 5; i++) await writeStamp(join(objects, i < 2 ? 'sub' : '', `stamp${i}.png`), 90 + 8 * i, 70 + 5 * i, i + 1);
  // Not usable: an RGB file, an opaque RGBA file, a stamp too small, and a file that is not an image.
  await sharp({ create: { width: 80, height: 80, channels: 3, background: '#808080' } })
    .png()
    .toFile(join(objects, 'rgb.png'));
  await sharp({ create: { width: 80, height: 80, channels: 4, background: { r: 9, g: 9, b: 9, alpha: 1 } } })
    .png()
    .toFile(join(objects, 'opaque.png'));
  await writeStamp(join(objects, 'tiny.png'), 30, 30, 99);
  writeFileSync(join(objects, 'broken.png'), 'not a png');
  const bgs = dir('backgrounds');
  for (let i = 0; i < 5; i++) await writeBackground(join(bgs, `bg${i}.jpg`), 120 + 10 * i, 90, 100 + i);
  const noAlpha = dir('no-alpha');
  await sharp({ create: { width: 80, height: 80, channels: 3, background: '#808080' } })
    .jpeg()
    .toFile(join(noAlpha, 'a.jpg'));
  await sharp({ create: { width: 90, height: 70, channels: 3, background: '#202080' } })
    .png()
    .toFile(join(noAlpha, 'b.png'));
  dir('empty');
});

after(() => rmSync(root, { recursive: true, force: true }));

const base = () => ({
  objects: join(root, 'objects'),
  backgrounds: join(root, 'backgrounds'),
  n: 12,
  testN: 10,
  size: 32,
  split: true,
  seed: 3,
  warn: quiet,
});

describe('writeCompositeDataset', () => {
  test('writes JPEG images, binary PNG masks and a manifest with the split by instance', async () => {
    const out = join(root, 'set-a');
    const m = await writeCompositeDataset({ ...base(), out });
    assert.equal(files(join(out, 'train', 'images')).length, 12);
    assert.deepEqual(readdirSync(join(out, 'train')), ['images'], 'training images come without masks');
    const testImages = files(join(out, 'test', 'images'));
    const masks = files(join(out, 'test', 'masks'));
    assert.equal(testImages.length, 10);
    assert.deepEqual(
      masks.map((f) => f.replace('.png', '')),
      testImages.map((f) => f.replace('.jpg', '')),
    );
    const img = await sharp(join(out, 'train', 'images', files(join(out, 'train', 'images'))[0])).metadata();
    assert.deepEqual([img.format, img.width, img.height, img.channels], ['jpeg', 32, 32, 3]);

    const fractions: number[] = [];
    for (const f of masks) {
      const meta = await sharp(join(out, 'test', 'masks', f)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 32, 32, 1]);
      const r = await sharp(join(out, 'test', 'masks', f))
        .toColourspace('b-w')
        .raw()
        .toBuffer({ resolveWithObject: true });
      assert.equal(r.info.channels, 1);
      assert.ok(
        r.data.every((v) => v === 0 || v === 255),
        `${f} is binary`,
      );
      fractions.push(r.data.filter((v) => v === 255).length / (32 * 32));
    }
    // Coverage U(0.2, 0.45) of the frame, less the erosion and what a centre shift may push out of the frame.
    for (const f of fractions) assert.ok(f > 0.1 && f < 0.5, `mask fraction ${f}`);
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    assert.ok(mean > 0.18 && mean < 0.42, `mean mask fraction ${mean}`);
    assert.ok(Math.abs((m.testMaskFraction?.mean ?? 0) - mean) < 1e-9);

    // Instances: disjoint, 80 / 20 of the 5 usable of each kind, together all of them.
    assert.deepEqual([m.objects.train.length, m.objects.test.length], [4, 1]);
    assert.deepEqual([m.backgrounds.train.length, m.backgrounds.test.length], [4, 1]);
    assert.ok(m.objects.test.every((s) => !m.objects.train.includes(s)));
    assert.ok(m.backgrounds.test.every((s) => !m.backgrounds.train.includes(s)));
    assert.deepEqual([...m.objects.train, ...m.objects.test].sort(), [
      'stamp2.png',
      'stamp3.png',
      'stamp4.png',
      'sub/stamp0.png',
      'sub/stamp1.png',
    ]);
    const reasons = Object.fromEntries(m.skipped.objects.map((s) => [s.name, s.reason]));
    assert.deepEqual(reasons, { 'broken.png': 'unreadable', 'opaque.png': 'no-alpha', 'rgb.png': 'no-alpha', 'tiny.png': 'too-small' });
    assert.deepEqual(manifest(out).counts, { train: 12, test: 10 });
  });

  test('is deterministic for a seed and differs across seeds', async () => {
    const a = join(root, 'det-a');
    const b = join(root, 'det-b');
    const c = join(root, 'det-c');
    const ma = await writeCompositeDataset({ ...base(), out: a, n: 4, testN: 3 });
    const mb = await writeCompositeDataset({ ...base(), out: b, n: 4, testN: 3 });
    await writeCompositeDataset({ ...base(), out: c, n: 4, testN: 3, seed: 4 });
    for (const sub of ['train/images', 'test/images', 'test/masks']) {
      for (const f of files(join(a, sub))) assert.ok(readFileSync(join(a, sub, f)).equals(readFileSync(join(b, sub, f))), `${sub}/${f}`);
    }
    assert.deepEqual(ma.objects, mb.objects);
    const same = files(join(a, 'train/images')).filter((f) =>
      readFileSync(join(a, 'train/images', f)).equals(readFileSync(join(c, 'train/images', f))),
    );
    assert.equal(same.length, 0, 'another seed gives other images');
  });

  test('without --split every instance serves both splits; a second run replaces the set', async () => {
    const out = join(root, 'nosplit');
    await writeCompositeDataset({ ...base(), out, n: 5, testN: 2, split: false });
    const m = await writeCompositeDataset({ ...base(), out, n: 3, testN: 1, split: false });
    assert.deepEqual(m.objects.train, m.objects.test);
    assert.equal(m.objects.train.length, 5);
    assert.equal(files(join(out, 'train/images')).length, 3, 'old images are gone');
  });

  test('errors: empty folders, stamps without alpha, a foreign non-empty output folder', async () => {
    await assert.rejects(writeCompositeDataset({ ...base(), objects: join(root, 'empty'), out: join(root, 'e1') }), {
      code: 'ERR_NO_IMAGES',
      message: /no images in the object stamps folder/,
    });
    await assert.rejects(writeCompositeDataset({ ...base(), backgrounds: join(root, 'empty'), out: join(root, 'e2') }), {
      code: 'ERR_NO_IMAGES',
      message: /no images in the backgrounds folder/,
    });
    await assert.rejects(writeCompositeDataset({ ...base(), objects: join(root, 'missing'), out: join(root, 'e3') }), {
      code: 'ERR_NO_IMAGES',
      message: /folder not found/,
    });
    await assert.rejects(writeCompositeDataset({ ...base(), objects: join(root, 'no-alpha'), out: join(root, 'e4') }), {
      code: 'ERR_NO_IMAGES',
      message: /none of the 2 object files is a usable stamp \(2 without alpha/,
    });
    await assert.rejects(writeCompositeDataset({ ...base(), out: join(root, 'objects') }), { code: 'ERR_OUT_NOT_EMPTY' });
  });
});

describe('ilsgan composite', () => {
  const cli = join(repoRoot, 'dist/src/cli/main.js');
  const run = (args: string[]) => spawnSync(process.execPath, [cli, 'composite', ...args], { encoding: 'utf8', timeout: 60_000 });

  test('writes a set and prints a JSON summary', () => {
    const out = join(root, 'cli-set');
    const r = run([
      '--objects',
      join(root, 'objects'),
      '--backgrounds',
      join(root, 'backgrounds'),
      '--out',
      out,
      '--n',
      '3',
      '--test-n',
      '2',
      '--size',
      '32',
      '--split',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual([s.train, s.test, s.objects.train, s.objects.test, s.objects.skipped['no-alpha']], [3, 2, 4, 1, 2]);
    assert.match(r.stderr, /warning: skipping rgb\.png: the image has no alpha channel/);
  });

  test('stamps without alpha exit 2 with a hint', () => {
    const r = run([
      '--objects',
      join(root, 'no-alpha'),
      '--backgrounds',
      join(root, 'backgrounds'),
      '--out',
      join(root, 'cli-e'),
      '--n',
      '2',
    ]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^error: none of the 2 object files is a usable stamp.*\nhint: objects must be RGBA cut-outs/);
  });
});
