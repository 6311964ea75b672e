// SPDX-License-Identifier: MIT
// `segment --out` equal to or inside `--input` (issue 14, item 5): the masks and cut-outs a run writes are not
// inputs of the next run, so reruns write the same number of files instead of 12 → 36 → 84.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { segmentImages, segmentInputs } from '../../src/seg/segment.js';
import { writeUntrainedSegmenter } from '../helpers/segmenterConfig.js';

let root = '';
let model = '';

/** A folder of 3 small photos (one in a sub-folder). */
async function photos(dir: string): Promise<string> {
  mkdirSync(join(dir, 'sub'), { recursive: true });
  for (const [k, name] of ['a.png', 'b.jpg', 'sub/c.png'].entries()) {
    const px = Buffer.alloc(24 * 20 * 3, 60 * k + 30);
    const img = sharp(px, { raw: { width: 24, height: 20, channels: 3 } });
    await (name.endsWith('.jpg') ? img.jpeg() : img.png()).toFile(join(dir, name));
  }
  return dir;
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-segment-out-'));
  // An untrained width-4 U-Net: which pixels it calls foreground does not matter here.
  model = join(root, 'model');
  mkdirSync(model);
  writeUntrainedSegmenter(model);
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const count = (dir: string): number => readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).length;

test('--out equal to --input: a rerun segments the 3 photos again, not its own output', async () => {
  const input = await photos(join(root, 'same'));
  for (let run = 0; run < 2; run++) {
    const r = await segmentImages({ model, input, out: input, batch: 4, warn: () => {} });
    assert.equal(r.written, 3, `run ${run + 1}`);
  }
  // 3 photos + 3 masks + 3 cut-outs, whatever the number of runs.
  assert.equal(count(input), 9);
  assert.deepEqual(segmentInputs(input, input).names, ['a.png', 'b.png', 'sub/c.png']);
});

test('--out inside --input: its masks/ and cutouts/ are skipped, other folders are still inputs', async () => {
  const input = await photos(join(root, 'inside'));
  const out = join(input, 'results');
  for (let run = 0; run < 2; run++) {
    const r = await segmentImages({ model, input, out, batch: 4, warn: () => {} });
    assert.equal(r.written, 3, `run ${run + 1}`);
  }
  assert.equal(count(out), 6);
  // Without an output folder to skip, the earlier outputs are inputs like any image.
  assert.equal(segmentInputs(input).files.length, 3 + 6);
});
