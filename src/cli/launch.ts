// SPDX-License-Identifier: MIT
// `ilsgan train --nproc N`: starts N local workers of the same command as ranks of one c10d process group (the
// torchrun environment: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), and stops them all when one fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import type { DeviceName } from './parse.js';
import { InputError } from '../util/errors.js';
import { freePort } from '../util/freePort.js';

/** Seconds the other workers get to stop after one failed, before they are killed. */
const graceSeconds = 10;

/** `args` without `--<name> v` / `--<name>=v`. */
function withoutFlag(args: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) i++;
    else if (!args[i].startsWith(`--${name}=`)) out.push(args[i]);
  }
  return out;
}

/**
 * Runs `node <script> <args>` as `nproc` ranks on this machine, the CPU threads split between them (`threads`,
 * default all cores). Rank 0's output is the command's; the others print only their errors. When a worker exits
 * with an error, the others are stopped (SIGTERM, SIGKILL after 10 s). Resolves with rank 0's exit code, or the
 * first failing worker's.
 */
export async function launchWorkers(script: string, args: readonly string[], nproc: number, threads?: number): Promise<number> {
  if (!Number.isInteger(nproc) || nproc < 1) throw new InputError(`--nproc must be a positive integer, got ${nproc}`, 'ERR_ARG');
  const perWorker = Math.max(1, Math.floor((threads ?? cpus().length) / nproc));
  const workerArgs = [...withoutFlag(withoutFlag(args, 'nproc'), 'threads'), '--threads', String(perWorker)];
  const port = await freePort();
  process.stderr.write(
    `launching ${nproc} worker${nproc > 1 ? 's' : ''} (${perWorker} thread${perWorker > 1 ? 's' : ''} each), rendezvous 127.0.0.1:${port}\n`,
  );
  const children: ChildProcess[] = [];
  let failed: { rank: number; code: number } | null = null;
  let killTimer: NodeJS.Timeout | null = null;
  const stopOthers = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    killTimer ??= setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, graceSeconds * 1000);
    killTimer.unref();
  };
  // Ctrl-C reaches every worker from the terminal; a signal sent to the launcher alone is passed on (as SIGTERM,
  // so that a worker that got both does not see a second SIGINT).
  const forward = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const exits = Array.from({ length: nproc }, (_, rank) => {
    const child = spawn(process.execPath, [script, ...workerArgs], {
      stdio: rank === 0 ? 'inherit' : ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: String(nproc),
        LOCAL_WORLD_SIZE: String(nproc),
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        ILSGAN_NUM_THREADS: String(perWorker),
        OMP_NUM_THREADS: String(perWorker),
      },
    });
    children.push(child);
    return new Promise<number>((resolve) => {
      child.on('exit', (code, signal) => {
        const status = code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15) : 1);
        if (status !== 0 && !failed) {
          failed = { rank, code: status };
          process.stderr.write(
            `error: worker ${rank} of ${nproc} exited with ${signal ? `signal ${signal}` : `code ${code}`}; stopping the other workers\n`,
          );
          stopOthers();
        }
        resolve(status);
      });
    });
  });
  const codes = await Promise.all(exits);
  process.removeListener('SIGINT', forward);
  process.removeListener('SIGTERM', forward);
  if (killTimer) clearTimeout(killTimer);
  const first = failed as { rank: number; code: number } | null;
  return first ? first.code : codes[0];
}

/** A rank's place in its group, from torchrun's environment. */
export interface GroupEnv {
  rank: number;
  worldSize: number;
  /** This process's index among those on its machine (LOCAL_RANK; 0 when unset: one process per machine). */
  localRank: number;
  /** How many processes of the group run on this machine (LOCAL_WORLD_SIZE; 1 when unset). */
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
}

/** The process group this process was started into (torchrun's environment), or null: RANK and WORLD_SIZE unset. */
export function distributedEnv(): GroupEnv | null {
  const { RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, LOCAL_RANK, LOCAL_WORLD_SIZE } = process.env;
  if (RANK === undefined || WORLD_SIZE === undefined) return null;
  const rank = Number(RANK);
  const worldSize = Number(WORLD_SIZE);
  const masterPort = Number(MASTER_PORT ?? 29500);
  const localRank = Number(LOCAL_RANK ?? 0);
  const localWorldSize = Number(LOCAL_WORLD_SIZE ?? 1);
  if (!Number.isInteger(worldSize) || worldSize < 1 || !Number.isInteger(rank) || rank < 0 || rank >= worldSize)
    throw new InputError(`RANK=${RANK} and WORLD_SIZE=${WORLD_SIZE} are not a rank of a group`, 'ERR_ARG', 'set 0 <= RANK < WORLD_SIZE');
  if (!Number.isInteger(masterPort) || masterPort < 1 || masterPort > 65535)
    throw new InputError(
      `MASTER_PORT=${MASTER_PORT} is not a port`,
      'ERR_ARG',
      'set MASTER_PORT to a free port from 1 to 65535 on the MASTER_ADDR machine',
    );
  if (
    !Number.isInteger(localWorldSize) ||
    localWorldSize < 1 ||
    !Number.isInteger(localRank) ||
    localRank < 0 ||
    localRank >= localWorldSize
  )
    throw new InputError(
      `LOCAL_RANK=${LOCAL_RANK} and LOCAL_WORLD_SIZE=${LOCAL_WORLD_SIZE} are not a process of this machine`,
      'ERR_ARG',
      'set 0 <= LOCAL_RANK < LOCAL_WORLD_SIZE (the processes on this machine), or leave both unset for one process per machine',
    );
  return { rank, worldSize, localRank, localWorldSize, masterAddr: MASTER_ADDR ?? '127.0.0.1', masterPort };
}

/**
 * Where a rank trains and which c10d backend joins it to the others, as upstream's multi-GPU training: on the CPU
 * over Gloo; on GPUs over NCCL, one GPU per process, the local rank r on cuda:r. `--device cuda:N` is kept for a
 * process alone on its machine (a multi-machine run that picks its GPU), and refused for several on one
 * machine, which would share one GPU (NCCL refuses that).
 * @throws InputError ERR_DEVICE (no GPU for this local rank), ERR_ARG (cuda:N for several local processes)
 */
export function rankPlacement(
  device: DeviceName,
  group: Pick<GroupEnv, 'rank' | 'localRank' | 'localWorldSize'>,
  cudaCount: number,
): { device: DeviceName; backend: 'gloo' | 'nccl'; cudaIndex: number } {
  if (device === 'cpu') return { device, backend: 'gloo', cudaIndex: 0 };
  if (device === 'cuda') {
    if (group.localRank >= cudaCount)
      throw new InputError(
        `worker ${group.rank} (LOCAL_RANK ${group.localRank}) trains on cuda:${group.localRank}, and this machine has ${cudaCount} GPU${cudaCount === 1 ? '' : 's'}`,
        'ERR_DEVICE',
        `run at most ${cudaCount} process${cudaCount === 1 ? '' : 'es'} per machine on --device cuda (--nproc ${Math.max(1, cudaCount)}), one per GPU`,
      );
    return { device: `cuda:${group.localRank}`, backend: 'nccl', cudaIndex: group.localRank };
  }
  if (group.localWorldSize > 1)
    throw new InputError(
      `--device ${device} puts all ${group.localWorldSize} processes of this machine on one GPU, which NCCL refuses`,
      'ERR_ARG',
      'give --device cuda: the worker with LOCAL_RANK r then trains on cuda:r',
    );
  return { device, backend: 'nccl', cudaIndex: Number(device.slice('cuda:'.length)) };
}
