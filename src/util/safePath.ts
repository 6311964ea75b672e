// SPDX-License-Identifier: MIT
// Paths read from files (a checkpoint's `weights`, a manifest's folders and file names) resolve strictly inside
// the folder of the file that names them: no absolute paths, no `..`, no symlink that leads out. Every rejection
// gives the same message, so a planted file cannot probe whether some path exists.
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { InputError } from './errors.js';

/** Where a path came from, for the error: the JSON file, the field and the error code. */
export interface PathSource {
  file: string;
  field: string;
  code: string;
}

/** realpath of p, or null when p does not exist; a dangling symlink counts as existing but unresolvable. */
function realpathOrMissing(p: string): string | null | 'dangling' {
  try {
    return realpathSync.native(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return 'dangling';
    try {
      lstatSync(p);
      return 'dangling';
    } catch {
      return null;
    }
  }
}

/** The one error for every path that is not plainly inside `dir`. */
function outside(dir: string, src: PathSource): InputError {
  return new InputError(
    `${src.file}: field ${src.field} must name a file inside ${dir}`,
    src.code,
    'paths in these files are relative, without "..", and may not lead out of the folder through a symlink',
  );
}

/**
 * `rel` (a value read from `src.file`) as a path inside `dir`. The target need not exist (the caller reports a
 * missing file as it would any other), but whatever part of it exists must resolve, symlinks followed, inside
 * `dir`'s real path.
 * @throws InputError (src.code): `<file>: field <field> must name a file inside <dir>`, the same for every reason.
 */
export function resolveInside(dir: string, rel: unknown, src: PathSource): string {
  const reject = () => outside(dir, src);
  if (typeof rel !== 'string' || rel === '' || rel.length > 4096 || rel.includes('\0')) throw reject();
  // Both separators and drive letters, whatever this platform's rules: the file may come from another one.
  if (isAbsolute(rel) || /^[\\/]|^[a-zA-Z]:/.test(rel) || rel.split(/[\\/]/).includes('..')) throw reject();
  const base = realpathOrMissing(dir);
  if (base === null || base === 'dangling') throw reject();
  const target = resolve(dir, rel);
  // Walk up from the target to the deepest part that exists; the missing rest is plain names (no `..`).
  let p = target;
  let tail = '';
  for (;;) {
    const real = realpathOrMissing(p);
    if (real === 'dangling') throw reject();
    if (real !== null) {
      const full = tail ? join(real, tail) : real;
      if (full !== base && !full.startsWith(base.endsWith(sep) ? base : base + sep)) throw reject();
      return target;
    }
    const up = dirname(p);
    if (up === p) throw reject();
    tail = tail ? join(basename(p), tail) : basename(p);
    p = up;
  }
}

/**
 * A plain file name read from a file (a manifest's `files` entry: one path component, not `.` or `..`) in the
 * sub-folder `folder` of `root`, checked as resolveInside(root, …) does: a symlinked file or folder must stay
 * inside `root` too.
 */
export function fileInside(root: string, folder: string, name: unknown, src: PathSource): string {
  if (typeof name !== 'string' || /[\\/]/.test(name) || name === '.' || name === '..') {
    throw outside(root, src);
  }
  return resolveInside(root, folder ? `${folder}/${name}` : name, src);
}
