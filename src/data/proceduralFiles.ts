// SPDX-License-Identifier: MIT
// Writes a split of the procedural dataset as PNG files: `<dir>/images/000000.png`, … and, when asked, the
// matching binary masks in `<dir>/masks/` (used by `ilsgan dataset demo` and the demo pipeline's test set).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writePng } from './decode.js';
import { proceduralSample, proceduralSeed } from './procedural.js';

export interface ProceduralSplitOptions {
  count: number;
  size: number;
  /** Dataset seed (0). */
  seed?: number;
  /** Also write the ground-truth masks (grey 0/255). */
  masks: boolean;
  /** Called after each image. */
  onImage?: () => void;
}

export async function writeProceduralSplit(dir: string, split: 'train' | 'test', o: ProceduralSplitOptions): Promise<void> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  if (o.masks) mkdirSync(join(dir, 'masks'), { recursive: true });
  for (let i = 0; i < o.count; i++) {
    const s = proceduralSample(o.size, proceduralSeed(split, i, o.seed ?? 0));
    const name = `${String(i).padStart(6, '0')}.png`;
    await writePng(join(dir, 'images', name), s.rgb, o.size, o.size, 3);
    if (o.masks) await writePng(join(dir, 'masks', name), s.mask, o.size, o.size, 1);
    o.onImage?.();
  }
}
