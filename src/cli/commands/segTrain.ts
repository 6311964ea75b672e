// SPDX-License-Identifier: MIT
// `ilsgan seg-train`: train the segmentation U-Net on a synthetic set from `ilsgan generate` (spec §10.2).
import { Command } from '@commander-js/extra-typings';
import { choice, deviceFlag, num, resolveDevice } from '../parse.js';

export function makeSegTrainCommand() {
  return new Command('seg-train')
    .description('train the segmentation U-Net on synthetic (image, mask) pairs; keeps the best validation IoU')
    .requiredOption('--synthetic <dir>', 'synthetic set (the --out of ilsgan generate: manifest.json, images/, masks/)')
    .requiredOption('--out <dir>', 'model directory to write: model.safetensors (best), model.json')
    .option('--iters <n>', 'training iterations', num('iterations'), 6000)
    .option('--batch <n>', 'minibatch size', num('batch'), 64)
    .option('--lr <lr>', 'Adam learning rate (constant)', num('lr'), 1e-3)
    .option('--width <w>', "U-Net width: 64 is the paper's network; 16 trains ~16× faster on a CPU (a deviation)", num('width'), 64)
    .option('--size <s>', 'network input side (a multiple of 16)', num('netSide'), 64)
    .option(
      '--protocol <p>',
      '64: score at the network size; 128: at 2× with logits upsampled (spec §10.4)',
      choice(['64', '128'] as const),
      '64' as const,
    )
    .option('--seed <n>', 'seed of sampler, initialisation and augmentation', num('seed'), 0)
    .option('--val-every <n>', 'validation interval in iterations', num('iterations'), 1000)
    .option('--aug-p <p>', 'probability of each colour augmentation (0 = off)', num('probability'), 0.5)
    .option('--device <d>', 'auto (CUDA when present, else the CPU), cpu, cuda or cuda:N', deviceFlag, 'auto' as const)
    .option('--threads <n>', 'libtorch CPU threads (default: all cores)', num('threads'))
    .option('--no-progress', 'log lines instead of a progress bar')
    .option('--json', 'stdout: only the result as one JSON line (as by default)')
    .action(async (o) => {
      const device = await resolveDevice(o.device);
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { trainSegmenter } = await import('../../seg/train.js');
      const r = await trainSegmenter({
        synthetic: o.synthetic,
        out: o.out,
        iterations: o.iters,
        batch: o.batch,
        lr: o.lr,
        width: o.width,
        size: o.size,
        protocol: o.protocol,
        seed: o.seed,
        valEvery: o.valEvery,
        augP: o.augP,
        device,
        threads: o.threads,
        progress: o.progress && Boolean(process.stderr.isTTY),
      });
      process.stdout.write(
        `${JSON.stringify({
          out: r.out,
          best_val_iou: r.bestValIoU,
          best_iteration: r.bestIteration,
          iterations: o.iters,
          s_per_iter: Number(r.secondsPerIteration.toFixed(4)),
          width: o.width,
          size: o.size,
          protocol: o.protocol,
        })}\n`,
      );
    });
}
