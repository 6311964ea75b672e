// SPDX-License-Identifier: MIT
// Multi-process collectives over PyTorch's c10d (native/src/dist.cc): one process group per process, Gloo on the CPU,
// NCCL on GPUs.
import { ArgumentError, TensorError } from './errors.js';
import { addonBuild, native, type NativeBinding } from './native.js';
import type { Tensor } from './tensor.js';

/** c10d's process-group backends: Gloo (CPU tensors, any network) and NCCL (CUDA tensors, one GPU per rank). */
export type DistBackend = 'gloo' | 'nccl';

/** How this process joins a group: its rank, the group's size and the rendezvous (rank 0 hosts a TCPStore). */
export interface DistOptions {
  /** This process's rank, 0 … worldSize − 1. */
  rank: number;
  /** How many processes the group has. */
  worldSize: number;
  /** Where rank 0 listens (MASTER_ADDR), default 127.0.0.1. */
  masterAddr?: string;
  /** Its port (MASTER_PORT), default 29500. */
  masterPort?: number;
  /** How long rendezvous and every collective may wait for the other ranks, default 60 000 ms. */
  timeoutMs?: number;
  /**
   * 'gloo' (default) or 'nccl'. Collectives run on the CPU with Gloo and on `cudaDevice` with NCCL; tensors
   * elsewhere are staged through one buffer there (a host-side flag under NCCL, for instance).
   */
  backend?: DistBackend;
  /** NCCL: this rank's GPU index (one GPU per rank), default LOCAL_RANK (as torchrun sets it), else 0. */
  cudaDevice?: number;
  /**
   * What Gloo binds to: a network interface (`iface:eth0`, as GLOO_SOCKET_IFNAME), a hostname or address, or ''
   * for Gloo's default (this machine's hostname). Default: 127.0.0.1 when masterAddr is a loopback address,
   * `iface:$GLOO_SOCKET_IFNAME` when that is set, else ''.
   */
  device?: string;
}

/** The backends the addon was built with: some of ['gloo', 'nccl'], or [] when built without c10d's headers. */
export function distBackends(): DistBackend[] {
  return native.distBackends() as DistBackend[];
}

/** Whether this addon can run multi-process training (with `backend`, that one; without, any). */
export function distAvailable(backend?: DistBackend): boolean {
  const built = distBackends();
  return backend ? built.includes(backend) : built.length > 0;
}

/** Why the addon has no `backend`, from the build's record (build/libtorch.json), for error messages. */
export function distMissingReason(backend: DistBackend): string {
  const why = addonBuild().record?.distributed_missing?.[backend];
  const fix =
    backend === 'gloo'
      ? 'Debian: apt-get install libgloo-dev, then npm run build:native'
      : 'NCCL needs a CUDA libtorch with c10d/ProcessGroupNCCL.hpp and nccl.h: build on the GPU machine (npm run build:native)';
  return `${why ? `${why}; ` : ''}${fix}`;
}

type DistBinding = Required<
  Pick<NativeBinding, 'distInit' | 'distAllReduce' | 'distBroadcast' | 'distBarrier' | 'distDestroy' | 'distState'>
>;

function binding(op: string): DistBinding {
  if (!native.distInit) {
    throw new TensorError(
      `${op}: this addon was built without multi-process training (no c10d/Gloo headers: ${distMissingReason('gloo')})`,
      'ERR_DIST_NOT_BUILT',
    );
  }
  return native as unknown as DistBinding;
}

const isLoopback = (addr: string) => addr === 'localhost' || addr.startsWith('127.') || addr === '::1';

/**
 * Joins the process group: blocks until all `worldSize` ranks have reached the rendezvous (or `timeoutMs`).
 * @throws TensorError ERR_DIST_TIMEOUT when the other ranks do not come, ERR_DIST on a connection error,
 *   ERR_DIST_ALREADY_INITIALIZED, ERR_DIST_NOT_BUILT (also for a backend the addon lacks); ArgumentError for bad
 *   options.
 * @example
 * distInit({ rank: Number(process.env.RANK), worldSize: Number(process.env.WORLD_SIZE) });
 */
export function distInit(o: DistOptions): void {
  const masterAddr = o.masterAddr ?? '127.0.0.1';
  const masterPort = o.masterPort ?? 29500;
  const timeoutMs = o.timeoutMs ?? 60_000;
  const backend = o.backend ?? 'gloo';
  const cudaDevice = o.cudaDevice ?? Number(process.env.LOCAL_RANK ?? 0);
  if (backend !== 'gloo' && backend !== 'nccl') throw new ArgumentError(`distInit: expected 'gloo' or 'nccl' for backend, got ${backend}`);
  if (!Number.isInteger(o.worldSize) || o.worldSize < 1)
    throw new ArgumentError(`distInit: expected a positive integer for worldSize, got ${o.worldSize}`);
  if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.worldSize)
    throw new ArgumentError(`distInit: expected an integer from 0 to ${o.worldSize - 1} for rank, got ${o.rank}`);
  if (!Number.isInteger(masterPort) || masterPort < 1 || masterPort > 65535)
    throw new ArgumentError(`distInit: expected a port from 1 to 65535 for masterPort, got ${masterPort}`);
  if (!(timeoutMs > 0)) throw new ArgumentError(`distInit: expected a positive timeoutMs, got ${timeoutMs}`);
  if (!Number.isInteger(cudaDevice) || cudaDevice < 0)
    throw new ArgumentError(`distInit: expected a GPU index (an integer >= 0) for cudaDevice, got ${cudaDevice}`);
  if (!distAvailable(backend))
    throw new TensorError(
      `distInit: this addon was built without the ${backend} backend (${distMissingReason(backend)})`,
      'ERR_DIST_NOT_BUILT',
    );
  const b = binding('distInit');
  const ifname = process.env.GLOO_SOCKET_IFNAME;
  const device = o.device ?? (isLoopback(masterAddr) ? '127.0.0.1' : ifname ? `iface:${ifname}` : '');
  b.distInit(o.rank, o.worldSize, masterAddr, masterPort, Math.round(timeoutMs), device, backend, cudaDevice);
}

/**
 * This process's rank, the group's size and backend, and the device its collectives run on ('cpu' for Gloo,
 * 'cuda:N' for NCCL); null before distInit (and after distDestroy).
 */
export function distState(): { rank: number; worldSize: number; backend: DistBackend; device: string } | null {
  if (!native.distState) return null;
  const s = native.distState();
  return s && { rank: s.rank, worldSize: s.worldSize, backend: s.backend as DistBackend, device: s.device };
}

/**
 * Sums (or, with `average`, averages) each tensor over all ranks, in place: one flat all-reduce for the list.
 * All tensors must share one dtype and device (any device: see DistOptions.backend). Every rank must call it with
 * the same shapes, in order. Under NCCL a peer that dies is noticed by NCCL's watchdog after `timeoutMs`, which
 * ends the process, rather than by an error here.
 * @throws TensorError ERR_DIST when a peer died, ERR_DIST_TIMEOUT when one did not answer in time.
 */
export function allReduce_(tensors: Tensor[], o: { average?: boolean } = {}): void {
  if (!tensors.length) return;
  binding('allReduce_').distAllReduce(
    tensors.map((t) => t.handle),
    o.average ?? false,
  );
}

/** Overwrites each tensor with rank `root`'s, in place (one flat broadcast for the list). */
export function broadcast_(tensors: Tensor[], root = 0): void {
  if (!tensors.length) return;
  binding('broadcast_').distBroadcast(
    tensors.map((t) => t.handle),
    root,
  );
}

/** Waits until every rank has reached it. */
export function barrier(): void {
  binding('barrier').distBarrier();
}

/** Leaves the group (idempotent); distInit may then be called again. */
export function distDestroy(): void {
  native.distDestroy?.();
}
