#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The ilsgan command line: a thin shell over the library. User errors (flags that commander refuses, and the
// InputError of util/errors.ts that code throws where input is wrong) print one line and a hint (exit 2); anything
// else is a bug and prints its stack (exit 1). Command modules load libtorch only inside their actions, so `--help`, `--version`'s
// parsing and flag errors stay fast.
import { CommanderError } from '@commander-js/extra-typings';
import { InputError } from '../util/errors.js';
import { makeProgram } from './program.js';
import { formatVersionInfo, versionInfo } from './versionInfo.js';
import { exitCodeFor, receivedSignal } from '../util/interrupt.js';

const program = makeProgram();

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
    // Stopped by Ctrl-C after saving (the pipeline's training stage): exit as an interrupted command does.
    process.exit(e.code === 'ERR_INTERRUPTED' ? exitCodeFor(receivedSignal() ?? 'SIGINT') : 2);
  }
  // Anything else is a bug (ours, or a library's we did not turn into an InputError): its stack, for the report.
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
}
