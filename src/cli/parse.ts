// SPDX-License-Identifier: MIT
// Shared flag parsers: each throws commander's InvalidArgumentError with the value it got.
import { InvalidArgumentError } from '@commander-js/extra-typings';

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

export function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

export function positiveNumber(v: string): number {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`expected a positive number, got ${JSON.stringify(v)}`);
  return n;
}

export function nonNegativeNumber(v: string): number {
  const n = Number(v);
  if (!(Number.isFinite(n) && n >= 0)) throw new InvalidArgumentError(`expected a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

export function powerOfTwo(v: string): number {
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 32 && n <= 256 && (n & (n - 1)) === 0)) {
    throw new InvalidArgumentError(`expected a power of two from 32 to 256, got ${JSON.stringify(v)}`);
  }
  return n;
}

export function device(v: string): 'cpu' | 'cuda' | `cuda:${number}` {
  if (v === 'cpu' || v === 'cuda' || /^cuda:\d+$/.test(v)) return v as 'cpu' | 'cuda';
  throw new InvalidArgumentError(`expected cpu, cuda or cuda:N, got ${JSON.stringify(v)}`);
}

export function onOff(v: string): boolean {
  if (['on', 'true', '1', 'yes'].includes(v)) return true;
  if (['off', 'false', '0', 'no'].includes(v)) return false;
  throw new InvalidArgumentError(`expected on or off, got ${JSON.stringify(v)}`);
}

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
