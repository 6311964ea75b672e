// SPDX-License-Identifier: MIT
// cli/launch.ts without processes: the group a worker reads from torchrun's environment, and where each rank
// trains (the CPU over Gloo; GPUs over NCCL, local rank r on cuda:r).
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { distributedEnv, rankPlacement } from '../../src/cli/launch.js';
import { InputError } from '../../src/util/errors.js';

const names = ['RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'] as const;
const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
afterEach(() => {
  for (const n of names)
    if (saved[n] === undefined) delete process.env[n];
    else process.env[n] = saved[n];
});
const setEnv = (env: Partial<Record<(typeof names)[number], string>>) => {
  for (const n of names) delete process.env[n];
  Object.assign(process.env, env);
};

describe('distributedEnv', () => {
  test('no RANK/WORLD_SIZE: not a worker', () => {
    setEnv({});
    assert.equal(distributedEnv(), null);
  });

  test('LOCAL_RANK and LOCAL_WORLD_SIZE default to one process per machine', () => {
    setEnv({ RANK: '1', WORLD_SIZE: '2', MASTER_ADDR: '10.0.0.1' });
    assert.deepEqual(distributedEnv(), {
      rank: 1,
      worldSize: 2,
      localRank: 0,
      localWorldSize: 1,
      masterAddr: '10.0.0.1',
      masterPort: 29500,
    });
    setEnv({ RANK: '3', WORLD_SIZE: '4', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_PORT: '1234' });
    assert.deepEqual(distributedEnv(), {
      rank: 3,
      worldSize: 4,
      localRank: 1,
      localWorldSize: 2,
      masterAddr: '127.0.0.1',
      masterPort: 1234,
    });
  });

  test('a LOCAL_RANK outside LOCAL_WORLD_SIZE is an input error', () => {
    setEnv({ RANK: '0', WORLD_SIZE: '2', LOCAL_RANK: '2', LOCAL_WORLD_SIZE: '2' });
    assert.throws(
      () => distributedEnv(),
      (e: unknown) => e instanceof InputError && /LOCAL_RANK=2 and LOCAL_WORLD_SIZE=2/.test(e.message),
    );
  });
});

describe('rankPlacement', () => {
  const worker = (rank: number, localRank: number, localWorldSize: number) => ({ rank, localRank, localWorldSize });

  test('the CPU trains over Gloo', () => {
    assert.deepEqual(rankPlacement('cpu', worker(1, 1, 2), 0), { device: 'cpu', backend: 'gloo', cudaIndex: 0 });
  });

  test('--device cuda: local rank r on cuda:r over NCCL', () => {
    assert.deepEqual(rankPlacement('cuda', worker(0, 0, 2), 2), { device: 'cuda:0', backend: 'nccl', cudaIndex: 0 });
    assert.deepEqual(rankPlacement('cuda', worker(3, 1, 2), 2), { device: 'cuda:1', backend: 'nccl', cudaIndex: 1 });
  });

  test('more local processes than GPUs: the one without a GPU says so', () => {
    assert.throws(
      () => rankPlacement('cuda', worker(1, 1, 2), 1),
      (e: unknown) =>
        e instanceof InputError &&
        e.code === 'ERR_DEVICE' &&
        /^worker 1 \(LOCAL_RANK 1\) trains on cuda:1, and this machine has 1 GPU$/.test(e.message) &&
        /--nproc 1/.test(e.hint ?? ''),
    );
  });

  test('--device cuda:N: kept for one process per machine, refused for several (one GPU shared)', () => {
    assert.deepEqual(rankPlacement('cuda:1', worker(5, 0, 1), 2), { device: 'cuda:1', backend: 'nccl', cudaIndex: 1 });
    assert.throws(
      () => rankPlacement('cuda:1', worker(0, 0, 2), 2),
      (e: unknown) => e instanceof InputError && e.code === 'ERR_ARG' && /all 2 processes of this machine on one GPU/.test(e.message),
    );
  });
});
