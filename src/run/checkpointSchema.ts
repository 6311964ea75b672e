// SPDX-License-Identifier: MIT
// What a checkpoint's JSON may hold (issue 14): every field that drives an allocation, a loop or a file name is
// range-checked before a run is rebuilt from it, so a corrupt or planted file gives one error naming the field
// instead of a stack trace, an endless replay or an unreadable checkpoint name.
import type { NetworkConfig } from '../models/config.js';
import { type TrainOptions, precisions } from './trainOptions.js';
import {
  type Schema,
  array,
  bool,
  int,
  literal,
  nullable,
  num,
  object,
  oneOf,
  optional,
  powerOfTwo,
  sha256Hex,
  str,
  tuple,
} from '../util/schema.js';

/** Largest curNimg / iteration accepted: 10^12 images is ~30 000 times the paper's longest run. */
const maxImages = 1e12;
/** Positive numbers (strictly), finite. */
const positive = (max: number) => num(Number.MIN_VALUE, max);

/** NetworkConfig, with limits well above the presets (the paper's: base 16384, max 256, 512-d latents). */
export const networkConfigSchema = object({
  resolution: powerOfTwo(32, 256),
  zDim: int(1, 4096),
  wDim: int(1, 4096),
  mappingLayers: int(1, 64),
  mappingLrMultiplier: num(0, 1000),
  channelBase: int(1, 2 ** 16),
  channelMax: int(1, 4096),
  convClamp: nullable(num(0, 1e6)),
  numFp16Res: optional(int(0, 16)),
  mbstdGroupSize: int(1, 1024),
  mbstdChannels: int(1, 64),
  maskPrior: optional(num(-1e3, 1e3)),
  maskPriorKimg: optional(positive(1e9)),
  maskPriorJitter: optional(num(0, 0.5)),
}) satisfies Schema<NetworkConfig>;

const weight = num(-1e6, 1e6);

/** TrainOptions: batch 1–65536, rates and probabilities in range, enumerations spelled as the code knows them. */
export const trainOptionsSchema = object({
  batch: int(1, 65536),
  gLr: num(0, 10),
  dLr: num(0, 10),
  betas: tuple([num(0, 1), num(0, 1)]),
  eps: num(0, 1),
  gRegInterval: int(1, 1e6),
  dRegInterval: int(1, 1e6),
  r1Gamma: nullable(num(0, 1e6)),
  emaKimg: nullable(num(0, 1e6)),
  emaRampup: nullable(num(0, 1e3)),
  ada: bool(),
  adaTarget: num(0, 1),
  adaInterval: int(1, 1e6),
  adaKimg: positive(1e9),
  adaInitialP: num(0, 1),
  adaFixed: bool(),
  ils: bool(),
  ilsDistribution: oneOf(['laplace', 'gaussian']),
  ilsSchedule: oneOf(['allTime', 'cos', 'coolDown', 'constant']),
  ilsInitialSigma: num(0, 1e3),
  ilsSigma: num(0, 1e3),
  ilsSwitchKimg: num(0, 1e9),
  ilsNegWeight: weight,
  binWeight: weight,
  msizeWeight: weight,
  minMaskSize: num(0, 1),
  maxMaskSize: nullable(num(0, 1)),
  perturb: bool(),
  xintMax: num(0, 1),
  maskDivWeight: optional(weight),
  maskDivTarget: optional(num(0, 1)),
  maskBorderWeight: optional(weight),
  maskBorderMax: optional(num(0, 1)),
  minMaskSizeEnd: optional(num(0, 1)),
  minMaskRampKimg: optional(tuple([num(0, Number.MAX_SAFE_INTEGER), num(0, Number.MAX_SAFE_INTEGER)])),
  seed: int(0, Number.MAX_SAFE_INTEGER),
  precision: optional(oneOf(precisions)),
  tf32: optional(bool()),
}) satisfies Schema<TrainOptions>;

const uint32 = int(0, 0xffffffff);
const adamState = object({
  groups: array(
    object({
      lr: num(0, 1e3),
      betas: array(num(0, 1), { min: 2, max: 2 }),
      eps: num(0, 1),
      weightDecay: num(0, 1e3),
      steps: array(int(0, maxImages), { max: 1e6 }),
    }),
    { max: 64 },
  ),
});

/** The checkpoint JSON (CheckpointState in checkpoint.ts); `weights` is checked as a path by the reader. */
export const checkpointStateSchema = object({
  format: literal('ilsgan-checkpoint'),
  version: int(1, 1),
  net: networkConfigSchema,
  options: trainOptionsSchema,
  configName: str({ maxLength: 256 }),
  data: str(),
  curNimg: int(0, maxImages),
  iteration: int(0, maxImages),
  adaP: num(0, 1e3),
  adaSigns: object({ sum: num(), count: int(0, maxImages) }),
  adaRng: optional(tuple([uint32, uint32, uint32, uint32])),
  optG: adamState,
  optD: adamState,
  // An epoch replays one shuffle each on resume: 10^9 is far beyond any run and still bounded.
  sampler: object({ epoch: int(0, 1e9), pos: int(0, 2 ** 31) }),
  targetKimg: positive(1e9),
  trainSeconds: num(0, 1e12),
  weights: str({ maxLength: 1024 }),
  weightsSha256: optional(sha256Hex()),
  intervals: optional(
    object({
      tickKimg: positive(1e9),
      snapshotKimg: positive(1e9),
      checkpointKimg: positive(1e9),
      keepCheckpoints: int(1, 1e6),
    }),
  ),
  demoCount: optional(int(1, 1e7)),
});
