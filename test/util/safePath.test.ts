// SPDX-License-Identifier: MIT
// resolveInside / fileInside (issue 14, item 10) and the strict JSON and schema helpers they are used with.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileInside, resolveInside } from '../../src/util/safePath.js';
import { array, int, object, optional, str, validate } from '../../src/util/schema.js';
import { findDuplicateKey, parseJsonStrict } from '../../src/util/strictJson.js';

let root = '';
let dir = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-safepath-'));
  dir = join(root, 'set');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(dir, 'sub', 'a.png'), 'a');
  writeFileSync(join(root, 'outside', 'b.png'), 'b');
  symlinkSync(join(root, 'outside'), join(dir, 'out-link'));
  symlinkSync(join(dir, 'sub'), join(dir, 'in-link'));
  symlinkSync(join(root, 'outside', 'none'), join(dir, 'dangling'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const src = { file: 'x.json', field: 'weights', code: 'ERR_TEST' };

describe('resolveInside', () => {
  test('accepts plain relative paths, missing targets and symlinks that stay inside', () => {
    assert.equal(resolveInside(dir, 'sub/a.png', src), join(dir, 'sub', 'a.png'));
    assert.equal(resolveInside(dir, './sub/a.png', src), join(dir, 'sub', 'a.png'));
    assert.equal(resolveInside(dir, 'sub/missing/deeper.png', src), join(dir, 'sub', 'missing', 'deeper.png'));
    assert.equal(resolveInside(dir, 'in-link/a.png', src), join(dir, 'in-link', 'a.png'));
    assert.equal(
      resolveInside(join(dir, 'in-link'), 'a.png', src),
      join(dir, 'in-link', 'a.png'),
      'a symlinked base folder is its real path',
    );
  });

  const bad: [string, unknown][] = [
    ['.. to an existing file', '../outside/b.png'],
    ['.. to a missing file', '../outside/none.png'],
    ['.. in the middle', 'sub/../../outside/b.png'],
    ['an absolute path', join(root, 'outside', 'b.png')],
    ['a Windows drive path', 'C:\\x\\b.png'],
    ['a backslash ..', 'sub\\..\\..\\b.png'],
    ['a symlinked folder leading out', 'out-link/b.png'],
    ['a missing file under a symlink leading out', 'out-link/none/c.png'],
    ['a dangling symlink', 'dangling'],
    ['an empty string', ''],
    ['a NUL byte', 'sub/a.png\0'],
    ['a number', 7],
    ['null', null],
  ];
  for (const [label, rel] of bad) {
    test(`refuses ${label} with the one message`, () => {
      assert.throws(() => resolveInside(dir, rel, src), {
        name: 'InputError',
        code: 'ERR_TEST',
        message: `x.json: field weights must name a file inside ${dir}`,
      });
    });
  }

  test('fileInside takes one path component only', () => {
    assert.equal(fileInside(dir, 'sub', 'a.png', src), join(dir, 'sub', 'a.png'));
    for (const name of ['..', '.', 'x/a.png', 'x\\a.png', 3]) assert.throws(() => fileInside(dir, 'sub', name, src), { code: 'ERR_TEST' });
    assert.throws(() => fileInside(dir, 'out-link', 'b.png', src), { code: 'ERR_TEST' });
  });
});

describe('strict JSON and the schema checker', () => {
  test('duplicate keys are found at any depth, escapes decoded, strings with braces skipped', () => {
    assert.equal(findDuplicateKey('{"a": 1, "b": {"c": [{"d": 1, "d": 2}]}}'), 'b.c.d');
    assert.equal(findDuplicateKey('{"a": "}{\\"a\\":", "b": [1, {"a": 1}], "\\u0061": 2}'), 'a');
    assert.equal(findDuplicateKey('{"a": [{"x": 1}, {"x": 1}], "s": "\\\\"}'), null, 'the same key in two objects is fine');
    assert.throws(() => parseJsonStrict('{"k": 1, "k": 2}'), { name: 'SyntaxError', message: 'duplicate key "k"' });
    assert.deepEqual(parseJsonStrict('[1, {"k": 2}]'), [1, { k: 2 }]);
  });

  test('validate names the field path and the value; optional fields may be absent; extra fields are left alone', () => {
    const schema = object({ n: int(1, 10), list: array(object({ s: str({ maxLength: 3 }) }), { max: 2 }), o: optional(int(0, 1)) });
    const at = { file: 'f.json', code: 'ERR_X' };
    assert.deepEqual(validate({ n: 2, list: [{ s: 'ab' }], extra: true }, schema, at), { n: 2, list: [{ s: 'ab' }], extra: true });
    assert.throws(() => validate({ n: 11, list: [] }, schema, at), {
      code: 'ERR_X',
      message: 'f.json: field n must be an integer from 1 to 10, got 11',
    });
    assert.throws(() => validate({ n: 1, list: [{ s: 'abcd' }] }, schema, at), {
      message: 'f.json: field list[0].s must be at most 3 characters, got 4',
    });
    assert.throws(() => validate({ n: 1, list: [{}, {}, {}] }, schema, at), {
      message: 'f.json: field list must have from 0 to 2 items, got 3',
    });
    assert.throws(() => validate({ n: 1, list: [], o: 2 }, schema, at), {
      message: 'f.json: field o must be an integer from 0 to 1, got 2',
    });
    assert.throws(() => validate([], schema, at), { message: 'f.json: the top level must be an object, got an array of 0' });
    assert.throws(() => validate({ list: [] }, schema, at), { message: 'f.json: field n is missing' });
  });
});
