// SPDX-License-Identifier: MIT
// Test-time refinement (seg/refinePredictions.ts, seg/refineSetting.ts): without a setting the logits and masks are
// today's bit for bit; the flip average is mirror-equivariant; the colour step with its pairwise term moves a
// shifted, blurred prior onto a two-colour object; model.json's `refine` round-trips and a malformed one is refused.
// The network is an untrained width-4 U-Net (seeded): the checks are relations that hold whatever it predicts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/util/errors.js';
import { fromBytes } from '../../src/tensor/ops/creation.js';
import { manualSeed } from '../../src/tensor/ops/random.js';
import { noGrad, scope } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { refineByColour } from '../../src/seg/colourRefine.js';
import {
  type Segmenter,
  foregroundLogit,
  loadSegmenter,
  readSegmenterConfig,
  resizeLogits,
  writeSegmenterRefine,
} from '../../src/seg/model.js';
import { refinedLogits, refinedProbabilities } from '../../src/seg/refinePredictions.js';
import { type RefineSetting, chooseRefine, defaultRefine, describeRefine } from '../../src/seg/refineSetting.js';
import { predictMasks } from '../../src/seg/segment.js';
import { cpuRecipe, refineSetting } from '../../src/pipeline/recipes.js';
import { noLeak } from '../helpers/noLeak.js';
import { writeUntrainedSegmenter } from '../helpers/segmenterConfig.js';

const S = 32;
let root = '';
let model = '';
let seg: Segmenter;

/** n photos [n, 3, S, S] (CHW bytes): a bright off-centre square on a gradient, different per photo. */
function photos(n: number, symmetric = false): Uint8Array {
  const px = new Uint8Array(n * 3 * S * S);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        // A mirror-symmetric photo depends on x only through its distance from the vertical centre line.
        const u = symmetric ? Math.min(x, S - 1 - x) : x;
        const inSquare = u > 6 + i && u < 20 && y > 8 && y < 22;
        const k = y * S + x;
        px[i * 3 * S * S + k] = inSquare ? 240 : (u * 7 + 30 * i) % 256;
        px[i * 3 * S * S + S * S + k] = inSquare ? 220 : (y * 11) % 256;
        px[i * 3 * S * S + 2 * S * S + k] = (u * y + 17 * i) % 256;
      }
    }
  }
  return px;
}

const input = (px: Uint8Array): Tensor =>
  fromBytes(px, 'uint8', [px.length / (3 * S * S), 3, S, S])
    .float()
    .div(127.5)
    .sub(1);

/** A tensor's values on the host (a copy). */
function values(f: () => Tensor): Float32Array {
  return noGrad(() => scope(() => Float32Array.from(f().cpu().data() as Float32Array)));
}

/** [n, 1, S, S] values mirrored left to right. */
function mirrored(v: Float32Array): Float32Array {
  const out = new Float32Array(v.length);
  for (let r = 0; r < v.length / S; r++) for (let x = 0; x < S; x++) out[r * S + x] = v[r * S + S - 1 - x]!;
  return out;
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-refine-'));
  model = join(root, 'model');
  mkdirSync(model);
  manualSeed(11);
  writeUntrainedSegmenter(model);
  seg = loadSegmenter(model);
});
after(() => {
  seg?.dispose();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('without refinement', () => {
  test('refinedLogits is foregroundLogit bit for bit (no setting, null, an empty setting, flip false); no leak', () => {
    const px = photos(3);
    const today = values(() => foregroundLogit(seg.net, input(px)));
    for (const setting of [undefined, null, {}, { flip: false }] as (RefineSetting | null | undefined)[]) {
      const got = noLeak(() => values(() => refinedLogits(seg.net, input(px), px, setting)), JSON.stringify(setting));
      assert.deepEqual(Buffer.from(got.buffer), Buffer.from(today.buffer), JSON.stringify(setting));
    }
  });

  test("predictMasks of a model without `refine`: today's binary and soft masks at the photo's size", () => {
    const px = photos(2);
    const sizes = [
      { width: 37, height: 23 },
      { width: 20, height: 40 },
    ];
    assert.equal(seg.config.refine, undefined);
    for (const alpha of ['binary', 'soft'] as const) {
      const got = predictMasks(seg, px, sizes, alpha);
      // Today's path, written out: the logits upsampled, then the argmax or sigmoid · 255.
      const want = noGrad(() =>
        scope(() => {
          const logit = foregroundLogit(seg.net, input(px));
          return sizes.map(({ width, height }, i) =>
            scope(() => {
              const up = resizeLogits(logit.narrow(0, i, 1), height, width);
              const m = alpha === 'soft' ? up.sigmoid().mul(255).add(0.5).to('uint8') : up.gt(0).to('uint8').mul(255);
              return Uint8Array.from(m.data() as Uint8Array);
            }),
          );
        }),
      );
      assert.deepEqual(got, want, alpha);
      assert.deepEqual(predictMasks(seg, px, sizes, alpha, null), want, `${alpha}, refine null`);
    }
  });
});

describe('flip averaging', () => {
  test('a mirror-symmetric photo gets a mirror-symmetric probability map (the plain prediction is not)', () => {
    const px = photos(2, true);
    const plain = values(() => refinedProbabilities(seg.net, input(px), px, null));
    assert.notDeepEqual(plain, mirrored(plain), 'the untrained network itself is not mirror-symmetric');
    const p = noLeak(() => values(() => refinedProbabilities(seg.net, input(px), px, { flip: true })));
    assert.deepEqual(p, mirrored(p));
  });

  test('mirror-equivariant: refining the mirrored photo gives the mirrored result', () => {
    const px = photos(2);
    const flipped = noGrad(() =>
      scope(() => Uint8Array.from(fromBytes(px, 'uint8', [2, 3, S, S]).flip(3).contiguous().data() as Uint8Array)),
    );
    const a = values(() => refinedProbabilities(seg.net, input(px), px, { flip: true }));
    const b = values(() => refinedProbabilities(seg.net, input(flipped), flipped, { flip: true }));
    assert.deepEqual(mirrored(a), b);
  });
});

describe('colour step', () => {
  test('on a two-colour photo, a shifted and blurred prior moves onto the object (IoU up)', () => {
    // A reddish disc on a bluish background, with pixel noise; the prior is the disc 6 px to the right, blurred.
    let seed = 5;
    const noise = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed % 41) - 20;
    };
    const px = new Uint8Array(3 * S * S);
    const truth = new Uint8Array(S * S);
    const prior = new Float32Array(S * S);
    const clamp = (v: number) => Math.max(0, Math.min(255, v));
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const k = y * S + x;
        const inside = Math.hypot(x - 14, y - 16) < 8;
        truth[k] = inside ? 1 : 0;
        const [r, g, b] = inside ? [200, 70, 50] : [50, 90, 200];
        px[k] = clamp(r + noise());
        px[S * S + k] = clamp(g + noise());
        px[2 * S * S + k] = clamp(b + noise());
        prior[k] = 1 / (1 + Math.exp(-(8 - Math.hypot(x - 20, y - 16)) / 3));
      }
    }
    const iou = (p: Float32Array) => {
      let inter = 0;
      let union = 0;
      for (let k = 0; k < S * S; k++) {
        const a = p[k]! > 0.5;
        const b = truth[k] === 1;
        inter += a && b ? 1 : 0;
        union += a || b ? 1 : 0;
      }
      return inter / union;
    };
    const start = iou(prior);
    const refined = iou(refineByColour(Float32Array.from(prior), px, 1, S, { strength: 2, pairwise: 2 }));
    assert.ok(start < 0.6, `the prior is off the object (IoU ${start.toFixed(3)})`);
    assert.ok(refined > 0.9 && refined > start + 0.3, `IoU ${start.toFixed(3)} → ${refined.toFixed(3)}`);
  });

  test('refinedProbabilities = the colour step on the flip average; refinedLogits is their logit, finite', () => {
    const px = photos(2);
    const setting: RefineSetting = { flip: true, colour: { strength: 2, pairwise: 2 } };
    const averaged = values(() => refinedProbabilities(seg.net, input(px), px, { flip: true }));
    const p = noLeak(() => values(() => refinedProbabilities(seg.net, input(px), px, setting)));
    assert.deepEqual(p, refineByColour(Float32Array.from(averaged), px, 2, S, setting.colour));
    assert.notDeepEqual(p, averaged, 'the colour step changed something');
    const logits = noLeak(() => values(() => refinedLogits(seg.net, input(px), px, setting)));
    for (let k = 0; k < p.length; k++) {
      assert.ok(Number.isFinite(logits[k]!) && Math.abs(logits[k]!) < 14, `logit ${logits[k]}`);
      assert.ok(Math.abs(1 / (1 + Math.exp(-logits[k]!)) - p[k]!) < 1e-4, `pixel ${k}`);
      if (Math.abs(p[k]! - 0.5) > 1e-4) assert.equal(logits[k]! > 0, p[k]! > 0.5, `pixel ${k}`);
    }
  });

  test('the wrong pixel count is refused', () => {
    assert.throws(() => refinedProbabilities(seg.net, input(photos(2)), photos(1), { flip: true }), /pixels hold 3072 bytes, x needs 6144/);
  });
});

describe('the setting', () => {
  test('which setting a call uses: absent → the model’s; off → none; on → the model’s or the default', () => {
    const mine: RefineSetting = { flip: true };
    assert.equal(chooseRefine(undefined, undefined), null);
    assert.equal(chooseRefine(mine, undefined), mine);
    assert.equal(chooseRefine(mine, false), null);
    assert.equal(chooseRefine(mine, true), mine);
    assert.equal(chooseRefine(undefined, true), defaultRefine);
    // The recipe's 64² U-Net refines with finer histograms than the default (chosen at 32²); otherwise the same steps.
    assert.deepEqual(
      cpuRecipe.refine,
      { ...defaultRefine, colour: { ...defaultRefine.colour, levels: 16, rounds: 3, smoothing: 0.5, pairwise: 4 } },
      "the recipe's setting is the default's at 64²",
    );
    assert.equal(cpuRecipe.seg.size, 64);
    assert.equal(cpuRecipe.adapt?.colour?.pairwise, 2, "the recipe's pseudo-labels have the pairwise term");
    assert.equal(cpuRecipe.adapt?.colour?.saliency, 16, '… and the boundary saliency (weight 16)');
    assert.equal(cpuRecipe.refine?.colour?.saliency, undefined, 'not at test time (measured worse after the adaptation)');
    assert.equal(refineSetting(cpuRecipe, undefined), cpuRecipe.refine);
    assert.equal(refineSetting(cpuRecipe, false), null);
    assert.equal(refineSetting(null, undefined), null);
    assert.equal(refineSetting(null, true), defaultRefine);
    assert.equal(describeRefine(defaultRefine), 'flip average + colour (strength 2, pairwise 2)');
    assert.equal(describeRefine({ flip: false }), 'none');
  });

  test('model.json: `refine` round-trips, is applied by predictMasks, and can be removed again', () => {
    const dir = join(root, 'with-refine');
    cpSync(model, dir, { recursive: true });
    const original = readFileSync(join(dir, 'model.json'), 'utf8');
    writeSegmenterRefine(dir, defaultRefine);
    assert.deepEqual(readSegmenterConfig(dir).refine, defaultRefine);
    const px = photos(1);
    const size = [{ width: S, height: S }];
    const refined = loadSegmenter(dir);
    try {
      assert.deepEqual(refined.config.refine, defaultRefine);
      const soft = predictMasks(refined, px, size, 'soft');
      assert.notDeepEqual(soft, predictMasks(seg, px, size, 'soft'), 'the model’s setting is applied');
      assert.deepEqual(predictMasks(refined, px, size, 'soft', null), predictMasks(seg, px, size, 'soft'), 'null: none');
      // The refined logits are thresholded and upsampled as before: soft ≥ 128 exactly where binary is 255.
      const binary = predictMasks(refined, px, [{ width: 45, height: 27 }], 'binary')[0]!;
      const softUp = predictMasks(refined, px, [{ width: 45, height: 27 }], 'soft')[0]!;
      for (let k = 0; k < binary.length; k++) assert.equal(softUp[k]! >= 128, binary[k] === 255, `pixel ${k}`);
    } finally {
      refined.dispose();
    }
    writeSegmenterRefine(dir, null);
    assert.equal(readFileSync(join(dir, 'model.json'), 'utf8'), original, 'removed: the file as it was');
  });

  const malformed: [string, unknown, RegExp][] = [
    ['flip not a boolean', { flip: 'yes' }, /field refine\.flip must be true or false, got "yes"$/],
    [
      'a misspelt field',
      { flip: true, colour: { stength: 2 } },
      /field refine\.colour\.stength is not a setting here \(known: levels, strength/,
    ],
    ['an unknown top-level field', { flip: true, crf: true }, /field refine\.crf is not a setting here \(known: flip, colour\)$/],
    ['a negative pairwise weight', { colour: { pairwise: -1 } }, /field refine\.colour\.pairwise must be a number from 0 to 1000, got -1$/],
    ['smoothing 0', { colour: { smoothing: 0 } }, /field refine\.colour\.smoothing must be above 0, got 0$/],
    [
      'a saliency threshold above 1',
      { colour: { saliency: 16, saliencyThreshold: 2 } },
      /field refine\.colour\.saliencyThreshold must be a number from 0 to 1, got 2$/,
    ],
    ['4096 levels', { colour: { levels: 4096 } }, /field refine\.colour\.levels must be an integer from 1 to 64, got 4096$/],
    ['not an object', 'on', /field refine must be an object, got "on"$/],
  ];
  for (const [label, refine, message] of malformed) {
    test(`model.json with a malformed refine is refused (${label}): ERR_MODEL naming the file and field`, () => {
      const dir = join(root, `bad-${label.replace(/\W+/g, '_')}`);
      cpSync(model, dir, { recursive: true });
      const c = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...c, refine }));
      assert.throws(
        () => loadSegmenter(dir),
        (e: unknown) => {
          assert.ok(e instanceof InputError, String(e));
          assert.equal(e.code, 'ERR_MODEL');
          assert.ok(e.message.startsWith(`${join(dir, 'model.json')}: `), e.message);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }
});
