// SPDX-License-Identifier: MIT
// metrics.jsonl, a run's training log: one JSON object per tick (kimg, iteration, seconds, losses, ADA p, …),
// appended by train/loop.ts, cut back on resume, and read by the report, tolerant of a half-written last line.
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { runPaths } from './layout.js';

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
  const path = runPaths(runDir).metrics;
  return existsSync(path) ? parseMetricsLog(readFileSync(path, 'utf8')) : [];
}

/**
 * Cuts metrics.jsonl back to the lines up to `iteration` (the resumed checkpoint's), in increasing order: a run
 * killed after its last checkpoint logged ticks that the resumed run logs again. Unreadable (half-written) lines
 * go too. Returns the number of lines dropped.
 */
export function truncateMetrics(path: string, iteration: number): number {
  if (!existsSync(path)) return 0;
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const kept: string[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const line of lines) {
    let it: unknown;
    try {
      it = (JSON.parse(line) as { iteration?: unknown }).iteration;
    } catch {
      continue;
    }
    if (typeof it !== 'number' || !(it > last) || it > iteration) continue;
    kept.push(line);
    last = it;
  }
  if (kept.length !== lines.length) writeFileAtomic(path, Buffer.from(kept.map((l) => `${l}\n`).join('')));
  return lines.length - kept.length;
}
