// SPDX-License-Identifier: MIT
// Mask files: PIL's grey formula and NEAREST sampling, threshold at 128, 16-bit/palette/RGBA masks, both resize
// modes (spec §2.2), and pairing folders by stem.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { binarise, listSome, pairMaskFolders, readBinaryMask, resizeNearest, rgbToGrey } from '../../src/eval/maskFiles.js';
import { InputError } from '../../src/util/errors.js';

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-maskfiles-test-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('pixel helpers', () => {
  test("rgbToGrey is PIL's convert('L') (red 76, green 150, blue 29, grey unchanged)", () => {
    assert.deepEqual([...rgbToGrey(new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 128, 128]))], [76, 150, 29, 128]);
  });

  test('binarise: 127 is background, 128 foreground', () => {
    assert.deepEqual([...binarise(new Uint8Array([0, 127, 128, 255]))], [0, 0, 1, 1]);
  });

  test('resizeNearest samples at pixel centres like PIL', () => {
    assert.deepEqual([...resizeNearest(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]), 8, 1, 4, 1)], [1, 3, 5, 7]);
    assert.deepEqual([...resizeNearest(new Uint8Array([0, 1]), 2, 1, 4, 1)], [0, 0, 1, 1]);
    assert.deepEqual([...resizeNearest(new Uint8Array([0, 1, 2, 3, 4, 5]), 3, 2, 2, 1)], [3, 5]);
  });

  test('listSome shows ten names and a count', () => {
    const names = Array.from({ length: 12 }, (_, i) => `f${i}`);
    assert.equal(listSome(names), 'f0, f1, f2, f3, f4, f5, f6, f7, f8, f9 and 2 more');
    assert.equal(listSome(['a']), 'a');
  });
});

describe('readBinaryMask', () => {
  test('16-bit grey: 32767 is background, 32768 foreground', async () => {
    const p = join(root, 'g16.png');
    await sharp(new Uint16Array([0, 32767, 32768, 65535]), { raw: { width: 4, height: 1, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toFile(p);
    const m = await readBinaryMask(p);
    assert.deepEqual([m.width, m.height, [...m.mask]], [4, 1, [0, 0, 1, 1]]);
  });

  test('palette and RGBA masks: colour through the grey formula, alpha ignored', async () => {
    const pal = join(root, 'pal.png');
    await sharp(Buffer.from([255, 0, 0, 0, 255, 0, 255, 255, 255, 0, 0, 0]), { raw: { width: 4, height: 1, channels: 3 } })
      .png({ palette: true })
      .toFile(pal);
    assert.deepEqual([...(await readBinaryMask(pal)).mask], [0, 1, 1, 0]);
    const rgba = join(root, 'rgba.png');
    await sharp(Buffer.from([255, 255, 255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 4 } })
      .png()
      .toFile(rgba);
    assert.deepEqual([...(await readBinaryMask(rgba)).mask], [1, 0]);
  });

  test('nearest and bilinear resizing of an 8×8 square mask to 4×4 and 16×16', async () => {
    const p = join(root, 'sq.png');
    const px = new Uint8Array(64);
    for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) px[y * 8 + x] = 255;
    await sharp(Buffer.from(px), { raw: { width: 8, height: 8, channels: 1 } })
      .png()
      .toFile(p);
    const n4 = await readBinaryMask(p, 4, 'nearest');
    // Rows/columns 1, 3, 5, 7 of the original: the centre 2×2 block.
    assert.deepEqual([...n4.mask], [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    const b4 = await readBinaryMask(p, 4, 'bilinear');
    assert.equal(b4.mask.length, 16);
    assert.equal(
      b4.mask.reduce((a, b) => a + b, 0),
      4,
      'the box 2..6 averages to 1 over the centre 2×2 cells',
    );
    for (const mode of ['nearest', 'bilinear'] as const) {
      const up = await readBinaryMask(p, 16, mode);
      assert.equal(
        up.mask.reduce((a, b) => a + b, 0),
        64,
        `${mode}: an 8×8 block at 16×16`,
      );
    }
  });

  test('an unreadable file is an InputError naming it', async () => {
    const p = join(root, 'bad.png');
    writeFileSync(p, 'not a png');
    await assert.rejects(readBinaryMask(p), (e: unknown) => e instanceof InputError && /bad\.png/.test(e.message));
  });
});

describe('pairMaskFolders', () => {
  test('pairs by stem, sorted; ignores non-images and dotfiles', () => {
    const a = join(root, 'pa');
    const b = join(root, 'pb');
    mkdirSync(a);
    mkdirSync(b);
    for (const f of ['2.png', '1.jpg', 'notes.txt', '.hidden.png']) writeFileSync(join(a, f), '');
    for (const f of ['1.png', '2.PNG']) writeFileSync(join(b, f), '');
    assert.deepEqual(
      pairMaskFolders(a, b).map((p) => [p.stem, p.pred, p.gt]),
      [
        ['1', join(a, '1.jpg'), join(b, '1.png')],
        ['2', join(a, '2.png'), join(b, '2.PNG')],
      ],
    );
  });

  test('two files with one stem are an error', () => {
    const a = join(root, 'dup');
    mkdirSync(a);
    for (const f of ['1.png', '1.jpg']) writeFileSync(join(a, f), '');
    assert.throws(() => pairMaskFolders(a, a), /several images with the same name: 1\.jpg \/ 1\.png/);
  });
});
