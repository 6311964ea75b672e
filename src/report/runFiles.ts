// SPDX-License-Identifier: MIT
// What the report picks from a run's files (their names and readers are src/run/): which sample grids to show,
// and JSON result files read tolerantly of missing or half-written files.
import { existsSync, readFileSync } from 'node:fs';
import type { SampleGridFile } from '../run/layout.js';

/** Up to `count` grids: samples-init.png if present, then snapshots evenly spread over the run, always the last. */
export function pickSampleGrids(grids: readonly SampleGridFile[], count: number): SampleGridFile[] {
  if (grids.length <= count) return [...grids];
  if (count <= 0) return [];
  const init = grids.filter((g) => g.kimg === null).slice(0, 1);
  const snaps = grids.filter((g) => g.kimg !== null);
  const k = count - init.length;
  if (k <= 0) return init.slice(0, count);
  const picked = k === 1 ? [snaps.length - 1] : Array.from({ length: k }, (_, i) => Math.round((i * (snaps.length - 1)) / (k - 1)));
  return [...init, ...[...new Set(picked)].map((i) => snaps[i]!)];
}

/** The result of reading a JSON file: its value, or why there is none. */
export type JsonFile = { ok: true; value: unknown } | { ok: false; reason: string };

/** Reads and parses a JSON file (such as the one `ilsgan eval --out` writes). */
export function readJsonFile(path: string): JsonFile {
  if (!existsSync(path)) return { ok: false, reason: `${path} does not exist` };
  try {
    return { ok: true, value: JSON.parse(readFileSync(path, 'utf8')) };
  } catch (e) {
    return { ok: false, reason: `${path} is not JSON (${(e as Error).message})` };
  }
}
