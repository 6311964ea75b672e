// SPDX-License-Identifier: MIT
// Writes a small folder in the `ilsgan generate` layout (images/, masks/, masks_soft/, fg/, bg/, manifest.json)
// from procedural layers, without a trained generator: flat-ish coloured backgrounds, a disc foreground.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePng } from '../../src/data/decode.js';
import { mulberry32 } from '../../src/data/procedural.js';
import { type SynthManifest, sampleFileName, synthFolders } from '../../src/gen/synthesize.js';

/** n samples at size×size into dir; fg and bg colours are drawn independently per sample. */
export async function writeSyntheticFolder(dir: string, n: number, size: number, seed = 0): Promise<SynthManifest> {
  for (const f of Object.values(synthFolders)) mkdirSync(join(dir, f), { recursive: true });
  const rand = mulberry32(seed + 77);
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const file = sampleFileName(i + 1, n);
    files.push(file);
    const bgc = [rand(), rand(), rand()].map((v) => v * 255);
    const fgc = [rand(), rand(), rand()].map((v) => v * 255);
    const cx = size * (0.3 + 0.4 * rand());
    const cy = size * (0.3 + 0.4 * rand());
    const r = size * (0.15 + 0.2 * rand());
    const fg = new Uint8Array(size * size * 3);
    const bg = new Uint8Array(size * size * 3);
    const img = new Uint8Array(size * size * 3);
    const soft = new Uint8Array(size * size);
    const bin = new Uint8Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = y * size + x;
        const m = Math.min(1, Math.max(0, r - Math.hypot(x + 0.5 - cx, y + 0.5 - cy) + 0.5));
        soft[p] = Math.floor(255 * m + 0.5);
        bin[p] = soft[p] >= 128 ? 255 : 0;
        for (let c = 0; c < 3; c++) {
          const b = Math.min(255, Math.max(0, bgc[c] + 40 * (y / size - 0.5)));
          const f = Math.min(255, Math.max(0, fgc[c] - 30 * (x / size - 0.5)));
          bg[p * 3 + c] = b;
          fg[p * 3 + c] = f;
          img[p * 3 + c] = Math.round((1 - m) * b + m * f);
        }
      }
    }
    await Promise.all([
      writePng(join(dir, synthFolders.images, file), img, size, size, 3),
      writePng(join(dir, synthFolders.fg, file), fg, size, size, 3),
      writePng(join(dir, synthFolders.bg, file), bg, size, size, 3),
      writePng(join(dir, synthFolders.masksSoft, file), soft, size, size, 1),
      writePng(join(dir, synthFolders.masks, file), bin, size, size, 1),
    ]);
  }
  const manifest: SynthManifest = {
    format: 'ilsgan-synthetic',
    version: 1,
    run: 'test',
    checkpoint: 'none',
    kimg: 0,
    seed,
    n,
    size,
    psi: 1,
    noise: 'const',
    latents: 'procedural test layers',
    folders: synthFolders,
    pattern: '%06d.png',
    first: 1,
    files,
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}
