// SPDX-License-Identifier: MIT
// `ilsgan generate`: synthetic (image, mask) pairs from a trained run's G_ema (spec §9), for segmentation.
import { Command } from '@commander-js/extra-typings';
import { deviceFlag, num, resolveDevice } from '../parse.js';
import { ProgressBar } from '../../util/progress.js';

export function makeGenerateCommand() {
  return new Command('generate')
    .description('write synthetic images with masks, foregrounds and backgrounds from a trained run (ψ = 1, constant noise)')
    .requiredOption('--run <dir>', 'training run directory (the --out of ilsgan train)')
    .option('--checkpoint <name>', 'checkpoint name (ckpt-000004560) or path; default: the latest')
    .requiredOption('--n <n>', 'number of samples', num('count'))
    .requiredOption('--out <dir>', 'output folder: images/, masks/, masks_soft/, fg/, bg/, manifest.json')
    .option('--seed <n>', 'latent seed', num('seed'), 0)
    .option('--batch <n>', 'samples per forward pass', num('batch'), 64)
    .option('--device <d>', 'auto (CUDA when present, else the CPU), cpu, cuda or cuda:N', deviceFlag, 'auto' as const)
    .option('--no-progress', 'no progress bar')
    .option('--json', 'stdout: only the result as one JSON line (as by default)')
    .action(async (o) => {
      const device = await resolveDevice(o.device);
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { synthesize } = await import('../../gen/synthesize.js');
      const bar = new ProgressBar('generating {bar} {value}/{total} | ETA {eta_formatted}', o.progress);
      bar.start(o.n);
      try {
        const m = await synthesize({
          run: o.run,
          checkpoint: o.checkpoint,
          n: o.n,
          out: o.out,
          seed: o.seed,
          batch: o.batch,
          device,
          onProgress: (done) => bar.update(done),
        });
        bar.stop();
        process.stdout.write(
          `${JSON.stringify({ out: o.out, n: m.n, size: m.size, checkpoint: m.checkpoint, kimg: m.kimg, seed: m.seed })}\n`,
        );
      } finally {
        bar.stop();
      }
    });
}
