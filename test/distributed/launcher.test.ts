// SPDX-License-Identifier: MIT
// `ilsgan train --nproc 2` (cli/launch.ts): trains, checkpoints and resumes with 2 workers; a killed worker ends
// the run with a clear error instead of a hang.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distAvailable } from '../../src/tensor/index.js';
import { cliPath } from '../helpers/cli.js';
import { runNode } from '../helpers/ranks.js';

const skip = distAvailable('gloo') ? false : 'the addon was built without c10d/Gloo (build/libtorch.json: "distributed")';
const tiny = ['--config', 'tiny32', '--batch', '4', '--demo-n', '32', '--no-progress'];

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-launch-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('ilsgan train --nproc', { skip }, () => {
  test('2 workers train, checkpoint and resume; only rank 0 writes', async () => {
    const out = join(root, 'run');
    const first = await runNode([cliPath, 'train', '--nproc', '2', '--data', 'demo', '--out', out, '--kimg', '0.008', ...tiny], {}, 60_000);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /^launching 2 workers \(1 thread each\)/m);
    assert.match(first.stderr, /^data parallel: 2 processes over gloo, 2 images each per step$/m);
    assert.equal(JSON.parse(first.stdout).checkpoint, 'ckpt-000000008');
    const resumed = await runNode([cliPath, 'train', '--nproc', '2', '--resume', out, '--kimg', '0.012', '--no-progress'], {}, 60_000);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resumed .* at 0\.008 kimg/);
    assert.equal(JSON.parse(resumed.stdout).checkpoint, 'ckpt-000000012');
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    assert.equal(metrics.length, 3, 'one line per iteration, written by rank 0 only');
    assert.deepEqual(
      readdirSync(join(out, 'checkpoints')).filter((f) => f.endsWith('.json')),
      ['ckpt-000000004.json', 'ckpt-000000008.json', 'ckpt-000000012.json'].slice(-3),
    );
  });

  test('--nproc 1 is one worker in a group of one (the path scripts/gpu/distCheck.sh takes with NCCL on one GPU)', async () => {
    const out = join(root, 'one');
    const r = await runNode([cliPath, 'train', '--nproc', '1', '--data', 'demo', '--out', out, '--kimg', '0.004', ...tiny], {}, 60_000);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^launching 1 worker \(/m);
    assert.match(r.stderr, /^data parallel: 1 process over gloo, 4 images each per step$/m);
    assert.equal(JSON.parse(r.stdout).checkpoint, 'ckpt-000000004');
    const [line] = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    assert.ok(Number.isFinite(JSON.parse(line)['Loss/G/total']));
  });

  test('a killed worker stops the run with a clear error', async () => {
    const out = join(root, 'killed');
    const launcher = spawn(process.execPath, [cliPath, 'train', '--nproc', '2', '--data', 'demo', '--out', out, '--kimg', '1', ...tiny], {
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    let stderr = '';
    launcher.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    launcher.stdout.resume();
    const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
    // Once training runs (a tick line), kill rank 1: the worker whose environment says RANK=1.
    while (!/^kimg /m.test(stderr)) await new Promise((r) => setTimeout(r, 100));
    const { execFileSync } = await import('node:child_process');
    const pids = execFileSync('ps', ['--ppid', String(launcher.pid), '-o', 'pid='], { encoding: 'utf8' })
      .trim()
      .split(/\s+/)
      .map(Number);
    const rank1 = pids.find((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('RANK=1'));
    assert.ok(rank1, `a worker with RANK=1 among ${pids}`);
    const killedAt = Date.now();
    process.kill(rank1, 'SIGKILL');
    const code = await exited;
    assert.ok(Date.now() - killedAt < 20_000, 'the run ends well within the grace period');
    assert.notEqual(code, 0);
    assert.match(stderr, /^error: worker 1 of 2 exited with signal SIGKILL; stopping the other workers$/m);
    assert.match(stderr, /^error: worker 0: another worker stopped or cannot be reached/m);
    assert.doesNotMatch(stderr, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
    assert.ok(!existsSync(join(out, 'checkpoints')) || readdirSync(join(out, 'checkpoints')).every((f) => !f.includes('.tmp')));
  });
});
