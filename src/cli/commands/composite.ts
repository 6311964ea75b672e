// SPDX-License-Identifier: MIT
// `ilsgan composite`: a composite dataset from RGBA object cut-outs over background photos (datasets.md §2).
import { Command } from '@commander-js/extra-typings';
import { num } from '../parse.js';
import { ProgressBar } from '../../util/progress.js';

export function makeCompositeCommand() {
  return new Command('composite')
    .description('compose RGBA object cut-outs over background photos: train/images (no masks), test/images + test/masks')
    .requiredOption('--objects <dir>', 'folder of RGBA cut-outs (searched recursively); stamps without alpha are skipped')
    .requiredOption('--backgrounds <dir>', 'folder of background photos (searched recursively)')
    .requiredOption('--out <dir>', 'output folder (new, or an earlier composite set, which is replaced)')
    .option('--n <n>', 'training images (written without masks)', num('count'), 20000)
    .option('--test-n <n>', 'test images (with masks)', num('testCount'), 2000)
    .option('--size <s>', 'side length in pixels', num('side'), 64)
    .option('--split', 'split by instance: 80 % of the stamps and backgrounds for training, 20 % for test', false)
    .option('--seed <n>', 'seed (the output is the same for the same seed and sources)', num('seed'), 0)
    .option('--json', 'stdout: only the result as one JSON line (as by default)')
    .option(
      '--min-stamp-px <px>',
      'skip stamps whose alpha box is shorter on its long side (default 64 for --size ≤ 64, else 112)',
      num('side'),
    )
    .action(async (o) => {
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { minStampPxFor, writeCompositeDataset } = await import('../../data/composite/dataset.js');
      const bar = new ProgressBar('{phase} {bar} {value}/{total}');
      let phase = '';
      const warnings: string[] = [];
      const m = await writeCompositeDataset({
        objects: o.objects,
        backgrounds: o.backgrounds,
        out: o.out,
        n: o.n,
        testN: o.testN,
        size: o.size,
        split: o.split,
        seed: o.seed,
        minStampPx: o.minStampPx ?? minStampPxFor(o.size),
        onProgress: (done, total, p) => {
          if (p !== phase) {
            phase = p;
            bar.start(total, 0, { phase: p === 'decode' ? 'decoding' : 'writing ' });
          }
          bar.update(done);
        },
        warn: (line) => warnings.push(line),
      });
      bar.stop();
      // After the bar, so it does not interleave; the manifest lists every skipped file.
      for (const w of warnings.slice(0, 20)) process.stderr.write(`warning: ${w}\n`);
      if (warnings.length > 20) process.stderr.write(`warning: … and ${warnings.length - 20} more (manifest.json lists them)\n`);
      const skipped = (list: { reason: string }[]) =>
        Object.fromEntries(['no-alpha', 'too-small', 'unreadable'].map((r) => [r, list.filter((s) => s.reason === r).length]));
      process.stdout.write(
        `${JSON.stringify({
          out: o.out,
          size: m.size,
          train: m.counts.train,
          test: m.counts.test,
          split: m.split,
          seed: m.seed,
          objects: { train: m.objects.train.length, test: m.objects.test.length, skipped: skipped(m.skipped.objects) },
          backgrounds: { train: m.backgrounds.train.length, test: m.backgrounds.test.length, skipped: m.skipped.backgrounds.length },
          seconds: { decode: Number(m.seconds.decode.toFixed(1)), write: Number(m.seconds.write.toFixed(1)) },
        })}\n`,
      );
    });
}
