// SPDX-License-Identifier: MIT
// Training options (spec §7, §8, §16) with the official defaults of `ILS_predL` / `ILS`.
import type { IlsDistribution, IlsSchedule } from './loss/ils.js';
import type { PresetName } from '../models/config.js';

export interface TrainOptions {
  /** Minibatch N (32). */
  batch: number;
  /** Base learning rates and Adam betas/eps before the lazy-regularisation correction (0.0025, (0, 0.99), 1e-8). */
  gLr: number;
  dLr: number;
  betas: [number, number];
  eps: number;
  /** Lazy-regularisation intervals: G 4 (the PL term is off, yet the correction applies), D 16. */
  gRegInterval: number;
  dRegInterval: number;
  /** R1 γ; null = 0.0002·S²/N (spec §7). */
  r1Gamma: number | null;
  /** G_ema half-life in kimg (null = N·10/32) and ramp-up (0.05). */
  emaKimg: number | null;
  emaRampup: number | null;
  /** ADA: on/off, target r_t (0.6), update interval in iterations (4), speed in kimg (500), initial p. */
  ada: boolean;
  adaTarget: number;
  adaInterval: number;
  adaKimg: number;
  adaInitialP: number;
  /** Keep p fixed at adaInitialP (no adaptation); for benchmarks and ablations. */
  adaFixed: boolean;
  /** ILS term on/off, conditional, weight schedule. */
  ils: boolean;
  ilsDistribution: IlsDistribution;
  ilsSchedule: IlsSchedule;
  ilsInitialSigma: number;
  ilsSigma: number;
  ilsSwitchKimg: number;
  ilsNegWeight: number;
  /** Mask binarisation and minimum-size hinge weights (2, 2), the minimum size (0.25), an optional maximum (null:
   *  none with Tx on; with Tx off, 1 − minMaskSize, as the official loss adds that hinge itself, spec §7.4). */
  binWeight: number;
  msizeWeight: number;
  minMaskSize: number;
  maxMaskSize: number | null;
  /** Tx: shift the foreground layer by up to ±xintMax·S (0.125); off disables the perturbation. */
  perturb: boolean;
  xintMax: number;
  /**
   * Not in the paper (absent or 0 = off, the paper): weight of a mask-diversity hinge, relu(target − mean |m_i − m_j|)
   * over pairs (i, i + N/2) of the batch, against mask mode collapse (one silhouette for every sample). Measured on
   * TuxComposite it made the masks diverse but not object-shaped and scored worse (docs/quality.md); kept for
   * experiments, off everywhere.
   */
  maskDivWeight?: number;
  /** The hinge's target mean absolute difference between two samples' masks (0.15). */
  maskDivTarget?: number;
  /** Seed of every random stream. */
  seed: number;
  /**
   * Reduced precision for the blocks at the config's top `numFp16Res` resolutions (spec §3.7): 'auto' = float16
   * on a GPU and fp32 on the CPU (which has no fast half-precision convolutions); 'fp32' = off everywhere;
   * 'float16' / 'bfloat16' = that dtype on any device (bfloat16 lets the CPU test the mixed path). Absent = 'auto'.
   */
  precision?: Precision;
  /** TensorFloat-32 for the float32 convolutions and matmuls on a GPU (off, as upstream). Absent = off. */
  tf32?: boolean;
}

export type Precision = 'auto' | 'fp32' | 'float16' | 'bfloat16';

export const defaultTrainOptions: TrainOptions = {
  batch: 32, gLr: 0.0025, dLr: 0.0025, betas: [0, 0.99], eps: 1e-8, gRegInterval: 4, dRegInterval: 16,
  r1Gamma: null, emaKimg: null, emaRampup: 0.05,
  ada: true, adaTarget: 0.6, adaInterval: 4, adaKimg: 500, adaInitialP: 0, adaFixed: false,
  ils: true, ilsDistribution: 'laplace', ilsSchedule: 'allTime', ilsInitialSigma: 0.2, ilsSigma: 1.0, ilsSwitchKimg: 400,
  ilsNegWeight: 1,
  binWeight: 2, msizeWeight: 2, minMaskSize: 0.25, maxMaskSize: null,
  perturb: true, xintMax: 0.125, seed: 0, precision: 'auto', tf32: false,
};

/** The reduced dtype `precision` selects on `device` (null: float32 throughout). */
export function lowPrecisionDtype(precision: Precision | undefined, device: string): 'float16' | 'bfloat16' | null {
  switch (precision ?? 'auto') {
    case 'fp32': return null;
    case 'float16': return 'float16';
    case 'bfloat16': return 'bfloat16';
    case 'auto': return device === 'cpu' ? null : 'float16';
    default: throw new RangeError(`precision must be auto, fp32, float16 or bfloat16, got ${precision}`);
  }
}

/**
 * The small CPU presets' training defaults where they differ from defaultTrainOptions (the paper's ils64/ils128):
 * batch 16. Applied by the CLI to a new run of that preset without a recipe; the library's defaults stay the paper's.
 */
export const presetTrainOptions: Record<PresetName, Partial<TrainOptions>> = {
  ils64: {}, ils128: {}, tiny32: { batch: 16 }, small64: { batch: 16 },
};

/**
 * The command-line flag of each training option that has one, for the CLI's flag table (cli/trainFlags.ts) and
 * messages (a --resume conflict); --aug-p sets adaInitialP and adaFixed.
 */
export const trainOptionFlags = {
  batch: '--batch', gLr: '--glr', dLr: '--dlr', r1Gamma: '--gamma', ils: '--ils', ilsDistribution: '--ils-dist',
  ilsSchedule: '--ils-schedule', ilsSigma: '--ils-sigma', ilsInitialSigma: '--ils-initial-sigma', ilsSwitchKimg: '--ils-switch-kimg',
  ada: '--ada', adaTarget: '--ada-target', adaInitialP: '--aug-p', adaFixed: '--aug-p', perturb: '--perturb', xintMax: '--shift',
  binWeight: '--bin-weight', msizeWeight: '--msize-weight', minMaskSize: '--min-mask', maxMaskSize: '--max-mask', seed: '--seed',
  precision: '--precision', tf32: '--tf32',
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

/** R1 γ in effect: 0.0002·S²/N unless set (0.0256 at 64/32, 0.1024 at 128/32). */
export function r1GammaFor(o: TrainOptions, resolution: number): number {
  return o.r1Gamma ?? (0.0002 * resolution * resolution) / o.batch;
}

/** Adam hyper-parameters after the lazy-regularisation correction c = I/(I+1): lr·c, β^c. */
export function lazyAdam(lr: number, betas: readonly [number, number], interval: number): { lr: number; betas: [number, number] } {
  const c = interval / (interval + 1);
  return { lr: lr * c, betas: [betas[0] ** c, betas[1] ** c] };
}
