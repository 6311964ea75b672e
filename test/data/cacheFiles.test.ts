// SPDX-License-Identifier: MIT
// The decoded-image cache's JSON is checked field by field before use (issue 14, item 12): a planted or corrupt
// one is rebuilt from the images instead of feeding a wrong count or name list to training.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { loadTrainingImages } from '../../src/data/imageFolder.js';

let root = '';
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-cache-files-'));
  mkdirSync(join(root, 'images'));
  for (const [i, c] of [
    [1, 40],
    [2, 120],
    [3, 200],
  ] as const) {
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: c, g: 255 - c, b: c / 2 } } })
      .png()
      .toFile(join(root, 'images', `${i}.png`));
  }
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const quiet = { warn: () => {} };

for (const [label, edit] of [
  ['a name list shorter than count', (m: Record<string, unknown>) => ({ ...m, names: ['1.png'] })],
  ['a count given as a string', (m: Record<string, unknown>) => ({ ...m, count: String(m.count) })],
  ['names that are not strings', (m: Record<string, unknown>) => ({ ...m, names: [1, 2, 3] })],
  [
    'a duplicate key (the second one wrong)',
    (m: Record<string, unknown>) => JSON.stringify(m).replace('"source":', '"names": ["x"], "source":'),
  ],
] as const) {
  test(`a cache JSON with ${label} is rebuilt, not used`, async () => {
    const cachePath = join(root, `cache-${label.replace(/\W+/g, '_')}.u8`);
    const first = await loadTrainingImages(join(root, 'images'), 8, { cachePath, ...quiet });
    assert.equal(first.count, 3);
    const meta = JSON.parse(readFileSync(`${cachePath}.json`, 'utf8')) as Record<string, unknown>;
    const out = edit(meta);
    writeFileSync(`${cachePath}.json`, typeof out === 'string' ? out : JSON.stringify(out));
    const again = await loadTrainingImages(join(root, 'images'), 8, { cachePath, ...quiet });
    assert.equal(again.count, 3);
    assert.equal(typeof again.count, 'number');
    assert.deepEqual(again.names, first.names);
    assert.deepEqual(Buffer.from(again.pixels), Buffer.from(first.pixels));
    // Rebuilt: the cache file is whole again.
    assert.deepEqual(JSON.parse(readFileSync(`${cachePath}.json`, 'utf8')), meta);
  });
}
