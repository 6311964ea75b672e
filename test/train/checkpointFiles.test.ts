// SPDX-License-Identifier: MIT
// Checkpoint files are trusted only after checks (issue 14, items 10–12): the weights path stays inside the
// checkpoint folder, the weights' SHA-256 is verified, non-finite weights are refused on load and never written,
// and every JSON field is range-checked with one message naming the file and the field.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as t from '../../src/index.js';
import type { NetworkConfig } from '../../src/models/config.js';
import { type CheckpointState, checkpointDir, loadGeneratorEma, readCheckpointState, resolveCheckpoint } from '../../src/run/checkpoint.js';
import { restoreTrainer, saveCheckpoint } from '../../src/train/checkpoint.js';
import { defaultTrainOptions } from '../../src/train/options.js';
import { IlsTrainer } from '../../src/train/trainer.js';
import { fakeCheckpointState } from '../helpers/checkpointState.js';

/** The smallest network the generator accepts: builds and saves in well under a second. */
const net: NetworkConfig = {
  resolution: 32,
  zDim: 16,
  wDim: 16,
  mappingLayers: 1,
  mappingLrMultiplier: 0.01,
  channelBase: 256,
  channelMax: 16,
  convClamp: 256,
  mbstdGroupSize: 2,
  mbstdChannels: 1,
};
const options = { ...defaultTrainOptions, batch: 2 };
const extra = {
  configName: 'custom',
  data: 'demo',
  sampler: { epoch: 0, pos: 0 },
  trainSeconds: 0,
  adaSigns: { sum: 0, count: 0 },
  targetKimg: 1,
};

let root = '';
let run = '';
let name = '';
let trainer: IlsTrainer;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-ckpt-files-'));
  run = join(root, 'run');
  t.manualSeed(0);
  trainer = new IlsTrainer(net, options);
  trainer.curNimg = 64;
  name = saveCheckpoint(run, trainer, extra);
});
after(() => {
  trainer?.dispose();
  if (root) rmSync(root, { recursive: true, force: true });
});

const jsonPath = () => join(checkpointDir(run), `${name}.json`);
const weightsPath = () => join(checkpointDir(run), `${name}.safetensors`);

/** A copy of the run with the checkpoint JSON changed by `edit` (as text, so duplicate keys can be planted). */
function plantedRun(label: string, edit: (state: CheckpointState) => string | CheckpointState): string {
  const dir = join(root, `planted-${label.replace(/\W+/g, '_')}`);
  mkdirSync(checkpointDir(dir), { recursive: true });
  writeFileSync(join(checkpointDir(dir), `${name}.safetensors`), readFileSync(weightsPath()));
  const state = JSON.parse(readFileSync(jsonPath(), 'utf8')) as CheckpointState;
  const out = edit(state);
  writeFileSync(join(checkpointDir(dir), `${name}.json`), typeof out === 'string' ? out : JSON.stringify(out));
  return dir;
}

describe('checkpoint integrity', () => {
  test('the JSON holds the SHA-256 of the weights file, and the checkpoint loads', () => {
    const { state } = readCheckpointState(run);
    assert.match(state.weightsSha256 ?? '', /^[0-9a-f]{64}$/);
    const { G } = loadGeneratorEma(run);
    G.dispose();
  });

  test('a flipped data byte is refused on load (generate and resume): ERR_CHECKSUM naming the file', () => {
    const dir = plantedRun('flipped', (s) => s);
    const w = join(checkpointDir(dir), `${name}.safetensors`);
    const bytes = readFileSync(w);
    bytes[bytes.length - 100] ^= 0x10;
    writeFileSync(w, bytes);
    const isChecksum = { code: 'ERR_CHECKSUM', message: new RegExp(`^${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: checksum mismatch`) };
    assert.throws(() => loadGeneratorEma(dir), isChecksum);
    const { state } = readCheckpointState(dir);
    const fresh = new IlsTrainer(net, options);
    try {
      assert.throws(() => restoreTrainer(dir, name, state, fresh), isChecksum);
    } finally {
      fresh.dispose();
    }
  });

  test('a checkpoint without weightsSha256 (written before it existed) still loads', () => {
    const dir = plantedRun('old', (s) => {
      delete s.weightsSha256;
      return s;
    });
    const { G } = loadGeneratorEma(dir);
    G.dispose();
  });

  test('NaN weights are refused on load with the file and tensor named (ERR_NON_FINITE)', () => {
    const dir = plantedRun('nan', (s) => {
      delete s.weightsSha256; // an older file, or one whose checksum was recomputed: the finite check still holds
      return s;
    });
    const w = join(checkpointDir(dir), `${name}.safetensors`);
    t.scope(() => {
      const { tensors, metadata } = t.loadSafetensors(w);
      const key = [...tensors.keys()].find((k) => k.startsWith('G_ema.') && tensors.get(k)!.isFloatingPoint())!;
      tensors.set(key, tensors.get(key)!.mul(Number.NaN));
      t.saveSafetensors(w, tensors, metadata);
    });
    assert.throws(() => loadGeneratorEma(dir), {
      code: 'ERR_NON_FINITE',
      message: new RegExp(`^${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tensor G_ema\\.\\S+ holds non-finite values`),
    });
    const fresh = new IlsTrainer(net, options);
    try {
      assert.throws(() => restoreTrainer(dir, name, readCheckpointState(dir).state, fresh), { code: 'ERR_NON_FINITE' });
    } finally {
      fresh.dispose();
    }
  });

  test('saveCheckpoint refuses a non-finite G_ema and writes nothing (training stops before a NaN checkpoint)', () => {
    const dir = join(root, 'diverged');
    const nan = new IlsTrainer(net, options);
    try {
      nan.curNimg = 128;
      saveCheckpoint(dir, nan, extra);
      const before = readdirSync(checkpointDir(dir)).sort();
      t.noGrad(() => nan.Gema.stateDict().values().next().value!.fill_(Number.POSITIVE_INFINITY));
      nan.curNimg = 192;
      assert.throws(() => saveCheckpoint(dir, nan, extra), {
        code: 'ERR_NON_FINITE',
        message: /G_ema holds non-finite values \(G_ema\.\S+\); no checkpoint written/,
      });
      assert.deepEqual(readdirSync(checkpointDir(dir)).sort(), before, 'no new or temp file');
    } finally {
      nan.dispose();
    }
  });
});

describe('checkpoint weights path stays inside the checkpoint folder', () => {
  const outside = () => {
    const other = join(root, 'other-run', 'checkpoints');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'x.safetensors'), readFileSync(weightsPath()));
    return join(other, 'x.safetensors');
  };
  const reject = (dir: string) => ({
    code: 'ERR_NO_CHECKPOINT',
    message: `${join(checkpointDir(dir), `${name}.json`)}: field weights must name a file inside ${checkpointDir(dir)}`,
  });

  test('../ to an existing file and ../ to a missing one give the same message', () => {
    outside();
    const a = plantedRun('dotdot-existing', (s) => ({
      ...s,
      weights: '../../other-run/checkpoints/x.safetensors',
      weightsSha256: undefined,
    }));
    const b = plantedRun('dotdot-missing', (s) => ({ ...s, weights: '../../other-run/checkpoints/none.safetensors' }));
    assert.throws(() => loadGeneratorEma(a), reject(a));
    assert.throws(() => loadGeneratorEma(b), reject(b));
    assert.throws(() => resolveCheckpoint(a, join(checkpointDir(a), `${name}.json`)), reject(a));
  });

  test('an absolute path and a symlink leading out are refused; a symlink inside the folder is followed', () => {
    const target = outside();
    const abs = plantedRun('absolute', (s) => ({ ...s, weights: target }));
    assert.throws(() => loadGeneratorEma(abs), reject(abs));
    const link = plantedRun('symlink-out', (s) => ({ ...s, weights: 'link.safetensors', weightsSha256: undefined }));
    symlinkSync(target, join(checkpointDir(link), 'link.safetensors'));
    assert.throws(() => loadGeneratorEma(link), reject(link));
    const inside = plantedRun('symlink-in', (s) => ({ ...s, weights: 'link.safetensors' }));
    symlinkSync(join(checkpointDir(inside), `${name}.safetensors`), join(checkpointDir(inside), 'link.safetensors'));
    loadGeneratorEma(inside).G.dispose();
  });
});

describe('checkpoint JSON fields are validated (one message naming the file and field)', () => {
  const cases: [string, (s: CheckpointState) => string | CheckpointState, RegExp][] = [
    [
      'channelBase 2^40',
      (s) => ({ ...s, net: { ...s.net, channelBase: 2 ** 40 } }),
      /field net\.channelBase must be an integer from 1 to 65536, got 1099511627776$/,
    ],
    ['batch 0', (s) => ({ ...s, options: { ...s.options, batch: 0 } }), /field options\.batch must be an integer from 1 to 65536, got 0$/],
    ['batch 1e12', (s) => ({ ...s, options: { ...s.options, batch: 1e12 } }), /field options\.batch must be an integer/],
    [
      'sampler.epoch 1e12',
      (s) => ({ ...s, sampler: { epoch: 1e12, pos: 0 } }),
      /field sampler\.epoch must be an integer from 0 to 1000000000/,
    ],
    ['curNimg -5', (s) => ({ ...s, curNimg: -5 }), /field curNimg must be an integer from 0 to/],
    ['curNimg 1.5', (s) => ({ ...s, curNimg: 1.5 }), /field curNimg must be an integer/],
    [
      'resolution 100',
      (s) => ({ ...s, net: { ...s.net, resolution: 100 } }),
      /field net\.resolution must be a power of two from 32 to 256, got 100$/,
    ],
    [
      'a string for a number',
      (s) => ({ ...s, options: { ...s.options, gLr: '0.002' as unknown as number } }),
      /field options\.gLr must be a number from 0 to 10, got "0\.002"$/,
    ],
    [
      'an unknown ILS schedule',
      (s) => ({ ...s, options: { ...s.options, ilsSchedule: 'x' as 'cos' } }),
      /field options\.ilsSchedule must be "allTime" or "cos" or "coolDown" or "constant", got "x"$/,
    ],
    ['a missing field', (s) => ({ ...s, optG: undefined as unknown as CheckpointState['optG'] }), /field optG is missing$/],
    [
      'an Adam step that is not an integer',
      (s) => ({
        ...s,
        optD: { groups: [{ lr: 0.002, betas: [0, 0.99], eps: 1e-8, weightDecay: 0, steps: [1, 'x' as unknown as number] }] },
      }),
      /field optD\.groups\[0\]\.steps\[1\] must be an integer/,
    ],
    ['a foreign format', (s) => ({ ...s, format: 'x' as 'ilsgan-checkpoint' }), /field format must be "ilsgan-checkpoint", got "x"$/],
    ['a malformed checksum', (s) => ({ ...s, weightsSha256: 'abc' }), /field weightsSha256 must be a SHA-256 digest/],
    [
      'a duplicate key',
      (s) => JSON.stringify(s).replace('"curNimg":', '"curNimg": 0, "curNimg":'),
      /not valid JSON \(duplicate key "curNimg"\)$/,
    ],
    ['not JSON', () => '{"format": ', /not valid JSON/],
  ];
  for (const [label, edit, message] of cases) {
    test(label, () => {
      const dir = plantedRun(label, edit);
      const file = join(checkpointDir(dir), `${name}.json`);
      for (const load of [() => readCheckpointState(dir), () => loadGeneratorEma(dir), () => resolveCheckpoint(dir, file)]) {
        assert.throws(load, (e: unknown) => {
          assert.ok(e instanceof t.InputError, String(e));
          assert.equal(e.code, 'ERR_NO_CHECKPOINT');
          assert.ok(e.message.startsWith(`${file}: `), e.message);
          assert.match(e.message, message);
          assert.ok(!e.message.includes('\n'));
          return true;
        });
      }
    });
  }

  test('the test helper state is valid, and extra fields from newer versions are left alone', () => {
    const dir = plantedRun(
      'valid',
      () => ({ ...fakeCheckpointState(64), weights: `${name}.safetensors`, futureField: 1 }) as CheckpointState,
    );
    assert.equal(readCheckpointState(dir).state.curNimg, 64);
    assert.ok(existsSync(dir));
  });
});
