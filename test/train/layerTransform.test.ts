// SPDX-License-Identifier: MIT
// Tx (spec §4, §17): integer shifts of the foreground layer and mask, zero fill, round half to even, per-sample
// shifts, gradients only to the pixels that stay in frame; the trainer's perturbation leaves bg untouched and
// recomposes with the shifted mask.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { composite } from '../../src/models/layeredGenerator.js';
import { drawShiftEps, shiftLayers } from '../../src/train/layerTransform.js';
import { IlsTrainer } from '../../src/train/trainer.js';
import { presets } from '../../src/models/config.js';
import { defaultTrainOptions } from '../../src/train/options.js';
import { assertClose } from '../helpers/assertClose.js';
import { noLeak } from '../helpers/noLeak.js';

/** torch.round: half to even. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Pixel-loop reference of §4: out(y, x) = in(y − ty, x − tx) in bounds, else 0; (tx, ty) = round(0.125·ε·S). */
function referenceShift(x: number[], shape: readonly number[], eps: number[][], xintMax = 0.125): number[] {
  const [n, c, h, w] = shape;
  const out = new Array(x.length).fill(0);
  for (let b = 0; b < n; b++) {
    const tx = roundHalfEven(xintMax * eps[b][0] * w);
    const ty = roundHalfEven(xintMax * eps[b][1] * w);
    for (let k = 0; k < c; k++) {
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++) {
          const sy = y - ty;
          const sx = xx - tx;
          if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
          out[((b * c + k) * h + y) * w + xx] = x[((b * c + k) * h + sy) * w + sx];
        }
      }
    }
  }
  return out;
}

/** Distinct non-zero values so a zero in the output can only come from the fill. */
function ramp(shape: readonly number[]): t.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return t.arange(n, undefined, 1, { dtype: 'float32' }).add(1).reshape(shape);
}

function at(x: number[], shape: readonly number[], b: number, c: number, y: number, xx: number): number {
  const [, cs, h, w] = shape;
  return x[((b * cs + c) * h + y) * w + xx];
}

describe('shiftLayers (Tx)', () => {
  const S = 64;

  test('ε = (1, 0) at S = 64: content moves 8 px right, columns 0–7 become zero', () => {
    noLeak(() =>
      t.scope(() => {
        const shape = [1, 4, S, S];
        const x = ramp(shape);
        const out = shiftLayers(x, t.tensor([[1, 0]])).toArray();
        const xin = x.toArray();
        for (let c = 0; c < 4; c++) {
          for (let y = 0; y < S; y++) {
            for (let col = 0; col < S; col++) {
              const want = col < 8 ? 0 : at(xin, shape, 0, c, y, col - 8);
              assert.equal(at(out, shape, 0, c, y, col), want, `c ${c} y ${y} x ${col}`);
            }
          }
        }
      }),
    );
  });

  test('ε = (0, 1) moves 8 px down (rows 0–7 zero); ε = (0, −1) moves 8 px up (rows 56–63 zero)', () => {
    noLeak(() =>
      t.scope(() => {
        const shape = [2, 1, S, S];
        const x = ramp(shape);
        const out = shiftLayers(
          x,
          t.tensor([
            [0, 1],
            [0, -1],
          ]),
        ).toArray();
        const xin = x.toArray();
        for (let y = 0; y < S; y++) {
          for (let col = 0; col < S; col++) {
            assert.equal(at(out, shape, 0, 0, y, col), y < 8 ? 0 : at(xin, shape, 0, 0, y - 8, col));
            assert.equal(at(out, shape, 1, 0, y, col), y >= S - 8 ? 0 : at(xin, shape, 1, 0, y + 8, col));
          }
        }
      }),
    );
  });

  test('negative and fractional ε, one shift per sample, round half to even, zero ε is the identity', () => {
    noLeak(() =>
      t.scope(() => {
        const shape = [6, 2, S, S];
        // 8ε: (−8, 3), (−4, −2.5→−2), (2.5→2, 1.5→2), (0.4→0, −0.6→−1), (0, 0),
        // (−1 → −8, 0.0625·8 = 0.5 → 0)
        const eps = [
          [-1, 0.375],
          [-0.5, -0.3125],
          [0.3125, 0.1875],
          [0.05, -0.075],
          [0, 0],
          [-1, 0.0625],
        ];
        const x = ramp(shape);
        const out = shiftLayers(x, t.tensor(eps));
        assertClose(out, referenceShift(x.toArray(), shape, eps), { rtol: 0, atol: 0 });
        // Spot checks of the rounding itself: sample 1 (tx −4, ty −2), sample 2 (tx 2, ty 2).
        const o = out.toArray();
        const xin = x.toArray();
        assert.equal(at(o, shape, 1, 0, 10, 10), at(xin, shape, 1, 0, 12, 14));
        assert.equal(at(o, shape, 2, 1, 10, 10), at(xin, shape, 2, 1, 8, 8));
        assert.equal(at(o, shape, 2, 1, 1, 10), 0);
        assertClose(out.select(0, 4), x.select(0, 4), { rtol: 0, atol: 0 });
      }),
    );
  });

  test('random ε from drawShiftEps: within [−1, 1], shifts within ±8 px, equal to the reference', () => {
    noLeak(() =>
      t.scope(() => {
        t.manualSeed(3);
        const shape = [16, 4, S, S];
        const eps = drawShiftEps(16, 'cpu');
        assert.deepEqual(eps.shape, [16, 2]);
        const e = eps.toArray();
        assert.ok(e.every((v) => v >= -1 && v <= 1));
        const x = t.randn(shape);
        const epsRows = Array.from({ length: 16 }, (_, i) => [e[2 * i], e[2 * i + 1]]);
        assertClose(shiftLayers(x, eps), referenceShift(x.toArray(), shape, epsRows), { rtol: 0, atol: 0 });
      }),
    );
  });

  test('at S = 128 the range is ±16 px', () => {
    noLeak(() =>
      t.scope(() => {
        const shape = [2, 1, 128, 128];
        const x = ramp(shape);
        const out = shiftLayers(
          x,
          t.tensor([
            [1, -1],
            [-1, 1],
          ]),
        ).toArray();
        const xin = x.toArray();
        assert.equal(at(out, shape, 0, 0, 50, 15), 0);
        assert.equal(at(out, shape, 0, 0, 50, 16), at(xin, shape, 0, 0, 66, 0));
        assert.equal(at(out, shape, 0, 0, 111, 20), at(xin, shape, 0, 0, 127, 4));
        assert.equal(at(out, shape, 0, 0, 112, 20), 0);
        assert.equal(at(out, shape, 1, 0, 16, 111), at(xin, shape, 1, 0, 0, 127));
        assert.equal(at(out, shape, 1, 0, 15, 50), 0);
      }),
    );
  });

  test('gradients flow back to the input, only at the positions that stay in frame', () => {
    noLeak(() =>
      t.scope(() => {
        const shape = [3, 2, S, S];
        const eps = [
          [1, 0],
          [-0.5, 0.25],
          [0.3, -0.9],
        ];
        const x = t.randn(shape, { dtype: 'float64', requiresGrad: true });
        const wts = t.randn(shape, { dtype: 'float64' });
        shiftLayers(x, t.tensor(eps, { dtype: 'float64' }))
          .mul(wts)
          .sum()
          .backward();
        const g = (x.grad as t.Tensor).toArray();
        const wv = wts.toArray();
        // ∂/∂in(y, x) = w(y + ty, x + tx) when (y + ty, x + tx) is in frame, else 0.
        const [n, c, h, w] = shape;
        let zeros = 0;
        for (let b = 0; b < n; b++) {
          const tx = roundHalfEven(0.125 * eps[b][0] * w);
          const ty = roundHalfEven(0.125 * eps[b][1] * w);
          for (let k = 0; k < c; k++) {
            for (let y = 0; y < h; y++) {
              for (let xx = 0; xx < w; xx++) {
                const dy = y + ty;
                const dx = xx + tx;
                const inFrame = dy >= 0 && dy < h && dx >= 0 && dx < w;
                const want = inFrame ? wv[((b * c + k) * h + dy) * w + dx] : 0;
                if (!inFrame) zeros++;
                const got = g[((b * c + k) * h + y) * w + xx];
                if (Math.abs(got - want) > 1e-12) assert.fail(`grad at b ${b} c ${k} y ${y} x ${xx}: ${got} vs ${want}`);
              }
            }
          }
        }
        assert.ok(zeros > 0);
      }),
    );
  });
});

describe('the trainer perturbation', () => {
  test('shifts fg and mask by the same ε, leaves bg unchanged, recomposes with the shifted mask', () => {
    noLeak(() => {
      const trainer = new IlsTrainer(presets.tiny32, { ...defaultTrainOptions, batch: 4 });
      try {
        t.scope(() => {
          const s = 32;
          const layers = t.noGrad(() => trainer.G.forward(t.randn([4, 512]), 'const'));
          t.manualSeed(11);
          const pert = trainer.perturb(layers);
          t.manualSeed(11);
          const eps = drawShiftEps(4, 'cpu').toArray();
          const epsRows = Array.from({ length: 4 }, (_, i) => [eps[2 * i], eps[2 * i + 1]]);
          assertClose(pert.fg, referenceShift(layers.fg.toArray(), [4, 3, s, s], epsRows), { rtol: 0, atol: 0 });
          assertClose(pert.mask, referenceShift(layers.mask.toArray(), [4, 1, s, s], epsRows), { rtol: 0, atol: 0 });
          // img' = (1 − m')·bg + m'·fg' with the original bg.
          const m = pert.mask.toArray();
          const fg = pert.fg.toArray();
          const bg = layers.bg.toArray();
          const hw = s * s;
          const want = bg.map((b, i) => {
            const mv = m[Math.floor(i / (3 * hw)) * hw + (i % hw)];
            return (1 - mv) * b + mv * fg[i];
          });
          assertClose(pert.img, want, { rtol: 1e-5, atol: 1e-5 });
          // Where the mask was shifted out (zero fill), the composite is the background itself.
          const outside = pert.mask.eq(0).expand([-1, 3, -1, -1]);
          assert.ok(outside.sum().item() > 0);
          assertClose(pert.img.maskedSelect(outside), layers.bg.maskedSelect(outside), { rtol: 0, atol: 0 });
          assertClose(composite(layers.bg, layers.fg, layers.mask), layers.img, { rtol: 1e-6, atol: 1e-6 });
        });
      } finally {
        trainer.dispose();
      }
    });
  });

  test('perturb off: the layers pass through', () => {
    noLeak(() => {
      const trainer = new IlsTrainer(presets.tiny32, { ...defaultTrainOptions, batch: 4, perturb: false });
      try {
        t.scope(() => {
          const layers = t.noGrad(() => trainer.G.forward(t.randn([2, 512]), 'const'));
          const pert = trainer.perturb(layers);
          assertClose(pert.img, layers.img, { rtol: 0, atol: 0 });
          assertClose(pert.mask, layers.mask, { rtol: 0, atol: 0 });
        });
      } finally {
        trainer.dispose();
      }
    });
  });
});
