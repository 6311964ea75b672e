// SPDX-License-Identifier: MIT
// `ilsgan mi --synthetic <dir>`: MINE estimates of the mutual information between layers (spec §11).
import { join, resolve } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import type { MineSchedule } from '../../eval/mine.js';
import { checkOutputFile, choice, deviceFlag, num, resolveDevice, writeOutputFile } from '../parse.js';
import { ProgressBar } from '../../util/progress.js';

export function makeMiCommand() {
  return new Command('mi')
    .description('estimate the mutual information between visible and invisible layer regions with MINE (nats)')
    .requiredOption('--synthetic <dir>', 'an `ilsgan generate` output folder (fg/, bg/, masks_soft/, manifest.json)')
    .option(
      '--schedule <name>',
      'fast (32², hidden 128, 2000 iterations, eval every 50) or paper (64², hidden 3000, 100 000 iterations, eval every 400)',
      choice(['fast', 'paper'] as const),
      'fast' as const,
    )
    .option('--iterations <n>', "override the schedule's training iterations", num('iterations'))
    .option('--hidden <n>', "override the statistics network's hidden width", num('width'))
    .option('--size <s>', 'override the image size the layers are resized to', num('side'))
    .option('--eval-every <n>', 'override the evaluation interval (iterations)', num('iterations'))
    .option('--batch <n>', 'override the training batch', num('batch'))
    .option('--lr <x>', 'override the Adam learning rate', num('lr'))
    .option('--max-samples <n>', 'use only the first N samples', num('count'))
    .option('--seed <n>', 'seed', num('seed'), 0)
    .option('--device <d>', 'auto (CUDA when present, else the CPU), cpu, cuda or cuda:N', deviceFlag, 'auto' as const)
    .option('--out <file>', 'where to write the JSON (default: <synthetic>/MI_estimation_results.json)')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'stdout: only the result as one JSON line (as by default)')
    .action(async (o) => {
      const device = await resolveDevice(o.device);
      const out = resolve(o.out ?? join(o.synthetic, 'MI_estimation_results.json'));
      checkOutputFile(out, '--out');
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { estimateMi, mineSchedules } = await import('../../eval/mine.js');
      const s: MineSchedule = {
        ...mineSchedules[o.schedule],
        ...(o.iterations !== undefined && { iterations: o.iterations }),
        ...(o.hidden !== undefined && { hidden: o.hidden }),
        ...(o.size !== undefined && { size: o.size }),
        ...(o.evalEvery !== undefined && { evalEvery: o.evalEvery }),
        ...(o.batch !== undefined && { batch: o.batch }),
        ...(o.lr !== undefined && { lr: o.lr }),
      };
      const custom = ['iterations', 'hidden', 'size', 'evalEvery', 'batch', 'lr'].some((k) => o[k as keyof typeof o] !== undefined);
      const bar = new ProgressBar('MINE {bar} {value}/{total} iterations | ETA {eta_formatted}', o.progress);
      bar.start(2 * s.iterations);
      try {
        const r = await estimateMi({
          synthetic: o.synthetic,
          schedule: s,
          maxSamples: o.maxSamples,
          seed: o.seed,
          device,
          onProgress: (done) => bar.update(done),
        });
        bar.stop();
        const report = { ...r, schedule: custom ? `${o.schedule}+overrides` : o.schedule };
        writeOutputFile(out, '--out', Buffer.from(`${JSON.stringify(report, null, 1)}\n`));
        const { history: _history, ...summary } = report;
        process.stdout.write(`${JSON.stringify({ ...summary, out })}\n`);
      } finally {
        bar.stop();
      }
    });
}
