// SPDX-License-Identifier: MIT
// Resumable stages: each finished stage leaves `<out>/stages/<name>.json` (its result and wall time, written
// atomically); a later run of the same pipeline skips finished stages and returns their recorded results, so
// an interrupted pipeline resumes at the first unfinished stage.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite.js';

export interface StageRecord<R> {
  stage: string;
  result: R;
  seconds: number;
  finished: string;
}

export class Stages {
  /** Wall seconds of every stage, recorded or run now, in order. */
  readonly seconds: Record<string, number> = {};
  /** Called (and awaited) before a stage runs, not when it is skipped: the live report. */
  beforeStage?: (name: string, title: string) => void | Promise<void>;

  constructor(
    readonly out: string,
    private readonly log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  ) {
    mkdirSync(join(out, 'stages'), { recursive: true });
  }

  private path(name: string): string {
    return join(this.out, 'stages', `${name}.json`);
  }

  /** Runs `fn` unless `name` already finished; returns its (recorded) result. */
  async run<R>(name: string, title: string, fn: () => Promise<R>): Promise<R> {
    const p = this.path(name);
    if (existsSync(p)) {
      const rec = JSON.parse(readFileSync(p, 'utf8')) as StageRecord<R>;
      this.seconds[name] = rec.seconds;
      this.log(`[${name}] done earlier (${rec.finished}); skipped`);
      return rec.result;
    }
    this.log(`[${name}] ${title}`);
    await this.beforeStage?.(name, title);
    const t0 = performance.now();
    const result = await fn();
    const seconds = (performance.now() - t0) / 1000;
    this.seconds[name] = seconds;
    const rec: StageRecord<R> = { stage: name, result, seconds, finished: new Date().toISOString() };
    writeFileAtomic(p, new TextEncoder().encode(`${JSON.stringify(rec, null, 1)}\n`));
    this.log(`[${name}] finished in ${formatSeconds(seconds)}`);
    return result;
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}
