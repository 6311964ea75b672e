// SPDX-License-Identifier: MIT
// `ilsgan export`: an inference bundle (G_ema and the U-Net as safetensors, their configs and a model card) from a
// training run or a pipeline output.
import { Command } from '@commander-js/extra-typings';

export function makeExportCommand() {
  return new Command('export')
    .description('write an inference bundle: G_ema and the U-Net as safetensors, their JSON configs and a model card (README.md)')
    .requiredOption('--run <dir>', 'the --out folder of ilsgan train or ilsgan pipeline')
    .option('--out <dir>', 'bundle folder (default: <run>/export)')
    .option('--checkpoint <name>', "checkpoint (ckpt-000004560); default: the pipeline's selected one, else the latest")
    .option('--json', 'stdout: only the result as one JSON line (as by default)')
    .addHelpText(
      'after',
      '\nExample:\n  ilsgan export --run runs/birds --out birds-bundle\n  ilsgan segment --model birds-bundle/segmenter photo.jpg cutout.png',
    )
    .action(async (o) => {
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { exportBundle } = await import('../../pipeline/exportBundle.js');
      const r = exportBundle({ run: o.run, out: o.out, checkpoint: o.checkpoint });
      process.stdout.write(
        `${JSON.stringify({ out: r.out, checkpoint: r.checkpoint, kimg: r.kimg, segmenter: r.segmenter, files: r.files })}\n`,
      );
      if (!o.json) process.stderr.write(`bundle: ${r.out} (model card: ${r.out}/README.md)\n`);
    });
}
