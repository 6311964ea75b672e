// SPDX-License-Identifier: MIT
// The run-folder lock (issue 14, item 1): a second holder is refused with the first one's pid, a lock left by a
// dead process (or a reused pid) is taken over, a lock on another host is respected, and the lock goes away on
// release, on process.exit, on an uncaught error and on SIGINT/SIGTERM. Holders run in child processes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/util/errors.js';
import { isAtomicTempFile, removeAtomicTempFiles } from '../../src/util/atomicWrite.js';
import { type LockOwner, acquireRunLock, lockFileName, processStartTime } from '../../src/util/runLock.js';

const lockUrl = new URL('../../src/util/runLock.js', import.meta.url).href;
let root = '';

before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-lock-test-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function dir(name: string): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** A child that takes the lock on `d`, prints "locked", then runs `then` (ESM, with `lock` in scope). */
function holderScript(d: string, then: string): string {
  return `import { acquireRunLock } from ${JSON.stringify(lockUrl)};
const lock = acquireRunLock(${JSON.stringify(d)}, 'test holder');
process.stdout.write('locked\\n');
${then}`;
}

/** Starts a holder and resolves once it holds the lock. */
function startHolder(d: string, then: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', holderScript(d, then)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += String(b)));
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal, stderr })),
  );
  const locked = new Promise<void>((res, rej) => {
    child.stdout.on('data', (b) => String(b).includes('locked') && res());
    child.on('exit', () => rej(new Error(`holder exited before locking: ${stderr}`)));
  });
  return { child, locked, exited };
}

function writeLock(d: string, owner: Partial<LockOwner>): void {
  const full: LockOwner = {
    pid: 1,
    hostname: hostname(),
    processStart: null,
    started: '2026-01-01T00:00:00.000Z',
    command: 'train',
    ...owner,
  };
  writeFileSync(join(d, lockFileName), `${JSON.stringify(full)}\n`);
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('run lock', () => {
  test("a second holder is refused with the first one's pid; after release the lock can be taken again", async () => {
    const d = dir('busy');
    const h = startHolder(d, 'setTimeout(() => {}, 60000);');
    await h.locked;
    const owner = JSON.parse(readFileSync(join(d, lockFileName), 'utf8')) as LockOwner;
    assert.equal(owner.pid, h.child.pid);
    assert.equal(owner.hostname, hostname());
    assert.equal(owner.command, 'test holder');
    assert.throws(
      () => acquireRunLock(d, 'train'),
      (e: Error) =>
        e instanceof InputError &&
        e.code === 'ERR_RUN_LOCKED' &&
        e.message.includes(`in use by process ${h.child.pid} `) &&
        !e.message.includes('\n') &&
        /kill \d+/.test(e.hint ?? ''),
    );
    h.child.kill('SIGTERM');
    const { signal } = await h.exited;
    assert.equal(signal, 'SIGTERM', 'dies of the signal as it would without the lock');
    assert.ok(!existsSync(join(d, lockFileName)), 'SIGTERM released the lock');
    const lock = acquireRunLock(d, 'train');
    assert.ok(existsSync(lock.path));
    lock.release();
    lock.release();
    assert.ok(!existsSync(lock.path));
    assert.deepEqual(readdirSync(d), [], 'no temp files left');
  });

  test('the same process cannot take the same folder twice', () => {
    const d = dir('twice');
    const lock = acquireRunLock(d, 'pipeline');
    try {
      assert.throws(
        () => acquireRunLock(d, 'train'),
        (e: Error) => e instanceof InputError && e.code === 'ERR_RUN_LOCKED' && /this process/.test(e.message),
      );
    } finally {
      lock.release();
    }
  });

  test('released on SIGINT, on process.exit and on an uncaught error', async () => {
    const cases: [string, string, (r: { code: number | null; signal: string | null }) => void][] = [
      ['sigint', "process.kill(process.pid, 'SIGINT'); setTimeout(() => {}, 60000);", (r) => assert.equal(r.signal, 'SIGINT')],
      ['exit', 'process.exit(3);', (r) => assert.equal(r.code, 3)],
      ['throw', "setTimeout(() => { throw new Error('boom'); }, 10);", (r) => assert.equal(r.code, 1)],
    ];
    for (const [name, then, check] of cases) {
      const d = dir(`release-${name}`);
      const h = startHolder(d, then);
      await h.locked;
      const r = await h.exited;
      check(r);
      assert.ok(!existsSync(join(d, lockFileName)), `${name}: lock removed`);
    }
  });

  test('a lock left by a dead process on this host is taken over', () => {
    const d = dir('stale');
    writeLock(d, { pid: deadPid() });
    const lock = acquireRunLock(d, 'train');
    const owner = JSON.parse(readFileSync(lock.path, 'utf8')) as LockOwner;
    assert.equal(owner.pid, process.pid);
    lock.release();
    assert.deepEqual(readdirSync(d), []);
  });

  test('a live pid that started at another time (a reused pid) holds no lock', { skip: processStartTime(process.pid) === null }, () => {
    const d = dir('reused');
    writeLock(d, { pid: process.ppid, processStart: '1' });
    const lock = acquireRunLock(d, 'train');
    lock.release();
    writeLock(d, { pid: process.ppid, processStart: processStartTime(process.ppid) });
    assert.throws(
      () => acquireRunLock(d, 'train'),
      (e: Error) => e instanceof InputError && e.code === 'ERR_RUN_LOCKED',
    );
  });

  test('a lock from another host is respected, with a hint to remove it by hand', () => {
    const d = dir('remote');
    writeLock(d, { pid: deadPid(), hostname: `not-${hostname()}` });
    assert.throws(
      () => acquireRunLock(d, 'train'),
      (e: Error) =>
        e instanceof InputError &&
        e.code === 'ERR_RUN_LOCKED' &&
        e.message.includes(`on not-${hostname()}`) &&
        (e.hint ?? '').includes(lockFileName),
    );
  });

  test('an unreadable lock file is taken over', () => {
    const d = dir('garbage');
    writeFileSync(join(d, lockFileName), 'garbage');
    acquireRunLock(d, 'train').release();
  });
});

describe('atomic-write temp files', () => {
  test('leftovers are found recursively and removed; other files stay', () => {
    const d = dir('temps');
    mkdirSync(join(d, 'checkpoints'));
    const temps = ['checkpoints/.ckpt-000000004.safetensors.123.lx2abc.tmp', '.config.json.7.a.tmp', `${lockFileName}.99.k2.tmp`];
    const keep = ['checkpoints/ckpt-000000004.json', 'metrics.jsonl', 'notes.tmp', '.hidden'];
    for (const f of [...temps, ...keep]) writeFileSync(join(d, f), 'x');
    assert.ok(temps.every((f) => isAtomicTempFile(f.split('/').pop()!)));
    assert.deepEqual(removeAtomicTempFiles(d).sort(), temps.map((f) => join(d, f)).sort());
    for (const f of keep) assert.ok(existsSync(join(d, f)), f);
  });
});
