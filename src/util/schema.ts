// SPDX-License-Identifier: MIT
// A small hand-written schema checker for the JSON files we read back (checkpoints, segmenter models, manifests,
// caches): every field that drives an allocation, a loop or a path is checked for type and a sane range before
// use, and a bad file gives one InputError naming the file and the field. The per-file schemas sit next to their
// readers; they are typed, so a schema that drifts from its interface fails to compile.
import { readFileSync } from 'node:fs';
import { InputError } from './errors.js';
import { parseJsonStrict } from './strictJson.js';

/** A check of one value: returns it (typed) or throws a SchemaViolation naming what is wrong. */
export interface Schema<T, IsOptional extends boolean = false> {
  readonly check: (v: unknown, path: string) => T;
  readonly optional: IsOptional;
}

type AnySchema = Schema<unknown, boolean>;
export type Infer<S> = S extends Schema<infer T, boolean> ? T : never;
type OptionalKeys<F> = { [K in keyof F]: F[K] extends Schema<unknown, true> ? K : never }[keyof F];
type RequiredKeys<F> = Exclude<keyof F, OptionalKeys<F>>;
type ObjectOf<F extends Record<string, AnySchema>> = { [K in RequiredKeys<F>]: Infer<F[K]> } & {
  [K in OptionalKeys<F>]?: Infer<F[K]>;
};

/** Thrown by a check; `validate` turns it into an InputError naming the file. */
export class SchemaViolation extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path || 'the top level'} ${reason}`);
    this.name = 'SchemaViolation';
  }
}

/** The value as a short printable string (for "got …"). */
function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? `an array of ${v.length}` : 'an object';
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

function make<T>(check: (v: unknown, path: string) => T): Schema<T> {
  return { check, optional: false };
}

function range(min: number, max: number): string {
  return `from ${min} to ${max}`;
}

/** An integer in [min, max] (both safe integers). */
export function int(min: number, max: number): Schema<number> {
  return make((v, path) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new SchemaViolation(path, `must be an integer ${range(min, max)}, got ${shown(v)}`);
    }
    return v;
  });
}

/** A finite number in [min, max]. */
export function num(min = -Number.MAX_VALUE, max = Number.MAX_VALUE): Schema<number> {
  return make((v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      const what = min === -Number.MAX_VALUE && max === Number.MAX_VALUE ? 'a finite number' : `a number ${range(min, max)}`;
      throw new SchemaViolation(path, `must be ${what}, got ${shown(v)}`);
    }
    return v;
  });
}

/** A power of two in [min, max]. */
export function powerOfTwo(min: number, max: number): Schema<number> {
  return make((v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max || (v & (v - 1)) !== 0) {
      throw new SchemaViolation(path, `must be a power of two ${range(min, max)}, got ${shown(v)}`);
    }
    return v;
  });
}

export function bool(): Schema<boolean> {
  return make((v, path) => {
    if (typeof v !== 'boolean') throw new SchemaViolation(path, `must be true or false, got ${shown(v)}`);
    return v;
  });
}

/** A string of at most maxLength characters (4096), optionally matching a pattern. */
export function str(o: { maxLength?: number; pattern?: RegExp; describe?: string } = {}): Schema<string> {
  const maxLength = o.maxLength ?? 4096;
  return make((v, path) => {
    if (typeof v !== 'string') throw new SchemaViolation(path, `must be a string, got ${shown(v)}`);
    if (v.length > maxLength) throw new SchemaViolation(path, `must be at most ${maxLength} characters, got ${v.length}`);
    if (o.pattern && !o.pattern.test(v))
      throw new SchemaViolation(path, `must be ${o.describe ?? `a string matching ${o.pattern}`}, got ${shown(v)}`);
    return v;
  });
}

/** A lowercase hex SHA-256 digest. */
export function sha256Hex(): Schema<string> {
  return str({ maxLength: 64, pattern: /^[0-9a-f]{64}$/, describe: 'a SHA-256 digest (64 hex digits)' });
}

/** Exactly one of the given strings or numbers. */
export function oneOf<const T extends string | number | boolean>(values: readonly T[]): Schema<T> {
  return make((v, path) => {
    if (!values.includes(v as T))
      throw new SchemaViolation(path, `must be ${values.map((x) => JSON.stringify(x)).join(' or ')}, got ${shown(v)}`);
    return v as T;
  });
}

export function literal<const T extends string | number | boolean>(value: T): Schema<T> {
  return oneOf([value]);
}

/** The value or null. */
export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return make((v, path) => (v === null ? null : s.check(v, path)));
}

/** A field that may be absent (undefined); present, it must pass `s`. */
export function optional<T>(s: Schema<T>): Schema<T | undefined, true> {
  return { check: (v, path) => (v === undefined ? undefined : s.check(v, path)), optional: true };
}

/** An array of at most `max` items (and at least `min`), each checked. */
export function array<T>(item: Schema<T>, o: { min?: number; max: number }): Schema<T[]> {
  return make((v, path) => {
    const min = o.min ?? 0;
    if (!Array.isArray(v)) throw new SchemaViolation(path, `must be an array, got ${shown(v)}`);
    if (v.length < min || v.length > o.max)
      throw new SchemaViolation(path, `must have ${min === o.max ? min : range(min, o.max)} items, got ${v.length}`);
    v.forEach((x, i) => item.check(x, `${path}[${i}]`));
    return v as T[];
  });
}

/** A fixed-length array with a schema per position. */
export function tuple<const S extends readonly Schema<unknown>[]>(items: S): Schema<{ -readonly [K in keyof S]: Infer<S[K]> }> {
  return make((v, path) => {
    if (!Array.isArray(v) || v.length !== items.length)
      throw new SchemaViolation(path, `must be an array of ${items.length}, got ${shown(v)}`);
    items.forEach((s, i) => s.check(v[i], `${path}[${i}]`));
    return v as { -readonly [K in keyof S]: Infer<S[K]> };
  });
}

/** An object with at least these fields (others are left alone: newer versions may add fields). */
export function object<F extends Record<string, AnySchema>>(fields: F): Schema<ObjectOf<F>> {
  return make((v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaViolation(path, `must be an object, got ${shown(v)}`);
    for (const [k, s] of Object.entries(fields)) {
      const sub = path ? `${path}.${k}` : k;
      const has = Object.hasOwn(v, k);
      if (!has && !s.optional) throw new SchemaViolation(sub, 'is missing');
      s.check(has ? (v as Record<string, unknown>)[k] : undefined, sub);
    }
    return v as ObjectOf<F>;
  });
}

/** A schema with an extra check across fields (`why` returns a reason, or null when the value is fine). */
export function refine<T>(s: Schema<T>, why: (v: T) => { path: string; reason: string } | null): Schema<T> {
  return make((v, path) => {
    const value = s.check(v, path);
    const bad = why(value);
    if (bad) throw new SchemaViolation(bad.path ? (path ? `${path}.${bad.path}` : bad.path) : path, bad.reason);
    return value;
  });
}

/** Where a value came from, for the error: the file, the error code and an optional hint. */
export interface SchemaSource {
  file: string;
  code: string;
  hint?: string;
}

/**
 * Checks `value` against `schema`.
 * @throws InputError `<file>: field <path> <what is wrong>` with the source's code.
 */
export function validate<T>(value: unknown, schema: Schema<T, boolean>, src: SchemaSource): T {
  try {
    return schema.check(value, '');
  } catch (e) {
    if (!(e instanceof SchemaViolation)) throw e;
    const field = e.path ? `field ${e.path}` : 'the top level';
    throw new InputError(`${src.file}: ${field} ${e.reason}`, src.code, src.hint);
  }
}

/**
 * Reads a JSON file (duplicate keys rejected) and checks it against `schema`.
 * @throws InputError with the source's code when the file is unreadable, not JSON, or does not fit.
 */
export function readJsonChecked<T>(schema: Schema<T, boolean>, src: SchemaSource): T {
  let value: unknown;
  try {
    value = parseJsonStrict(readFileSync(src.file, 'utf8'));
  } catch (e) {
    const why =
      e instanceof SyntaxError
        ? `not valid JSON (${e.message})`
        : `unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    throw new InputError(`${src.file}: ${why}`, src.code, src.hint);
  }
  return validate(value, schema, src);
}
