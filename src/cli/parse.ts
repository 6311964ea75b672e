// SPDX-License-Identifier: MIT
// Shared flag parsers: each throws commander's InvalidArgumentError with the value it got, so a bad value is one
// line (and a hint) before any work starts. Every numeric flag of every command takes its range from `flagRanges`.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { describeFsError } from '../util/fsErrors.js';
import { defaultRefine, describeRefine } from '../seg/refineSetting.js';

/** An accepted range: [min, max], or (min, max] with `aboveMin`; `integer` for counts. */
export interface FlagRange {
  min: number;
  max: number;
  integer?: boolean;
  /** The minimum itself is excluded (kimg > 0, learning rates > 0). */
  aboveMin?: boolean;
  /** Extra condition and how it reads in the message ("a power of two"). */
  also?: { test: (n: number) => boolean; what: string };
}

/**
 * The range of each kind of numeric flag, for all commands. The limits are sane bounds, not tuning advice: past them
 * a run would only allocate or loop without end (`--batch 1e12` used to die in V8, `--size 100000` ran for minutes).
 */
export const flagRanges = {
  /** Images or samples to make or use: --n, --n-synthetic, --demo-n, --max-real, --max-samples. */
  count: { min: 1, max: 1e7, integer: true },
  /** Test images to write (none is allowed): --test-n. */
  testCount: { min: 0, max: 1e7, integer: true },
  /** Minibatch or images per forward pass: --batch. */
  batch: { min: 1, max: 65536, integer: true },
  /** Image side in pixels: --size of dataset/composite/mi. */
  side: { min: 8, max: 1024, integer: true },
  /** The side masks are compared at: eval --size (tiny masks are fine). */
  compareSide: { min: 1, max: 4096, integer: true },
  /** U-Net input side (the network halves it 4 times): seg-train --size, pipeline --seg-size. */
  netSide: { min: 16, max: 1024, integer: true, also: { test: (n) => n % 16 === 0, what: 'a multiple of 16' } },
  /** GAN resolution: train --resolution (the presets' block structure). */
  resolution: { min: 32, max: 256, integer: true, also: { test: (n) => (n & (n - 1)) === 0, what: 'a power of two' } },
  /** Training iterations and intervals in iterations: --iters, --seg-iters, --adapt-iters, --val-every. */
  iterations: { min: 1, max: 1e9, integer: true },
  /** Self-training rounds: --adapt-rounds. */
  rounds: { min: 1, max: 1000, integer: true },
  /** A training length or interval in kimg: --kimg, --tick, --snap, --checkpoint-every, --max-kimg. */
  kimg: { min: 0, max: 1e6, aboveMin: true },
  /** A point in training in kimg (0 allowed): --ils-switch-kimg. */
  kimgAt: { min: 0, max: 1e6 },
  /** Seeds (the JS samplers use 32 bits). */
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
  /** libtorch CPU threads. */
  threads: { min: 1, max: 1024, integer: true },
  /** A probability: --aug-p, --ada-target. */
  probability: { min: 0, max: 1 },
  /** A fraction of the image: --min-mask. */
  fraction: { min: 0, max: 1 },
  /** A fraction of the image that must leave something: --max-mask. */
  positiveFraction: { min: 0, max: 1, aboveMin: true },
  /** Tx: the largest shift as a fraction of the side (half the side moves the layer out of the frame). */
  shift: { min: 0, max: 0.5 },
  /** Adam learning rates: --lr, --glr, --dlr. */
  lr: { min: 0, max: 1, aboveMin: true },
  /** Loss weights and R1 γ: --gamma, --bin-weight, --msize-weight. */
  weight: { min: 0, max: 1e6 },
  /** ILS σ: --ils-sigma, --ils-initial-sigma. */
  sigma: { min: 0, max: 1e3 },
  /** Network widths: --width (U-Net), --hidden (MINE), --cmax. The width and channel-base limits are the checkpoint
   *  and model schemas' (run/checkpointSchema.ts, seg/model.ts), so whatever trains can be resumed and loaded. */
  width: { min: 1, max: 4096, integer: true },
  /** Channel base (channels at r = min(cbase/r, cmax)). */
  channelBase: { min: 1, max: 2 ** 16, integer: true },
  /** Mapping layers. */
  layers: { min: 1, max: 64, integer: true },
  /** Checkpoints kept. */
  keep: { min: 1, max: 1e6, integer: true },
} satisfies Record<string, FlagRange>;

export type FlagKind = keyof typeof flagRanges;

/** How a range reads in a message: "an integer from 1 to 65536", "a number in (0, 1]". */
export function describeRange(r: FlagRange): string {
  const fmt = (v: number) => (Number.isInteger(v) && Math.abs(v) >= 1e5 && v % 1e5 === 0 ? v.toExponential().replace('+', '') : String(v));
  const base = r.integer
    ? `an integer from ${fmt(r.aboveMin ? r.min + 1 : r.min)} to ${fmt(r.max)}`
    : `a number in ${r.aboveMin ? '(' : '['}${fmt(r.min)}, ${fmt(r.max)}]`;
  return r.also ? `${base}, ${r.also.what}` : base;
}

/** Whether `n` lies in the range. */
export function inRange(n: number, r: FlagRange): boolean {
  if (!Number.isFinite(n) || (r.integer && !Number.isInteger(n))) return false;
  if (r.aboveMin ? !(n > r.min) : !(n >= r.min)) return false;
  if (n > r.max) return false;
  return r.also ? r.also.test(n) : true;
}

/** A commander argument parser for a numeric flag of the given kind. */
export function num(kind: FlagKind): (v: string) => number {
  const r: FlagRange = flagRanges[kind];
  return (v: string) => {
    const n = v.trim() === '' ? Number.NaN : Number(v);
    if (!inRange(n, r)) throw new InvalidArgumentError(`expected ${describeRange(r)}, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** A commander argument parser for a span of training in kimg, `a,b` with 0 ≤ a ≤ b (--min-mask-ramp). */
export function kimgSpan(v: string): [number, number] {
  const parts = v.split(',').map((x) => (x.trim() === '' ? Number.NaN : Number(x)));
  const r = flagRanges.kimgAt;
  if (parts.length !== 2 || !parts.every((n) => inRange(n, r)) || parts[0]! > parts[1]!)
    throw new InvalidArgumentError(`expected two kimg values a,b with 0 ≤ a ≤ b ≤ ${r.max}, got ${JSON.stringify(v)}`);
  return [parts[0]!, parts[1]!];
}

export type DeviceName = 'cpu' | 'cuda' | `cuda:${number}`;

export function device(v: string): DeviceName {
  if (v === 'cpu' || v === 'cuda' || /^cuda:\d{1,2}$/.test(v)) return v as DeviceName;
  throw new InvalidArgumentError(`expected cpu, cuda or cuda:N, got ${JSON.stringify(v)}`);
}

/** A --device value: a device, or `auto` (CUDA when there is one, else the CPU). */
export type DeviceFlag = DeviceName | 'auto';

/** The --device parser of commands whose default is `auto`. */
export function deviceFlag(v: string): DeviceFlag {
  if (v === 'auto') return v;
  try {
    return device(v);
  } catch {
    throw new InvalidArgumentError(`expected auto, cpu, cuda or cuda:N, got ${JSON.stringify(v)}`);
  }
}

/** `auto` → cuda when CUDA is available, else cpu; any other value as it is. */
export function pickDevice(d: DeviceFlag, cudaAvailable: () => boolean): DeviceName {
  if (d !== 'auto') return d;
  return cudaAvailable() ? 'cuda' : 'cpu';
}

/**
 * The device a --device flag names: `auto` picked (loads libtorch to ask for CUDA), any other checked by
 * requireDevice. Call it before any data is read.
 * @throws InputError ERR_DEVICE
 */
export async function resolveDevice(d: DeviceFlag): Promise<DeviceName> {
  if (d === 'auto') {
    const { cuda } = await import('../tensor/runtime.js');
    return pickDevice(d, () => cuda.isAvailable() && cuda.deviceCount() > 0);
  }
  await requireDevice(d);
  return d;
}

/**
 * Checks that a --device exists before any data is read: CUDA built in and available, and the index below the
 * device count. Loads libtorch only for a CUDA device.
 * @throws InputError ERR_DEVICE
 */
export async function requireDevice(d: DeviceName): Promise<void> {
  if (d === 'cpu') return;
  const { cuda } = await import('../tensor/runtime.js');
  if (!cuda.isAvailable()) {
    throw new InputError(
      `--device ${d}: CUDA is not available (no GPU, or libtorch built without CUDA)`,
      'ERR_DEVICE',
      'use --device cpu, or see `ilsgan --version` for the build',
    );
  }
  const index = d === 'cuda' ? 0 : Number(d.slice(5));
  const count = cuda.deviceCount();
  if (index >= count)
    throw new InputError(
      `--device ${d}: there ${count === 1 ? 'is 1 CUDA device' : `are ${count} CUDA devices`}`,
      'ERR_DEVICE',
      `use cuda:0${count > 1 ? ` to cuda:${count - 1}` : ''}`,
    );
}

export function onOff(v: string): boolean {
  if (['on', 'true', '1', 'yes'].includes(v)) return true;
  if (['off', 'false', '0', 'no'].includes(v)) return false;
  throw new InvalidArgumentError(`expected on or off, got ${JSON.stringify(v)}`);
}

/** Help of `segment`/`eval --refine` (the model's test-time refinement, seg/refineSetting.ts). */
export const refineFlagHelp = `test-time refinement of each photo's prediction (flip average, then its colours with a smoothness term): on uses model.json's setting, or ${describeRefine(defaultRefine)} for a model without one; off predicts without it (default: model.json's)`;

export function choice<T extends string>(allowed: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!allowed.includes(v as T)) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  };
}

/** The entries of `x` whose value was given (not undefined): flags left out keep the defaults they would override. */
export function definedOnly<T extends object>(x: T): Partial<T> {
  return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Fails early (before any work) when an output file flag names a folder, so the error names the flag and the path
 * rather than the temp file an atomic write would have renamed.
 * @throws InputError ERR_OUT_PATH
 */
export function checkOutputFile(path: string, flag: string): void {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    return; // absent: it will be written
  }
  if (isDir)
    throw new InputError(`${flag} ${path} is a folder, not a file`, 'ERR_OUT_PATH', `give a file path, e.g. ${join(path, 'result.json')}`);
}

/**
 * Writes an output file atomically (creating its folder); a failure is one line naming the flag and the path.
 * @throws InputError ERR_OUT_PATH
 */
export function writeOutputFile(path: string, flag: string, bytes: Uint8Array): void {
  checkOutputFile(path, flag);
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    writeFileAtomic(path, bytes);
  } catch (e) {
    throw new InputError(`cannot write ${flag} ${path}: ${describeFsError(e)}`, 'ERR_OUT_PATH');
  }
}
