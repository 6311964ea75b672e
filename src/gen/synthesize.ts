// SPDX-License-Identifier: MIT
// Synthetic (image, mask) data from a trained run (spec §9): G_ema of one checkpoint, ψ = 1, constant noise,
// seeded latents; per sample a composite, binary and soft mask, foreground and background PNG, and a manifest.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writePng } from '../data/decode.js';
import { toUint8 } from '../data/pixels.js';
import { loadGeneratorEma } from '../run/checkpoint.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../util/errors.js';
import { cuda } from '../tensor/runtime.js';
import { noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { type Infer, array, int, literal, num, object, optional, powerOfTwo, readJsonChecked, refine, str } from '../util/schema.js';
import { LatentStream } from '../models/latents.js';

export interface SynthesizeOptions {
  /** Training run directory. */
  run: string;
  /** Checkpoint name (`ckpt-000004560`) or path; the run's latest when omitted. */
  checkpoint?: string;
  /** Number of samples (≥ 1). */
  n: number;
  /** Output folder (created; refused if it already holds a manifest). */
  out: string;
  /** Latent seed (0). */
  seed?: number;
  /** Samples per forward pass (64, as the official script). */
  batch?: number;
  device?: Device;
  /** Called after every batch with the samples written so far. */
  onProgress?: (done: number, total: number) => void;
}

/** Sub-folders, one PNG per sample in each. */
export const synthFolders = {
  /** Composite (1 − m)·bg + m·fg, RGB. */
  images: 'images',
  /** Binary mask, grey 0/255: soft value ≥ 128 ⇔ m ≥ 0.5 (what the official segmentation training thresholds). */
  masks: 'masks',
  /** Soft mask, grey floor(255·m + 0.5) (spec §9: 2m − 1 through the image quantiser). */
  masksSoft: 'masks_soft',
  /** Foreground RGB layer. */
  fg: 'fg',
  /** Background RGB layer. */
  bg: 'bg',
} as const;

export interface SynthManifest {
  format: 'ilsgan-synthetic';
  version: 1;
  run: string;
  checkpoint: string;
  kimg: number;
  seed: number;
  n: number;
  /** Image side in pixels. */
  size: number;
  psi: 1;
  noise: 'const';
  /** How z is drawn: sample i's latent is row i of the seeded stream (independent of batch size). */
  latents: string;
  folders: typeof synthFolders;
  /** File name of sample i, printf-style; i runs from `first` to `first + n − 1` (1-based, as spec §9). */
  pattern: string;
  first: 1;
  /** Every file name, in order (the same in each folder). */
  files: string[];
}

const folderName = str({ maxLength: 255 });

/**
 * manifest.json as read back. Folder and file names are whatever the file says (hand-written sets name their own
 * folders; fg/, bg/ and masks_soft/ are needed only by `mi`): the readers check each against the set's folder
 * (util/safePath.ts) before use.
 */
export const synthManifestSchema = refine(
  object({
    format: literal('ilsgan-synthetic'),
    version: literal(1),
    run: str(),
    checkpoint: str(),
    kimg: num(0, 1e12),
    seed: int(0, Number.MAX_SAFE_INTEGER),
    n: int(1, 1e7),
    size: powerOfTwo(4, 1024),
    psi: literal(1),
    noise: literal('const'),
    latents: str(),
    folders: object({
      images: folderName,
      masks: folderName,
      masksSoft: optional(folderName),
      fg: optional(folderName),
      bg: optional(folderName),
    }),
    pattern: str({ maxLength: 255 }),
    first: literal(1),
    files: array(str({ maxLength: 255 }), { min: 1, max: 1e7 }),
  }),
  (m) => (m.files.length === m.n ? null : { path: 'files', reason: `must list n = ${m.n} files, got ${m.files.length}` }),
);
export type SynthManifestRead = Infer<typeof synthManifestSchema>;

/**
 * Parses and checks `<dir>/manifest.json` field by field.
 * @throws InputError ERR_NO_SYNTHETIC naming the file (and the field) when unreadable or not a synthetic set.
 */
export function readSynthManifest(manifestPath: string): SynthManifestRead {
  return readJsonChecked(synthManifestSchema, {
    file: manifestPath,
    code: 'ERR_NO_SYNTHETIC',
    hint: 'pass the --out folder of `ilsgan generate`',
  });
}

/** The file name of 1-based sample i for a set of n samples: 000001.png (at least 6 digits). */
export function sampleFileName(i: number, n: number): string {
  return `${String(i).padStart(Math.max(6, String(n).length), '0')}.png`;
}

function checkInputs(o: SynthesizeOptions): void {
  if (!Number.isInteger(o.n) || o.n < 1) throw new InputError(`the number of samples must be a positive integer, got ${o.n}`, 'ERR_ARG');
  const batch = o.batch ?? 64;
  if (!Number.isInteger(batch) || batch < 1) throw new InputError(`the batch size must be a positive integer, got ${batch}`, 'ERR_ARG');
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new InputError(`the seed must be a non-negative integer, got ${seed}`, 'ERR_ARG');
  if (!existsSync(o.run) || !statSync(o.run).isDirectory()) {
    throw new InputError(`run directory not found: ${o.run}`, 'ERR_NO_RUN', 'pass the --out folder of an `ilsgan train` run');
  }
  if (existsSync(join(o.out, 'manifest.json'))) {
    throw new InputError(`${o.out} already holds generated samples`, 'ERR_OUT_EXISTS', 'choose another --out, or delete that folder first');
  }
  if ((o.device ?? 'cpu').startsWith('cuda') && !cuda.isAvailable()) {
    throw new InputError(`device ${o.device} requested but CUDA is not available`, 'ERR_DEVICE', 'use --device cpu');
  }
}

/** One batch of layers as 8-bit NHWC bytes, computed inside a scope (nothing survives but plain arrays). */
function renderBatch(
  g: ReturnType<typeof loadGeneratorEma>['G'],
  z: Tensor,
): { img: Uint8Array; fg: Uint8Array; bg: Uint8Array; soft: Uint8Array; binary: Uint8Array } {
  return noGrad(() =>
    scope(() => {
      const l = g.forward(z, 'const');
      const bytes = (x: Tensor) => x.permute([0, 2, 3, 1]).contiguous().cpu().data() as Uint8Array;
      const soft = toUint8(l.mask.mul(2).sub(1)); // [N, 1, S, S]
      return {
        img: bytes(toUint8(l.img)),
        fg: bytes(toUint8(l.fg)),
        bg: bytes(toUint8(l.bg)),
        soft: bytes(soft),
        binary: bytes(soft.ge(128).to('uint8').mul(255)),
      };
    }),
  );
}

/** Generates o.n samples into o.out (see synthFolders) and writes manifest.json last; returns the manifest. */
export async function synthesize(o: SynthesizeOptions): Promise<SynthManifest> {
  checkInputs(o);
  const device = o.device ?? 'cpu';
  const batch = o.batch ?? 64;
  const seed = o.seed ?? 0;
  const { name, state, G } = loadGeneratorEma(o.run, o.checkpoint, device);
  const size = state.net.resolution;
  const files: string[] = [];
  try {
    for (const f of Object.values(synthFolders)) mkdirSync(join(o.out, f), { recursive: true });
    const latents = new LatentStream(state.net.zDim, seed);
    for (let start = 0; start < o.n; start += batch) {
      const rows = Math.min(batch, o.n - start);
      const z = latents.next(rows, device);
      let b: ReturnType<typeof renderBatch>;
      try {
        b = renderBatch(G, z);
      } finally {
        z.dispose();
      }
      const rgb = size * size * 3;
      const grey = size * size;
      const writes: Promise<void>[] = [];
      for (let k = 0; k < rows; k++) {
        const file = sampleFileName(start + k + 1, o.n);
        files.push(file);
        const at = (dir: string) => join(o.out, dir, file);
        writes.push(
          writePng(at(synthFolders.images), b.img.subarray(k * rgb, (k + 1) * rgb), size, size, 3),
          writePng(at(synthFolders.fg), b.fg.subarray(k * rgb, (k + 1) * rgb), size, size, 3),
          writePng(at(synthFolders.bg), b.bg.subarray(k * rgb, (k + 1) * rgb), size, size, 3),
          writePng(at(synthFolders.masksSoft), b.soft.subarray(k * grey, (k + 1) * grey), size, size, 1),
          writePng(at(synthFolders.masks), b.binary.subarray(k * grey, (k + 1) * grey), size, size, 1),
        );
      }
      await Promise.all(writes);
      o.onProgress?.(start + rows, o.n);
    }
  } finally {
    G.dispose();
  }
  const manifest: SynthManifest = {
    format: 'ilsgan-synthetic',
    version: 1,
    run: resolve(o.run),
    checkpoint: name,
    kimg: state.curNimg / 1000,
    seed,
    n: o.n,
    size,
    psi: 1,
    noise: 'const',
    latents: `mulberry32(seed + 0x9e3779b9) → Box–Muller N(0, I), ${state.net.zDim} per sample`,
    folders: synthFolders,
    pattern: `%0${Math.max(6, String(o.n).length)}d.png`,
    first: 1,
    files,
  };
  writeFileAtomic(join(o.out, 'manifest.json'), Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`));
  return manifest;
}
