// SPDX-License-Identifier: MIT
// A minimal reader for NumPy .npy files holding 1-D arrays of strings (the DRC split files, spec §2).
import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.js';

/**
 * Reads a 1-D array of fixed-width unicode ('<U…') or byte ('|S…') strings.
 * @throws InputError ERR_NPY for other dtypes (object arrays are pickles, which this reader refuses).
 */
export function readNpyStrings(path: string): string[] {
  const buf = readFileSync(path);
  if (buf.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new InputError(`${path}: not a .npy file`, 'ERR_NPY');
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  if (!descr || shape === undefined) throw new InputError(`${path}: unreadable .npy header`, 'ERR_NPY');
  const dims = shape
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (dims.length !== 1 || fortran) throw new InputError(`${path}: expected a 1-D array, got shape (${shape})`, 'ERR_NPY');
  const n = dims[0];
  const data = buf.subarray(start + headerLen);
  const m = /^([<>|])([US])(\d+)$/.exec(descr);
  if (!m) {
    throw new InputError(
      `${path}: dtype ${descr} is not a string array (object arrays are pickles; re-save with np.save(path, arr.astype(str)))`,
      'ERR_NPY',
    );
  }
  const width = Number(m[3]);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (m[2] === 'S') {
      out.push(
        data
          .subarray(i * width, (i + 1) * width)
          .toString('latin1')
          .replace(/\0+$/, ''),
      );
    } else {
      const chars: number[] = [];
      for (let k = 0; k < width; k++) {
        const off = (i * width + k) * 4;
        const c = m[1] === '>' ? data.readUInt32BE(off) : data.readUInt32LE(off);
        if (c === 0) break;
        chars.push(c);
      }
      out.push(String.fromCodePoint(...chars));
    }
  }
  return out;
}
