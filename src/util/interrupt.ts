// SPDX-License-Identifier: MIT
// Ctrl-C (and kill) for long commands: the process exits 128 + the signal's number (130 for SIGINT, 143 for SIGTERM)
// after saving. Code that stops cleanly by itself (the training loop saves a checkpoint after the current
// iteration) registers while it runs, and the command exits once it has returned; anywhere else the command exits
// at once, since an unfinished pipeline stage is not recorded and is redone by the next run. A second signal always
// exits at once. Run locks are released on exit (util/runLock.ts).

const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof signals)[number];

const numbers: Record<StopSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** The exit status after a signal: 128 + its number, as shells report it. */
export function exitCodeFor(sig: StopSignal): number {
  return 128 + numbers[sig];
}

let cleanStoppers = 0;
let received: StopSignal | null = null;

/** Marks a clean stop as in charge of signals (the training loop); call the returned function when it has ended. */
export function beginCleanStop(): () => void {
  cleanStoppers++;
  let ended = false;
  return () => {
    if (!ended) cleanStoppers--;
    ended = true;
  };
}

/** The first stop signal this process received since exitOnInterrupt, or null. */
export function receivedSignal(): StopSignal | null {
  return received;
}

/**
 * Installs the CLI's handlers for SIGINT, SIGTERM and SIGHUP. `explain(sig)` is the line printed when the command
 * exits at once (what was kept and how to continue). Returns a function that removes the handlers.
 */
export function exitOnInterrupt(explain: (sig: StopSignal) => string): () => void {
  let count = 0;
  const handler = (sig: StopSignal) => {
    count++;
    received ??= sig;
    if (cleanStoppers > 0 && count === 1) return; // the loop saves and returns; the command then exits with exitCodeFor
    process.stderr.write(`\n${sig}: ${count > 1 ? 'stopped without waiting for the checkpoint' : explain(sig)}\n`);
    process.exit(exitCodeFor(sig));
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.removeListener(s, handler);
  };
}
