// SPDX-License-Identifier: MIT
// Issue 15 item 3: the CLI tells a user error from a bug by its type, not by where the stack points. An InputError
// (util/errors.ts) is one line and a hint (exit 2); anything else, a plain Error included, is a bug and prints its
// stack (exit 1). Before, a plain Error thrown outside dist/src/tensor/ passed for a user error and lost its stack.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as api from '../../src/index.js';
import { readImageFile } from '../../src/data/decode.js';
import * as tensorErrors from '../../src/tensor/errors.js';
import { InputError } from '../../src/util/errors.js';
import { assertUserError, cliPath, runCli } from '../helpers/cli.js';

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-honest-errors-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

/**
 * `ilsgan <args>` with a bug planted: fs.statSync throws a plain Error for paths ending in `bug-here` (a preloaded
 * module swaps it in node:fs's exports, which the CLI's named imports then see).
 */
function cliWithBug(args: string[]) {
  const preload = [
    "import fs from 'node:fs';",
    "import { syncBuiltinESMExports } from 'node:module';",
    'const statSync = fs.statSync;',
    "fs.statSync = (p, ...rest) => { if (String(p).endsWith('bug-here')) throw new Error('internal: a planted bug'); return statSync(p, ...rest); };",
    'syncBuiltinESMExports();',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, cliPath, ...args], {
    encoding: 'utf8',
    cwd: root,
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI: user errors by type, bugs with their stack', () => {
  test('a plain Error from a command (a bug) prints its stack and exits 1', () => {
    const run = join(root, 'bug-here');
    mkdirSync(run);
    const r = cliWithBug(['train', '--resume', run]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^Error: internal: a planted bug$/m);
    assert.match(r.stderr, /^\s+at .*dist\/src\/cli\/commands\/train\.js:\d+:\d+\)?$/m, 'the stack, down to the command');
    assert.doesNotMatch(r.stderr, /^error: /m, 'not dressed as a user error');
  });

  test('the planted fault only fires on its path: the same command on another folder is an InputError', () => {
    const r = cliWithBug(['train', '--resume', join(root, 'missing-run')]);
    assertUserError(r, /^error: no run at .*missing-run$/m);
  });

  test('an InputError prints one line and its hint, exit 2, no stack', () => {
    const r = runCli(['train', '--resume', join(root, 'no-such-run')], root);
    assertUserError(r, /^error: no run at /);
    assert.deepEqual(
      r.stderr
        .trimEnd()
        .split('\n')
        .map((l) => l.split(':')[0]),
      ['error', 'hint'],
    );
  });
});

describe('InputError lives in util/', () => {
  test('one class: util/errors.ts, re-exported by the tensor API and the package entry', () => {
    assert.equal(tensorErrors.InputError, InputError);
    assert.equal(api.InputError, InputError);
    const e = new InputError('bad', 'ERR_X', 'do this');
    assert.deepEqual([e.name, e.message, e.code, e.hint], ['InputError', 'bad', 'ERR_X', 'do this']);
    assert.equal(new InputError('bad').code, 'ERR_INPUT');
  });

  test('an unreadable image file is an InputError (ERR_FILE), not a plain Error', async () => {
    const eacces = Object.assign(new Error("EACCES: permission denied, open '/x/a.png'"), { code: 'EACCES' });
    await assert.rejects(
      readImageFile('/x/a.png', async () => {
        throw eacces;
      }),
      (e) => e instanceof InputError && e.code === 'ERR_FILE',
    );
  });
});
