// SPDX-License-Identifier: MIT
// Issue 14, items 6–9: sizes, scale factors and window parameters are checked by the addon itself (the TS layer
// is not its only caller), and allocations that cannot succeed come back as catchable ERR_OUT_OF_MEMORY errors
// instead of ERR_TORCH, a V8 abort or an out-of-bounds read. Anything that used to kill the process runs in a
// child; the memory-limit cases lower the child's own address-space limit (prlimit) just above what it already
// uses, so they need no real memory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import * as t from '../../src/index.js';
import { native } from '../../src/tensor/native.js';
import { runChild } from '../helpers/childProcess.js';

const F32 = 6;
const CPU = -1;
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;

/** The error `fn` throws (fails when it returns). */
function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  assert.fail('expected a throw');
}

function assertCode(fn: () => unknown, code: string, message?: RegExp): Error & { code?: string } {
  const e = thrown(fn);
  assert.equal(e.code, code, `${e.message} (code ${String(e.code)})`);
  if (message) assert.match(e.message, message);
  return e;
}

/** Runs `code` in a child and asserts it ended normally; returns its stdout lines. */
function childLines(code: string): string[] {
  const r = runChild(code, 60_000);
  assert.equal(r.signal, null, `child killed by ${r.signal}: ${r.stderr.slice(-1500)}`);
  assert.equal(r.status, 0, `child exited ${r.status}: ${r.stderr.slice(-1500)}`);
  return r.stdout.trim().split('\n');
}

// In the child: lowers its own soft address-space limit to what it maps now plus `headroom` bytes, and back.
const limitHelpers = `
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
const mapped = () => Number(/VmSize:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const limit = (headroom) => execFileSync('prlimit', ['--pid', String(process.pid), '--as=' + (mapped() + headroom) + ':']);
const unlimit = () => execFileSync('prlimit', ['--pid', String(process.pid), '--as=unlimited:']);
const codeOf = (fn) => { try { fn(); return 'returned'; } catch (e) { return String(e.code) + ' ' + e.constructor.name; } };
`;

describe('interpolate scale factors (item 8)', () => {
  test('a scale that does not imply the size is refused, not read out of bounds (was SIGSEGV)', () => {
    const lines = childLines(`
      const img = native.rand([1, 2, 4, 4], ${F32}, ${CPU});
      const codeOf = (fn) => { try { fn(); return 'returned'; } catch (e) { return String(e.code) + ' ' + e.constructor.name; } };
      for (const mode of [0, 1, 2, 3]) console.log(codeOf(() => native.interpolate(img, [3, 3], mode, false, 1e-7, 1e-7)));
      for (const s of [NaN, Infinity, -2, 0]) console.log(codeOf(() => native.interpolate(img, [8, 8], 1, false, s, 2)));
      console.log(codeOf(() => native.interpolate(img, [300, 300], 1, true, 1e-7, 1e-7)));
    `);
    assert.equal(lines.length, 9);
    for (const l of lines) assert.equal(l, 'ERR_OUT_OF_RANGE RangeError');
  });

  test('scales that imply the size still work, and give what the size alone gives', () => {
    t.scope(() => {
      const x = t.rand([1, 2, 5, 3]);
      const bySize = t.nn.interpolate(x, { size: [10, 6], mode: 'bilinear' });
      const byScale = t.nn.interpolate(x, { scaleFactor: 2, mode: 'bilinear' });
      assert.deepEqual(byScale.shape, [1, 2, 10, 6]);
      assert.ok(bySize.sub(byScale).abs().amax().item() < 1e-6);
      const h = native.interpolate(x.handle, [2, 1], 0, false, 0.5, 0.5); // floor(5·0.5) = 2, floor(3·0.5) = 1
      assert.deepEqual(native.shape(h), [1, 2, 2, 1]);
      native.dispose(h);
      assertCode(() => native.interpolate(x.handle, [3, 1], 0, false, 0.5, 0.5), 'ERR_OUT_OF_RANGE', /scaleH 0\.5.* implies size 2/);
    });
  });
});

describe('window parameters beyond int (item 9)', () => {
  const P = 2 ** 32;
  test('a pooling kernel of 2^32 + 2 is refused (libtorch pooled with a kernel of 2)', () => {
    t.scope(() => {
      const x = t.rand([1, 2, 8, 8]);
      assertCode(
        () => native.avgPool2d(x.handle, [P + 2, P + 2], [1, 1], [0, 0], false, true),
        'ERR_OUT_OF_RANGE',
        /avgPool2d: kernel must be 2 integers from 1 to 2147483647/,
      );
      assertCode(() => t.nn.avgPool2d(x, P + 2, { stride: 1 }), 'ERR_OUT_OF_RANGE');
      assertCode(() => native.avgPool2d(x.handle, [2, 2], [P + 1, 1], [0, 0], false, true), 'ERR_OUT_OF_RANGE', /stride/);
      assertCode(() => native.maxPool2d(x.handle, [2, 2], [1, 1], [0, 0], [2 ** 31, 1], false), 'ERR_OUT_OF_RANGE', /dilation/);
      assertCode(() => native.maxPool2d(x.handle, [2], [1, 1], [0, 0], [1, 1], false), 'ERR_OUT_OF_RANGE', /kernel must be 2 integers/);
      // In range, the shapes are the ordinary ones.
      assert.deepEqual(t.nn.avgPool2d(x, 2).shape, [1, 2, 4, 4]);
      assert.deepEqual(t.nn.maxPool2d(x, 3, { stride: 2, padding: 1, dilation: 1 }).shape, [1, 2, 4, 4]);
    });
  });

  test('conv2d: groups of 2^32 + 1 and strides or dilations beyond int are refused (groups was taken as 1)', () => {
    t.scope(() => {
      const x = t.rand([1, 2, 8, 8]);
      const w = t.rand([3, 2, 3, 3]);
      assertCode(() => native.conv2d(x.handle, w.handle, null, [1, 1], [0, 0], [1, 1], P + 1), 'ERR_OUT_OF_RANGE', /conv2d: groups/);
      assertCode(() => native.conv2d(x.handle, w.handle, null, [P + 1, P + 1], [0, 0], [1, 1], 1), 'ERR_OUT_OF_RANGE', /conv2d: stride/);
      assertCode(() => native.conv2d(x.handle, w.handle, null, [1, 1], [P, P], [P + 1, P + 1], 1), 'ERR_OUT_OF_RANGE', /conv2d: padding/);
      assertCode(() => t.nn.conv2d(x, w, null, { dilation: 2 ** 31 }), 'ERR_OUT_OF_RANGE', /dilation/);
      assert.deepEqual(t.nn.conv2d(x, w, null, { stride: 2, padding: 1, dilation: 2 }).shape, [1, 3, 3, 3]);
    });
  });

  test('convTranspose2d: an output size that overflows int64 is refused (it wrapped around)', () => {
    t.scope(() => {
      // A 1-element tensor expanded to a height of 2^40 (a view: no memory), then stride 2^30: (2^40 − 1)·2^30 > 2^63.
      const x = t.ones([1, 1, 1, 1]).expand([1, 1, 2 ** 40, 1]);
      const w = t.rand([1, 1, 1, 1]);
      assertCode(
        () => native.convTranspose2d(x.handle, w.handle, null, [2 ** 30, 1], [0, 0], [0, 0], 1, [1, 1]),
        'ERR_OUT_OF_RANGE',
        /overflows int64/,
      );
      // Within int64 but far beyond memory: refused before anything is allocated.
      assertCode(() => native.convTranspose2d(x.handle, w.handle, null, [2 ** 20, 1], [0, 0], [0, 0], 1, [1, 1]), 'ERR_OUT_OF_MEMORY');
      assertCode(
        () => native.convTranspose2d(x.handle, w.handle, null, [1, 1], [0, 0], [0, 0], 2 ** 31, [1, 1]),
        'ERR_OUT_OF_RANGE',
        /groups/,
      );
    });
  });
});

describe('allocation failures are ERR_OUT_OF_MEMORY (items 6, 7, 9)', () => {
  test('sizes beyond the machine or beyond int64 are refused before allocating, with ERR_OUT_OF_MEMORY (was ERR_TORCH)', () => {
    const cases: [string, () => unknown][] = [
      ['zeros 2^40', () => native.zeros([2 ** 40], F32, CPU)],
      ['empty product beyond int64', () => native.empty([2 ** 31, 2 ** 31, 4], F32, CPU)],
      ['full', () => native.full([2 ** 20, 2 ** 20, 2 ** 10], 0, F32, CPU)],
      ['randn', () => native.randn([2 ** 45], F32, CPU)],
      ['randperm', () => native.randperm(2 ** 50, 4, CPU)],
      ['eye', () => native.eye(2 ** 31, 2 ** 31, F32, CPU)],
      ['linspace', () => native.linspace(0, 1, 2 ** 50, F32, CPU)],
      ['arange', () => native.arange(0, 1e18, 1, 4, CPU)],
      ['t.zeros', () => t.zeros([2 ** 40])],
      ['t.ones 700e6 x 1e4', () => t.ones([700e6, 1e4])],
    ];
    t.scope(() => {
      const x = t.rand([1, 2, 4, 4]);
      cases.push(['interpolate', () => native.interpolate(x.handle, [2 ** 31, 2 ** 31], 0, false, null, null)]);
      cases.push(['adaptiveAvgPool2d', () => native.adaptiveAvgPool2d(x.handle, [2 ** 31, 2 ** 31])]);
      cases.push(['repeat', () => native.repeat(x.handle, [2 ** 20, 2 ** 20, 1, 1])]);
      cases.push(['pad', () => native.pad(x.handle, [2 ** 40, 0], 0, 0)]);
      cases.push(['oneHot', () => native.oneHot(native.zeros([2], 4, CPU), 2 ** 50)]);
      cases.push(['affineGrid', () => native.affineGrid(native.rand([1, 2, 3], F32, CPU), [1, 2, 2 ** 31, 2 ** 31], false)]);
      for (const [name, fn] of cases) {
        const e = thrown(fn);
        assert.equal(e.code, 'ERR_OUT_OF_MEMORY', `${name}: ${e.message} (${String(e.code)})`);
        assert.ok(e instanceof t.TensorError, `${name}: a TensorError`);
      }
    });
  });

  test('negative and non-integer sizes are refused with a code, from the addon and from the API', () => {
    assertCode(() => native.zeros([2, -1], F32, CPU), 'ERR_OUT_OF_RANGE', /zeros: shape \[2, -1\] has a negative size/);
    assertCode(() => native.zeros([2.5], F32, CPU), 'ERR_INVALID_ARG_TYPE');
    assertCode(() => native.zeros(new Array(70).fill(1), F32, CPU), 'ERR_OUT_OF_RANGE', /at most 64 dims/);
    assertCode(() => native.linspace(0, 1, -3, F32, CPU), 'ERR_OUT_OF_RANGE', /linspace: steps/);
    // 2^53 is not an exact JS integer: the API names the op and the value (the addon answered "argument 0").
    assertCode(() => t.zeros([2 ** 53]), 'ERR_INVALID_ARG_VALUE', /zeros: expected a shape .* below 2\^53/);
    assertCode(() => native.dropout(native.ones([2], F32, CPU), NaN, true), 'ERR_OUT_OF_RANGE', /dropout: p/);
    assertCode(
      () => native.batchNorm(native.ones([2, 3], F32, CPU), null, null, null, null, true, Infinity, 1e-5),
      'ERR_OUT_OF_RANGE',
      /momentum/,
    );
  });

  test(
    'an allocation the allocator itself refuses is ERR_OUT_OF_MEMORY (was ERR_TORCH)',
    { skip: !hasPrlimit && 'prlimit is not installed' },
    () => {
      const lines = childLines(`${limitHelpers}
      limit(128 * 2 ** 20);
      console.log(codeOf(() => native.zeros([64e6], ${F32}, ${CPU})));    // 256 MB under a 128 MB headroom
      console.log(codeOf(() => t.ones([64e6])));
      unlimit();
      console.log(codeOf(() => native.dispose(native.zeros([1000], ${F32}, ${CPU}))));
    `);
      assert.deepEqual(lines, ['ERR_OUT_OF_MEMORY TensorError', 'ERR_OUT_OF_MEMORY TensorError', 'returned']);
    },
  );

  test(
    'bytes() and data() of a tensor whose host copy cannot be allocated throw ERR_OUT_OF_MEMORY (was a V8 abort, exit 134)',
    { skip: !hasPrlimit && 'prlimit is not installed' },
    () => {
      const lines = childLines(`${limitHelpers}
      const x = t.zeros([64e6]);                  // 256 MB, allocated before the limit
      limit(128 * 2 ** 20);
      console.log(codeOf(() => x.bytes()));
      console.log(codeOf(() => x.data()));
      console.log(codeOf(() => native.toBuffer(x.handle)));
      unlimit();
      const small = t.arange(4);
      console.log(Array.from(small.data()).join(','), x.bytes().length);
    `);
      assert.deepEqual(lines, [
        'ERR_OUT_OF_MEMORY TensorError',
        'ERR_OUT_OF_MEMORY TensorError',
        'ERR_OUT_OF_MEMORY TensorError',
        `0,1,2,3 ${64e6 * 4}`,
      ]);
    },
  );

  test('a batch beyond any buffer is refused before its index list grows (train --batch 1e12 was a V8 fatal error)', () => {
    const loaderUrl = new URL('../../src/data/loader.js', import.meta.url).href;
    const segUrl = new URL('../../src/seg/train.js', import.meta.url).href;
    const lines = childLines(`
      const { BatchSampler } = await import(${JSON.stringify(loaderUrl)});
      const { ShuffledSampler, trainSegmenter } = await import(${JSON.stringify(segUrl)});
      const set = { count: 4, size: 32, pixels: new Uint8Array(4 * 3 * 32 * 32) };
      const codeOf = (fn) => { try { fn(); return 'returned'; } catch (e) { return String(e.code) + ' ' + e.name; } };
      const s = new BatchSampler(set, 1);
      console.log(codeOf(() => s.nextIndices(1e12)));
      console.log(codeOf(() => s.next(1e12)));
      console.log(codeOf(() => s.nextIndices(0)));
      console.log(s.nextIndices(6).length);
      console.log(codeOf(() => new ShuffledSampler(4, 1).next(1e12)));
      console.log(new ShuffledSampler(4, 1).next(6).length);
      try { await trainSegmenter({ synthetic: '/nonexistent', batch: 1e12 }); } catch (e) { console.log(e.code, e.message); }
    `);
    assert.deepEqual(lines, [
      'ERR_OUT_OF_MEMORY InputError',
      'ERR_OUT_OF_MEMORY InputError',
      'ERR_INVALID_ARG_VALUE InputError',
      '6',
      'ERR_ARG InputError',
      '6',
      'ERR_ARG batch 1000000000000 at 64² needs 49152000000000000 bytes for its input alone, more than one buffer holds (4294967296)',
    ]);
  });
});
