// SPDX-License-Identifier: MIT
// The install path a new user takes (scripts/buildNative.mjs): the route that was asked for is the one built,
// the compiler's own include folders are never passed again, and a machine where the install cannot get
// libtorch gets one message with the exact commands, a non-zero exit and no stack trace.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/childProcess.js';
import { cliPath } from '../helpers/cli.js';

const script = join(repoRoot, 'scripts', 'buildNative.mjs');

/** Runs the build script with a system route that finds nothing (an empty sysroot). */
function buildWithoutLibtorch(env: Record<string, string>, uid?: number) {
  const empty = mkdtempSync(join(tmpdir(), 'ilsgan-sysroot-'));
  try {
    return spawnSync(process.execPath, [script], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ILSGAN_TEST_SYSROOT: empty, ILSGAN_LIBTORCH: 'system', ...env },
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}

function assertInstallMessage(r: ReturnType<typeof spawnSync>, why: RegExp): void {
  const stderr = String(r.stderr);
  assert.notEqual(r.status, 0, 'exit status');
  assert.match(stderr, /libtorch was not found \(route: system\)/);
  assert.match(stderr, why);
  assert.match(stderr, /apt-get install -y --no-install-recommends libtorch-dev libopenblas0-openmp/);
  assert.match(stderr, /ILSGAN_LIBTORCH=\/path\/to\/libtorch/);
  assert.doesNotMatch(stderr, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
}

describe('native build', () => {
  test('the route recorded in build/libtorch.json is the one ILSGAN_LIBTORCH asked for', () => {
    const record = JSON.parse(readFileSync(join(repoRoot, 'build', 'libtorch.json'), 'utf8')) as { route: string; version: string };
    assert.match(record.version, /^\d+\.\d+\.\d+$/);
    const asked = process.env.ILSGAN_LIBTORCH;
    if (asked === 'system' || asked === 'python') assert.equal(record.route, asked);
    else if (asked && asked !== 'auto') assert.equal(record.route, 'folder');
  });

  test('no compiler default include folder is passed as -isystem/-I (g++ 12 loses <stdlib.h> otherwise)', () => {
    const { flags } = JSON.parse(readFileSync(join(repoRoot, 'build', 'obj', 'flags.txt'), 'utf8')) as { flags: string[] };
    const passed = flags.flatMap((f, i) => (f === '-isystem' || f === '-I' ? [flags[i + 1]!] : f.startsWith('-I') ? [f.slice(2)] : []));
    const v = spawnSync('g++', ['-xc++', '-E', '-v', '-'], { input: '', encoding: 'utf8' }).stderr;
    const defaults = v
      .slice(v.indexOf('search starts here:'), v.indexOf('End of search list.'))
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter(Boolean);
    assert.ok(defaults.includes('/usr/include'), 'g++ -v lists /usr/include');
    const real = (p: string) => {
      try {
        return realpathSync(p);
      } catch {
        return p;
      }
    };
    for (const d of passed) assert.ok(!defaults.map(real).includes(real(d)), `${d} is a compiler default folder`);
  });

  test('no libtorch and ILSGAN_NO_APT=1: one message with the apt command, exit ≠ 0, no stack trace', () => {
    assertInstallMessage(buildWithoutLibtorch({ ILSGAN_NO_APT: '1' }), /ILSGAN_NO_APT is set/);
  });

  test(
    'no libtorch and not root: the same message with sudo',
    { skip: process.getuid?.() !== 0 && 'needs root to drop to another user' },
    () => {
      const r = buildWithoutLibtorch({}, 65534);
      if (/EACCES|permission denied/i.test(String(r.stderr)) && !/libtorch was not found/.test(String(r.stderr))) {
        assert.fail(`the checkout must be readable by other users for this test: ${r.stderr}`);
      }
      assertInstallMessage(r, /not running as root/);
      assert.match(String(r.stderr), /sudo sh -c/);
    },
  );

  test('a libtorch folder that is not one: a one-line error naming it', () => {
    const r = spawnSync(process.execPath, [script], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ILSGAN_LIBTORCH: '/nonexistent/libtorch' },
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /ILSGAN_LIBTORCH=\/nonexistent\/libtorch has no include\/ATen\/ATen\.h/);
  });
});

describe('ilsgan --version', () => {
  test('names the package, libtorch, device, BLAS and bfloat16 support', () => {
    const r = spawnSync(process.execPath, [cliPath, '--version', '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout) as Record<string, unknown>;
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal(v.ilsgan, pkg.version);
    assert.match(String(v.libtorch), /^\d+\.\d+/);
    assert.match(String(v.device), /cpu/);
    assert.equal(typeof v.blas, 'string');
    assert.equal(typeof v.bfloat16_native, 'boolean');
    assert.equal(v.recipe_cpu_precision, v.bfloat16_native ? 'bfloat16' : 'fp32', '--recipe cpu: bfloat16 where native');
    const text = spawnSync(process.execPath, [cliPath, '--version'], { encoding: 'utf8', timeout: 60_000 }).stdout;
    assert.match(text, /^ilsgan \d+\.\d+\.\d+\nlibtorch \d/);
  });

  test('--help does not load libtorch (a missing addon does not matter to it)', () => {
    const r = spawnSync(process.execPath, [cliPath, 'train', '--help'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ILSGAN_NATIVE: '/nonexistent/ilsgan.node' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /--batch/);
  });
});
