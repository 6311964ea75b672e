// SPDX-License-Identifier: MIT
// Beyond the paper's segmentation stage: geometric augmentation moves image and mask together; pseudo-labels keep
// only confident, mirror-consistent pixels; self-training on photos writes a loadable model and records its rounds;
// and a pipeline without test masks holds photos out of training and shows them without metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as t from '../../src/index.js';
import { heldOutFiles, loadTrainingImages } from '../../src/data/imageFolder.js';
import { writePng } from '../../src/data/decode.js';
import { mulberry32 } from '../../src/data/procedural.js';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { adaptSegmenter, pseudoLabels } from '../../src/seg/adapt.js';
import { refineByColour } from '../../src/seg/colourRefine.js';
import { loadSyntheticSet } from '../../src/seg/data.js';
import { GeometricAugment } from '../../src/seg/geometricAugment.js';
import { loadSegmenter } from '../../src/seg/model.js';
import { trainSegmenter } from '../../src/seg/train.js';
import { writeSyntheticFolder } from '../helpers/syntheticFolder.js';

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-adapt-test-'));
  t.setNumThreads(1);
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('GeometricAugment', () => {
  test('the mask follows the image: a mask made from the image stays equal to the image after the transform', () => {
    t.scope(() => {
      t.manualSeed(0);
      // Image channel 0 is 1 inside a random blob and −1 outside; the mask is the same blob.
      const mask = t.rand([8, 32, 32]).gt(0.7).long();
      const img = mask.float().mul(2).sub(1).unsqueeze(1).expand([8, 3, 32, 32]).contiguous();
      const [x, y] = new GeometricAugment(3).apply(img, mask);
      assert.deepEqual(x.shape, [8, 3, 32, 32]);
      assert.deepEqual(y.shape, [8, 32, 32]);
      assert.equal(y.dtype, 'int64');
      const fromImage = x.narrow(1, 0, 1).squeeze(1).gt(0).long();
      const agree = fromImage.eq(y).float().mean().item();
      assert.ok(agree > 0.999, `image and mask agree on ${agree}`);
      // And it did move things: the output differs from the input.
      assert.ok(y.ne(mask).float().mean().item() > 0.05);
    });
  });

  test('the same seed gives the same transforms', () => {
    t.scope(() => {
      const img = t.rand([4, 3, 16, 16]);
      const mask = t.rand([4, 16, 16]).gt(0.5).long();
      const [a] = new GeometricAugment(7).apply(img, mask);
      const [b] = new GeometricAugment(7).apply(img, mask);
      assert.equal(a.sub(b).abs().sum().item(), 0);
    });
  });
});

describe('refineByColour', () => {
  test('a vague blob over a red object on a blue ground becomes the object', () => {
    const size = 16;
    const plane = size * size;
    const pixels = new Uint8Array(3 * plane);
    const probs = new Float32Array(plane);
    const truth = new Uint8Array(plane);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const k = y * size + x;
        const inObject = x >= 3 && x < 9 && y >= 4 && y < 12; // off-centre rectangle
        truth[k] = inObject ? 1 : 0;
        pixels[k] = inObject ? 200 : 20; // R
        pixels[2 * plane + k] = inObject ? 20 : 200; // B
        // The segmenter's guess: a centred disc, a little more likely foreground inside.
        probs[k] = Math.hypot(x - 7.5, y - 7.5) < 4.5 ? 0.7 : 0.3;
      }
    }
    const before = truth.reduce((a, v, k) => a + (Number(probs[k]! > 0.5) === v ? 1 : 0), 0);
    refineByColour(probs, pixels, 1, size, { strength: 2, rounds: 2 });
    const after = truth.reduce((a, v, k) => a + (Number(probs[k]! > 0.5) === v ? 1 : 0), 0);
    assert.ok(before < plane, 'the guess was wrong somewhere');
    assert.equal(after, plane, `refined: ${after}/${plane} pixels right (before ${before})`);
  });

  test('colours shared by object and ground leave the guess as it was', () => {
    const size = 8;
    const pixels = new Uint8Array(3 * size * size).fill(128);
    const probs = Float32Array.from({ length: size * size }, (_, k) => (k % 3) / 3 + 0.1);
    const copy = Float32Array.from(probs);
    refineByColour(probs, pixels, 1, size, { strength: 2 });
    for (let k = 0; k < probs.length; k++) assert.ok(Math.abs(probs[k]! - copy[k]!) < 0.02, `pixel ${k}: ${copy[k]} → ${probs[k]}`);
  });
});

describe('self-training', () => {
  let synth = '';
  let model = '';
  before(async () => {
    synth = join(root, 'synth');
    await writeSyntheticFolder(synth, 96, 32);
    model = join(root, 'seg');
    await trainSegmenter({
      synthetic: synth,
      out: model,
      iterations: 40,
      batch: 16,
      width: 8,
      size: 32,
      valEvery: 20,
      geometric: true,
      progress: false,
      log: () => {},
    });
  });

  test('pseudo-labels are 0, 1 or ignored (−100), ignoring pixels where the two mirrored views disagree', () => {
    const seg = loadSegmenter(model);
    try {
      t.scope(() => {
        const photos = t.rand([6, 3, 32, 32]).mul(255).to({ dtype: 'uint8' });
        const pixels = photos.data() as Uint8Array;
        const loose = pseudoLabels(seg.net, photos, pixels, 0.51);
        const strict = pseudoLabels(seg.net, photos, pixels, 0.99);
        const coloured = pseudoLabels(seg.net, photos, pixels, 0.51, { strength: 2 });
        assert.deepEqual(coloured.shape, [6, 32, 32]);
        assert.deepEqual(loose.shape, [6, 32, 32]);
        const values = new Set(loose.toArray());
        for (const v of values) assert.ok(v === 0 || v === 1 || v === -100, `value ${v}`);
        // A stricter threshold never labels more pixels.
        assert.ok(strict.ne(-100).sum().item() <= loose.ne(-100).sum().item());
      });
    } finally {
      seg.dispose();
    }
  });

  test('adaptSegmenter writes a loadable model that records its rounds', async () => {
    const photos = await loadTrainingImages(join(synth, 'images'), 32);
    const set = await loadSyntheticSet(synth, { size: 32 });
    const out = join(root, 'adapted');
    const before = t.memory().liveTensors;
    const r = await adaptSegmenter({
      model,
      photos,
      synthetic: set,
      out,
      rounds: 2,
      iterations: 5,
      batch: 8,
      maxPhotos: 40,
      progress: false,
      log: () => {},
    });
    assert.equal(r.rounds.length, 2);
    for (const round of r.rounds) {
      assert.ok(round.labelled >= 0 && round.labelled <= 1);
      assert.ok(round.foreground >= 0 && round.foreground <= 1);
    }
    assert.equal(t.memory().liveTensors, before, 'no tensor left behind');
    const config = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.equal(config.adapted.rounds.length, 2);
    assert.equal(config.adapted.from, model);
    const seg = loadSegmenter(out);
    seg.dispose();
  });

  test('bad options are user errors', async () => {
    const photos = await loadTrainingImages(join(synth, 'images'), 32);
    const set = await loadSyntheticSet(synth, { size: 32 });
    await assert.rejects(adaptSegmenter({ model, photos, synthetic: set, out: join(root, 'x'), confidence: 0.4 }), { code: 'ERR_ARG' });
    await assert.rejects(adaptSegmenter({ model, photos, synthetic: set, out: join(root, 'x'), batch: 1 }), { code: 'ERR_ARG' });
  });
});

describe('pipeline without test masks', () => {
  test('holds photos out of GAN training, segments them, and reports no metrics', async () => {
    const data = join(root, 'photos');
    mkdirSync(data);
    const rand = mulberry32(5);
    for (let i = 0; i < 48; i++) {
      const px = new Uint8Array(32 * 32 * 3).map(() => Math.floor(rand() * 255));
      await writePng(join(data, `p${String(i).padStart(3, '0')}.png`), px, 32, 32, 3);
    }
    const held = heldOutFiles(data, 4);
    assert.equal(held.length, 4);
    assert.deepEqual(heldOutFiles(data, 4), held, 'the same files every time');
    const out = join(root, 'pipe');
    const lines: string[] = [];
    const r = await runPipeline({
      data,
      out,
      config: 'tiny32',
      kimg: 0.064,
      train: { batch: 8 },
      synthetic: 32,
      examples: 4,
      seg: { iterations: 4, batch: 8, width: 8, size: 32, valEvery: 2, geometric: true },
      adapt: { rounds: 1, iterations: 2 },
      progress: false,
      log: (l) => lines.push(l),
    });
    assert.equal(r.eval, null);
    assert.equal(r.baselines, null);
    assert.ok(!existsSync(join(out, 'stages', 'eval.json')), 'no eval stage');
    assert.ok(existsSync(join(out, 'stages', 'adapt.json')), 'the adapt stage ran');
    const cache = JSON.parse(readFileSync(join(out, 'gan', 'dataset-cache.u8.json'), 'utf8')) as { count: number; names: string[] };
    assert.equal(cache.count, 44, 'the held-out photos were not trained on');
    const examples = JSON.parse(readFileSync(join(out, 'stages', 'examples.json'), 'utf8')).result as {
      name: string;
      pred: string;
      truth: null;
    }[];
    assert.equal(examples.length, 4);
    for (const e of examples) {
      assert.ok(existsSync(e.pred), e.pred);
      assert.equal(e.truth, null);
    }
    assert.match(readFileSync(r.report, 'utf8'), /held out of GAN training/);
  });
});
