// SPDX-License-Identifier: MIT
// The training loop: data, ticks (metrics JSONL and a progress bar), sample grids, atomic checkpoints, resume,
// clean stop on SIGINT/SIGTERM, and a hard stop on non-finite losses that leaves the last good checkpoint.
import { appendFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BatchSampler } from '../data/loader.js';
import { type ImageSet, loadTrainingImages } from '../data/imageFolder.js';
import { type NetworkConfig, type PresetName, checkConfig, presets } from '../models/config.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../util/errors.js';
import { manualSeed } from '../tensor/ops/random.js';
import { getNumThreads, setCudnnBenchmark, setNumThreads, setTf32 } from '../tensor/runtime.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type CheckpointState, type RunIntervals, listCheckpoints, orphanWeights, readCheckpointState } from '../run/checkpoint.js';
import { runPaths, sampleGridName } from '../run/layout.js';
import { truncateMetrics } from '../run/metrics.js';
import { restoreTrainer, saveCheckpoint } from './checkpoint.js';
import { type TrainOptions, defaultTrainOptions, ilsSigmaAt, minMaskSizeAt, trainOptionFlags } from './options.js';
import { fixedLatents, writeSampleGrid } from './samples.js';
import { type DataParallel, IlsTrainer } from './trainer.js';
import { allReduce_, distState } from '../tensor/dist.js';
import { tensor } from '../tensor/ops/creation.js';
import { ProgressBar } from '../util/progress.js';
import { removeAtomicTempFiles, writeFileAtomic } from '../util/atomicWrite.js';
import { acquireRunLock } from '../util/runLock.js';
import { type RunCheckpoint, checkInitCompatible, initTrainerWeights, resolveRunCheckpoint } from './initFrom.js';
import { beginCleanStop } from '../util/interrupt.js';
import { attachRunLog, logOnly } from '../util/runLog.js';

export interface TrainRun {
  /** Image folder, DRC dataset folder, or 'demo'. */
  data: string;
  /** Run directory (created). */
  out: string;
  /** Preset name or a full network config (required for a new run; on resume, given only to check it is the run's). */
  config?: PresetName | NetworkConfig;
  /** Total kimg to reach (fractions allowed). */
  kimg: number;
  device?: Device;
  /** Overrides of the training options: asked for, so a resume checks each against the run. */
  options?: Partial<TrainOptions>;
  /**
   * Options filled in for the caller by a recipe or a preset, not asked for: a new run takes them under `options`;
   * a resumed run keeps its own values of these (a run started before a recipe changed goes on as it was), except
   * `precision` and `tf32`, which follow them as they follow `options`.
   */
  recipeOptions?: Partial<TrainOptions>;
  /** Metrics/progress every tickKimg, grids every snapshotKimg, checkpoints every checkpointKimg (on resume: the
   *  run's own unless given). */
  tickKimg?: number;
  snapshotKimg?: number;
  checkpointKimg?: number;
  /** Checkpoints kept (3). */
  keepCheckpoints?: number;
  /** Columns of the sample grid (8). */
  gridSize?: number;
  /** Continue the run in `out` from its latest complete checkpoint, with its own config: `config`, `data`, `options`
   *  and `demoCount` given too must equal the run's (InputError ERR_RESUME_CONFLICT otherwise); `kimg`, the
   *  intervals, `keepCheckpoints`, `device`, `threads`, `options.precision` and `options.tf32` may change. */
  resume?: boolean;
  /** Number of procedural images for data = 'demo'. */
  demoCount?: number;
  /** A new run starts from this run's (or pipeline output's, or checkpoint file's) G, G_ema and D weights, not its
   *  optimiser state or counters (train/initFrom.ts); without `config` it takes that run's network. */
  initFrom?: string;
  /** Training files to leave out (held out for the pipeline's report); not stored in the run. */
  exclude?: readonly string[];
  /** Show a progress bar on stderr (default: when stderr is a TTY). */
  progress?: boolean;
  /** Called after every tick with the logged metrics. */
  onTick?: (metrics: Record<string, number>) => void;
  /** Called after every sample grid (samples-init.png included), awaited: the live report (report/live.ts). */
  onSnapshot?: (s: TrainSnapshot) => void | Promise<void>;
  /** Stop after this many iterations in this call (tests), leaving a checkpoint. */
  maxIterations?: number;
  /** libtorch intra-op threads for this call (default: as set). */
  threads?: number;
  /**
   * Data-parallel training: this process is one rank of a process group the caller has joined (tensor/dist.ts
   * distInit). Each rank trains on its share of `options.batch` (which must divide by worldSize); only rank 0
   * writes the run folder (checkpoints, grids, metrics, config, log).
   */
  parallel?: DataParallel;
}

/** Where a run stands at a sample grid. */
export interface TrainSnapshot {
  runDir: string;
  /** The grid just written. */
  grid: string;
  kimg: number;
  targetKimg: number;
  /** Seconds to the target at this call's pace so far (wall clock, grids and checkpoints included); null before
   *  the first training step of the call. */
  etaSeconds: number | null;
}

export interface TrainResult {
  runDir: string;
  kimg: number;
  iterations: number;
  checkpoint: string;
  stoppedBy: 'done' | 'signal' | 'maxIterations';
  lastMetrics: Record<string, number>;
}

/** A preset name or a full config → the network config (checked) and its name ('custom' for a full one). */
export function resolveConfig(c: PresetName | NetworkConfig): { net: NetworkConfig; name: string } {
  if (typeof c === 'string') {
    const net = (presets as Record<string, NetworkConfig>)[c];
    if (!net) throw new InputError(`unknown config ${c}`, 'ERR_CONFIG', `choose one of ${Object.keys(presets).join(', ')}`);
    return { net: { ...net }, name: c };
  }
  return { net: checkConfig(c), name: 'custom' };
}

/** Options that may differ on resume from the run's own: they change how the run executes, not what it learns. */
const resumableOptions: ReadonlySet<keyof TrainOptions> = new Set(['precision', 'tf32']);

/** The command-line flag of each training option, for messages (options without a flag keep their name). */
const optionFlags: Partial<Record<keyof TrainOptions, string>> = trainOptionFlags;

/** The command-line flag of each network field that has one (the rest come with --config). */
const networkFlags: Partial<Record<keyof NetworkConfig, string>> = {
  resolution: '--resolution',
  channelBase: '--cbase',
  channelMax: '--cmax',
  mappingLayers: '--map',
};

const show = (v: unknown): string => (typeof v === 'boolean' ? (v ? 'on' : 'off') : (JSON.stringify(v) ?? 'unset'));

/**
 * What a resume was asked for that contradicts the run it resumes: one entry per setting, e.g.
 * `--batch 8 (the run has 16)`. Settings given equal to the run's are not conflicts.
 */
export function resumeConflicts(state: CheckpointState, run: TrainRun): string[] {
  const conflicts: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (run.config !== undefined) {
    const { net, name } = resolveConfig(run.config);
    if (typeof run.config === 'string' && name !== state.configName && !same(net, state.net)) {
      conflicts.push(`--config ${name} (the run has ${state.configName})`);
    } else {
      for (const key of new Set([...Object.keys(net), ...Object.keys(state.net)]) as Set<keyof NetworkConfig>) {
        if (!same(net[key], state.net[key]))
          conflicts.push(`${networkFlags[key] ?? `--config (${key})`} ${show(net[key])} (the run has ${show(state.net[key])})`);
      }
    }
  }
  const stored: TrainOptions = { ...defaultTrainOptions, ...state.options };
  const shown = new Set<string>();
  for (const [key, value] of Object.entries(run.options ?? {}) as [keyof TrainOptions, unknown][]) {
    if (value === undefined || resumableOptions.has(key) || same(value, stored[key])) continue;
    const flag = optionFlags[key] ?? key;
    if (shown.has(flag)) continue;
    shown.add(flag);
    conflicts.push(
      `${flag} ${show(key === 'adaFixed' ? run.options?.adaInitialP : value)} (the run has ${show(key === 'adaFixed' ? (stored.adaFixed ? stored.adaInitialP : 'adaptive') : stored[key])})`,
    );
  }
  if (run.data && run.data !== state.data && resolve(run.data) !== resolve(state.data))
    conflicts.push(`--data ${run.data} (the run has ${state.data})`);
  if (run.demoCount !== undefined && state.demoCount !== undefined && run.demoCount !== state.demoCount) {
    conflicts.push(`--demo-n ${run.demoCount} (the run has ${state.demoCount})`);
  }
  return conflicts;
}

/**
 * The options a call trains with. A new run: the defaults, then `recipeOptions`, then `options`. A resume (`stored`,
 * after resumeConflicts found none): the run's own, with today's defaults for what an older version did not store;
 * only precision and tf32 follow the call (`options`, else `recipeOptions`).
 */
export function runOptions(run: Pick<TrainRun, 'options' | 'recipeOptions'>, stored: CheckpointState | null): TrainOptions {
  if (!stored) return { ...defaultTrainOptions, ...run.recipeOptions, ...run.options };
  const options: TrainOptions = { ...defaultTrainOptions, ...stored.options };
  for (const key of resumableOptions) {
    const value = run.options?.[key] ?? run.recipeOptions?.[key];
    if (value !== undefined) (options as unknown as Record<string, unknown>)[key] = value;
  }
  return options;
}

/** Removes checkpoint weights without their JSON (a kill between the two writes): never a checkpoint, 10–80 MB each. */
function removeOrphanWeights(runDir: string): string[] {
  const orphans = orphanWeights(runDir);
  for (const f of orphans) rmSync(f, { force: true });
  return orphans;
}

/**
 * Trains (or resumes) an ILSGAN run; see TrainRun. The run folder is locked for the call (util/runLock.ts); temp
 * files an interrupted run left are removed first.
 * @throws InputError ERR_RUN_LOCKED when another process uses the folder, ERR_RUN_EXISTS when a new run's folder
 *   holds a complete checkpoint, ERR_NO_CHECKPOINT when a resumed one holds none, ERR_RESUME_CONFLICT.
 */
export async function train(run: TrainRun): Promise<TrainResult> {
  if (run.resume && run.initFrom !== undefined) {
    throw new InputError("--init-from starts a new run from another run's weights; --resume continues a run: give one of them", 'ERR_ARG');
  }
  if (run.resume) {
    // Never create the folder of a run to resume: a mistyped path gets "no checkpoint", not an empty run.
    if (!existsSync(run.out) || !statSync(run.out).isDirectory()) readCheckpointState(run.out);
  } else if (!run.parallel || run.parallel.rank === 0) {
    mkdirSync(run.out, { recursive: true });
  }
  // Ranks other than 0 only read the folder (a resume's checkpoint): rank 0 holds the lock for them all.
  const lock = !run.parallel || run.parallel.rank === 0 ? acquireRunLock(run.out, run.resume ? 'train --resume' : 'train') : null;
  if (lock) attachRunLog(run.out); // the CLI's output goes to <run>/log.txt from here on (a no-op for library calls)
  const previousThreads = getNumThreads();
  try {
    if (run.threads !== undefined) setNumThreads(run.threads);
    return await trainLocked(run);
  } finally {
    if (run.threads !== undefined) setNumThreads(previousThreads);
    lock?.release();
  }
}

async function trainLocked(run: TrainRun): Promise<TrainResult> {
  const device = run.device ?? 'cpu';
  const files = runPaths(run.out);
  // A group of one (--nproc 1) takes the same path as several: every collective runs, over one rank.
  const parallel = run.parallel ?? null;
  // Rank 0 writes the run folder and the log; the other ranks train quietly.
  const isMain = !parallel || parallel.rank === 0;
  const log = (m: string) => {
    if (isMain) process.stderr.write(`${m}\n`);
  };
  const leftovers = isMain ? [...removeAtomicTempFiles(run.out), ...removeOrphanWeights(run.out)] : [];
  if (leftovers.length) log(`removed ${leftovers.length} file${leftovers.length > 1 ? 's' : ''} an interrupted run left in ${run.out}`);
  const existing = listCheckpoints(run.out);
  let net: NetworkConfig;
  let configName: string;
  let options: TrainOptions;
  let data = run.data;
  let resumeFrom: ReturnType<typeof readCheckpointState> | null = null;
  let initSource: RunCheckpoint | null = null;
  if (run.resume) {
    resumeFrom = readCheckpointState(run.out);
    const conflicts = resumeConflicts(resumeFrom.state, run);
    if (conflicts.length) {
      throw new InputError(
        `cannot resume ${run.out} with other settings than its own: ${conflicts.join(', ')}`,
        'ERR_RESUME_CONFLICT',
        'leave these flags out to continue the run as it was (--kimg, --tick, --snap, --checkpoint-every, --keep, --threads and --device may change), or start a new run with another --out',
      );
    }
    net = resumeFrom.state.net;
    options = runOptions(run, resumeFrom.state);
    configName = resumeFrom.state.configName;
    data = resumeFrom.state.data;
  } else {
    if (existing.length) {
      throw new InputError(
        `${run.out} already holds a training run`,
        'ERR_RUN_EXISTS',
        `continue it with --resume ${run.out}, or choose another --out`,
      );
    }
    initSource = run.initFrom === undefined ? null : resolveRunCheckpoint(run.initFrom);
    if (run.config === undefined && !initSource)
      throw new InputError('a new training run needs a network config', 'ERR_CONFIG', `choose one of ${Object.keys(presets).join(', ')}`);
    ({ net, name: configName } =
      run.config === undefined ? { net: initSource!.state.net, name: initSource!.state.configName } : resolveConfig(run.config));
    if (initSource) checkInitCompatible(net, initSource); // before any data is decoded
    options = runOptions(run, null);
  }
  const kimg = run.kimg > 0 ? run.kimg : (resumeFrom?.state.targetKimg ?? Number.NaN);
  if (!(kimg > 0)) throw new InputError(`--kimg must be positive, got ${run.kimg}`, 'ERR_ARG');
  const demoCount = run.demoCount ?? resumeFrom?.state.demoCount;
  // Stored with the run (4000 is loadTrainingImages' default), so a resume decodes the same procedural set.
  const storedDemoCount = data === 'demo' ? (demoCount ?? 4000) : undefined;
  const showBar = isMain && (run.progress ?? Boolean(process.stderr.isTTY));

  // Data, decoded once and cached in the run directory.
  let set: ImageSet;
  {
    const bar = new ProgressBar('decoding images {bar} {value}/{total}', showBar);
    set = await loadTrainingImages(data, net.resolution, {
      cachePath: data === 'demo' ? undefined : files.datasetCache,
      demoCount,
      seed: options.seed,
      exclude: run.exclude,
      onProgress: (d, t) => bar.update(d, { total: t }),
    });
    bar.stop();
    log(
      `data: ${set.count} images at ${net.resolution}² from ${data} (${set.source})${set.skipped.length ? `, ${set.skipped.length} skipped` : ''}`,
    );
  }

  const world = parallel?.worldSize ?? 1;
  if (options.batch % world !== 0)
    throw new InputError(`--batch ${options.batch} does not split over ${world} processes`, 'ERR_ARG', `use a multiple of ${world}`);
  // D's minibatch-std splits each process's batch into groups of min(G, batch) (spec §5): refuse a batch it cannot
  // split before any work, not at the first D pass.
  const perRank = options.batch / world;
  const group = Math.min(net.mbstdGroupSize, perRank);
  if (perRank % group !== 0)
    throw new InputError(
      `--batch ${options.batch}${world > 1 ? ` (${perRank} per process)` : ''} does not split into the discriminator's minibatch-std groups of ${net.mbstdGroupSize}`,
      'ERR_ARG',
      `use a multiple of ${group * world}, or at most ${net.mbstdGroupSize * world}`,
    );
  // Seeds differ per rank, as upstream (random_seed * num_gpus + rank); the data order is shared (see below).
  manualSeed(parallel ? options.seed * world + parallel.rank : options.seed);
  if (device !== 'cpu') {
    // As upstream: cuDNN picks the fastest algorithms for the fixed shapes; TF32 only when asked for.
    setCudnnBenchmark(true);
    setTf32(options.tf32 ?? false);
  }
  const trainer = new IlsTrainer(net, options, device, parallel);
  const sampler = new BatchSampler(set, options.seed);
  let trainSeconds = 0;
  if (resumeFrom) {
    restoreTrainer(run.out, resumeFrom.name, resumeFrom.state, trainer);
    sampler.restore(resumeFrom.state.sampler);
    trainSeconds = resumeFrom.state.trainSeconds;
    log(`resumed ${run.out} at ${trainer.kimg.toFixed(3)} kimg (${resumeFrom.name})`);
  } else if (initSource) {
    initTrainerWeights(initSource, trainer);
    log(`initialised G, G_ema and D from ${initSource.runDir} (${initSource.name}, ${(initSource.state.curNimg / 1000).toFixed(3)} kimg)`);
  }
  trainer.syncFromRank0(); // every rank starts from rank 0's weights (a no-op for one process)
  if (parallel)
    log(
      `data parallel: ${world} process${world > 1 ? 'es' : ''} over ${distState()?.backend ?? 'c10d'}, ${options.batch / world} images each per step`,
    );

  // Intervals: as given, else the run's own (a resume), else from the length.
  const n = options.batch;
  const stored = resumeFrom?.state.intervals;
  const tickKimg = run.tickKimg ?? stored?.tickKimg ?? Math.max(n / 1000, Math.min(4, kimg / 100));
  const snapshotKimg = run.snapshotKimg ?? stored?.snapshotKimg ?? Math.max(tickKimg, kimg / 10);
  const checkpointKimg = run.checkpointKimg ?? stored?.checkpointKimg ?? snapshotKimg;
  const intervals: RunIntervals = {
    tickKimg,
    snapshotKimg,
    checkpointKimg,
    keepCheckpoints: run.keepCheckpoints ?? stored?.keepCheckpoints ?? 3,
  };
  const metricsPath = files.metrics;
  if (!isMain) {
    // Only rank 0 writes the run folder.
  } else if (resumeFrom) {
    // Ticks logged after the resumed checkpoint by the interrupted run are logged again from here.
    const dropped = truncateMetrics(metricsPath, resumeFrom.state.iteration);
    if (dropped) log(`metrics.jsonl: dropped ${dropped} line${dropped > 1 ? 's' : ''} logged after ${resumeFrom.name}`);
  } else {
    // A new run: whatever an interrupted start left (no complete checkpoint) is not this run's.
    rmSync(metricsPath, { force: true });
    writeFileAtomic(
      files.config,
      Buffer.from(
        `${JSON.stringify({ configName, net, options, data, device, intervals, demoCount: storedDemoCount, initFrom: initSource ? { run: initSource.runDir, checkpoint: initSource.name, kimg: initSource.state.curNimg / 1000 } : undefined }, null, 1)}\n`,
      ),
    );
  }
  const gridZ = keep(fixedLatents(run.gridSize ?? 8, net.zDim, options.seed, device));
  const target = Math.round(kimg * 1000);
  let stopSignal: string | null = null;
  const onSignal = (sig: string) => {
    stopSignal = sig;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const endCleanStop = beginCleanStop();

  const bar = new ProgressBar(
    'train {bar} {kimg}/{total_kimg} kimg | {ips} img/s | G {lossG} D {lossD} | mask {mask} (diversity {diversity}) | p {p} | ETA {eta_formatted}',
    showBar,
    { etaBuffer: 50 },
  );
  bar.start(target, trainer.curNimg, {
    kimg: trainer.kimg.toFixed(2),
    total_kimg: kimg,
    ips: '-',
    lossG: '-',
    lossD: '-',
    mask: '-',
    diversity: '-',
    p: trainer.ada.p.toFixed(3),
  });

  let lastMetrics: Record<string, number> = {};
  let nextTick = trainer.curNimg + tickKimg * 1000;
  let nextSnapshot = trainer.curNimg + snapshotKimg * 1000;
  let nextCheckpoint = trainer.curNimg + checkpointKimg * 1000;
  let tickStart = performance.now();
  let tickImages = 0;
  let iterationsThisCall = 0;
  let stoppedBy: TrainResult['stoppedBy'] = 'done';
  const checkpoint = () => {
    const adaSigns = trainer.adaSigns(); // summed over ranks: every rank takes part
    if (!isMain) return '';
    return saveCheckpoint(
      run.out,
      trainer,
      {
        configName,
        data,
        sampler: sampler.state(),
        trainSeconds,
        adaSigns,
        targetKimg: kimg,
        intervals,
        demoCount: storedDemoCount,
      },
      intervals.keepCheckpoints,
    );
  };
  // A stop signal reaches the ranks at different iterations: they stop together when any has one.
  const anyRankStops = (local: boolean): boolean => {
    if (!parallel) return local;
    const flag = tensor([local ? 1 : 0]);
    try {
      allReduce_([flag]);
      return flag.item() > 0;
    } finally {
      flag.dispose();
    }
  };
  let lastCheckpoint = '';
  const startNimg = trainer.curNimg;
  const startWall = performance.now();
  const snapshot = async (grid: string) => {
    if (!run.onSnapshot || !isMain) return;
    const images = trainer.curNimg - startNimg;
    const pace = images > 0 ? images / ((performance.now() - startWall) / 1000) : 0;
    await run.onSnapshot({
      runDir: run.out,
      grid,
      kimg: trainer.kimg,
      targetKimg: target / 1000,
      etaSeconds: pace > 0 ? Math.max(0, target - trainer.curNimg) / pace : null,
    });
  };
  if (!resumeFrom && isMain) {
    await writeSampleGrid(files.samplesInit, trainer.Gema, gridZ, net.resolution <= 64 ? 2 : 1);
    await snapshot(files.samplesInit);
  }

  try {
    while (trainer.curNimg < target) {
      const t0 = performance.now();
      // Every rank draws the same global batch (one sampler, one seed) and trains on its own rows, so the data
      // order, the sampler state in checkpoints and resume are those of one process.
      const batch: Tensor = sampler.next(n, device);
      const reals = parallel ? batch.narrow(0, parallel.rank * (n / world), n / world) : batch;
      try {
        trainer.step(reals);
      } finally {
        if (reals !== batch) reals.dispose();
        batch.dispose();
      }
      trainSeconds += (performance.now() - t0) / 1000;
      tickImages += n;
      iterationsThisCall++;
      const done = trainer.curNimg >= target;
      const limit = run.maxIterations !== undefined && iterationsThisCall >= run.maxIterations;
      if (trainer.curNimg >= nextTick || done || limit) {
        const seconds = (performance.now() - tickStart) / 1000;
        const stats = trainer.readStats(); // averaged over ranks: every rank takes part
        const bad = Object.entries(stats).filter(([, v]) => !Number.isFinite(v));
        if (bad.length) {
          throw new InputError(
            `training diverged at ${trainer.kimg.toFixed(3)} kimg: ${bad.map(([k, v]) => `${k} = ${v}`).join(', ')}`,
            'ERR_NON_FINITE',
            lastCheckpoint
              ? `the last good checkpoint is ${lastCheckpoint}; resume from it with a lower learning rate`
              : 'no checkpoint was written yet; try lower learning rates',
          );
        }
        const sigma = ilsSigmaAt(options, trainer.curNimg);
        lastMetrics = {
          kimg: trainer.kimg,
          iteration: trainer.iteration,
          seconds: trainSeconds,
          img_per_s: tickImages / seconds,
          ada_p: trainer.ada.p,
          ils_sigma: sigma,
          min_mask: minMaskSizeAt(options, trainer.curNimg),
          ...stats,
        };
        if (isMain) appendFileSync(metricsPath, `${JSON.stringify(lastMetrics)}\n`);
        if (isMain) run.onTick?.(lastMetrics);
        bar.update(trainer.curNimg, {
          payload: {
            kimg: trainer.kimg.toFixed(2),
            ips: (tickImages / seconds).toFixed(1),
            lossG: (stats['Loss/G/total'] ?? 0).toFixed(3),
            lossD: ((stats['Loss/D/fake'] ?? 0) + (stats['Loss/D/real'] ?? 0)).toFixed(3),
            mask: (stats['Mask/mean'] ?? 0).toFixed(2),
            diversity: (stats['Mask/diversity'] ?? 0).toFixed(2),
            p: trainer.ada.p.toFixed(3),
          },
        });
        const line = `kimg ${trainer.kimg.toFixed(2)} | ${(tickImages / seconds).toFixed(1)} img/s | G ${(stats['Loss/G/total'] ?? 0).toFixed(3)} | D ${((stats['Loss/D/fake'] ?? 0) + (stats['Loss/D/real'] ?? 0)).toFixed(3)} | mask ${(stats['Mask/mean'] ?? 0).toFixed(2)} (diversity ${(stats['Mask/diversity'] ?? 0).toFixed(2)}) | p ${trainer.ada.p.toFixed(3)}`;
        // With a bar on the terminal, the line goes to the run's log.txt only.
        if (bar.shown && isMain) logOnly(line);
        else log(line);
        while (nextTick <= trainer.curNimg) nextTick += tickKimg * 1000;
        tickStart = performance.now();
        tickImages = 0;
      }
      if (trainer.curNimg >= nextSnapshot || done) {
        const grid = join(run.out, sampleGridName(trainer.curNimg));
        if (isMain) await writeSampleGrid(grid, trainer.Gema, gridZ, net.resolution <= 64 ? 2 : 1);
        await snapshot(grid);
        while (nextSnapshot <= trainer.curNimg) nextSnapshot += snapshotKimg * 1000;
      }
      if (trainer.curNimg >= nextCheckpoint || done || limit) {
        lastCheckpoint = checkpoint();
        while (nextCheckpoint <= trainer.curNimg) nextCheckpoint += checkpointKimg * 1000;
      }
      if (limit) {
        stoppedBy = 'maxIterations';
        break;
      }
      // Let signals in between iterations.
      await new Promise((r) => setImmediate(r));
      if (anyRankStops(stopSignal !== null)) {
        stopSignal ??= 'SIGTERM';
        lastCheckpoint = checkpoint();
        log(`\n${stopSignal}: saved ${lastCheckpoint}; continue with: ilsgan train --resume ${run.out}`);
        stoppedBy = 'signal';
        break;
      }
    }
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    endCleanStop();
    gridZ.dispose();
    trainer.dispose();
  }
  if (!lastCheckpoint) lastCheckpoint = listCheckpoints(run.out).pop() ?? '';
  return { runDir: run.out, kimg: target / 1000, iterations: iterationsThisCall, checkpoint: lastCheckpoint, stoppedBy, lastMetrics };
}
