// SPDX-License-Identifier: MIT
// Training options (spec §7, §8, §16) with the official defaults of `ILS_predL` / `ILS`.
import type { Precision, TrainOptions } from '../run/trainOptions.js';
import type { PresetName } from '../models/config.js';

export type { Precision, TrainOptions } from '../run/trainOptions.js';

/** The official defaults (ILS_predL / ILS). */
export const defaultTrainOptions: TrainOptions = {
  batch: 32,
  gLr: 0.0025,
  dLr: 0.0025,
  betas: [0, 0.99],
  eps: 1e-8,
  gRegInterval: 4,
  dRegInterval: 16,
  r1Gamma: null,
  emaKimg: null,
  emaRampup: 0.05,
  ada: true,
  adaTarget: 0.6,
  adaInterval: 4,
  adaKimg: 500,
  adaInitialP: 0,
  adaFixed: false,
  ils: true,
  ilsDistribution: 'laplace',
  ilsSchedule: 'allTime',
  ilsInitialSigma: 0.2,
  ilsSigma: 1.0,
  ilsSwitchKimg: 400,
  ilsNegWeight: 1,
  binWeight: 2,
  msizeWeight: 2,
  minMaskSize: 0.25,
  maxMaskSize: null,
  perturb: true,
  xintMax: 0.125,
  seed: 0,
  precision: 'auto',
  tf32: false,
};

/** The reduced dtype `precision` selects on `device` (null: float32 throughout). */
export function lowPrecisionDtype(precision: Precision | undefined, device: string): 'float16' | 'bfloat16' | null {
  switch (precision ?? 'auto') {
    case 'fp32':
      return null;
    case 'float16':
      return 'float16';
    case 'bfloat16':
      return 'bfloat16';
    case 'auto':
      return device === 'cpu' ? null : 'float16';
    default:
      throw new RangeError(`precision must be auto, fp32, float16 or bfloat16, got ${precision}`);
  }
}

/**
 * The small CPU presets' training defaults where they differ from defaultTrainOptions (the paper's ils64/ils128):
 * batch 16. Applied by the CLI to a new run of that preset without a recipe; the library's defaults stay the paper's.
 */
export const presetTrainOptions: Record<PresetName, Partial<TrainOptions>> = {
  ils64: {},
  ils128: {},
  tiny32: { batch: 16 },
  small64: { batch: 16 },
};

/**
 * The command-line flag of each training option that has one, for the CLI's flag table (cli/trainFlags.ts) and
 * messages (a --resume conflict); --aug-p sets adaInitialP and adaFixed.
 */
export const trainOptionFlags = {
  batch: '--batch',
  gLr: '--glr',
  dLr: '--dlr',
  r1Gamma: '--gamma',
  ils: '--ils',
  ilsDistribution: '--ils-dist',
  ilsSchedule: '--ils-schedule',
  ilsSigma: '--ils-sigma',
  ilsInitialSigma: '--ils-initial-sigma',
  ilsSwitchKimg: '--ils-switch-kimg',
  ada: '--ada',
  adaTarget: '--ada-target',
  adaInitialP: '--aug-p',
  adaFixed: '--aug-p',
  perturb: '--perturb',
  xintMax: '--shift',
  binWeight: '--bin-weight',
  msizeWeight: '--msize-weight',
  minMaskSize: '--min-mask',
  maxMaskSize: '--max-mask',
  minMaskSizeEnd: '--min-mask-end',
  minMaskRampKimg: '--min-mask-ramp',
  maskBorderWeight: '--mask-border',
  seed: '--seed',
  precision: '--precision',
  tf32: '--tf32',
} as const satisfies Partial<Record<keyof TrainOptions, string>>;

/**
 * The ILS weight σ after `nimg` real images (spec §7.5), 0 with the term off. σ uses the integer kimg
 * k = floor(nimg / 1000); with σ0 = ilsInitialSigma, σ1 = ilsSigma and the switch at ilsSwitchKimg: 'allTime' is
 * σ0 for k ≤ switch, then σ1; 'constant' is σ1; 'cos' is σ0, then ½·σ1·(1 + cos(π·k/switch)); 'coolDown' is σ0,
 * then [σ1, 0, 0, 0] in 200-kimg slots from switch + 1 (the official code's).
 */
export function ilsSigmaAt(
  o: Pick<TrainOptions, 'ils' | 'ilsSchedule' | 'ilsInitialSigma' | 'ilsSigma' | 'ilsSwitchKimg'>,
  nimg: number,
): number {
  if (!o.ils) return 0;
  const k = Math.floor(nimg / 1000);
  const sw = o.ilsSwitchKimg;
  if (o.ilsSchedule === 'constant') return o.ilsSigma;
  if (k <= sw) return o.ilsInitialSigma;
  switch (o.ilsSchedule) {
    case 'allTime':
      return o.ilsSigma;
    case 'cos':
      return 0.5 * o.ilsSigma * (1 + Math.cos((Math.PI * k) / sw));
    case 'coolDown':
      return Math.floor((k - sw - 1) / 200) % 4 === 0 ? o.ilsSigma : 0;
  }
}

/** The kimg span of the minimum-mask relaxation when only its end is given (TrainOptions.minMaskSizeEnd). */
export const defaultMinMaskRampKimg: readonly [number, number] = [15, 30];

/**
 * The minimum mask fraction after `nimg` real images: minMaskSize (the paper's constant) without minMaskSizeEnd;
 * with it, minMaskSize until the ramp's start, then linear to minMaskSizeEnd at its end (minMaskRampKimg, else
 * defaultMinMaskRampKimg), and minMaskSizeEnd from then on.
 */
export function minMaskSizeAt(o: Pick<TrainOptions, 'minMaskSize' | 'minMaskSizeEnd' | 'minMaskRampKimg'>, nimg: number): number {
  if (o.minMaskSizeEnd === undefined) return o.minMaskSize;
  const [a, b] = o.minMaskRampKimg ?? defaultMinMaskRampKimg;
  const f = b > a ? Math.min(1, Math.max(0, (nimg / 1000 - a) / (b - a))) : nimg / 1000 >= a ? 1 : 0;
  return o.minMaskSize + f * (o.minMaskSizeEnd - o.minMaskSize);
}

/** R1 γ in effect: 0.0002·S²/N unless set (0.0256 at 64/32, 0.1024 at 128/32). */
export function r1GammaFor(o: TrainOptions, resolution: number): number {
  return o.r1Gamma ?? (0.0002 * resolution * resolution) / o.batch;
}

/** Adam hyper-parameters after the lazy-regularisation correction c = I/(I+1): lr·c, β^c. */
export function lazyAdam(lr: number, betas: readonly [number, number], interval: number): { lr: number; betas: [number, number] } {
  const c = interval / (interval + 1);
  return { lr: lr * c, betas: [betas[0] ** c, betas[1] ** c] };
}
