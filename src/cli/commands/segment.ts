// SPDX-License-Identifier: MIT
// `ilsgan segment`: foreground masks and cutouts for photos of any size, format and mode, with a trained U-Net.
import { Command } from '@commander-js/extra-typings';
import { device, num, requireDevice } from '../parse.js';
import { ProgressBar } from '../../util/progress.js';

export function makeSegmentCommand() {
  return new Command('segment')
    .description('segment photos with a trained model: out/masks/<name>.png (0/255) and out/cutouts/<name>.png (RGBA)')
    .requiredOption('--model <dir>', 'model directory (the --out of ilsgan seg-train)')
    .requiredOption('--input <path>', 'an image file or a folder of images (searched recursively)')
    .requiredOption('--out <dir>', 'output folder; masks/ and cutouts/ mirror the input folder\'s layout')
    .option('--batch <n>', 'images per forward pass', num('batch'), 32)
    .option('--no-cutouts', 'write masks only')
    .option('--device <d>', 'cpu, cuda or cuda:N', device, 'cpu' as const)
    .option('--no-progress', 'no progress bar')
    .action(async (o) => {
      await requireDevice(o.device);
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { segmentImages } = await import('../../seg/segment.js');
      const bar = new ProgressBar('segmenting {bar} {value}/{total} | ETA {eta_formatted}', o.progress);
      try {
        const r = await segmentImages({
          model: o.model, input: o.input, out: o.out, batch: o.batch, cutouts: o.cutouts, device: o.device,
          onProgress: (done, total) => bar.update(done, { total }),
          warn: (m) => {
            bar.stop();
            process.stderr.write(`warning: ${m}\n`);
          },
        });
        bar.stop();
        process.stdout.write(`${JSON.stringify({ out: o.out, written: r.written, skipped: r.skipped.length, mean_foreground: Number(r.meanForeground.toFixed(4)) })}\n`);
      } finally {
        bar.stop();
      }
    });
}
