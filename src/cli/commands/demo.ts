// SPDX-License-Identifier: MIT
// `ilsgan demo` (`npm run demo`): the whole pipeline on the built-in procedural data, offline, with a report.
import { Command } from '@commander-js/extra-typings';
import { getRecipe, recipes } from '../../pipeline/recipes.js';
import { InputError } from '../../util/errors.js';
import { choice } from '../parse.js';
import { pipelineLive, printOutcome } from './pipeline.js';

export function makeDemoCommand() {
  return new Command('demo')
    .description('run the whole method on built-in procedural data (about 8 minutes on 2 CPU cores) and write a report')
    .option('--out <dir>', 'output folder (resumable: finished stages are skipped)', 'demo-out')
    .option('--quick', 'a smoke run of the same path, about 10 s (its numbers mean nothing)')
    .option(
      '--recipe <name>',
      `run a measured recipe (${Object.keys(recipes).join(', ')}) on the procedural data instead`,
      choice(Object.keys(recipes)),
    )
    .option('--no-progress', 'plain log lines instead of progress bars')
    .option('--json', 'stdout: only the result as one JSON line (progress and logs go to stderr and log.txt)')
    .action(async (o) => {
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { runDemo } = await import('../../pipeline/demo.js');
      if (o.recipe && o.quick) throw new InputError('--quick and --recipe do not go together', 'ERR_ARG', 'see `ilsgan demo --help`');
      const live = pipelineLive(o.out, 'demo');
      const r = await live.run(() =>
        runDemo({
          out: o.out,
          quick: Boolean(o.quick),
          recipe: o.recipe ? getRecipe(o.recipe) : undefined,
          progress: o.progress && Boolean(process.stderr.isTTY),
          live: live.hooks,
        }),
      );
      printOutcome(r, Boolean(o.json));
    });
}
