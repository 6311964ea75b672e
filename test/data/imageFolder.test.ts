// SPDX-License-Identifier: MIT
// Image folders: missing, empty and all-corrupt folders are InputErrors; corrupt files among good ones are skipped
// with a warning and counted; grey, RGBA, 16-bit and palette PNGs load as 8-bit RGB; non-square images are
// centre-cropped (spec §2.1); folders are searched recursively.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../../src/index.js';
import { loadTrainingImages, trainingFiles } from '../../src/data/imageFolder.js';

const S = 8;
let root = '';

before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-imagefolder-test-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function dir(name: string): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** A uniform w×h 8-bit RGB PNG. */
async function solidPng(path: string, rgb: [number, number, number], w = S, h = S): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) px.set(rgb, i * 3);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(path);
}

/** The PNG header's bit depth and colour type (IHDR bytes 24, 25), read directly. */
function ihdr(path: string): { depth: number; colourType: number } {
  const b = readFileSync(path);
  assert.equal(b.toString('latin1', 12, 16), 'IHDR');
  return { depth: b[24], colourType: b[25] };
}

/** Pixel k of image i of a set, as [r, g, b] (the set is CHW per image). */
function pixel(pixels: Uint8Array, size: number, i: number, k: number): number[] {
  const n = size * size;
  const base = i * 3 * n;
  return [pixels[base + k], pixels[base + n + k], pixels[base + 2 * n + k]];
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof InputError, `InputError, got ${e.name}: ${e.message}`);
    assert.equal((e as InputError).code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('bad data folders', () => {
  test('a path that does not exist', async () => {
    await rejectsWith(loadTrainingImages(join(root, 'nope'), S), 'ERR_NO_IMAGES', /not found/);
  });

  test('a file instead of a folder', async () => {
    const f = join(dir('file-case'), 'a.png');
    await solidPng(f, [1, 2, 3]);
    await rejectsWith(loadTrainingImages(f, S), 'ERR_NO_IMAGES', /not found/);
  });

  test('an empty folder, and a folder with no image files', async () => {
    await rejectsWith(loadTrainingImages(dir('empty'), S), 'ERR_NO_IMAGES', /no images/);
    const d = dir('text-only');
    writeFileSync(join(d, 'readme.txt'), 'hello');
    writeFileSync(join(d, '.hidden.png'), 'not looked at');
    await rejectsWith(loadTrainingImages(d, S), 'ERR_NO_IMAGES', /no images/);
  });

  test('only corrupt files: an InputError, and a warning per file', async () => {
    const d = dir('corrupt-only');
    writeFileSync(join(d, 'x.png'), Buffer.from('this is not a png at all, just garbage bytes'));
    writeFileSync(join(d, 'y.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01, 0x02, 0x03]));
    const warnings: string[] = [];
    await rejectsWith(loadTrainingImages(d, S, { warn: (m) => warnings.push(m) }), 'ERR_NO_IMAGES', /none of the 2 files/);
    assert.equal(warnings.length, 2);
    assert.ok(warnings.some((w) => w.includes('x.png')));
    assert.ok(warnings.some((w) => w.includes('y.jpg')));
  });
});

describe('mixed and unusual files', () => {
  test('corrupt files among good ones are skipped with a warning and counted', async () => {
    const d = dir('mixed');
    await solidPng(join(d, 'a.png'), [255, 0, 0]);
    await solidPng(join(d, 'b.png'), [0, 255, 0]);
    mkdirSync(join(d, 'sub'));
    await solidPng(join(d, 'sub', 'c.png'), [0, 0, 255]); // found recursively
    writeFileSync(join(d, 'bad.png'), Buffer.from('garbage'));
    const good = readFileSync(join(d, 'a.png'));
    writeFileSync(join(d, 'truncated.png'), good.subarray(0, Math.floor(good.length / 2)));
    const warnings: string[] = [];
    const set = await loadTrainingImages(d, S, { warn: (m) => warnings.push(m) });
    assert.equal(set.count, 3);
    assert.equal(set.source, 'folder');
    assert.equal(set.pixels.length, 3 * 3 * S * S);
    assert.deepEqual([...set.names].sort(), ['a.png', 'b.png', join('sub', 'c.png')]);
    assert.deepEqual(set.skipped.map((s) => s.path).sort(), ['bad.png', 'truncated.png']);
    for (const s of set.skipped) assert.ok(s.reason.length > 0);
    assert.equal(warnings.length, 2);
    assert.ok(warnings.some((w) => w.includes('bad.png')) && warnings.some((w) => w.includes('truncated.png')));
    // The good images' pixels, in name order.
    const colour = new Map([
      ['a.png', [255, 0, 0]],
      ['b.png', [0, 255, 0]],
      [join('sub', 'c.png'), [0, 0, 255]],
    ]);
    set.names.forEach((name, i) => {
      for (const k of [0, S * S - 1]) assert.deepEqual(pixel(set.pixels, S, i, k), colour.get(name), `${name} pixel ${k}`);
    });
  });

  test('grey, grey 16-bit, RGB 16-bit, RGBA and palette PNGs load as 8-bit RGB', async () => {
    const d = dir('modes');
    const w = S;
    const h = S;
    await sharp(Buffer.alloc(w * h, 100), { raw: { width: w, height: h, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(join(d, '1-grey.png'));
    await sharp(new Uint16Array(w * h).fill(77 * 257), { raw: { width: w, height: h, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toFile(join(d, '2-grey16.png'));
    const rgb16 = new Uint16Array(w * h * 3).map((_, i) => [10, 128, 250][i % 3] * 257);
    await sharp(rgb16, { raw: { width: w, height: h, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toFile(join(d, '3-rgb16.png'));
    const rgba = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([200, 50, 10, 255], i * 4);
    await sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
      .png()
      .toFile(join(d, '4-rgba.png'));
    const pal = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) pal.set([30, 60, 90], i * 3);
    await sharp(pal, { raw: { width: w, height: h, channels: 3 } })
      .png({ palette: true })
      .toFile(join(d, '5-palette.png'));
    // The files really are of those kinds (PNG colour types: 0 grey, 2 RGB, 3 palette, 6 RGBA).
    assert.deepEqual(ihdr(join(d, '1-grey.png')), { depth: 8, colourType: 0 });
    assert.deepEqual(ihdr(join(d, '2-grey16.png')), { depth: 16, colourType: 0 });
    assert.deepEqual(ihdr(join(d, '3-rgb16.png')), { depth: 16, colourType: 2 });
    assert.deepEqual(ihdr(join(d, '4-rgba.png')), { depth: 8, colourType: 6 });
    assert.equal(ihdr(join(d, '5-palette.png')).colourType, 3);

    const warnings: string[] = [];
    const set = await loadTrainingImages(d, S, { warn: (m) => warnings.push(m) });
    assert.equal(set.count, 5);
    assert.deepEqual(warnings, []);
    const want: Record<string, number[]> = {
      '1-grey.png': [100, 100, 100],
      '2-grey16.png': [77, 77, 77],
      '3-rgb16.png': [10, 128, 250],
      '4-rgba.png': [200, 50, 10],
      '5-palette.png': [30, 60, 90],
    };
    set.names.forEach((name, i) => {
      for (let k = 0; k < S * S; k++) assert.deepEqual(pixel(set.pixels, S, i, k), want[name], `${name} pixel ${k}`);
    });
  });

  test('non-square images: the centre square is kept, then resized', async () => {
    const d = dir('crop');
    // 12×8, wide: columns 0–1 red, 2–9 green, 10–11 blue; the centre square is columns 2–9.
    const wide = Buffer.alloc(12 * 8 * 3);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 12; x++) wide.set(x < 2 ? [255, 0, 0] : x < 10 ? [0, 255, 0] : [0, 0, 255], (y * 12 + x) * 3);
    await sharp(wide, { raw: { width: 12, height: 8, channels: 3 } })
      .png()
      .toFile(join(d, 'a-wide.png'));
    // 8×12, tall: rows 0–1 red, 2–9 grey 90, 10–11 blue.
    const tall = Buffer.alloc(8 * 12 * 3);
    for (let y = 0; y < 12; y++)
      for (let x = 0; x < 8; x++) tall.set(y < 2 ? [255, 0, 0] : y < 10 ? [90, 90, 90] : [0, 0, 255], (y * 8 + x) * 3);
    await sharp(tall, { raw: { width: 8, height: 12, channels: 3 } })
      .png()
      .toFile(join(d, 'b-tall.png'));
    // A larger square image downsampled 4× (antialiased): a uniform colour stays exact.
    await solidPng(join(d, 'c-big.png'), [12, 34, 56], 32, 32);
    const set = await loadTrainingImages(d, S);
    assert.deepEqual(set.names, ['a-wide.png', 'b-tall.png', 'c-big.png']);
    for (let k = 0; k < S * S; k++) {
      assert.deepEqual(pixel(set.pixels, S, 0, k), [0, 255, 0], `wide pixel ${k}`);
      assert.deepEqual(pixel(set.pixels, S, 1, k), [90, 90, 90], `tall pixel ${k}`);
      assert.deepEqual(pixel(set.pixels, S, 2, k), [12, 34, 56], `big pixel ${k}`);
    }
  });
});

describe('DRC layouts', () => {
  test('CUB: the GAN trains on the images whose split is 0 (spec §2.1); blank lines are ignored', () => {
    const cub = dir('cub-layout');
    writeFileSync(join(cub, 'images.txt'), '1 001.A/a.jpg\n2 001.A/b.jpg\n\n3 002.B/c.jpg\n');
    writeFileSync(join(cub, 'train_val_test_split.txt'), '1 0\n2 2\n3 0\n');
    assert.deepEqual(trainingFiles(cub), {
      files: [join(cub, 'images', '001.A/a.jpg'), join(cub, 'images', '002.B/c.jpg')],
      source: 'cub',
    });
  });
});
