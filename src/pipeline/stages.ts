// SPDX-License-Identifier: MIT
// Resumable stages: each finished stage leaves `<out>/stages/<name>.json` (its result and wall time, written
// atomically); a later run of the same pipeline skips finished stages and returns their recorded results, so
// an interrupted pipeline resumes at the first unfinished stage.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { literal, num, object, readJsonChecked, str, type Schema } from '../util/schema.js';

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

  /**
   * Runs `fn` unless `name` already finished; returns its (recorded) result. A record read back is checked (its
   * stage, seconds and time, and the result against `resultSchema` when given): a planted or damaged record is one error
   * naming the file and the field, never a result the later stages trust blindly.
   */
  async run<R>(name: string, title: string, fn: () => Promise<R>, resultSchema?: Schema<R>): Promise<R> {
    const p = this.path(name);
    if (existsSync(p)) {
      const rec = readJsonChecked(stageRecordSchema(name, resultSchema), {
        file: p,
        code: 'ERR_STAGE_RECORD',
        hint: `delete ${p} to redo the stage`,
      }) as StageRecord<R>;
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

/** A stage record's frame, with the result's own schema when the stage has one. */
function stageRecordSchema<R>(name: string, result?: Schema<R>) {
  return object({
    stage: literal(name),
    seconds: num(0, 1e9),
    finished: str({ maxLength: 64 }),
    result: result ?? anyValue,
  });
}

const anyValue: Schema<unknown> = { optional: false, check: (v) => v };

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}
