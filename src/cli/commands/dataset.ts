// SPDX-License-Identifier: MIT
// `ilsgan dataset demo`: writes the procedural dataset as PNGs with masks, in train and test splits.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { num } from '../parse.js';
import { ProgressBar } from '../../util/progress.js';

export function makeDatasetCommand() {
  const demo = new Command('demo')
    .description('write the built-in procedural dataset: train/images, test/images and test/masks (PNG)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--n <n>', 'training images', num('count'), 4000)
    .option('--test-n <n>', 'test images (with masks)', num('testCount'), 500)
    .option('--size <s>', 'side length in pixels', num('side'), 64)
    .option('--seed <n>', 'seed', num('seed'), 0)
    .option('--json', 'stdout: only the result as one JSON line (as by default)')
    .action(async (o) => {
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { writeProceduralSplit } = await import('../../data/proceduralFiles.js');
      const bar = new ProgressBar('writing {bar} {value}/{total}');
      bar.start(o.n + o.testN);
      for (const split of ['train', 'test'] as const) {
        const count = split === 'train' ? o.n : o.testN;
        await writeProceduralSplit(join(o.out, split), split, {
          count,
          size: o.size,
          seed: o.seed,
          masks: split === 'test',
          onImage: () => bar.increment(),
        });
      }
      bar.stop();
      writeFileSync(
        join(o.out, 'README.txt'),
        `ilsgan procedural dataset: ${o.n} training images, ${o.testN} test images with masks, ${o.size}x${o.size}, seed ${o.seed}.\n`,
      );
      process.stdout.write(`${JSON.stringify({ out: o.out, train: o.n, test: o.testN, size: o.size })}\n`);
    });
  return new Command('dataset').description('make datasets').addCommand(demo);
}
