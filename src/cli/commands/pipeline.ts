// SPDX-License-Identifier: MIT
// `ilsgan pipeline`: train → select checkpoint → generate → seg-train → eval → report, resumable stage by stage.
import { basename, join, resolve } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { type PresetName, presets } from '../../models/config.js';
import type { PipelineResult } from '../../pipeline/pipeline.js';
import { adaptSetting, getRecipe, recipeFacts, recipeTrainOptions, recipes, refineSetting } from '../../pipeline/recipes.js';
import { formatSeconds } from '../../pipeline/stages.js';
import { InputError } from '../../util/errors.js';
import { choice, definedOnly, deviceFlag, num, onOff, resolveDevice } from '../parse.js';
import { addTrainFlags, checkMaskRange, filledTrainOptions, trainOptionsFromFlags } from '../trainFlags.js';
import { startLiveRun } from '../liveRun.js';

/**
 * What pipeline and demo add around runPipeline: log.txt, the live report.html (rewritten before every stage and
 * at every sample grid of the GAN) and Ctrl-C (exit 130; the training stage saves a checkpoint first, any other
 * unfinished stage is redone by the next run). Returns the hooks for runPipeline and a wrapper for the call.
 */
export function pipelineLive(out: string, command: string) {
  const page = { runDir: join(out, 'gan'), title: `ilsgan ${command}: ${basename(resolve(out))}` };
  const rerun = `run the same command again to resume at the first unfinished stage`;
  const live = startLiveRun(join(out, 'report.html'), () => `the unfinished stage was not recorded; ${rerun}`);
  const hooks = {
    onStage: async (name: string, title: string) => {
      await live.update(page, { state: 'running', text: `stage ${name}: ${title}.` });
    },
    onSnapshot: async (s: { kimg: number; targetKimg: number; etaSeconds: number | null }) => {
      const { trainingProgress } = await import('../../report/live.js');
      await live.update(page, {
        state: 'running',
        text: `stage train: training the layered GAN, ${trainingProgress(s.kimg, s.targetKimg)} (ETA of this stage; the segmenter stages follow).`,
        etaSeconds: s.etaSeconds,
      });
    },
  };
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      const hint = e instanceof InputError && e.hint ? ` ${e.hint}` : '';
      live.stopped(`${(e as Error).message}.${hint || ` ${rerun}`}`);
      throw e;
    } finally {
      live.end();
    }
  };
  return { hooks, run };
}

/**
 * The metrics next to the trivial baselines, on stdout: a table, then one JSON line (no metrics without test masks).
 * With `json`, the JSON line only.
 */
export function printOutcome(r: PipelineResult, json = false): void {
  const total = Object.values(r.seconds).reduce((a, b) => a + b, 0);
  const seconds = Object.fromEntries(Object.entries(r.seconds).map(([k, v]) => [k, Number(v.toFixed(1))]));
  if (!r.eval || !r.baselines) {
    const line = JSON.stringify({ DRC_IoU: null, checkpoint: r.checkpoint.name, report: r.report, seconds });
    process.stdout.write(
      json
        ? `${line}\n`
        : [
            'no test masks: no metrics; the report shows held-out photos with their cut-outs',
            `report: ${r.report}  (stages took ${formatSeconds(total)})`,
            line,
            '',
          ].join('\n'),
    );
    return;
  }
  const f = (v: number | null | undefined) => (v === null || v === undefined ? '   n/a' : v.toFixed(3));
  const rows: [string, { DRC_IoU: number | null; DRC_DICE: number | null; IoU: number | null }][] = [
    ['ilsgan', r.eval],
    ['all foreground', r.baselines.all_foreground],
    ['centred ellipse', r.baselines.centred_ellipse],
  ];
  const line = JSON.stringify({
    DRC_IoU: r.eval.DRC_IoU,
    DRC_DICE: r.eval.DRC_DICE,
    IoU: r.eval.IoU,
    mIoU: r.eval.mIoU,
    pACC: r.eval.pACC,
    baselines: { all_foreground: r.baselines.all_foreground.DRC_IoU, centred_ellipse: r.baselines.centred_ellipse.DRC_IoU },
    checkpoint: r.checkpoint.name,
    report: r.report,
    seconds,
  });
  if (json) {
    process.stdout.write(`${line}\n`);
    return;
  }
  process.stdout.write(
    [
      `${r.eval.images} test images at ${r.eval.size}²        DRC_IoU  DRC_DICE  IoU`,
      ...rows.map(([name, m]) => `  ${name.padEnd(30)} ${f(m.DRC_IoU)}    ${f(m.DRC_DICE)}   ${f(m.IoU)}`),
      `report: ${r.report}  (stages took ${formatSeconds(total)})`,
      line,
      '',
    ].join('\n'),
  );
}

export function makePipelineCommand() {
  const command = new Command('pipeline')
    .description('train → select checkpoint → generate → seg-train → (adapt) → eval → report, resumable stage by stage')
    .requiredOption('--data <path>', 'training images: folder, DRC CUB/Dogs/Cars folder, or "demo"')
    .requiredOption('--out <dir>', 'output folder (run it again to resume at the first unfinished stage)')
    .option(
      '--test-images <dir>',
      'real test images (or a DRC folder with its test split); without: 12 training photos are held out and shown',
    )
    .option('--test-masks <dir>', 'their ground-truth masks, paired by file name')
    .option(
      '--recipe <name>',
      `a measured whole-pipeline setting (${Object.keys(recipes).join(', ')}: about an hour on 2 CPU cores); flags given win`,
      choice(Object.keys(recipes)),
    )
    .option(
      '--config <name>',
      `GAN preset: ${Object.keys(presets).join(', ')} (ils64 without --recipe)`,
      choice(Object.keys(presets) as PresetName[]),
    )
    .option('--kimg <k>', 'GAN training length in kimg (required without --recipe)', num('kimg'))
    .option(
      '--gans <k>',
      'train k GANs (seeds s, s+1000, …) and pool their synthetic pairs for the segmenter (1; a deviation from the paper)',
      num('count'),
    )
    .option('--inception <file>', 'Inception weights (safetensors) for FID-based checkpoint selection')
    .option('--n-synthetic <n>', 'synthetic pairs to generate (10000; 50000 for ils128)', num('count'))
    .option('--seg-iters <n>', 'U-Net iterations (6000)', num('iterations'))
    .option('--seg-width <n>', 'U-Net width (64)', num('width'))
    .option('--seg-size <s>', 'U-Net input side (64, a multiple of 16)', num('netSide'))
    .option('--seg-geometric <on|off>', 'mirror/scale/rotate/shift the synthetic pairs too (off; on in --recipe cpu)', onOff)
    .option('--adapt <on|off>', 'self-train the U-Net on the training photos after seg-train (off; on in --recipe cpu)', onOff)
    .option('--adapt-rounds <n>', 'self-training rounds (3 in --recipe cpu)', num('rounds'))
    .option('--adapt-iters <n>', 'iterations per self-training round (400)', num('iterations'))
    .option(
      '--adapt-pairwise <w>',
      'weight of the smoothness term in the colour-refined pseudo-labels (2 in --recipe cpu; 0: off)',
      num('weight'),
    )
    .option(
      '--adapt-saliency <w>',
      "weight of each photo's boundary saliency (how walled off from the frame a pixel is) in the pseudo-labels (16 in --recipe cpu; 0: off)",
      num('weight'),
    )
    .option(
      '--refine <on|off>',
      "test-time refinement of every prediction (flip average, then the photo's colours with a smoothness term), written into the final segmenter's model.json so eval and segment apply it (off; on in --recipe cpu)",
      onOff,
    )
    .option('--protocol <p>', "segmentation protocol: '64' or '128' (spec §10.4; 128 for ils128)", choice(['64', '128'] as const))
    .option('--device <d>', 'auto (CUDA when present, else the CPU), cpu, cuda or cuda:N', deviceFlag, 'auto' as const)
    .option('--no-progress', 'plain log lines instead of progress bars')
    .option('--json', 'stdout: only the result as one JSON line (progress and logs go to stderr and log.txt)')
    .action(async (o) => {
      const recipe = o.recipe ? getRecipe(o.recipe) : null;
      const kimg = o.kimg ?? recipe?.kimg;
      if (kimg === undefined)
        throw new InputError('pipeline needs --kimg (or --recipe cpu)', 'ERR_ARG', 'e.g. --recipe cpu, or --config ils64 --kimg 8000');
      if (o.testMasks && !o.testImages) throw new InputError('--test-masks needs --test-images', 'ERR_ARG');
      // The GAN training flags given: the same table as train's (cli/trainFlags.ts).
      const flags = trainOptionsFromFlags(o);
      checkMaskRange(flags, recipe?.train);
      const device = await resolveDevice(o.device);
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { runPipeline } = await import('../../pipeline/pipeline.js');
      const seg = {
        ...recipe?.seg,
        ...definedOnly({ iterations: o.segIters, width: o.segWidth, size: o.segSize, protocol: o.protocol, geometric: o.segGeometric }),
      };
      const adaptBase = adaptSetting(recipe, o.adapt);
      const adapt = adaptBase && { ...adaptBase, ...definedOnly({ rounds: o.adaptRounds, iterations: o.adaptIters }) };
      for (const [name, value, key] of [
        ['--adapt-pairwise', o.adaptPairwise, 'pairwise'],
        ['--adapt-saliency', o.adaptSaliency, 'saliency'],
      ] as const) {
        if (value === undefined) continue;
        if (!adapt?.colour)
          throw new InputError(
            `${name} weights the colour-refined pseudo-labels of the adaptation, which this run does not use`,
            'ERR_ARG',
            'use it with --recipe cpu (and without --adapt off)',
          );
        adapt.colour = { ...adapt.colour, [key]: value };
      }
      const refine = refineSetting(recipe, o.refine);
      const live = pipelineLive(o.out, 'pipeline');
      const r = await live.run(() =>
        runPipeline({
          data: o.data,
          out: o.out,
          config: o.config ?? recipe?.network ?? 'ils64',
          kimg,
          gans: o.gans ?? recipe?.gans,
          train: flags,
          recipeTrain: filledTrainOptions({ preset: o.config, recipe: recipe ? recipeTrainOptions(recipe, device) : undefined }),
          test: o.testImages ? { images: o.testImages, masks: o.testMasks } : undefined,
          inception: o.inception,
          synthetic: o.nSynthetic ?? recipe?.synthetic,
          seg,
          adapt,
          refine,
          facts: recipe ? recipeFacts(recipe) : undefined,
          route: recipe ? `trained from scratch with --recipe ${recipe.name}` : undefined,
          device,
          progress: o.progress && Boolean(process.stderr.isTTY),
          ...live.hooks,
        }),
      );
      printOutcome(r, Boolean(o.json));
    });
  return addTrainFlags(command, 'GAN training options (shared with train):');
}
