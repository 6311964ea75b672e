// SPDX-License-Identifier: MIT
// The `ilsgan` command tree (no side effects: main.ts parses with it, tests walk its options). A usage error is one
// line and a hint naming the command's --help, not the whole help text.
import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { makeCompositeCommand } from './commands/composite.js';
import { makeDatasetCommand } from './commands/dataset.js';
import { makeDemoCommand } from './commands/demo.js';
import { makeEvalCommand } from './commands/eval.js';
import { makeExportCommand } from './commands/export.js';
import { makeFidCommand } from './commands/fid.js';
import { makeGenerateCommand } from './commands/generate.js';
import { makeInfoCommand } from './commands/info.js';
import { makeMiCommand } from './commands/mi.js';
import { makePipelineCommand } from './commands/pipeline.js';
import { makeReportCommand } from './commands/report.js';
import { makeSegTrainCommand } from './commands/segTrain.js';
import { makeSegmentCommand } from './commands/segment.js';
import { makeTrainCommand } from './commands/train.js';

export function makeProgram() {
  const program = new Command('ilsgan')
    .description('unsupervised foreground/background segmentation with layered GANs (ILSGAN)')
    .exitOverride()
    // Handled before parsing (main.ts); declared so that --help lists it. `--version --json` prints one JSON line.
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
    .addCommand(makeExportCommand())
    .addCommand(makeMiCommand())
    .addCommand(makeFidCommand());
  // addCommand() does not pass settings down (unlike .command()): without this, a subcommand's usage error (a bad
  // flag value, a missing required option) would exit 1 on its own instead of reaching main.ts's handler (exit 2).
  const inheritSettings = (c: CommandUnknownOpts, path: string): void => {
    c.showHelpAfterError(`hint: see \`${path} --help\``);
    for (const sub of c.commands) {
      sub.copyInheritedSettings(c);
      inheritSettings(sub, `${path} ${sub.name()}`);
    }
  };
  inheritSettings(program, 'ilsgan');
  return program;
}
