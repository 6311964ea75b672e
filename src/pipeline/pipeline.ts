// SPDX-License-Identifier: MIT
// The whole method in one call (spec §1): train the layered GAN → select a checkpoint → generate synthetic
// (image, mask) pairs → train the U-Net on them → (adapt it to the photos; set its test-time refinement) → evaluate
// on real test images with ground truth (with the two trivial baselines on the same set) → segment a few test photos
// → write an HTML report. Every stage is resumable: a finished stage is recorded in `<out>/stages/` and skipped when
// the pipeline runs again.
import { mkdirSync, rmSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { writeProceduralSplit } from '../data/proceduralFiles.js';
import type { BaselineResults } from '../eval/baselines.js';
import { selectCheckpoint, type CheckpointSelection } from '../eval/selectCheckpoint.js';
import { synthesize } from '../gen/synthesize.js';
import type { NetworkConfig, PresetName } from '../models/config.js';
import { drcTestPairs, evaluateSegmenter, pairImagesWithMasks, type EvaluateResult } from '../seg/evaluate.js';
import { loadSegmenter, writeSegmenterRefine } from '../seg/model.js';
import { type RefineSetting, describeRefine, refineIsActive, refineSettingSchema } from '../seg/refineSetting.js';
import { segmentImages } from '../seg/segment.js';
import { trainSegmenter } from '../seg/train.js';
import { adaptSegmenter } from '../seg/adapt.js';
import type { ColourRefineOptions } from '../seg/colourRefine.js';
import { type SyntheticSet, loadSyntheticSet, mergeSyntheticSets } from '../seg/data.js';
import { detectLayout, heldOutFiles, loadTrainingImages } from '../data/imageFolder.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../tensor/errors.js';
import { listCheckpoints } from '../run/checkpoint.js';
import { pipelineGanDir, runPaths } from '../run/layout.js';
import { type TrainRun, resolveConfig, train } from '../train/loop.js';
import { type TrainOptions, defaultTrainOptions, lowPrecisionDtype } from '../train/options.js';
import { worstAndBestOf, writeReport } from '../report/index.js';
import { removeAtomicTempFiles, writeFileAtomic } from '../util/atomicWrite.js';
import { acquireRunLock } from '../util/runLock.js';
import { attachRunLog } from '../util/runLog.js';
import { mapLimit } from '../util/mapLimit.js';
import { checkPipelineInputs } from './inputs.js';
import { Stages, formatSeconds } from './stages.js';
import { array, num, object, oneOf, str, type Schema } from '../util/schema.js';

/** Stage names in order (folders and records under `<out>`); with several GANs (`gans`), train, select and generate
 *  have a twin per further GAN: train-2, select-2, generate-2, … */
export const stageNames = ['testset', 'train', 'select', 'generate', 'segtrain', 'adapt', 'refine', 'eval', 'examples', 'report'] as const;

export interface PipelineOptions {
  /** Training images: a folder, a DRC CUB/Dogs/Cars folder, or 'demo' (the procedural set). */
  data: string;
  out: string;
  /** GAN network: a preset or a full config. */
  config: PresetName | NetworkConfig;
  /** GAN training length in kimg. */
  kimg: number;
  /**
   * Beyond the paper: train this many GANs (seeds seed, seed + 1000, seed + 2000, …: two pipelines of neighbouring seeds
   * share no GAN; the first in `gan/`, the others in `gan-2/`, …)
   * and pool their synthetic pairs, `synthetic` / gans from each, for the segmenter (1). A short CPU run draws one
   * silhouette per run; several runs give the segmenter several (docs/quality.md, session 9).
   */
  gans?: number;
  /** GAN training option overrides (asked for: a resumed GAN run checks each against its own). */
  train?: Partial<TrainOptions>;
  /** GAN training options a recipe or preset fills in, below `train` (TrainRun.recipeOptions: a resumed GAN run keeps
   *  its own values of these). */
  recipeTrain?: Partial<TrainOptions>;
  /** Procedural training images when data = 'demo'. */
  demoCount?: number;
  /** Real test images with ground-truth masks: a folder pair, or a DRC folder (masks omitted). When omitted: for
   *  data = 'demo' the procedural test split is written to `<out>/testset`; a DRC folder's own test split is used;
   *  a plain folder has `examples` photos held out of training and shown with their cut-outs, without metrics. */
  test?: { images: string; masks?: string };
  /** Procedural test images written for data = 'demo' without `test` (300). */
  testCount?: number;
  /** Inception weights (safetensors) for FID-based checkpoint selection; without them the fallback is used. */
  inception?: string;
  /** Synthetic pairs to generate (10 000 as the official auto route; 50 000 for ils128, the paper's 128 protocol). */
  synthetic?: number;
  /** Segmenter training overrides (spec defaults otherwise). */
  seg?: {
    iterations?: number;
    batch?: number;
    width?: number;
    size?: number;
    protocol?: '64' | '128';
    valEvery?: number;
    geometric?: boolean;
  };
  /** Beyond the paper: self-training on the training photos after seg-train (seg/adapt.ts); absent/null = off. */
  adapt?: { rounds?: number; iterations?: number; confidence?: number; colour?: ColourRefineOptions | null } | null;
  /** Beyond the paper: test-time refinement written into the final segmenter's model.json (seg/refineSetting.ts), so
   *  eval, the examples and every later `segment` apply it; absent/null = none. */
  refine?: RefineSetting | null;
  /** Photos shown in the report: with test masks the worst and best half of this by IoU (default 8 each), without
   *  them this many held out of training (12). */
  examples?: number;
  /** How the report names the route (e.g. "trained from scratch"). */
  route?: string;
  /** Extra facts for the report. */
  facts?: { label: string; value: string | number | null }[];
  title?: string;
  device?: Device;
  progress?: boolean;
  log?: (line: string) => void;
  /** Called before each stage that runs (not one done earlier), awaited: the live report. */
  onStage?: (name: string, title: string) => void | Promise<void>;
  /** Passed to the GAN training stage (train/loop.ts): called at every sample grid. */
  onSnapshot?: TrainRun['onSnapshot'];
}

export interface PipelineResult {
  out: string;
  runDir: string;
  checkpoint: CheckpointSelection;
  /** Null when the pipeline ran without test masks (held-out photos shown instead). */
  eval: EvaluateResult | null;
  baselines: BaselineResults | null;
  report: string;
  seconds: Record<string, number>;
}

/** Output locations under `out`. */
export function pipelinePaths(out: string) {
  return {
    testset: join(out, 'testset'),
    run: pipelineGanDir(out),
    synthetic: join(out, 'synthetic'),
    /** GAN k (0-based) of a pipeline with several (`gans`): its run, synthetic folder and stage-name suffix. */
    gan: (k: number) => ({
      run: k === 0 ? pipelineGanDir(out) : join(out, `gan-${k + 1}`),
      synthetic: k === 0 ? join(out, 'synthetic') : join(out, `synthetic-${k + 1}`),
      stage: k === 0 ? '' : `-${k + 1}`,
    }),
    segmenter: join(out, 'segmenter'),
    adapted: join(out, 'segmenter-adapted'),
    eval: join(out, 'eval.json'),
    examples: join(out, 'examples'),
    report: runPaths(out).report,
  };
}

/**
 * Runs (or resumes) the pipeline; see PipelineOptions. The output folder is locked for the call (util/runLock.ts),
 * and temp files an interrupted run left in it are removed first.
 * @throws InputError ERR_RUN_LOCKED when another process uses the output folder.
 */
export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  checkPipelineInputs(o.data, o.test); // before anything is created or trained
  mkdirSync(o.out, { recursive: true });
  const lock = acquireRunLock(o.out, 'pipeline');
  attachRunLog(o.out); // the CLI's output goes to <out>/log.txt from here on (a no-op for library calls)
  try {
    const leftovers = removeAtomicTempFiles(o.out);
    if (leftovers.length)
      (o.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(
        `removed ${leftovers.length} temp file${leftovers.length > 1 ? 's' : ''} an interrupted run left in ${o.out}`,
      );
    return await runPipelineLocked(o);
  } finally {
    lock.release();
  }
}

async function runPipelineLocked(o: PipelineOptions): Promise<PipelineResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const paths = pipelinePaths(o.out);
  const stages = new Stages(o.out, log);
  stages.beforeStage = o.onStage;
  const device = o.device ?? 'cpu';
  const resolution = resolveConfig(o.config).net.resolution;
  const paperPreset = o.config === 'ils64' || o.config === 'ils128';
  const gans = o.gans ?? 1;
  if (!Number.isInteger(gans) || gans < 1 || gans > 16)
    throw new InputError(`gans must be an integer from 1 to 16, got ${gans}`, 'ERR_ARG');
  const ganList = Array.from({ length: gans }, (_, k) => ({ k, ...paths.gan(k) }));
  // GAN k trains with seed + 1000·k (the first GAN is the run a single-GAN pipeline trains).
  const baseSeed = o.train?.seed ?? o.recipeTrain?.seed ?? defaultTrainOptions.seed;
  const seedOf = (k: number) => baseSeed + 1000 * k;
  const ganTitle = (k: number) => (gans > 1 ? ` ${k + 1} of ${gans} (seed ${seedOf(k)})` : '');
  // ils128's segmentation is the paper's 128 protocol (spec §10.4): 50 000 pairs, network at 64, scored at 128.
  const paper128 = o.config === 'ils128';
  const n = o.synthetic ?? (paper128 ? 50000 : 10000);
  // With several GANs, n is split among them as evenly as it goes.
  const nOf = (k: number) => Math.floor(n / gans) + (k < n % gans ? 1 : 0);
  if (nOf(gans - 1) < 2)
    throw new InputError(`${n} synthetic pairs cannot be split among ${gans} GANs`, 'ERR_ARG', 'give more pairs or fewer GANs');

  // Test images: the user's; the procedural test split for the demo data; a DRC folder's own test split; or, for a
  // plain folder without masks, a few training photos held out of GAN training, shown with their cut-outs.
  let test = o.test;
  let heldOut: string[] = [];
  const exampleCount = o.examples ?? 12;
  if (!test) {
    if (o.data === 'demo') {
      const count = o.testCount ?? 300;
      await stages.run('testset', `writing ${count} procedural test images with masks at ${resolution}²`, async () => {
        await writeProceduralSplit(paths.testset, 'test', { count, size: resolution, masks: true });
        return { images: join(paths.testset, 'images'), masks: join(paths.testset, 'masks'), count };
      });
      test = { images: join(paths.testset, 'images'), masks: join(paths.testset, 'masks') };
    } else if (detectLayout(o.data) !== 'folder') {
      test = { images: o.data };
    } else {
      heldOut = heldOutFiles(o.data, exampleCount);
      log(
        heldOut.length
          ? `no test masks: ${heldOut.length} training photos are held out of training and shown with their cut-outs (no metrics)`
          : 'no test masks and too few photos to hold any out: the report shows no cut-outs and no metrics',
      );
    }
  }

  for (const g of ganList)
    await stages.run(`train${g.stage}`, `training the layered GAN${ganTitle(g.k)} to ${o.kimg} kimg in ${g.run}`, async () => {
      // Resume only from a complete checkpoint (JSON and weights): a file a killed first write left is not one.
      const resume = listCheckpoints(g.run).length > 0;
      if (resume) log(`continuing the interrupted GAN run in ${g.run}`);
      // The paper's presets keep a snapshot every 200 kimg, all of them, for the official lowest-FID selection.
      const snapshots = paperPreset ? { snapshotKimg: 200, checkpointKimg: 200, keepCheckpoints: Number.MAX_SAFE_INTEGER } : {};
      const r = await train({
        data: o.data,
        out: g.run,
        config: o.config,
        kimg: o.kimg,
        device,
        options: g.k === 0 ? o.train : { ...o.train, seed: seedOf(g.k) },
        recipeOptions: o.recipeTrain,
        demoCount: o.demoCount,
        resume,
        progress: o.progress,
        exclude: heldOut,
        // The live report follows the first GAN's sample grids; the others show their stage titles.
        onSnapshot: g.k === 0 ? o.onSnapshot : undefined,
        ...snapshots,
      });
      if (r.stoppedBy !== 'done')
        throw new InputError(
          `GAN training stopped (${r.stoppedBy}); checkpoint ${r.checkpoint} saved`,
          'ERR_INTERRUPTED',
          `run the same command again to continue`,
        );
      return { kimg: r.kimg, iterations: r.iterations, checkpoint: r.checkpoint };
    });

  const selections: CheckpointSelection[] = [];
  for (const g of ganList)
    selections.push(
      await stages.run(
        `select${g.stage}`,
        `selecting the checkpoint${ganTitle(g.k)}`,
        async () => selectCheckpoint(g.run, { inception: o.inception, device, log }),
        selectionSchema,
      ),
    );
  const checkpoint = selections[0]!;

  for (const g of ganList)
    await stages.run(
      `generate${g.stage}`,
      `generating ${nOf(g.k)} synthetic pairs from ${selections[g.k]!.name}${ganTitle(g.k)}`,
      async () => {
        // The stage is unfinished: whatever an interrupted run wrote there (even a complete manifest.json, when it
        // was killed before the stage record) is redone.
        rmSync(g.synthetic, { recursive: true, force: true });
        const m = await synthesize({ run: g.run, checkpoint: selections[g.k]!.name, n: nOf(g.k), out: g.synthetic, device });
        return { n: m.n, size: m.size, checkpoint: m.checkpoint };
      },
    );

  const segSize = o.seg?.size ?? Math.min(64, resolution);
  const protocol = o.seg?.protocol ?? (paper128 ? '128' : '64');
  // The synthetic set is decoded once, for seg-train and adapt alike (whichever of them runs in this call).
  let synthSet: SyntheticSet | undefined;
  const loadSynth = async () =>
    (synthSet ??= mergeSyntheticSets(
      await mapLimit(ganList, 1, (g) =>
        loadSyntheticSet(g.synthetic, { size: segSize, evalSize: protocol === '128' ? 2 * segSize : segSize }),
      ),
    ));
  await stages.run('segtrain', `training the U-Net on the synthetic pairs${gans > 1 ? ` of ${gans} GANs` : ''} (${segSize}²)`, async () => {
    const r = await trainSegmenter({
      synthetic: await loadSynth(),
      out: paths.segmenter,
      iterations: o.seg?.iterations,
      batch: o.seg?.batch,
      width: o.seg?.width,
      size: segSize,
      protocol,
      valEvery: o.seg?.valEvery,
      geometric: o.seg?.geometric,
      device,
      progress: o.progress,
      log,
    });
    return { bestValIoU: r.bestValIoU, bestIteration: r.bestIteration };
  });

  let model = paths.segmenter;
  if (o.adapt) {
    const a = o.adapt;
    await stages.run(
      'adapt',
      `adapting the U-Net to the training photos (${a.rounds ?? 2} rounds of self-training${a.colour ? ', colour-refined labels' : ''})`,
      async () => {
        // The GAN's training photos (the held-out ones stay out here too).
        const photos = await loadTrainingImages(o.data, segSize, {
          demoCount: o.demoCount,
          exclude: heldOut,
          cachePath: segSize === resolution ? runPaths(paths.run).datasetCache : undefined,
        });
        const r = await adaptSegmenter({
          model: paths.segmenter,
          photos,
          synthetic: await loadSynth(),
          out: paths.adapted,
          rounds: a.rounds,
          iterations: a.iterations,
          confidence: a.confidence,
          colour: a.colour,
          geometric: o.seg?.geometric,
          device,
          progress: o.progress,
          log,
        });
        return { rounds: r.rounds };
      },
    );
    model = paths.adapted;
  }

  if (refineIsActive(o.refine)) {
    const setting = o.refine;
    await stages.run(
      'refine',
      `setting the segmenter's test-time refinement (${describeRefine(setting)}) in ${join(model, 'model.json')}`,
      async () => writeSegmenterRefine(model, setting).refine!,
      refineSettingSchema,
    );
  }

  const evaluation = test
    ? await stages.run('eval', `evaluating on ${test.images}`, async () => {
        const { baselines, perImage, ...r } = await evaluateSegmenter({
          model,
          images: test.images,
          masks: test.masks,
          device,
          baselines: true,
          perImage: true,
        });
        const result = { ...r, baselines: baselines! };
        writeFileAtomic(paths.eval, new TextEncoder().encode(`${JSON.stringify(result, null, 1)}\n`));
        // Per-image scores stay out of eval.json; the stage record keeps them for the examples and the report.
        return { ...result, perImage };
      })
    : null;

  const examples = await stages.run(
    'examples',
    `segmenting ${test ? 'the test' : 'the held-out'} photos (masks in ${paths.examples})`,
    async () => {
      // With test masks: the worst and best test pairs by the evaluation's per-image IoU (8 each, or half of
      // `examples` each when given), from the same list eval scored (a folder with a mask folder, or a DRC layout);
      // an eval record from before per-image scores: the first pairs by name. Without: the held-out training photos.
      let chosen: { stem: string; image: string; mask: string | null }[];
      if (test) {
        const pairs = [...(test.masks ? pairImagesWithMasks(test.images, test.masks) : (drcTestPairs(test.images)?.pairs ?? []))].sort(
          (a, b) => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0),
        );
        const perSide = o.examples === undefined ? 8 : Math.ceil(o.examples / 2);
        const ranked = evaluation?.perImage
          ? worstAndBestOf(
              evaluation.perImage,
              (p) => p.iou,
              (p) => p.name,
              perSide,
            )
          : null;
        const byStem = new Map(pairs.map((p) => [p.stem, p] as const));
        chosen = ranked ? [...ranked.worst, ...ranked.best].flatMap((p) => byStem.get(p.name) ?? []) : pairs.slice(0, exampleCount);
      } else {
        chosen = heldOut.map((f) => ({ stem: basename(f, extname(f)), image: f, mask: null }));
      }
      const seg = loadSegmenter(model, device);
      try {
        return await mapLimit(chosen, 1, async (p, k) => {
          // One folder per example: DRC photos in different class folders may share a file name.
          const out = join(paths.examples, String(k).padStart(3, '0'));
          const r = await segmentImages({ model: seg, input: p.image, out, cutouts: false, device });
          return { name: p.stem, image: p.image, pred: join(out, r.masks[0] ?? ''), truth: p.mask };
        });
      } finally {
        seg.dispose();
      }
    },
  );

  const report = await stages.run('report', `writing ${paths.report}`, async () => {
    const { baselines, perImage, ...metrics } = evaluation ?? { baselines: undefined, perImage: undefined };
    const s = await writeReport(paths.report, {
      title: o.title,
      runDir: paths.run,
      segmenter: model,
      perImage,
      route: o.route,
      stages: Object.entries(stages.seconds).map(([name, seconds]) => ({ name, seconds })),
      facts: [
        { label: 'checkpoint', value: selections.map((c) => `${c.name} (${c.method})`).join(', ') },
        { label: 'synthetic pairs', value: gans > 1 ? `${n}: ${ganList.map((g) => nOf(g.k)).join(' + ')} from ${gans} GANs` : n },
        ...(gans > 1
          ? [
              {
                label: 'GANs pooled',
                value: `${gans}, seeds ${ganList.map((g) => seedOf(g.k)).join(', ')} (${ganList.map((g) => basename(g.run)).join(', ')}); the report's training charts and grids are the first's`,
              },
            ]
          : []),
        { label: 'GAN precision', value: describePrecision(o.train?.precision ?? o.recipeTrain?.precision, device) },
        ...(refineIsActive(o.refine) ? [{ label: 'test-time refinement', value: describeRefine(o.refine) }] : []),
        ...(o.facts ?? []),
      ],
      evaluation: evaluation ? metrics : undefined,
      baselines,
      testSetNote: evaluation
        ? `${evaluation.images} test images at ${evaluation.size}² from ${test!.images}`
        : `no test masks: ${examples.length} photos held out of GAN training, with the segmenter's masks (no metrics)`,
      testImages: examples,
    });
    return { path: s.path, missing: s.missing };
  });

  const total = Object.values(stages.seconds).reduce((a, b) => a + b, 0);
  log(`pipeline finished: ${formatSeconds(total)} over all stages; report ${report.path}`);
  if (!evaluation)
    return { out: o.out, runDir: paths.run, checkpoint, eval: null, baselines: null, report: report.path, seconds: stages.seconds };
  const { baselines, perImage: _perImage, ...metrics } = evaluation;
  return {
    out: o.out,
    runDir: paths.run,
    checkpoint,
    eval: metrics as EvaluateResult,
    baselines,
    report: report.path,
    seconds: stages.seconds,
  };
}

/** A recorded selection is read back as a checkpoint NAME (never a path) of the run, with its numbers checked. */
export const selectionSchema: Schema<CheckpointSelection> = object({
  name: str({ maxLength: 64, pattern: /^ckpt-\d{1,15}$/, describe: 'a checkpoint name like ckpt-000060000' }),
  kimg: num(0, 1e9),
  method: oneOf(['fid', 'latest']),
  reason: str({ maxLength: 4096 }),
  scores: array(object({ checkpoint: str({ maxLength: 64 }), kimg: num(0, 1e9), fid: num(), kid: num() }), { max: 100000 }),
});

/** The report's 'GAN precision' fact: the dtype of the reduced-precision blocks (spec §3.7) on `device`. */
export function describePrecision(precision: TrainOptions['precision'], device: string): string {
  const low = lowPrecisionDtype(precision, device);
  return low ? `${low} in the reduced-precision blocks (spec §3.7), float32 elsewhere` : 'float32 throughout';
}
