// SPDX-License-Identifier: MIT
// Checkpoints: one safetensors file (G, G_ema, D weights and buffers, optimiser moments, RNG state; readable
// from PyTorch) plus a JSON file (counters, ADA p, optimiser steps, sampler position, config). Both are written
// atomically and the JSON last, so a checkpoint exists only once it is whole. The last K are kept.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { NetworkConfig } from '../models/config.js';
import { LayeredGenerator } from '../models/layeredGenerator.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../tensor/errors.js';
import type { HostRandomState } from '../util/hostRandom.js';
import { getRngState, setRngState } from '../tensor/ops/random.js';
import { loadSafetensors, saveSafetensors } from '../tensor/safetensors.js';
import type { Tensor } from '../tensor/tensor.js';
import { dispose, noGrad, scope } from '../tensor/scope.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { resolveInside } from '../util/safePath.js';
import { readJsonChecked } from '../util/schema.js';
import { checkpointStateSchema } from './checkpointSchema.js';
import type { TrainOptions } from './options.js';
import type { IlsTrainer } from './trainer.js';

export const checkpointFormat = 'ilsgan-checkpoint';
export const checkpointVersion = 1;

export interface CheckpointState {
  format: typeof checkpointFormat;
  version: number;
  /** Network and training configuration: a resumed run rebuilds everything from these. */
  net: NetworkConfig;
  options: TrainOptions;
  /** Preset name or 'custom'; the data the run trains on. */
  configName: string;
  data: string;
  curNimg: number;
  iteration: number;
  adaP: number;
  adaSigns: { sum: number; count: number };
  /** The ADA parameter generator's state (absent in checkpoints before it was drawn on the host: then the
   * resumed run starts it from the seed). */
  adaRng?: HostRandomState;
  optG: ReturnType<IlsTrainer['optG']['stateDict']>['json'];
  optD: ReturnType<IlsTrainer['optD']['stateDict']>['json'];
  sampler: { epoch: number; pos: number };
  /** The kimg the run was asked to reach (a resume without --kimg continues to it). */
  targetKimg: number;
  /** Wall-clock seconds spent training so far (across resumes). */
  trainSeconds: number;
  /** The name of the weights file next to this JSON (a path from the file: it must resolve inside its folder). */
  weights: string;
  /** SHA-256 (hex) of the weights file, verified on load (absent in checkpoints written before issue 14: those
   *  still load, unverified). */
  weightsSha256?: string;
  /** The run's intervals in kimg and checkpoints kept, so a resume keeps them (absent in older checkpoints). */
  intervals?: RunIntervals;
  /** Procedural images for data = 'demo' (absent in older checkpoints and for other data). */
  demoCount?: number;
}

/** How often a run logs metrics, writes sample grids and checkpoints (kimg), and how many checkpoints it keeps. */
export interface RunIntervals {
  tickKimg: number;
  snapshotKimg: number;
  checkpointKimg: number;
  keepCheckpoints: number;
}

export function checkpointDir(runDir: string): string {
  return join(runDir, 'checkpoints');
}

/** Sortable checkpoint name from the images shown: ckpt-000012800. */
export function checkpointName(curNimg: number): string {
  return `ckpt-${String(curNimg).padStart(9, '0')}`;
}

/** Completed checkpoints (those whose JSON exists), oldest first. */
export function listCheckpoints(runDir: string): string[] {
  const dir = checkpointDir(runDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^ckpt-\d+\.json$/.test(f) && existsSync(join(dir, f.replace(/\.json$/, '.safetensors'))))
    .map((f) => f.replace(/\.json$/, ''))
    .sort();
}

export function saveCheckpoint(
  runDir: string,
  trainer: IlsTrainer,
  extra: {
    configName: string; data: string; sampler: { epoch: number; pos: number }; trainSeconds: number;
    adaSigns: { sum: number; count: number }; targetKimg: number; intervals?: RunIntervals; demoCount?: number;
  },
  keepLast = 3,
): string {
  // A diverged G_ema must not become the newest checkpoint (it would push out the last good ones). One reduction
  // per tensor: cheap next to writing the file.
  const bad = nonFiniteTensors(trainer.Gema.stateDict('G_ema.'));
  if (bad.length) {
    throw new InputError(
      `training diverged at ${trainer.kimg.toFixed(3)} kimg: G_ema holds non-finite values (${bad.slice(0, 3).join(', ')}${bad.length > 3 ? `, … ${bad.length} tensors` : ''}); no checkpoint written`,
      'ERR_NON_FINITE',
      'resume from the last checkpoint with lower learning rates',
    );
  }
  const dir = checkpointDir(runDir);
  mkdirSync(dir, { recursive: true });
  const name = checkpointName(trainer.curNimg);
  const tensors = new Map<string, Tensor>();
  for (const [k, v] of trainer.G.stateDict('G.')) tensors.set(k, v);
  for (const [k, v] of trainer.Gema.stateDict('G_ema.')) tensors.set(k, v);
  for (const [k, v] of trainer.D.stateDict('D.')) tensors.set(k, v);
  const optG = trainer.optG.stateDict('optG.');
  const optD = trainer.optD.stateDict('optD.');
  for (const [k, v] of optG.tensors) tensors.set(k, v);
  for (const [k, v] of optD.tensors) tensors.set(k, v);
  const rng = getRngState();
  tensors.set('rng.cpu', rng);
  let weightsSha256: string;
  try {
    weightsSha256 = saveSafetensors(join(dir, `${name}.safetensors`), tensors, {
      format: checkpointFormat, version: String(checkpointVersion), config: JSON.stringify(trainer.net),
      kimg: String(trainer.kimg), seed: String(trainer.opts.seed),
    });
  } finally {
    rng.dispose();
  }
  const state: CheckpointState = {
    format: checkpointFormat, version: checkpointVersion, net: trainer.net, options: trainer.opts,
    configName: extra.configName, data: extra.data, curNimg: trainer.curNimg, iteration: trainer.iteration,
    adaP: trainer.ada.p, adaSigns: extra.adaSigns, adaRng: trainer.ada.rngState, optG: optG.json, optD: optD.json, sampler: extra.sampler,
    trainSeconds: extra.trainSeconds, targetKimg: extra.targetKimg, weights: `${name}.safetensors`, weightsSha256,
    intervals: extra.intervals, demoCount: extra.demoCount,
  };
  writeFileAtomic(join(dir, `${name}.json`), Buffer.from(`${JSON.stringify(state, null, 1)}\n`));
  // Keep the last K complete checkpoints.
  const all = listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - keepLast))) {
    rmSync(join(dir, `${old}.json`), { force: true });
    rmSync(join(dir, `${old}.safetensors`), { force: true });
  }
  return name;
}

/** Reads a checkpoint's JSON (the latest when name is omitted). */
export function readCheckpointState(runDir: string, name?: string): { name: string; state: CheckpointState } {
  const all = listCheckpoints(runDir);
  const pick = name ?? all[all.length - 1];
  if (!pick || !all.includes(pick)) {
    throw new InputError(
      name ? `no checkpoint ${name} in ${runDir}` : `no checkpoint in ${runDir}`,
      'ERR_NO_CHECKPOINT',
      all.length ? `available: ${all.join(', ')}` : 'train first (ilsgan train --out <run dir>)',
    );
  }
  return { name: pick, state: parseCheckpointState(join(checkpointDir(runDir), `${pick}.json`)) };
}

/** Names of the floating-point tensors holding NaN or ±Inf. */
export function nonFiniteTensors(tensors: Iterable<[string, Tensor]>): string[] {
  const bad: string[] = [];
  noGrad(() =>
    scope(() => {
      for (const [k, v] of tensors) if (v.isFloatingPoint() && !v.isfinite().all().item()) bad.push(k);
    }),
  );
  return bad;
}

/**
 * A checkpoint's JSON, checked field by field (checkpointSchema.ts).
 * @throws InputError ERR_NO_CHECKPOINT naming the file and the field when unreadable, foreign or out of range.
 */
function parseCheckpointState(jsonPath: string): CheckpointState {
  const state: CheckpointState = readJsonChecked(checkpointStateSchema, { file: jsonPath, code: 'ERR_NO_CHECKPOINT' });
  return state;
}

/** The weights file a checkpoint JSON names, inside the JSON's folder. @throws InputError ERR_NO_CHECKPOINT. */
function weightsPathOf(jsonPath: string, state: CheckpointState): string {
  return resolveInside(dirname(jsonPath), state.weights, { file: jsonPath, field: 'weights', code: 'ERR_NO_CHECKPOINT' });
}

/** Loads weights, optimiser state, RNG and counters into a trainer built from the same config. */
export function restoreTrainer(runDir: string, name: string, state: CheckpointState, trainer: IlsTrainer): void {
  const weightsPath = weightsPathOf(join(checkpointDir(runDir), `${name}.json`), state);
  const { tensors } = loadSafetensors(weightsPath, { device: trainer.device, sha256: state.weightsSha256, requireFinite: true });
  try {
    trainer.G.loadStateDict(tensors, { prefix: 'G.' });
    trainer.Gema.loadStateDict(tensors, { prefix: 'G_ema.' });
    trainer.D.loadStateDict(tensors, { prefix: 'D.' });
    trainer.optG.loadStateDict({ tensors, json: state.optG }, 'optG.');
    trainer.optD.loadStateDict({ tensors, json: state.optD }, 'optD.');
    const rng = tensors.get('rng.cpu');
    if (rng) setRngState(rng.device === 'cpu' ? rng : rng.cpu());
  } finally {
    dispose([...tensors.values()]);
  }
  trainer.curNimg = state.curNimg;
  trainer.Gema.setKimg(state.curNimg / 1000);
  trainer.iteration = state.iteration;
  trainer.ada.p = state.adaP;
  if (state.adaRng) trainer.ada.rngState = state.adaRng;
  trainer.setAdaSigns(state.adaSigns);
}

/**
 * Finds a checkpoint by reference: omitted → the run's latest; a name (`ckpt-000004560`) → that one in the
 * run's checkpoints/; anything else is a path to its .json or .safetensors (or to both without extension).
 * @throws InputError ERR_NO_CHECKPOINT when there is none, the name is unknown or the file is not a checkpoint.
 */
export function resolveCheckpoint(runDir: string, ref?: string): { name: string; state: CheckpointState; weightsPath: string } {
  if (ref === undefined || /^ckpt-\d+$/.test(ref)) {
    const { name, state } = readCheckpointState(runDir, ref);
    return { name, state, weightsPath: weightsPathOf(join(checkpointDir(runDir), `${name}.json`), state) };
  }
  const base = ref.replace(/\.(json|safetensors)$/, '');
  const jsonPath = `${base}.json`;
  if (!existsSync(jsonPath)) {
    throw new InputError(`no checkpoint ${ref}`, 'ERR_NO_CHECKPOINT', `expected ${jsonPath} next to its .safetensors, or a name like ${checkpointName(0)}`);
  }
  const state = parseCheckpointState(jsonPath);
  return { name: basename(base), state, weightsPath: weightsPathOf(jsonPath, state) };
}

/** G_ema of a checkpoint (see resolveCheckpoint) as a generator in eval mode on `device`; the caller disposes it. */
export function loadGeneratorEma(runDir: string, ref?: string, device: Device = 'cpu'): { name: string; state: CheckpointState; G: LayeredGenerator } {
  const { name, state, weightsPath } = resolveCheckpoint(runDir, ref);
  const { tensors } = loadSafetensors(weightsPath, { sha256: state.weightsSha256, requireFinite: true });
  const G = new LayeredGenerator(state.net);
  try {
    G.loadStateDict(tensors, { prefix: 'G_ema.' });
    G.to(device).eval().requiresGrad_(false);
    G.setKimg(state.curNimg / 1000);
  } catch (e) {
    G.dispose();
    throw e;
  } finally {
    dispose([...tensors.values()]);
  }
  return { name, state, G };
}
