// SPDX-License-Identifier: MIT
// `ilsgan pipeline` as a user watches it (issue 16, items 1 and 5): report.html is live from the first stage on,
// Ctrl-C in the GAN stage saves a checkpoint and exits 130 with the stage unrecorded (the next run resumes it),
// the page says it stopped and how to continue, and log.txt in the output folder holds everything printed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { cliPath } from '../helpers/cli.js';

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-cli-livepipe-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '');

test('pipeline: live page during the GAN stage; Ctrl-C saves, exits 130, leaves it resumable; log.txt', { timeout: 180_000 }, async () => {
  // A small folder of photos (no test masks, too few to hold any out): the GAN stage comes first.
  const photos = join(root, 'photos');
  mkdirSync(photos);
  for (let i = 0; i < 16; i++) {
    const px = Buffer.alloc(32 * 32 * 3);
    for (let k = 0; k < px.length; k++) px[k] = (k * (i + 3) * 7) % 251;
    await sharp(px, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(join(photos, `p${i}.png`));
  }
  const out = join(root, 'p');
  const report = join(out, 'report.html');
  const child = spawn(
    process.execPath,
    [cliPath, 'pipeline', '--data', photos, '--config', 'tiny32', '--batch', '4', '--kimg', '1', '--out', out, '--no-progress', '--json'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => (stdout += String(b)));
  child.stderr.on('data', (b) => (stderr += String(b)));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  // The page goes live at the first stage; the GAN stage's grids update it (the loop handles Ctrl-C from then on).
  let live = '';
  for (let i = 0; i < 1200 && !/stage train: training the layered GAN, [\d.]+ of 1 kimg/.test(live); i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (child.exitCode !== null) break;
    live = read(report);
  }
  assert.match(live, /<meta http-equiv="refresh" content="30">/, `a live page (stderr: ${stderr})`);
  assert.match(live, /<strong>In progress:<\/strong> stage train: training the layered GAN, [\d.]+ of 1 kimg \(\d+ %\)/);

  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.equal(stdout, '', 'no result on stdout');
  assert.match(stderr, /^SIGINT: saved ckpt-\d+/m);
  assert.match(stderr, /^error: GAN training stopped \(signal\); checkpoint ckpt-\d+ saved$/m);
  // Resumable: the finished stage is recorded, the interrupted one is not, and its checkpoint is complete.
  assert.ok(!existsSync(join(out, 'stages', 'train.json')), 'the training stage is not recorded as done');
  assert.ok(readdirSync(join(out, 'gan', 'checkpoints')).some((f) => /^ckpt-\d+\.json$/.test(f)));
  const stopped = read(report);
  assert.doesNotMatch(stopped, /http-equiv="refresh"/);
  assert.match(
    stopped,
    /<strong>Stopped:<\/strong> GAN training stopped \(signal\); checkpoint ckpt-\d+ saved\. run the same command again to continue/,
  );

  const log = read(join(out, 'log.txt'));
  assert.match(log, /^--- \S+ ilsgan pipeline --data .*photos .* \(pid \d+\)$/m);
  for (const line of stderr.split('\n').filter((l) => l.trim())) assert.ok(log.includes(line), `log.txt has "${line}"`);
  assert.ok(!existsSync(join(out, 'gan', 'log.txt')), 'one log, in the pipeline folder');
});
