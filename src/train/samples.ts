// SPDX-License-Identifier: MIT
// Sample grids: layers of G_ema at fixed latents, as one PNG with rows composite, background, foreground,
// mask and masked foreground (foreground over white), one column per latent.
import sharp from 'sharp';
import { toUint8 } from '../data/pixels.js';
import { LatentStream } from '../models/latents.js';
import type { LayeredGenerator, Layers } from '../models/layeredGenerator.js';
import type { Device } from '../tensor/device.js';
import { cat } from '../tensor/ops/creation.js';
import { noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from '../util/atomicWrite.js';

/** Fixed standard-normal latents [n, dim] from a JS PRNG (does not disturb libtorch's generator). */
export function fixedLatents(n: number, dim: number, seed: number, device: Device = 'cpu'): Tensor {
  return new LatentStream(dim, seed).next(n, device);
}

/** The five visual rows of a layered sample, each [N, 3, S, S] in [−1, 1]. */
export function layerRows(l: Layers): Tensor[] {
  const mask3 = l.mask.mul(2).sub(1).expand([-1, 3, -1, -1]);
  const onWhite = l.fg.sub(1).mul(l.mask).add(1); // (1 − m)·1 + m·fg
  return [l.img, l.bg, l.fg, mask3, onWhite];
}

/** Renders rows (each [N, 3, S, S]) into one PNG, `scale`× nearest-neighbour, with 2-px gaps. */
export async function writeGrid(path: string, rows: Tensor[], scale = 1): Promise<void> {
  const [n, , s] = rows[0].shape;
  const gap = 2;
  const cell = s * scale;
  const width = n * cell + (n + 1) * gap;
  const height = rows.length * cell + (rows.length + 1) * gap;
  const out = new Uint8Array(width * height * 3).fill(255);
  rows.forEach((row, r) => {
    const bytes = scope(() => toUint8(row).permute([0, 2, 3, 1]).contiguous().data()) as Uint8Array; // NHWC, freed
    for (let i = 0; i < n; i++) {
      const x0 = gap + i * (cell + gap);
      const y0 = gap + r * (cell + gap);
      for (let y = 0; y < cell; y++) {
        for (let x = 0; x < cell; x++) {
          const src = ((i * s + Math.floor(y / scale)) * s + Math.floor(x / scale)) * 3;
          const dst = ((y0 + y) * width + x0 + x) * 3;
          out[dst] = bytes[src];
          out[dst + 1] = bytes[src + 1];
          out[dst + 2] = bytes[src + 2];
        }
      }
    }
  });
  // Encoded in memory and written atomically: a run killed here leaves no truncated PNG for the report.
  writeFileAtomic(
    path,
    await sharp(Buffer.from(out.buffer), { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

/** G_ema's layers at fixed latents (const noise, eval mode), written as a grid PNG. */
export async function writeSampleGrid(path: string, g: LayeredGenerator, z: Tensor, scale = 1): Promise<void> {
  const rows = noGrad(() =>
    scope(() => {
      const wasTraining = g.training;
      g.eval();
      const chunks = z.split(16).map((zz) => layerRows(g.forward(zz, 'const')));
      if (wasTraining) g.train();
      return chunks[0].map((_, r) =>
        cat(
          chunks.map((c) => c[r]),
          0,
        ),
      );
    }),
  );
  try {
    await writeGrid(path, rows, scale);
  } finally {
    for (const r of rows) r.dispose();
  }
}
