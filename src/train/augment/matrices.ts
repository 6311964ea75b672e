// SPDX-License-Identifier: MIT
// Batched homogeneous 2-D (3×3) and colour (4×4) transform matrices built from per-sample parameters.
import { full, stack } from '../../tensor/ops/creation.js';
import type { Device } from '../../tensor/device.js';
import type { Tensor } from '../../tensor/tensor.js';

type Entry = Tensor | number;

/** [B, rows, cols] from entries that are per-sample [B] tensors or constants. */
export function matrix(rows: readonly (readonly Entry[])[], batch: number, device: Device): Tensor {
  const flat = rows.flat().map((e) => (typeof e === 'number' ? full([batch], e, { device }) : e.reshape([batch])));
  return stack(flat, 1).reshape([batch, rows.length, rows[0].length]);
}

export function translate2d(tx: Entry, ty: Entry, b: number, d: Device): Tensor {
  return matrix([[1, 0, tx], [0, 1, ty], [0, 0, 1]], b, d);
}
export function translate2dInv(tx: Entry, ty: Entry, b: number, d: Device): Tensor {
  return translate2d(neg(tx), neg(ty), b, d);
}
export function scale2d(sx: Entry, sy: Entry, b: number, d: Device): Tensor {
  return matrix([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], b, d);
}
export function scale2dInv(sx: Entry, sy: Entry, b: number, d: Device): Tensor {
  return scale2d(recip(sx), recip(sy), b, d);
}
export function rotate2d(theta: Tensor, b: number, d: Device): Tensor {
  const c = theta.cos();
  const s = theta.sin();
  return matrix([[c, s.neg(), 0], [s, c, 0], [0, 0, 1]], b, d);
}
export function rotate2dInv(theta: Tensor, b: number, d: Device): Tensor {
  return rotate2d(theta.neg(), b, d);
}
export function translate3d(tx: Entry, ty: Entry, tz: Entry, b: number, d: Device): Tensor {
  return matrix([[1, 0, 0, tx], [0, 1, 0, ty], [0, 0, 1, tz], [0, 0, 0, 1]], b, d);
}
export function scale3d(sx: Entry, sy: Entry, sz: Entry, b: number, d: Device): Tensor {
  return matrix([[sx, 0, 0, 0], [0, sy, 0, 0], [0, 0, sz, 0], [0, 0, 0, 1]], b, d);
}
/** Rotation by theta [B] about the unit axis v = (vx, vy, vz) (Rodrigues), as a 4×4 homogeneous matrix. */
export function rotate3d(v: readonly [number, number, number], theta: Tensor, b: number, d: Device): Tensor {
  const [vx, vy, vz] = v;
  const s = theta.sin();
  const c = theta.cos();
  const cc = c.rsub(1);
  return matrix(
    [
      [cc.mul(vx * vx).add(c), cc.mul(vx * vy).sub(s.mul(vz)), cc.mul(vx * vz).add(s.mul(vy)), 0],
      [cc.mul(vx * vy).add(s.mul(vz)), cc.mul(vy * vy).add(c), cc.mul(vy * vz).sub(s.mul(vx)), 0],
      [cc.mul(vx * vz).sub(s.mul(vy)), cc.mul(vy * vz).add(s.mul(vx)), cc.mul(vz * vz).add(c), 0],
      [0, 0, 0, 1],
    ],
    b,
    d,
  );
}

function neg(e: Entry): Entry {
  return typeof e === 'number' ? -e : e.neg();
}
function recip(e: Entry): Entry {
  return typeof e === 'number' ? 1 / e : e.reciprocal();
}
