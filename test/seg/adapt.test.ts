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
import { adaptSegmenter, pasteOntoPhotos, pseudoLabels } from '../../src/seg/adapt.js';
import { refineByColour } from '../../src/seg/colourRefine.js';
import { loadSyntheticLayers, loadSyntheticSet } from '../../src/seg/data.js';
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

describe('refineByColour: rare colours', () => {
  // A 32² photo: a grey ground, a red object (a quarter of the frame, where the segmenter is sure), and 24
  // background pixels of clutter, each a colour found nowhere else, where the segmenter says 0.1.
  const size = 32;
  const plane = size * size;
  const pixels = new Uint8Array(3 * plane).fill(100);
  const probs = new Float32Array(plane).fill(0.05);
  const clutter: number[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const k = y * size + x;
      if (x >= 8 && x < 24 && y >= 8 && y < 24) {
        pixels[k] = 220;
        pixels[plane + k] = 30;
        pixels[2 * plane + k] = 30;
        probs[k] = 0.95;
      } else if (y === 2 && x >= 4 && x < 28) {
        const c = clutter.length;
        pixels[k] = 16 + 32 * (c % 8); // 24 distinct bins of the 8-level histogram, none of them grey or red
        pixels[plane + k] = 16 + 32 * Math.floor(c / 8);
        pixels[2 * plane + k] = 240;
        probs[k] = 0.1;
        clutter.push(k);
      }
    }
  }
  const refine = (balanced: boolean) => refineByColour(Float32Array.from(probs), pixels, 1, size, { strength: 2, rounds: 2, balanced });
  test('equal pseudo-counts pull every one-off background colour towards the object (the bias `balanced` removes)', () => {
    const p = refine(false);
    for (const k of clutter) assert.ok(p[k]! > 0.25, `clutter pixel ${k}: ${p[k]}`);
  });
  test('balanced: the one-off colours stay background and the object stays whole', () => {
    const p = refine(true);
    for (const k of clutter) assert.ok(p[k]! < 0.1, `clutter pixel ${k}: ${p[k]}`);
    for (let k = 0; k < plane; k++) if (probs[k] === 0.95) assert.ok(p[k]! > 0.99, `object pixel ${k}: ${p[k]}`);
  });
});

describe("pasting the GAN's objects onto photos", () => {
  test("the object where the soft mask is 1, the photo where it is 0, a blend between; labels: the mask, else the photo's", () => {
    t.scope(() => {
      const fg = t.full([1, 3, 2, 2], 200).to({ dtype: 'uint8' });
      const photos = t.full([1, 3, 2, 2], 50).to({ dtype: 'uint8' });
      const alpha = t.tensor([255, 0, 0, 51], { shape: [1, 1, 2, 2] }).to({ dtype: 'uint8' });
      const masks = t.tensor([1, 0, 0, 0], { shape: [1, 2, 2] }).long();
      const photoLabels = t.tensor([0, 1, -100, 0], { shape: [1, 2, 2] }).long();
      const [x, y] = pasteOntoPhotos(fg, alpha, masks, photos, photoLabels);
      const expected = [200, 50, 50, 50 + 0.2 * 150].map((v) => v / 127.5 - 1);
      const got = x.narrow(1, 0, 1).toArray() as number[];
      for (let k = 0; k < 4; k++) assert.ok(Math.abs(got[k]! - expected[k]!) < 1e-5, `pixel ${k}: ${got[k]} against ${expected[k]}`);
      assert.deepEqual(y.toArray(), [1, 1, -100, 0]);
    });
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

  /** A small adaptation of the stage-1 model into `root/name` (1 round of 4 iterations unless `extra` says otherwise);
   *  also returns the live tensor count from before it. */
  const adaptSmall = async (name: string, extra: Partial<Parameters<typeof adaptSegmenter>[0]> = {}) => {
    const photos = await loadTrainingImages(join(synth, 'images'), 32);
    const set = await loadSyntheticSet(synth, { size: 32 });
    const out = join(root, name);
    const before = t.memory().liveTensors;
    const r = await adaptSegmenter({
      model,
      photos,
      synthetic: set,
      out,
      rounds: 1,
      iterations: 4,
      batch: 8,
      maxPhotos: 40,
      progress: false,
      log: () => {},
      ...extra,
    });
    return { r, out, before, set };
  };

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
    const { r, out, before } = await adaptSmall('adapted', { rounds: 2, iterations: 5 });
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

  test("loadSyntheticLayers reads the foreground layers and soft masks in the set's order", async () => {
    const set = await loadSyntheticSet(synth, { size: 32 });
    const layers = await loadSyntheticLayers(set);
    assert.equal(layers.fg.length, set.images.length);
    assert.equal(layers.alpha.length, set.masks.length);
    // The binary masks are the soft ones at ≥ 128, sample by sample.
    for (let k = 0; k < set.masks.length; k++) assert.equal(set.masks[k], layers.alpha[k]! >= 128 ? 1 : 0, `pixel ${k}`);
    // Inside an object the composite is its foreground layer (up to the rounding of m to 255).
    const plane = 32 * 32;
    let inside = 0;
    for (let k = 0; k < plane; k++) {
      if (layers.alpha[k] !== 255) continue;
      inside++;
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(layers.fg[c * plane + k]! - set.images[c * plane + k]!) <= 1, `pixel ${k}`);
    }
    assert.ok(inside > 0);
    // A folder without layers (the official img/ + mask/ layout) is a user error naming what is missing.
    const bare = join(root, 'bare');
    mkdirSync(join(bare, 'img'), { recursive: true });
    mkdirSync(join(bare, 'mask'), { recursive: true });
    for (const f of ['a.png', 'b.png']) {
      await writePng(join(bare, 'img', f), new Uint8Array(32 * 32 * 3), 32, 32, 3);
      await writePng(join(bare, 'mask', f), new Uint8Array(32 * 32), 32, 32, 1);
    }
    await assert.rejects(loadSyntheticLayers(await loadSyntheticSet(bare, { size: 32 })), { code: 'ERR_NO_SYNTHETIC' });
  });

  test('adaptSegmenter with paste trains and records the share it pasted', async () => {
    const set = await loadSyntheticSet(synth, { size: 32 });
    const { r, out, before } = await adaptSmall('adapted-paste', { layers: await loadSyntheticLayers(set), paste: 0.5 });
    assert.equal(r.rounds.length, 1);
    assert.equal(t.memory().liveTensors, before, 'no tensor left behind');
    assert.equal(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).adapted.paste, 0.5);
    loadSegmenter(out).dispose();
  });

  test('adaptSegmenter with photoShare 1 trains on the photos alone and records the share', async () => {
    const { r, out, before } = await adaptSmall('adapted-photos', { photoShare: 1 });
    assert.equal(r.rounds.length, 1);
    assert.equal(t.memory().liveTensors, before, 'no tensor left behind');
    assert.equal(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).adapted.photoShare, 1);
    // The weights moved: the photos' pseudo-labels alone trained it.
    const a = loadSegmenter(model);
    const b = loadSegmenter(out);
    try {
      const moved = t.scope(() => a.net.parameters().some((p, i) => p.sub(b.net.parameters()[i]!).abs().sum().item() > 0));
      assert.ok(moved);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  test('bad options are user errors', async () => {
    const photos = await loadTrainingImages(join(synth, 'images'), 32);
    const set = await loadSyntheticSet(synth, { size: 32 });
    await assert.rejects(adaptSegmenter({ model, photos, synthetic: set, out: join(root, 'x'), confidence: 0.4 }), { code: 'ERR_ARG' });
    await assert.rejects(adaptSegmenter({ model, photos, synthetic: set, out: join(root, 'x'), batch: 1 }), { code: 'ERR_ARG' });
    await assert.rejects(adaptSegmenter({ model, photos, synthetic: set, out: join(root, 'x'), paste: 0.5 }), { code: 'ERR_ARG' });
    for (const photoShare of [0, 1.5, Number.NaN])
      await assert.rejects(adaptSegmenter({ model, photos, synthetic: set, out: join(root, 'x'), photoShare }), { code: 'ERR_ARG' });
    const layers = await loadSyntheticLayers(set);
    await assert.rejects(adaptSegmenter({ model, photos, synthetic: set, layers, out: join(root, 'x'), paste: 1.5 }), { code: 'ERR_ARG' });
    await assert.rejects(adaptSegmenter({ model, photos, synthetic: set, layers, out: join(root, 'x'), paste: 0.5, geometric: true }), {
      code: 'ERR_ARG',
    });
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
