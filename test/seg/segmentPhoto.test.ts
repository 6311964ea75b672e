// SPDX-License-Identifier: MIT
// `ilsgan segment` like the tools people know (issue 16, item 3): `segment in.jpg out.png`, `-` for stdin/stdout,
// --alpha soft|binary, --background, --mask-only, outputs at the photo's own size, and one-line errors. The model is
// an untrained width-4 U-Net (seeded): the checks are relations between outputs, true whatever it calls foreground.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { manualSeed } from '../../src/tensor/ops/random.js';
import { composeCutout, parseBackground } from '../../src/seg/cutout.js';
import { loadSegmenter } from '../../src/seg/model.js';
import { decodePhoto, packChw, photoToInput } from '../../src/seg/photos.js';
import { predictMasks, segmentImages } from '../../src/seg/segment.js';
import { type CliResult, assertUserError, cliPath } from '../helpers/cli.js';
import { writeUntrainedSegmenter } from '../helpers/segmenterConfig.js';

let root = '';
let model = '';
let photo = '';
const [W, H] = [37, 23]; // not the network's 32×32, not square

function ilsgan(args: string[], stdin?: Buffer): CliResult & { out: Buffer } {
  const env = { ...process.env, ILSGAN_NUM_THREADS: '1' };
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: root, env, input: stdin, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), out: r.stdout };
}

/** A PNG's pixels as stored: grey files as one channel (sharp would widen them to sRGB on output). */
async function raw(file: string | Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const stored = (await sharp(file).metadata()).channels;
  const img = sharp(file);
  const { data, info } = await (stored === 1 ? img.toColourspace('b-w') : img).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, stored);
  return { data, width: info.width, height: info.height, channels: info.channels };
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-segment-photo-'));
  model = join(root, 'model');
  mkdirSync(model);
  manualSeed(7);
  writeUntrainedSegmenter(model);
  // A colourful gradient with a bright square, so an untrained net's logits vary across the photo.
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = 3 * (y * W + x);
      const inSquare = x > 10 && x < 25 && y > 5 && y < 18;
      px[i] = inSquare ? 250 : (x * 7) % 256;
      px[i + 1] = inSquare ? 240 : (y * 11) % 256;
      px[i + 2] = (x * y) % 256;
    }
  }
  photo = join(root, 'photo.png');
  await sharp(px, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toFile(photo);
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('compositing', () => {
  test('parseBackground: transparent and #RRGGBB (either case); anything else is null', () => {
    assert.equal(parseBackground('transparent'), 'transparent');
    assert.deepEqual(parseBackground('#FF8000'), [255, 128, 0]);
    assert.deepEqual(parseBackground('#0a0B0c'), [10, 11, 12]);
    for (const bad of ['red', '#fff', 'ff8000', '#ff80001', '#gg0000', '']) assert.equal(parseBackground(bad), null, bad);
  });

  test("composeCutout: alpha × the photo's alpha on transparency; straight-alpha blend over a colour", () => {
    const rgba = new Uint8Array([200, 100, 0, 255, 200, 100, 0, 255, 200, 100, 0, 128, 10, 20, 30, 0]);
    const p = { rgba, width: 4, height: 1 };
    const alpha = new Uint8Array([255, 0, 255, 255]);
    const t = composeCutout(p, alpha, 'transparent');
    assert.equal(t.channels, 4);
    assert.deepEqual([...t.data], [200, 100, 0, 255, 200, 100, 0, 0, 200, 100, 0, 128, 10, 20, 30, 0]);
    const half = composeCutout(p, new Uint8Array([128, 0, 255, 255]), [0, 0, 255]);
    assert.equal(half.channels, 3);
    // 128/255 of (200,100,0) over blue; none of the photo where alpha is 0; half of a half-transparent photo pixel.
    assert.deepEqual([...half.data], [100, 50, 127, 0, 0, 255, 100, 50, 127, 0, 0, 255]);
  });
});

describe('masks', () => {
  test("soft alpha at the photo's size: ≥ 128 exactly where the binary mask is 255, with values in between", async () => {
    const seg = loadSegmenter(model);
    try {
      const p = await decodePhoto(photo);
      const input = packChw([await photoToInput(p, 32)], 32);
      const [binary] = predictMasks(seg, input, [p], 'binary');
      const [soft] = predictMasks(seg, input, [p], 'soft');
      assert.equal(binary!.length, W * H);
      assert.equal(soft!.length, W * H);
      for (let i = 0; i < W * H; i++) {
        assert.ok(binary![i] === 0 || binary![i] === 255);
        assert.equal(soft![i]! >= 128, binary![i] === 255, `pixel ${i}: soft ${soft![i]}, binary ${binary![i]}`);
      }
      assert.ok(
        soft!.some((v) => v !== 0 && v !== 255),
        'soft alpha has values between 0 and 255',
      );
    } finally {
      seg.dispose();
    }
  });

  test('folders: --alpha soft masks and cut-outs on a colour', async () => {
    const input = join(root, 'folder');
    mkdirSync(input, { recursive: true });
    writeFileSync(join(input, 'a.png'), readFileSync(photo));
    const out = join(root, 'folder-out');
    const r = await segmentImages({ model, input, out, alpha: 'soft', background: [0, 255, 0], warn: () => {} });
    assert.equal(r.written, 1);
    const mask = await raw(join(out, 'masks', 'a.png'));
    const cut = await raw(join(out, 'cutouts', 'a.png'));
    assert.deepEqual([mask.width, mask.height, mask.channels], [W, H, 1]);
    assert.deepEqual([cut.width, cut.height, cut.channels], [W, H, 3]);
    assert.ok(
      [...mask.data].some((v) => v !== 0 && v !== 255),
      'soft mask',
    );
    assert.ok(Math.abs(r.meanForeground - mask.data.reduce((s, v) => s + v, 0) / (255 * W * H)) < 1e-9);
  });
});

describe('CLI', () => {
  test("segment in.png out.png: an RGBA cut-out at the photo's size whose alpha is the --mask-only mask", async () => {
    const r = ilsgan(['segment', '--model', model, 'photo.png', 'cut.png']);
    assert.equal(r.status, 0, r.stderr);
    const line = JSON.parse(r.stdout) as { out: string; written: number; width: number; height: number };
    assert.deepEqual([line.out, line.written, line.width, line.height], ['cut.png', 1, W, H]);
    const m = ilsgan(['segment', '--model', model, '--mask-only', 'photo.png', 'mask.png']);
    assert.equal(m.status, 0, m.stderr);
    const cut = await raw(join(root, 'cut.png'));
    const mask = await raw(join(root, 'mask.png'));
    const src = await raw(photo);
    assert.deepEqual([cut.width, cut.height, cut.channels], [W, H, 4]);
    assert.deepEqual([mask.width, mask.height, mask.channels], [W, H, 1]);
    for (let i = 0; i < W * H; i++) {
      assert.equal(cut.data[4 * i + 3], mask.data[i]);
      for (let k = 0; k < 3; k++) assert.equal(cut.data[4 * i + k], src.data[3 * i + k]);
    }
    assert.ok(
      mask.data.every((v) => v === 0 || v === 255),
      'binary by default',
    );
  });

  test('- - with --alpha soft --background: stdin to stdout, the photo blended over the colour by the soft mask', async () => {
    const bytes = readFileSync(photo);
    const r = ilsgan(['segment', '--model', model, '--alpha', 'soft', '--background', '#FF0000', '-', '-'], bytes);
    assert.equal(r.status, 0, r.stderr);
    const cut = await raw(r.out); // stdout is a PNG and nothing else
    const m = ilsgan(['segment', '--model', model, '--alpha', 'soft', '--mask-only', '-', '-'], bytes);
    assert.equal(m.status, 0, m.stderr);
    const mask = await raw(m.out);
    const src = await raw(photo);
    assert.deepEqual([cut.width, cut.height, cut.channels, mask.channels], [W, H, 3, 1]);
    assert.ok(
      [...mask.data].some((v) => v !== 0 && v !== 255),
      'soft mask',
    );
    const red = [255, 0, 0];
    for (let i = 0; i < W * H; i++) {
      const a = mask.data[i]! / 255;
      for (let k = 0; k < 3; k++) assert.equal(cut.data[3 * i + k], Math.round(src.data[3 * i + k]! * a + red[k]! * (1 - a)), `pixel ${i}`);
    }
  });

  test('a folder as positionals writes masks/ and cutouts/ as --input/--out do', () => {
    const input = join(root, 'pos');
    mkdirSync(join(input, 'sub'), { recursive: true });
    writeFileSync(join(input, 'sub', 'b.png'), readFileSync(photo));
    const r = ilsgan(['segment', '--model', model, 'pos', 'pos-out', '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { written: number }).written, 1);
    readFileSync(join(root, 'pos-out', 'masks', 'sub', 'b.png'));
    readFileSync(join(root, 'pos-out', 'cutouts', 'sub', 'b.png'));
  });

  test('user errors are one line and a hint, before any model is loaded where possible', () => {
    writeFileSync(join(root, 'broken.jpg'), 'not an image');
    mkdirSync(join(root, 'adir'), { recursive: true });
    mkdirSync(join(root, 'pos'), { recursive: true });
    const cases: [string[], RegExp, Buffer?][] = [
      [['--background', 'red', 'photo.png', 'x.png'], /--background.*expected #RRGGBB \(e\.g\. #ffffff\) or transparent, got "red"/],
      [['--alpha', 'half', 'photo.png', 'x.png'], /--alpha.*expected one of binary, soft, got "half"/],
      [['broken.jpg', 'x.png'], /^error: cannot read broken\.jpg: .+\nhint: /],
      [['missing.jpg', 'x.png'], /^error: cannot read missing\.jpg: .*(no such file|not found)/i],
      [['photo.png', 'x.jpg'], /^error: output x\.jpg: segment writes PNG/],
      [['photo.png', 'adir'], /^error: output adir is a folder, not a file/],
      [['photo.png', 'photo.png'], /^error: output photo\.png is the input photo/],
      [['pos', '-'], /^error: output "-" \(stdout\) takes one image, but pos is a folder/],
      [['--mask-only', '--background', '#000000', 'photo.png', 'x.png'], /--mask-only writes masks only/],
      [['photo.png'], /^error: missing the output/],
      [['-', 'x.png'], /^error: cannot read stdin: no bytes/, Buffer.alloc(0)],
    ];
    for (const [args, pattern, stdin] of cases) {
      const r = ilsgan(['segment', '--model', model, ...args], stdin ?? Buffer.alloc(0));
      assertUserError(r, pattern);
      assert.equal(r.stderr.trim().split('\n').length <= 2, true, `one line and a hint: ${r.stderr}`);
    }
  });
});
