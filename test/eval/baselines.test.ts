// SPDX-License-Identifier: MIT
// Trivial baselines: the ellipse has the requested area and is centred; all-foreground scores the foreground
// fraction as IoU; on procedural 32² test images all-foreground scores the mean
// foreground fraction (0.31 here) and the ellipse lands well above it (0.67 here; datasets.md quotes 0.20 and 0.56
// for its own procedural recipe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centredEllipse, scoreBaselines } from '../../src/eval/baselines.js';
import { proceduralSample, proceduralSeed } from '../../src/data/procedural.js';

test('centred ellipse: area, symmetry, aspect', () => {
  const e = centredEllipse(64, 64, 0.3);
  const area = e.reduce((a, v) => a + v, 0) / e.length;
  assert.ok(Math.abs(area - 0.3) < 0.01, `area ${area}`);
  for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) assert.equal(e[y * 64 + x], e[(63 - y) * 64 + (63 - x)]);
  assert.equal(e[0], 0);
  assert.equal(e[32 * 64 + 32], 1);
  const wide = centredEllipse(100, 20, 0.3);
  assert.equal(wide[10 * 100 + 80], 1); // reaches further along the long side
  assert.equal(wide[1 * 100 + 50], 0);
});

test('all foreground on a half-foreground mask: IoU 0.5, DICE 2/3', () => {
  const mask = new Uint8Array(16).fill(0).fill(1, 0, 8);
  const r = scoreBaselines([{ mask, width: 4, height: 4 }]).all_foreground;
  assert.equal(r.DRC_IoU, 0.5);
  assert.ok(Math.abs(r.DRC_DICE! - 2 / 3) < 1e-12);
});

test('procedural 32² test set: all-foreground IoU is the mean foreground fraction; the ellipse beats it', () => {
  let fraction = 0;
  const truths = Array.from({ length: 200 }, (_, i) => {
    const s = proceduralSample(32, proceduralSeed('test', i));
    const mask = s.mask.map((v) => (v >= 128 ? 1 : 0));
    fraction += mask.reduce((a, v) => a + v, 0) / mask.length / 200;
    return { mask, width: 32, height: 32 };
  });
  const r = scoreBaselines(truths);
  assert.ok(Math.abs(r.all_foreground.DRC_IoU! - fraction) < 1e-9, `all-fg ${r.all_foreground.DRC_IoU} vs fraction ${fraction}`);
  assert.ok(r.centred_ellipse.DRC_IoU! > r.all_foreground.DRC_IoU! + 0.2, `ellipse ${r.centred_ellipse.DRC_IoU}`);
  assert.ok(r.centred_ellipse.DRC_IoU! < 0.8, `ellipse ${r.centred_ellipse.DRC_IoU}`);
});
