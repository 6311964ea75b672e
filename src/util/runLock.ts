// SPDX-License-Identifier: MIT
// An exclusive lock on an output folder (a training run, a pipeline or demo folder): `<dir>/.ilsgan.lock`, created
// atomically, holding the owner's pid, host, process start and command. A second process gets a one-line error
// naming the holder; a lock left by a dead process on the same host is taken over; the lock goes on exit, on
// errors and on SIGINT/SIGTERM (a SIGKILL leaves a stale lock, which the next run takes over).
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InputError } from './errors.js';

/** The lock file's name inside the locked folder. */
export const lockFileName = '.ilsgan.lock';

/** What the lock file holds. */
export interface LockOwner {
  pid: number;
  hostname: string;
  /** The owner's start time as the kernel counts it (/proc/<pid>/stat field 22), so a reused pid is told apart;
   *  null where /proc is not available. */
  processStart: string | null;
  /** ISO time the lock was taken. */
  started: string;
  /** What the owner runs, e.g. `train`. */
  command: string;
}

export interface RunLock {
  readonly dir: string;
  readonly path: string;
  /** Removes the lock file if it is still this process's (idempotent). */
  release(): void;
}

/** The start time of process `pid` in clock ticks since boot, or null where /proc cannot tell. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

/** Whether the owner of a lock is still running: false only when that is certain (same host, pid gone or reused). */
export function isOwnerAlive(owner: LockOwner): boolean {
  if (owner.hostname !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: a live process of another user.
  }
  if (owner.processStart !== null) {
    const now = processStartTime(owner.pid);
    // The pid runs, but a process started at another time: the owner died and its pid was reused.
    if (now !== null && now !== owner.processStart) return false;
  }
  return true;
}

const held = new Set<RunLock>();
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** On a signal nobody else handles, release every lock and die of the same signal (the default behaviour). */
function onSignal(sig: NodeJS.Signals): void {
  // Another listener (the training loop's clean stop) handles it: the locks go when its run unwinds.
  if (process.listenerCount(sig) > 1) return;
  releaseAll();
  process.kill(process.pid, sig);
}

function releaseAll(): void {
  for (const lock of [...held]) lock.release();
}

function track(lock: RunLock): void {
  if (held.size === 0) {
    for (const s of signals) process.on(s, onSignal);
    process.on('exit', releaseAll);
  }
  held.add(lock);
}

function untrack(lock: RunLock): void {
  held.delete(lock);
  if (held.size === 0) {
    for (const s of signals) process.removeListener(s, onSignal);
    process.removeListener('exit', releaseAll);
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return Number.isInteger(o?.pid) && typeof o.hostname === 'string' ? o : null;
  } catch {
    return null;
  }
}

/**
 * Takes the exclusive lock on `dir` (which must exist) for `command`.
 * @throws InputError ERR_RUN_LOCKED when a live process holds it (the message names its pid, host and command).
 */
export function acquireRunLock(dir: string, command: string): RunLock {
  const path = join(dir, lockFileName);
  const me: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    processStart: processStartTime(process.pid),
    started: new Date().toISOString(),
    command,
  };
  // The content goes to a private file first and is hard-linked into place: link() fails when the lock exists,
  // like O_EXCL, and a reader never sees a lock file without its owner.
  const tmp = join(dir, `${lockFileName}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const fd = openSync(tmp, 'wx');
  try {
    writeSync(fd, `${JSON.stringify(me)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, path);
        const lock: RunLock = {
          dir,
          path,
          release() {
            if (!held.has(lock)) return;
            untrack(lock);
            // Only our own lock: never remove one a later owner took over.
            if (readOwner(path)?.pid === me.pid && readOwner(path)?.started === me.started) rmSync(path, { force: true });
          },
        };
        track(lock);
        return lock;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = readOwner(path);
      if (owner && isOwnerAlive(owner)) {
        const self = owner.pid === process.pid && owner.hostname === me.hostname;
        throw new InputError(
          `${dir} is in use by ${self ? 'this process' : `process ${owner.pid}`} on ${owner.hostname} (${owner.command}, since ${owner.started})`,
          'ERR_RUN_LOCKED',
          owner.hostname === me.hostname
            ? `wait for it to finish or stop it (kill ${owner.pid}), or choose another output folder`
            : `if no process on ${owner.hostname} uses it any more, delete ${path}`,
        );
      }
      takeOver(path, owner);
    }
    throw new InputError(`${dir}: could not take the lock ${path}`, 'ERR_RUN_LOCKED', 'another process keeps taking it; retry');
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Moves a stale (or unreadable) lock out of the way, unless another process replaced it in the meantime. */
function takeOver(path: string, stale: LockOwner | null): void {
  // Named like an atomic-write temp file, so a run that finds it left behind removes it (removeAtomicTempFiles).
  const aside = `${path}.${process.pid}.stale${Date.now().toString(36)}.tmp`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it: try again
    throw e;
  }
  const moved = readOwner(aside);
  const same = stale === null ? moved === null : moved !== null && moved.pid === stale.pid && moved.started === stale.started;
  if (!same) {
    // A live owner took the lock between our read and the rename: put its lock back.
    try {
      linkSync(aside, path);
    } catch {
      // A third process holds it now; the next attempt reports that one.
    }
  }
  rmSync(aside, { force: true });
}
