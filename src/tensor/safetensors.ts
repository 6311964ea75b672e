// SPDX-License-Identifier: MIT
// safetensors I/O (the format of Hugging Face's `safetensors`, readable from Python): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__: {string: string}}, then the
// raw little-endian tensor bytes. Reading checks what a hostile file could get wrong: header size, duplicate
// keys, offsets that overlap, leave holes or run past the end, sizes that do not match shape × dtype, BOOL bytes
// other than 0/1; optionally a SHA-256 of the whole file and that every float is finite.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { findDuplicateKey } from '../util/strictJson.js';
import type { Device } from './device.js';
import { type DType, elementSize } from './dtype.js';
import { InputError } from './errors.js';
import { fromBytes } from './ops/creation.js';
import type { Tensor } from './tensor.js';

const toFormat: Record<DType, string> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const fromFormat = new Map<string, DType>(Object.entries(toFormat).map(([k, v]) => [v, k as DType]));

export type TensorMap = Map<string, Tensor> | Record<string, Tensor>;

/** Serialises named tensors (any device; copied to the host) into one safetensors buffer list. */
export function encodeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Uint8Array[] {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  // Null prototype: a tensor named `__proto__` is an ordinary key (on a plain object the assignment below would
  // set the prototype and drop the tensor from the header).
  const header: Record<string, unknown> = Object.create(null);
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`safetensors: metadata value for ${k} must be a string`);
    }
    header.__metadata__ = metadata;
  }
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new TypeError('safetensors: "__metadata__" is reserved');
    const bytes = t.bytes();
    header[name] = { dtype: toFormat[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    blobs.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // The reference writer pads the header with spaces to a multiple of 8 bytes so data starts aligned.
  const raw = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (raw % 8)) % 8);
  const jsonBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(jsonBytes.byteLength));
  return [prefix, jsonBytes, ...blobs];
}

/** Writes a safetensors file atomically (temp file + rename); returns the file's SHA-256 (hex). */
export function saveSafetensors(path: string, tensors: TensorMap, metadata: Record<string, string> = {}): string {
  const chunks = encodeSafetensors(tensors, metadata);
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  writeFileAtomic(path, chunks);
  return h.digest('hex');
}

/** Largest header accepted (the reference implementation's limit is 100 MB too). */
const maxHeaderBytes = 100_000_000;
/** Most dimensions a tensor may have. */
const maxRank = 32;

export interface DecodeOptions {
  device?: Device;
  /** The file name, for messages. */
  source?: string;
  /** Refuse floating-point tensors holding NaN or ±Inf (InputError ERR_NON_FINITE naming the tensor). */
  requireFinite?: boolean;
}

/** Whether every element of a float tensor's little-endian bytes is finite (a host-side scan: no tensor made). */
function allFinite(bytes: Uint8Array, dtype: DType): boolean {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength;
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < n; i += 4) if (!Number.isFinite(v.getFloat32(i, true))) return false;
      return true;
    case 'float64':
      for (let i = 0; i < n; i += 8) if (!Number.isFinite(v.getFloat64(i, true))) return false;
      return true;
    case 'float16': // exponent bits all ones: Inf or NaN
      for (let i = 0; i < n; i += 2) if ((v.getUint16(i, true) & 0x7c00) === 0x7c00) return false;
      return true;
    case 'bfloat16':
      for (let i = 0; i < n; i += 2) if ((v.getUint16(i, true) & 0x7f80) === 0x7f80) return false;
      return true;
    default:
      return true;
  }
}

export interface LoadedSafetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Parses a safetensors buffer, validating the header (size, no duplicate keys, offsets in range and contiguous,
 * sizes matching shapes) and BOOL data (bytes 0 or 1 only: anything else means a corrupt or foreign file, and
 * is rejected rather than normalised so that a round trip never changes bytes). Tensor names are ordinary
 * strings, `__proto__` included (the result is a Map; metadata a null-prototype object).
 * @throws InputError ERR_SAFETENSORS for a malformed file; ERR_NON_FINITE with `requireFinite`.
 */
export function decodeSafetensors(buf: Uint8Array, o: DecodeOptions = {}): LoadedSafetensors {
  const where = o.source ? ` (${o.source})` : '';
  const bad = (msg: string) => new InputError(`safetensors${where}: ${msg}`, 'ERR_SAFETENSORS');
  if (buf.byteLength < 8) throw bad('file too short');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > buf.byteLength - 8) throw bad(`header length ${n} exceeds the file`);
  if (n > maxHeaderBytes) throw bad(`header length ${n} is over the limit of ${maxHeaderBytes} bytes`);
  let header: Record<string, unknown>;
  const text = Buffer.from(buf.buffer, buf.byteOffset + 8, n).toString('utf8');
  try {
    header = JSON.parse(text);
  } catch {
    throw bad('header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not an object');
  // JSON.parse keeps the last of duplicate keys; other readers may keep the first, so the file is ambiguous.
  const dup = findDuplicateKey(text);
  if (dup !== null) throw bad(`duplicate key ${JSON.stringify(dup)} in the header`);
  const dataStart = 8 + n;
  const dataLength = buf.byteLength - dataStart;
  const rawMeta = header.__metadata__ ?? {};
  if (typeof rawMeta !== 'object' || rawMeta === null || Array.isArray(rawMeta)) throw bad('__metadata__ is not an object');
  const metadata: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(rawMeta)) {
    if (typeof v !== 'string') throw bad(`__metadata__ value for ${k} is not a string`);
    metadata[k] = v;
  }
  const specs: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, spec] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw bad(`tensor ${name}: entry is not an object`);
    const s = spec as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = fromFormat.get(String(s.dtype));
    if (!dtype) throw bad(`tensor ${name}: unsupported dtype ${String(s.dtype)}`);
    if (!Array.isArray(s.shape) || s.shape.length > maxRank || !s.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(`tensor ${name}: bad shape (at most ${maxRank} non-negative integer sizes)`);
    }
    const off = s.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      throw bad(`tensor ${name}: bad data_offsets`);
    }
    // Sizes are checked one at a time, so a product past 2^53 (which would round) cannot slip through.
    let bytes = (s.shape as number[]).includes(0) ? 0 : elementSize(dtype);
    for (const d of s.shape as number[]) {
      if (bytes > dataLength) break;
      bytes *= d;
    }
    if (off[1] - off[0] !== bytes) throw bad(`tensor ${name}: ${off[1] - off[0]} bytes for shape [${s.shape}] ${dtype}`);
    if (off[1] > dataLength) throw bad(`tensor ${name}: data beyond the end of the file`);
    specs.push({ name, dtype, shape: s.shape as number[], begin: off[0], end: off[1] });
  }
  // The format requires the byte buffer to be fully covered without holes or overlaps.
  const sorted = [...specs].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const s of sorted) {
    if (s.begin !== expected) throw bad(`tensor ${s.name}: data offsets overlap or leave a hole`);
    expected = s.end;
  }
  if (expected !== dataLength) throw bad('trailing bytes after the last tensor');
  for (const s of specs) {
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset + dataStart + s.begin, s.end - s.begin);
    if (s.dtype === 'bool' && bytes.some((b) => b > 1)) throw bad(`tensor ${s.name}: BOOL data holds bytes other than 0 and 1`);
    if (o.requireFinite && !allFinite(bytes, s.dtype)) {
      throw new InputError(
        `${o.source ?? 'safetensors'}: tensor ${s.name} holds non-finite values (NaN or ±Inf)`,
        'ERR_NON_FINITE',
        'the run diverged before this file was written; use an earlier checkpoint',
      );
    }
  }
  const tensors = new Map<string, Tensor>();
  try {
    for (const s of specs) {
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset + dataStart + s.begin, s.end - s.begin);
      tensors.set(s.name, fromBytes(bytes, s.dtype, s.shape, o.device ?? 'cpu'));
    }
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}

/**
 * Reads a safetensors file. With `sha256` (hex, from the JSON that names the file) the file's digest must match.
 * @throws InputError ERR_FILE (unreadable), ERR_CHECKSUM, ERR_SAFETENSORS, ERR_NON_FINITE (see decodeSafetensors).
 */
export function loadSafetensors(path: string, o: Omit<DecodeOptions, 'source'> & { sha256?: string } = {}): LoadedSafetensors {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`, 'ERR_FILE');
  }
  if (o.sha256 !== undefined && createHash('sha256').update(buf).digest('hex') !== o.sha256) {
    throw new InputError(
      `${path}: checksum mismatch: the file is corrupt or was changed after it was written`,
      'ERR_CHECKSUM',
      'restore it from a copy, or use another checkpoint',
    );
  }
  return decodeSafetensors(buf, { ...o, source: path });
}
