// SPDX-License-Identifier: MIT
// `ilsgan report --run <dir>`: the run's self-contained HTML report (training facts, sample grids, curves and,
// with --eval/--baselines, the headline and metrics table; with --segmenter, the U-Net's validation curve).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { InputError } from '../../util/errors.js';

export function makeReportCommand() {
  return new Command('report')
    .description('write a self-contained HTML report of a training run (samples, curves, metrics)')
    .requiredOption('--run <dir>', 'run directory written by ilsgan train')
    .option('--eval <json>', 'scores of the model on a test set (the file ilsgan eval --out writes)')
    .option('--baselines <json>', 'scores of the trivial baselines on the same test set')
    .option('--segmenter <dir>', 'the U-Net folder (ilsgan seg-train --out): its validation curve')
    .option('--out <file>', 'where to write the report (default: <run>/report.html)')
    .option('--title <text>', 'page title')
    .action(async (o) => {
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { writeReport } = await import('../../report/index.js');
      if (!existsSync(o.run) || !statSync(o.run).isDirectory()) {
        throw new InputError(`--run ${o.run} is not a directory`, 'ERR_RUN_DIR', 'pass the --out folder of an ilsgan train run');
      }
      const out = o.out ?? join(o.run, 'report.html');
      const summary = await writeReport(out, {
        runDir: o.run,
        evaluation: o.eval,
        baselines: o.baselines,
        segmenter: o.segmenter,
        title: o.title,
      });
      for (const m of summary.missing) process.stderr.write(`not in the report: ${m}\n`);
      process.stdout.write(`${summary.path}\n`);
    });
}
