#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The ilsgan command line: a thin shell over the library. User errors print one line and a hint (exit 2);
// bugs print their stack (exit 1). Command modules load libtorch only inside their actions, so `--help`, `--version`'s
// parsing and flag errors stay fast.
import { Command, CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { InputError, TensorError } from '../tensor/errors.js';
import { makeCompositeCommand } from './commands/composite.js';
import { makeDatasetCommand } from './commands/dataset.js';
import { makeDemoCommand } from './commands/demo.js';
import { makeEvalCommand } from './commands/eval.js';
import { makeFidCommand } from './commands/fid.js';
import { makeGenerateCommand } from './commands/generate.js';
import { makeInfoCommand } from './commands/info.js';
import { makeMiCommand } from './commands/mi.js';
import { makePipelineCommand } from './commands/pipeline.js';
import { makeReportCommand } from './commands/report.js';
import { makeSegTrainCommand } from './commands/segTrain.js';
import { makeSegmentCommand } from './commands/segment.js';
import { makeTrainCommand } from './commands/train.js';
import { formatVersionInfo, versionInfo } from './versionInfo.js';

const program = new Command('ilsgan')
  .description('unsupervised foreground/background segmentation with layered GANs (ILSGAN)')
  .showHelpAfterError()
  .exitOverride()
  // Handled before parsing (below); declared so that --help lists it. `--version --json` prints one JSON line.
  .option('-V, --version', 'print the version, libtorch and its route, the device, BLAS and bfloat16 support (--json: one line)')
  .addCommand(makeDemoCommand())
  .addCommand(makePipelineCommand())
  .addCommand(makeInfoCommand())
  .addCommand(makeTrainCommand())
  .addCommand(makeDatasetCommand())
  .addCommand(makeCompositeCommand())
  .addCommand(makeGenerateCommand())
  .addCommand(makeSegTrainCommand())
  .addCommand(makeSegmentCommand())
  .addCommand(makeEvalCommand())
  .addCommand(makeReportCommand())
  .addCommand(makeMiCommand())
  .addCommand(makeFidCommand());
// addCommand() does not pass settings down (unlike .command()): without this, a subcommand's usage error (a bad
// flag value, a missing required option) would exit 1 on its own instead of reaching the handler below (exit 2).
const inheritSettings = (c: CommandUnknownOpts): void => {
  for (const sub of c.commands) {
    sub.copyInheritedSettings(c);
    inheritSettings(sub);
  }
};
inheritSettings(program);

try {
  const first = process.argv[2];
  if (first === '--version' || first === '-V') {
    const v = await versionInfo();
    process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(v)}\n` : `${formatVersionInfo(v)}\n`);
    process.exit(0);
  }
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  if (e instanceof InputError) {
    process.stderr.write(`error: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
    process.exit(2);
  }
  if (e instanceof Error && !(e instanceof TensorError) && e.constructor === Error && !e.stack?.includes('/dist/src/tensor/')) {
    // Plain errors thrown by commands for missing flags and the like.
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
}
