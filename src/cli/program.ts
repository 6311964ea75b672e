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

/**
 * The commands in the order of the workflow (try it, run it all, make data, train, look, pick, generate, segment,
 * score, reuse, analyse), each with a one-line example for `ilsgan --help`. A command missing here is listed last.
 */
export const workflow: readonly (readonly [command: string, example: string])[] = [
  ['demo', 'ilsgan demo --out demo-out'],
  ['pipeline', 'ilsgan pipeline --data ~/photos/birds --out runs/birds --recipe cpu'],
  ['dataset', 'ilsgan dataset demo --out data/demo --n 4000 --size 64'],
  ['composite', 'ilsgan composite --objects cutouts/ --backgrounds photos/ --out data/comp'],
  ['train', 'ilsgan train --data ~/photos/birds --out runs/birds --kimg 200   # open runs/birds/report.html'],
  ['report', 'ilsgan report --run runs/birds --eval runs/birds/eval.json'],
  ['fid', 'ilsgan fid --run runs/birds --select'],
  ['generate', 'ilsgan generate --run runs/birds --n 10000 --out runs/birds-synthetic'],
  ['seg-train', 'ilsgan seg-train --synthetic runs/birds-synthetic --out runs/birds-unet'],
  ['segment', 'ilsgan segment --model runs/birds-unet photo.jpg cutout.png'],
  ['eval', 'ilsgan eval --model runs/birds-unet --images test/images --masks test/masks'],
  ['export', 'ilsgan export --run runs/birds --out birds-bundle'],
  ['mi', 'ilsgan mi --synthetic runs/birds-synthetic'],
  ['info', 'ilsgan info --config ils64'],
];

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
  // Listed in workflow order, whatever the order above; the examples follow the list.
  const rank = (name: string) => {
    const i = workflow.findIndex(([c]) => c === name);
    return i < 0 ? workflow.length : i;
  };
  (program.commands as CommandUnknownOpts[]).sort((a, b) => rank(a.name()) - rank(b.name()));
  const listed = workflow.filter(([c]) => program.commands.some((sub) => sub.name() === c));
  const width = Math.max(...listed.map(([c]) => c.length));
  program.addHelpText(
    'after',
    [
      '',
      'Workflow, in order, with an example of each (`ilsgan <command> --help` for its flags):',
      ...listed.map(([c, example]) => `  ${c.padEnd(width)}  ${example}`),
      '',
      'train, pipeline and demo write log.txt and a report.html that follows the run (reload it); Ctrl-C saves and exits 130.',
    ].join('\n'),
  );
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
