// SPDX-License-Identifier: MIT
// A recursive walk over a folder's files that never follows links and skips folders it cannot read.
import { type Dirent, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Calls `visit` with the path and entry of every non-folder under `dir` (symlinks are visited, not followed). */
export function walkFiles(dir: string, visit: (path: string, entry: Dirent) => void): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, visit);
    else visit(p, e);
  }
}
