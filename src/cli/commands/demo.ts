// SPDX-License-Identifier: MIT
// `ilsgan demo` (`npm run demo`): the whole pipeline on the built-in procedural data, offline, with a report.
import { Command } from '@commander-js/extra-typings';
import { printOutcome } from './pipeline.js';

export function makeDemoCommand() {
  return new Command('demo')
    .description('run the whole method on built-in procedural data (about 15 minutes on 2 CPU cores) and write a report')
    .option('--out <dir>', 'output folder (resumable: finished stages are skipped)', 'demo-out')
    .option('--quick', 'a smoke run of the same path, about 10 s (its numbers mean nothing)')
    .option('--no-progress', 'plain log lines instead of progress bars')
    .action(async (o) => {
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { runDemo } = await import('../../pipeline/demo.js');
      const r = await runDemo({ out: o.out, quick: Boolean(o.quick), progress: o.progress && Boolean(process.stderr.isTTY) });
      printOutcome(r);
    });
}
