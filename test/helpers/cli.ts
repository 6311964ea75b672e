// SPDX-License-Identifier: MIT
// Runs the compiled `ilsgan` CLI in a child process, and the check every CLI test makes of a user error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './childProcess.js';

export const cliPath = join(repoRoot, 'dist/src/cli/main.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `ilsgan <args>` in `cwd`; returns exit status and output. */
export function runCli(args: string[], cwd: string, timeoutMs = 120_000): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: timeoutMs, cwd });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2, a readable message matching `pattern`, no stack frames, no internal error names. */
export function assertUserError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit status (stderr: ${r.stderr})`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
  assert.doesNotMatch(r.stderr, /InputError|TypeError|node:internal/);
}
