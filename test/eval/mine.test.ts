// SPDX-License-Identifier: MIT
// MINE (spec §11): a dependent pair (y = x + small noise) gets a clearly higher estimate than an independent
// pair; the split first layer equals the concatenated Linear; ReduceLROnPlateau follows PyTorch's rule; the
// synthetic-folder run gives the official keys; nothing is leaked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as t from '../../src/index.js';
import { type MineSchedule, ReduceLrOnPlateau, estimateMi, mineSchedules, trainMine } from '../../src/eval/mine.js';
import { MineNet } from '../../src/models/mine.js';
import { assertClose } from '../helpers/assertClose.js';
import { writeSyntheticFolder } from '../helpers/syntheticFolder.js';

const tiny: MineSchedule = { ...mineSchedules.fast, size: 8, hidden: 32, iterations: 300, batch: 64, evalEvery: 25, average: 5, lr: 1e-3 };
const count = () => t.memory().liveTensors + t.memory().freedByGc;
let root = '';
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-mine-test-'));
  await writeSyntheticFolder(join(root, 'synth'), 12, 16, 4);
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('MINE', () => {
  test('dependent pair (y = x + noise) ≫ independent pair, in nats; no tensor leaked', async () => {
    const n = 256;
    const d = 4;
    t.manualSeed(9);
    const [x, y, z] = t.keep([t.randn([n, d]), t.randn([n, d]), t.randn([n, d])]);
    const yDep = t.keep(x.add(y.mul(0.1)));
    try {
      const live = count();
      const dep = await trainMine(n, [(idx) => ({ x: x.indexSelect(0, idx), y: yDep.indexSelect(0, idx) })], d, tiny, { seed: 1 });
      const ind = await trainMine(n, [(idx) => ({ x: x.indexSelect(0, idx), y: z.indexSelect(0, idx) })], d, tiny, { seed: 1 });
      assert.equal(count(), live, 'trainMine frees everything it made');
      // True MI of the dependent pair: d/2·log(1 + 1/0.01) ≈ 9.2 nats; MINE's DV bound on 256 samples is far
      // below that but well above the independent pair's (true MI 0).
      assert.ok(dep.average[0] > 1, `dependent ${dep.average[0]}`);
      assert.ok(Math.abs(ind.average[0]) < 0.5, `independent ${ind.average[0]}`);
      assert.ok(dep.average[0] > ind.average[0] + 1);
      assert.equal(dep.history.length, tiny.iterations / tiny.evalEvery);
      assert.equal(dep.skipped, 0);
    } finally {
      t.dispose([x, y, z, yDep]);
    }
  });

  test('scores(): joint and marginal equal forward() on the paired and the re-indexed y', () => {
    const net = new MineNet(6, 5);
    try {
      t.scope(() => {
        const x = t.randn([4, 6]);
        const y = t.randn([4, 6]);
        const j = t.tensor(new BigInt64Array([2n, 2n, 0n, 3n]));
        const s = net.scores(x, y, j);
        assertClose(s.joint, net.forward(x, y), { atol: 1e-6 });
        assertClose(s.marginal, net.forward(x, y.indexSelect(0, j)), { atol: 1e-6 });
        assert.deepEqual(net.numParameters(), 5 * 12 + 5 + 5 + 1);
      });
    } finally {
      net.dispose();
    }
  });

  test('ReduceLROnPlateau (max, rel threshold): lr × factor after more than `patience` evaluations without gain', () => {
    const p = t.keep(t.zeros([1]));
    const opt = new t.Adam([p], { lr: 1 });
    try {
      const s = new ReduceLrOnPlateau(opt, { factor: 0.1, patience: 2, threshold: 1e-4 });
      assert.equal(s.step(1), false); // best 1
      assert.equal(s.step(1.00005), false); // not above 1·(1 + 1e-4): bad 1
      assert.equal(s.step(0.5), false); // bad 2
      assert.equal(s.step(0.9), true); // bad 3 > patience
      assertClose(opt.groups[0].lr, 0.1, { rtol: 1e-12 });
      assert.equal(s.step(2), false); // improvement resets
      assertClose(opt.groups[0].lr, 0.1, { rtol: 1e-12 });
    } finally {
      opt.dispose();
      p.dispose();
    }
  });

  test('estimateMi on a synthetic folder: official keys, finite values, one history entry per evaluation', async () => {
    const live = count();
    const s: MineSchedule = { ...tiny, iterations: 20, evalEvery: 10, average: 20 };
    const r = await estimateMi({ synthetic: join(root, 'synth'), schedule: s });
    assert.equal(count(), live);
    for (const k of ['ave_MI_train1', 'ave_MI_train2', 'ave_MI_train'] as const) assert.ok(Number.isFinite(r[k]), `${k} = ${r[k]}`);
    assert.equal(r.n, 12);
    assert.equal(r.size, 8);
    assert.equal(r.history.separate.length, 2);
    assert.equal(r.history.separate[0].mi.length, 2);
    assert.equal(r.history.single[0].mi.length, 1);
    await assert.rejects(estimateMi({ synthetic: root }), { code: 'ERR_NO_SYNTHETIC' });
    await assert.rejects(estimateMi({ synthetic: join(root, 'synth'), schedule: { ...s, iterations: 5 } }), { code: 'ERR_ARG' });
  });
});
