// SPDX-License-Identifier: MIT
// `log.txt` in a run folder: everything the command printed to the terminal (stdout and stderr), as plain text.
// The CLI starts capturing when a command starts (held in memory); the run attaches its folder's log.txt once it
// holds the folder's lock (util/runLock.ts), so a process the lock refuses never writes into another run's log.
// Progress bars draw on the terminal only (terminalStream()); the lines they stand for reach the log through
// logOnly(). Appends synchronously, so nothing is lost when the process exits or is killed between writes.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/** The log file's name inside a run folder. */
export const runLogName = 'log.txt';

interface Capture {
  /** Text printed before a log file was attached. */
  pending: string[];
  path: string | null;
  /** stderr's own write, for progress bars (they draw on the terminal only). */
  terminalWrite: (chunk: string, ...rest: unknown[]) => boolean;
  restore: () => void;
}

let capture: Capture | null = null;

// eslint-disable-next-line no-control-regex
const ansi = /\x1b(?:\[[0-?]*[ -/]*[@-~]|[78])/g;

/** Terminal control sequences removed; a carriage return that redraws a line becomes a line break. */
export function plainText(text: string): string {
  return text.replace(ansi, '').replace(/\r(?!\n)/g, '\n');
}

function record(text: string): void {
  if (!capture) return;
  const plain = plainText(text);
  if (!plain) return;
  if (capture.path === null) {
    capture.pending.push(plain);
    return;
  }
  try {
    appendFileSync(capture.path, plain);
  } catch (e) {
    // A full disk must not end the run: say so once (on the terminal) and stop logging.
    const path = capture.path;
    capture.path = null;
    capture.pending = [];
    const c = capture;
    stopCapture();
    c.terminalWrite(`warning: ${path} is no longer written: ${(e as Error).message}\n`);
  }
}

/** Starts teeing stdout and stderr into memory, until attachRunLog names the file (idempotent). */
export function captureOutput(): void {
  if (capture) return;
  const out = process.stdout.write;
  const err = process.stderr.write;
  const tee = (original: typeof out, stream: NodeJS.WriteStream) =>
    function write(this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
      record(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    } as typeof out;
  process.stdout.write = tee(out, process.stdout);
  process.stderr.write = tee(err, process.stderr);
  capture = {
    pending: [],
    path: null,
    terminalWrite: (chunk, ...rest) => (err as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest),
    restore: () => {
      process.stdout.write = out;
      process.stderr.write = err;
    },
  };
}

/** Stops capturing; what was printed stays in the log file. */
export function stopCapture(): void {
  capture?.restore();
  capture = null;
}

/**
 * Sends the captured output (what was printed so far, and all that follows) to `<dir>/log.txt`, appended after a
 * header line naming the command. A no-op when nothing is being captured (library calls) or a log is already
 * attached (the pipeline's log holds its training stage's output too). Returns the path, or null.
 */
export function attachRunLog(dir: string, argv: readonly string[] = process.argv.slice(2)): string | null {
  if (!capture || capture.path !== null) return null;
  const path = join(dir, runLogName);
  const header = `--- ${new Date().toISOString()} ilsgan ${argv.join(' ')} (pid ${process.pid})\n`;
  appendFileSync(path, header + capture.pending.join(''));
  capture.pending = [];
  capture.path = path;
  return path;
}

/** A line for the log file only (the terminal shows it as a progress bar). */
export function logOnly(line: string): void {
  if (capture) record(`${line}\n`);
}

/** The stream progress bars draw on: stderr, bypassing the log while one is captured. */
export function terminalStream(): NodeJS.WriteStream {
  if (!capture) return process.stderr;
  const c = capture;
  return new Proxy(process.stderr, {
    get(target, key) {
      if (key === 'write')
        return (chunk: string, ...rest: unknown[]) =>
          capture === c ? c.terminalWrite(chunk, ...rest) : (target.write as (...a: unknown[]) => boolean)(chunk, ...rest);
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
