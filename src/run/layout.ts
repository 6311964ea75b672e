// SPDX-License-Identifier: MIT
// The run folder (`ilsgan train --out`), one place for its layout: every file name a run writes or reads, the
// names of its checkpoints and sample grids, and where a pipeline's output keeps its GAN run.
//
//   <run>/config.json          network, options, data and intervals of a new run (train/loop.ts)
//   <run>/metrics.jsonl        one JSON line per tick (run/metrics.ts)
//   <run>/samples-init.png     the sample grid before training; samples-<kimg>kimg.png after (train/samples.ts)
//   <run>/checkpoints/         ckpt-<nimg>.safetensors + ckpt-<nimg>.json (run/checkpoint.ts, train/checkpoint.ts)
//   <run>/dataset-cache.u8     decoded training images (data/imageFolder.ts)
//   <run>/metric-fid.jsonl     FID results, one JSON line each, and their real-image features in fid-cache/ (eval/fid.ts)
//   <run>/report.html          the report (report/), rewritten while the run goes on
//   <run>/log.txt              what the command printed (util/runLog.ts)
//   <run>/.ilsgan.lock         held while a process uses the folder (util/runLock.ts)
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lockFileName } from '../util/runLock.js';
import { runLogName } from '../util/runLog.js';

const initGridName = 'samples-init.png';

/** The paths of a run folder's files (see the file comment); report, log and lock exist in a pipeline's folder too. */
export function runPaths(runDir: string) {
  return {
    dir: runDir,
    config: join(runDir, 'config.json'),
    metrics: join(runDir, 'metrics.jsonl'),
    checkpoints: join(runDir, 'checkpoints'),
    datasetCache: join(runDir, 'dataset-cache.u8'),
    fidMetrics: join(runDir, 'metric-fid.jsonl'),
    fidCache: join(runDir, 'fid-cache'),
    samplesInit: join(runDir, initGridName),
    report: join(runDir, 'report.html'),
    log: join(runDir, runLogName),
    lock: join(runDir, lockFileName),
  };
}

/** The training run inside a pipeline's output folder. */
export function pipelineGanDir(out: string): string {
  return join(out, 'gan');
}

/** Sortable checkpoint name from the images shown: ckpt-000012800. */
export function checkpointName(curNimg: number): string {
  return `ckpt-${String(curNimg).padStart(9, '0')}`;
}

/** Whether `ref` is a checkpoint name (as checkpointName writes it), not a path. */
export function isCheckpointName(ref: string): boolean {
  return /^ckpt-\d+$/.test(ref);
}

/** The checkpoint a file in checkpoints/ belongs to, and which half it is; null for any other file. */
export function parseCheckpointFile(file: string): { name: string; part: 'json' | 'safetensors' } | null {
  const m = /^(ckpt-\d+)\.(json|safetensors)$/.exec(file);
  return m ? { name: m[1]!, part: m[2] as 'json' | 'safetensors' } : null;
}

/** The sample grid written at `curNimg` images shown: samples-00000.640kimg.png. */
export function sampleGridName(curNimg: number): string {
  return `samples-${(curNimg / 1000).toFixed(3).padStart(9, '0')}kimg.png`;
}

/** A sample grid written by the training loop: `samples-init.png` (kimg 0, before training) or `samples-<kimg>kimg.png`. */
export interface SampleGridFile {
  path: string;
  /** null for samples-init.png. */
  kimg: number | null;
}

/** The kimg a sample grid's file name stands for (null for samples-init.png); undefined when it is no grid. */
export function parseSampleGridName(file: string): number | null | undefined {
  if (file === initGridName) return null;
  const m = /^samples-(\d+(?:\.\d+)?)kimg\.png$/.exec(file);
  return m ? Number(m[1]) : undefined;
}

/** Sample grids in a run directory, init first, then by kimg. */
export function listSampleGrids(runDir: string): SampleGridFile[] {
  if (!existsSync(runDir)) return [];
  const grids: SampleGridFile[] = [];
  for (const name of readdirSync(runDir)) {
    const kimg = parseSampleGridName(name);
    if (kimg !== undefined) grids.push({ path: join(runDir, name), kimg });
  }
  return grids.sort((a, b) => (a.kimg ?? -1) - (b.kimg ?? -1));
}
