// SPDX-License-Identifier: MIT
// `ilsgan train` as a user watches it (issue 16, items 1 and 5): report.html is live from the first sample grid
// (in progress, ETA, reloading), Ctrl-C saves a checkpoint and exits 130 with the page saying where it stopped,
// log.txt holds everything printed (the result line too), and a resume appends to it and finishes the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cuda } from '../../src/tensor/runtime.js';
import { cliPath, runCli } from '../helpers/cli.js';

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-cli-live-'));
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
  '--snap',
  '0.004',
  '--threads',
  '1',
  '--no-progress',
];
const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '');

test(
  'train: a live report while it runs, Ctrl-C exits 130 after saving, log.txt has it all; a resume finishes the page',
  { timeout: 120_000 },
  async () => {
    const out = join(root, 'run');
    const report = join(out, 'report.html');
    const child = spawn(process.execPath, [cliPath, 'train', ...tiny, '--kimg', '1', '--out', out, '--device', 'auto'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += String(b)));
    child.stderr.on('data', (b) => (stderr += String(b)));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // Wait for a page written after a training step: in progress, with its ETA.
    let live = '';
    for (let i = 0; i < 600 && !/left \(around \d\d:\d\d\)/.test(live); i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (child.exitCode !== null) break;
      live = read(report);
    }
    assert.match(live, /<meta http-equiv="refresh" content="30">/, `a live page (stderr: ${stderr})`);
    assert.match(
      live,
      /<strong>In progress:<\/strong> training the layered GAN, [\d.]+ of 1 kimg \(\d+ %\)\. About .+ left \(around \d\d:\d\d\)\. Updated at/,
    );
    assert.match(live, /samples-/, 'the grids so far are on it');

    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    const result = JSON.parse(stdout.trim()) as { stopped_by: string; checkpoint: string; report: string };
    assert.equal(result.stopped_by, 'signal');
    assert.equal(result.report, report);
    assert.ok(existsSync(join(out, 'checkpoints', `${result.checkpoint}.json`)), 'checkpoint saved');
    const stopped = read(report);
    assert.doesNotMatch(stopped, /http-equiv="refresh"/, 'a stopped page does not reload');
    assert.match(
      stopped,
      new RegExp(
        `<strong>Stopped:</strong> stopped by SIGINT at [\\d.]+ of 1 kimg \\(\\d+ %\\); checkpoint ${result.checkpoint} saved; continue with: ilsgan train --resume ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.`,
      ),
    );

    // log.txt: what the terminal showed, stdout and stderr, as plain text.
    const log = read(join(out, 'log.txt'));
    assert.match(log, /^--- \S+ ilsgan train --data demo .* \(pid \d+\)$/m);
    assert.match(log, /^data: 16 images at 32² from demo/m);
    assert.match(log, /^kimg 0\.00 \| [\d.]+ img\/s \| G /m, 'progress lines');
    assert.match(log, /^SIGINT: saved ckpt-\d+; continue with: ilsgan train --resume /m);
    assert.ok(log.includes(stdout.trim()), 'the result line');
    for (const line of stderr.split('\n').filter((l) => l.trim())) assert.ok(log.includes(line), `log.txt has "${line}"`);
    // --device auto: CUDA when the machine has it, else the CPU.
    const config = JSON.parse(read(join(out, 'config.json'))) as { device: string };
    assert.equal(config.device, cuda.isAvailable() && cuda.deviceCount() > 0 ? 'cuda' : 'cpu');

    // Resume to one tick further, with --json: stdout is the result only; the page ends without banner or reload.
    const saved = Number(/(\d+)$/.exec(result.checkpoint)![1]) / 1000;
    const resumed = runCli(['train', '--resume', out, '--kimg', String(saved + 0.004), '--no-progress', '--json'], root);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.equal(resumed.stdout.split('\n').length, 2, 'one JSON line on stdout');
    assert.equal((JSON.parse(resumed.stdout) as { stopped_by: string }).stopped_by, 'done');
    const done = read(report);
    assert.doesNotMatch(done, /http-equiv="refresh"|class="live/);
    const log2 = read(join(out, 'log.txt'));
    assert.ok(log2.startsWith(log), 'a resume appends to log.txt');
    assert.match(log2.slice(log.length), /^--- \S+ ilsgan train --resume .*\n[^]*resumed .* at [\d.]+ kimg/m);
  },
);
