// SPDX-License-Identifier: MIT
// The training loop: data, ticks (metrics JSONL and a progress bar), sample grids, atomic checkpoints, resume,
// clean stop on SIGINT/SIGTERM, and a hard stop on non-finite losses that leaves the last good checkpoint.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchSampler } from '../data/loader.js';
import { type ImageSet, loadTrainingImages } from '../data/imageFolder.js';
import { type NetworkConfig, type PresetName, checkConfig, presets } from '../models/config.js';
import type { Device } from '../tensor/device.js';
import { InputError } from '../tensor/errors.js';
import { manualSeed } from '../tensor/ops/random.js';
import { setCudnnBenchmark, setTf32 } from '../tensor/runtime.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { listCheckpoints, readCheckpointState, restoreTrainer, saveCheckpoint } from './checkpoint.js';
import { ilsSigma } from './loss/ils.js';
import { type TrainOptions, defaultTrainOptions } from './options.js';
import { fixedLatents, writeSampleGrid } from './samples.js';
import { IlsTrainer } from './trainer.js';
import { ProgressBar } from '../util/progress.js';

export interface TrainRun {
  /** Image folder, DRC dataset folder, or 'demo'. */
  data: string;
  /** Run directory (created). */
  out: string;
  /** Preset name or a full network config. */
  config: PresetName | NetworkConfig;
  /** Total kimg to reach (fractions allowed). */
  kimg: number;
  device?: Device;
  /** Overrides of the training options. */
  options?: Partial<TrainOptions>;
  /** Metrics/progress every tickKimg, grids every snapshotKimg, checkpoints every checkpointKimg. */
  tickKimg?: number;
  snapshotKimg?: number;
  checkpointKimg?: number;
  /** Checkpoints kept (3). */
  keepCheckpoints?: number;
  /** Columns of the sample grid (8). */
  gridSize?: number;
  /** Continue the run in `out` from its latest checkpoint, with its own config. */
  resume?: boolean;
  /** Number of procedural images for data = 'demo'. */
  demoCount?: number;
  /** Training files to leave out (held out for the pipeline's report); not stored in the run. */
  exclude?: readonly string[];
  /** Show a progress bar on stderr (default: when stderr is a TTY). */
  progress?: boolean;
  /** Called after every tick with the logged metrics. */
  onTick?: (metrics: Record<string, number>) => void;
  /** Stop after this many iterations in this call (tests), leaving a checkpoint. */
  maxIterations?: number;
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

/** Trains (or resumes) an ILSGAN run; see TrainRun. */
export async function train(run: TrainRun): Promise<TrainResult> {
  const device = run.device ?? 'cpu';
  mkdirSync(run.out, { recursive: true });
  const existing = listCheckpoints(run.out);
  let net: NetworkConfig;
  let configName: string;
  let options: TrainOptions;
  let data = run.data;
  let resumeFrom: ReturnType<typeof readCheckpointState> | null = null;
  if (run.resume) {
    resumeFrom = readCheckpointState(run.out);
    net = resumeFrom.state.net;
    options = resumeFrom.state.options;
    configName = resumeFrom.state.configName;
    data = resumeFrom.state.data;
  } else {
    if (existing.length) {
      throw new InputError(`${run.out} already holds a training run`, 'ERR_RUN_EXISTS', `continue it with --resume ${run.out}, or choose another --out`);
    }
    ({ net, name: configName } = resolveConfig(run.config));
    options = { ...defaultTrainOptions, ...run.options };
  }
  const kimg = run.kimg > 0 ? run.kimg : (resumeFrom?.state.targetKimg ?? Number.NaN);
  if (!(kimg > 0)) throw new InputError(`--kimg must be positive, got ${run.kimg}`, 'ERR_ARG');
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const showBar = run.progress ?? Boolean(process.stderr.isTTY);

  // Data, decoded once and cached in the run directory.
  let set: ImageSet;
  {
    const bar = new ProgressBar('decoding images {bar} {value}/{total}', showBar);
    set = await loadTrainingImages(data, net.resolution, {
      cachePath: data === 'demo' ? undefined : join(run.out, 'dataset-cache.u8'),
      demoCount: run.demoCount,
      seed: options.seed,
      exclude: run.exclude,
      onProgress: (d, t) => bar.update(d, { total: t }),
    });
    bar.stop();
    log(`data: ${set.count} images at ${net.resolution}² from ${data} (${set.source})${set.skipped.length ? `, ${set.skipped.length} skipped` : ''}`);
  }

  manualSeed(options.seed);
  if (device !== 'cpu') {
    // As upstream: cuDNN picks the fastest algorithms for the fixed shapes; TF32 only when asked for.
    setCudnnBenchmark(true);
    setTf32(options.tf32 ?? false);
  }
  const trainer = new IlsTrainer(net, options, device);
  const sampler = new BatchSampler(set, options.seed);
  let trainSeconds = 0;
  if (resumeFrom) {
    restoreTrainer(run.out, resumeFrom.name, resumeFrom.state, trainer);
    sampler.restore(resumeFrom.state.sampler);
    trainSeconds = resumeFrom.state.trainSeconds;
    log(`resumed ${run.out} at ${trainer.kimg.toFixed(3)} kimg (${resumeFrom.name})`);
  } else {
    writeFileSync(join(run.out, 'config.json'), `${JSON.stringify({ configName, net, options, data, device }, null, 1)}\n`);
  }

  const n = options.batch;
  const tickKimg = run.tickKimg ?? Math.max(n / 1000, Math.min(4, kimg / 100));
  const snapshotKimg = run.snapshotKimg ?? Math.max(tickKimg, kimg / 10);
  const checkpointKimg = run.checkpointKimg ?? snapshotKimg;
  const gridZ = keep(fixedLatents(run.gridSize ?? 8, net.zDim, options.seed, device));
  const metricsPath = join(run.out, 'metrics.jsonl');
  const target = Math.round(kimg * 1000);
  let stopSignal: string | null = null;
  const onSignal = (sig: string) => {
    stopSignal = sig;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const bar = new ProgressBar(
    'train {bar} {kimg}/{total_kimg} kimg | {ips} img/s | G {lossG} D {lossD} | mask {mask} (diversity {diversity}) | p {p} | ETA {eta_formatted}',
    showBar,
    { etaBuffer: 50 },
  );
  bar.start(target, trainer.curNimg, { kimg: trainer.kimg.toFixed(2), total_kimg: kimg, ips: '-', lossG: '-', lossD: '-', mask: '-', diversity: '-', p: trainer.ada.p.toFixed(3) });

  let lastMetrics: Record<string, number> = {};
  let nextTick = trainer.curNimg + tickKimg * 1000;
  let nextSnapshot = trainer.curNimg + snapshotKimg * 1000;
  let nextCheckpoint = trainer.curNimg + checkpointKimg * 1000;
  let tickStart = performance.now();
  let tickImages = 0;
  let iterationsThisCall = 0;
  let stoppedBy: TrainResult['stoppedBy'] = 'done';
  const checkpoint = () =>
    saveCheckpoint(run.out, trainer, { configName, data, sampler: sampler.state(), trainSeconds, adaSigns: trainer.adaSigns(), targetKimg: kimg }, run.keepCheckpoints ?? 3);
  let lastCheckpoint = '';
  if (!resumeFrom) await writeSampleGrid(join(run.out, 'samples-init.png'), trainer.Gema, gridZ, net.resolution <= 64 ? 2 : 1);

  try {
    while (trainer.curNimg < target) {
      const t0 = performance.now();
      const reals: Tensor = sampler.next(n, device);
      try {
        trainer.step(reals);
      } finally {
        reals.dispose();
      }
      trainSeconds += (performance.now() - t0) / 1000;
      tickImages += n;
      iterationsThisCall++;
      const done = trainer.curNimg >= target;
      const limit = run.maxIterations !== undefined && iterationsThisCall >= run.maxIterations;
      if (trainer.curNimg >= nextTick || done || limit) {
        const seconds = (performance.now() - tickStart) / 1000;
        const stats = trainer.stats.read();
        const bad = Object.entries(stats).filter(([, v]) => !Number.isFinite(v));
        if (bad.length) {
          throw new InputError(
            `training diverged at ${trainer.kimg.toFixed(3)} kimg: ${bad.map(([k, v]) => `${k} = ${v}`).join(', ')}`,
            'ERR_NON_FINITE',
            lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint}; resume from it with a lower learning rate` : 'no checkpoint was written yet; try lower learning rates',
          );
        }
        const sigma = options.ils
          ? ilsSigma(Math.floor(trainer.curNimg / 1000), { schedule: options.ilsSchedule, initialSigma: options.ilsInitialSigma, sigma: options.ilsSigma, switchKimg: options.ilsSwitchKimg })
          : 0;
        lastMetrics = {
          kimg: trainer.kimg, iteration: trainer.iteration, seconds: trainSeconds, img_per_s: tickImages / seconds,
          ada_p: trainer.ada.p, ils_sigma: sigma, ...stats,
        };
        appendFileSync(metricsPath, `${JSON.stringify(lastMetrics)}\n`);
        run.onTick?.(lastMetrics);
        bar.update(trainer.curNimg, { payload: {
          kimg: trainer.kimg.toFixed(2), ips: (tickImages / seconds).toFixed(1), lossG: (stats['Loss/G/total'] ?? 0).toFixed(3),
          lossD: ((stats['Loss/D/fake'] ?? 0) + (stats['Loss/D/real'] ?? 0)).toFixed(3), mask: (stats['Mask/mean'] ?? 0).toFixed(2),
          diversity: (stats['Mask/diversity'] ?? 0).toFixed(2), p: trainer.ada.p.toFixed(3),
        } });
        if (!bar.shown) log(`kimg ${trainer.kimg.toFixed(2)} | ${(tickImages / seconds).toFixed(1)} img/s | G ${(stats['Loss/G/total'] ?? 0).toFixed(3)} | D ${((stats['Loss/D/fake'] ?? 0) + (stats['Loss/D/real'] ?? 0)).toFixed(3)} | mask ${(stats['Mask/mean'] ?? 0).toFixed(2)} (diversity ${(stats['Mask/diversity'] ?? 0).toFixed(2)}) | p ${trainer.ada.p.toFixed(3)}`);
        while (nextTick <= trainer.curNimg) nextTick += tickKimg * 1000;
        tickStart = performance.now();
        tickImages = 0;
      }
      if (trainer.curNimg >= nextSnapshot || done) {
        await writeSampleGrid(join(run.out, `samples-${(trainer.curNimg / 1000).toFixed(3).padStart(9, '0')}kimg.png`), trainer.Gema, gridZ, net.resolution <= 64 ? 2 : 1);
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
      if (stopSignal) {
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
    gridZ.dispose();
    trainer.dispose();
  }
  if (!lastCheckpoint) lastCheckpoint = listCheckpoints(run.out).pop() ?? '';
  return { runDir: run.out, kimg: target / 1000, iterations: iterationsThisCall, checkpoint: lastCheckpoint, stoppedBy, lastMetrics };
}

