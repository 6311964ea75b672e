// SPDX-License-Identifier: MIT
// The demo pipeline's quick path, end to end: every stage runs once and leaves its record, the report and the
// eval JSON (with both baselines on the same test set) are written; a second run skips every finished stage and
// returns the same numbers; removing one stage's record reruns that stage only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../src/pipeline/demo.js';
import { type PipelineResult, pipelinePaths, stageNames } from '../../src/pipeline/pipeline.js';

let out = '';
let first: PipelineResult;
const lines: string[] = [];
const log = (l: string) => lines.push(l);

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'ilsgan-demo-test-'));
  first = await runDemo({ out, quick: true, progress: false, log });
});
after(() => rmSync(out, { recursive: true, force: true }));

// The demo neither adapts its segmenter to the photos nor sets a test-time refinement (those stages are the CPU
// recipe's).
const demoStages = stageNames.filter((s) => s !== 'adapt' && s !== 'refine');

test('quick demo: all stages ran, with a report, eval JSON, synthetic data and a segmenter', () => {
  for (const s of demoStages) assert.ok(existsSync(join(out, 'stages', `${s}.json`)), `stage record ${s}`);
  const p = pipelinePaths(out);
  assert.ok(statSync(p.report).size > 10_000, 'report has content');
  const html = readFileSync(p.report, 'utf8');
  assert.match(html, /centred ellipse/i);
  const ev = JSON.parse(readFileSync(p.eval, 'utf8'));
  assert.equal(ev.images, 64);
  for (const k of ['DRC_IoU', 'DRC_DICE', 'IoU', 'mIoU', 'pACC']) assert.equal(typeof ev[k], 'number', k);
  assert.ok(ev.baselines.all_foreground.DRC_IoU > 0.1 && ev.baselines.all_foreground.DRC_IoU < 0.5);
  assert.ok(ev.baselines.centred_ellipse.DRC_IoU > ev.baselines.all_foreground.DRC_IoU);
  assert.equal(first.eval!.DRC_IoU, ev.DRC_IoU);
  assert.ok(existsSync(join(p.synthetic, 'manifest.json')));
  assert.ok(existsSync(join(p.segmenter, 'model.safetensors')));
  // The report's examples: the worst and best 8 test pairs by the evaluation's per-image IoU (kept in the stage
  // record, not in eval.json), each segmented, with its ground truth.
  assert.ok(!('perImage' in ev) && !('perImage' in first.eval!), 'per-image scores stay out of eval.json and the result');
  const perImage = JSON.parse(readFileSync(join(out, 'stages', 'eval.json'), 'utf8')).result.perImage as {
    name: string;
    iou: number | null;
  }[];
  assert.equal(perImage.length, 64);
  const scored = perImage.map((p) => p.iou).filter((v): v is number => v !== null);
  assert.ok(Math.abs(scored.reduce((a, b) => a + b, 0) / scored.length - ev.DRC_IoU) < 1e-9, 'DRC_IoU is the mean per-image IoU');
  const examples = JSON.parse(readFileSync(join(out, 'stages', 'examples.json'), 'utf8')).result as {
    name: string;
    pred: string;
    truth: string;
  }[];
  const byIoU = [...perImage].sort((a, b) => (a.iou ?? 1) - (b.iou ?? 1) || (a.name < b.name ? -1 : 1)).map((p) => p.name);
  assert.deepEqual(
    examples.map((e) => e.name),
    [...byIoU.slice(0, 8), ...byIoU.slice(-8).reverse()],
  );
  for (const e of examples) assert.ok(existsSync(e.pred) && existsSync(e.truth), e.name);
  assert.match(html, /<table class="photos ranked" id="worst">/);
  assert.match(
    html,
    /<section id="segmenter"><h2>Segmenter \(U-Net\) validation<\/h2><div class="charts"><svg class="chart"[^>]*data-hover=/,
  );
  assert.match(html, /64 test images: median IoU/);
});

test('a second run skips every finished stage and returns the same result', async () => {
  lines.length = 0;
  const again = await runDemo({ out, quick: true, progress: false, log });
  assert.equal(lines.filter((l) => l.includes('skipped')).length, demoStages.length, lines.join('\n'));
  assert.deepEqual(again.eval, first.eval);
  assert.equal(again.checkpoint.name, first.checkpoint.name);
});

test('removing one stage record reruns that stage only', async () => {
  rmSync(join(out, 'stages', 'report.json'));
  rmSync(pipelinePaths(out).report);
  lines.length = 0;
  await runDemo({ out, quick: true, progress: false, log });
  assert.equal(lines.filter((l) => l.includes('skipped')).length, demoStages.length - 1);
  assert.ok(existsSync(pipelinePaths(out).report));
});
