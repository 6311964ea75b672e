// SPDX-License-Identifier: MIT
// Segmenter models and synthetic-set manifests are trusted only after checks (issue 14, items 10–12): paths from
// manifest.json / model.json stay inside their folder (same message whether the target exists or not), the
// weights' SHA-256 is verified and non-finite weights refused, and every field is range-checked.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as t from '../../src/index.js';
import { loadSyntheticLayers } from '../../src/eval/mine.js';
import { UNet } from '../../src/models/unet.js';
import { loadSyntheticSet, syntheticFiles } from '../../src/seg/data.js';
import { type SegmenterConfig, loadSegmenter, saveSegmenter } from '../../src/seg/model.js';
import { writeSyntheticFolder } from '../helpers/syntheticFolder.js';

// A planted file's JSON, edited freely by each case.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let root = '';
let synth = '';
let model = '';

const config: SegmenterConfig = {
  format: 'ilsgan-segmenter',
  version: 1,
  arch: 'unet',
  width: 2,
  classes: 2,
  size: 16,
  protocol: '64',
  evalSize: 16,
  input: 'rgb [-1,1]',
  weights: 'model.safetensors',
  bestIteration: 1,
  bestValIoU: 0.5,
  history: [{ iteration: 1, valIoU: 0.5, loss: 0.7 }],
  training: { iterations: 1, batch: 2, lr: 1e-3, seed: 0, valEvery: 1, augment: 'color', device: 'cpu', seconds: 1, finished: true },
  data: { synthetic: 'synth', n: 4, train: 3, val: 1, imageSize: 16 },
};

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-planted-'));
  synth = join(root, 'synth');
  await writeSyntheticFolder(synth, 4, 16);
  // Data the planted files try to reach: an existing image outside the set.
  mkdirSync(join(root, 'secret', 'images'), { recursive: true });
  cpSync(join(synth, 'images', '000001.png'), join(root, 'secret', 'images', 'private.png'));
  model = join(root, 'model');
  mkdirSync(model);
  t.manualSeed(0);
  const net = new UNet({ width: 2 });
  try {
    saveSegmenter(model, net, config);
  } finally {
    net.dispose();
  }
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A copy of the synthetic set with its manifest changed by `edit` (text, so duplicate keys can be planted). */
function plantedSet(label: string, edit: (m: Json) => Json | string): string {
  const dir = join(root, `set-${label.replace(/\W+/g, '_')}`);
  cpSync(synth, dir, { recursive: true });
  const out = edit(JSON.parse(readFileSync(join(synth, 'manifest.json'), 'utf8')));
  writeFileSync(join(dir, 'manifest.json'), typeof out === 'string' ? out : JSON.stringify(out));
  return dir;
}

/** seg-train's and mi's readers both refuse the set with `message` (ERR_NO_SYNTHETIC, naming the manifest). */
async function bothRefuse(dir: string, message: RegExp): Promise<void> {
  const check = (e: unknown) => {
    assert.ok(e instanceof t.InputError, String(e));
    assert.equal(e.code, 'ERR_NO_SYNTHETIC');
    assert.ok(e.message.startsWith(`${join(dir, 'manifest.json')}: `), e.message);
    assert.match(e.message, message);
    return true;
  };
  await assert.rejects(loadSyntheticSet(dir, { size: 16 }), check);
  await assert.rejects(loadSyntheticLayers(dir, 16), check);
}

describe('synthetic-set manifest: paths stay inside the set', () => {
  test('the untouched set loads in both readers', async () => {
    assert.equal((await loadSyntheticSet(synth, { size: 16 })).n, 4);
    const layers = await loadSyntheticLayers(synth, 16);
    assert.equal(layers.n, 4);
    t.dispose([layers.fg, layers.bg, layers.mask]);
  });

  test('../ in a file name: one message, whether the target exists or not', async () => {
    const existing = plantedSet('dotdot-existing', (m) => ({ ...m, files: ['../../secret/images/private.png', ...m.files.slice(1)] }));
    const missing = plantedSet('dotdot-missing', (m) => ({ ...m, files: ['../../secret/images/none.png', ...m.files.slice(1)] }));
    const msg = (dir: string) => new RegExp(`: field files\\[0\\] must name a file inside ${escape(dir)}$`);
    await bothRefuse(existing, msg(existing));
    await bothRefuse(missing, msg(missing));
  });

  test('a folder outside the set, an absolute file name, a symlinked folder or file leading out', async () => {
    const folder = plantedSet('folder', (m) => ({ ...m, folders: { ...m.folders, images: '../secret/images', fg: '../secret/images' } }));
    await assert.rejects(loadSyntheticSet(folder, { size: 16 }), {
      code: 'ERR_NO_SYNTHETIC',
      message: /field folders\.images must name a file inside/,
    });
    await assert.rejects(loadSyntheticLayers(folder, 16), {
      code: 'ERR_NO_SYNTHETIC',
      message: /field folders\.fg must name a file inside/,
    });

    const abs = plantedSet('absolute', (m) => ({ ...m, files: [join(root, 'secret', 'images', 'private.png'), ...m.files.slice(1)] }));
    await bothRefuse(abs, /field files\[0\] must name a file inside/);

    const linkedFolder = plantedSet('linked-folder', (m) => m);
    for (const f of ['images', 'fg']) {
      rmSync(join(linkedFolder, f), { recursive: true });
      symlinkSync(join(root, 'secret', 'images'), join(linkedFolder, f));
    }
    await bothRefuse(linkedFolder, /must name a file inside/);

    const linkedFile = plantedSet('linked-file', (m) => m);
    for (const f of ['images', 'fg']) {
      rmSync(join(linkedFile, f, '000002.png'));
      symlinkSync(join(root, 'secret', 'images', 'private.png'), join(linkedFile, f, '000002.png'));
    }
    await bothRefuse(linkedFile, /field files\[1\] must name a file inside/);
  });
});

describe('synthetic-set manifest: fields are validated', () => {
  const cases: [string, (m: Json) => Json | string, RegExp][] = [
    ['n 1e12', (m) => ({ ...m, n: 1e12 }), /field n must be an integer from 1 to 10000000, got 1000000000000$/],
    ['size 100', (m) => ({ ...m, size: 100 }), /field size must be a power of two from 4 to 1024, got 100$/],
    ['files not matching n', (m) => ({ ...m, n: 5 }), /field files must list n = 5 files, got 4$/],
    ['files not an array', (m) => ({ ...m, files: 'x' }), /field files must be an array, got "x"$/],
    ['a file name that is not a string', (m) => ({ ...m, files: [1, ...m.files.slice(1)] }), /field files\[0\] must be a string, got 1$/],
    ['a foreign format', (m) => ({ ...m, format: 'ilsgan-composite' }), /field format must be "ilsgan-synthetic", got "ilsgan-composite"$/],
    ['a duplicate key', (m) => JSON.stringify(m).replace('"files":', '"files": [], "files":'), /not valid JSON \(duplicate key "files"\)$/],
  ];
  for (const [label, edit, message] of cases) {
    test(label, async () => {
      const dir = plantedSet(label, edit);
      await bothRefuse(dir, message);
      assert.throws(() => syntheticFiles(dir), { code: 'ERR_NO_SYNTHETIC', message });
    });
  }
});

describe('segmenter model files', () => {
  /** A copy of the model with model.json changed by `edit`. */
  function plantedModel(label: string, edit: (c: Json) => Json | string): string {
    const dir = join(root, `model-${label.replace(/\W+/g, '_')}`);
    cpSync(model, dir, { recursive: true });
    const out = edit(JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')));
    writeFileSync(join(dir, 'model.json'), typeof out === 'string' ? out : JSON.stringify(out));
    return dir;
  }

  test('model.json holds the SHA-256 of the weights; the model loads; one without it (older) loads too', () => {
    const c = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')) as SegmenterConfig;
    assert.match(c.weightsSha256 ?? '', /^[0-9a-f]{64}$/);
    loadSegmenter(model).dispose();
    loadSegmenter(plantedModel('old', (x) => ({ ...x, weightsSha256: undefined }))).dispose();
  });

  test('a flipped weights byte: ERR_CHECKSUM; NaN weights (no checksum to catch them): ERR_NON_FINITE naming the tensor', () => {
    const flipped = plantedModel('flipped', (x) => x);
    const w = join(flipped, 'model.safetensors');
    const bytes = readFileSync(w);
    bytes[bytes.length - 10] ^= 0x40;
    writeFileSync(w, bytes);
    assert.throws(() => loadSegmenter(flipped), { code: 'ERR_CHECKSUM', message: new RegExp(`^${escape(w)}: checksum mismatch`) });

    const nan = plantedModel('nan', (x) => ({ ...x, weightsSha256: undefined }));
    const wn = join(nan, 'model.safetensors');
    t.scope(() => {
      const { tensors, metadata } = t.loadSafetensors(wn);
      const key = [...tensors.keys()].find((k) => k.endsWith('weight'))!;
      tensors.set(key, tensors.get(key)!.mul(Number.NaN));
      t.saveSafetensors(wn, tensors, metadata);
    });
    assert.throws(() => loadSegmenter(nan), {
      code: 'ERR_NON_FINITE',
      message: new RegExp(`^${escape(wn)}: tensor \\S+weight holds non-finite values`),
    });
  });

  test('weights as a symlink leading out of the model folder are refused', () => {
    const dir = plantedModel('symlink', (x) => ({ ...x, weightsSha256: undefined }));
    const outside = join(root, 'secret', 'model.safetensors');
    cpSync(join(model, 'model.safetensors'), outside);
    rmSync(join(dir, 'model.safetensors'));
    symlinkSync(outside, join(dir, 'model.safetensors'));
    assert.throws(() => loadSegmenter(dir), {
      code: 'ERR_MODEL',
      message: `${join(dir, 'model.json')}: field weights must name a file inside ${dir}`,
    });
  });

  const cases: [string, (c: Json) => Json | string, RegExp][] = [
    ['U-Net width 2^30', (c) => ({ ...c, width: 2 ** 30 }), /field width must be an integer from 1 to 4096, got 1073741824$/],
    ['size not a multiple of 16', (c) => ({ ...c, size: 20 }), /field size must be a multiple of 16, got 20$/],
    ['weights outside the folder', (c) => ({ ...c, weights: '../secret/model.safetensors' }), /field weights must be "model\.safetensors"/],
    [
      'batch 0',
      (c) => ({ ...c, training: { ...c.training, batch: 0 } }),
      /field training\.batch must be an integer from 1 to 65536, got 0$/,
    ],
    [
      'a history record out of range',
      (c) => ({ ...c, history: [{ iteration: 1, valIoU: 7, loss: 0 }] }),
      /field history\[0\]\.valIoU must be a number from 0 to 1, got 7$/,
    ],
    ['a duplicate key', (c) => JSON.stringify(c).replace('"width":', '"width": 2, "width":'), /not valid JSON \(duplicate key "width"\)$/],
  ];
  for (const [label, edit, message] of cases) {
    test(`model.json: ${label}`, () => {
      const dir = plantedModel(label, edit);
      assert.throws(
        () => loadSegmenter(dir),
        (e: unknown) => {
          assert.ok(e instanceof t.InputError, String(e));
          assert.equal(e.code, 'ERR_MODEL');
          assert.ok(e.message.startsWith(`${join(dir, 'model.json')}: `), e.message);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }
});
