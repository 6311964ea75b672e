// SPDX-License-Identifier: MIT
// Error paths: libtorch errors become TensorError with a Node-style code and libtorch's message, use after
// dispose is ERR_DISPOSED at every entry point, TS-side argument checks throw ArgumentError, and nothing leaks
// or breaks the process on the way.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as t from '../../src/index.js';
import { native } from '../../src/tensor/native.js';

/** Asserts fn throws an instance of cls with the given code (and message pattern). */
function throwsCoded(fn: () => unknown, cls: abstract new (...a: never[]) => Error, code: string, message?: RegExp): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, 'expected a throw');
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${(caught as Error)?.constructor?.name}: ${String(caught)}`);
  assert.equal((caught as { code?: string }).code, code, `code of: ${(caught as Error).message}`);
  if (message) assert.match((caught as Error).message, message);
  return caught as Error;
}

describe('libtorch shape errors → TensorError ERR_TORCH', () => {
  test('add of [2] and [3]', () => {
    t.scope(() => {
      const e = throwsCoded(
        () => t.tensor([1, 2]).add(t.tensor([1, 2, 3])),
        t.TensorError,
        'ERR_TORCH',
        /size of tensor a \(2\) must match the size of tensor b \(3\) at non-singleton dimension 0/,
      );
      assert.equal(e.name, 'TensorError');
      assert.ok(e instanceof Error);
      // Only libtorch's message, without the C++ backtrace.
      assert.doesNotMatch(e.message, /Exception raised from|frame #/);
    });
  });

  test('matmul [2, 3] x [2, 3]', () => {
    t.scope(() => {
      throwsCoded(
        () => t.zeros([2, 3]).matmul(t.zeros([2, 3])),
        t.TensorError,
        'ERR_TORCH',
        /mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/,
      );
      throwsCoded(() => t.nn.matmul(t.zeros([2, 3]), t.zeros([2, 3])), t.TensorError, 'ERR_TORCH', /cannot be multiplied/);
    });
  });

  test('conv2d with the wrong input channel count', () => {
    t.scope(() => {
      throwsCoded(
        () => t.nn.conv2d(t.zeros([1, 3, 5, 5]), t.zeros([4, 2, 3, 3])),
        t.TensorError,
        'ERR_TORCH',
        /weight of size \[4, 2, 3, 3\], expected input\[1, 3, 5, 5\] to have 2 channels, but got 3 channels instead/,
      );
    });
  });

  test('reshape to an incompatible size, cat of mismatched shapes', () => {
    t.scope(() => {
      // libtorch 1.13 raises this one as a std::runtime_error from ATen/InferSize.h (not a c10::Error), which the
      // addon reports as ERR_NATIVE; libtorch 2.x uses TORCH_CHECK (ERR_TORCH). Either way a TensorError.
      let e: unknown = null;
      try {
        t.zeros([2, 3]).reshape([4, 2]);
      } catch (err) {
        e = err;
      }
      assert.ok(e instanceof t.TensorError, String(e));
      assert.match(e.code, /^ERR_(TORCH|NATIVE)$/);
      assert.match(e.message, /shape '\[4, 2\]' is invalid for input of size 6/);
      throwsCoded(() => t.cat([t.zeros([2, 3]), t.zeros([2, 4])], 0), t.TensorError, 'ERR_TORCH', /Sizes of tensors must match/);
    });
  });
});

describe('index errors', () => {
  test('select past the end → ERR_TORCH_INDEX', () => {
    // libtorch raises c10::IndexError (TORCH_CHECK_INDEX) for select(), which the addon maps to ERR_TORCH_INDEX.
    t.scope(() => {
      throwsCoded(
        () => t.zeros([3]).select(0, 5),
        t.TensorError,
        'ERR_TORCH_INDEX',
        /index 5 out of range for tensor of size \[3\] at dimension 0/,
      );
      throwsCoded(() => t.zeros([3]).select(0, -4), t.TensorError, 'ERR_TORCH_INDEX', /out of range/);
    });
  });

  test('a dim out of range → ERR_TORCH_INDEX', () => {
    // "Dimension out of range" is also a c10::IndexError.
    t.scope(() => {
      throwsCoded(() => t.zeros([2, 3]).sum(2), t.TensorError, 'ERR_TORCH_INDEX', /Dimension out of range/);
    });
  });

  test('indexSelect with an index past the end → ERR_TORCH_INDEX', () => {
    // index_select checks its indices with TORCH_CHECK_INDEX ("index out of range in self"): an IndexError.
    t.scope(() => {
      throwsCoded(
        () => t.zeros([3]).indexSelect(0, t.tensor([1, 7], { dtype: 'int64' })),
        t.TensorError,
        'ERR_TORCH_INDEX',
        /index out of range/,
      );
      throwsCoded(
        () => t.zeros([3]).indexSelect(0, t.tensor([-1], { dtype: 'int64' })),
        t.TensorError,
        'ERR_TORCH_INDEX',
        /index out of range/,
      );
    });
  });

  test('gather with an index past the end → plain ERR_TORCH', () => {
    // gather's bounds check is a plain TORCH_CHECK in libtorch (c10::Error), hence ERR_TORCH, not ERR_TORCH_INDEX.
    t.scope(() => {
      throwsCoded(
        () => t.zeros([3]).gather(0, t.tensor([9], { dtype: 'int64' })),
        t.TensorError,
        'ERR_TORCH',
        /index 9 is out of bounds for dimension 0 with size 3/,
      );
    });
  });
});

describe('dtype errors → TensorError', () => {
  test('crossEntropy with a float target where int64 class indices are needed', () => {
    t.scope(() => {
      const e = throwsCoded(() => t.nn.crossEntropy(t.zeros([2, 3]), t.tensor([0, 1])), t.TensorError, 'ERR_TORCH');
      assert.match(e.message, /Long|Float|scalar type/);
      // With int64 targets the same call works.
      assert.ok(Number.isFinite(t.nn.crossEntropy(t.zeros([2, 3]), t.tensor([0, 1], { dtype: 'int64' })).item()));
    });
  });

  test('conv2d with float32 input and float64 weight', () => {
    t.scope(() => {
      throwsCoded(
        () => t.nn.conv2d(t.zeros([1, 3, 5, 5]), t.zeros([4, 3, 3, 3], { dtype: 'float64' })),
        t.TensorError,
        'ERR_TORCH',
        /expected scalar type Float but found Double|Input type \(.*\) and weight type \(.*\) should be the same/,
      );
    });
  });

  test('indexSelect with a float index', () => {
    t.scope(() => {
      throwsCoded(() => t.zeros([3]).indexSelect(0, t.tensor([1])), t.TensorError, 'ERR_TORCH', /index/);
    });
  });
});

describe('use after dispose → ERR_DISPOSED', () => {
  test('method calls and getters on a disposed tensor', () => {
    const x = t.zeros([2]);
    x.dispose();
    assert.equal(x.isDisposed, true);
    assert.equal(String(x), 'Tensor(disposed)');
    throwsCoded(() => x.add(1), t.TensorError, 'ERR_DISPOSED', /disposed/);
    throwsCoded(() => x.toArray(), t.TensorError, 'ERR_DISPOSED');
    throwsCoded(() => x.item(), t.TensorError, 'ERR_DISPOSED');
    throwsCoded(() => x.dtype, t.TensorError, 'ERR_DISPOSED');
    throwsCoded(() => x.handle, t.TensorError, 'ERR_DISPOSED');
    throwsCoded(() => x.requiresGrad_(true), t.TensorError, 'ERR_DISPOSED');
    x.dispose(); // idempotent
    t.dispose([x, { y: x }]);
  });

  test('a disposed tensor as the second argument', () => {
    t.scope(() => {
      const a = t.ones([2]);
      const b = t.ones([2]);
      b.dispose();
      throwsCoded(() => a.add(b), t.TensorError, 'ERR_DISPOSED');
      throwsCoded(() => a.mul(b), t.TensorError, 'ERR_DISPOSED');
      throwsCoded(() => t.where(t.tensor([true, false]), a, b), t.TensorError, 'ERR_DISPOSED');
      throwsCoded(() => t.cat([a, b]), t.TensorError, 'ERR_DISPOSED');
      throwsCoded(() => t.nn.conv2d(t.zeros([1, 1, 3, 3]), t.zeros([1, 1, 1, 1]), b), t.TensorError, 'ERR_DISPOSED');
      assert.deepEqual(a.toArray(), [1, 1], 'the live operand is unaffected');
    });
  });

  test('the raw binding with the stale handle number', () => {
    const x = t.zeros([2]);
    const stale = x.handle;
    x.dispose();
    throwsCoded(() => native.neg(stale), t.TensorError, 'ERR_DISPOSED', /tensor was disposed/);
    throwsCoded(() => native.shape(stale), t.TensorError, 'ERR_DISPOSED');
    throwsCoded(() => native.add(stale, stale, 1), t.TensorError, 'ERR_DISPOSED');
    t.scope(() => {
      // The slot is reused by a new tensor with a new generation: the stale number still misses.
      const fresh = Array.from({ length: 4 }, () => t.ones([1]));
      throwsCoded(() => native.toBuffer(stale), t.TensorError, 'ERR_DISPOSED');
      assert.ok(fresh.every((f) => f.handle !== stale));
      assert.equal(fresh[0].item(), 1);
    });
    native.dispose(stale); // disposing a stale handle again is a no-op
    // Numbers that never were handles are ERR_INVALID_HANDLE, not ERR_DISPOSED.
    throwsCoded(() => native.neg(-1), t.TensorError, 'ERR_INVALID_HANDLE');
    throwsCoded(() => native.neg(1.5), t.TensorError, 'ERR_INVALID_HANDLE');
    throwsCoded(() => native.neg(stale + 2 ** 30), t.TensorError, 'ERR_INVALID_HANDLE');
    // A wrong JS type is a TypeError with code ERR_INVALID_ARG_TYPE.
    throwsCoded(() => native.neg('1' as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE');
  });
});

describe('argument validation in TS → ArgumentError ERR_INVALID_ARG_VALUE', () => {
  test('conv2d stride -1', () => {
    t.scope(() => {
      const e = throwsCoded(
        () => t.nn.conv2d(t.zeros([1, 3, 5, 5]), t.zeros([4, 3, 3, 3]), null, { stride: -1 }),
        t.ArgumentError,
        'ERR_INVALID_ARG_VALUE',
      );
      assert.equal(e.message, 'conv2d: expected positive integer or [h, w] for stride, got -1 (number)');
      assert.ok(e instanceof TypeError, 'ArgumentError is a TypeError');
      assert.equal(e.name, 'ArgumentError');
      throwsCoded(
        () => t.nn.conv2d(t.zeros([1, 3, 5, 5]), t.zeros([4, 3, 3, 3]), null, { padding: [1, -1] }),
        t.ArgumentError,
        'ERR_INVALID_ARG_VALUE',
        /^conv2d: expected non-negative integer or \[h, w\] for padding, got \[1,-1\] \(array\)$/,
      );
      throwsCoded(
        () => t.nn.conv2d(t.zeros([1, 3, 5, 5]), t.zeros([4, 3, 3, 3]), null, { groups: 0 }),
        t.ArgumentError,
        'ERR_INVALID_ARG_VALUE',
        /^conv2d: expected positive integer for groups, got 0 \(number\)$/,
      );
    });
  });

  test('bad dtype names', () => {
    throwsCoded(
      () => t.zeros([2], { dtype: 'float128' as t.DType }),
      t.ArgumentError,
      'ERR_INVALID_ARG_VALUE',
      /expected a dtype .* got float128/,
    );
    throwsCoded(() => t.tensor([1], { dtype: 'int' as t.DType }), t.ArgumentError, 'ERR_INVALID_ARG_VALUE', /expected a dtype/);
    t.scope(() => {
      throwsCoded(() => t.ones([1]).to('half' as t.DType), t.ArgumentError, 'ERR_INVALID_ARG_VALUE', /expected a dtype/);
      throwsCoded(() => t.ones([1]).sum(undefined, false, { dtype: 'f32' as t.DType }), t.ArgumentError, 'ERR_INVALID_ARG_VALUE');
    });
  });

  test('bad device names', () => {
    throwsCoded(
      () => t.zeros([2], { device: 'gpu' as t.Device }),
      t.ArgumentError,
      'ERR_INVALID_ARG_VALUE',
      /expected a device .* got "gpu"/,
    );
    throwsCoded(() => t.zeros([2], { device: 'cuda:x' as t.Device }), t.ArgumentError, 'ERR_INVALID_ARG_VALUE');
    throwsCoded(() => t.zeros([2], { device: 'cuda:-1' as t.Device }), t.ArgumentError, 'ERR_INVALID_ARG_VALUE');
    throwsCoded(() => t.randn([2], { device: 'CPU' as t.Device }), t.ArgumentError, 'ERR_INVALID_ARG_VALUE');
    t.scope(() => {
      throwsCoded(() => t.ones([1]).to({ device: 'tpu' as t.Device }), t.ArgumentError, 'ERR_INVALID_ARG_VALUE');
    });
  });

  test('interpolate with a bad mode (and other interpolate checks)', () => {
    t.scope(() => {
      const x = t.zeros([1, 1, 4, 4]);
      throwsCoded(
        () => t.nn.interpolate(x, { size: 2, mode: 'linear' as 'bilinear' }),
        t.ArgumentError,
        'ERR_INVALID_ARG_VALUE',
        /^interpolate: expected one of 'nearest', 'bilinear', 'bicubic', 'area' for mode, got linear \(string\)$/,
      );
      throwsCoded(() => t.nn.interpolate(x, {}), t.ArgumentError, 'ERR_INVALID_ARG_VALUE', /give size or scaleFactor/);
      throwsCoded(() => t.nn.interpolate(x, { scaleFactor: -2 }), t.ArgumentError, 'ERR_INVALID_ARG_VALUE', /positive scaleFactor/);
      throwsCoded(() => t.nn.interpolate(x, { size: 2, alignCorners: true }), t.ArgumentError, 'ERR_INVALID_ARG_VALUE', /alignCorners/);
      throwsCoded(() => t.nn.interpolate(t.zeros([4, 4]), { size: 2 }), t.ArgumentError, 'ERR_INVALID_ARG_VALUE', /4-D/);
    });
  });

  test('other TS-side checks', () => {
    t.scope(() => {
      throwsCoded(() => t.zeros([2, -1]), t.ArgumentError, 'ERR_INVALID_ARG_VALUE', /zeros: expected a shape/);
      throwsCoded(() => t.nn.pad(t.zeros([2, 2]), [1, 1, 1]), t.ArgumentError, 'ERR_INVALID_ARG_VALUE', /even number/);
      throwsCoded(() => t.nn.dropout(t.zeros([2]), 1.5), t.ArgumentError, 'ERR_INVALID_ARG_VALUE', /dropout/);
      throwsCoded(() => t.ones([4]).split(0), t.ArgumentError, 'ERR_INVALID_ARG_VALUE', /split/);
      throwsCoded(() => t.ones([4]).size(3), t.ArgumentError, 'ERR_INVALID_ARG_VALUE', /size: dim 3 out of range/);
      throwsCoded(() => t.setNumThreads(0), t.ArgumentError, 'ERR_INVALID_ARG_VALUE');
      assert.throws(() => t.manualSeed(-1), RangeError);
    });
  });
});

describe('the process keeps working', () => {
  test('item() on a multi-element (or empty) tensor throws', () => {
    t.scope(() => {
      throwsCoded(() => t.zeros([2]).item(), t.TensorError, 'ERR_TORCH', /a Tensor with 2 elements cannot be converted to Scalar/);
      throwsCoded(() => t.zeros([0]).item(), t.TensorError, 'ERR_TORCH', /0 elements/);
      assert.equal(t.full([1, 1], 3).item(), 3, 'a one-element tensor of any rank is fine');
    });
  });

  test('after all of these errors a computation still gives the right answer', () => {
    for (let i = 0; i < 20; i++) {
      assert.throws(() => t.scope(() => t.zeros([2]).add(t.zeros([3]))), t.TensorError);
    }
    const r = t.scope(() => {
      const a = t.tensor([
        [1, 2],
        [3, 4],
      ]);
      const b = t.tensor([
        [5, 6],
        [7, 8],
      ]);
      return a.matmul(b).add(1).sum().item();
    });
    assert.equal(r, 19 + 22 + 43 + 50 + 4);
    t.scope(() => {
      const x = t.tensor([1, 2, 3], { requiresGrad: true });
      x.square().sum().backward();
      assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
    });
  });
});

describe('no leaks on error paths', () => {
  test('liveTensors is unchanged by a scope that throws', () => {
    const before = t.memory().liveTensors;
    assert.throws(
      () =>
        t.scope(() => {
          const a = t.ones([3]);
          const b = a.mul(2).add(1);
          t.scope(() => b.exp()); // a nested scope that returns normally
          t.zeros([2]).add(b); // throws inside libtorch
        }),
      t.TensorError,
    );
    assert.equal(t.memory().liveTensors, before);
    // A JS error (not a TensorError) thrown by fn itself, from a nested scope.
    assert.throws(
      () =>
        t.scope(() => {
          t.ones([4]);
          t.scope(() => {
            t.ones([5]);
            throw new Error('boom');
          });
        }),
      /boom/,
    );
    assert.equal(t.memory().liveTensors, before);
    // An ArgumentError from TS validation after some tensors were created.
    assert.throws(
      () =>
        t.scope(() => {
          const x = t.zeros([1, 3, 5, 5]);
          return t.nn.conv2d(x, t.zeros([4, 3, 3, 3]), null, { stride: -1 });
        }),
      t.ArgumentError,
    );
    assert.equal(t.memory().liveTensors, before);
  });

  test('a scope whose fn returns a Promise throws, and frees what fn created', () => {
    const before = t.memory().liveTensors;
    throwsCoded(
      () => t.scope(() => Promise.resolve(t.ones([2]))),
      t.ArgumentError,
      'ERR_INVALID_ARG_VALUE',
      /scope: fn returned a Promise/,
    );
    assert.equal(t.memory().liveTensors, before);
    // An async function: its synchronous part runs (creating a tensor) before scope() sees the Promise.
    throwsCoded(() => t.scope(async () => t.ones([3]).sum()), t.ArgumentError, 'ERR_INVALID_ARG_VALUE');
    assert.equal(t.memory().liveTensors, before);
  });

  test('failed ops outside any scope do not create handles', () => {
    const a = t.ones([2]);
    const b = t.ones([3]);
    const before = t.memory().liveTensors;
    for (let i = 0; i < 5; i++) assert.throws(() => a.add(b), t.TensorError);
    assert.throws(() => native.add(a.handle, b.handle, 1), t.TensorError);
    assert.equal(t.memory().liveTensors, before);
    t.dispose([a, b]);
    assert.equal(t.memory().liveTensors, before - 2);
  });
});
