// SPDX-License-Identifier: MIT
// Two `ilsgan train` processes on one run folder (issue 14, item 1): the second exits 2 naming the first one's
// pid, the first stops cleanly on SIGINT and releases the lock; a resume with contradicting flags is one line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertUserError, cliPath, runCli } from '../helpers/cli.js';

let root = '';

before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-cli-runfolder-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const tiny = [
  '--data',
  'demo',
  '--demo-n',
  '16',
  '--config',
  'tiny32',
  '--batch',
  '4',
  '--tick',
  '0.004',
  '--threads',
  '1',
  '--no-progress',
];

test('a second train on a busy run folder is refused; the first stops cleanly on SIGINT and frees it', async () => {
  const out = join(root, 'run');
  const first = spawn(process.execPath, [cliPath, 'train', ...tiny, '--kimg', '1', '--out', out], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((res) => first.on('exit', (code) => res(code)));
  // Wait until it trains (its first tick is logged): from then on SIGINT is its clean stop.
  await new Promise<void>((res, rej) => {
    first.stderr.on('data', (b) => {
      stderr += String(b);
      if (/^kimg /m.test(stderr)) res();
    });
    first.on('exit', () => rej(new Error(`the first train exited early: ${stderr}`)));
  });
  assert.ok(existsSync(join(out, '.ilsgan.lock')));

  const second = runCli(['train', ...tiny, '--kimg', '1', '--out', out], root);
  assertUserError(second, new RegExp(`^error: .*run is in use by process ${first.pid} on `, 'm'));
  assert.match(second.stderr, /^hint: .*kill \d+/m);
  const resumed = runCli(['train', '--resume', out, '--no-progress'], root);
  assertUserError(resumed, new RegExp(`in use by process ${first.pid} `));

  first.kill('SIGINT');
  const code = await exited;
  // A clean stop: a checkpoint saved, then exit 0 or 130 (128 + SIGINT, as shells report an interrupted command).
  assert.ok(code === 0 || code === 130, `exit ${code}: ${stderr}`);
  assert.match(stderr, /^SIGINT: saved ckpt-\d+/m);
  assert.ok(!existsSync(join(out, '.ilsgan.lock')), 'lock released');

  // The run exists now: flags that contradict it are refused in one line, each named.
  const conflict = runCli(['train', '--resume', out, '--batch', '8', '--ils', 'off', '--glr', '0.0025', '--no-progress'], root);
  assertUserError(
    conflict,
    /^error: cannot resume .*run with other settings than its own: --batch 8 \(the run has 4\), --ils off \(the run has on\)$/m,
  );
  assert.doesNotMatch(conflict.stderr, /--glr/, "a flag equal to the run's is accepted");
  assert.equal(conflict.stderr.trim().split('\n').length, 2, 'one line and a hint');
});
