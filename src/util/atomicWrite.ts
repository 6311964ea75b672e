// SPDX-License-Identifier: MIT
// Atomic file writes: a temp file in the same folder, fsync, then rename, so a crash never leaves half a file.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

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
