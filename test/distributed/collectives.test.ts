// SPDX-License-Identifier: MIT
// The c10d process group (native/src/dist.cc) over Gloo on loopback: all-reduce, broadcast, barrier, a dead peer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { distAvailable, distInit, TensorError } from '../../src/tensor/index.js';
import { runRanks } from '../helpers/ranks.js';

const skip = distAvailable('gloo') ? false : 'the addon was built without c10d/Gloo (build/libtorch.json: "distributed")';

describe('process group (Gloo)', { skip }, () => {
  test('all-reduce sums and averages a list of tensors of different shapes; broadcast copies the root', async () => {
    const results = await runRanks(
      `t.distInit({ rank, worldSize: world, masterPort: port, timeoutMs: 10000 });
const a = t.full([3], rank + 1), b = t.full([2, 2], 10 * (rank + 1)), c = t.full([4], rank + 1).mul(t.full([4], 1).cumsum(0));
t.allReduce_([a, b]);
t.allReduce_([c], { average: true });
const d = t.full([2], rank); t.broadcast_([d], 2);
t.barrier();
console.log(JSON.stringify({ state: t.distState(), a: a.toArray(), b: b.toArray(), c: c.toArray(), d: d.toArray() }));
t.distDestroy();`,
      3,
    );
    results.forEach((r, rank) => {
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), {
        state: { rank, worldSize: 3, backend: 'gloo', device: 'cpu' },
        a: [6, 6, 6],
        b: [60, 60, 60, 60],
        c: [2, 4, 6, 8],
        d: [2, 2],
      });
    });
  });

  test('a peer that dies makes the next collective fail with ERR_DIST, not hang', async () => {
    const started = Date.now();
    const results = await runRanks(
      `t.distInit({ rank, worldSize: world, masterPort: port, timeoutMs: 20000 });
t.barrier();
if (rank === 1) process.exit(7);
try { t.allReduce_([t.ones([4])]); console.log('no error'); }
catch (e) { console.log(e.code); console.error(e.message); }`,
      2,
    );
    assert.equal(results[1].status, 7);
    assert.equal(results[0].status, 0, results[0].stderr);
    assert.equal(results[0].stdout.trim(), 'ERR_DIST');
    assert.match(results[0].stderr, /^distAllReduce: .*(closed|reset|peer)/im);
    assert.ok(Date.now() - started < 15_000, 'well before the 20 s timeout');
  });

  test('a rank whose peers never come times out with ERR_DIST_TIMEOUT', async () => {
    const [r] = await runRanks(
      `try { t.distInit({ rank: 1, worldSize: 2, masterPort: port, timeoutMs: 1500 }); }
catch (e) { console.log(e.code); }`,
      1,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.trim(), /^ERR_DIST(_TIMEOUT)?$/);
  });

  test('bad options are argument errors; collectives before init say so', () => {
    assert.throws(() => distInit({ rank: 2, worldSize: 2 }), /rank, got 2/);
    assert.throws(() => distInit({ rank: 0, worldSize: 1, masterPort: 70000 }), /masterPort, got 70000/);
    assert.throws(() => distInit({ rank: 0, worldSize: 1, backend: 'mpi' as 'gloo' }), /'gloo' or 'nccl' for backend, got mpi/);
    assert.throws(() => distInit({ rank: 0, worldSize: 1, backend: 'nccl', cudaDevice: -1 }), /cudaDevice, got -1/);
  });

  test('CPU tensors reach the group through one buffer whatever their layout (a non-contiguous one too)', async () => {
    const [a, b] = await runRanks(
      `t.distInit({ rank, worldSize: world, masterPort: port, timeoutMs: 10000 });
const m = t.tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] }).mul(rank + 1).transpose(0, 1);
t.allReduce_([m], { average: true });
console.log(JSON.stringify(m.contiguous().toArray()));
t.distDestroy();`,
      2,
    );
    for (const r of [a, b]) {
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), [1.5, 6, 3, 7.5, 4.5, 9]);
    }
  });
});

describe(
  'process group over NCCL where the addon has none',
  { skip: distAvailable('nccl') ? 'the addon was built with NCCL' : false },
  () => {
    test('distInit names the missing backend and why', () => {
      assert.throws(
        () => distInit({ rank: 0, worldSize: 1, backend: 'nccl' }),
        (e: unknown) => e instanceof TensorError && e.code === 'ERR_DIST_NOT_BUILT' && /without the nccl backend \(.*NCCL/.test(e.message),
      );
    });
  },
);

describe('process group without Gloo', { skip: distAvailable('gloo') ? 'the addon was built with Gloo' : false }, () => {
  test('distInit says the addon was built without it', () => {
    assert.throws(
      () => distInit({ rank: 0, worldSize: 1, backend: 'gloo' }),
      (e: unknown) => e instanceof TensorError && e.code === 'ERR_DIST_NOT_BUILT',
    );
  });
});
