// SPDX-License-Identifier: MIT
// Short tiny32 training runs on the demo data: metrics, sample grids and checkpoints are written; a run stopped
// and resumed ends bit-identical to one that ran through; restoring a checkpoint loads exactly the saved state;
// and a restored trainer steps exactly like the original (RNG, optimiser moments, ADA statistics restored).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as t from '../../src/index.js';
import { presets } from '../../src/models/config.js';
import { BatchSampler } from '../../src/data/loader.js';
import { proceduralTrainingSet } from '../../src/data/imageFolder.js';
import { checkpointDir, readCheckpointState } from '../../src/run/checkpoint.js';
import { restoreTrainer, saveCheckpoint } from '../../src/train/checkpoint.js';
import { type TrainRun, train } from '../../src/train/loop.js';
import { defaultTrainOptions } from '../../src/train/options.js';
import { IlsTrainer } from '../../src/train/trainer.js';

const BATCH = 4;
let root = '';

before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-training-test-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** 4 iterations of batch 4 (0.016 kimg) on 16 demo images; a metrics line every iteration. */
function run(out: string, extra: Partial<TrainRun> = {}): TrainRun {
  return {
    data: 'demo',
    out,
    config: 'tiny32',
    kimg: 0.016,
    options: { batch: BATCH },
    demoCount: 16,
    tickKimg: BATCH / 1000,
    snapshotKimg: 0.008,
    gridSize: 4,
    progress: false,
    ...extra,
  };
}

function metrics(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
}

/** Every tensor of a checkpoint's safetensors file (kept; the caller disposes them). */
function checkpointTensors(dir: string, name: string): Map<string, t.Tensor> {
  return t.keep(t.loadSafetensors(join(checkpointDir(dir), `${name}.safetensors`)).tensors);
}

/** Bit-equal tensors (same dtype and shape, no differing element). */
function assertSameTensor(a: t.Tensor, b: t.Tensor, what: string): void {
  assert.equal(a.dtype, b.dtype, `${what}: dtype`);
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const differing = t.scope(() => a.ne(b).sum().item());
  if (differing !== 0) assert.fail(`${what}: ${differing} elements differ`);
}

function assertSameTensors(a: Map<string, t.Tensor>, b: Map<string, t.Tensor>, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: tensor names`);
  for (const [k, v] of a) assertSameTensor(v, b.get(k) as t.Tensor, `${what}: ${k}`);
}

function disposeAll(...maps: Map<string, t.Tensor>[]): void {
  for (const m of maps) t.dispose([...m.values()]);
}

describe('train() on demo data', () => {
  let stopped = '';

  test('a run stopped after 2 iterations: finite metrics, sample grids, a checkpoint', async () => {
    stopped = join(root, 'stopped');
    const r = await train(run(stopped, { maxIterations: 2 }));
    assert.equal(r.stoppedBy, 'maxIterations');
    assert.equal(r.iterations, 2);
    assert.equal(r.checkpoint, 'ckpt-000000008');
    const m = metrics(stopped);
    assert.equal(m.length, 2);
    m.forEach((line, i) => {
      assert.equal(line.iteration, i + 1);
      assert.equal(line.kimg, ((i + 1) * BATCH) / 1000);
      for (const k of [
        'Loss/G/total',
        'Loss/G/adv',
        'Loss/G/bin',
        'Loss/G/msize',
        'Loss/G/ils',
        'Loss/D/real',
        'Loss/D/fake',
        'Mask/mean',
      ]) {
        assert.ok(k in line, `${k} logged`);
      }
      for (const [k, v] of Object.entries(line)) assert.ok(Number.isFinite(v), `${k} = ${v} is finite`);
    });
    assert.ok('Loss/r1_penalty' in m[0], 'R1 ran at iteration 0');
    assert.equal(m[0].ils_sigma, 0.2);
    // Sample grids: 5 rows (img, bg, fg, mask, fg over white) × 4 columns of 32² cells at 2×, 2-px gaps.
    const grids = readdirSync(stopped).filter((f) => /^samples-.*\.png$/.test(f));
    assert.ok(grids.includes('samples-init.png'));
    assert.ok(grids.length >= 2, `grids: ${grids.join(', ')}`);
    for (const f of grids) {
      const meta = await sharp(join(stopped, f)).metadata();
      assert.equal(meta.format, 'png');
      assert.equal(meta.width, 4 * 64 + 5 * 2);
      assert.equal(meta.height, 5 * 64 + 6 * 2);
    }
    // The checkpoint: weights + JSON with the counters and the sampler position.
    assert.ok(existsSync(join(checkpointDir(stopped), 'ckpt-000000008.safetensors')));
    const { state } = readCheckpointState(stopped);
    assert.equal(state.curNimg, 8);
    assert.equal(state.iteration, 2);
    assert.deepEqual(state.sampler, { epoch: 0, pos: 8 });
    assert.equal(state.options.batch, BATCH);
    assert.equal(state.targetKimg, 0.016);
    assert.equal(state.net.resolution, presets.tiny32.resolution);
    assert.ok(existsSync(join(stopped, 'config.json')));
  });

  test('the same directory without resume is refused', async () => {
    await assert.rejects(train(run(stopped)), (e: Error) => e instanceof t.InputError && (e as t.InputError).code === 'ERR_RUN_EXISTS');
  });

  test('resume continues the counters and ends bit-identical to an uninterrupted run', async () => {
    const r = await train(run(stopped, { resume: true, kimg: 0 }));
    assert.equal(r.stoppedBy, 'done');
    assert.equal(r.iterations, 2);
    assert.equal(r.checkpoint, 'ckpt-000000016');
    const m = metrics(stopped);
    assert.deepEqual(
      m.map((l) => l.iteration),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      m.map((l) => l.kimg),
      [0.004, 0.008, 0.012, 0.016],
    );
    const { state } = readCheckpointState(stopped);
    assert.equal(state.curNimg, 16);
    assert.equal(state.iteration, 4);
    assert.deepEqual(state.sampler, { epoch: 0, pos: 16 });
    // Every G parameter took 4 Adam steps; D took 4 main steps plus the R1 step of iteration 0.
    assert.ok(
      state.optG.groups[0].steps.every((s) => s === 4),
      'G Adam steps continue',
    );
    assert.equal(Math.max(...state.optD.groups[0].steps), 5);

    const through = join(root, 'through');
    const r2 = await train(run(through));
    assert.equal(r2.iterations, 4);
    assert.equal(r2.checkpoint, 'ckpt-000000016');
    // Same losses at every tick …
    const m2 = metrics(through);
    const strip = (l: Record<string, number>) =>
      Object.fromEntries(Object.entries(l).filter(([k]) => k !== 'seconds' && k !== 'img_per_s'));
    assert.deepEqual(m.map(strip), m2.map(strip));
    // … and the same final weights, G_ema, optimiser moments and RNG state, bit for bit.
    const a = checkpointTensors(stopped, 'ckpt-000000016');
    const b = checkpointTensors(through, 'ckpt-000000016');
    try {
      assertSameTensors(a, b, 'resumed vs uninterrupted');
    } finally {
      disposeAll(a, b);
    }
  });

  test('restoring a checkpoint loads exactly the saved weights, moments and counters', () => {
    const { name, state } = readCheckpointState(stopped, 'ckpt-000000008');
    const saved = checkpointTensors(stopped, name);
    t.manualSeed(12345); // different initial weights from the run's
    const trainer = new IlsTrainer(state.net, state.options);
    try {
      const [firstName, first] = trainer.G.namedParameters()[0];
      assert.ok(
        t.scope(() =>
          first
            .ne(saved.get(`G.${firstName}`) as t.Tensor)
            .sum()
            .item(),
        ) > 0,
        'a fresh trainer differs before the restore',
      );
      restoreTrainer(stopped, name, state, trainer);
      const live = new Map<string, t.Tensor>();
      for (const [k, v] of trainer.G.stateDict('G.')) live.set(k, v);
      for (const [k, v] of trainer.Gema.stateDict('G_ema.')) live.set(k, v);
      for (const [k, v] of trainer.D.stateDict('D.')) live.set(k, v);
      for (const [k, v] of trainer.optG.stateDict('optG.').tensors) live.set(k, v);
      for (const [k, v] of trainer.optD.stateDict('optD.').tensors) live.set(k, v);
      for (const [k, v] of live) {
        const s = saved.get(k);
        assert.ok(s, `${k} is in the checkpoint`);
        assertSameTensor(v, s, k);
      }
      assert.equal(live.size + 1, saved.size); // + rng.cpu
      assert.equal(trainer.curNimg, 8);
      assert.equal(trainer.iteration, 2);
      assert.equal(trainer.ada.p, state.adaP);
      assert.deepEqual(trainer.adaSigns(), state.adaSigns);
      assert.deepEqual(trainer.optG.stateDict().json, state.optG);
      assert.deepEqual(trainer.optD.stateDict().json, state.optD);
      t.scope(() => assertSameTensor(t.getRngState(), saved.get('rng.cpu') as t.Tensor, 'rng.cpu'));
    } finally {
      trainer.dispose();
      disposeAll(saved);
    }
  });
});

describe('IlsTrainer checkpoint round trip', () => {
  test('stepped 3×, checkpointed, restored into a fresh trainer and stepped once more = the original stepped once more', () => {
    const dir = join(root, 'roundtrip');
    // ADA on from the start, so the restored trainer must also continue ADA's host generator.
    const opts = { ...defaultTrainOptions, batch: BATCH, adaInitialP: 0.3 };
    const sampler = new BatchSampler(proceduralTrainingSet(32, 16, 0), 0);
    const reals = Array.from({ length: 4 }, () => t.keep(sampler.next(BATCH)));
    /** Copies of every weight, buffer and Adam moment. */
    const state = (tr: IlsTrainer) => {
      const out = new Map<string, t.Tensor>();
      for (const m of [
        ['G.', tr.G],
        ['G_ema.', tr.Gema],
        ['D.', tr.D],
      ] as const) {
        for (const [k, v] of m[1].stateDict(m[0])) out.set(k, t.keep(v.detach().clone()));
      }
      for (const [k, v] of tr.optG.stateDict('optG.').tensors) out.set(k, t.keep(v.clone()));
      for (const [k, v] of tr.optD.stateDict('optD.').tensors) out.set(k, t.keep(v.clone()));
      return out;
    };
    t.manualSeed(0);
    const a = new IlsTrainer(presets.tiny32, opts);
    let b: IlsTrainer | null = null;
    let want = new Map<string, t.Tensor>();
    let got = new Map<string, t.Tensor>();
    try {
      for (let i = 0; i < 3; i++) a.step(reals[i]);
      const name = saveCheckpoint(dir, a, {
        configName: 'tiny32',
        data: 'demo',
        sampler: { epoch: 0, pos: 12 },
        trainSeconds: 0,
        adaSigns: a.adaSigns(),
        targetKimg: 1,
      });
      a.step(reals[3]); // iteration 4: also the first ADA p update, from signs gathered before the checkpoint
      want = state(a);

      t.manualSeed(777);
      b = new IlsTrainer(presets.tiny32, opts);
      const { state: saved } = readCheckpointState(dir, name);
      restoreTrainer(dir, name, saved, b);
      b.step(reals[3]);
      assert.equal(b.curNimg, a.curNimg);
      assert.equal(b.iteration, a.iteration);
      assert.equal(b.ada.p, a.ada.p);
      assert.deepEqual(b.ada.rngState, a.ada.rngState);
      got = state(b);
      assertSameTensors(got, want, 'restored + 1 step vs original + 1 step');
    } finally {
      a.dispose();
      b?.dispose();
      for (const r of reals) r.dispose();
      disposeAll(want, got);
    }
  });
});
