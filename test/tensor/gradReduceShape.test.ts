// SPDX-License-Identifier: MIT
// First-order gradient checks (float64 central differences) for reductions, softmax, matmul/linear and
// shape / indexing ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { caseChecker, leaf } from '../helpers/gradCases.js';
import { assertClose } from '../helpers/assertClose.js';

const liveAtStart = t.memory().liveTensors;

function int64(data: number[] | number[][], shape?: number[]): t.Tensor {
  return t.tensor(data, { dtype: 'int64', ...(shape ? { shape } : {}) });
}

const check = caseChecker(2000, gradcheck);

// ---- reductions ------------------------------------------------------------------------------------------------

check('sum: all dims', () => ({ fn: (x) => x.sum().square(), inputs: [leaf([2, 3])] }));
check('sum: dim 1', () => ({ fn: (x) => x.sum(1), inputs: [leaf([2, 3, 2])] }));
check('sum: dims [0, 2], keepdim', () => ({ fn: (x) => x.sum([0, 2], true).square(), inputs: [leaf([2, 3, 2])] }));
check('sum: negative dim', () => ({ fn: (x) => x.sum(-1).square(), inputs: [leaf([2, 3, 2])] }));
check('mean: all dims', () => ({ fn: (x) => x.mean().square(), inputs: [leaf([2, 3])] }));
check('mean: dim 0', () => ({ fn: (x) => x.mean(0), inputs: [leaf([3, 2, 2])] }));
check('mean: dims [1, 2], keepdim', () => ({ fn: (x) => x.mean([1, 2], true).square(), inputs: [leaf([2, 3, 2])] }));
check('var: unbiased, all dims', () => ({ fn: (x) => x.var(), inputs: [leaf([2, 3])] }));
check('var: unbiased, dim 1', () => ({ fn: (x) => x.var(1), inputs: [leaf([2, 4])] }));
check('var: biased, dims [0, 2], keepdim', () => ({
  fn: (x) => x.var([0, 2], true, { unbiased: false }),
  inputs: [leaf([2, 3, 3])],
}));
check('std: unbiased, all dims', () => ({ fn: (x) => x.std(), inputs: [leaf([2, 3])] }));
check('std: unbiased, dim 0', () => ({ fn: (x) => x.std(0), inputs: [leaf([3, 4])] }));
check('std: biased, dim 1, keepdim', () => ({ fn: (x) => x.std(1, true, { unbiased: false }), inputs: [leaf([3, 4])] }));
check('amax: all dims', () => ({ fn: (x) => x.amax().square(), inputs: [leaf([3, 4])] }));
check('amax: dim 1', () => ({ fn: (x) => x.amax(1), inputs: [leaf([3, 4])] }));
check('amax: dims [0, 2], keepdim', () => ({ fn: (x) => x.amax([0, 2], true), inputs: [leaf([2, 3, 3])] }));
check('logsumexp: all dims', () => ({ fn: (x) => x.logsumexp(), inputs: [leaf([2, 3])] }));
check('logsumexp: dim 1', () => ({ fn: (x) => x.logsumexp(1), inputs: [leaf([3, 4])] }));
check('logsumexp: dims [0, 2], keepdim', () => ({ fn: (x) => x.logsumexp([0, 2], true), inputs: [leaf([2, 3, 2])] }));
check('prod (all elements, mixed signs)', () => ({
  fn: (x) => x.prod(),
  inputs: [leaf([2, 3], (v) => (v >= 0 ? v + 0.5 : v - 0.5))],
}));
check('softmax: dim 1', () => ({ fn: (x) => x.softmax(1), inputs: [leaf([2, 4])] }));
check('softmax: dim 0 of 3-D', () => ({ fn: (x) => x.softmax(0), inputs: [leaf([3, 2, 2])] }));
check('nn.softmax: dim -1', () => ({ fn: (x) => t.nn.softmax(x, -1), inputs: [leaf([2, 3, 3])] }));
check('logSoftmax: dim 1', () => ({ fn: (x) => x.logSoftmax(1), inputs: [leaf([3, 4])] }));
check('nn.logSoftmax: dim 0', () => ({ fn: (x) => t.nn.logSoftmax(x, 0), inputs: [leaf([3, 2, 2])] }));

// ---- matmul / linear -------------------------------------------------------------------------------------------

check('matmul: 2-D', () => ({ fn: (a, b) => a.matmul(b), inputs: [leaf([3, 4]), leaf([4, 2])] }));
check('matmul: batched 3-D', () => ({ fn: (a, b) => a.matmul(b), inputs: [leaf([2, 3, 4]), leaf([2, 4, 2])] }));
check('matmul: 3-D by 2-D (broadcast batch)', () => ({ fn: (a, b) => t.nn.matmul(a, b), inputs: [leaf([2, 3, 4]), leaf([4, 2])] }));
check('matmul: vector by matrix', () => ({ fn: (a, b) => a.matmul(b), inputs: [leaf([4]), leaf([4, 3])] }));
check('nn.linear: with bias, 3-D input', () => ({
  fn: (x, w, b) => t.nn.linear(x, w, b),
  inputs: [leaf([2, 3, 4]), leaf([5, 4]), leaf([5])],
}));
check('nn.linear: without bias', () => ({ fn: (x, w) => t.nn.linear(x, w), inputs: [leaf([3, 4]), leaf([2, 4])] }));

// ---- shape ops -------------------------------------------------------------------------------------------------

check('reshape', () => ({ fn: (x) => x.reshape([3, 4]).matmul(x.reshape([4, 3])), inputs: [leaf([2, 6])] }));
check('reshape with -1', () => ({ fn: (x) => x.reshape([-1, 2]).square(), inputs: [leaf([2, 3, 2])] }));
check('view', () => ({ fn: (x) => x.view([6, 2]).square(), inputs: [leaf([2, 3, 2])] }));
check('permute', () => ({ fn: (x) => x.permute([2, 0, 1]).cumsum(0), inputs: [leaf([2, 3, 4])] }));
check('transpose (and .t())', () => ({
  fn: (x) =>
    x
      .transpose(0, 2)
      .reshape([4, 6])
      .add(x.select(0, 0).t().repeat([1, 2])),
  inputs: [leaf([2, 3, 4])],
}));
check('expand', () => ({ fn: (x) => x.expand([2, 3, 4]).cumsum(2), inputs: [leaf([3, 1])] }));
check('repeat', () => ({ fn: (x) => x.repeat([2, 1, 2]).cumsum(2), inputs: [leaf([2, 3])] }));
check('flatten', () => ({ fn: (x) => x.flatten(1).cumsum(1).add(x.flatten().sum()), inputs: [leaf([2, 2, 3])] }));
check('squeeze / unsqueeze', () => ({
  fn: (x) => x.squeeze(1).unsqueeze(0).unsqueeze(-1).mul(x.squeeze().unsqueeze(2)),
  inputs: [leaf([2, 1, 3])],
}));
check('cat: three inputs along dim 1', () => ({
  fn: (a, b, c) => t.cat([a, b.mul(2), c], 1).cumsum(1),
  inputs: [leaf([2, 1]), leaf([2, 3]), leaf([2, 2])],
}));
check('cat: along dim 0 (same tensor twice)', () => ({ fn: (a, b) => t.cat([a, b, a]).square(), inputs: [leaf([1, 3]), leaf([2, 3])] }));
check('stack: dim 0 and dim 1', () => ({
  fn: (a, b) =>
    t
      .stack([a, b], 1)
      .cumsum(1)
      .add(t.stack([b, a]).square().transpose(0, 1)),
  inputs: [leaf([2, 3]), leaf([2, 3])],
}));
check('split: size 2 and explicit sizes', () => ({
  fn: (x) => {
    const p = x.split(2, 1); // [2,2], [2,2], [2,1]
    const q = x.split([1, 4], 1);
    return t.cat([p[2].mul(3), p[0].square(), p[1].exp(), q[1].sin(), q[0]], 1);
  },
  inputs: [leaf([2, 5])],
}));
check('chunk', () => ({
  fn: (x) => {
    const [a, b, c] = x.chunk(3, 0); // rows 2, 2, 1
    return t.cat([c.mul(2), a.square(), b.neg()], 0);
  },
  inputs: [leaf([5, 2])],
}));
check('unbind', () => ({
  fn: (x) => {
    const [a, b, c] = x.unbind(1);
    return t.stack([a.mul(b), c.square()]);
  },
  inputs: [leaf([2, 3])],
}));
check('slice with step and negative start', () => ({
  fn: (x) =>
    x
      .slice(1, 1, null, 2)
      .square()
      .add(x.slice(0, -2).slice(1, 0, 3, 2).sum()),
  inputs: [leaf([3, 6])],
}));
check('select', () => ({ fn: (x) => x.select(1, 2).mul(x.select(-1, 0).select(1, 0)), inputs: [leaf([2, 3, 2])] }));
check('narrow', () => ({ fn: (x) => x.narrow(1, 1, 2).square(), inputs: [leaf([2, 4])] }));
check('indexSelect with repeated indices', () => {
  const idx = int64([2, 0, 2, 1]);
  return { fn: (x) => x.indexSelect(1, idx).square(), inputs: [leaf([2, 3])] };
});
check('gather with repeated indices', () => {
  const idx = int64([
    [0, 2, 2, 1],
    [1, 1, 0, 0],
  ]);
  return { fn: (x) => x.gather(1, idx).square(), inputs: [leaf([2, 3])] };
});
check('index: one int64 index tensor (repeats)', () => {
  const idx = int64([2, 0, 2]);
  return { fn: (x) => x.index([idx]).square(), inputs: [leaf([3, 2])] };
});
check('index: [null, idx]', () => {
  const idx = int64([1, 1, 3, 0]);
  return { fn: (x) => x.index([null, idx]).square(), inputs: [leaf([2, 4])] };
});
check('index: two index tensors (point gather)', () => {
  const i0 = int64([0, 1, 1, 0]);
  const i1 = int64([2, 0, 2, 2]);
  return { fn: (x) => x.index([i0, i1]).square(), inputs: [leaf([2, 3])] };
});
check('maskedFill', () => {
  const mask = t.tensor([
    [true, false, false],
    [false, true, false],
  ]);
  return { fn: (x) => x.maskedFill(mask, 0.5).square(), inputs: [leaf([2, 3])] };
});
check('maskedFill with a broadcast mask', () => {
  const mask = t.tensor([false, true, false]);
  return { fn: (x) => x.maskedFill(mask, -1).square(), inputs: [leaf([2, 3])] };
});
check('roll: one dim', () => ({ fn: (x) => x.roll(1, 1).cumsum(1), inputs: [leaf([2, 4])] }));
check('roll: two dims', () => ({ fn: (x) => x.roll([1, -2], [0, 1]).cumsum(1), inputs: [leaf([3, 4])] }));
check('flip', () => ({ fn: (x) => x.flip([0, 1]).cumsum(1), inputs: [leaf([2, 3])] }));
check('flip: single dim', () => ({ fn: (x) => x.flip(-1).cumsum(1), inputs: [leaf([2, 4])] }));
check('nn.pad: constant, with value', () => ({
  fn: (x) => t.nn.pad(x, [1, 2, 2, 1], { value: 0.3 }).square(),
  inputs: [leaf([1, 2, 3, 3])],
}));
check('nn.pad: reflect (2-D)', () => ({
  fn: (x) => t.nn.pad(x, [2, 1, 1, 2], { mode: 'reflect' }).cumsum(3),
  inputs: [leaf([1, 2, 3, 4])],
}));
check('nn.pad: reflect (1-D)', () => ({
  fn: (x) => t.nn.pad(x, [2, 1], { mode: 'reflect' }).cumsum(2),
  inputs: [leaf([2, 2, 4])],
}));
check('nn.pad: replicate (2-D)', () => ({
  fn: (x) => t.nn.pad(x, [2, 1, 1, 2], { mode: 'replicate' }).cumsum(2),
  inputs: [leaf([1, 2, 3, 3])],
}));

// ---- a few forward values, so a wrong-but-self-consistent shape op would fail --------------------------------------

test('shape ops: forward values on a known tensor', () => {
  t.scope(() => {
    const x = t.arange(0, 12, 1, { dtype: 'float64' }).reshape([3, 4]);
    assert.deepEqual(x.slice(1, 1, null, 2).toArray(), [1, 3, 5, 7, 9, 11]);
    assert.deepEqual(x.roll(1, 1).toArray(), [3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10]);
    assert.deepEqual(x.flip(0).toArray(), [8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3]);
    assert.deepEqual(x.index([int64([2, 0])]).toArray(), [8, 9, 10, 11, 0, 1, 2, 3]);
    assert.deepEqual(x.gather(1, int64([[3], [0], [1]])).toArray(), [3, 4, 9]);
    const row = t.tensor([[[1, 2, 3]]], { dtype: 'float64' });
    assert.deepEqual(t.nn.pad(row, [2, 1], { mode: 'reflect' }).toArray(), [3, 2, 1, 2, 3, 2]);
    assert.deepEqual(t.nn.pad(row, [2, 1], { mode: 'replicate' }).toArray(), [1, 1, 1, 2, 3, 3]);
    assert.deepEqual(t.nn.pad(row, [1, 1], { value: 9 }).toArray(), [9, 1, 2, 3, 9]);
    assertClose(x.var(1, false, { unbiased: false }), [1.25, 1.25, 1.25]);
    assertClose(x.var(1), [5 / 3, 5 / 3, 5 / 3]);
    assertClose(
      x.logsumexp(1),
      [0, 1, 2].map((r) => Math.log([0, 1, 2, 3].reduce((s, c) => s + Math.exp(4 * r + c), 0))),
    );
  });
});

test('every test released its tensors', () => {
  assert.equal(t.memory().liveTensors, liveAtStart);
  assert.equal(t.memory().freedByGc, 0);
});
