// SPDX-License-Identifier: MIT
// safetensors I/O (the format of Hugging Face's `safetensors`, readable from Python): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__: {string: string}}, then the
// raw little-endian tensor bytes.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomicWrite.js';
import type { Device } from './device.js';
import { type DType, elementSize } from './dtype.js';
import { InputError } from './errors.js';
import { fromBytes } from './ops/creation.js';
import type { Tensor } from './tensor.js';

const toFormat: Record<DType, string> = {
  float64: 'F64', float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32', int16: 'I16',
  int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
const fromFormat = new Map<string, DType>(Object.entries(toFormat).map(([k, v]) => [v, k as DType]));

export type TensorMap = Map<string, Tensor> | Record<string, Tensor>;

/** Serialises named tensors (any device; copied to the host) into one safetensors buffer list. */
export function encodeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Uint8Array[] {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const header: Record<string, unknown> = {};
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

/** Writes a safetensors file atomically (temp file + rename). */
export function saveSafetensors(path: string, tensors: TensorMap, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export interface LoadedSafetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Parses a safetensors buffer, validating the header (offsets in range, contiguous, sizes matching shapes).
 * @throws InputError ERR_SAFETENSORS for a malformed file.
 */
export function decodeSafetensors(buf: Uint8Array, o: { device?: Device; source?: string } = {}): LoadedSafetensors {
  const where = o.source ? ` (${o.source})` : '';
  const bad = (msg: string) => new InputError(`safetensors${where}: ${msg}`, 'ERR_SAFETENSORS');
  if (buf.byteLength < 8) throw bad('file too short');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > buf.byteLength - 8 || n > 100_000_000) throw bad(`header length ${n} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, n).toString('utf8'));
  } catch {
    throw bad('header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not an object');
  const dataStart = 8 + n;
  const dataLength = buf.byteLength - dataStart;
  const rawMeta = header.__metadata__ ?? {};
  if (typeof rawMeta !== 'object' || rawMeta === null || Array.isArray(rawMeta)) throw bad('__metadata__ is not an object');
  for (const [k, v] of Object.entries(rawMeta)) {
    if (typeof v !== 'string') throw bad(`__metadata__ value for ${k} is not a string`);
  }
  const metadata = rawMeta as Record<string, string>;
  const specs: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, spec] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw bad(`tensor ${name}: entry is not an object`);
    const s = spec as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = fromFormat.get(String(s.dtype));
    if (!dtype) throw bad(`tensor ${name}: unsupported dtype ${String(s.dtype)}`);
    if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor ${name}: bad shape`);
    const off = s.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0] > off[1]) {
      throw bad(`tensor ${name}: bad data_offsets`);
    }
    const numel = (s.shape as number[]).reduce((a, b) => a * b, 1);
    if (off[1] - off[0] !== numel * elementSize(dtype)) throw bad(`tensor ${name}: ${off[1] - off[0]} bytes for shape [${s.shape}] ${dtype}`);
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
  const tensors = new Map<string, Tensor>();
  for (const s of specs) {
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset + dataStart + s.begin, s.end - s.begin);
    tensors.set(s.name, fromBytes(bytes, s.dtype, s.shape, o.device ?? 'cpu'));
  }
  return { tensors, metadata };
}

/** Reads a safetensors file. */
export function loadSafetensors(path: string, o: { device?: Device } = {}): LoadedSafetensors {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`, 'ERR_FILE');
  }
  return decodeSafetensors(buf, { ...o, source: path });
}
