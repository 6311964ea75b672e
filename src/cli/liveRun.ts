// SPDX-License-Identifier: MIT
// What the long commands (train, pipeline, demo) add around a run: everything they print teed into the run's
// log.txt (util/runLog.ts), report.html rewritten at every sample grid with a banner and an ETA (report/live.ts),
// and Ctrl-C exiting 130 after saving (util/interrupt.ts), with the page then saying where the run stopped.
import type { ReportData } from '../report/reportData.js';
import { type LiveStatus, markReportStopped } from '../report/live.js';
import { captureOutput } from '../util/runLog.js';
import { type StopSignal, exitOnInterrupt } from '../util/interrupt.js';

export interface LiveRun {
  /**
   * Rewrites the report as `data` with the banner `status` (none: the finished page). Never throws: a failure is
   * one warning, and the run goes on. Returns the milliseconds it took, or null on failure.
   */
  update(data: ReportData, status?: LiveStatus): Promise<number | null>;
  /** A live page says the run stopped, with `text` (no reload any more); false when there was no live page. */
  stopped(text: string): boolean;
  /** Removes the signal handlers (the command's work is done). */
  end(): void;
}

/**
 * Starts capturing the command's output and takes over Ctrl-C. `reportPath` is where the live page goes;
 * `onExit(sig)` is the line printed when a signal ends the command at once (outside the training loop, which
 * saves first), e.g. where the run can be continued from.
 */
export function startLiveRun(reportPath: string, onExit: (sig: StopSignal) => string): LiveRun {
  captureOutput();
  let warned = false;
  let live = false;
  const removeHandlers = exitOnInterrupt((sig) => {
    const line = onExit(sig);
    if (live) markStoppedSync(reportPath, `stopped by ${sig}. ${line}`);
    return line;
  });
  return {
    async update(data, status) {
      const t0 = performance.now();
      try {
        const { writeReport } = await import('../report/index.js');
        await writeReport(reportPath, { ...data, live: status });
        live = status?.state === 'running';
        return performance.now() - t0;
      } catch (e) {
        if (!warned) process.stderr.write(`warning: the live report ${reportPath} was not updated: ${(e as Error).message}\n`);
        warned = true;
        return null;
      }
    },
    stopped(text) {
      if (!live) return false;
      live = false;
      return markStoppedSync(reportPath, text);
    },
    end: removeHandlers,
  };
}

function markStoppedSync(path: string, text: string): boolean {
  try {
    return markReportStopped(path, text);
  } catch {
    return false;
  }
}
