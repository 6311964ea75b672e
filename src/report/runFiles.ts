// SPDX-License-Identifier: MIT
// Reading what a training run left on disk (src/train/loop.ts): metrics.jsonl, sample grids, config.json, and
// JSON result files, all tolerant of missing or half-written files.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One tick of metrics.jsonl: name → value; values that are not numbers (or are missing) read as null. */
export type MetricsRow = Record<string, number | null>;

/**
 * Parses metrics.jsonl text. Unparseable lines (a line cut off by a crash) are skipped. When kimg goes backwards
 * (a run resumed from an earlier checkpoint appends again), the rows it supersedes are dropped, so curves
 * never double back.
 */
export function parseMetricsLog(text: string): MetricsRow[] {
  const rows: MetricsRow[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) continue;
    const row: MetricsRow = {};
    for (const [k, v] of Object.entries(parsed)) row[k] = typeof v === 'number' ? v : null;
    const kimg = row.kimg;
    if (typeof kimg === 'number') {
      while (rows.length && (rows[rows.length - 1]!.kimg ?? -Infinity) >= kimg) rows.pop();
    }
    rows.push(row);
  }
  return rows;
}

/** Reads `<runDir>/metrics.jsonl`; [] when it does not exist yet. */
export function readMetricsLog(runDir: string): MetricsRow[] {
  const path = join(runDir, 'metrics.jsonl');
  return existsSync(path) ? parseMetricsLog(readFileSync(path, 'utf8')) : [];
}

/** A sample grid written by the training loop: `samples-init.png` (kimg 0, before training) or `samples-<kimg>kimg.png`. */
export interface SampleGridFile {
  path: string;
  /** null for samples-init.png. */
  kimg: number | null;
}

/** Sample grids in a run directory, init first, then by kimg. */
export function listSampleGrids(runDir: string): SampleGridFile[] {
  if (!existsSync(runDir)) return [];
  const grids: SampleGridFile[] = [];
  for (const name of readdirSync(runDir)) {
    if (name === 'samples-init.png') grids.push({ path: join(runDir, name), kimg: null });
    const m = /^samples-(\d+(?:\.\d+)?)kimg\.png$/.exec(name);
    if (m) grids.push({ path: join(runDir, name), kimg: Number(m[1]) });
  }
  return grids.sort((a, b) => (a.kimg ?? -1) - (b.kimg ?? -1));
}

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
