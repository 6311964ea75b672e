// SPDX-License-Identifier: MIT
// Adam and EMA: the update matches torch.optim.Adam's formula (computed here in float64), a parameter without a
// gradient keeps its state, and the multi-tensor (_foreach_) path gives the same values as the per-parameter loop.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { noLeak } from '../helpers/noLeak.js';

/** Three parameters, the middle one never receiving a gradient; `steps` Adam steps on a fixed quadratic loss. */
function run(foreach: boolean, steps: number, weightDecay: number): number[][] {
  t.manualSeed(4);
  const ps = t.keep([t.randn([5]), t.randn([2, 3]), t.randn([4])]).map((p) => p.requiresGrad_(true));
  const opt = new t.Adam(ps, { lr: 0.05, betas: [0.5, 0.9], eps: 1e-8, weightDecay });
  opt.foreach = foreach;
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    t.scope(() =>
      ps[0]
        .mul(s + 1)
        .sin()
        .sum()
        .add(ps[2].square().mul(ps[2]).sum())
        .backward(),
    );
    opt.step();
  }
  opt.zeroGrad();
  const out = t.scope(() => [
    ...ps.map((p) => p.detach().toArray()),
    ...opt.groups[0].expAvgSq.map((v) => v.toArray()),
    [...opt.groups[0].steps],
  ]);
  t.dispose([...ps, ...opt.groups[0].expAvg, ...opt.groups[0].expAvgSq]);
  return out;
}

describe('Adam', () => {
  test('foreach and per-parameter loop agree exactly; a parameter without a gradient is skipped', () => {
    noLeak(() => {
      for (const wd of [0, 0.1]) {
        const a = run(false, 4, wd);
        const b = run(true, 4, wd);
        assert.deepEqual(a, b);
        assert.deepEqual(a.at(-1), [4, 0, 4]);
      }
    });
  });

  test('one step equals the torch.optim.Adam formula', () => {
    noLeak(() =>
      t.scope(() => {
        const p0 = [0.3, -1.2, 2.5];
        const g = [0.5, -0.25, 4];
        for (const foreach of [false, true]) {
          const p = t.keep(t.tensor(p0)).requiresGrad_(true);
          const opt = new t.Adam([p], { lr: 0.01, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.2 });
          opt.foreach = foreach;
          for (let step = 1; step <= 2; step++) {
            opt.zeroGrad();
            t.scope(() => p.mul(t.tensor(g)).sum().backward());
            opt.step();
          }
          // Two steps of the formula in float64 (the gradient is constant, so both steps see g + wd·p).
          const want = p0.map((x0, i) => {
            let x = x0,
              m = 0,
              v = 0;
            for (let step = 1; step <= 2; step++) {
              const gi = g[i] + 0.2 * x;
              m = 0.9 * m + 0.1 * gi;
              v = 0.99 * v + 0.01 * gi * gi;
              x -= (0.01 / (1 - 0.9 ** step)) * (m / (Math.sqrt(v) / Math.sqrt(1 - 0.99 ** step) + 1e-8));
            }
            return x;
          });
          const got = t.scope(() => p.detach().toArray());
          for (let i = 0; i < 3; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-6, `${foreach}: ${got[i]} vs ${want[i]}`);
          opt.zeroGrad();
          t.dispose([p, ...opt.groups[0].expAvg, ...opt.groups[0].expAvgSq]);
        }
      }),
    );
  });
});

describe('sanitizeGrads', () => {
  test('NaN → 0 and ±inf → ±1e5 in every gradient, shapes kept, missing gradients left missing', () => {
    for (const flat of [false, true]) {
      noLeak(() =>
        t.scope(() => {
          const a = t.zeros([2, 3]).requiresGrad_(true);
          const b = t.zeros([4]).requiresGrad_(true);
          const c = t.zeros([5]).requiresGrad_(true); // gets no gradient
          const bad = t.tensor([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, 2, 3]).reshape([2, 3]);
          a.mul(bad)
            .sum()
            .add(b.mul(t.tensor([1, Number.NaN, 5, -1])).sum())
            .backward();
          t.sanitizeGrads([a, b, c], 0, 1e5, -1e5, flat);
          assert.deepEqual(a.grad!.shape, [2, 3]);
          assert.deepEqual(a.grad!.flatten().toArray(), [0, 1e5, -1e5, 1, 2, 3]);
          assert.deepEqual(b.grad!.toArray(), [1, 0, 5, -1]);
          assert.equal(c.grad, null);
          // Each gradient can still be updated on its own (views of one buffer, not aliases of each other).
          const opt = new t.Adam([a, b, c], { lr: 0.1 });
          opt.step();
          assert.ok(a.detach().flatten().toArray().every(Number.isFinite));
          assert.deepEqual(c.detach().toArray(), [0, 0, 0, 0, 0]);
          opt.zeroGrad();
          t.dispose([...opt.groups[0].expAvg, ...opt.groups[0].expAvgSq]);
        }),
      );
    }
  });
});

describe('Ema', () => {
  test('the multi-tensor update (where libtorch has it) equals the per-tensor one', () => {
    noLeak(() =>
      t.scope(() => {
        const src = [t.randn([7]), t.randn([3, 2])];
        const results = [false, true].map((foreach) => {
          const ema = new t.Ema(
            src,
            [t.zeros([7]), t.ones([3, 2])].map((x) => x.mul(0.5)),
          );
          ema.foreach = foreach;
          ema.update(0.9);
          return ema.shadow.map((s) => s.toArray());
        });
        assert.deepEqual(results[0], results[1]);
      }),
    );
  });
});
