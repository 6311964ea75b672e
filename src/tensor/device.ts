// SPDX-License-Identifier: MIT
// Device names ('cpu', 'cuda', 'cuda:N') and their codes (-1 CPU, N ≥ 0 cuda:N).
import { ArgumentError } from './errors.js';

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

export function deviceCode(d: Device | string): number {
  if (d === 'cpu') return -1;
  if (d === 'cuda') return 0;
  const m = /^cuda:(\d{1,2})$/.exec(d);
  if (m) return Number(m[1]);
  throw new ArgumentError(`expected a device ('cpu', 'cuda' or 'cuda:N'), got ${JSON.stringify(d)}`);
}

export function deviceName(code: number): Device {
  return code < 0 ? 'cpu' : (`cuda:${code}` as Device);
}
