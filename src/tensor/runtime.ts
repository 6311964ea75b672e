// SPDX-License-Identifier: MIT
// Runtime controls: threads, CUDA devices and memory, cuDNN/TF32 switches, autocast.
import { deviceCode, type Device } from './device.js';
import { type DType, dtypeCode } from './dtype.js';
import { ArgumentError } from './errors.js';
import { native } from './native.js';

/** Intra-op threads libtorch uses (default: all cores, or $ILSGAN_NUM_THREADS). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`setNumThreads: expected a positive integer, got ${n}`);
  native.setNumThreads(n);
}
export function getNumThreads(): number {
  return native.getNumThreads();
}

export const cuda = {
  isAvailable(): boolean {
    return native.cudaIsAvailable();
  },
  deviceCount(): number {
    return native.cudaDeviceCount();
  },
  /** Waits for all queued work on the device (all devices when omitted). */
  synchronize(device?: Device): void {
    native.cudaSynchronize(device === undefined ? null : deviceCode(device));
  },
  /** Caching-allocator statistics in bytes; null when the addon was built without CUDA headers. */
  memoryStats(device: Device = 'cuda:0'): { allocated: number; reserved: number; peakAllocated: number } | null {
    const s = native.cudaMemoryStats(Math.max(0, deviceCode(device)));
    return s === null ? null : { allocated: s[0], reserved: s[1], peakAllocated: s[2] };
  },
  /** Bytes of CUDA tensors held by JS handles (always available; excludes autograd-saved tensors). */
  liveBytes(): number {
    return native.liveBytes(true);
  },
  emptyCache(): void {
    native.cudaEmptyCache();
  },
};

/** cuDNN autotuning for fixed shapes (StyleGAN2-ADA turns it on). */
export function setCudnnBenchmark(on: boolean): void {
  native.setCudnnBenchmark(on);
}
/** TF32 matmul/conv on Ampere+ (StyleGAN2-ADA turns it off for exactness). */
export function setTf32(on: boolean): void {
  native.setTf32(on);
}
/** Automatic mixed precision for ops on `device` ('cuda' or 'cpu'), in float16 or bfloat16. */
export function setAutocast(enabled: boolean, o: { device?: 'cuda' | 'cpu'; dtype?: DType } = {}): void {
  const dtype = o.dtype ?? (o.device === 'cpu' ? 'bfloat16' : 'float16');
  if (dtype !== 'float16' && dtype !== 'bfloat16') throw new ArgumentError(`setAutocast: dtype must be float16 or bfloat16, got ${dtype}`);
  native.setAutocast(enabled, (o.device ?? 'cuda') === 'cuda', dtypeCode(dtype));
}
/** Version of the libtorch the addon was built against, and its threading set-up. */
export function buildInfo(): { torchVersion: string; cudaHeaders: boolean; parallelInfo: string } {
  return native.buildInfo();
}

/**
 * How many times tensor contents have been read into JS (`item`, `toArray`, …) since the addon loaded. On a GPU
 * each read waits for the device to finish its queued work, so a training step should make none.
 */
export function hostReads(): number {
  return native.hostReads();
}

/** One row of an op profile: a libtorch op or autograd node, its calls, inclusive and self time. */
export interface OpProfileRow {
  name: string;
  count: number;
  totalMs: number;
  selfMs: number;
}

/**
 * Runs `f` with libtorch's op hooks recording every op and backward node, and returns the rows sorted by self
 * time (time not spent in nested recorded ops). On CUDA the times are launch times unless `f` synchronises.
 * With `byCaller`, each row is named `caller > op` after the recorded op it ran inside (`" > op"` at top level),
 * which tells where nested dispatches come from.
 */
export function profile<T>(f: () => T, o: { byCaller?: boolean } = {}): { result: T; ops: OpProfileRow[] } {
  native.profileStart(o.byCaller ?? false);
  let rows: [string, number, number, number][] = [];
  let result: T;
  try {
    result = f();
  } finally {
    rows = native.profileStop();
  }
  return { result, ops: rows.map(([name, count, totalMs, selfMs]) => ({ name, count, totalMs, selfMs })) };
}
