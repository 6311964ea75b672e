// SPDX-License-Identifier: MIT
// Reusing a finished run (issue 16, item 4): find its checkpoint (a training run, a pipeline output or a checkpoint
// file), check that a new network config can take its weights, and copy G, G_ema and D into a new trainer — not the
// optimiser moments, counters, ADA p or RNG, so the new run starts at 0 kimg (as StyleGAN2-ADA's --resume <pkl>).
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NetworkConfig } from '../models/config.js';
import { InputError } from '../util/errors.js';
import { loadSafetensors } from '../tensor/safetensors.js';
import { dispose } from '../tensor/scope.js';
import { type CheckpointState, findTrainingRun, resolveCheckpoint } from '../run/checkpoint.js';
import { pipelineGanDir } from '../run/layout.js';
import type { IlsTrainer } from './trainer.js';

/** A run's checkpoint to read weights from. */
export interface RunCheckpoint {
  /** The training run folder (`<pipeline out>/gan` for a pipeline). */
  runDir: string;
  /** Checkpoint name (ckpt-000004560). */
  name: string;
  state: CheckpointState;
  weightsPath: string;
}

/**
 * Resolves `--init-from`: a run folder or pipeline output (its latest checkpoint), or a checkpoint's .json or
 * .safetensors file.
 * @throws InputError ERR_NO_CHECKPOINT naming the path when it holds no checkpoint.
 */
export function resolveRunCheckpoint(ref: string, flag = '--init-from'): RunCheckpoint {
  if (!existsSync(ref))
    throw new InputError(
      `${flag} ${ref}: no such run folder or checkpoint file`,
      'ERR_NO_CHECKPOINT',
      'give the --out folder of an earlier ilsgan train or pipeline',
    );
  if (statSync(ref).isDirectory()) {
    const run = findTrainingRun(ref);
    if (!run) {
      throw new InputError(
        `${flag} ${ref}: no checkpoint in this folder (nor in ${pipelineGanDir(ref)})`,
        'ERR_NO_CHECKPOINT',
        'give the --out folder of an earlier ilsgan train or pipeline',
      );
    }
    const { name, state, weightsPath } = resolveCheckpoint(run.runDir);
    return { runDir: run.runDir, name, state, weightsPath };
  }
  const { name, state, weightsPath } = resolveCheckpoint('.', ref);
  return { runDir: dirname(dirname(ref)), name, state, weightsPath };
}

/**
 * The network fields that decide the weights' shapes or what they mean (the mapping's learning-rate multiplier scales
 * them at run time). Clamping, reduced precision, minibatch-std grouping and the mask prior may differ.
 */
export const weightFields = [
  'resolution',
  'zDim',
  'wDim',
  'mappingLayers',
  'mappingLrMultiplier',
  'channelBase',
  'channelMax',
  'mbstdChannels',
] as const satisfies readonly (keyof NetworkConfig)[];

/** Fields where `net` cannot take weights trained with `source`, as "channelMax 64 (source: 128)". */
export function weightConfigMismatches(net: NetworkConfig, source: NetworkConfig): string[] {
  return weightFields.filter((k) => net[k] !== source[k]).map((k) => `${k} ${net[k]} (source: ${source[k]})`);
}

/**
 * Checks that a new run's network can start from `src`'s weights.
 * @throws InputError ERR_CONFIG_MISMATCH naming every mismatching field.
 */
export function checkInitCompatible(net: NetworkConfig, src: RunCheckpoint): void {
  const bad = weightConfigMismatches(net, src.state.net);
  if (bad.length) {
    throw new InputError(
      `--init-from ${src.runDir} (${src.name}): its network differs from this run's in ${bad.join(', ')}`,
      'ERR_CONFIG_MISMATCH',
      "leave out --config/--recipe/--resolution/--cbase/--cmax/--map to take the source run's network, or set them to its values",
    );
  }
}

/** Copies G, G_ema and D (weights and buffers) of `src` into a trainer built with a compatible config. */
export function initTrainerWeights(src: RunCheckpoint, trainer: IlsTrainer): void {
  checkInitCompatible(trainer.net, src);
  const { tensors } = loadSafetensors(src.weightsPath, { device: trainer.device, sha256: src.state.weightsSha256, requireFinite: true });
  try {
    trainer.G.loadStateDict(tensors, { prefix: 'G.' });
    trainer.Gema.loadStateDict(tensors, { prefix: 'G_ema.' });
    trainer.D.loadStateDict(tensors, { prefix: 'D.' });
  } finally {
    dispose([...tensors.values()]);
  }
}
