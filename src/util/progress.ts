// SPDX-License-Identifier: MIT
// Progress bars on stderr (cli-progress), shown only when asked for and stderr is a terminal. Start and stop are
// idempotent, and `update` can start the bar itself, since many totals are known only at the first callback. Bars
// draw on the terminal only, not into a run's log.txt (util/runLog.ts).
import cliProgress from 'cli-progress';
import { terminalStream } from './runLog.js';

type Payload = Record<string, unknown>;

export class ProgressBar {
  private readonly bar: cliProgress.SingleBar | null;
  private running = false;

  /** `format` uses cli-progress's tokens ({bar}, {value}, {total}, {eta_formatted}) and payload names. */
  constructor(format: string, show = true, options: Partial<cliProgress.Options> = {}) {
    this.bar =
      show && process.stderr.isTTY
        ? new cliProgress.SingleBar({ format, stream: terminalStream(), ...options }, cliProgress.Presets.shades_classic)
        : null;
  }

  /** Whether a bar is drawn (false: callers log plain lines instead). */
  get shown(): boolean {
    return this.bar !== null;
  }

  /** Starts the bar, or restarts it with a new total and payload. */
  start(total: number, value = 0, payload?: Payload): void {
    if (!this.bar) return;
    if (this.running) this.bar.stop();
    this.bar.start(total, value, payload);
    this.running = true;
  }

  /** Moves the bar to `value`; starts it with `total` first when it is not running. */
  update(value: number, o: { total?: number; payload?: Payload } = {}): void {
    if (!this.bar) return;
    if (!this.running) this.start(o.total ?? value, 0, o.payload);
    this.bar.update(value, o.payload);
  }

  increment(): void {
    if (this.running) this.bar?.increment();
  }

  /** Ends the bar's line (before printing anything else); a later update starts it again. */
  stop(): void {
    if (this.running) this.bar?.stop();
    this.running = false;
  }
}
