// SPDX-License-Identifier: MIT
// `ilsgan generate` on a one-iteration tiny32 run: every file is written with the right size and mode, the
// binary mask is the soft mask thresholded at 0.5, the composite is (1 − m)·bg + m·fg up to 8-bit rounding,
// a seed reproduces its files byte for byte, no tensor is left behind, and bad input exits 2 from the CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as t from '../../src/index.js';
import { LatentStream } from '../../src/models/latents.js';
import { type SynthManifest, synthFolders, synthesize } from '../../src/gen/synthesize.js';
import { checkpointDir } from '../../src/run/checkpoint.js';
import { train } from '../../src/train/loop.js';
import { fixedLatents } from '../../src/train/samples.js';
import { assertUserError, runCli } from '../helpers/cli.js';

const SIZE = 32;
let root = '';
let runDir = '';
let ckpt = '';
let first: SynthManifest;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-generate-test-'));
  runDir = join(root, 'run');
  const r = await train({
    data: 'demo',
    out: runDir,
    config: 'tiny32',
    kimg: 0.004,
    options: { batch: 4 },
    demoCount: 8,
    maxIterations: 1,
    gridSize: 2,
    progress: false,
  });
  ckpt = r.checkpoint;
  // Live + GC-freed tensors: constant unless synthesize leaves tensors behind (train()'s own leftovers may be
  // collected meanwhile, which moves one count to the other).
  const count = () => t.memory().liveTensors + t.memory().freedByGc;
  const before = count();
  first = await synthesize({ run: runDir, n: 6, batch: 4, seed: 3, out: join(root, 'a') });
  assert.equal(count(), before, 'synthesize leaves no tensor behind');
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

async function readPng(path: string): Promise<{ data: Uint8Array; channels: number; width: number; height: number }> {
  const grey = (await sharp(path).metadata()).channels === 1;
  // sharp widens grey to sRGB on output unless asked to keep it.
  const { data, info } = await (grey ? sharp(path).toColourspace('b-w') : sharp(path)).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), channels: info.channels, width: info.width, height: info.height };
}

const ilsgan = (args: string[]) => runCli(args, root, 120_000);

describe('synthesize()', () => {
  test('latents: sample i gets the same z whatever the batching (= fixedLatents)', () => {
    t.scope(() => {
      const s = new LatentStream(5, 7);
      const parts = [s.next(1), s.next(3), s.next(2)];
      const all = fixedLatents(6, 5, 7);
      assert.deepEqual([...t.cat(parts, 0).data()], [...all.data()]);
    });
  });

  test('manifest: run, checkpoint, kimg, seed, n, size, folders and file names', () => {
    const m = JSON.parse(readFileSync(join(root, 'a', 'manifest.json'), 'utf8')) as SynthManifest;
    assert.deepEqual(m, first);
    assert.equal(m.format, 'ilsgan-synthetic');
    assert.equal(m.run, runDir);
    assert.equal(m.checkpoint, ckpt);
    assert.equal(m.checkpoint, 'ckpt-000000004');
    assert.equal(m.kimg, 0.004);
    assert.equal(m.seed, 3);
    assert.equal(m.n, 6);
    assert.equal(m.size, SIZE);
    assert.equal(m.psi, 1);
    assert.equal(m.noise, 'const');
    assert.equal(m.pattern, '%06d.png');
    assert.deepEqual(m.files, ['000001.png', '000002.png', '000003.png', '000004.png', '000005.png', '000006.png']);
    assert.deepEqual(m.folders, { images: 'images', masks: 'masks', masksSoft: 'masks_soft', fg: 'fg', bg: 'bg' });
  });

  test('every folder holds the n PNGs: RGB for images/fg/bg, grey for masks, at the run resolution', async () => {
    const a = join(root, 'a');
    assert.deepEqual(readdirSync(a).sort(), ['bg', 'fg', 'images', 'manifest.json', 'masks', 'masks_soft']);
    for (const [key, folder] of Object.entries(synthFolders)) {
      assert.deepEqual(readdirSync(join(a, folder)).sort(), first.files, folder);
      for (const f of first.files) {
        const meta = await sharp(join(a, folder, f)).metadata();
        assert.equal(meta.format, 'png');
        assert.equal(meta.width, SIZE);
        assert.equal(meta.height, SIZE);
        assert.equal(meta.channels, key === 'masks' || key === 'masksSoft' ? 1 : 3, `${folder}/${f} channels`);
        assert.equal(meta.depth, 'uchar');
      }
    }
  });

  test('binary mask = 255 where the soft mask is ≥ 128 (m ≥ 0.5), else 0', async () => {
    let fgPixels = 0;
    let bgPixels = 0;
    for (const f of first.files) {
      const soft = await readPng(join(root, 'a', 'masks_soft', f));
      const bin = await readPng(join(root, 'a', 'masks', f));
      assert.equal(soft.channels, 1);
      assert.equal(bin.channels, 1);
      for (let i = 0; i < soft.data.length; i++) {
        const want = soft.data[i] >= 128 ? 255 : 0;
        if (bin.data[i] !== want) assert.fail(`${f} pixel ${i}: soft ${soft.data[i]}, binary ${bin.data[i]}`);
        if (want) fgPixels++;
        else bgPixels++;
      }
    }
    assert.equal(fgPixels + bgPixels, 6 * SIZE * SIZE);
    assert.ok(fgPixels > 0 && bgPixels > 0, `both sides of the threshold occur (${fgPixels} fg, ${bgPixels} bg)`);
  });

  test('composite = (1 − m)·bg + m·fg within 8-bit rounding', async (t2) => {
    const decode = (b: number) => (b - 128) / 127.5; // the saver's quantiser inverted (to within one step)
    let checked = 0;
    let worst = 0;
    for (const f of first.files) {
      const [img, fg, bg, m] = await Promise.all(['images', 'fg', 'bg', 'masks_soft'].map((d) => readPng(join(root, 'a', d, f))));
      for (let p = 0; p < SIZE * SIZE; p++) {
        const alpha = m.data[p] / 255;
        for (let c = 0; c < 3; c++) {
          const i = p * 3 + c;
          // Layers clamped to 0 or 255 lost their value; skip those pixels.
          if (fg.data[i] === 0 || fg.data[i] === 255 || bg.data[i] === 0 || bg.data[i] === 255 || img.data[i] === 0 || img.data[i] === 255)
            continue;
          const want = (1 - alpha) * decode(bg.data[i]) + alpha * decode(fg.data[i]);
          const err = Math.abs(decode(img.data[i]) - want) * 127.5;
          worst = Math.max(worst, err);
          checked++;
        }
      }
    }
    // A one-iteration generator saturates many values; about 40 % remain to check.
    assert.ok(checked > 1000, `enough unclamped values (${checked} checked)`);
    // Each of img, fg, bg loses < 1 step to truncation and m up to half a step: a bound of 2 steps.
    assert.ok(worst <= 2, `worst error ${worst.toFixed(3)} steps`);
    t2.diagnostic(`composite: ${checked} values checked, worst error ${worst.toFixed(3)} steps`);
  });

  test('the same seed gives byte-identical files; another seed different images', async () => {
    const again = await synthesize({ run: runDir, checkpoint: ckpt, n: 6, batch: 4, seed: 3, out: join(root, 'b') });
    assert.deepEqual({ ...again, run: '' }, { ...first, run: '' });
    for (const folder of Object.values(synthFolders)) {
      for (const f of first.files) {
        assert.ok(readFileSync(join(root, 'a', folder, f)).equals(readFileSync(join(root, 'b', folder, f))), `${folder}/${f}`);
      }
    }
    await synthesize({ run: runDir, n: 2, batch: 2, seed: 4, out: join(root, 'c') });
    assert.ok(!readFileSync(join(root, 'a', 'images', '000001.png')).equals(readFileSync(join(root, 'c', 'images', '000001.png'))));
  });

  test('a checkpoint given by path, with another batch size: the same samples (to within one step)', async () => {
    const path = join(checkpointDir(runDir), `${ckpt}.safetensors`);
    const m = await synthesize({ run: runDir, checkpoint: path, n: 3, batch: 3, seed: 3, out: join(root, 'd') });
    assert.equal(m.checkpoint, ckpt);
    for (const f of m.files) {
      const [x, y] = await Promise.all([readPng(join(root, 'a', 'images', f)), readPng(join(root, 'd', 'images', f))]);
      const diff = x.data.reduce((w, v, i) => Math.max(w, Math.abs(v - y.data[i])), 0);
      assert.ok(diff <= 1, `${f}: max difference ${diff}`);
    }
  });

  test('errors: missing run, no checkpoint, unknown checkpoint, n ≤ 0, an output folder already used', async () => {
    const o = (extra: object) => ({ run: runDir, n: 1, out: join(root, 'never'), ...extra });
    await assert.rejects(synthesize(o({ run: join(root, 'missing') })), { code: 'ERR_NO_RUN' });
    const empty = join(root, 'empty-run');
    mkdirSync(empty);
    await assert.rejects(synthesize(o({ run: empty })), { code: 'ERR_NO_CHECKPOINT', message: /no checkpoint in/ });
    await assert.rejects(synthesize(o({ checkpoint: 'ckpt-000000999' })), { code: 'ERR_NO_CHECKPOINT', hint: /available: ckpt-000000004/ });
    await assert.rejects(synthesize(o({ checkpoint: join(root, 'nope.json') })), { code: 'ERR_NO_CHECKPOINT' });
    await assert.rejects(synthesize(o({ n: 0 })), { code: 'ERR_ARG' });
    await assert.rejects(synthesize(o({ n: 2.5 })), { code: 'ERR_ARG' });
    await assert.rejects(synthesize(o({ out: join(root, 'a') })), { code: 'ERR_OUT_EXISTS' });
  });
});

describe('ilsgan generate (CLI)', () => {
  test('writes the samples and prints one JSON line', () => {
    const out = join(root, 'cli');
    const r = ilsgan(['generate', '--run', runDir, '--n', '2', '--out', out, '--seed', '3', '--batch', '2']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { out, n: 2, size: SIZE, checkpoint: ckpt, kimg: 0.004, seed: 3 });
    assert.deepEqual(readdirSync(join(out, 'masks')), ['000001.png', '000002.png']);
  });

  test('bad input exits 2 with a one-line error', () => {
    const out = join(root, 'cli-bad');
    assertUserError(
      ilsgan(['generate', '--run', join(root, 'missing'), '--n', '2', '--out', out]),
      /^error: run directory not found: .*missing$/m,
    );
    assertUserError(
      ilsgan(['generate', '--run', runDir, '--checkpoint', 'ckpt-000000999', '--n', '2', '--out', out]),
      /^error: no checkpoint ckpt-000000999 in /m,
    );
    assertUserError(ilsgan(['generate', '--run', join(root, 'empty-run'), '--n', '2', '--out', out]), /^error: no checkpoint in /m);
    assertUserError(ilsgan(['generate', '--run', runDir, '--n', '0', '--out', out]), /expected an integer from 1 to 1e7, got "0"/);
    assertUserError(ilsgan(['generate', '--run', runDir, '--out', out]), /required option '--n <n>'/);
  });
});
