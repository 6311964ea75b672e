// SPDX-License-Identifier: MIT
// What the CPU can do natively, read from /proc/cpuinfo (Linux; elsewhere nothing is claimed).
import { readFileSync } from 'node:fs';

let cached: Set<string> | undefined;

/** The CPU's feature flags (x86 `flags`, Arm `Features`), lower case; empty where /proc/cpuinfo is unreadable. */
export function cpuFlags(): ReadonlySet<string> {
  if (cached) return cached;
  cached = new Set();
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').match(/^(?:flags|Features)\s*:(.*)$/m)?.[1] ?? '';
    for (const f of line.trim().split(/\s+/)) if (f) cached.add(f.toLowerCase());
  } catch {
    // not Linux, or no /proc: no flags
  }
  return cached;
}

/**
 * Whether bfloat16 arithmetic runs natively: AVX-512 BF16 or AMX-BF16 on x86, the BF16 extension on Arm. Without
 * it, libtorch emulates bfloat16 through float32 and is slower than float32 itself.
 */
export function nativeBfloat16(flags: ReadonlySet<string> = cpuFlags()): boolean {
  return flags.has('avx512_bf16') || flags.has('amx_bf16') || flags.has('bf16');
}
