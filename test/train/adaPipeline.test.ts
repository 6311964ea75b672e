// SPDX-License-Identifier: MIT
// ADA (spec §6) with host-drawn parameters: the generator is reproducible and restorable, each transform's
// matrices have the right form and rate, the device part reproduces known geometry (flips, quarter turns), and
// a call never reads the device back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { AdaPipeline, bgc, colorOnly, type AdaSettings } from '../../src/train/augment/adaPipeline.js';
import { drawAdaTransforms, paddingMargins, identity } from '../../src/train/augment/adaTransforms.js';
import { HostRandom } from '../../src/util/hostRandom.js';
import { noLeak } from '../helpers/noLeak.js';

const none: AdaSettings = {
  ...bgc,
  xflip: 0,
  rotate90: 0,
  xint: 0,
  scale: 0,
  rotate: 0,
  aniso: 0,
  xfrac: 0,
  brightness: 0,
  contrast: 0,
  lumaflip: 0,
  hue: 0,
  saturation: 0,
};

/** A smooth, asymmetric test image batch [n, 3, s, s] in about [−1, 1]. */
function smoothImages(n: number, s: number): t.Tensor {
  return t.scope(() => {
    const yy = t.linspace(-1, 1, s).view([1, 1, s, 1]);
    const xx = t.linspace(-1, 1, s).view([1, 1, 1, s]);
    const phase = t.rand([n, 3, 1, 1]).mul(3);
    return xx.mul(1.3).add(yy.mul(0.7)).add(phase).sin().mul(0.8).add(xx.mul(yy).mul(0.3));
  });
}

describe('HostRandom', () => {
  test('seeded, restorable, and with the right moments', () => {
    const a = new HostRandom(7);
    const b = new HostRandom(7);
    const first = Array.from({ length: 5 }, () => a.uniform());
    assert.deepEqual(
      first,
      Array.from({ length: 5 }, () => b.uniform()),
    );
    assert.notDeepEqual(
      first,
      Array.from({ length: 5 }, () => new HostRandom(8).uniform()),
    );
    const saved = a.state;
    const next = [a.uniform(), a.normal()];
    const c = new HostRandom(123);
    c.state = saved;
    assert.deepEqual([c.uniform(), c.normal()], next);
    assert.throws(() => (c.state = [0, 0, 0, 0]), RangeError);
    let s = 0,
      s2 = 0,
      u = 0,
      lo = 1,
      hi = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const z = a.normal();
      s += z;
      s2 += z * z;
      const v = a.uniform();
      u += v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assert.ok(Math.abs(s / n) < 0.03 && Math.abs(s2 / n - 1) < 0.05, `normal mean ${s / n}, var ${s2 / n}`);
    assert.ok(Math.abs(u / n - 0.5) < 0.01 && lo >= 0 && hi < 1);
  });
});

describe('ADA transforms (host side)', () => {
  test('p = 0 draws identities; each transform at its rate and in its form', () => {
    const rng = new HostRandom(1);
    const id = drawAdaTransforms(bgc, 0, 16, 32, 32, 3, rng);
    for (const g of id.geometric!) assert.deepEqual([...g], [...identity(3)]);
    for (const c of id.colour) assert.deepEqual([...c], [...identity(4)]);

    // xflip alone at p = 1: diag(±1, 1, 1), each sign about half the time.
    const flips = drawAdaTransforms({ ...none, xflip: 1 }, 1, 400, 32, 32, 3, rng).geometric!;
    let neg = 0;
    for (const g of flips) {
      assert.deepEqual(
        [...g].map((v, i) => (i === 0 ? Math.abs(v) : v)),
        [...identity(3)],
      );
      if (g[0] < 0) neg++;
    }
    assert.ok(neg > 150 && neg < 250, `${neg} of 400 flipped`);

    // Integer translation alone at p = 0.5: about half translated, by whole pixels within ±xintMax·size.
    const moves = drawAdaTransforms({ ...none, xint: 1 }, 0.5, 400, 32, 32, 3, rng).geometric!;
    const moved = moves.filter((g) => g[2] !== 0 || g[5] !== 0);
    assert.ok(moved.length > 150 && moved.length < 250, `${moved.length} of 400 translated`);
    for (const g of moved) assert.ok(Number.isInteger(g[2]) && Math.abs(g[2]) <= 4 && Number.isInteger(g[5]) && Math.abs(g[5]) <= 4);

    // Brightness alone: a translation along (1, 1, 1) with std ≈ 0.2.
    const br = drawAdaTransforms({ ...none, brightness: 1 }, 1, 2000, 32, 32, 3, rng);
    assert.equal(br.geometric, null);
    let var_ = 0;
    for (const c of br.colour) {
      assert.ok(c[3] === c[7] && c[7] === c[11]);
      var_ += c[3] * c[3];
    }
    assert.ok(Math.abs(Math.sqrt(var_ / 2000) - 0.2) < 0.02);

    // Hue alone: a rotation about the luma axis, so grey (v, v, v) maps to itself.
    for (const c of drawAdaTransforms({ ...none, hue: 1 }, 1, 20, 32, 32, 3, rng).colour) {
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(c[i * 4] + c[i * 4 + 1] + c[i * 4 + 2] - 1) < 1e-12);
    }
  });

  test('padding margins: the filter support for the identity, clamped to the image', () => {
    assert.deepEqual(paddingMargins([identity(3)], 32, 32, 3), [6, 6, 6, 6]);
    const big = Float64Array.of(4, 0, 0, 0, 4, 0, 0, 0, 1);
    assert.deepEqual(paddingMargins([identity(3), big], 32, 32, 3), [31, 31, 31, 31]);
  });
});

describe('AdaPipeline', () => {
  test('flips and quarter turns reproduce the exact geometry; no host reads; gradients reach the images', () => {
    noLeak(() =>
      t.scope(() => {
        t.manualSeed(3);
        const x = smoothImages(8, 32).requiresGrad_(true);
        for (const [settings, candidates] of [
          [{ ...none, xflip: 1 }, (v: t.Tensor) => [v, v.flip([3])]],
          [{ ...none, rotate90: 1 }, (v: t.Tensor) => [v, v.transpose(2, 3).flip([2]), v.flip([2, 3]), v.transpose(2, 3).flip([3])]],
        ] as const) {
          const aug = new AdaPipeline(settings, 'cpu', 5);
          aug.p = 1;
          const reads = t.hostReads();
          const y = aug.forward(x);
          assert.equal(t.hostReads(), reads, 'forward read the device back');
          // Each sample equals one of the candidate transforms of its input (away from the border, where the
          // resampling filter meets the reflect padding).
          const inner = (v: t.Tensor) => v.narrow(2, 4, 24).narrow(3, 4, 24);
          for (let n = 0; n < 8; n++) {
            const yn = inner(y.narrow(0, n, 1));
            const best = Math.min(...candidates(x.narrow(0, n, 1)).map((c) => yn.sub(inner(c)).abs().amax().item()));
            assert.ok(best < 0.02, `sample ${n}: off by ${best}`);
          }
          const [g] = t.grad([y.square().sum()], [x]);
          assert.ok(g!.abs().sum().item() > 0);
          aug.dispose();
        }
      }),
    );
  });

  test('the generator state restores the same augmentation; p = 0 is the identity', () => {
    const a = new AdaPipeline(bgc, 'cpu', 9);
    const b = new AdaPipeline(bgc, 'cpu', 1);
    a.p = b.p = 0.6;
    noLeak(() =>
      t.scope(() => {
        const x = smoothImages(4, 32);
        a.forward(x);
        b.rngState = a.rngState;
        assert.equal(a.forward(x).sub(b.forward(x)).abs().amax().item(), 0);
        a.p = 0;
        assert.equal(a.forward(x), x);
      }),
    );
    a.dispose();
    b.dispose();
  });

  test('grey images get the mean colour transform', () => {
    const aug = new AdaPipeline({ ...colorOnly, hue: 0, saturation: 0, lumaflip: 0 }, 'cpu', 2);
    aug.p = 1;
    noLeak(() =>
      t.scope(() => {
        const x = t.rand([4, 1, 8, 8]);
        const y = aug.forward(x);
        // brightness + contrast only: y = a·x + b per sample.
        for (let n = 0; n < 4; n++) {
          const xs = x.narrow(0, n, 1).flatten().toArray();
          const ys = y.narrow(0, n, 1).flatten().toArray();
          const a = (ys[1] - ys[0]) / (xs[1] - xs[0]);
          const b = ys[0] - a * xs[0];
          for (let i = 0; i < xs.length; i++) assert.ok(Math.abs(a * xs[i] + b - ys[i]) < 1e-4);
        }
      }),
    );
    aug.dispose();
  });
});
