// SPDX-License-Identifier: MIT
// Reading a run's checkpoints: each is one safetensors file (G, G_ema, D weights and buffers, optimiser moments,
// RNG state; readable from PyTorch) plus a JSON file (counters, ADA p, optimiser steps, sampler position, config),
// in <run>/checkpoints/. A checkpoint exists only once its JSON does (train/checkpoint.ts writes it last).
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { NetworkConfig } from '../models/config.js';
import { LayeredGenerator } from '../models/layeredGenerator.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../util/errors.js';
import type { Adam } from '../tensor/optim/adam.js';
import { loadSafetensors } from '../tensor/safetensors.js';
import { dispose } from '../tensor/scope.js';
import type { HostRandomState } from '../util/hostRandom.js';
import { resolveInside } from '../util/safePath.js';
import { readJsonChecked } from '../util/schema.js';
import { checkpointStateSchema } from './checkpointSchema.js';
import { checkpointName, isCheckpointName, parseCheckpointFile, pipelineGanDir, runPaths } from './layout.js';
import type { TrainOptions } from './trainOptions.js';

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
  optG: ReturnType<Adam['stateDict']>['json'];
  optD: ReturnType<Adam['stateDict']>['json'];
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
  return runPaths(runDir).checkpoints;
}

/** The JSON and weights paths of checkpoint `name` in a run. */
export function checkpointFiles(runDir: string, name: string): { json: string; weights: string } {
  const dir = checkpointDir(runDir);
  return { json: join(dir, `${name}.json`), weights: join(dir, `${name}.safetensors`) };
}

/** Completed checkpoints (those whose JSON and weights exist), oldest first. */
export function listCheckpoints(runDir: string): string[] {
  const dir = checkpointDir(runDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map(parseCheckpointFile)
    .filter((f) => f?.part === 'json' && existsSync(checkpointFiles(runDir, f.name).weights))
    .map((f) => f!.name)
    .sort();
}

/** Checkpoint weights without their JSON (a kill between the two writes): never a checkpoint. */
export function orphanWeights(runDir: string): string[] {
  const dir = checkpointDir(runDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map(parseCheckpointFile)
    .filter((f) => f?.part === 'safetensors' && !existsSync(checkpointFiles(runDir, f.name).json))
    .map((f) => checkpointFiles(runDir, f!.name).weights);
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
  return { name: pick, state: parseCheckpointState(checkpointFiles(runDir, pick).json) };
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
export function weightsPathOf(jsonPath: string, state: CheckpointState): string {
  return resolveInside(dirname(jsonPath), state.weights, { file: jsonPath, field: 'weights', code: 'ERR_NO_CHECKPOINT' });
}

/**
 * Finds a checkpoint by reference: omitted → the run's latest; a name (`ckpt-000004560`) → that one in the
 * run's checkpoints/; anything else is a path to its .json or .safetensors (or to both without extension).
 * @throws InputError ERR_NO_CHECKPOINT when there is none, the name is unknown or the file is not a checkpoint.
 */
export function resolveCheckpoint(runDir: string, ref?: string): { name: string; state: CheckpointState; weightsPath: string } {
  if (ref === undefined || isCheckpointName(ref)) {
    const { name, state } = readCheckpointState(runDir, ref);
    return { name, state, weightsPath: weightsPathOf(checkpointFiles(runDir, name).json, state) };
  }
  const base = ref.replace(/\.(json|safetensors)$/, '');
  const jsonPath = `${base}.json`;
  if (!existsSync(jsonPath)) {
    throw new InputError(
      `no checkpoint ${ref}`,
      'ERR_NO_CHECKPOINT',
      `expected ${jsonPath} next to its .safetensors, or a name like ${checkpointName(0)}`,
    );
  }
  const state = parseCheckpointState(jsonPath);
  return { name: basename(base), state, weightsPath: weightsPathOf(jsonPath, state) };
}

/** G_ema of a checkpoint (see resolveCheckpoint) as a generator in eval mode on `device`; the caller disposes it. */
export function loadGeneratorEma(
  runDir: string,
  ref?: string,
  device: Device = 'cpu',
): { name: string; state: CheckpointState; G: LayeredGenerator } {
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

/**
 * The training run inside a folder: the folder itself when it holds checkpoints/, else a pipeline output's gan/.
 * @returns null when neither holds a checkpoint.
 */
export function findTrainingRun(dir: string): { runDir: string; pipeline: boolean } | null {
  if (listCheckpoints(dir).length > 0) return { runDir: dir, pipeline: false };
  const gan = pipelineGanDir(dir);
  if (listCheckpoints(gan).length > 0) return { runDir: gan, pipeline: true };
  return null;
}
