// SPDX-License-Identifier: MIT
// `segment` and `eval` apply the test-time refinement in model.json (`refine`) by default, `--refine off` ignores it
// (today's masks, bit for bit), `--refine on` gives a model without one the default setting; every form of segment
// (one file, stdin/stdout, a folder) and eval's JSON follow it; bad flag values are one-line errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { manualSeed } from '../../src/tensor/ops/random.js';
import { writeSegmenterRefine } from '../../src/seg/model.js';
import { defaultRefine } from '../../src/seg/refineSetting.js';
import { type CliResult, assertUserError, cliPath } from '../helpers/cli.js';
import { writeUntrainedSegmenter } from '../helpers/segmenterConfig.js';

let root = '';
const [W, H] = [41, 29]; // not the network's 32×32

function ilsgan(args: string[], stdin?: Buffer): CliResult & { out: Buffer } {
  const env = { ...process.env, ILSGAN_NUM_THREADS: '1' };
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: root, env, input: stdin, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), out: r.stdout };
}

/** The one channel of a grey PNG mask. */
async function grey(file: string | Buffer): Promise<Buffer> {
  return sharp(file).toColourspace('b-w').raw().toBuffer();
}

async function writePhoto(path: string, shift: number): Promise<void> {
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = 3 * (y * W + x);
      const inside = Math.hypot(x - 20 - shift, y - 14) < 9;
      px[i] = inside ? 220 : (x * 5 + 40) % 256;
      px[i + 1] = inside ? 60 : (y * 9) % 256;
      px[i + 2] = inside ? 40 : 180;
    }
  }
  await sharp(px, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toFile(path);
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-cli-refine-'));
  mkdirSync(join(root, 'plain'));
  manualSeed(3);
  writeUntrainedSegmenter(join(root, 'plain'));
  cpSync(join(root, 'plain'), join(root, 'refined'), { recursive: true });
  writeSegmenterRefine(join(root, 'refined'), defaultRefine);
  mkdirSync(join(root, 'photos'));
  mkdirSync(join(root, 'masks'));
  for (const [k, shift] of [-3, 4].entries()) {
    await writePhoto(join(root, 'photos', `p${k}.png`), shift);
    const m = Buffer.alloc(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) m[y * W + x] = Math.hypot(x - 20 - shift, y - 14) < 9 ? 255 : 0;
    await sharp(m, { raw: { width: W, height: H, channels: 1 } })
      .png()
      .toFile(join(root, 'masks', `p${k}.png`));
  }
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('segment --refine', () => {
  test("default: model.json's refinement, in every form; off: the masks of the model without it", async () => {
    const soft = (model: string, out: string, ...flags: string[]) => {
      const r = ilsgan(['segment', '--model', model, '--mask-only', '--alpha', 'soft', ...flags, 'photos/p0.png', out]);
      assert.equal(r.status, 0, r.stderr);
      return grey(join(root, out));
    };
    const plain = await soft('plain', 'plain.png');
    const refined = await soft('refined', 'refined.png');
    const off = await soft('refined', 'off.png', '--refine', 'off');
    const on = await soft('plain', 'on.png', '--refine', 'on');
    assert.equal(refined.length, W * H);
    assert.notDeepEqual(refined, plain, 'the refinement changes the soft mask');
    assert.deepEqual(off, plain, '--refine off: bit for bit the model without refine');
    assert.deepEqual(on, refined, '--refine on: the default setting for a model without one');
    // stdin to stdout, and a folder: the same refined mask.
    const piped = ilsgan(
      ['segment', '--model', 'refined', '--mask-only', '--alpha', 'soft', '-', '-'],
      readFileSync(join(root, 'photos', 'p0.png')),
    );
    assert.equal(piped.status, 0, piped.stderr);
    assert.deepEqual(await grey(piped.out), refined);
    const folder = ilsgan(['segment', '--model', 'refined', '--alpha', 'soft', 'photos', 'out', '--no-progress']);
    assert.equal(folder.status, 0, folder.stderr);
    assert.deepEqual(await grey(join(root, 'out', 'masks', 'p0.png')), refined);
    // The cut-out's alpha is the same mask.
    const cut = await sharp(join(root, 'out', 'cutouts', 'p0.png'))
      .extractChannel(3)
      .raw()
      .toBuffer();
    assert.deepEqual(cut, refined);
  });

  test('a bad value is one line and a hint', () => {
    assertUserError(
      ilsgan(['segment', '--model', 'refined', '--refine', 'maybe', 'photos/p0.png', 'x.png']),
      /--refine.*expected on or off, got "maybe"/,
    );
  });
});

describe('eval --refine', () => {
  test("the JSON names the refinement used; --refine off scores today's masks", () => {
    const run = (model: string, ...flags: string[]) => {
      const r = ilsgan(['eval', '--model', model, '--images', 'photos', '--masks', 'masks', '--json', ...flags]);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const refined = run('refined');
    assert.deepEqual(refined.refine, defaultRefine);
    const off = run('refined', '--refine', 'off');
    const plain = run('plain');
    assert.equal(off.refine, null);
    assert.equal(plain.refine, null);
    const { model: _a, ...offMetrics } = off;
    const { model: _b, ...plainMetrics } = plain;
    assert.deepEqual(offMetrics, plainMetrics);
    assert.equal(refined.images, 2);
  });

  test('--refine with --pred is refused', () => {
    assertUserError(ilsgan(['eval', '--pred', 'masks', '--masks', 'masks', '--refine', 'on']), /--refine goes with --model, not --pred/);
  });
});
