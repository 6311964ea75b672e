// SPDX-License-Identifier: MIT
// First-order gradient checks (float64 central differences) for pointwise ops, with broadcasting and scalars.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { caseChecker, leaf, avoid } from '../helpers/gradCases.js';

const liveAtStart = t.memory().liveTensors;

const positive = (v: number) => Math.abs(v) + 0.3;
const awayFromZero = (v: number) => avoid(v, [0]);

const check = caseChecker(1000, gradcheck);

// ---- binary arithmetic with broadcasting ------------------------------------------------------------------

check('add: [2,3] + [3] with alpha', () => ({ fn: (a, b) => a.add(b, 2.5), inputs: [leaf([2, 3]), leaf([3])] }));
check('add: [2,3] + [2,1]', () => ({ fn: (a, b) => a.add(b), inputs: [leaf([2, 3]), leaf([2, 1])] }));
check('add: [2,1] + [1,3] (both broadcast)', () => ({ fn: (a, b) => a.add(b, -0.5), inputs: [leaf([2, 1]), leaf([1, 3])] }));
check('add: scalar with alpha', () => ({ fn: (a) => a.add(1.5, 2).square(), inputs: [leaf([2, 3])] }));
check('add: 0-d tensor operand', () => ({ fn: (a, b) => a.add(b, 3), inputs: [leaf([2, 3]), leaf([])] }));
check('sub: [2,3] - [2,1] with alpha', () => ({ fn: (a, b) => a.sub(b, 0.5), inputs: [leaf([2, 3]), leaf([2, 1])] }));
check('sub: [3] - [2,3]', () => ({ fn: (a, b) => a.sub(b), inputs: [leaf([3]), leaf([2, 3])] }));
check('sub: scalar with alpha', () => ({ fn: (a) => a.sub(0.7, 3).square(), inputs: [leaf([2, 3])] }));
check('rsub: 2 - x', () => ({ fn: (a) => a.rsub(2).square(), inputs: [leaf([2, 3])] }));
check('mul: [2,3] * [3]', () => ({ fn: (a, b) => a.mul(b), inputs: [leaf([2, 3]), leaf([3])] }));
check('mul: [2,1] * [1,3]', () => ({ fn: (a, b) => a.mul(b), inputs: [leaf([2, 1]), leaf([1, 3])] }));
check('mul: scalar', () => ({ fn: (a) => a.mul(-1.7).square(), inputs: [leaf([2, 3])] }));
check('div: [2,3] / [2,1]', () => ({ fn: (a, b) => a.div(b), inputs: [leaf([2, 3]), leaf([2, 1], awayFromZero)] }));
check('div: [3] / [2,3]', () => ({ fn: (a, b) => a.div(b), inputs: [leaf([3]), leaf([2, 3], awayFromZero)] }));
check('div: scalar', () => ({ fn: (a) => a.div(0.4).square(), inputs: [leaf([2, 3])] }));
check('rdiv: 3 / x', () => ({ fn: (a) => a.rdiv(3), inputs: [leaf([2, 3], awayFromZero)] }));
check('pow: tensor exponent, broadcast [2,3] ** [3]', () => ({
  fn: (a, b) => a.pow(b),
  inputs: [leaf([2, 3], positive), leaf([3])],
}));
check('pow: tensor exponent, broadcast [2,1] ** [2,3]', () => ({
  fn: (a, b) => a.pow(b),
  inputs: [leaf([2, 1], positive), leaf([2, 3])],
}));
check('pow: scalar exponent 3 (negative bases)', () => ({ fn: (a) => a.pow(3), inputs: [leaf([2, 3])] }));
check('pow: scalar exponent 2.5', () => ({ fn: (a) => a.pow(2.5), inputs: [leaf([2, 3], positive)] }));
check('pow: scalar exponent -0.5', () => ({ fn: (a) => a.pow(-0.5), inputs: [leaf([2, 3], positive)] }));
check('rpow: 2 ** x', () => ({ fn: (a) => a.rpow(2), inputs: [leaf([2, 3])] }));
check('rpow: 0.5 ** x', () => ({ fn: (a) => a.rpow(0.5), inputs: [leaf([2, 3])] }));
check('minimum: [2,3] vs [3]', () => ({ fn: (a, b) => a.minimum(b), inputs: [leaf([2, 3]), leaf([3])] }));
check('maximum: [2,3] vs [2,1]', () => ({ fn: (a, b) => a.maximum(b), inputs: [leaf([2, 3]), leaf([2, 1])] }));
check('minimum / maximum: scalar', () => ({
  fn: (a) => a.minimum(0.2).mul(a.maximum(-0.3)),
  inputs: [leaf([2, 4], (v) => avoid(v, [0.2, -0.3]))],
}));
check('atan2: [2,3] vs [3]', () => ({
  fn: (a, b) => a.atan2(b),
  inputs: [leaf([2, 3], awayFromZero), leaf([3], awayFromZero)],
}));
check('atan2: [2,1] vs [2,3]', () => ({
  fn: (a, b) => a.atan2(b),
  inputs: [leaf([2, 1], awayFromZero), leaf([2, 3], awayFromZero)],
}));

// ---- unary -------------------------------------------------------------------------------------------------

check('neg', () => ({ fn: (a) => a.neg().mul(a), inputs: [leaf([2, 3])] }));
check('abs', () => ({ fn: (a) => a.abs(), inputs: [leaf([2, 4], awayFromZero)] }));
check('sqrt', () => ({ fn: (a) => a.sqrt(), inputs: [leaf([2, 3], positive)] }));
check('rsqrt', () => ({ fn: (a) => a.rsqrt(), inputs: [leaf([2, 3], positive)] }));
check('square', () => ({ fn: (a) => a.square(), inputs: [leaf([2, 3])] }));
check('reciprocal', () => ({ fn: (a) => a.reciprocal(), inputs: [leaf([2, 3], awayFromZero)] }));
check('exp', () => ({ fn: (a) => a.exp(), inputs: [leaf([2, 3])] }));
check('log', () => ({ fn: (a) => a.log(), inputs: [leaf([2, 3], positive)] }));
check('log1p', () => ({ fn: (a) => a.log1p(), inputs: [leaf([2, 3], (v) => Math.abs(v) - 0.5)] }));
check('sigmoid', () => ({ fn: (a) => a.sigmoid(), inputs: [leaf([2, 3], (v) => 2 * v)] }));
check('tanh', () => ({ fn: (a) => a.tanh(), inputs: [leaf([2, 3])] }));
check('softplus beta 1', () => ({ fn: (a) => a.softplus(), inputs: [leaf([2, 4], (v) => 3 * v)] }));
check('softplus beta 2', () => ({ fn: (a) => a.softplus(2), inputs: [leaf([2, 4], (v) => 3 * v)] }));
check('softplus beta 2 across the linear threshold', () => ({
  // β·x > threshold (here 4) switches to the identity: keep x away from 2.
  fn: (a) => a.softplus(2, 4),
  inputs: [leaf([2, 4], (v) => avoid(3 * v, [2]))],
}));
check('relu', () => ({ fn: (a) => a.relu(), inputs: [leaf([2, 4], awayFromZero)] }));
check('leakyRelu(0.2)', () => ({ fn: (a) => a.leakyRelu(0.2), inputs: [leaf([2, 4], awayFromZero)] }));
check('nn.leakyRelu(0.2)', () => ({ fn: (a) => t.nn.leakyRelu(a, 0.2), inputs: [leaf([3, 3], awayFromZero)] }));
check('clamp(-0.5, 0.5)', () => ({ fn: (a) => a.clamp(-0.5, 0.5), inputs: [leaf([3, 4], (v) => avoid(v, [-0.5, 0.5]))] }));
check('clamp(min only) and clamp(null, max)', () => ({
  fn: (a) => a.clamp(-0.2).add(a.clamp(null, 0.3)),
  inputs: [leaf([3, 4], (v) => avoid(v, [-0.2, 0.3]))],
}));
check('erf', () => ({ fn: (a) => a.erf(), inputs: [leaf([2, 3])] }));
check('sin', () => ({ fn: (a) => a.sin(), inputs: [leaf([2, 3], (v) => 2 * v)] }));
check('cos', () => ({ fn: (a) => a.cos(), inputs: [leaf([2, 3], (v) => 2 * v)] }));
check('logSigmoid', () => ({ fn: (a) => a.logSigmoid(), inputs: [leaf([2, 4], (v) => 3 * v)] }));

// ---- ternary -------------------------------------------------------------------------------------------------

check('lerp: scalar weight, end broadcast [3]', () => ({ fn: (a, b) => a.lerp(b, 0.3), inputs: [leaf([2, 3]), leaf([3])] }));
check('lerp: tensor weight (all three inputs, broadcast)', () => ({
  fn: (a, b, w) => a.lerp(b, w),
  inputs: [leaf([2, 3]), leaf([2, 3]), leaf([2, 1])],
}));
check('addcmul: value 0.7, broadcast', () => ({
  fn: (x, a, b) => x.addcmul(a, b, 0.7),
  inputs: [leaf([2, 3]), leaf([3]), leaf([2, 1])],
}));
check('where: tensor / tensor with broadcasting', () => {
  const cond = t.tensor([
    [true, false, true],
    [false, false, true],
  ]);
  return { fn: (a, b) => t.where(cond, a, b), inputs: [leaf([2, 3]), leaf([3])] };
});
check('where: tensor / scalar, and scalar / tensor', () => {
  const cond = t.tensor([
    [true, false, true],
    [false, true, true],
  ]);
  return { fn: (a) => t.where(cond, a, 0.5).mul(t.where(cond, -1, a)), inputs: [leaf([2, 3])] };
});

// ---- a composite, to catch a bad gradient that only shows when ops chain --------------------------------------

check('chain: softplus(x·y + z)/sqrt(1 + x²) with broadcasting', () => ({
  fn: (x, y, z) => x.mul(y).add(z).softplus().div(x.square().add(1).sqrt()),
  inputs: [leaf([2, 3]), leaf([3]), leaf([2, 1])],
}));

test('every test released its tensors', () => {
  assert.equal(t.memory().liveTensors, liveAtStart);
  assert.equal(t.memory().freedByGc, 0);
});
