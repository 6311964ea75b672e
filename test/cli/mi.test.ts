// SPDX-License-Identifier: MIT
// `ilsgan mi` and `ilsgan fid` from the built CLI: mi writes MI_estimation_results.json with the official keys
// and prints a summary line; bad input exits 2 without a stack trace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticFolder } from '../helpers/syntheticFolder.js';
import { assertUserError, runCli } from '../helpers/cli.js';

let root = '';
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-mi-cli-test-'));
  await writeSyntheticFolder(join(root, 'synth'), 10, 16, 2);
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const ilsgan = (args: string[]) => runCli(args, root, 120_000);

describe('ilsgan mi', () => {
  test('writes the JSON with ave_MI_train1/2 and ave_MI_train, and prints a summary', () => {
    const r = ilsgan([
      'mi',
      '--synthetic',
      'synth',
      '--size',
      '8',
      '--hidden',
      '8',
      '--iterations',
      '20',
      '--eval-every',
      '10',
      '--no-progress',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const out = join(root, 'synth', 'MI_estimation_results.json');
    assert.ok(existsSync(out));
    const j = JSON.parse(readFileSync(out, 'utf8'));
    for (const k of ['ave_MI_train1', 'ave_MI_train2', 'ave_MI_train']) assert.equal(typeof j[k], 'number', k);
    assert.equal(j.units, 'nats');
    assert.equal(j.schedule, 'fast+overrides');
    assert.equal(j.params.hidden, 8);
    assert.equal(j.history.single.length, 2);
    const line = JSON.parse(r.stdout.trim());
    assert.equal(line.ave_MI_train1, j.ave_MI_train1);
    assert.equal(line.out, out);
    assert.equal(line.history, undefined);
  });

  test('bad input exits 2: no manifest, no evaluation', () => {
    assertUserError(ilsgan(['mi', '--synthetic', '.']), /has no manifest\.json/);
    assertUserError(ilsgan(['mi', '--synthetic', 'synth', '--iterations', '5', '--eval-every', '10']), /give no evaluation/);
  });
});

describe('ilsgan fid', () => {
  test('bad input exits 2: no --inception, --select on a run without checkpoints', () => {
    assertUserError(ilsgan(['fid', '--run', 'synth']), /--inception <file> is required/);
    assertUserError(ilsgan(['fid', '--run', 'synth', '--select']), /no checkpoint in synth/);
  });
});
