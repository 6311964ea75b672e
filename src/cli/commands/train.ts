// SPDX-License-Identifier: MIT
// `ilsgan train`: train (or resume) a layered GAN on a folder of images, a DRC dataset, or the demo data.
import { Command, Option } from '@commander-js/extra-typings';
import { type NetworkConfig, type PresetName, presets } from '../../models/config.js';
import type { TrainOptions } from '../../train/options.js';
import { getRecipe, recipes } from '../../pipeline/recipes.js';
import { choice, definedOnly, device, nonNegativeInt, nonNegativeNumber, onOff, positiveInt, positiveNumber, powerOfTwo } from '../parse.js';

export function makeTrainCommand() {
  return new Command('train')
    .description('train a layered GAN (ILSGAN) whose layers separate foreground and background')
    .option('--data <path>', 'image folder (recursive), DRC CUB/Dogs/Cars folder, or "demo"')
    .option('--out <dir>', 'run directory (checkpoints, sample grids, metrics.jsonl)')
    .option('--recipe <name>', `the GAN part of a measured recipe (${Object.keys(recipes).join(', ')}); flags given win`, choice(Object.keys(recipes)))
    .option('--config <name>', `network preset: ${Object.keys(presets).join(', ')} (small64 without --recipe)`, choice(Object.keys(presets) as PresetName[]))
    .option('--kimg <k>', 'total thousands of real images to show D (fractions allowed)', positiveNumber)
    .option('--resume <dir>', 'continue the run in <dir> with its own settings: --kimg extends it, --tick/--snap/--checkpoint-every/--keep/--threads/--device may change, other flags must match the run')
    .option('--device <d>', 'cpu, cuda or cuda:N', device, 'cpu' as const)
    .option('--batch <n>', 'minibatch size (16 for tiny32 and small64, 32 for the paper\'s ils64 and ils128)', positiveInt)
    .option('--resolution <s>', 'override the preset resolution (power of two, 32–256)', powerOfTwo)
    .option('--cbase <n>', 'override channel base (channels at r = min(cbase/r, cmax))', positiveInt)
    .option('--cmax <n>', 'override channel max', positiveInt)
    .option('--map <n>', 'override mapping layers', positiveInt)
    .option('--glr <lr>', 'G base learning rate (0.0025, before the lazy-reg correction)', positiveNumber)
    .option('--dlr <lr>', 'D base learning rate (0.0025)', positiveNumber)
    .option('--gamma <g>', 'R1 γ (default 0.0002·S²/N)', nonNegativeNumber)
    .option('--ils <on|off>', 'the ILS term (on)', onOff)
    .option('--ils-dist <d>', 'ILS conditional: laplace or gaussian', choice(['laplace', 'gaussian'] as const))
    .option('--ils-schedule <s>', 'σ schedule: allTime, cos, coolDown, constant', choice(['allTime', 'cos', 'coolDown', 'constant'] as const))
    .option('--ils-sigma <s>', 'σ after the switch (1.0)', nonNegativeNumber)
    .option('--ils-initial-sigma <s>', 'σ up to the switch (0.2)', nonNegativeNumber)
    .option('--ils-switch-kimg <k>', 'kimg of the σ switch (400)', nonNegativeNumber)
    .option('--ada <on|off>', 'adaptive discriminator augmentation (on)', onOff)
    .option('--ada-target <r>', 'ADA target r_t (0.6)', nonNegativeNumber)
    .option('--aug-p <p>', 'fixed augmentation probability instead of adapting it', nonNegativeNumber)
    .option('--perturb <on|off>', 'Tx: random shift of the foreground layer (on)', onOff)
    .option('--shift <f>', 'Tx: largest shift as a fraction of the side (0.125)', nonNegativeNumber)
    .option('--bin-weight <w>', 'mask binarisation weight (2)', nonNegativeNumber)
    .option('--msize-weight <w>', 'minimum mask size weight (2)', nonNegativeNumber)
    .option('--min-mask <f>', 'minimum mask fraction (0.25)', nonNegativeNumber)
    .option('--max-mask <f>', 'maximum mask fraction hinge (off; with --perturb off, 1 − --min-mask as the official code)', positiveNumber)
    .option('--precision <p>', 'auto (float16 in the top 4 resolutions on a GPU, fp32 on the CPU), fp32, float16 or bfloat16', choice(['auto', 'fp32', 'float16', 'bfloat16'] as const))
    .option('--tf32', 'TensorFloat-32 for the float32 convolutions and matmuls on a GPU (off, as upstream)')
    .option('--seed <n>', 'random seed (0)', nonNegativeInt)
    .option('--tick <kimg>', 'metrics interval in kimg', positiveNumber)
    .option('--snap <kimg>', 'sample-grid interval in kimg', positiveNumber)
    .option('--checkpoint-every <kimg>', 'checkpoint interval in kimg (default: --snap)', positiveNumber)
    .option('--keep <n>', 'checkpoints kept (3)', positiveInt)
    .option('--threads <n>', 'libtorch CPU threads (default: all cores; may change on --resume)', positiveInt)
    .option('--demo-n <n>', 'procedural images for --data demo (4000)', positiveInt)
    .addOption(new Option('--max-iterations <n>', 'stop after n iterations (tests)').argParser(positiveInt).hideHelp())
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .action(async (o) => {
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { train } = await import('../../train/loop.js');
      const resume = o.resume !== undefined;
      if (!resume && (!o.data || !o.out)) throw new Error('train needs --data and --out (or --resume <run dir>)');
      const recipe = o.recipe ? getRecipe(o.recipe) : null;
      const kimg = o.kimg ?? recipe?.kimg;
      if (!resume && kimg === undefined) throw new Error('train needs --kimg (the total to reach) or --recipe');
      // A resume takes only the flags given (each checked against the run); a new run fills in the defaults.
      const configName = o.config ?? (recipe || resume ? undefined : 'small64');
      const overrides = Boolean(o.resolution || o.cbase || o.cmax || o.map);
      const { readCheckpointState } = await import('../../train/checkpoint.js');
      const base: NetworkConfig = {
        ...(configName ? presets[configName] : recipe ? recipe.network : overrides ? readCheckpointState(o.resume!).state.net : presets.small64),
      };
      if (o.resolution) base.resolution = o.resolution;
      if (o.cbase) base.channelBase = o.cbase;
      if (o.cmax) base.channelMax = o.cmax;
      if (o.map) base.mappingLayers = o.map;
      const custom = !configName || o.resolution || o.cbase || o.cmax || o.map;
      // Flags given on the command line override the run's options; absent ones keep the defaults.
      const flags: Partial<TrainOptions> = {
        batch: o.batch ?? recipe?.train.batch ?? (!resume && (configName === 'tiny32' || configName === 'small64') ? 16 : undefined),
        gLr: o.glr, dLr: o.dlr, r1Gamma: o.gamma,
        ils: o.ils, ilsDistribution: o.ilsDist, ilsSchedule: o.ilsSchedule, ilsSigma: o.ilsSigma,
        ilsInitialSigma: o.ilsInitialSigma, ilsSwitchKimg: o.ilsSwitchKimg,
        ada: o.ada, adaTarget: o.adaTarget, adaInitialP: o.augP, adaFixed: o.augP === undefined ? undefined : true,
        perturb: o.perturb, xintMax: o.shift, binWeight: o.binWeight, msizeWeight: o.msizeWeight, minMaskSize: o.minMask,
        maxMaskSize: o.maxMask, seed: o.seed, precision: o.precision, tf32: o.tf32,
      };
      const options = { ...recipe?.train, ...definedOnly(flags) };
      const result = await train({
        data: o.data ?? '', out: (resume ? o.resume : o.out) as string,
        config: resume && !configName && !recipe && !overrides ? undefined : custom ? base : configName!,
        kimg: kimg ?? Number.NaN, device: o.device, options, tickKimg: o.tick, snapshotKimg: o.snap,
        checkpointKimg: o.checkpointEvery, keepCheckpoints: o.keep, resume, demoCount: o.demoN,
        progress: o.progress && Boolean(process.stderr.isTTY), maxIterations: o.maxIterations, threads: o.threads,
      });
      process.stdout.write(`${JSON.stringify({ run: result.runDir, kimg: result.kimg, checkpoint: result.checkpoint, stopped_by: result.stoppedBy })}\n`);
    });
}
