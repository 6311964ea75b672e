// SPDX-License-Identifier: MIT
// `ilsgan train` with bad input exits 2 with a one-line error (and hint), never a stack trace; a folder with
// some corrupt files trains on the rest and says how many were skipped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { assertUserError, runCli } from '../helpers/cli.js';

let root = '';

before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-cli-test-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function dir(name: string): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
}

const tiny = ['--config', 'tiny32', '--kimg', '0.004', '--batch', '4', '--no-progress'];

const ilsgan = (args: string[], timeout = 120_000) => runCli(args, root, timeout);

describe('ilsgan train: bad data', () => {
  test('a folder that does not exist', () => {
    const r = ilsgan(['train', '--data', join(root, 'missing'), '--out', join(root, 'run-missing'), ...tiny]);
    assertUserError(r, /^error: data folder not found: .*missing$/m);
    assert.match(r.stderr, /^hint: /m);
  });

  test('an empty folder', () => {
    const r = ilsgan(['train', '--data', dir('empty'), '--out', join(root, 'run-empty'), ...tiny]);
    assertUserError(r, /^error: no images in .*empty$/m);
  });

  test('a folder of only corrupt files', () => {
    const d = dir('corrupt');
    writeFileSync(join(d, 'x.png'), Buffer.from('garbage garbage garbage'));
    const r = ilsgan(['train', '--data', d, '--out', join(root, 'run-corrupt'), ...tiny]);
    assertUserError(r, /^error: none of the 1 files in .*corrupt could be decoded$/m);
    assert.match(r.stderr, /^warning: skipping x\.png: /m);
    assert.ok(!existsSync(join(root, 'run-corrupt', 'checkpoints')), 'no checkpoint written');
  });

  test('missing flags and bad values are usage errors', () => {
    assertUserError(ilsgan(['train', '--out', join(root, 'run-x'), ...tiny]), /^error: train needs --data/m);
    assertUserError(
      ilsgan(['train', '--data', 'demo', '--out', join(root, 'run-y'), '--kimg', '-1']),
      /expected a number in \(0, 1e6\], got "-1"/,
    );
    assertUserError(ilsgan(['train', '--resume', dir('never-trained')]), /^error: no checkpoint in /m);
  });

  test('corrupt files among good ones: skipped with a warning, counted, training runs', async () => {
    const d = dir('mixed');
    for (let i = 0; i < 4; i++) {
      const px = Buffer.alloc(40 * 40 * 3, 40 * i + 20);
      await sharp(px, { raw: { width: 40, height: 40, channels: 3 } })
        .png()
        .toFile(join(d, `good${i}.png`));
    }
    writeFileSync(join(d, 'bad1.png'), Buffer.from('not an image'));
    writeFileSync(join(d, 'bad2.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]));
    const out = join(root, 'run-mixed');
    const r = ilsgan(['train', '--data', d, '--out', out, ...tiny, '--snap', '0.004']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^warning: skipping bad1\.png: /m);
    assert.match(r.stderr, /^warning: skipping bad2\.jpg: /m);
    assert.match(r.stderr, /^data: 4 images at 32² from .*mixed \(folder\), 2 skipped$/m);
    const result = JSON.parse(r.stdout.trim()) as { kimg: number; checkpoint: string; stopped_by: string };
    assert.equal(result.stopped_by, 'done');
    assert.equal(result.checkpoint, 'ckpt-000000004');
    assert.ok(existsSync(join(out, 'checkpoints', 'ckpt-000000004.safetensors')));
  });
});
