// SPDX-License-Identifier: MIT
// safetensors I/O: round trips for every dtype, files from a reference-style writer, the exact on-disk layout
// our encoder produces, cross-checks from Python, and rejection of malformed files (InputError ERR_SAFETENSORS).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as t from '../../src/index.js';

const PY = '/usr/bin/python3';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ilsgan-safetensors-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Assembles a safetensors file the way the reference writer does: u64 LE length, space-padded JSON, data. */
function buildFile(header: unknown, data: Uint8Array | number[], o: { pad?: boolean; headerLength?: bigint } = {}): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  if (o.pad ?? true) json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const jsonBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(o.headerLength ?? BigInt(jsonBytes.byteLength));
  return new Uint8Array(Buffer.concat([prefix, jsonBytes, Buffer.from(data instanceof Uint8Array ? data : Uint8Array.from(data))]));
}

function u16le(...values: number[]): number[] {
  return values.flatMap((v) => [v & 0xff, (v >> 8) & 0xff]);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

/** One tensor per dtype, with values that exercise the dtype's range (and exact bit patterns). */
function sampleTensors(): Record<string, t.Tensor> {
  return {
    f32: t.tensor(
      [
        [1.5, -2.25, 3.0e-5],
        [Number.MAX_VALUE, -0, 7],
      ],
      { dtype: 'float32' },
    ),
    f64: t.tensor([Math.PI, -1e300, 5e-324, 0.1], { dtype: 'float64' }),
    f16: t.tensor([1, -2, 0.5, 65504, 6.1e-5, -0.000123], { dtype: 'float16' }),
    bf16: t.tensor(
      [
        [1, 3],
        [-1.5e30, 0.0078125],
      ],
      { dtype: 'bfloat16' },
    ),
    i64: t.tensor(new BigInt64Array([-(2n ** 62n), 2n ** 53n + 1n, 0n, -1n]), { shape: [2, 2] }),
    i32: t.tensor(new Int32Array([-(2 ** 31), 2 ** 31 - 1, 5])),
    i16: t.tensor(new Int16Array([-32768, 32767, -1, 0])),
    i8: t.tensor(new Int8Array([-128, 127, 3])),
    u8: t.tensor(new Uint8Array([0, 255, 128, 7]), { shape: [2, 2] }),
    bool: t.tensor([[true, false, true]]),
    scalar0d: t.tensor(42.5, { dtype: 'float64' }),
    empty: t.zeros([0, 3], { dtype: 'int16' }),
  };
}

function assertSameTensor(actual: t.Tensor | undefined, expected: t.Tensor, name: string): void {
  assert.ok(actual, `${name}: missing after load`);
  assert.equal(actual.dtype, expected.dtype, `${name}: dtype`);
  assert.deepEqual([...actual.shape], [...expected.shape], `${name}: shape`);
  assert.deepEqual(Buffer.from(actual.bytes()), Buffer.from(expected.bytes()), `${name}: bytes`);
}

describe('safetensors round trip', () => {
  test('every dtype (plus 0-d and empty) through save/load, bit-exact, with metadata', () => {
    t.scope(() => {
      const tensors = sampleTensors();
      const dtypes = new Set(Object.values(tensors).map((x) => x.dtype));
      assert.deepEqual([...dtypes].sort(), [...t.dtypeNames].sort(), 'the sample covers every dtype');
      const metadata = { format: 'pt', note: 'ünïcødé ✓', empty: '' };
      const path = join(dir, 'all.safetensors');
      t.saveSafetensors(path, tensors, metadata);
      const loaded = t.loadSafetensors(path);
      assert.deepEqual({ ...loaded.metadata }, metadata);
      assert.deepEqual([...loaded.tensors.keys()].sort(), Object.keys(tensors).sort());
      for (const [name, x] of Object.entries(tensors)) assertSameTensor(loaded.tensors.get(name), x, name);
      const s = loaded.tensors.get('scalar0d')!;
      assert.equal(s.ndim, 0);
      assert.equal(s.item(), 42.5);
      assert.equal(loaded.tensors.get('empty')!.numel, 0);
      // Values, not just bytes, survive (decode of the bit patterns).
      assert.deepEqual(loaded.tensors.get('f16')!.toArray().slice(0, 4), [1, -2, 0.5, 65504]);
      assert.deepEqual([...(loaded.tensors.get('i64')!.data() as BigInt64Array)], [-(2n ** 62n), 2n ** 53n + 1n, 0n, -1n]);
      assert.deepEqual(loaded.tensors.get('bool')!.tolist(), [[1, 0, 1]]);
      assert.equal(Object.is(loaded.tensors.get('f32')!.toArray()[4], -0), true, 'negative zero survives');
    });
  });

  test('a Map input, no metadata, and non-contiguous/non-ASCII-named tensors', () => {
    t.scope(() => {
      const base = t.arange(12, undefined, 1, { dtype: 'float32' }).reshape([3, 4]);
      const transposed = base.t(); // non-contiguous view: written in row-major order of the view
      assert.equal(transposed.isContiguous(), false);
      const m = new Map<string, t.Tensor>([
        ['zeta', base],
        ['αλφα', transposed],
      ]);
      const path = join(dir, 'map.safetensors');
      t.saveSafetensors(path, m);
      const loaded = t.loadSafetensors(path);
      assert.deepEqual({ ...loaded.metadata }, {});
      assertSameTensor(loaded.tensors.get('zeta'), base, 'zeta');
      const back = loaded.tensors.get('αλφα')!;
      assert.deepEqual([...back.shape], [4, 3]);
      assert.deepEqual(back.tolist(), transposed.tolist());
    });
  });

  test('an empty tensor map round-trips', () => {
    const path = join(dir, 'nothing.safetensors');
    t.saveSafetensors(path, {}, { k: 'v' });
    const loaded = t.loadSafetensors(path);
    assert.equal(loaded.tensors.size, 0);
    assert.deepEqual({ ...loaded.metadata }, { k: 'v' });
  });

  test('saving over an existing file replaces it atomically (no temp files left)', () => {
    t.scope(() => {
      const path = join(dir, 'replace.safetensors');
      t.saveSafetensors(path, { a: t.ones([2]) });
      t.saveSafetensors(path, { b: t.zeros([3], { dtype: 'int8' }) });
      const loaded = t.loadSafetensors(path);
      assert.deepEqual([...loaded.tensors.keys()], ['b']);
      const leftovers = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
      assert.deepEqual(leftovers, []);
    });
  });

  test('encode rejects the reserved name and non-string metadata', () => {
    t.scope(() => {
      assert.throws(() => t.encodeSafetensors({ __metadata__: t.ones([1]) }), TypeError);
      assert.throws(() => t.encodeSafetensors({ a: t.ones([1]) }, { n: 5 as unknown as string }), TypeError);
    });
  });
});

describe('files from a reference writer', () => {
  // Header as Python's safetensors writes it for torch tensors a (F32 [2, 2]), b (F16 [3]), c (BF16 [2]), d (I64 [1]).
  const header = {
    __metadata__: { format: 'pt' },
    a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
    b: { dtype: 'F16', shape: [3], data_offsets: [16, 22] },
    c: { dtype: 'BF16', shape: [2], data_offsets: [22, 26] },
    d: { dtype: 'I64', shape: [1], data_offsets: [26, 34] },
  };
  const f32 = [1, -2.5, 0.375, 1024];
  const aBytes = [...new Uint8Array(new Float32Array(f32).buffer)];
  const bBytes = u16le(0x3c00, 0xc000, 0x3800); // float16 1.0, -2.0, 0.5
  const cBytes = u16le(0x3f80, 0x4040); // bfloat16 1.0, 3.0
  const dBytes = [...Buffer.from(new BigInt64Array([-1234567890123n]).buffer)];
  const data = [...aBytes, ...bBytes, ...cBytes, ...dBytes];

  function check(loaded: t.LoadedSafetensors): void {
    assert.deepEqual({ ...loaded.metadata }, { format: 'pt' });
    const a = loaded.tensors.get('a')!;
    assert.equal(a.dtype, 'float32');
    assert.deepEqual([...a.shape], [2, 2]);
    assert.deepEqual(a.tolist(), [
      [1, -2.5],
      [0.375, 1024],
    ]);
    const b = loaded.tensors.get('b')!;
    assert.equal(b.dtype, 'float16');
    assert.deepEqual([...b.shape], [3]);
    assert.deepEqual(b.toArray(), [1, -2, 0.5]);
    assert.deepEqual([...b.bytes()], bBytes, 'float16 bits kept exactly');
    const c = loaded.tensors.get('c')!;
    assert.equal(c.dtype, 'bfloat16');
    assert.deepEqual(c.toArray(), [1, 3]);
    assert.deepEqual([...c.bytes()], cBytes, 'bfloat16 bits kept exactly');
    const d = loaded.tensors.get('d')!;
    assert.equal(d.dtype, 'int64');
    assert.deepEqual([...d.shape], [1]);
    assert.deepEqual([...(d.data() as BigInt64Array)], [-1234567890123n]);
  }

  test('decodeSafetensors reads the exact values', () => {
    t.scope(() => check(t.decodeSafetensors(buildFile(header, data))));
  });

  test('loadSafetensors reads the same file from disk', () => {
    t.scope(() => {
      const path = join(dir, 'reference.safetensors');
      writeFileSync(path, buildFile(header, data));
      check(t.loadSafetensors(path));
    });
  });

  test('an unpadded header, a header without __metadata__ and a subarray input are accepted', () => {
    t.scope(() => {
      const { __metadata__: _, ...noMeta } = header;
      const file = buildFile(noMeta, data, { pad: false });
      // Put the file at an odd offset inside a bigger buffer: decode must honour byteOffset.
      const big = new Uint8Array(file.byteLength + 13);
      big.set(file, 5);
      const loaded = t.decodeSafetensors(big.subarray(5, 5 + file.byteLength));
      assert.deepEqual({ ...loaded.metadata }, {});
      assert.deepEqual(loaded.tensors.get('b')!.toArray(), [1, -2, 0.5]);
      assert.deepEqual([...(loaded.tensors.get('d')!.data() as BigInt64Array)], [-1234567890123n]);
    });
  });

  test('header entries in any order (data order differs from key order)', () => {
    t.scope(() => {
      const shuffled = { d: header.d, __metadata__: header.__metadata__, c: header.c, a: header.a, b: header.b };
      check(t.decodeSafetensors(buildFile(shuffled, data)));
    });
  });

  test('a zero-length tensor placed at the start of a non-empty one, listed after it', () => {
    t.scope(() => {
      const file = buildFile(
        { b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, a: { dtype: 'F32', shape: [0], data_offsets: [0, 0] } },
        new Uint8Array(new Float32Array([1, 2]).buffer),
      );
      const loaded = t.decodeSafetensors(file);
      assert.deepEqual(loaded.tensors.get('b')!.toArray(), [1, 2]);
      assert.equal(loaded.tensors.get('a')!.numel, 0);
    });
  });
});

describe('encoder layout', () => {
  test('header length field, JSON header padded to 8 bytes, contiguous offsets in sorted-name order', () => {
    t.scope(() => {
      // Names inserted out of order, with a multi-byte UTF-8 name so padding must count bytes, not characters.
      const tensors = new Map<string, t.Tensor>([
        ['w', t.tensor([1, 2, 3], { dtype: 'float64' })],
        ['b', t.tensor([true, false])],
        ['é', t.tensor([7], { dtype: 'int16' })],
        ['a', t.zeros([0, 3])],
        ['m', t.tensor([0.5, 1.5], { dtype: 'bfloat16' })],
      ]);
      const file = concat(t.encodeSafetensors(tensors, { format: 'pt' }));
      const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
      const n = Number(view.getBigUint64(0, true));
      assert.equal(n % 8, 0, 'header length is a multiple of 8');
      assert.ok(8 + n <= file.byteLength);
      const headerText = Buffer.from(file.subarray(8, 8 + n)).toString('utf8');
      assert.match(headerText, /^\{/, 'header starts with {');
      assert.match(headerText, /\} *$/, 'header is padded with spaces only');
      const header = JSON.parse(headerText) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
      assert.deepEqual(header.__metadata__, { format: 'pt' });
      const names = Object.keys(header).filter((k) => k !== '__metadata__');
      const sortedNames = [...tensors.keys()].sort();
      assert.deepEqual(names, sortedNames, 'entries are written in sorted-name order');
      const formats: Record<string, string> = { w: 'F64', b: 'BOOL', é: 'I16', a: 'F32', m: 'BF16' };
      let offset = 0;
      for (const name of sortedNames) {
        const spec = header[name];
        const x = tensors.get(name)!;
        assert.equal(spec.dtype, formats[name], `${name}: dtype`);
        assert.deepEqual(spec.shape, [...x.shape], `${name}: shape`);
        assert.deepEqual(spec.data_offsets, [offset, offset + x.numel * x.elementSize()], `${name}: offsets contiguous`);
        const bytes = file.subarray(8 + n + spec.data_offsets[0], 8 + n + spec.data_offsets[1]);
        assert.deepEqual(Buffer.from(bytes), Buffer.from(x.bytes()), `${name}: data bytes`);
        offset = spec.data_offsets[1];
      }
      assert.equal(file.byteLength, 8 + n + offset, 'no trailing bytes');
    });
  });

  test('no __metadata__ key without metadata; output decodes to itself', () => {
    t.scope(() => {
      const x = t.tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'int32' },
      );
      const file = concat(t.encodeSafetensors({ x }));
      const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
      const header = JSON.parse(Buffer.from(file.subarray(8, 8 + n)).toString('utf8'));
      assert.deepEqual(Object.keys(header), ['x']);
      assert.deepEqual(header.x, { dtype: 'I32', shape: [2, 2], data_offsets: [0, 16] });
      assertSameTensor(t.decodeSafetensors(file).tensors.get('x'), x, 'x');
    });
  });
});

describe('read from Python', () => {
  function python(code: string, ...args: string[]) {
    return spawnSync(PY, ['-c', code, ...args], { encoding: 'utf8', timeout: 60_000 });
  }
  const hasPython = spawnSync(PY, ['-c', 'import json'], { encoding: 'utf8' }).status === 0;

  test('Python json (standard library) parses our header: dtypes, shapes, offsets', (ctx) => {
    if (!hasPython) {
      ctx.skip(`${PY} is not available`);
      return;
    }
    t.scope(() => {
      const tensors = sampleTensors();
      const path = join(dir, 'py-json.safetensors');
      t.saveSafetensors(path, tensors, { format: 'pt' });
      const script = [
        'import json, struct, sys',
        'raw = open(sys.argv[1], "rb").read()',
        'n = struct.unpack("<Q", raw[:8])[0]',
        'h = json.loads(raw[8:8 + n].decode("utf-8"))',
        'meta = h.pop("__metadata__", {})',
        'out = {"n": n, "size": len(raw), "meta": meta,',
        '       "tensors": {k: [v["dtype"], v["shape"], v["data_offsets"]] for k, v in h.items()}}',
        'print(json.dumps(out))',
      ].join('\n');
      const r = python(script, path);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as {
        n: number;
        size: number;
        meta: Record<string, string>;
        tensors: Record<string, [string, number[], [number, number]]>;
      };
      assert.equal(out.n % 8, 0);
      assert.deepEqual(out.meta, { format: 'pt' });
      const formats: Record<t.DType, string> = {
        float64: 'F64',
        float32: 'F32',
        float16: 'F16',
        bfloat16: 'BF16',
        int64: 'I64',
        int32: 'I32',
        int16: 'I16',
        int8: 'I8',
        uint8: 'U8',
        bool: 'BOOL',
      };
      let offset = 0;
      for (const name of Object.keys(tensors).sort()) {
        const x = tensors[name];
        const size = x.numel * x.elementSize();
        assert.deepEqual(out.tensors[name], [formats[x.dtype], [...x.shape], [offset, offset + size]], name);
        offset += size;
      }
      assert.equal(out.size, 8 + out.n + offset);
    });
  });

  test('numpy (when installed) reads the same values from our file', (ctx) => {
    if (!hasPython || python('import numpy').status !== 0) {
      ctx.skip(`numpy is not importable from ${PY}`);
      return;
    }
    t.scope(() => {
      const tensors = sampleTensors();
      const path = join(dir, 'py-numpy.safetensors');
      t.saveSafetensors(path, tensors);
      const script = [
        'import json, struct, sys, math',
        'import numpy as np',
        'raw = open(sys.argv[1], "rb").read()',
        'n = struct.unpack("<Q", raw[:8])[0]',
        'h = json.loads(raw[8:8 + n])',
        'h.pop("__metadata__", None)',
        'kinds = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}',
        'out = {}',
        'for k, v in h.items():',
        '    b, e = v["data_offsets"]',
        '    buf = raw[8 + n + b: 8 + n + e]',
        '    if v["dtype"] == "BF16":',
        '        a = (np.frombuffer(buf, "<u2").astype("<u4") << 16).view("<f4")',
        '    else:',
        '        a = np.frombuffer(buf, kinds[v["dtype"]])',
        '    a = a.reshape(v["shape"]).astype(np.float64)',
        '    out[k] = [repr(float(x)) for x in a.ravel()]',
        'print(json.dumps(out))',
      ].join('\n');
      const r = python(script, path);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as Record<string, string[]>;
      for (const [name, x] of Object.entries(tensors)) {
        // Python prints shortest round-trip reprs; compare after converting our values the same way.
        const ours = x.toArray().map((v) => Number(v));
        const theirs = out[name].map((s) => (s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s)));
        assert.equal(theirs.length, ours.length, `${name}: element count`);
        // int64 beyond 2^53 loses precision in both float conversions identically; compare as doubles.
        assert.deepEqual(theirs, ours, `${name}: values`);
      }
    });
  });

  test('Python safetensors (when installed) loads our file', (ctx) => {
    if (!hasPython || python('import safetensors').status !== 0) {
      ctx.skip(`the safetensors package is not installed for ${PY} (not installing it)`);
      return;
    }
    t.scope(() => {
      const tensors = sampleTensors();
      const path = join(dir, 'py-safetensors.safetensors');
      t.saveSafetensors(path, tensors, { format: 'pt' });
      const script = [
        'import json, sys',
        'import numpy as np',
        'from safetensors import safe_open',
        'out = {}',
        'with safe_open(sys.argv[1], framework="numpy") as f:',
        '    meta = f.metadata()',
        '    for k in f.keys():',
        '        try:',
        '            a = f.get_tensor(k)',
        '            out[k] = [list(a.shape), [repr(float(x)) for x in a.astype(np.float64).ravel()]]',
        '        except Exception as e:',
        '            out[k] = ["unsupported", str(e)]',
        'print(json.dumps({"meta": meta, "tensors": out}))',
      ].join('\n');
      const r = python(script, path);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { meta: Record<string, string>; tensors: Record<string, [number[] | string, string[] | string]> };
      assert.deepEqual(out.meta, { format: 'pt' });
      for (const [name, x] of Object.entries(tensors)) {
        const [shape, values] = out.tensors[name];
        if (shape === 'unsupported') continue; // numpy has no bfloat16
        assert.deepEqual(shape, [...x.shape], `${name}: shape`);
        assert.deepEqual((values as string[]).map(Number), x.toArray(), `${name}: values`);
      }
    });
  });
});

describe('malformed files', () => {
  const good = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const goodData = new Uint8Array(new Float32Array([1, 2]).buffer);

  function rejects(name: string, make: () => Uint8Array, message: RegExp): void {
    test(name, () => {
      const before = t.memory().liveTensors;
      const file = make();
      assert.throws(
        () => t.decodeSafetensors(file),
        (e: unknown) => {
          assert.ok(e instanceof t.InputError, `expected InputError, got ${String(e)}`);
          assert.equal(e.code, 'ERR_SAFETENSORS');
          assert.match(e.message, message);
          return true;
        },
      );
      // The same bytes through loadSafetensors name the file.
      const path = join(dir, `bad-${name.replace(/\W+/g, '_')}.safetensors`);
      writeFileSync(path, file);
      assert.throws(
        () => t.loadSafetensors(path),
        (e: unknown) => {
          assert.ok(e instanceof t.InputError);
          assert.equal(e.code, 'ERR_SAFETENSORS');
          assert.ok(e.message.includes(path), e.message);
          return true;
        },
      );
      assert.equal(t.memory().liveTensors, before, 'no tensors are created for a rejected file');
    });
  }

  rejects('truncated file (fewer than 8 bytes)', () => new Uint8Array([1, 0, 0]), /too short/);
  rejects('empty file', () => new Uint8Array(0), /too short/);
  rejects('truncated data section', () => buildFile(good, goodData).subarray(0, -3), /beyond the end|hole|overlap/);
  rejects('header length beyond the file', () => buildFile(good, goodData, { headerLength: 4096n }), /header length 4096 exceeds/);
  rejects('header length near 2^64', () => buildFile(good, goodData, { headerLength: 0xffffffffffffff00n }), /exceeds/);
  rejects('non-JSON header', () => buildFile('{"a": {dtype: F32', goodData), /not JSON/);
  rejects('JSON header that is not an object', () => buildFile([1, 2], []), /not an object/);
  rejects(
    'unknown dtype',
    () => buildFile({ a: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, new Uint8Array(8)),
    /unsupported dtype F8_E4M3/,
  );
  rejects(
    'negative shape entry',
    () => buildFile({ a: { dtype: 'U8', shape: [-8], data_offsets: [0, 8] } }, new Uint8Array(8)),
    /bad shape/,
  );
  rejects('missing data_offsets', () => buildFile({ a: { dtype: 'U8', shape: [8] } }, new Uint8Array(8)), /bad data_offsets/);
  rejects(
    'reversed data_offsets',
    () => buildFile({ a: { dtype: 'U8', shape: [0], data_offsets: [8, 0] } }, new Uint8Array(8)),
    /bad data_offsets/,
  );
  rejects(
    'offsets with a hole',
    () =>
      buildFile(
        { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } },
        new Uint8Array(12),
      ),
    /overlap or leave a hole/,
  );
  rejects(
    'hole at the start',
    () => buildFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)),
    /overlap or leave a hole/,
  );
  rejects(
    'overlapping offsets',
    () =>
      buildFile(
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
        new Uint8Array(12),
      ),
    /overlap or leave a hole/,
  );
  rejects(
    'byte count not matching the shape',
    () => buildFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, goodData),
    /8 bytes for shape \[3\] float32/,
  );
  rejects(
    'byte count not matching the dtype',
    () => buildFile({ a: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } }, goodData),
    /8 bytes for shape \[2\] float64/,
  );
  rejects(
    'offsets past the end of the data',
    () => buildFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, goodData),
    /beyond the end/,
  );
  rejects('trailing bytes after the last tensor', () => buildFile(good, [...goodData, 0, 0, 0, 0]), /trailing bytes/);

  rejects('a header entry that is null', () => buildFile({ a: null }, []), /entry is not an object/);
  rejects(
    '__metadata__ that is not an object',
    () => buildFile({ __metadata__: 'pt', ...good }, goodData),
    /__metadata__ is not an object/,
  );
  rejects('a non-string __metadata__ value', () => buildFile({ __metadata__: { n: 1 }, ...good }, goodData), /not a string/);

  // Issue 14, item 13: hostile headers and data.
  rejects(
    'a duplicate tensor key (JSON.parse would keep the last)',
    () =>
      buildFile(
        '{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}',
        [7],
      ),
    /duplicate key "a"/,
  );
  rejects(
    'a duplicate key spelled with an escape',
    () =>
      buildFile(
        '{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "\\u0061": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}',
        [7],
      ),
    /duplicate key "a"/,
  );
  rejects(
    'a duplicate key inside an entry',
    () => buildFile('{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1], "shape": [2]}}', [7]),
    /duplicate key "a.shape"/,
  );
  rejects(
    'a duplicate __metadata__ key',
    () => buildFile('{"__metadata__": {"k": "1", "k": "2"}, "a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}', [7]),
    /duplicate key "__metadata__.k"/,
  );
  rejects(
    'BOOL bytes other than 0 and 1',
    () => buildFile({ b: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, [1, 7, 255]),
    /tensor b: BOOL data holds bytes other than 0 and 1/,
  );
  rejects(
    'a shape size that is not a safe integer',
    () => buildFile({ a: { dtype: 'U8', shape: [0, 1e300], data_offsets: [0, 0] } }, []),
    /bad shape/,
  );
  rejects(
    'a shape product past 2^53',
    () => buildFile({ a: { dtype: 'U8', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 8] } }, new Uint8Array(8)),
    /8 bytes for shape/,
  );
  rejects(
    'more than 32 dimensions',
    () => buildFile({ a: { dtype: 'U8', shape: new Array(33).fill(1), data_offsets: [0, 1] } }, [1]),
    /bad shape/,
  );
  test('a header over 100 MB is refused before it is parsed', () => {
    const file = new Uint8Array(8 + 100_000_008); // zero pages: cheap to allocate, never read
    new DataView(file.buffer).setBigUint64(0, 100_000_001n, true);
    assert.throws(() => t.decodeSafetensors(file), {
      code: 'ERR_SAFETENSORS',
      message: /header length 100000001 is over the limit of 100000000 bytes/,
    });
  });

  test('a tensor and a metadata key named __proto__ are ordinary names (round trip, null-prototype metadata)', () => {
    t.scope(() => {
      const path = join(dir, 'proto.safetensors');
      const tensors = new Map([
        ['__proto__', t.tensor([1, 2], { dtype: 'float32' })],
        ['x', t.tensor([3], { dtype: 'int32' })],
      ]);
      t.saveSafetensors(path, tensors, JSON.parse('{"__proto__": "meta", "constructor": "c"}') as Record<string, string>);
      const loaded = t.loadSafetensors(path);
      assert.deepEqual([...loaded.tensors.keys()].sort(), ['__proto__', 'x']);
      assert.deepEqual(loaded.tensors.get('__proto__')!.toArray(), [1, 2]);
      assert.equal(Object.getPrototypeOf(loaded.metadata), null);
      assert.equal(Object.getOwnPropertyDescriptor(loaded.metadata, '__proto__')?.value, 'meta');
      assert.equal(loaded.metadata.constructor, 'c');
      assert.equal(loaded.metadata.toString, undefined, 'nothing inherited');
    });
  });

  test('BOOL 0/1 still loads; the checksum saveSafetensors returns is verified on load', () => {
    t.scope(() => {
      const path = join(dir, 'sum.safetensors');
      const sha = t.saveSafetensors(path, { b: t.tensor([true, false, true]), w: t.tensor([0.5, -1], { dtype: 'float32' }) });
      assert.match(sha, /^[0-9a-f]{64}$/);
      assert.deepEqual(t.loadSafetensors(path, { sha256: sha }).tensors.get('b')!.toArray(), [1, 0, 1]);
      // Flip one data byte: the file still parses, the checksum catches it.
      const bytes = readFileSync(path);
      bytes[bytes.length - 1] ^= 0x01;
      writeFileSync(path, bytes);
      assert.deepEqual(t.loadSafetensors(path).tensors.get('w')!.shape, [2], 'without a checksum it loads');
      assert.throws(
        () => t.loadSafetensors(path, { sha256: sha }),
        (e: unknown) => {
          assert.ok(e instanceof t.InputError);
          assert.equal(e.code, 'ERR_CHECKSUM');
          assert.ok(e.message.startsWith(`${path}: checksum mismatch`), e.message);
          return true;
        },
      );
    });
  });

  for (const [dtype, bad] of [
    ['float32', Number.NaN],
    ['float64', Number.POSITIVE_INFINITY],
    ['float16', Number.NEGATIVE_INFINITY],
    ['bfloat16', Number.NaN],
  ] as const) {
    test(`requireFinite refuses ${bad} in a ${dtype} tensor, naming the file and tensor`, () => {
      t.scope(() => {
        const path = join(dir, `nonfinite-${dtype}.safetensors`);
        t.saveSafetensors(path, { ok: t.tensor([1, 2], { dtype }), 'G_ema.w': t.tensor([0, 1, bad, 3], { dtype }) });
        assert.equal(t.loadSafetensors(path).tensors.size, 2, 'loads without the option');
        const before = t.memory().liveTensors;
        assert.throws(
          () => t.loadSafetensors(path, { requireFinite: true }),
          (e: unknown) => {
            assert.ok(e instanceof t.InputError);
            assert.equal(e.code, 'ERR_NON_FINITE');
            assert.equal(e.message, `${path}: tensor G_ema.w holds non-finite values (NaN or ±Inf)`);
            return true;
          },
        );
        assert.equal(t.memory().liveTensors, before);
      });
    });
  }

  test('a missing file is InputError ERR_FILE', () => {
    assert.throws(
      () => t.loadSafetensors(join(dir, 'does-not-exist.safetensors')),
      (e: unknown) => {
        assert.ok(e instanceof t.InputError);
        assert.equal(e.code, 'ERR_FILE');
        return true;
      },
    );
  });

  test('valid after all the rejections: the good file still decodes', () => {
    t.scope(() => {
      assert.deepEqual(t.decodeSafetensors(buildFile(good, goodData)).tensors.get('a')!.toArray(), [1, 2]);
    });
  });
});
