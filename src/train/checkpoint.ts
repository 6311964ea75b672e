// SPDX-License-Identifier: MIT
// Writing checkpoints (the format and the reader are run/checkpoint.ts): the safetensors file and then the JSON,
// both atomically, so a checkpoint exists only once it is whole. The last K are kept. And a resume's restore.
import { mkdirSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../util/errors.js';
import { getRngState, setRngState } from '../tensor/ops/random.js';
import { loadSafetensors, saveSafetensors } from '../tensor/safetensors.js';
import type { Tensor } from '../tensor/tensor.js';
import { dispose, noGrad, scope } from '../tensor/scope.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import {
  type CheckpointState,
  type RunIntervals,
  checkpointDir,
  checkpointFiles,
  checkpointFormat,
  checkpointVersion,
  listCheckpoints,
  weightsPathOf,
} from '../run/checkpoint.js';
import { checkpointName } from '../run/layout.js';
import type { IlsTrainer } from './trainer.js';

export function saveCheckpoint(
  runDir: string,
  trainer: IlsTrainer,
  extra: {
    configName: string;
    data: string;
    sampler: { epoch: number; pos: number };
    trainSeconds: number;
    adaSigns: { sum: number; count: number };
    targetKimg: number;
    intervals?: RunIntervals;
    demoCount?: number;
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
  mkdirSync(checkpointDir(runDir), { recursive: true });
  const name = checkpointName(trainer.curNimg);
  const files = checkpointFiles(runDir, name);
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
    weightsSha256 = saveSafetensors(files.weights, tensors, {
      format: checkpointFormat,
      version: String(checkpointVersion),
      config: JSON.stringify(trainer.net),
      kimg: String(trainer.kimg),
      seed: String(trainer.opts.seed),
    });
  } finally {
    rng.dispose();
  }
  const state: CheckpointState = {
    format: checkpointFormat,
    version: checkpointVersion,
    net: trainer.net,
    options: trainer.opts,
    configName: extra.configName,
    data: extra.data,
    curNimg: trainer.curNimg,
    iteration: trainer.iteration,
    adaP: trainer.ada.p,
    adaSigns: extra.adaSigns,
    adaRng: trainer.ada.rngState,
    optG: optG.json,
    optD: optD.json,
    sampler: extra.sampler,
    trainSeconds: extra.trainSeconds,
    targetKimg: extra.targetKimg,
    weights: basename(files.weights),
    weightsSha256,
    intervals: extra.intervals,
    demoCount: extra.demoCount,
  };
  writeFileAtomic(files.json, Buffer.from(`${JSON.stringify(state, null, 1)}\n`));
  // Keep the last K complete checkpoints.
  const all = listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - keepLast))) {
    const f = checkpointFiles(runDir, old);
    rmSync(f.json, { force: true });
    rmSync(f.weights, { force: true });
  }
  return name;
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

/** Loads weights, optimiser state, RNG and counters into a trainer built from the same config. */
export function restoreTrainer(runDir: string, name: string, state: CheckpointState, trainer: IlsTrainer): void {
  const weightsPath = weightsPathOf(checkpointFiles(runDir, name).json, state);
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
