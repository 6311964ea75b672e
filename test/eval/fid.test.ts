// SPDX-License-Identifier: MIT
// FID/KID math (spec §12) on features from a small random network and on constructed statistics: identical sets
// give 0, a mean shift gives ‖Δμ‖², diagonal covariances give Σ(σ1 + σ2 − 2√(σ1σ2)); KID equals a brute-force
// unbiased MMD²; and the checkpoint-selection fallback without Inception weights picks the latest checkpoint.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as t from '../../src/index.js';
import { type FeatureStats, featureStats, frechetDistance, kernelInceptionDistance } from '../../src/eval/fid.js';
import { selectCheckpoint } from '../../src/eval/selectCheckpoint.js';
import { checkpointName } from '../../src/run/layout.js';
import { fakeCheckpointState } from '../helpers/checkpointState.js';
import { assertClose } from '../helpers/assertClose.js';
import { noLeak } from '../helpers/noLeak.js';

/** A small random "feature network": images [N, 3, 8, 8] → relu(linear) → [N, 16]. */
function randomFeatures(images: t.Tensor, seed: number): t.Tensor {
  t.manualSeed(seed);
  return t.scope(() => t.nn.linear(images.flatten(1), t.randn([16, 192]).mul(0.1)).relu());
}

function gaussianStats(mu: number[], variances: number[]): FeatureStats {
  const d = mu.length;
  const sigma = new Float64Array(d * d);
  variances.forEach((v, i) => {
    sigma[i * d + i] = v;
  });
  return { n: 1000, d, mu: Float64Array.from(mu), sigma: { n: d, data: sigma } };
}

let root = '';
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('FID', () => {
  test('identical feature sets give FID ≈ 0 and KID ≈ 0', () => {
    noLeak(() =>
      t.scope(() => {
        t.manualSeed(1);
        const imgs = t.rand([300, 3, 8, 8]);
        const f = randomFeatures(imgs, 2);
        const s = featureStats(f);
        assertClose(frechetDistance(s, s), 0, { atol: 1e-8 });
        // Same set on both sides: every subset pair is a pair of samples from the same features; not exactly 0
        // (different subsets), but tiny next to a real difference.
        const same = kernelInceptionDistance(f, f, { numSubsets: 5, maxSubsetSize: 100 });
        const other = randomFeatures(t.rand([300, 3, 8, 8]).add(0.5), 2);
        const shifted = kernelInceptionDistance(f, other, { numSubsets: 5, maxSubsetSize: 100 });
        assert.ok(Math.abs(same) < 0.02 * shifted, `KID same ${same} vs shifted ${shifted}`);
        assert.ok(frechetDistance(s, featureStats(other)) > 0.1);
      }),
    );
  });

  test('featureStats: numpy mean and covariance (n − 1)', () => {
    t.scope(() => {
      const s = featureStats(
        t.tensor([
          [1, 2],
          [3, 6],
          [5, 4],
        ]),
      );
      assertClose(s.mu, [3, 4]);
      assertClose(s.sigma.data, [4, 2, 2, 4], { atol: 1e-12 });
    });
  });

  test('shifted means with equal covariances: FID = ‖Δμ‖²', () => {
    const a = gaussianStats([0, 1, 2, 3], [1, 2, 3, 4]);
    const b = gaussianStats([1, 1, 0, 3.5], [1, 2, 3, 4]);
    assertClose(frechetDistance(a, b), 1 + 0 + 4 + 0.25, { rtol: 1e-10 });
  });

  test('different diagonal covariances: FID = Σ(σ1 + σ2 − 2√(σ1σ2))', () => {
    const v1 = [1, 4, 0.5, 9];
    const v2 = [2, 1, 0.5, 0.01];
    const expected = v1.reduce((s, x, i) => s + x + v2[i] - 2 * Math.sqrt(x * v2[i]), 0);
    assertClose(frechetDistance(gaussianStats([0, 0, 0, 0], v1), gaussianStats([0, 0, 0, 0], v2)), expected, { rtol: 1e-10 });
  });

  test('sample features of two Gaussians approach the closed form', () => {
    t.scope(() => {
      t.manualSeed(5);
      const d = 8;
      const x = t.randn([20000, d]);
      const y = t.randn([20000, d]).mul(2).add(1); // μ = 1, σ² = 4 per dimension
      const expected = d * 1 + d * (1 + 4 - 2 * 2); // ‖Δμ‖² + Σ(σ1 + σ2 − 2√(σ1σ2))
      assertClose(frechetDistance(featureStats(x), featureStats(y)), expected, { rtol: 0.05 });
    });
  });
});

describe('KID', () => {
  test('equals the unbiased MMD² with the cubic kernel, computed by brute force', () => {
    t.scope(() => {
      t.manualSeed(3);
      const x = t.randn([7, 5]).double();
      const y = t.randn([9, 5]).add(0.3).double();
      const X = x.tolist() as number[][];
      const Y = y.tolist() as number[][];
      const d = 5;
      const k = (a: number[], b: number[]) => (a.reduce((s, v, i) => s + v * b[i], 0) / d + 1) ** 3;
      const y7 = Y.slice(0, 7); // 7 samples a side: every subset is the whole set
      const m = 7;
      let xx = 0;
      let yy = 0;
      let xy = 0;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          if (i !== j) {
            xx += k(X[i], X[j]);
            yy += k(y7[i], y7[j]);
          }
          xy += k(X[i], y7[j]);
        }
      }
      const expected = xx / (m * (m - 1)) + yy / (m * (m - 1)) - (2 * xy) / (m * m);
      // Subsets of all 7 rows are permutations, and MMD² does not depend on the order.
      assert.equal(X.length, 7);
      assertClose(kernelInceptionDistance(x, y.narrow(0, 0, 7), { numSubsets: 3 }), expected, { rtol: 1e-10 });
    });
  });
});

describe('selectCheckpoint', () => {
  function fakeRun(kimgs: number[]): string {
    root ||= mkdtempSync(join(tmpdir(), 'ilsgan-fid-test-'));
    const run = mkdtempSync(join(root, 'run-'));
    mkdirSync(join(run, 'checkpoints'));
    for (const k of kimgs) {
      const name = checkpointName(k * 1000);
      writeFileSync(join(run, 'checkpoints', `${name}.json`), JSON.stringify(fakeCheckpointState(k * 1000)));
      writeFileSync(join(run, 'checkpoints', `${name}.safetensors`), '');
    }
    return run;
  }

  test('without Inception weights: the latest checkpoint (at or below maxKimg)', async () => {
    const run = fakeRun([10, 200, 400]);
    const all = await selectCheckpoint(run);
    assert.equal(all.name, checkpointName(400_000));
    assert.equal(all.method, 'latest');
    assert.equal(all.kimg, 400);
    const capped = await selectCheckpoint(run, { maxKimg: 250 });
    assert.equal(capped.name, checkpointName(200_000));
    await assert.rejects(selectCheckpoint(run, { maxKimg: 5 }), { code: 'ERR_NO_CHECKPOINT' });
    await assert.rejects(selectCheckpoint(fakeRun([])), { code: 'ERR_NO_CHECKPOINT' });
  });

  test('with a missing Inception file: a clear InputError', async () => {
    await assert.rejects(selectCheckpoint(fakeRun([10]), { inception: join(root, 'nope.safetensors') }), { code: 'ERR_NO_INCEPTION' });
  });
});
