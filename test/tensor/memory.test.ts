// SPDX-License-Identifier: MIT
// Deterministic release: a long training loop keeps flat RSS and a flat live-tensor count; scopes free what
// they should and nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as t from '../../src/index.js';
import { noLeak } from '../helpers/noLeak.js';

test('scope frees temporaries, returns results to the parent, and honours keep', () => {
  const before = t.memory().liveTensors;
  let kept: t.Tensor | undefined;
  const out = t.scope(() => {
    const a = t.randn([4]);
    const b = a.mul(2);
    kept = t.keep(b.add(1));
    return { sum: b.sum(), parts: [b.neg()] };
  });
  assert.equal(t.memory().liveTensors, before + 3); // sum, parts[0], kept
  assert.equal(out.sum.isDisposed, false);
  t.dispose([out, kept]);
  assert.equal(t.memory().liveTensors, before);
});

test('nested scopes move returned tensors one level up only', () => {
  noLeak(() => {
    const outer = t.scope(() => {
      const inner = t.scope(() => t.ones([2]).mul(3));
      const tmp = inner.add(1);
      assert.equal(tmp.isDisposed, false);
      return inner;
    });
    assert.deepEqual(outer.toArray(), [3, 3]);
    outer.dispose();
  });
});

test('a scope that throws frees everything it created', () => {
  noLeak(() => {
    assert.throws(
      () =>
        t.scope(() => {
          t.randn([3]);
          throw new Error('boom');
        }),
      /boom/,
    );
  });
});

test('dispose is idempotent and use after dispose throws ERR_DISPOSED', () => {
  const x = t.zeros([2]);
  x.dispose();
  x.dispose();
  assert.throws(() => x.add(1), { code: 'ERR_DISPOSED' });
});

test('autograd keeps what it saved alive after the forward scope frees its handles', () => {
  noLeak(() => {
    const w = t.tensor([1, 2, 3], { requiresGrad: true });
    const loss = t.scope(() => w.mul(w).mul(w).sum()); // intermediates' handles are gone
    loss.backward();
    const g = w.grad as t.Tensor;
    assert.deepEqual(g.toArray(), [3, 12, 27]);
    t.dispose([w, loss, g]);
  });
});

test('10 000 training steps keep RSS and live tensors flat', () => {
  t.manualSeed(0);
  const w1 = t.keep(t.randn([16, 8]).mul(0.3).requiresGrad_());
  const b1 = t.keep(t.zeros([16]).requiresGrad_());
  const w2 = t.keep(t.randn([1, 16]).mul(0.3).requiresGrad_());
  const params = [w1, b1, w2];
  const opt = new t.Adam(params, { lr: 1e-3, betas: [0, 0.99] });
  const ema = new t.Ema(params);
  const x = t.keep(t.randn([32, 8]));
  const y = t.keep(t.randn([32, 1]));
  const step = () =>
    t.scope(() => {
      const h = t.nn.linear(x, w1, b1).leakyRelu(0.2);
      const loss = t.nn.linear(h, w2).sub(y).square().mean();
      opt.zeroGrad();
      loss.backward();
      t.sanitizeGrads(params);
      opt.step();
      ema.update(0.99);
      return loss.item();
    });
  for (let i = 0; i < 1000; i++) step(); // warm-up: allocator pools, JIT, V8 heap growth
  const live0 = t.memory().liveTensors;
  const rss0 = process.memoryUsage().rss;
  let last = 0;
  for (let i = 0; i < 10_000; i++) last = step();
  const growthMb = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(Number.isFinite(last));
  assert.equal(t.memory().liveTensors, live0, 'live tensors grew');
  assert.equal(t.memory().freedByGc, 0, 'something relied on the GC backstop');
  assert.ok(growthMb < 8, `RSS grew by ${growthMb.toFixed(1)} MB over 10 000 steps`);
  opt.dispose();
  ema.dispose();
  t.dispose([...params, x, y]);
});
