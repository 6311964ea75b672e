// SPDX-License-Identifier: MIT
// Runs N copies of a snippet (or of the CLI) as ranks of one process group over loopback, each in a child process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/util/freePort.js';

export { freePort };

const indexUrl = new URL('../../src/index.js', import.meta.url).href;

export interface RankResult {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs `node args…` with `env` added; resolves with its exit and output (killed after `timeoutMs`). */
export function runNode(args: string[], env: Record<string, string>, timeoutMs: number, cwd?: string): Promise<RankResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, OMP_NUM_THREADS: '1', ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** Runs `code` (ESM, with `t` the library and `rank`, `world`, `port` in scope) as `world` ranks at once. */
export async function runRanks(code: string, world: number, timeoutMs = 30_000): Promise<RankResult[]> {
  const port = await freePort();
  const program = `import * as t from ${JSON.stringify(indexUrl)};
const rank = Number(process.env.RANK), world = Number(process.env.WORLD_SIZE), port = Number(process.env.MASTER_PORT);
${code}`;
  return Promise.all(
    Array.from({ length: world }, (_, rank) =>
      runNode(
        ['--input-type=module', '-e', program],
        { RANK: String(rank), WORLD_SIZE: String(world), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), ILSGAN_NUM_THREADS: '1' },
        timeoutMs,
      ),
    ),
  );
}

export const repoRootDir = fileURLToPath(new URL('../../../', import.meta.url));
