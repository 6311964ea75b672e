// SPDX-License-Identifier: MIT
// Asserts that fn leaves no live tensor behind (the tfjs memory-test pattern).
import assert from 'node:assert/strict';
import { memory } from '../../src/index.js';

export function noLeak<T>(fn: () => T, message = 'noLeak'): T {
  const before = memory().liveTensors;
  const r = fn();
  assert.equal(memory().liveTensors, before, `${message}: live tensors changed`);
  return r;
}
