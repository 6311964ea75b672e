// SPDX-License-Identifier: MIT
// R1 (spec §7.3): the penalty is ‖∂ΣD(x)/∂x_n‖² per sample — checked against central differences of a small
// float64 Discriminator (every input element) — and its gradient w.r.t. D's parameters (double backward) matches
// finite differences of the penalty.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import type { NetworkConfig } from '../../src/models/config.js';
import { Discriminator } from '../../src/models/discriminator.js';
import { r1Penalty } from '../../src/train/loss/r1.js';
import { assertClose } from '../helpers/assertClose.js';
import { noLeak } from '../helpers/noLeak.js';

/** A very small D (channels 2–4) at the smallest allowed resolution; mbstd groups of 2 couple the samples. */
const tinyD: NetworkConfig = {
  resolution: 32,
  zDim: 8,
  wDim: 8,
  mappingLayers: 1,
  mappingLrMultiplier: 0.01,
  channelBase: 64,
  channelMax: 4,
  convClamp: 256,
  mbstdGroupSize: 2,
  mbstdChannels: 1,
};
const N = 2;
const C = 1; // one input channel keeps the full finite-difference sweep small
const S = tinyD.resolution;
const per = C * S * S;

/** The tiny D (one input channel) with every parameter and buffer in float64. */
function makeD(): Discriminator {
  const d = new Discriminator(tinyD, C);
  toFloat64(d);
  return d;
}

function toFloat64(d: Discriminator): void {
  t.noGrad(() =>
    t.scope(() => {
      for (const [, v] of d.stateDict()) v.setData_(v.detach().to('float64'));
    }),
  );
}

/**
 * Σ_n D(x_c)_n for many batches x_c [N, C, S, S] at once (rows of `copies` [M, N·C·S·S]). Copy c of sample n
 * sits at index n·M + c, so the minibatch-std groups (indices congruent modulo batch/G, G = N = 2) are exactly
 * {sample 0, sample 1} of one copy.
 */
function sumLogitsOfCopies(d: Discriminator, copies: t.Tensor): t.Tensor {
  const m = copies.shape[0];
  return t.noGrad(() => {
    const big = copies
      .reshape([m, N, C, S, S])
      .transpose(0, 1)
      .reshape([N * m, C, S, S]);
    return d.forward(big).reshape([N, m]).sum(0);
  });
}

/**
 * (f(h) − f(−h))/2h for f = a scalar function of a step h along one coordinate, with a kink guard: D is only
 * piecewise smooth (lrelu), so when the one-sided differences disagree (a kink lies within h) h is reduced.
 */
function centralDifference(f: (h: number) => number, h0: number): number {
  let h = h0;
  for (let k = 0; k < 4; k++, h /= 10) {
    const f0 = f(0);
    const fp = f(h);
    const fm = f(-h);
    const fwd = (fp - f0) / h;
    const bwd = (f0 - fm) / h;
    if (Math.abs(fwd - bwd) <= 1e-3 * Math.max(Math.abs(fwd), Math.abs(bwd)) + 1e-9) return (fp - fm) / (2 * h);
  }
  throw new Error('finite differences: no smooth neighbourhood found');
}

describe('r1Penalty', () => {
  test('the grouped batch trick reproduces D on the plain batch', () => {
    noLeak(() => {
      t.manualSeed(30);
      const d = makeD();
      try {
        t.scope(() => {
          const x = t.rand([N, C, S, S], { dtype: 'float64' }).mul(2).sub(1);
          const direct = d.forward(x).sum().item();
          const y = t.rand([N, C, S, S], { dtype: 'float64' });
          const other = d.forward(y).sum().item();
          const copies = t.stack([x.flatten(), y.flatten(), x.flatten()]);
          assertClose(sumLogitsOfCopies(d, copies), [direct, other, direct], { rtol: 1e-12, atol: 1e-12 });
        });
      } finally {
        d.dispose();
      }
    });
  });

  test('equals ‖∂ΣD(x)/∂x_n‖² from central differences over every input element', () => {
    noLeak(() => {
      t.manualSeed(31);
      const d = makeD();
      try {
        t.scope(() => {
          const x = t.rand([N, C, S, S], { dtype: 'float64' }).mul(2).sub(1).requiresGrad_(true);
          const penalty = r1Penalty(x, d.forward(x));
          assert.deepEqual(penalty.shape, [N]);
          const flat = x.detach().flatten(); // [N·per]
          const total = N * per;
          const h = 1e-6;
          // One batched sweep: rows x ± h·e_i for every i.
          const fdGrad = new Float64Array(total);
          const chunk = 512;
          for (let start = 0; start < total; start += chunk) {
            t.scope(() => {
              const k = Math.min(chunk, total - start);
              const idx = t.arange(start, start + k, 1, { dtype: 'int64' }).unsqueeze(1);
              const delta = t.zeros([k, total], { dtype: 'float64' }).scatter(1, idx, t.full([k, 1], h, { dtype: 'float64' }));
              const base = flat.unsqueeze(0);
              const f = sumLogitsOfCopies(d, t.cat([base.add(delta), base.sub(delta)], 0)).toArray();
              for (let j = 0; j < k; j++) fdGrad[start + j] = (f[j] - f[k + j]) / (2 * h);
            });
          }
          // Re-check, with the kink guard, the elements where the sweep disagrees with autograd (an lrelu kink
          // within h of x makes the plain central difference meaningless there).
          const [g] = t.grad([d.forward(x).sum()], [x]);
          const analytic = (g as t.Tensor).toArray();
          let rechecked = 0;
          for (let i = 0; i < total; i++) {
            if (Math.abs(fdGrad[i] - analytic[i]) <= 1e-7 + 1e-4 * Math.abs(analytic[i])) continue;
            rechecked++;
            fdGrad[i] = centralDifference(
              (dh) =>
                t.scope(() => {
                  const row = flat.clone();
                  row.narrow(0, i, 1).add_(dh);
                  return sumLogitsOfCopies(d, row.unsqueeze(0)).item();
                }),
              h,
            );
          }
          assert.ok(rechecked < total / 100, `${rechecked} elements needed a re-check`);
          assertClose(analytic, fdGrad, { rtol: 1e-4, atol: 1e-7, message: 'gradient' });
          const fdPenalty = Array.from({ length: N }, (_, n) => fdGrad.subarray(n * per, (n + 1) * per).reduce((s, v) => s + v * v, 0));
          assert.ok(fdPenalty.every((p) => p > 0));
          assertClose(penalty, fdPenalty, { rtol: 1e-5, atol: 0, message: 'penalty' });
        });
      } finally {
        d.dispose();
      }
    });
  });

  test('its gradient w.r.t. D parameters (double backward) matches finite differences of the penalty', () => {
    // Hundreds of evaluations of tiny ops: one intra-op thread is faster (and robust to a busy machine).
    const threads = t.getNumThreads();
    t.setNumThreads(1);
    try {
      noLeak(() => {
        t.manualSeed(32);
        const d = makeD();
        try {
          t.scope(() => {
            const x = t.rand([N, C, S, S], { dtype: 'float64' }).mul(2).sub(1);
            // Σ_n w_n·penalty_n (unequal weights so a per-sample mix-up shows).
            const wn = [0.7, 1.3];
            const loss = () =>
              t.scope(() => {
                const xr = x.detach().requiresGrad_(true);
                return r1Penalty(xr, d.forward(xr))
                  .mul(t.tensor(wn, { dtype: 'float64' }))
                  .sum();
              });
            const named = new Map(d.namedParameters());
            const picks = [
              'b32.fromrgb.weight',
              'b32.fromrgb.bias',
              'b32.conv0.weight',
              'b32.conv1.bias',
              'b16.skip.weight',
              'b4.conv.weight',
              'b4.fc.weight',
              'b4.out.weight',
              'b4.out.bias',
            ];
            const params = picks.map((p) => {
              const v = named.get(p);
              assert.ok(v, `parameter ${p}`);
              return v;
            });
            const scale = loss().item();
            assert.ok(scale > 0);
            const analytic = t.grad([loss()], params, { allowUnused: true }).map((g) => (g === null ? null : g.toArray()));
            let nonZero = 0;
            params.forEach((p, k) => {
              const values = p.toArray();
              const elems = [0, Math.floor(values.length / 2), values.length - 1].filter((v, i, a) => a.indexOf(v) === i);
              for (const i of elems) {
                const fd = centralDifference((dh) => {
                  const moved = values.slice();
                  moved[i] += dh;
                  t.noGrad(() => t.scope(() => p.copy_(t.tensor(moved, { dtype: 'float64', shape: p.shape }))));
                  return loss().item();
                }, 1e-6);
                t.noGrad(() => t.scope(() => p.copy_(t.tensor(values, { dtype: 'float64', shape: p.shape }))));
                const a = analytic[k]?.[i] ?? 0;
                if (Math.abs(fd) > 1e-3 * scale) nonZero++;
                assert.ok(
                  Math.abs(a - fd) <= 1e-6 * scale + 1e-4 * Math.abs(fd),
                  `${picks[k]}[${i}]: analytic ${a} vs finite differences ${fd}`,
                );
              }
            });
            // The output bias cannot change ∂D/∂x (its R1 gradient is 0); most of the others do.
            assert.equal(analytic[picks.indexOf('b4.out.bias')]?.[0] ?? 0, 0);
            assert.ok(nonZero >= 10, `${nonZero} clearly non-zero parameter gradients`);
          });
        } finally {
          d.dispose();
        }
      });
    } finally {
      t.setNumThreads(threads);
    }
  });
});
