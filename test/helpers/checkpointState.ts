// SPDX-License-Identifier: MIT
// A complete, valid checkpoint JSON (no weights behind it) for tests that plant checkpoints or their fields.
import { presets } from '../../src/models/config.js';
import { type CheckpointState, checkpointFormat, checkpointVersion } from '../../src/run/checkpoint.js';
import { checkpointName } from '../../src/run/layout.js';
import { defaultTrainOptions } from '../../src/train/options.js';

/** The JSON of checkpoint `checkpointName(curNimg)` of a tiny32 run, as saveCheckpoint would write it. */
export function fakeCheckpointState(curNimg: number): CheckpointState {
  return {
    format: checkpointFormat,
    version: checkpointVersion,
    net: { ...presets.tiny32 },
    options: { ...defaultTrainOptions },
    configName: 'tiny32',
    data: 'demo',
    curNimg,
    iteration: Math.floor(curNimg / 32),
    adaP: 0,
    adaSigns: { sum: 0, count: 0 },
    adaRng: [1, 2, 3, 4],
    optG: { groups: [] },
    optD: { groups: [] },
    sampler: { epoch: 0, pos: 0 },
    targetKimg: 10,
    trainSeconds: 1,
    weights: `${checkpointName(curNimg)}.safetensors`,
  };
}
