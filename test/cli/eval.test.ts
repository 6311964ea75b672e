// SPDX-License-Identifier: MIT
// `ilsgan eval` on small PNG folders: the JSON holds hand-computed metrics whatever the masks' format (grey, RGB,
// 16-bit, palette); unmatched files and differing sizes exit 2 with an error that lists them; --size resizes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { assertClose } from '../helpers/assertClose.js';
import { assertUserError, runCli } from '../helpers/cli.js';

let root = '';

function dir(name: string): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** A w×h mask with foreground where fg(x, y), as 0/255 bytes. */
function mask(w: number, h: number, fg: (x: number, y: number) => boolean): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) m[y * w + x] = fg(x, y) ? 255 : 0;
  return m;
}

type Mode = 'grey' | 'rgb' | 'grey16' | 'palette';

async function writeMask(path: string, m: Uint8Array, w: number, h: number, mode: Mode = 'grey'): Promise<void> {
  if (mode === 'grey') {
    await sharp(Buffer.from(m), { raw: { width: w, height: h, channels: 1 } })
      .png()
      .toFile(path);
  } else if (mode === 'grey16') {
    const v = Uint16Array.from(m, (b) => b * 257);
    await sharp(v, { raw: { width: w, height: h, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toFile(path);
  } else {
    const rgb = Buffer.alloc(w * h * 3);
    m.forEach((b, i) => rgb.fill(b, 3 * i, 3 * i + 3));
    await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
      .png({ palette: mode === 'palette' })
      .toFile(path);
  }
}

const left = (x: number) => x < 2;
const top = (_x: number, y: number) => y < 2;
const topLeft = (x: number, y: number) => x < 2 && y < 2;
const none = () => false;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-eval-test-'));
  // 4×4 masks: a exact (IoU 1), b half found (tp 4, fn 4: IoU 1/2, DICE 2/3), c both empty.
  const gt = dir('good/masks');
  const pred = dir('good/pred');
  await writeMask(join(gt, 'a.png'), mask(4, 4, left), 4, 4, 'grey16');
  await writeMask(join(gt, 'b.png'), mask(4, 4, top), 4, 4, 'palette');
  await writeMask(join(gt, 'c.png'), mask(4, 4, none), 4, 4, 'grey');
  await writeMask(join(pred, 'a.png'), mask(4, 4, left), 4, 4, 'rgb');
  await writeMask(join(pred, 'b.png'), mask(4, 4, topLeft), 4, 4, 'grey');
  await writeMask(join(pred, 'c.png'), mask(4, 4, none), 4, 4, 'rgb');
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Pooled: tp 12, fp 0, fn 4, tn 32 over 48 pixels. */
function assertGoodMetrics(r: Record<string, unknown>): void {
  assert.equal(r.images, 3);
  assert.equal(r.both_empty, 1);
  assert.equal(r.inverted_best, 0);
  const expected: Record<string, number> = {
    DRC_IoU: (1 + 1 / 2) / 2,
    DRC_DICE: (1 + 2 / 3) / 2,
    IoU: 12 / 16,
    mIoU: (12 / 16 + 32 / 36) / 2,
    pACC: 44 / 48,
  };
  for (const [k, v] of Object.entries(expected)) {
    assertClose(r[k] as number, v, { rtol: 0, atol: 1e-12, message: k });
    assertClose(r[`${k}_best`] as number, v, { rtol: 0, atol: 1e-12, message: `${k}_best` });
  }
}

const ilsgan = (args: string[]) => runCli(args, root, 60_000);

describe('ilsgan eval', () => {
  test('--json: one line with the hand-computed metrics; --out writes the same JSON', () => {
    const out = join(root, 'reports', 'good.json');
    const r = ilsgan(['eval', '--pred', join(root, 'good/pred'), '--masks', join(root, 'good/masks'), '--json', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]!);
    assertGoodMetrics(j);
    assert.equal(j.size, null);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), j);
  });

  test('the default output is a table', () => {
    const r = ilsgan(['eval', '--pred', join(root, 'good/pred'), '--masks', join(root, 'good/masks')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^3 images: /);
    assert.match(r.stdout, /^ {2}DRC_IoU +0\.7500 +0\.7500$/m);
    assert.match(r.stdout, /^ {2}pACC +0\.9167 +0\.9167$/m);
    assert.match(r.stdout, /both empty .*: 1 predicted/);
  });

  test('extension differences do not matter: predictions are paired by stem', async () => {
    const pred = dir('jpeg/pred');
    await sharp(Buffer.from(mask(4, 4, left)), { raw: { width: 4, height: 4, channels: 1 } })
      .jpeg({ quality: 100 })
      .toFile(join(pred, 'a.jpg'));
    await writeMask(join(pred, 'b.png'), mask(4, 4, topLeft), 4, 4);
    await sharp(Buffer.from(mask(4, 4, none)), { raw: { width: 4, height: 4, channels: 1 } })
      .webp({ lossless: true })
      .toFile(join(pred, 'c.webp'));
    const r = ilsgan(['eval', '--pred', pred, '--masks', join(root, 'good/masks'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    assertGoodMetrics(JSON.parse(r.stdout));
  });

  test('missing and extra predictions: exit 2, both listed', async () => {
    const pred = dir('missing/pred');
    await writeMask(join(pred, 'a.png'), mask(4, 4, left), 4, 4);
    await writeMask(join(pred, 'zzz.png'), mask(4, 4, left), 4, 4);
    const r = ilsgan(['eval', '--pred', pred, '--masks', join(root, 'good/masks')]);
    assertUserError(
      r,
      /^error: predictions and masks do not match: 2 ground-truth masks have no prediction .*\(b\.png, c\.png\); 1 prediction has no ground-truth mask .*\(zzz\.png\)$/m,
    );
  });

  test('many unmatched files: the first 10 and a count', async () => {
    const pred = dir('many/pred');
    for (const s of ['a', 'b', 'c']) await writeMask(join(pred, `${s}.png`), mask(4, 4, none), 4, 4);
    for (let i = 0; i < 13; i++) await writeMask(join(pred, `extra${String(i).padStart(2, '0')}.png`), mask(4, 4, none), 4, 4);
    const r = ilsgan(['eval', '--pred', pred, '--masks', join(root, 'good/masks')]);
    assertUserError(r, /13 predictions have no ground-truth mask .*\(extra00\.png, .*extra09\.png and 3 more\)/);
    assert.doesNotMatch(r.stderr, /extra10/);
  });

  test('differing sizes: exit 2 naming the image, unless --size resizes both', async () => {
    const gt = dir('sizes/masks');
    const pred = dir('sizes/pred');
    await writeMask(
      join(gt, 'd.png'),
      mask(8, 8, (x) => x < 4),
      8,
      8,
    );
    await writeMask(join(pred, 'd.png'), mask(4, 4, left), 4, 4);
    assertUserError(
      ilsgan(['eval', '--pred', pred, '--masks', gt]),
      /^error: 1 prediction differs in size from its mask: d \(4×4 vs 8×8\)$/m,
    );
    const r = ilsgan(['eval', '--pred', pred, '--masks', gt, '--size', '4', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.size, 4);
    assert.equal(j.DRC_IoU, 1);
    assert.equal(j.pACC, 1);
  });

  test('usage errors: missing folders and flags, bad --size', () => {
    assertUserError(
      ilsgan(['eval', '--pred', join(root, 'nope'), '--masks', join(root, 'good/masks')]),
      /^error: prediction folder not found: .*nope$/m,
    );
    assertUserError(
      ilsgan(['eval', '--pred', dir('empty'), '--masks', join(root, 'good/masks')]),
      /^error: no images in prediction folder /m,
    );
    assertUserError(ilsgan(['eval', '--masks', join(root, 'good/masks')]), /--pred/);
    assertUserError(
      ilsgan(['eval', '--pred', join(root, 'good/pred'), '--masks', join(root, 'good/masks'), '--size', '0']),
      /expected an integer from 1 to 4096, got "0"/,
    );
  });
});
