// SPDX-License-Identifier: MIT
// A run folder after kills (issue 14, items 1–4): train() takes the folder's lock; temp files and weights without
// their JSON are removed on start; a resume keeps the run's intervals and refuses settings that contradict the
// run; metrics.jsonl is cut back to the resumed checkpoint; a new run in a folder without a complete checkpoint
// starts clean. The "killed" states are built by hand, so the test is deterministic.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/util/errors.js';
import { checkpointDir, listCheckpoints, readCheckpointState } from '../../src/run/checkpoint.js';
import { truncateMetrics } from '../../src/run/metrics.js';
import { type TrainRun, resumeConflicts, runOptions, train } from '../../src/train/loop.js';
import { acquireRunLock, lockFileName } from '../../src/util/runLock.js';

const BATCH = 4;
let root = '';

before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-runfolder-test-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** tiny32 on 16 demo images, batch 4 (0.004 kimg per iteration); metrics every iteration, checkpoints every 2. */
function run(out: string, extra: Partial<TrainRun> = {}): TrainRun {
  return {
    data: 'demo',
    out,
    config: 'tiny32',
    kimg: 0.016,
    options: { batch: BATCH },
    demoCount: 16,
    tickKimg: 0.004,
    snapshotKimg: 0.008,
    checkpointKimg: 0.008,
    keepCheckpoints: 10,
    gridSize: 2,
    progress: false,
    threads: 1,
    ...extra,
  };
}

function metricLines(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
}

const isCode = (code: string) => (e: Error) => e instanceof InputError && e.code === code;

describe('run folder', () => {
  const dir = () => join(root, 'run');

  test('a run stopped after one iteration stores its intervals with the checkpoint', async () => {
    const r = await train(run(dir(), { maxIterations: 1 }));
    assert.equal(r.checkpoint, 'ckpt-000000004');
    const { state } = readCheckpointState(dir());
    assert.deepEqual(state.intervals, { tickKimg: 0.004, snapshotKimg: 0.008, checkpointKimg: 0.008, keepCheckpoints: 10 });
    assert.equal(state.demoCount, 16);
    assert.ok(!existsSync(join(dir(), lockFileName)), 'lock released');
  });

  test("a batch D's minibatch-std groups cannot split is refused before any work, naming the group", async () => {
    const out = join(root, 'mbstd-group');
    await assert.rejects(
      train(run(out, { options: { batch: 6 } })), // tiny32's group of 4: 6 = 4 + 2
      (e: unknown) => e instanceof InputError && e.code === 'ERR_ARG' && /minibatch-std groups of 4/.test(e.message),
    );
    assert.ok(!existsSync(checkpointDir(out)) || listCheckpoints(out).length === 0, 'nothing trained');
  });

  test('train() refuses a folder another holder has locked', async () => {
    const lock = acquireRunLock(dir(), 'test');
    try {
      await assert.rejects(train(run(dir(), { resume: true, kimg: 0 })), isCode('ERR_RUN_LOCKED'));
    } finally {
      lock.release();
    }
  });

  test('a resume with settings that contradict the run is refused, naming each; nothing is written', async () => {
    const before = readdirSync(checkpointDir(dir())).sort();
    const metricsBefore = readFileSync(join(dir(), 'metrics.jsonl'), 'utf8');
    await assert.rejects(
      train(
        run(dir(), {
          resume: true,
          kimg: 0,
          config: 'small64',
          data: '/somewhere/else',
          options: { batch: 8, gLr: 0.001, ils: false, seed: 0 },
        }),
      ),
      (e: Error) => {
        assert.ok(isCode('ERR_RESUME_CONFLICT')(e), String(e));
        assert.ok(!e.message.includes('\n'));
        for (const part of [
          '--config small64 (the run has tiny32)',
          '--batch 8 (the run has 4)',
          '--glr 0.001 (the run has 0.0025)',
          '--ils off (the run has on)',
          '--data /somewhere/else (the run has demo)',
        ]) {
          assert.ok(e.message.includes(part), `${part} in: ${e.message}`);
        }
        assert.ok(!e.message.includes('--seed'), "a setting equal to the run's is no conflict");
        return true;
      },
    );
    assert.deepEqual(readdirSync(checkpointDir(dir())).sort(), before);
    assert.equal(readFileSync(join(dir(), 'metrics.jsonl'), 'utf8'), metricsBefore);
  });

  test("after a kill: leftovers removed, metrics cut back, the run's intervals kept; equal settings accepted", async () => {
    const ckpts = checkpointDir(dir());
    // What kills leave: a temp file of a checkpoint being written, weights whose JSON was never written, and ticks
    // logged after the last checkpoint (the last one half-written).
    const temp = join(ckpts, `.ckpt-000000012.safetensors.${process.pid + 1}.lx0abc.tmp`);
    writeFileSync(temp, Buffer.alloc(1000));
    writeFileSync(join(ckpts, 'ckpt-000000012.safetensors'), Buffer.alloc(1000));
    const first = readFileSync(join(dir(), 'metrics.jsonl'), 'utf8').trim().split('\n')[0]!;
    const line = (it: number) => JSON.stringify({ ...JSON.parse(first), iteration: it, kimg: (it * BATCH) / 1000 });
    appendFileSync(join(dir(), 'metrics.jsonl'), `${line(2)}\n${line(3)}\n${line(2).slice(0, 20)}`);
    assert.deepEqual(listCheckpoints(dir()), ['ckpt-000000004'], 'orphan weights are no checkpoint');

    // No intervals given: the stored ones apply (a checkpoint at 12 = 4 + 8 and at the end, not at 8; keep 10).
    const r = await train({
      data: 'demo',
      out: dir(),
      config: 'tiny32',
      kimg: 0,
      options: { batch: BATCH },
      demoCount: 16,
      resume: true,
      progress: false,
      threads: 1,
    });
    assert.equal(r.stoppedBy, 'done');
    assert.equal(r.iterations, 3);
    assert.deepEqual(listCheckpoints(dir()), ['ckpt-000000004', 'ckpt-000000012', 'ckpt-000000016']);
    assert.ok(!existsSync(temp), 'temp file removed');
    assert.deepEqual(
      readdirSync(ckpts).filter((f) => f.startsWith('.')),
      [],
    );
    const m = metricLines(dir());
    assert.deepEqual(
      m.map((l) => l.iteration),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      m.map((l) => l.kimg),
      [0.004, 0.008, 0.012, 0.016],
    );
    assert.deepEqual(readCheckpointState(dir()).state.intervals, {
      tickKimg: 0.004,
      snapshotKimg: 0.008,
      checkpointKimg: 0.008,
      keepCheckpoints: 10,
    });
  });

  test('intervals given on resume replace the stored ones', async () => {
    const r = await train({ data: '', out: dir(), kimg: 0.02, resume: true, progress: false, checkpointKimg: 0.004, keepCheckpoints: 2 });
    assert.equal(r.checkpoint, 'ckpt-000000020');
    assert.deepEqual(listCheckpoints(dir()), ['ckpt-000000016', 'ckpt-000000020']);
    assert.deepEqual(readCheckpointState(dir()).state.intervals, {
      tickKimg: 0.004,
      snapshotKimg: 0.008,
      checkpointKimg: 0.004,
      keepCheckpoints: 2,
    });
  });

  test("a resume keeps the run's own values of what a recipe filled in; asked for, they are conflicts", async () => {
    const { state } = readCheckpointState(dir());
    assert.equal(state.options.minMaskSizeEnd, undefined, 'the run has no relaxation (as runs before it existed)');
    const recipeOptions = { minMaskSizeEnd: 0.15, minMaskRampKimg: [15, 30] as [number, number], precision: 'bfloat16' as const };
    assert.deepEqual(resumeConflicts(state, { ...run(dir()), recipeOptions }), []);
    const resumed = runOptions({ recipeOptions }, state);
    assert.equal(resumed.minMaskSizeEnd, undefined, "the run's own");
    assert.equal(resumed.precision, 'bfloat16', 'precision follows the call');
    assert.deepEqual(resumeConflicts(state, { ...run(dir()), options: { batch: BATCH, minMaskSizeEnd: 0.15 } }), [
      '--min-mask-end 0.15 (the run has unset)',
    ]);
    const fresh = runOptions({ recipeOptions, options: { precision: 'fp32' } }, null);
    assert.equal(fresh.minMaskSizeEnd, 0.15, 'a new run takes the recipe');
    assert.equal(fresh.precision, 'fp32', 'the flag given wins');
    // Through train(): the resume runs, and the run still has no relaxation.
    const r = await train({
      data: '',
      out: dir(),
      kimg: 0.024,
      resume: true,
      progress: false,
      recipeOptions: { ...recipeOptions, precision: 'fp32' },
    });
    assert.equal(r.stoppedBy, 'done');
    assert.equal(readCheckpointState(dir()).state.options.minMaskSizeEnd, undefined);
  });

  test('a new run in a folder an interrupted start left without a complete checkpoint starts clean', async () => {
    const d = join(root, 'fresh');
    mkdirSync(join(d, 'checkpoints'), { recursive: true });
    writeFileSync(join(d, 'checkpoints', `.ckpt-000000004.safetensors.${process.pid + 1}.lx0abc.tmp`), 'x');
    writeFileSync(join(d, 'metrics.jsonl'), '{"kimg":0.004,"iteration":1}\n{"kimg":0.008,"iteration":2}\n');
    const r = await train(run(d, { maxIterations: 1 }));
    assert.equal(r.checkpoint, 'ckpt-000000004');
    assert.deepEqual(
      metricLines(d).map((l) => l.iteration),
      [1],
    );
    assert.deepEqual(readdirSync(join(d, 'checkpoints')).sort(), ['ckpt-000000004.json', 'ckpt-000000004.safetensors']);
  });

  test('a resume of a folder that does not exist creates nothing', async () => {
    const d = join(root, 'never');
    await assert.rejects(train(run(d, { resume: true })), isCode('ERR_NO_CHECKPOINT'));
    assert.ok(!existsSync(d));
  });
});

describe('truncateMetrics', () => {
  test('keeps increasing iterations up to the checkpoint and drops unreadable lines', () => {
    const p = join(root, 'metrics.jsonl');
    const l = (it: number) => JSON.stringify({ iteration: it, kimg: it / 250 });
    writeFileSync(p, [l(1), l(2), l(3), l(2), l(3), '{"iter', l(4), l(5), ''].join('\n'));
    assert.equal(truncateMetrics(p, 4), 4);
    assert.deepEqual(
      readFileSync(p, 'utf8')
        .trim()
        .split('\n')
        .map((x) => (JSON.parse(x) as { iteration: number }).iteration),
      [1, 2, 3, 4],
    );
    assert.equal(truncateMetrics(p, 4), 0);
    assert.equal(truncateMetrics(join(root, 'none.jsonl'), 4), 0);
  });
});
