// SPDX-License-Identifier: MIT
// What a run's training options are (spec §7, §8, §16), as stored in its config.json and checkpoints: the type
// lives here, below train/, so the readers of a run (eval, gen, report) need nothing from the trainer. The
// official defaults are train/options.ts's defaultTrainOptions.

/** The conditional q(x | y) of the ILS bound. */
export type IlsDistribution = 'laplace' | 'gaussian';

/** σ schedules (spec §7.5); the σ at a point in training is train/options.ts's ilsSigmaAt. */
export type IlsSchedule = 'allTime' | 'cos' | 'coolDown' | 'constant';

/** The training precisions (train/options.ts's lowPrecisionDtype says what each selects on a device). */
export const precisions = ['auto', 'fp32', 'float16', 'bfloat16'] as const;
export type Precision = (typeof precisions)[number];

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
  /**
   * Not in the paper (absent or 0 = off, the paper): weight of a frame-border hinge on the un-perturbed mask,
   * relu(mean of m over the outer ring of width S/16 − maskBorderMax), per sample. It assumes object-centric photos
   * (the object lies inside the frame, the background reaches its borders) and rules out the two degenerate layerings
   * seen on photos: the "ground band" (the foreground layer takes the floor along the bottom and sides) and the
   * inverted one (the foreground layer takes the surroundings). docs/quality.md has the measurements.
   */
  maskBorderWeight?: number;
  /** The hinge's free fraction of the border ring (0.2). */
  maskBorderMax?: number;
  /**
   * Not in the paper (absent = off): the minimum mask fraction ramps linearly from minMaskSize to this value between
   * minMaskRampKimg[0] and [1] kimg. The hinge keeps the foreground layer alive early on (lower minimums from the
   * start left it empty); relaxed later, it lets the masks shrink to the objects' own size.
   */
  minMaskSizeEnd?: number;
  /** Start and end of that ramp in kimg (absent: 15 to 30, defaultMinMaskRampKimg). */
  minMaskRampKimg?: [number, number];
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
