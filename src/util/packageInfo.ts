// SPDX-License-Identifier: MIT
// Where this package is installed, its version, and the git commit it was built from when it sits in a checkout
// (read from .git directly: no git binary needed).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding ilsgan's package.json (src/util and dist/src/util both sit below it); null if not found. */
export function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'ilsgan') return dir;
    } catch {
      // not here: one folder up
    }
    dir = dirname(dir);
  }
  return null;
}

/** The package's version from its package.json, or "unknown". */
export function packageVersion(): string {
  const root = packageRoot();
  if (root === null) return 'unknown';
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const sha = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The commit checked out in the git work tree at `root` (HEAD, following one symbolic ref through loose refs and
 * packed-refs; a .git file of a worktree or submodule is followed too), or null when there is none or it cannot be
 * read. Never throws.
 */
export function gitCommit(root: string | null = packageRoot()): string | null {
  if (root === null) return null;
  let gitDir = join(root, '.git');
  try {
    if (!existsSync(gitDir)) return null;
    if (statSync(gitDir).isFile()) {
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(readText(gitDir) ?? '');
      if (!m) return null;
      gitDir = isAbsolute(m[1]!) ? m[1]! : join(root, m[1]!);
    }
  } catch {
    return null;
  }
  const head = readText(join(gitDir, 'HEAD'))?.trim();
  if (!head) return null;
  if (sha.test(head)) return head;
  const ref = /^ref:\s*(\S+)$/.exec(head)?.[1];
  if (!ref) return null;
  // A linked worktree keeps its HEAD but shares refs with the main repository named in `commondir`.
  const common = readText(join(gitDir, 'commondir'))?.trim();
  const dirs = common ? [gitDir, isAbsolute(common) ? common : join(gitDir, common)] : [gitDir];
  for (const dir of dirs) {
    const loose = readText(join(dir, ref))?.trim();
    if (loose && sha.test(loose)) return loose;
    for (const line of (readText(join(dir, 'packed-refs')) ?? '').split('\n')) {
      const [value, name] = line.trim().split(/\s+/);
      if (name === ref && value && sha.test(value)) return value;
    }
  }
  return null;
}
