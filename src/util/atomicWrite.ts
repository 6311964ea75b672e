// SPDX-License-Identifier: MIT
// Atomic file writes: a temp file in the same folder, fsync, then rename, so a crash never leaves half a file.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { walkFiles } from './walkFiles.js';

/** Writes `chunks` to `path` atomically (readers see the old file or the whole new one). */
export function writeFileAtomic(path: string, chunks: Uint8Array | readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    for (const c of chunks instanceof Uint8Array ? [chunks] : chunks) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Whether a file name is one of writeFileAtomic's temp files (`.<name>.<pid>.<time>.tmp`). */
export function isAtomicTempFile(name: string): boolean {
  return /^\..+\.\d+\.[0-9a-z]+\.tmp$/.test(name);
}

/**
 * Removes the temp files a killed writer left under `dir` (recursively, not following links); returns their paths.
 * Call it only on a folder this process holds the lock of (util/runLock.ts), where no other writer can be at work.
 */
export function removeAtomicTempFiles(dir: string): string[] {
  const removed: string[] = [];
  walkFiles(dir, (p, e) => {
    if (e.isFile() && isAtomicTempFile(e.name)) {
      rmSync(p, { force: true });
      removed.push(p);
    }
  });
  return removed;
}
