// SPDX-License-Identifier: MIT
// The Tensor's engine state (addon handle, cached shape/dtype, scope bookkeeping) is not public API: no string-keyed
// own property, nothing a user could overwrite by accident; the handle stays readable through `handle`, and the
// scope machinery (which keeps its slots under unexported symbols) still frees, keeps and returns tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from '../../src/index.js';

test('a tensor has no string-keyed own properties; its handle is the read-only `handle`', () => {
  t.scope(() => {
    const x = t.zeros([2, 3]);
    assert.deepEqual(x.shape, [2, 3]); // fill the metadata caches too
    assert.equal(x.dtype, 'float32');
    assert.deepEqual(Object.getOwnPropertyNames(x), []);
    for (const name of ['_handle', '_scope', '_kept', '_shape', '_dtype']) assert.ok(!(name in x), `${name} is reachable`);
    assert.equal(typeof x.handle, 'number');
    assert.throws(() => {
      (x as unknown as { handle: number }).handle = 0;
    }, TypeError);
  });
});

test('the scope slots are not exported; scope, keep and returns still work through them', () => {
  assert.ok(!Object.keys(t).some((k) => /slot/i.test(k)), 'scope slots exported from the package');
  const live = t.memory().liveTensors;
  let kept: t.Tensor | null = null;
  const returned = t.scope(() => {
    t.ones([4]); // freed at the scope's end
    kept = t.keep(t.ones([2]));
    return { y: t.ones([3]) };
  });
  assert.equal(t.memory().liveTensors, live + 2);
  assert.ok(!returned.y.isDisposed && !(kept as unknown as t.Tensor).isDisposed);
  t.dispose([returned.y, kept]);
  assert.equal(t.memory().liveTensors, live);
  assert.ok(returned.y.isDisposed);
  assert.throws(() => returned.y.handle, /disposed/);
});
