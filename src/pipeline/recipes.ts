// SPDX-License-Identifier: MIT
// Named recipes: a whole pipeline setting chosen by measurement for a budget (`--recipe cpu`). A recipe fills every
// setting the user did not give; flags given on the command line win. The paper's presets (ils64, ils128) stay
// exactly the paper's and are not recipes. Every way a recipe differs from the paper is listed in `deviations`
// (shown by the report's facts table and the README) and can be switched back with a flag.
// This module loads no libtorch (the CLI reads it to build its help).
import { type NetworkConfig, presets } from '../models/config.js';
import { InputError } from '../util/errors.js';
import type { TrainOptions } from '../train/options.js';
import { cpuFlags, nativeBfloat16 } from '../util/cpuFeatures.js';
import { type RefineSetting, chooseRefine } from '../seg/refineSetting.js';
import type { PipelineOptions } from './pipeline.js';

/**
 * The demo's GAN (`npm run demo`, also the CPU recipe's): 32², 32 channels at every resolution, z/w of 128, 2 mapping
 * layers, and a centred prior on the mask logit that fades out over the first 10 kimg (from then on the generator
 * is the paper's).
 */
export const demoNetwork: NetworkConfig = {
  ...presets.tiny32,
  channelMax: 32,
  zDim: 128,
  wDim: 128,
  maskPrior: 4,
  maskPriorKimg: 10,
};

/** The demo's GAN training options (the rest are the paper's): batch 32 and an upper mask hinge at 50 %. */
export const demoTrainOptions: Partial<TrainOptions> = { batch: 32, maxMaskSize: 0.5 };

export interface Deviation {
  setting: string;
  paper: string;
  recipe: string;
  why: string;
  /** The flag that switches it back (or changes it). */
  flag: string;
}

export interface Recipe {
  name: string;
  summary: string;
  network: NetworkConfig;
  train: Partial<TrainOptions>;
  kimg: number;
  /** GANs trained (seeds seed, seed + 1000, …) whose synthetic pairs are pooled (PipelineOptions.gans). */
  gans: number;
  synthetic: number;
  seg: NonNullable<PipelineOptions['seg']>;
  adapt: NonNullable<PipelineOptions['adapt']> | null;
  /** Test-time refinement written into the final segmenter's model.json (null: none). */
  refine: RefineSetting | null;
  /**
   * On the CPU, train the GAN's reduced-precision blocks (the official code's float16 layers) in bfloat16 where the
   * CPU has it natively, float32 elsewhere (recipeTrainOptions). On a GPU the precision stays 'auto' (float16).
   */
  cpuBfloat16: boolean;
  deviations: Deviation[];
}

/**
 * `--recipe cpu`: the whole pipeline on 2 CPU cores within an hour (docs/quality.md has the measurements). The GAN is
 * the demo's small 32² network and its steering (mask prior, upper mask hinge) plus a frame-border hinge on the mask
 * (object-centric photos: it kept a seed from drawing the floor as the object); the segmenter is the paper's at a
 * smaller size, followed by self-training on the user's own photos (which measured better; geometric augmentation
 * of the segmenter's pairs measured worse and is off), and its predictions are refined per photo at test time
 * (flip average, then the photo's colours with a smoothness term; measured better).
 */
export const cpuRecipe: Recipe = {
  name: 'cpu',
  summary:
    '32² GAN (32 channels, mask kept off the frame border, minimum mask size relaxed from 25 % to 15 % after 15 kimg, bfloat16 where the CPU has it natively) for 60 kimg, U-Net width 16 at 64² (the GAN pairs upsampled), then 3 rounds of self-training on the training photos with pseudo-labels refined per photo by colour and boundary saliency, and test-time refinement of every prediction',
  network: demoNetwork,
  train: { ...demoTrainOptions, maskBorderWeight: 2, maskBorderMax: 0.2, minMaskSizeEnd: 0.15, minMaskRampKimg: [15, 30] },
  kimg: 60,
  gans: 1,
  synthetic: 4000,
  seg: { iterations: 1000, batch: 32, width: 16, size: 64, valEvery: 250 },
  adapt: { rounds: 3, iterations: 400, colour: { strength: 2, pairwise: 2, saliency: 16 } },
  // At 64² a photo has 4096 pixels: 16 levels per channel (4096 bins) with a smaller pseudo-count, a third EM round
  // and a stronger smoothness term refine better than 32²'s 8 levels (docs/quality.md, session 12).
  refine: { flip: true, colour: { levels: 16, strength: 2, rounds: 3, smoothing: 0.5, pairwise: 4 } },
  cpuBfloat16: true,
  deviations: [
    {
      setting: 'network',
      paper: '64² or 128², up to 256 channels, z/w 512, 8 mapping layers',
      recipe: '32², 32 channels, z/w 128, 2 mapping layers',
      why: 'about 20× more images per second on 2 CPU cores (130–150 img/s)',
      flag: '--config',
    },
    { setting: 'training length', paper: '8000 kimg', recipe: '60 kimg', why: 'the one-hour budget', flag: '--kimg' },
    {
      setting: 'precision on the CPU',
      paper: 'float16 in the blocks at the top 4 resolutions on a GPU (float32 elsewhere)',
      recipe:
        'bfloat16 in the same blocks on a CPU with native bfloat16 (avx512_bf16 or amx_bf16 in /proc/cpuinfo, bf16 on Arm), float32 on other CPUs; float16 on a GPU, as the paper',
      why: 'on TuxComposite-animals (ILS on, seeds 0–2) DRC_IoU 0.499 ± 0.027 in bfloat16 against 0.484 ± 0.021 in float32, the GAN stage about 1.25× faster (docs/quality.md)',
      flag: '--precision fp32',
    },
    {
      setting: 'mask prior',
      paper: 'none',
      recipe: 'a centred bump (±4) on the alpha logit, fading to 0 over the first 10 kimg',
      why: 'short runs without it settled on degenerate masks (measured on the demo data)',
      flag: '--config (a preset has no prior)',
    },
    {
      setting: 'mask size',
      paper: '≥ 25 %',
      recipe: '25–50 % (upper hinge, weight 2)',
      why: 'keeps the all-foreground solution out of reach',
      flag: '--max-mask',
    },
    {
      setting: 'minimum mask size over training',
      paper: '≥ 25 % throughout',
      recipe: '≥ 25 % up to 15 kimg, then relaxed linearly to ≥ 15 % at 30 kimg',
      why: "the GAN's masks sit at the minimum (about 30 % of the frame), so the segmenter drew objects far too large (TuxComposite-animals: 26–33 % foreground against 18 %); relaxed after the foreground layer has formed (a low minimum from the start left it empty), on TuxComposite-animals (ILS on, seeds 0–2) the segmenters' foreground fell to 22 % and DRC_IoU rose from 0.499 ± 0.027 to 0.581 ± 0.006, ahead on every seed; on TuxComposite-objects 0.548 ± 0.044 → 0.575 ± 0.014 (docs/quality.md)",
      flag: '--min-mask-end 0.25',
    },
    {
      setting: 'frame border',
      paper: 'none',
      recipe: 'a hinge (weight 2) on the mask mass over the outer ring of the frame (width S/16) beyond 20 %',
      why: 'photos of one kind of object are object-centric; without it one seed in three layered the floor as the object (DRC_IoU 0.024), with it 0.447 (seed 1) and 0.474 (seed 0) (docs/quality.md)',
      flag: '--mask-border 0',
    },
    {
      setting: 'segmenter',
      paper: 'U-Net width 64 at 64², batch 64, 6000 iterations, 10 000 pairs',
      recipe: "width 16 at 64² (the 32² GAN's pairs upsampled bilinearly), batch 32, 1000 iterations, 4000 pairs",
      why: "the budget; at 64² rather than the GAN's 32² because the adaptation then reads the photos at their own resolution: on TuxComposite-animals (ILS on, seeds 0–2, the same GANs) DRC_IoU 0.638 ± 0.000 at 32² against 0.665 ± 0.002 at 64² (0.656 ± 0.002 scored on the same 32² grid) (docs/quality.md, session 11)",
      flag: '--seg-width, --seg-size, --seg-iters, --n-synthetic',
    },
    {
      setting: 'adaptation to real photos',
      paper: 'none',
      recipe: "3 rounds of self-training on the training photos: flip-consistent, confident pseudo-labels, refined by each photo's colours",
      why: 'the U-Net has only seen GAN images; on TuxComposite-animals it raised DRC_IoU from 0.460 to 0.503 (docs/quality.md)',
      flag: '--adapt off',
    },
    {
      setting: 'smoothness in the pseudo-labels',
      paper: 'none',
      recipe:
        "the adaptation's colour-refined pseudo-labels also get GrabCut's contrast-sensitive pairwise term between neighbouring pixels (weight 2, mean-field)",
      why: 'on TuxComposite-animals it raised the adapted segmenter from DRC_IoU 0.4735 to 0.4828',
      flag: '--adapt-pairwise 0',
    },
    {
      setting: 'boundary saliency in the pseudo-labels',
      paper: 'none',
      recipe:
        "before the colour step, each photo's minimum barrier distance to the frame (FastMBD in CIELAB, 0–1 per photo; Zhang et al., ICCV 2015) is added to the teacher's log-odds with weight 16 around 0.5: what the frame reaches through slowly changing colours leans to background, however textured, what is walled off from it to the object",
      why: "the GAN's backgrounds are smoother than real ones, so its segmenter takes real texture for the object; over seeds 0–2 (ILS on, the same stage-1 U-Nets) DRC_IoU rose from 0.558 ± 0.015 to 0.638 ± 0.000 on TuxComposite-animals and from 0.577 ± 0.010 to 0.665 ± 0.006 on TuxComposite-objects, precision 0.60 → 0.73 (weights 8 and 32 scored 0.630 and 0.614; docs/quality.md)",
      flag: '--adapt-saliency 0',
    },
    {
      setting: 'test-time refinement',
      paper: 'none',
      recipe:
        "each photo's foreground probability averaged with its mirror image's, then refined by the photo's colours with the pairwise term at the U-Net's size (16 levels per channel, strength 2, 3 EM rounds, pseudo-count 0.5, pairwise 4); stored in the segmenter's model.json, so segment and eval apply it",
      why: 'on TuxComposite-animals (2000 test images) it raised DRC_IoU on three 32² segmenters by 0.014 to 0.030 (0.4828 → 0.5078, 0.4735 → 0.5036, 0.4469 → 0.4612); at 64² the finer setting scores 0.681 ± 0.002 over seeds 0–2 against 0.665 ± 0.002 with the 32² one (8 levels, 2 rounds, pseudo-count 1, pairwise 2), +0.014 to +0.021 on every seed, and 0.696 ± 0.013 against 0.678 ± 0.018 on TuxComposite-objects over seeds 0–2, +0.011 to +0.022 (docs/quality.md, sessions 12–13)',
      flag: '--refine off (segment and eval: --refine off)',
    },
  ],
};

export const recipes: Readonly<Record<string, Recipe>> = { cpu: cpuRecipe };
export type RecipeName = keyof typeof recipes;

/** The recipe of that name. @throws InputError for an unknown name. */
export function getRecipe(name: string): Recipe {
  const r = recipes[name];
  if (!r) throw new InputError(`unknown recipe ${name}`, 'ERR_ARG', `choose one of ${Object.keys(recipes).join(', ')}`);
  return r;
}

/**
 * The GAN training options a recipe gives on `device`: its `train`, with `precision: 'bfloat16'` where the recipe
 * asks for bfloat16 on the CPU, the device is the CPU and the CPU has native bfloat16 (`flags`: /proc/cpuinfo's).
 * Elsewhere the precision is left to the default ('auto': float32 on the CPU, float16 on a GPU). Flags given on the
 * command line still win (cli/trainFlags.ts newRunOptions).
 */
export function recipeTrainOptions(r: Recipe, device: string, flags: ReadonlySet<string> = cpuFlags()): Partial<TrainOptions> {
  return r.cpuBfloat16 && device === 'cpu' && nativeBfloat16(flags) ? { ...r.train, precision: 'bfloat16' } : { ...r.train };
}

/** What a recipe's GAN trains in on this machine's CPU: 'bfloat16' (native here) or 'fp32'. */
export function recipeCpuPrecision(r: Recipe, flags: ReadonlySet<string> = cpuFlags()): 'bfloat16' | 'fp32' {
  return recipeTrainOptions(r, 'cpu', flags).precision === 'bfloat16' ? 'bfloat16' : 'fp32';
}

/**
 * The adaptation setting for `--adapt on|off` (absent: the recipe's): off → null; on → the recipe's setting, or the
 * adaptation defaults without a recipe.
 */
export function adaptSetting(recipe: Recipe | null, flag: boolean | undefined): Recipe['adapt'] {
  if (flag === false) return null;
  return recipe?.adapt ?? (flag ? {} : null);
}

/**
 * The test-time refinement for `--refine on|off` (absent: the recipe's): off → null; on → the recipe's setting, or
 * the measured default (seg/refineSetting.ts) without a recipe; absent without a recipe → null. The same rule as a
 * model's own setting against `segment --refine` (chooseRefine), with the recipe in the model's place.
 */
export function refineSetting(recipe: Recipe | null, flag: boolean | undefined): RefineSetting | null {
  return chooseRefine(recipe?.refine ?? undefined, flag);
}

/** The report's facts for a recipe: its name and every deviation from the paper, with the flag that changes it. */
export function recipeFacts(r: Recipe): { label: string; value: string }[] {
  return [
    { label: 'recipe', value: `${r.name}: ${r.summary}` },
    ...r.deviations.map((d) => ({ label: `deviation: ${d.setting}`, value: `${d.recipe} (paper: ${d.paper}): ${d.why} [${d.flag}]` })),
  ];
}
