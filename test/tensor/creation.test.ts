// SPDX-License-Identifier: MIT
// Creation ops: tensor() from nested and typed arrays, constants, ranges, random tensors and the RNG state,
// dtype conversion, host data per dtype, and the metadata getters.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as t from '../../src/index.js';
import { assertClose } from '../helpers/assertClose.js';

describe('tensor() from nested arrays', () => {
  test('numbers default to float32 with the inferred shape', () => {
    t.scope(() => {
      const x = t.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      assert.equal(x.dtype, 'float32');
      assert.deepEqual([...x.shape], [2, 3]);
      assert.deepEqual(x.tolist(), [
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const f = t.tensor([0.1, -2.5]);
      assert.equal(f.dtype, 'float32');
      assert.deepEqual(f.toArray(), [Math.fround(0.1), -2.5]);
      const deep = t.tensor([
        [[1], [2]],
        [[3], [4]],
      ]);
      assert.deepEqual([...deep.shape], [2, 2, 1]);
    });
  });

  test('a bare number is 0-d; an empty array is shape [0]', () => {
    t.scope(() => {
      const s = t.tensor(7);
      assert.deepEqual([...s.shape], []);
      assert.equal(s.ndim, 0);
      assert.equal(s.numel, 1);
      assert.equal(s.item(), 7);
      assert.equal(s.tolist(), 7);
      const e = t.tensor([]);
      assert.deepEqual([...e.shape], [0]);
      assert.equal(e.numel, 0);
      assert.deepEqual(e.tolist(), []);
    });
  });

  test('booleans are detected as bool', () => {
    t.scope(() => {
      const b = t.tensor([
        [true, false],
        [false, true],
      ]);
      assert.equal(b.dtype, 'bool');
      assert.deepEqual(b.tolist(), [
        [1, 0],
        [0, 1],
      ]);
      assert.ok(b.data() instanceof Uint8Array);
      // Explicit dtype wins over detection.
      assert.equal(t.tensor([true, false], { dtype: 'float32' }).dtype, 'float32');
      assert.deepEqual(t.tensor([true, false], { dtype: 'int64' }).toArray(), [1, 0]);
      // Numbers to bool: non-zero is true.
      assert.deepEqual(t.tensor([0, 2, -0.5], { dtype: 'bool' }).toArray(), [0, 1, 1]);
    });
  });

  test('ragged arrays and non-numbers throw ArgumentError', () => {
    assert.throws(
      () => t.tensor([[1, 2], [3]]),
      (e: unknown) => e instanceof t.ArgumentError && /ragged/.test(e.message),
    );
    assert.throws(() => t.tensor([[1], [2, 3]]), t.ArgumentError);
    assert.throws(() => t.tensor([[1, 2], 3] as unknown as number[][]), t.ArgumentError);
    assert.throws(
      () => t.tensor([1, 'a'] as unknown as number[]),
      (e: unknown) => e instanceof t.ArgumentError && /expected numbers/.test(e.message),
    );
  });

  test('an explicit shape reshapes the flat data; a wrong one fails in the addon', () => {
    t.scope(() => {
      assert.deepEqual(t.tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }).tolist(), [
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      assert.throws(
        () => t.tensor([1, 2, 3], { shape: [2, 2] }),
        (e: unknown) => e instanceof t.TensorError && (e as t.TensorError).code === 'ERR_INVALID_ARG_VALUE',
      );
    });
  });

  test('dtype conversion on creation', () => {
    t.scope(() => {
      assert.deepEqual(t.tensor([1.7, -2.7, 3], { dtype: 'int32' }).toArray(), [1, -2, 3], 'truncates toward zero');
      assert.deepEqual(t.tensor([1.7, -2.7], { dtype: 'int64' }).toArray(), [1, -2]);
      assert.deepEqual(t.tensor([0.1], { dtype: 'float64' }).toArray(), [0.1], 'float64 keeps full precision');
      const h = t.tensor([1, 0.5, 65504, 1e-8], { dtype: 'float16' });
      assert.equal(h.dtype, 'float16');
      assert.deepEqual(h.toArray(), [1, 0.5, 65504, 0], '1e-8 underflows to 0 in float16');
      const bf = t.tensor([1, 3, 1.00390625], { dtype: 'bfloat16' });
      assert.equal(bf.dtype, 'bfloat16');
      assert.deepEqual(bf.toArray(), [1, 3, 1], 'bfloat16 has 8 mantissa bits');
    });
  });
});

describe('tensor() from typed arrays', () => {
  test('the array type gives the dtype; shape defaults to 1-D', () => {
    t.scope(() => {
      const cases: [ArrayBufferView, t.DType][] = [
        [new Float32Array([1, 2]), 'float32'],
        [new Float64Array([1, 2]), 'float64'],
        [new Int32Array([1, 2]), 'int32'],
        [new Int16Array([1, 2]), 'int16'],
        [new Int8Array([1, 2]), 'int8'],
        [new Uint8Array([1, 2]), 'uint8'],
        [new BigInt64Array([1n, 2n]), 'int64'],
      ];
      for (const [data, dtype] of cases) {
        const x = t.tensor(data);
        assert.equal(x.dtype, dtype);
        assert.deepEqual([...x.shape], [2]);
        assert.deepEqual(x.toArray(), [1, 2], dtype);
      }
    });
  });

  test('with a shape, with a dtype conversion, and from a subarray view', () => {
    t.scope(() => {
      const x = t.tensor(new Int32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
      assert.equal(x.dtype, 'int32');
      assert.deepEqual(x.tolist(), [
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const f = t.tensor(new Float32Array([1.5, -2.5]), { dtype: 'int16' });
      assert.equal(f.dtype, 'int16');
      assert.deepEqual(f.toArray(), [1, -2]);
      const buf = new Float64Array([9, 8, 7, 6, 5]);
      const sub = t.tensor(buf.subarray(1, 4));
      assert.deepEqual(sub.toArray(), [8, 7, 6], 'byteOffset is honoured');
      // The data is copied: later writes to the source do not show.
      buf[2] = 100;
      assert.deepEqual(sub.toArray(), [8, 7, 6]);
      assert.deepEqual([...(t.tensor(new BigInt64Array([2n ** 60n, -3n])).data() as BigInt64Array)], [2n ** 60n, -3n]);
    });
  });

  test('a byte count that does not match the shape, and unsupported array types', () => {
    assert.throws(
      () => t.tensor(new Float32Array(5), { shape: [2, 3] }),
      (e: unknown) => {
        assert.ok(e instanceof t.TensorError);
        assert.equal(e.code, 'ERR_INVALID_ARG_VALUE');
        assert.match(e.message, /20 bytes do not hold 6 elements/);
        return true;
      },
    );
    assert.throws(
      () => t.tensor(new Uint16Array(2)),
      (e: unknown) => e instanceof t.ArgumentError && /unsupported typed array/.test(e.message),
    );
    assert.throws(() => t.tensor(new Float32Array(2), { shape: [-2] }), t.ArgumentError);
  });
});

describe('constants and ranges', () => {
  test('zeros, ones, full, empty with dtypes', () => {
    t.scope(() => {
      const z = t.zeros([2, 3]);
      assert.equal(z.dtype, 'float32');
      assert.deepEqual(z.toArray(), [0, 0, 0, 0, 0, 0]);
      const o = t.ones([3], { dtype: 'int64' });
      assert.equal(o.dtype, 'int64');
      assert.deepEqual(o.toArray(), [1, 1, 1]);
      const f = t.full([2, 2], -1.5, { dtype: 'float64' });
      assert.deepEqual(f.tolist(), [
        [-1.5, -1.5],
        [-1.5, -1.5],
      ]);
      assert.deepEqual(t.full([2], 7, { dtype: 'uint8' }).toArray(), [7, 7]);
      assert.deepEqual(t.full([2], 1, { dtype: 'bool' }).toArray(), [1, 1]);
      const e = t.empty([4, 0, 2], { dtype: 'int8' });
      assert.deepEqual([...e.shape], [4, 0, 2]);
      assert.equal(e.dtype, 'int8');
      assert.equal(e.numel, 0);
      assert.deepEqual([...t.empty([3]).shape], [3]);
      assert.deepEqual([...t.zeros([]).shape], [], 'shape [] is 0-d');
      assert.equal(t.scalar(2.5, { dtype: 'float64' }).item(), 2.5);
      assert.deepEqual(t.fullLike(o, 4).toArray(), [4, 4, 4]);
      assert.equal(t.zerosLike(f).dtype, 'float64');
      assert.deepEqual(t.onesLike(z).tolist(), [
        [1, 1, 1],
        [1, 1, 1],
      ]);
      assert.equal(t.ones([1], { requiresGrad: true }).requiresGrad, true);
    });
  });

  test('arange: int64 for integer arguments, float32 for fractional ones', () => {
    t.scope(() => {
      const a = t.arange(5);
      assert.equal(a.dtype, 'int64');
      assert.deepEqual(a.toArray(), [0, 1, 2, 3, 4]);
      assert.deepEqual(t.arange(2, 11, 3).toArray(), [2, 5, 8]);
      assert.deepEqual(t.arange(3, 0, -1).toArray(), [3, 2, 1]);
      const f = t.arange(0, 1, 0.25);
      assert.equal(f.dtype, 'float32');
      assert.deepEqual(f.toArray(), [0, 0.25, 0.5, 0.75]);
      assert.equal(t.arange(0.5, 3).dtype, 'float32');
      assert.deepEqual(t.arange(0.5, 3).toArray(), [0.5, 1.5, 2.5]);
      const d = t.arange(4, undefined, 1, { dtype: 'float64' });
      assert.equal(d.dtype, 'float64');
      assert.deepEqual(d.toArray(), [0, 1, 2, 3]);
      assert.equal(t.arange(0).numel, 0);
      assert.throws(() => t.arange(0, 5, 0), t.TensorError, 'step 0');
    });
  });

  test('linspace and eye', () => {
    t.scope(() => {
      const l = t.linspace(0, 1, 5);
      assert.equal(l.dtype, 'float32');
      assert.deepEqual(l.toArray(), [0, 0.25, 0.5, 0.75, 1]);
      assert.deepEqual(t.linspace(-1, 1, 3, { dtype: 'float64' }).toArray(), [-1, 0, 1]);
      assert.deepEqual(t.linspace(3, 3, 1).toArray(), [3]);
      assert.equal(t.linspace(0, 1, 0).numel, 0);
      const i = t.eye(3);
      assert.equal(i.dtype, 'float32');
      assert.deepEqual(i.tolist(), [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ]);
      assert.deepEqual(t.eye(2, 3, { dtype: 'int32' }).tolist(), [
        [1, 0, 0],
        [0, 1, 0],
      ]);
      assert.equal(t.eye(2, 3, { dtype: 'int32' }).dtype, 'int32');
    });
  });
});

describe('random tensors', () => {
  test('randn/rand/randint/randperm: same seed, same values; different seeds differ', () => {
    const draw = (seed: number) =>
      t.scope(() => {
        t.manualSeed(seed);
        return {
          randn: t.randn([64]).toArray(),
          rand: t.rand([2, 32]).toArray(),
          randint: t.randint(-5, 5, [64]).toArray(),
          randperm: t.randperm(50).toArray(),
          randn64: t.randn([8], { dtype: 'float64' }).toArray(),
        };
      });
    const a = draw(1234);
    const b = draw(1234);
    const c = draw(1235);
    assert.deepEqual(a, b);
    for (const k of Object.keys(a) as (keyof typeof a)[]) assert.notDeepEqual(a[k], c[k], `${k} differs for another seed`);
  });

  test('distributions: ranges, dtypes, permutation property', () => {
    t.scope(() => {
      t.manualSeed(0);
      const u = t.rand([10_000]);
      assert.equal(u.dtype, 'float32');
      assert.ok(u.toArray().every((v) => v >= 0 && v < 1));
      assertClose(u.mean().item(), 0.5, { atol: 0.02 });
      const n = t.randn([10_000], { dtype: 'float64' });
      assert.equal(n.dtype, 'float64');
      assertClose(n.mean().item(), 0, { atol: 0.05 });
      assertClose(n.std().item(), 1, { atol: 0.05 });
      const r = t.randint(3, 7, [1000]);
      assert.equal(r.dtype, 'int64');
      const values = new Set(r.toArray());
      assert.deepEqual([...values].sort(), [3, 4, 5, 6]);
      assert.equal(t.randint(0, 4, [5], { dtype: 'int32' }).dtype, 'int32');
      const p = t.randperm(100);
      assert.equal(p.dtype, 'int64');
      assert.deepEqual(
        [...p.toArray()].sort((x, y) => x - y),
        Array.from({ length: 100 }, (_, i) => i),
      );
      assert.equal(t.randn([2, 3], { requiresGrad: true }).requiresGrad, true);
    });
  });

  test('getRngState/setRngState restore the sequence', () => {
    t.scope(() => {
      t.manualSeed(99);
      t.randn([3]); // advance a little
      const state = t.getRngState();
      assert.equal(state.dtype, 'uint8');
      assert.equal(state.ndim, 1);
      const first = { n: t.randn([17]).toArray(), u: t.rand([5]).toArray(), i: t.randint(0, 1000, [5]).toArray() };
      t.randn([100]); // move on
      t.setRngState(state);
      const again = { n: t.randn([17]).toArray(), u: t.rand([5]).toArray(), i: t.randint(0, 1000, [5]).toArray() };
      assert.deepEqual(again, first);
      // The state tensor is a copy: drawing after getRngState does not change it.
      const copy = state.bytes();
      t.randn([10]);
      assert.deepEqual(state.bytes(), copy);
      // A wrong state is rejected by libtorch, not a crash.
      assert.throws(() => t.setRngState(t.zeros([3], { dtype: 'uint8' })), t.TensorError);
      assert.throws(() => t.setRngState(t.zeros([state.numel])), t.TensorError, 'float state');
    });
  });
});

describe('conversion and host data', () => {
  test('.to(dtype) converts and always returns a new handle', () => {
    t.scope(() => {
      const x = t.tensor([1.75, -2.5, 0]);
      const i = x.to('int32');
      assert.equal(i.dtype, 'int32');
      assert.deepEqual(i.toArray(), [1, -2, 0]);
      assert.deepEqual(x.to('bool').toArray(), [1, 1, 0]);
      assert.deepEqual(x.to('float64').toArray(), [1.75, -2.5, 0]);
      assert.deepEqual(x.to({ dtype: 'float16' }).toArray(), [1.75, -2.5, 0]);
      const same = x.to('float32');
      assert.notEqual(same, x);
      assert.notEqual(same.handle, x.handle);
      assert.deepEqual(same.toArray(), x.toArray());
      assert.equal(x.to('cpu').device, 'cpu');
      assert.equal(x.long().dtype, 'int64');
      assert.equal(x.half().dtype, 'float16');
      assert.equal(x.double().dtype, 'float64');
      assert.equal(x.long().float().dtype, 'float32');
      assert.equal(x.bool().dtype, 'bool');
    });
  });

  test('.data() array type per dtype', () => {
    t.scope(() => {
      const expected: Record<t.DType, new (n: number) => ArrayBufferView> = {
        float32: Float32Array,
        float64: Float64Array,
        float16: Float32Array,
        bfloat16: Float32Array,
        int64: BigInt64Array,
        int32: Int32Array,
        int16: Int16Array,
        int8: Int8Array,
        uint8: Uint8Array,
        bool: Uint8Array,
      };
      for (const dtype of t.dtypeNames) {
        const x = t.tensor([1, 0, 1], { dtype });
        const d = x.data();
        assert.ok(d instanceof expected[dtype], `${dtype}: got ${d.constructor.name}`);
        assert.equal(d.length, 3);
        assert.deepEqual(Array.from(d as ArrayLike<number | bigint>, Number), [1, 0, 1], dtype);
        assert.equal(x.bytes().byteLength, 3 * t.elementSize(dtype), `${dtype}: bytes`);
        assert.equal(x.elementSize(), t.elementSize(dtype));
        assert.equal(x.isFloatingPoint(), t.isFloatingPoint(dtype));
      }
    });
  });

  test('tolist nesting follows the shape', () => {
    t.scope(() => {
      const x = t.arange(24).reshape([2, 3, 4]);
      const l = x.tolist() as number[][][];
      assert.equal(l.length, 2);
      assert.equal(l[0].length, 3);
      assert.equal(l[0][0].length, 4);
      assert.equal(l[1][2][3], 23);
      assert.deepEqual(t.zeros([2, 0]).tolist(), [[], []]);
      assert.deepEqual(t.zeros([0, 3]).tolist(), []);
      assert.deepEqual(
        t
          .tensor([[1, 2]])
          .t()
          .tolist(),
        [[1], [2]],
        'a non-contiguous view lists in its own order',
      );
    });
  });

  test('shape, ndim, numel, dtype, device getters', () => {
    t.scope(() => {
      const x = t.zeros([2, 3, 4], { dtype: 'int16' });
      assert.deepEqual([...x.shape], [2, 3, 4]);
      assert.ok(Object.isFrozen(x.shape), 'shape is frozen');
      assert.equal(x.ndim, 3);
      assert.equal(x.numel, 24);
      assert.equal(x.dtype, 'int16');
      assert.equal(x.device, 'cpu');
      assert.equal(x.isCuda, false);
      assert.equal(x.size(-1), 4);
      assert.equal(x.size(0), 2);
      assert.equal(x.isContiguous(), true);
      assert.equal(String(x), 'Tensor(shape=[2, 3, 4], dtype=int16, device=cpu)');
      const s = t.scalar(1);
      assert.deepEqual([...s.shape], []);
      assert.equal(s.ndim, 0);
      assert.equal(s.numel, 1);
      assert.equal(t.zeros([5, 0]).numel, 0);
    });
  });
});

describe("'cuda' without a GPU", () => {
  const skip = t.cuda.isAvailable() ? 'CUDA is available on this machine' : false;

  test('creating or moving to cuda throws a TensorError (not a crash)', { skip }, () => {
    const isTorchError = (e: unknown) => {
      assert.ok(e instanceof t.TensorError, `expected TensorError, got ${String(e)}`);
      assert.match(e.code, /^ERR_/);
      return true;
    };
    t.scope(() => {
      assert.throws(() => t.zeros([2], { device: 'cuda' }), isTorchError);
      assert.throws(() => t.randn([2], { device: 'cuda:0' }), isTorchError);
      assert.throws(() => t.ones([2]).to('cuda'), isTorchError);
      assert.throws(() => t.ones([2]).cuda(), isTorchError);
      assert.throws(() => t.tensor([1, 2], { device: 'cuda' }), isTorchError);
      assert.throws(
        () => t.cuda.synchronize(),
        (e: unknown) => e instanceof t.TensorError && (e as t.TensorError).code === 'ERR_NO_CUDA',
      );
      assert.equal(t.cuda.deviceCount(), 0);
      // Still alive.
      assert.deepEqual(t.ones([2]).add(1).toArray(), [2, 2]);
    });
  });

  test(
    'a failed device move inside tensor() does not leak the host tensor',
    {
      skip,
    },
    () => {
      const before = t.memory().liveTensors;
      assert.throws(() => t.tensor([1, 2], { device: 'cuda' }), t.TensorError);
      assert.throws(() => t.tensor(new Float32Array(2), { device: 'cuda' }), t.TensorError);
      assert.equal(t.memory().liveTensors, before);
    },
  );
});
