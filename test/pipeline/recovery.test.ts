// SPDX-License-Identifier: MIT
// The pipeline after a crash during its first checkpoint write (issue 14, item 2): a leftover `.ckpt-*.tmp` is no
// checkpoint, so the GAN stage starts afresh instead of "continuing" into ERR_NO_CHECKPOINT, and the temp file is
// removed. The pipeline's output folder is locked while it runs (item 1).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PipelineOptions, pipelinePaths, runPipeline } from '../../src/pipeline/pipeline.js';
import { InputError } from '../../src/util/errors.js';
import { setNumThreads } from '../../src/tensor/runtime.js';
import { acquireRunLock, lockFileName } from '../../src/util/runLock.js';
import { smallestPipelineOptions } from '../helpers/smallestPipeline.js';

let out = '';

before(() => {
  // One thread: on the 2-core CI machine the tiny networks run fastest so, and the test stays well under 30 s.
  setNumThreads(1);
  out = mkdtempSync(join(tmpdir(), 'ilsgan-pipeline-recovery-'));
});
after(() => rmSync(out, { recursive: true, force: true }));

const options = (lines: string[]): PipelineOptions => smallestPipelineOptions(out, lines);

test('a locked output folder is refused before anything runs', async () => {
  const lock = acquireRunLock(out, 'test');
  try {
    await assert.rejects(runPipeline(options([])), (e: Error) => e instanceof InputError && e.code === 'ERR_RUN_LOCKED');
  } finally {
    lock.release();
  }
  assert.ok(!existsSync(join(out, 'stages')), 'no stage ran');
});

test('a temp file from a killed first checkpoint write: the GAN trains from the start, the leftover is removed', async () => {
  const ckpts = join(pipelinePaths(out).run, 'checkpoints');
  mkdirSync(ckpts, { recursive: true });
  const temp = join(ckpts, '.ckpt-000000004.safetensors.4242.lx0abc.tmp');
  writeFileSync(temp, Buffer.alloc(4096));
  const lines: string[] = [];
  const r = await runPipeline(options(lines));
  assert.ok(!lines.some((l) => l.includes('continuing the interrupted GAN run')), lines.join('\n'));
  assert.ok(!existsSync(temp));
  assert.equal(r.checkpoint.name, 'ckpt-000000008');
  assert.equal(typeof r.eval?.DRC_IoU, 'number');
  assert.ok(!existsSync(join(out, lockFileName)) && !existsSync(join(pipelinePaths(out).run, lockFileName)), 'locks released');
  assert.deepEqual(
    readdirSync(ckpts).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test("killed after the synthetic set's manifest but before the generate stage was recorded: the rerun regenerates it", async () => {
  // The state such a kill leaves: synthetic/ complete with its manifest.json, no record of generate or later stages.
  for (const s of ['generate', 'segtrain', 'eval', 'examples', 'report']) rmSync(join(out, 'stages', `${s}.json`));
  assert.ok(existsSync(join(pipelinePaths(out).synthetic, 'manifest.json')));
  const lines: string[] = [];
  const r = await runPipeline(options(lines));
  assert.ok(
    lines.some((l) => l.startsWith('[generate] generating 32 synthetic pairs')),
    lines.join('\n'),
  );
  assert.ok(lines.some((l) => l.startsWith('[train] done earlier')));
  assert.equal(typeof r.eval?.DRC_IoU, 'number');
});
