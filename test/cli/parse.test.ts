// SPDX-License-Identifier: MIT
// The one table of flag ranges (src/cli/parse.ts): each kind accepts its bounds and rejects what lies past them,
// non-numbers and non-integers, with a message that states the range.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { describeRange, flagRanges, num, type FlagKind } from '../../src/cli/parse.js';

describe('flag ranges', () => {
  test('every kind: its bounds pass, one step past them and garbage fail', () => {
    for (const kind of Object.keys(flagRanges) as FlagKind[]) {
      const r = flagRanges[kind] as { min: number; max: number; integer?: boolean; aboveMin?: boolean };
      const parse = num(kind);
      const step = r.integer ? 1 : 1e-9 * Math.max(1, r.max);
      const lowest = r.aboveMin ? r.min + step : r.min;
      for (const ok of [lowest, r.max]) {
        if (kind === 'netSide' || kind === 'resolution') continue; // checked below (multiples, powers of two)
        assert.equal(parse(String(ok)), ok, `${kind} accepts ${ok}`);
      }
      for (const bad of [String(r.min - step), String(r.max + step), 'abc', '', 'NaN', 'Infinity', '-Infinity']) {
        assert.throws(() => parse(bad), InvalidArgumentError, `${kind} rejects ${JSON.stringify(bad)}`);
      }
      if (r.integer) assert.throws(() => parse(String(lowest + 0.5)), InvalidArgumentError, `${kind} rejects fractions`);
    }
  });

  test('the values the issue found accepted or crashing are rejected with the range in the message', () => {
    assert.throws(() => num('batch')('1e12'), { message: 'expected an integer from 1 to 65536, got "1e12"' });
    assert.throws(() => num('side')('100000'), { message: 'expected an integer from 8 to 1024, got "100000"' });
    assert.throws(() => num('side')('7'), /from 8 to 1024/);
    assert.throws(() => num('count')('1e12'), { message: 'expected an integer from 1 to 1e7, got "1e12"' });
    assert.throws(() => num('probability')('5'), { message: 'expected a number in [0, 1], got "5"' });
    assert.throws(() => num('fraction')('7'), /\[0, 1\]/);
    assert.throws(() => num('shift')('10'), { message: 'expected a number in [0, 0.5], got "10"' });
    assert.throws(() => num('kimg')('0'), { message: 'expected a number in (0, 1e6], got "0"' });
    assert.throws(() => num('threads')('0'), /from 1 to 1024/);
  });

  test('network widths stop where the checkpoint and model schemas stop (what trains can be resumed and loaded)', () => {
    assert.equal(flagRanges.width.max, 4096);
    assert.equal(flagRanges.channelBase.max, 2 ** 16);
  });

  test('extra conditions: U-Net sides are multiples of 16, GAN resolutions powers of two', () => {
    assert.equal(num('netSide')('64'), 64);
    assert.throws(() => num('netSide')('40'), { message: 'expected an integer from 16 to 1024, a multiple of 16, got "40"' });
    assert.equal(num('resolution')('128'), 128);
    assert.throws(() => num('resolution')('96'), /a power of two/);
    assert.equal(describeRange(flagRanges.resolution), 'an integer from 32 to 256, a power of two');
  });
});
