// SPDX-License-Identifier: MIT
// File-system errors as one readable phrase ("permission denied"), for messages that name the file themselves
// (Node's own text names the syscall and, for atomic writes, a temp file the user never asked for).

const phrases: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ENAMETOOLONG: 'file name too long',
};

/** The error's `code` as a phrase ("permission denied"); the message's first line for other errors. */
export function describeFsError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in phrases) return phrases[code]!;
  const line = ((e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '').trim();
  // Node's errno text is "ECODE: phrase, syscall 'path'": keep the phrase only.
  const errno = /^E[A-Z]+: ([^,]+)/.exec(line);
  return errno ? errno[1]! : line;
}
