// SPDX-License-Identifier: MIT
// The statistics in metrics.jsonl of a data-parallel run describe the whole batch: every rank's means, averaged
// over ranks (IlsTrainer.readStats), not rank 0's alone. Each rank's trainer also reports a statistic that differs
// between ranks by construction (rank r: (r + 1) × iteration), so the line written by rank 0 must hold its mean.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distAvailable } from '../../src/tensor/index.js';
import { runRanks } from '../helpers/ranks.js';

const skip = distAvailable('gloo') ? false : 'the addon was built without c10d/Gloo (build/libtorch.json: "distributed")';
const srcUrl = new URL('../../src/', import.meta.url).href;

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-dpstats-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/**
 * One rank's program (runRanks gives it t, rank, world and port): the training loop on the demo data, 2 iterations
 * of a global batch of 4, a tick each.
 */
const program = (out: string) => `
import { IlsTrainer } from '${srcUrl}train/trainer.js';
import { train } from '${srcUrl}train/loop.js';
t.distInit({ rank, worldSize: world, masterPort: port, timeoutMs: 30000 });
const step = IlsTrainer.prototype.step;
IlsTrainer.prototype.step = function (reals) {
  step.call(this, reals);
  this.stats.report('Test/rank', t.scalar((rank + 1) * this.iteration));
};
await train({
  data: 'demo', demoCount: 32, out: ${JSON.stringify(out)}, config: 'tiny32', kimg: 0.008, device: 'cpu',
  options: { batch: 4 }, tickKimg: 0.004, snapshotKimg: 1, progress: false, parallel: { rank, worldSize: world },
});
t.distDestroy();
`;

describe('data-parallel statistics', { skip }, () => {
  test('metrics.jsonl holds the mean over ranks of each statistic', async () => {
    const out = join(root, 'run');
    const ranks = await runRanks(program(out), 2, 90_000);
    for (const r of ranks) assert.equal(r.status, 0, r.stderr);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    assert.deepEqual(
      lines.map((m) => m.iteration),
      [1, 2],
      'one line per tick, written once (by rank 0)',
    );
    // Rank 0 reported 1 × iteration and rank 1 2 × iteration: the mean is 1.5 × iteration (rank 0's own: 1 ×).
    assert.deepEqual(
      lines.map((m) => m['Test/rank']),
      [1.5, 3],
    );
    for (const m of lines) for (const k of ['Loss/G/total', 'Loss/D/real', 'Mask/mean']) assert.ok(Number.isFinite(m[k]), `${k} = ${m[k]}`);
  });
});
