// SPDX-License-Identifier: MIT
// `ilsgan train`: train (or resume) a layered GAN on a folder of images, a DRC dataset, or the demo data.
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import { type NetworkConfig, type PresetName, presets } from '../../models/config.js';
import { InputError } from '../../util/errors.js';
import { getRecipe, recipeTrainOptions, recipes } from '../../pipeline/recipes.js';
import { type DeviceName, choice, deviceFlag, num, resolveDevice } from '../parse.js';
import { addTrainFlags, checkMaskRange, filledTrainOptions, trainOptionsFromFlags } from '../trainFlags.js';
import { startLiveRun } from '../liveRun.js';
import { exitCodeFor, receivedSignal } from '../../util/interrupt.js';
import { distributedEnv, launchWorkers, rankPlacement } from '../launch.js';

export function makeTrainCommand() {
  const command = new Command('train')
    .description('train a layered GAN (ILSGAN) whose layers separate foreground and background')
    .option('--data <path>', 'image folder (recursive), DRC CUB/Dogs/Cars folder, or "demo"')
    .option('--out <dir>', 'run directory (checkpoints, sample grids, metrics.jsonl)')
    .option(
      '--recipe <name>',
      `the GAN part of a measured recipe (${Object.keys(recipes).join(', ')}); flags given win`,
      choice(Object.keys(recipes)),
    )
    .option(
      '--config <name>',
      `network preset: ${Object.keys(presets).join(', ')} (small64 without --recipe)`,
      choice(Object.keys(presets) as PresetName[]),
    )
    .option('--kimg <k>', 'total thousands of real images to show D (fractions allowed)', num('kimg'))
    .option(
      '--resume <dir>',
      'continue the run in <dir> with its own settings: --kimg extends it, --tick/--snap/--checkpoint-every/--keep/--threads/--device may change, other flags must match the run',
    )
    .option(
      '--init-from <dir>',
      'start a new run from the G, G_ema and D weights of another run (its folder, a pipeline output or a checkpoint file), not its optimiser state or kimg; its network unless --config/--recipe say otherwise (they must match)',
    )
    .option('--device <d>', 'auto (CUDA when present, else the CPU), cpu, cuda or cuda:N', deviceFlag, 'auto' as const)
    .option('--resolution <s>', 'override the preset resolution (power of two, 32–256)', num('resolution'))
    .option('--cbase <n>', 'override channel base (channels at r = min(cbase/r, cmax))', num('channelBase'))
    .option('--cmax <n>', 'override channel max', num('width'))
    .option('--map <n>', 'override mapping layers', num('layers'))
    .option('--tick <kimg>', 'metrics interval in kimg', num('kimg'))
    .option('--snap <kimg>', 'sample-grid interval in kimg', num('kimg'))
    .option('--checkpoint-every <kimg>', 'checkpoint interval in kimg (default: --snap)', num('kimg'))
    .option('--keep <n>', 'checkpoints kept (3)', num('keep'))
    .option('--threads <n>', 'libtorch CPU threads (default: all cores; may change on --resume)', num('threads'))
    .option(
      '--nproc <n>',
      'data-parallel training in n local worker processes (c10d: Gloo on the CPU, NCCL with --device cuda, worker r on cuda:r): --batch is split between them, --threads too; for several machines set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT instead',
      num('count'),
    )
    .option('--demo-n <n>', 'procedural images for --data demo (4000)', num('count'))
    .addOption(new Option('--max-iterations <n>', 'stop after n iterations (tests)').argParser(num('iterations')).hideHelp())
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .option('--json', 'stdout: only the result as one JSON line (as by default; progress and logs go to stderr and log.txt)')
    .action(async (o) => {
      // The launcher: the same command as n workers (cli/launch.ts), unless this process is one of them. As with
      // torchrun, --nproc 1 is one worker in a group of one: the multi-process code path on a single device.
      const group = distributedEnv();
      if (o.nproc !== undefined && !group) {
        process.exitCode = await launchWorkers(process.argv[1], process.argv.slice(2), o.nproc, o.threads);
        return;
      }
      const parallel = group;
      const isMain = !parallel || parallel.rank === 0;
      const resume = o.resume !== undefined;
      const usage = 'see `ilsgan train --help`';
      if (resume && o.initFrom !== undefined)
        throw new InputError(
          "--init-from starts a new run from another run's weights; --resume continues a run: give one of them",
          'ERR_ARG',
        );
      if (!resume && (!o.data || !o.out)) throw new InputError('train needs --data and --out (or --resume <run dir>)', 'ERR_ARG', usage);
      // Checked before anything is created or decoded: a mistyped --resume must not leave an empty folder behind.
      if (resume && !(existsSync(o.resume!) && statSync(o.resume!).isDirectory())) {
        throw new InputError(`no run at ${o.resume}`, 'ERR_NO_RUN', 'give the --out folder of an earlier ilsgan train');
      }
      const recipe = o.recipe ? getRecipe(o.recipe) : null;
      const kimg = o.kimg ?? recipe?.kimg;
      if (!resume && kimg === undefined) throw new InputError('train needs --kimg (the total to reach) or --recipe', 'ERR_ARG', usage);
      // The GAN training flags given (cli/trainFlags.ts, shared with pipeline); a resume checks each against the run.
      const flags = trainOptionsFromFlags(o);
      checkMaskRange(flags, recipe?.train);
      let device = await resolveDevice(o.device);
      // With several processes: each rank's device and the c10d backend that joins them, checked before anything
      // is written (the launcher's workers all stop on the first one's error).
      const placement = parallel ? await placeRank(device, parallel) : null;
      if (placement) device = placement.device;
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { train } = await import('../../train/loop.js');
      // A resume takes only the flags given (each checked against the run); a new run fills in the defaults.
      const configName = o.config ?? (recipe || resume || o.initFrom ? undefined : 'small64');
      const overrides = Boolean(o.resolution || o.cbase || o.cmax || o.map);
      const { readCheckpointState } = await import('../../run/checkpoint.js');
      const base: NetworkConfig = {
        ...(configName
          ? presets[configName]
          : recipe
            ? recipe.network
            : overrides && resume
              ? readCheckpointState(o.resume!).state.net
              : o.initFrom
                ? (await import('../../train/initFrom.js')).resolveRunCheckpoint(o.initFrom).state.net
                : presets.small64),
      };
      if (o.resolution) base.resolution = o.resolution;
      if (o.cbase) base.channelBase = o.cbase;
      if (o.cmax) base.channelMax = o.cmax;
      if (o.map) base.mappingLayers = o.map;
      const custom = !configName || o.resolution || o.cbase || o.cmax || o.map;
      // A new run: the preset's defaults (batch 16 for the small presets), the recipe's options, then the flags given;
      // a resume keeps the run's own values of the first two.
      const recipeOptions = filledTrainOptions({
        preset: configName,
        recipe: recipe ? recipeTrainOptions(recipe, device) : undefined,
        resume,
      });
      const runDir = (resume ? o.resume : o.out) as string;
      // The run's log.txt gets everything printed from here on; report.html follows the run (cli/liveRun.ts).
      const continueWith = `continue with: ilsgan train --resume ${runDir}`;
      const live = isMain
        ? startLiveRun(
            join(runDir, 'report.html'),
            () => `stopped before training began; ${resume ? continueWith : 'run the same command again'}`,
          )
        : { update: async () => null, stopped: () => false, end: () => undefined };
      if (parallel) {
        const { distInit } = await import('../../tensor/dist.js');
        const timeoutMs = Number(process.env.ILSGAN_DIST_TIMEOUT_MS ?? 300_000);
        try {
          distInit({ ...parallel, timeoutMs, backend: placement!.backend, cudaDevice: placement!.cudaIndex });
        } catch (e) {
          live.end();
          throw distError(e, parallel.rank, runDir);
        }
      }
      const page = { runDir, title: `ilsgan train: ${basename(resolve(runDir))}` };
      let result: Awaited<ReturnType<typeof train>>;
      try {
        result = await train({
          data: o.data ?? '',
          out: runDir,
          config: (resume || o.initFrom) && !configName && !recipe && !overrides ? undefined : custom ? base : configName!,
          kimg: kimg ?? Number.NaN,
          device,
          options: flags,
          recipeOptions,
          tickKimg: o.tick,
          snapshotKimg: o.snap,
          checkpointKimg: o.checkpointEvery,
          keepCheckpoints: o.keep,
          resume,
          demoCount: o.demoN,
          initFrom: o.initFrom,
          progress: o.progress && Boolean(process.stderr.isTTY),
          maxIterations: o.maxIterations,
          threads: o.threads,
          parallel: parallel ?? undefined,
          onSnapshot: async (s) => {
            const { trainingProgress } = await import('../../report/live.js');
            await live.update(page, {
              state: 'running',
              text: `training the layered GAN, ${trainingProgress(s.kimg, s.targetKimg)}.`,
              etaSeconds: s.etaSeconds,
            });
          },
        });
      } catch (e) {
        live.stopped(`stopped by an error: ${(e as Error).message}`);
        live.end();
        throw parallel ? distError(e, parallel.rank, runDir) : e;
      } finally {
        if (parallel) (await import('../../tensor/dist.js')).distDestroy();
      }
      if (!isMain) {
        live.end();
        return;
      }
      const signal = result.stoppedBy === 'signal' ? (receivedSignal() ?? 'SIGINT') : null;
      const { trainingProgress } = await import('../../report/live.js');
      // Checkpoints are named by the images shown (ckpt-000004560 = 4.56 kimg).
      const savedAt = /(\d+)$/.exec(result.checkpoint);
      const at = trainingProgress(savedAt ? Number(savedAt[1]) / 1000 : (result.lastMetrics.kimg ?? 0), result.kimg);
      await live.update(
        page,
        result.stoppedBy === 'done'
          ? undefined
          : {
              state: 'stopped',
              text: `${signal ? `stopped by ${signal}` : 'stopped by --max-iterations'} at ${at}; checkpoint ${result.checkpoint} saved; ${continueWith}.`,
            },
      );
      live.end();
      const report = join(runDir, 'report.html');
      process.stdout.write(
        `${JSON.stringify({ run: result.runDir, kimg: result.kimg, checkpoint: result.checkpoint, stopped_by: result.stoppedBy, report })}\n`,
      );
      if (!o.json) process.stderr.write(`report: ${report}\n`);
      // Ctrl-C: the checkpoint is saved; exit as an interrupted command does (130).
      if (signal) process.exitCode = exitCodeFor(signal);
    });
  return addTrainFlags(command, 'GAN training options (shared with pipeline):');
}

/** This rank's device and backend (cli/launch.ts rankPlacement), with the backend checked against the build. */
async function placeRank(device: DeviceName, group: NonNullable<ReturnType<typeof distributedEnv>>) {
  const cudaCount = device === 'cpu' ? 0 : (await import('../../tensor/runtime.js')).cuda.deviceCount();
  const placement = rankPlacement(device, group, cudaCount);
  const { distAvailable, distMissingReason } = await import('../../tensor/dist.js');
  if (!distAvailable(placement.backend)) {
    const name = placement.backend === 'nccl' ? 'NCCL' : 'Gloo';
    throw new InputError(
      `training on ${device === 'cpu' ? 'the CPU' : 'GPUs'} in several processes needs c10d's ${name} backend, and this addon was built without ${name}`,
      'ERR_DIST_NOT_BUILT',
      distMissingReason(placement.backend),
    );
  }
  return placement;
}

/** A collective that failed (a worker died, or never came) as a user-facing error; other errors unchanged. */
function distError(e: unknown, rank: number, runDir: string): unknown {
  const code = (e as { code?: unknown })?.code;
  if (code !== 'ERR_DIST' && code !== 'ERR_DIST_TIMEOUT') return e;
  return new InputError(
    `worker ${rank}: ${code === 'ERR_DIST_TIMEOUT' ? 'the other workers did not answer in time' : 'another worker stopped or cannot be reached'} (${(e as Error).message})`,
    code,
    `the first failing worker's error is above; no checkpoint is half-written: continue with ilsgan train --resume ${runDir} (--nproc as before)`,
  );
}
