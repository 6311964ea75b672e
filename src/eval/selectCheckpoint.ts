// SPDX-License-Identifier: MIT
// Which checkpoint to generate synthetic data from (spec §1 step 2): the lowest FID among the run's checkpoints
// (optionally with kimg ≤ a bound, the official --topk), or, without Inception weights, the latest one.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type InceptionV3, loadInception } from '../models/inception.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../util/errors.js';
import { listCheckpoints, readCheckpointState } from '../run/checkpoint.js';
import { runPaths } from '../run/layout.js';
import { type FidOptions, type FidResult, checkFidOptions, fidWithNet, realFeatures } from './fid.js';

/** Options of selectCheckpoint(). */
export interface SelectCheckpointOptions {
  /** Inception weights: with them the checkpoint with the lowest FID wins; without, the latest (see below). */
  inception?: string;
  /** Only checkpoints with kimg ≤ maxKimg (the official `--topk`, spec §1). */
  maxKimg?: number;
  device?: Device;
  /** Progress messages (one line each), e.g. which checkpoint is being scored. */
  log?: (message: string) => void;
  /** Further FID options used when scoring (n, maxReal, data, seed, batch, onProgress). */
  fid?: Omit<FidOptions, 'run' | 'checkpoint' | 'inception' | 'record' | 'device'>;
  /** Called before scoring each checkpoint. */
  onCheckpoint?: (name: string, index: number, total: number) => void;
}

export interface CheckpointSelection {
  /** Checkpoint name (ckpt-000004560). */
  name: string;
  kimg: number;
  /** 'fid': lowest FID among the candidates; 'latest': no Inception weights were given. */
  method: 'fid' | 'latest';
  /** Why this one, in words. */
  reason: string;
  /** FID of every candidate (method 'fid'). */
  scores: { checkpoint: string; kimg: number; fid: number; kid: number }[];
}

/**
 * Picks the checkpoint to generate synthetic data from (spec §1 step 2). With Inception weights: the one with the
 * lowest FID among the run's checkpoints with kimg ≤ maxKimg, reusing results already in <run>/metric-fid.jsonl
 * for the same weights, n and seed. Without weights: the latest such checkpoint — G_ema is an average over the
 * recent past, training stops (keeping the last good checkpoint) on a non-finite loss, and the official runs'
 * FID falls nearly monotonically over training, so the newest snapshot is the best cheap guess; a proxy score
 * computed from the generator itself (mask statistics, D's opinion) would measure something other than FID.
 * @throws InputError ERR_NO_CHECKPOINT when no checkpoint qualifies.
 */
export async function selectCheckpoint(runDir: string, opts: SelectCheckpointOptions = {}): Promise<CheckpointSelection> {
  const all = listCheckpoints(runDir).map((name) => ({ name, kimg: readCheckpointState(runDir, name).state.curNimg / 1000 }));
  const candidates = all.filter((c) => opts.maxKimg === undefined || c.kimg <= opts.maxKimg);
  if (candidates.length === 0) {
    throw new InputError(
      all.length ? `no checkpoint in ${runDir} has kimg ≤ ${opts.maxKimg}` : `no checkpoint in ${runDir}`,
      'ERR_NO_CHECKPOINT',
      all.length ? `available: ${all.map((c) => `${c.name} (${c.kimg} kimg)`).join(', ')}` : 'train first',
    );
  }
  if (opts.inception === undefined) {
    const last = candidates[candidates.length - 1];
    return {
      name: last.name,
      kimg: last.kimg,
      method: 'latest',
      scores: [],
      reason: `latest checkpoint${opts.maxKimg === undefined ? '' : ` with kimg ≤ ${opts.maxKimg}`} (no Inception weights for FID)`,
    };
  }
  const f = opts.fid ?? {};
  const device = opts.device ?? 'cpu';
  const base: FidOptions = { ...f, device, run: runDir, inception: opts.inception };
  checkFidOptions(base);
  const n = f.n ?? 10_000;
  const seed = f.seed ?? 0;
  const known = new Map<string, FidResult>();
  const metricPath = runPaths(runDir).fidMetrics;
  if (existsSync(metricPath)) {
    for (const line of readFileSync(metricPath, 'utf8').split('\n')) {
      try {
        const r = JSON.parse(line) as FidResult;
        if (r.inception === resolve(opts.inception) && r.n_gen === n && r.seed === seed && Number.isFinite(r.fid))
          known.set(r.checkpoint, r);
      } catch {
        // a blank or partial line
      }
    }
  }
  const scores: CheckpointSelection['scores'] = [];
  let net: InceptionV3 | null = null;
  let real: Awaited<ReturnType<typeof realFeatures>> | undefined;
  try {
    for (const [i, c] of candidates.entries()) {
      opts.onCheckpoint?.(c.name, i, candidates.length);
      let r = known.get(c.name);
      if (r === undefined) {
        opts.log?.(`FID of ${c.name} (${c.kimg} kimg, ${i + 1}/${candidates.length})`);
        net ??= loadInception(opts.inception, device);
        real ??= await realFeatures(base, net, readCheckpointState(runDir, c.name).state);
        r = await fidWithNet({ ...base, checkpoint: c.name, record: true }, net, real);
      }
      scores.push({ checkpoint: c.name, kimg: c.kimg, fid: r.fid, kid: r.kid });
      opts.log?.(`${c.name}: FID ${r.fid.toFixed(3)}, KID ${r.kid.toFixed(5)}`);
    }
  } finally {
    net?.dispose();
  }
  const best = scores.reduce((a, b) => (b.fid < a.fid ? b : a));
  return {
    name: best.checkpoint,
    kimg: best.kimg,
    method: 'fid',
    scores,
    reason: `lowest FID (${best.fid.toFixed(3)}, ${n} samples) among ${scores.length} checkpoint(s)`,
  };
}
