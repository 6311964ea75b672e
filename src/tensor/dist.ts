// SPDX-License-Identifier: MIT
// Multi-process collectives over PyTorch's c10d (native/src/dist.cc): one process group per process, Gloo on the CPU.
import { ArgumentError, TensorError } from './errors.js';
import { native, type NativeBinding } from './native.js';
import type { Tensor } from './tensor.js';

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
   * What Gloo binds to: a network interface (`iface:eth0`, as GLOO_SOCKET_IFNAME), a hostname or address, or ''
   * for Gloo's default (this machine's hostname). Default: 127.0.0.1 when masterAddr is a loopback address,
   * `iface:$GLOO_SOCKET_IFNAME` when that is set, else ''.
   */
  device?: string;
}

/** The backends the addon was built with: ['gloo'], or [] when built without the c10d headers. */
export function distBackends(): string[] {
  return native.distBackends();
}

/** Whether this addon can run multi-process training. */
export function distAvailable(): boolean {
  return distBackends().length > 0;
}

type DistBinding = Required<
  Pick<NativeBinding, 'distInit' | 'distAllReduce' | 'distBroadcast' | 'distBarrier' | 'distDestroy' | 'distState'>
>;

function binding(op: string): DistBinding {
  if (!native.distInit) {
    throw new TensorError(
      `${op}: this addon was built without multi-process training (no c10d/Gloo headers; Debian: apt-get install libgloo-dev, then npm run build:native)`,
      'ERR_DIST_NOT_BUILT',
    );
  }
  return native as unknown as DistBinding;
}

const isLoopback = (addr: string) => addr === 'localhost' || addr.startsWith('127.') || addr === '::1';

/**
 * Joins the process group: blocks until all `worldSize` ranks have reached the rendezvous (or `timeoutMs`).
 * @throws TensorError ERR_DIST_TIMEOUT when the other ranks do not come, ERR_DIST on a connection error,
 *   ERR_DIST_ALREADY_INITIALIZED, ERR_DIST_NOT_BUILT; ArgumentError for bad options.
 * @example
 * distInit({ rank: Number(process.env.RANK), worldSize: Number(process.env.WORLD_SIZE) });
 */
export function distInit(o: DistOptions): void {
  const b = binding('distInit');
  const masterAddr = o.masterAddr ?? '127.0.0.1';
  const masterPort = o.masterPort ?? 29500;
  const timeoutMs = o.timeoutMs ?? 60_000;
  if (!Number.isInteger(o.worldSize) || o.worldSize < 1)
    throw new ArgumentError(`distInit: expected a positive integer for worldSize, got ${o.worldSize}`);
  if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.worldSize)
    throw new ArgumentError(`distInit: expected an integer from 0 to ${o.worldSize - 1} for rank, got ${o.rank}`);
  if (!Number.isInteger(masterPort) || masterPort < 1 || masterPort > 65535)
    throw new ArgumentError(`distInit: expected a port from 1 to 65535 for masterPort, got ${masterPort}`);
  if (!(timeoutMs > 0)) throw new ArgumentError(`distInit: expected a positive timeoutMs, got ${timeoutMs}`);
  const ifname = process.env.GLOO_SOCKET_IFNAME;
  const device = o.device ?? (isLoopback(masterAddr) ? '127.0.0.1' : ifname ? `iface:${ifname}` : '');
  b.distInit(o.rank, o.worldSize, masterAddr, masterPort, Math.round(timeoutMs), device);
}

/** This process's rank and the group's size, or null before distInit (and after distDestroy). */
export function distState(): { rank: number; worldSize: number } | null {
  if (!native.distState) return null;
  const s = native.distState();
  return s && { rank: s.rank, worldSize: s.worldSize };
}

/**
 * Sums (or, with `average`, averages) each tensor over all ranks, in place: one flat Gloo all-reduce for the
 * list. All tensors must share one dtype and device. Every rank must call it with the same shapes, in order.
 * @throws TensorError ERR_DIST when a peer died, ERR_DIST_TIMEOUT when one did not answer in time.
 */
export function allReduce_(tensors: Tensor[], o: { average?: boolean } = {}): void {
  if (!tensors.length) return;
  binding('allReduce_').distAllReduce(
    tensors.map((t) => t.handle),
    o.average ?? false,
  );
}

/** Overwrites each tensor with rank `root`'s, in place (one flat Gloo broadcast for the list). */
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
