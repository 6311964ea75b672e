// SPDX-License-Identifier: MIT
// Stage records are read back only after checks: a planted or damaged stages/<name>.json is one error naming the
// file and the field (and a hint to delete it), never a result that later stages trust (issue 14, items 10 and 12).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stages } from '../../src/pipeline/stages.js';
import { selectionSchema } from '../../src/pipeline/pipeline.js';
import type { CheckpointSelection } from '../../src/eval/selectCheckpoint.js';

const quiet = () => {};
const good: CheckpointSelection = { name: 'ckpt-000060000', kimg: 60, method: 'latest', reason: 'latest checkpoint', scores: [] };

function withStages(record: unknown, body: (s: Stages, file: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ilsgan-stages-'));
  const s = new Stages(dir, quiet);
  const file = join(dir, 'stages', 'select.json');
  writeFileSync(file, typeof record === 'string' ? record : JSON.stringify(record));
  return body(s, file).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe('stage records read back', () => {
  test('a whole record is returned without running the stage again', async () => {
    await withStages({ stage: 'select', result: good, seconds: 0.1, finished: '2026-12-06T12:00:00.000Z' }, async (s) => {
      let ran = false;
      const r = await s.run('select', 'selecting', async () => ((ran = true), good), selectionSchema);
      assert.equal(ran, false);
      assert.deepEqual(r, good);
      assert.equal(s.seconds.select, 0.1);
    });
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'a path for a checkpoint name',
      { stage: 'select', result: { ...good, name: '../../other-run/gan/ckpt-000001000' }, seconds: 1, finished: 'x' },
      /field result\.name must be a checkpoint name/,
    ],
    ["another stage's record", { stage: 'train', result: good, seconds: 1, finished: 'x' }, /field stage must be "select", got "train"/],
    ['negative seconds', { stage: 'select', result: good, seconds: -5, finished: 'x' }, /field seconds/],
    [
      'a missing result field',
      { stage: 'select', result: { name: 'ckpt-000000001' }, seconds: 1, finished: 'x' },
      /field result\.kimg is missing/,
    ],
    ['duplicate keys', '{"stage":"select","stage":"select","result":{},"seconds":1,"finished":"x"}', /duplicate|stage/i],
    ['not JSON', '{"stage": "sel', /not valid JSON/],
  ];
  for (const [what, record, message] of bad) {
    test(`refused: ${what}`, async () => {
      await withStages(record, async (s, file) => {
        let ran = false;
        await assert.rejects(
          s.run('select', 'selecting', async () => ((ran = true), good), selectionSchema),
          (e: Error & { code?: string; hint?: string }) => {
            assert.equal(e.name, 'InputError');
            assert.equal(e.code, 'ERR_STAGE_RECORD');
            assert.ok(e.message.startsWith(`${file}: `), e.message);
            assert.match(e.message, message);
            assert.match(e.hint ?? '', /delete .*select\.json to redo the stage/);
            return true;
          },
        );
        assert.equal(ran, false);
      });
    });
  }
});
