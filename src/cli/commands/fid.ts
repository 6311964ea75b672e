// SPDX-License-Identifier: MIT
// `ilsgan fid --run <dir> --inception <file>`: FID and KID of a checkpoint's G_ema against the training images
// (spec §12); `--select` picks the checkpoint with the lowest FID (or the latest without weights).
import { Command } from '@commander-js/extra-typings';
import { InputError } from '../../util/errors.js';
import { deviceFlag, num, resolveDevice } from '../parse.js';
import { ProgressBar } from '../../util/progress.js';

export function makeFidCommand() {
  return new Command('fid')
    .description("FID and KID of a trained run's G_ema composites (ψ = 1, random noise) against its training images")
    .requiredOption('--run <dir>', 'training run directory (the --out of ilsgan train)')
    .option('--checkpoint <name>', 'checkpoint name (ckpt-000004560) or path; default: the latest')
    .option('--inception <file>', 'FID Inception-v3 weights as safetensors (docs/fid.md); required unless --select')
    .option('--n <n>', 'generated images', num('count'), 10_000)
    .option('--max-real <n>', 'use at most N training images (default: all, as the official metric)', num('count'))
    .option('--data <dir>', 'training data folder, if it moved since training')
    .option('--select', 'score every checkpoint and print the one to use (lowest FID; the latest without --inception)')
    .option('--max-kimg <k>', 'with --select: only checkpoints at or below this kimg (the official --topk)', num('kimg'))
    .option('--seed <n>', 'seed of latents, noise and KID subsets', num('seed'), 0)
    .option('--batch <n>', 'images per Inception pass', num('batch'), 32)
    .option('--device <d>', 'auto (CUDA when present, else the CPU), cpu, cuda or cuda:N', deviceFlag, 'auto' as const)
    .option('--no-progress', 'no progress bar')
    .option('--json', 'stdout: only the result as one JSON line (as by default)')
    .action(async (o) => {
      const device = await resolveDevice(o.device);
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { fid } = await import('../../eval/fid.js');
      const { selectCheckpoint } = await import('../../eval/selectCheckpoint.js');
      const bar = new ProgressBar('{phase} {bar} {value}/{total} | ETA {eta_formatted}', o.progress);
      let phase = '';
      const onProgress = (p: 'real' | 'generated', done: number, total: number) => {
        if (p !== phase) {
          bar.start(total, 0, { phase: p === 'real' ? 'real images     ' : 'generated images' });
          phase = p;
        }
        bar.update(done);
      };
      const common = { n: o.n, maxReal: o.maxReal, data: o.data, seed: o.seed, batch: o.batch, onProgress };
      try {
        if (o.select) {
          const r = await selectCheckpoint(o.run, {
            inception: o.inception,
            maxKimg: o.maxKimg,
            device,
            fid: common,
            onCheckpoint: (name, i, total) => {
              phase = '';
              bar.stop();
              process.stderr.write(`scoring ${name} (${i + 1}/${total})\n`);
            },
          });
          bar.stop();
          process.stdout.write(`${JSON.stringify(r)}\n`);
          return;
        }
        if (o.inception === undefined) {
          throw new InputError(
            '--inception <file> is required (see docs/fid.md), unless --select is given',
            'ERR_ARG',
            'see `ilsgan fid --help`',
          );
        }
        const r = await fid({ run: o.run, checkpoint: o.checkpoint, inception: o.inception, device, ...common });
        bar.stop();
        process.stdout.write(`${JSON.stringify(r)}\n`);
      } finally {
        bar.stop();
      }
    });
}
