// SPDX-License-Identifier: MIT
// Training hyper-parameters (spec §7, §8, §16, §17): the defaults, the lazy-regularisation Adam correction, R1 γ,
// and that IlsTrainer builds its optimisers and γ from them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { presets } from '../../src/models/config.js';
import { defaultTrainOptions, lazyAdam, r1GammaFor } from '../../src/train/options.js';
import { IlsTrainer } from '../../src/train/trainer.js';
import * as t from '../../src/index.js';
import { assertClose } from '../helpers/assertClose.js';
import { noLeak } from '../helpers/noLeak.js';

describe('lazy-regularisation Adam correction (c = I/(I + 1))', () => {
  test('G, interval 4: lr 0.0025·4/5 = 0.002, β2 = 0.99^(4/5) ≈ 0.99199, β1 = 0 stays 0', () => {
    const g = lazyAdam(0.0025, [0, 0.99], 4);
    assertClose(g.lr, 0.002, { rtol: 1e-12, atol: 0 });
    assertClose(g.betas[1], Math.exp((4 / 5) * Math.log(0.99)), { rtol: 1e-12, atol: 0 });
    assert.equal(g.betas[0], 0);
    assert.equal(g.betas[1].toFixed(5), '0.99199'); // the spec's rounded value
  });

  test('D, interval 16: lr 0.0025·16/17 ≈ 0.0023529, β2 = 0.99^(16/17) ≈ 0.99058', () => {
    const d = lazyAdam(0.0025, [0, 0.99], 16);
    assertClose(d.lr, (0.0025 * 16) / 17, { rtol: 1e-12, atol: 0 });
    assert.equal(d.lr.toFixed(7), '0.0023529');
    assertClose(d.betas[1], Math.exp((16 / 17) * Math.log(0.99)), { rtol: 1e-12, atol: 0 });
    assert.ok(Math.abs(d.betas[1] - 0.99058) < 1e-5); // the spec's (truncated) value; 0.9905854…
    assert.equal(d.betas[0], 0);
  });

  test('a non-zero β1 is corrected too (β1^c), as upstream does', () => {
    const o = lazyAdam(0.01, [0.5, 0.9], 1);
    assertClose(o.lr, 0.005, { rtol: 1e-12, atol: 0 });
    assertClose(o.betas[0], Math.sqrt(0.5), { rtol: 1e-12, atol: 0 });
    assertClose(o.betas[1], Math.sqrt(0.9), { rtol: 1e-12, atol: 0 });
  });
});

describe('R1 γ = 0.0002·S²/N', () => {
  test('0.0256 at 64/32, 0.1024 at 128/32; batch and resolution enter; an explicit γ wins', () => {
    const o = { ...defaultTrainOptions, batch: 32 };
    assertClose(r1GammaFor(o, 64), 0.0256, { rtol: 1e-12, atol: 0 });
    assertClose(r1GammaFor(o, 128), 0.1024, { rtol: 1e-12, atol: 0 });
    assertClose(r1GammaFor({ ...o, batch: 4 }, 32), (0.0002 * 32 * 32) / 4, { rtol: 1e-12, atol: 0 });
    assertClose(r1GammaFor({ ...o, batch: 16 }, 64), 0.0512, { rtol: 1e-12, atol: 0 });
    assert.equal(r1GammaFor({ ...o, r1Gamma: 0.5 }, 64), 0.5);
    assert.equal(r1GammaFor({ ...o, r1Gamma: 0 }, 64), 0);
  });
});

describe('defaults (spec §7 table, §8, §16)', () => {
  test('the official values', () => {
    const o = defaultTrainOptions;
    assert.equal(o.batch, 32);
    assert.equal(o.gLr, 0.0025);
    assert.equal(o.dLr, 0.0025);
    assert.deepEqual(o.betas, [0, 0.99]);
    assert.equal(o.eps, 1e-8);
    assert.equal(o.gRegInterval, 4);
    assert.equal(o.dRegInterval, 16);
    assert.equal(o.r1Gamma, null);
    assert.equal(o.emaKimg, null); // → N·10/32
    assert.equal(o.emaRampup, 0.05);
    assert.equal(o.ada, true);
    assert.equal(o.adaTarget, 0.6);
    assert.equal(o.adaInterval, 4);
    assert.equal(o.adaKimg, 500);
    assert.equal(o.adaInitialP, 0);
    assert.equal(o.ils, true);
    assert.equal(o.ilsDistribution, 'laplace');
    assert.equal(o.ilsSchedule, 'allTime');
    assert.equal(o.ilsInitialSigma, 0.2);
    assert.equal(o.ilsSigma, 1.0);
    assert.equal(o.ilsSwitchKimg, 400);
    assert.equal(o.ilsNegWeight, 1);
    assert.equal(o.binWeight, 2);
    assert.equal(o.msizeWeight, 2);
    assert.equal(o.minMaskSize, 0.25);
    assert.equal(o.maxMaskSize, null);
    assert.equal(o.perturb, true);
    assert.equal(o.xintMax, 0.125);
  });
});

describe('IlsTrainer uses them', () => {
  test('optG / optD hyper-parameters, one group over all of G / D, and γ', () => {
    noLeak(() => {
      const trainer = new IlsTrainer(presets.tiny32, { ...defaultTrainOptions, batch: 4 });
      try {
        const [g] = trainer.optG.groups;
        const [d] = trainer.optD.groups;
        assert.equal(trainer.optG.groups.length, 1);
        assert.equal(trainer.optD.groups.length, 1);
        assertClose(g.lr, 0.002, { rtol: 1e-12, atol: 0 });
        assertClose(g.betas[1], 0.99 ** 0.8, { rtol: 1e-12, atol: 0 });
        assert.equal(g.betas[0], 0);
        assert.equal(g.eps, 1e-8);
        assert.equal(g.weightDecay, 0);
        assertClose(d.lr, (0.0025 * 16) / 17, { rtol: 1e-12, atol: 0 });
        assertClose(d.betas[1], 0.99 ** (16 / 17), { rtol: 1e-12, atol: 0 });
        assert.equal(d.betas[0], 0);
        assert.equal(d.eps, 1e-8);
        // The groups hold exactly G's and D's parameters (not G_ema's).
        assert.deepEqual(new Set(g.params), new Set(trainer.G.parameters()));
        assert.deepEqual(new Set(d.params), new Set(trainer.D.parameters()));
        assert.equal(g.params.length, trainer.G.parameters().length);
        for (const p of trainer.Gema.parameters()) assert.ok(!g.params.includes(p));
        assertClose(trainer.r1Gamma, (0.0002 * 32 * 32) / 4, { rtol: 1e-12, atol: 0 });
        // G_ema starts equal to G and is frozen.
        t.scope(() => {
          const ge = new Map(trainer.Gema.stateDict());
          for (const [k, v] of trainer.G.stateDict())
            assert.equal(
              v
                .sub(ge.get(k) as t.Tensor)
                .abs()
                .sum()
                .item(),
              0,
              k,
            );
        });
        assert.ok(trainer.Gema.parameters().every((p) => !p.requiresGrad));
        assert.equal(trainer.Gema.training, false);
      } finally {
        trainer.dispose();
      }
    });
  });

  test('the first G and D steps move each parameter by lr·g/(|g| + ε) (Adam, β1 = 0, bias-corrected)', () => {
    noLeak(() => {
      t.manualSeed(40);
      const trainer = new IlsTrainer(presets.tiny32, { ...defaultTrainOptions, batch: 4 });
      try {
        const check = (params: t.Tensor[], lr: number, run: () => void, name: string) =>
          t.scope(() => {
            const before = params.map((p) => p.toArray());
            run();
            let moved = 0;
            params.forEach((p, k) => {
              const g = p.grad === null ? null : p.grad.toArray();
              const after = p.toArray();
              after.forEach((v, i) => {
                const gi = g === null ? 0 : g[i];
                const want = before[k][i] - (lr * gi) / (Math.abs(gi) + 1e-8);
                if (Math.abs(v - want) > 2e-7 + 1e-6 * Math.abs(want)) assert.fail(`${name} param ${k}[${i}]: ${v} vs ${want}`);
                if (Math.abs(v - before[k][i]) > lr / 2) moved++;
              });
            });
            assert.ok(moved > 1000, `${name}: ${moved} elements moved by about lr`);
          });
        check(trainer.G.parameters(), 0.002, () => trainer.gMain(4), 'G');
        t.scope(() => {
          const reals = t.rand([4, 3, 32, 32]).mul(2).sub(1);
          check(trainer.D.parameters(), (0.0025 * 16) / 17, () => trainer.dMain(reals), 'D');
        });
      } finally {
        trainer.dispose();
      }
    });
  });

  test('other base values are corrected the same way; an explicit γ is used', () => {
    noLeak(() => {
      const trainer = new IlsTrainer(presets.tiny32, {
        ...defaultTrainOptions,
        batch: 8,
        gLr: 0.01,
        dLr: 0.02,
        gRegInterval: 1,
        r1Gamma: 0.3,
      });
      try {
        assertClose(trainer.optG.groups[0].lr, 0.005, { rtol: 1e-12, atol: 0 });
        assertClose(trainer.optG.groups[0].betas[1], Math.sqrt(0.99), { rtol: 1e-12, atol: 0 });
        assertClose(trainer.optD.groups[0].lr, (0.02 * 16) / 17, { rtol: 1e-12, atol: 0 });
        assert.equal(trainer.r1Gamma, 0.3);
      } finally {
        trainer.dispose();
      }
    });
  });
});
