// SPDX-License-Identifier: MIT
// The GAN training flags that `train` and `pipeline` share, in one table: each flag's TrainOptions field (its name
// from train/options.ts's trainOptionFlags), its parser (the range kinds of parse.ts) and its help text, with the
// defaults read from defaultTrainOptions and presetTrainOptions. Both commands add the table's options and read
// them back through it, so their flags, ranges and help cannot drift apart. Loads no libtorch.
import { Option } from '@commander-js/extra-typings';
import type { PresetName } from '../models/config.js';
import { type TrainOptions, defaultTrainOptions as d, presetTrainOptions, trainOptionFlags } from '../train/options.js';
import { precisions } from '../run/trainOptions.js';
import { InputError } from '../util/errors.js';
import { choice, definedOnly, flagRanges, kimgSpan, num, onOff } from './parse.js';

type Field = keyof typeof trainOptionFlags;

export interface TrainFlag {
  /** The option it sets (the flag's name is trainOptionFlags[field]). */
  field: Field;
  /** What follows the flag name in the help ('<lr>'), or null for a switch (--tf32). */
  value: string | null;
  help: string;
  parse?: (v: string) => unknown;
  /** Further options the flag sets (--aug-p fixes p). */
  also?: Partial<TrainOptions>;
}

const onoff = (b: boolean | undefined) => (b ? 'on' : 'off');

/** The small presets whose default batch differs from the paper's (presetTrainOptions). */
function batchByPreset(): string[] {
  const byBatch = new Map<number, string[]>();
  for (const [name, o] of Object.entries(presetTrainOptions)) {
    if (o.batch !== undefined && o.batch !== d.batch) byBatch.set(o.batch, [...(byBatch.get(o.batch) ?? []), name]);
  }
  return [...byBatch].map(([batch, names]) => `${batch} with --config ${names.join(' or ')}`);
}

export const ilsScheduleNames = ['allTime', 'cos', 'coolDown', 'constant'] as const satisfies readonly TrainOptions['ilsSchedule'][];

/** Every GAN training flag of `train` and `pipeline`, in help order. */
export const trainFlags: readonly TrainFlag[] = [
  {
    field: 'batch',
    value: '<n>',
    parse: num('batch'),
    help: `GAN minibatch size (${d.batch}; ${batchByPreset().join('; ')}; a --recipe's own)`,
  },
  { field: 'gLr', value: '<lr>', parse: num('lr'), help: `G base learning rate (${d.gLr}, before the lazy-regularisation correction)` },
  { field: 'dLr', value: '<lr>', parse: num('lr'), help: `D base learning rate (${d.dLr})` },
  { field: 'r1Gamma', value: '<g>', parse: num('weight'), help: 'R1 γ (default 0.0002·S²/N)' },
  { field: 'ils', value: '<on|off>', parse: onOff, help: `the ILS term (${onoff(d.ils)})` },
  {
    field: 'ilsDistribution',
    value: '<d>',
    parse: choice(['laplace', 'gaussian'] as const),
    help: `ILS conditional: laplace or gaussian (${d.ilsDistribution})`,
  },
  {
    field: 'ilsSchedule',
    value: '<s>',
    parse: choice(ilsScheduleNames),
    help: `σ schedule: ${ilsScheduleNames.join(', ')} (${d.ilsSchedule})`,
  },
  { field: 'ilsSigma', value: '<s>', parse: num('sigma'), help: `σ after the switch (${d.ilsSigma})` },
  { field: 'ilsInitialSigma', value: '<s>', parse: num('sigma'), help: `σ up to the switch (${d.ilsInitialSigma})` },
  { field: 'ilsSwitchKimg', value: '<k>', parse: num('kimgAt'), help: `kimg of the σ switch (${d.ilsSwitchKimg})` },
  { field: 'ada', value: '<on|off>', parse: onOff, help: `adaptive discriminator augmentation (${onoff(d.ada)})` },
  { field: 'adaTarget', value: '<r>', parse: num('probability'), help: `ADA target r_t (${d.adaTarget})` },
  {
    field: 'adaInitialP',
    value: '<p>',
    parse: num('probability'),
    also: { adaFixed: true },
    help: 'fixed augmentation probability instead of adapting it (0 to 1)',
  },
  { field: 'perturb', value: '<on|off>', parse: onOff, help: `Tx: random shift of the foreground layer (${onoff(d.perturb)})` },
  {
    field: 'xintMax',
    value: '<f>',
    parse: num('shift'),
    help: `Tx: largest shift as a fraction of the side (${d.xintMax}; at most ${flagRanges.shift.max})`,
  },
  { field: 'binWeight', value: '<w>', parse: num('weight'), help: `mask binarisation weight (${d.binWeight})` },
  { field: 'msizeWeight', value: '<w>', parse: num('weight'), help: `minimum mask size weight (${d.msizeWeight})` },
  { field: 'minMaskSize', value: '<f>', parse: num('fraction'), help: `minimum mask fraction (${d.minMaskSize}; below --max-mask)` },
  {
    field: 'maxMaskSize',
    value: '<f>',
    parse: num('positiveFraction'),
    help: 'maximum mask fraction hinge (off; with --perturb off, 1 − --min-mask as the official code)',
  },
  {
    field: 'minMaskSizeEnd',
    value: '<f>',
    parse: num('fraction'),
    help: "not in the paper: relax the minimum mask fraction from --min-mask to <f> over --min-mask-ramp (off, the paper; --recipe cpu: 0.15; --min-mask-end 0.25 keeps the paper's)",
  },
  {
    field: 'minMaskRampKimg',
    value: '<a,b>',
    parse: kimgSpan,
    help: 'the kimg span of that relaxation, linear from a to b (15,30 with --min-mask-end)',
  },
  {
    field: 'maskBorderWeight',
    value: '<w>',
    parse: num('weight'),
    help: 'not in the paper: weight of a hinge keeping the mask off the frame border (object-centric photos; 0 = off, the paper; --recipe cpu: 2)',
  },
  {
    field: 'precision',
    value: '<p>',
    parse: choice(precisions),
    help: 'auto (float16 in the top 4 resolutions on a GPU, fp32 on the CPU), fp32, float16 or bfloat16 (--recipe cpu: bfloat16 on a CPU with native bfloat16)',
  },
  { field: 'tf32', value: null, help: `TensorFloat-32 for the float32 convolutions and matmuls on a GPU (${onoff(d.tf32)}, as upstream)` },
  { field: 'seed', value: '<n>', parse: num('seed'), help: `random seed of GAN training (${d.seed})` },
];

/** The commander option of a table entry. */
export function trainFlagOption(f: TrainFlag): Option {
  const o = new Option(f.value === null ? trainOptionFlags[f.field] : `${trainOptionFlags[f.field]} ${f.value}`, f.help);
  return f.parse ? o.argParser(f.parse) : o;
}

/** Adds every training flag of the table to `cmd`, under the heading `group` in its help when given. */
export function addTrainFlags<C extends { addOption(o: Option): unknown }>(cmd: C, group?: string): C {
  for (const f of trainFlags) {
    const o = trainFlagOption(f);
    cmd.addOption(group ? o.helpGroup(group) : o);
  }
  return cmd;
}

/** The training options the flags given set (absent flags are left out, so they keep the defaults they would override). */
export function trainOptionsFromFlags(values: object): Partial<TrainOptions> {
  const given = values as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of trainFlags) {
    const v = given[trainFlagOption(f).attributeName()];
    if (v === undefined) continue;
    out[f.field] = v;
    Object.assign(out, f.also);
  }
  return definedOnly(out as Partial<TrainOptions>);
}

/**
 * The training options a preset or recipe fills in, for TrainRun.recipeOptions: the preset's defaults
 * (presetTrainOptions; not on --resume, not under a recipe, whose own options come next), then the recipe's. The
 * flags given go in TrainRun.options, above these; on a resume the run's own values win over these, never over
 * the flags (those are checked against the run).
 */
export function filledTrainOptions(o: { preset?: PresetName; recipe?: Partial<TrainOptions>; resume?: boolean }): Partial<TrainOptions> {
  const preset = o.preset && !o.resume ? presetTrainOptions[o.preset] : {};
  return { ...preset, ...o.recipe };
}

/**
 * Checks that the minimum mask fraction stays below the maximum before any work: names --min-mask when it was given,
 * else the minimum in effect (the recipe's or the default).
 * @throws InputError ERR_ARG
 */
export function checkMaskRange(flags: Partial<TrainOptions>, recipe?: Partial<TrainOptions>): void {
  const minMask = flags.minMaskSize ?? recipe?.minMaskSize ?? d.minMaskSize;
  const maxMask = flags.maxMaskSize ?? recipe?.maxMaskSize;
  const endMask = flags.minMaskSizeEnd ?? recipe?.minMaskSizeEnd;
  if (maxMask !== undefined && maxMask !== null && endMask !== undefined && endMask >= maxMask)
    throw new InputError(
      `--min-mask-end ${endMask} must be below the maximum mask fraction ${maxMask}`,
      'ERR_ARG',
      'lower --min-mask-end, or raise --max-mask',
    );
  if (maxMask === undefined || maxMask === null || minMask < maxMask) return;
  if (flags.minMaskSize !== undefined) {
    throw new InputError(
      `--min-mask ${minMask} must be below --max-mask ${maxMask}`,
      'ERR_ARG',
      `both are fractions of the image; the default --min-mask is ${d.minMaskSize}`,
    );
  }
  throw new InputError(
    `--max-mask ${maxMask} must be above the minimum mask fraction ${minMask}`,
    'ERR_ARG',
    'lower --min-mask too, or raise --max-mask',
  );
}
