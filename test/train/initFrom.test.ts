// SPDX-License-Identifier: MIT
// Reusing a run (issue 16, item 4): `train --init-from` copies G, G_ema and D (not the optimiser, counters or
// kimg) after checking the network fields that shape the weights; `export` writes G_ema and the U-Net as safetensors
// with their configs and a model card, from a run or a pipeline output. A tiny network on 16 demo images, 1 iteration.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkConfig } from '../../src/models/config.js';
import { UNet } from '../../src/models/unet.js';
import { exportBundle } from '../../src/pipeline/exportBundle.js';
import { loadSegmenter, saveSegmenter } from '../../src/seg/model.js';
import { defaultRefine } from '../../src/seg/refineSetting.js';
import { InputError } from '../../src/util/errors.js';
import { loadSafetensors } from '../../src/tensor/safetensors.js';
import { dispose } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { readCheckpointState, resolveCheckpoint } from '../../src/run/checkpoint.js';
import { initTrainerWeights, resolveRunCheckpoint, weightConfigMismatches } from '../../src/train/initFrom.js';
import { type TrainRun, train } from '../../src/train/loop.js';
import { defaultTrainOptions } from '../../src/train/options.js';
import { IlsTrainer } from '../../src/train/trainer.js';
import { assertUserError, runCli } from '../helpers/cli.js';
import { segmenterConfig } from '../helpers/segmenterConfig.js';

const net: NetworkConfig = {
  resolution: 32,
  zDim: 16,
  wDim: 16,
  mappingLayers: 1,
  mappingLrMultiplier: 0.01,
  channelBase: 256,
  channelMax: 16,
  convClamp: 256,
  mbstdGroupSize: 4,
  mbstdChannels: 1,
};
let root = '';
let source = '';

function run(out: string, extra: Partial<TrainRun> = {}): TrainRun {
  return {
    data: 'demo',
    out,
    config: net,
    kimg: 0.004,
    options: { batch: 4, seed: 1 },
    demoCount: 16,
    tickKimg: 0.004,
    snapshotKimg: 0.004,
    gridSize: 2,
    progress: false,
    threads: 1,
    ...extra,
  };
}

/** The checkpoint's tensors under `prefix`, as plain arrays by name (without the prefix). */
function weights(path: string, prefix: string): Map<string, number[]> {
  const { tensors } = loadSafetensors(path);
  const out = new Map<string, number[]>();
  for (const [k, v] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), Array.from(v.float().data() as Float32Array));
  dispose([...tensors.values()]);
  return out;
}

function stateArrays(m: Map<string, Tensor>): Map<string, number[]> {
  return new Map([...m].map(([k, v]) => [k, Array.from(v.float().cpu().data() as Float32Array)]));
}

const isCode = (code: string, pattern?: RegExp) => (e: Error) =>
  e instanceof InputError && e.code === code && (!pattern || pattern.test(e.message));

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-init-from-'));
  source = join(root, 'source');
  // Another seed than the runs below, so a fresh run starts from other weights than the source's.
  await train(run(source, { kimg: 0.008, tickKimg: 0.008, options: { batch: 4, seed: 5 } }));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('--init-from', () => {
  test('initTrainerWeights copies G, G_ema and D exactly, and nothing else', () => {
    const src = resolveRunCheckpoint(source);
    assert.equal(src.state.curNimg, 8);
    const trainer = new IlsTrainer(net, { ...defaultTrainOptions, batch: 4 }, 'cpu');
    try {
      initTrainerWeights(src, trainer);
      for (const [prefix, module] of [
        ['G.', trainer.G],
        ['G_ema.', trainer.Gema],
        ['D.', trainer.D],
      ] as const) {
        const want = weights(src.weightsPath, prefix);
        const got = stateArrays(module.stateDict());
        assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), prefix);
        for (const [k, v] of want) assert.deepEqual(got.get(k), v, `${prefix}${k}`);
      }
      assert.equal(trainer.curNimg, 0, 'counters are not copied');
      assert.equal(trainer.iteration, 0);
    } finally {
      trainer.dispose();
    }
  });

  test("train({ initFrom }) starts a new run at 0 kimg from the source's weights, with its network by default", async () => {
    const out = join(root, 'transfer');
    const r = await train(run(out, { config: undefined, initFrom: source }));
    assert.equal(r.kimg, 0.004);
    const { state } = readCheckpointState(out);
    assert.equal(state.curNimg, 4, "counted from 0, not from the source's 8");
    assert.deepEqual(state.net, readCheckpointState(source).state.net);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as {
      initFrom: { run: string; checkpoint: string; kimg: number };
    };
    assert.deepEqual(config.initFrom, { run: source, checkpoint: 'ckpt-000000008', kimg: 0.008 });
    // One step away from the source's D, far from a fresh run's (same seed) D.
    const fresh = join(root, 'fresh');
    await train(run(fresh));
    const dist = (a: Map<string, number[]>, b: Map<string, number[]>) =>
      [...a].reduce((s, [k, v]) => s + v.reduce((t, x, i) => t + (x - b.get(k)![i]!) ** 2, 0), 0);
    const d = (dir: string) => weights(resolveCheckpoint(dir).weightsPath, 'D.');
    const src = d(source);
    assert.ok(dist(d(out), src) < 0.1 * dist(d(fresh), src), "the transferred D is the source's, one step on");
  });

  test('a network that cannot take the weights: one error naming every mismatching field, nothing decoded', async () => {
    assert.deepEqual(weightConfigMismatches({ ...net, channelMax: 8, zDim: 32, convClamp: null }, net), [
      'zDim 32 (source: 16)',
      'channelMax 8 (source: 16)',
    ]);
    const out = join(root, 'mismatch');
    await assert.rejects(
      train(run(out, { config: { ...net, channelMax: 8 }, initFrom: source })),
      isCode('ERR_CONFIG_MISMATCH', /channelMax 8 \(source: 16\)/),
    );
    assert.ok(!existsSync(join(out, 'config.json')));
    await assert.rejects(
      train(run(join(root, 'nothing'), { initFrom: join(root, 'missing') })),
      isCode('ERR_NO_CHECKPOINT', /--init-from .*missing: no such run folder/),
    );
    await assert.rejects(train(run(source, { resume: true, initFrom: source })), isCode('ERR_ARG'));
  });

  test('CLI: --init-from with a preset of another shape exits 2 naming the fields', () => {
    const r = runCli(
      ['train', '--data', 'demo', '--out', join(root, 'cli-run'), '--init-from', source, '--config', 'tiny32', '--kimg', '0.004'],
      root,
    );
    assertUserError(
      r,
      /^error: --init-from .* its network differs from this run's in zDim 512 \(source: 16\), wDim 512 \(source: 16\), mappingLayers 2 \(source: 1\), channelBase 2048 \(source: 256\), channelMax 128 \(source: 16\)\nhint: /,
    );
  });
});

describe('export', () => {
  test('a training run: G_ema as safetensors with its config and a model card', () => {
    const out = join(root, 'bundle-run');
    const r = exportBundle({ run: source, out });
    assert.deepEqual(r.files, ['generator.safetensors', 'generator.json', 'README.md']);
    assert.equal(r.segmenter, false);
    const ckpt = resolveCheckpoint(source);
    const want = weights(ckpt.weightsPath, 'G_ema.');
    const got = weights(join(out, 'generator.safetensors'), '');
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [k, v] of want) assert.deepEqual(got.get(k), v, k);
    const card = JSON.parse(readFileSync(join(out, 'generator.json'), 'utf8')) as { net: NetworkConfig; checkpoint: string; kimg: number };
    assert.deepEqual([card.net, card.checkpoint, card.kimg], [net, 'ckpt-000000008', 0.008]);
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    assert.match(readme, /from safetensors\.torch import load_file/);
    assert.match(readme, /GAN training data: `demo`, shown 0\.0080 kimg/);
    assert.match(readme, /No test metrics/);
  });

  test('a pipeline output: the selected checkpoint, the adapted U-Net as a segment-able folder, metrics in the card', () => {
    const pipe = join(root, 'pipe');
    cpSync(source, join(pipe, 'gan'), { recursive: true });
    mkdirSync(join(pipe, 'stages'), { recursive: true });
    writeFileSync(
      join(pipe, 'stages', 'select.json'),
      JSON.stringify({ stage: 'select', result: { name: 'ckpt-000000004', reason: 'lowest FID 123.4' } }),
    );
    writeFileSync(
      join(pipe, 'eval.json'),
      JSON.stringify({
        DRC_IoU: 0.8123,
        DRC_DICE: 0.88,
        mIoU: 0.8,
        pACC: 0.9,
        images: 12,
        baselines: { all_foreground: { DRC_IoU: 0.31 }, centred_ellipse: { DRC_IoU: 0.52 } },
      }),
    );
    const u = new UNet({ width: 4 });
    const segConfig = segmenterConfig(4, 32, {
      bestIteration: 10,
      bestValIoU: 0.75,
      training: { iterations: 10, batch: 2, lr: 1e-3, seed: 0, valEvery: 5, augment: 'color', device: 'cpu', seconds: 1, finished: true },
      data: { synthetic: 'pipe/synthetic', n: 40, train: 36, val: 4, imageSize: 32 },
    });
    mkdirSync(join(pipe, 'segmenter'));
    mkdirSync(join(pipe, 'segmenter-adapted'));
    saveSegmenter(join(pipe, 'segmenter'), u, segConfig);
    saveSegmenter(join(pipe, 'segmenter-adapted'), u, { ...segConfig, bestValIoU: 0.77, refine: defaultRefine });
    u.dispose();
    const r = exportBundle({ run: pipe });
    assert.equal(r.out, join(pipe, 'export'));
    assert.equal(r.checkpoint, 'ckpt-000000004', "the pipeline's selection, not the latest");
    assert.deepEqual(r.files, [
      'generator.safetensors',
      'generator.json',
      'segmenter/model.safetensors',
      'segmenter/model.json',
      'README.md',
    ]);
    const seg = loadSegmenter(join(r.out, 'segmenter'));
    assert.equal(seg.config.bestValIoU, 0.77, 'the adapted U-Net');
    assert.deepEqual(seg.config.refine, defaultRefine, 'with its test-time refinement');
    seg.dispose();
    const readme = readFileSync(join(r.out, 'README.md'), 'utf8');
    assert.match(readme, /DRC_IoU 0\.8123/);
    assert.match(readme, /all-foreground DRC_IoU 0\.3100, centred ellipse 0\.5200/);
    assert.match(readme, /\(lowest FID 123\.4\)/);
    assert.match(readme, /load_file\("segmenter\/model\.safetensors"\)/);
    assert.match(readme, /Test-time refinement .*: flip average \+ colour \(strength 2, pairwise 2\)/);
    // Rerun into the same bundle: allowed; into a folder holding other files: refused.
    exportBundle({ run: pipe });
    assert.throws(() => exportBundle({ run: pipe, out: join(pipe, 'gan') }), isCode('ERR_OUT_NOT_EMPTY'));
  });

  test('CLI: export prints one JSON line; a folder without a run is one error line', () => {
    const r = runCli(['export', '--run', source, '--out', join(root, 'bundle-cli')], root);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { checkpoint: string }).checkpoint, 'ckpt-000000008');
    mkdirSync(join(root, 'empty'), { recursive: true });
    assertUserError(runCli(['export', '--run', join(root, 'empty')], root), /^error: --run .*empty: no checkpoint in this folder/);
  });
});
