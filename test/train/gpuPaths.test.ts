// SPDX-License-Identifier: MIT
// Mixed precision (spec §3.7): the top numFp16Res resolutions run in a reduced dtype (bfloat16 here, since the
// CPU has no half-precision convolutions; float16 on a GPU), outputs and gradients stay float32, and a few
// training iterations give the float32 losses within a tolerance. And the GPU-relevant property the CPU can
// check: an iteration reads nothing back from the device except ADA's sign every adaInterval iterations.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { fp16Resolution, presets } from '../../src/models/config.js';
import { defaultTrainOptions, lowPrecisionDtype } from '../../src/train/options.js';
import { IlsTrainer } from '../../src/train/trainer.js';

const net = { ...presets.tiny32, channelBase: 8 * 32, channelMax: 8 };

describe('device reads', () => {
  test('training iterations read nothing back but the ADA sign every adaInterval iterations', () => {
    t.manualSeed(0);
    const tr = new IlsTrainer(net, { ...defaultTrainOptions, batch: 8, adaInitialP: 0.2 });
    const reals = t.keep(t.rand([8, 3, 32, 32]).mul(2).sub(1));
    try {
      const before = t.hostReads();
      for (let i = 0; i < 8; i++) tr.step(reals); // iteration 0 has R1 (Dreg); ADA p is adapted at 4 and 8
      assert.equal(t.hostReads() - before, 8 / defaultTrainOptions.adaInterval);
    } finally {
      reals.dispose();
      tr.dispose();
    }
  });
});

describe('mixed precision', () => {
  test('which resolutions and which dtype', () => {
    assert.equal(fp16Resolution(presets.ils64), 8);
    assert.equal(fp16Resolution(presets.ils128), 16);
    assert.equal(fp16Resolution({ ...presets.ils64, numFp16Res: 0 }), Infinity);
    assert.equal(fp16Resolution({ ...presets.ils64, numFp16Res: undefined }), Infinity);
    assert.equal(lowPrecisionDtype('auto', 'cpu'), null);
    assert.equal(lowPrecisionDtype(undefined, 'cuda'), 'float16');
    assert.equal(lowPrecisionDtype('fp32', 'cuda'), null);
    assert.equal(lowPrecisionDtype('bfloat16', 'cpu'), 'bfloat16');
    assert.throws(() => lowPrecisionDtype('half' as never, 'cpu'), RangeError);
  });

  test('reduced blocks inside, float32 outside; losses match float32 within tolerance', () => {
    const losses: Record<string, number>[][] = [];
    for (const precision of ['fp32', 'bfloat16'] as const) {
      t.manualSeed(0);
      const tr = new IlsTrainer(net, { ...defaultTrainOptions, batch: 8, adaInitialP: 0.2, adaFixed: true, precision });
      try {
        const low = precision === 'bfloat16' ? 'bfloat16' : null;
        assert.deepEqual(
          tr.G.bg.synthesis.blocks.map((b) => b.lowDtype),
          [null, low, low, low],
        ); // b4 … b32
        assert.deepEqual(
          tr.D.blocks.map((b) => b.lowDtype),
          [low, low, low],
        ); // b32, b16, b8
        assert.ok(
          tr.Gema.bg.synthesis.blocks.every((b) => b.lowDtype === null),
          'G_ema stays float32',
        );
        t.scope(() => {
          const layers = tr.G.forward(t.randn([8, net.zDim]));
          for (const k of ['bg', 'fg', 'mask', 'img'] as const) assert.equal(layers[k].dtype, 'float32', k);
          assert.equal(tr.D.forward(layers.img).dtype, 'float32');
        });
        const reals = t.keep(t.rand([8, 3, 32, 32]).mul(2).sub(1));
        const run: Record<string, number>[] = [];
        for (let i = 0; i < 2; i++) {
          tr.step(reals);
          run.push(tr.stats.read());
        }
        reals.dispose();
        for (const p of [...tr.G.parameters(), ...tr.D.parameters()]) assert.equal(p.dtype, 'float32');
        losses.push(run);
      } finally {
        tr.dispose();
      }
    }
    const [ref, low] = losses;
    for (let i = 0; i < ref.length; i++) {
      for (const [k, v] of Object.entries(ref[i])) {
        assert.ok(Number.isFinite(low[i][k]), `${k} not finite`);
        assert.ok(Math.abs(low[i][k] - v) <= 0.02 + 0.05 * Math.abs(v), `${k} at ${i}: fp32 ${v}, bfloat16 ${low[i][k]}`);
      }
    }
    // Not identical: the reduced path really ran.
    assert.notEqual(low[0]['Loss/G/adv'], ref[0]['Loss/G/adv']);
  });
});
