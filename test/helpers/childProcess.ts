// SPDX-License-Identifier: MIT
// Runs a snippet of ESM in a child Node process (so a crash fails a test instead of killing the runner).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const indexUrl = new URL('../../src/index.js', import.meta.url).href;
const nativeUrl = new URL('../../src/tensor/native.js', import.meta.url).href;

/** Runs `code` with `t` (the library) and `native` (the raw binding) in scope; returns exit status and output. */
export function runChild(
  code: string,
  timeoutMs = 60_000,
): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const program = `import * as t from ${JSON.stringify(indexUrl)}; import { native } from ${JSON.stringify(nativeUrl)};\n${code}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
