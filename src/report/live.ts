// SPDX-License-Identifier: MIT
// The live report: while `train` or `pipeline` runs, report.html is rewritten at every sample grid with a banner
// saying the run is in progress (what it does, how far, the ETA) and a meta refresh, so a browser left open on it
// follows the run. When the run stops early (Ctrl-C, an error) the banner is replaced in place, without a
// re-render: markReportStopped edits the marked regions synchronously, so it also works on the way out.
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { formatSeconds } from './format.js';
import { type SafeHtml, html, trusted } from './html.js';

/** The state the page shows above everything else; absent for a finished run (no banner, no refresh). */
export interface LiveStatus {
  /** running: refreshed and reloaded; stopped: the run ended before it finished (no reload). */
  state: 'running' | 'stopped';
  /** One sentence: what the run does or why it stopped, and how to continue. */
  text: string;
  /** Seconds to the end of what `text` describes; null or absent when unknown. */
  etaSeconds?: number | null;
  /** Seconds between reloads of a running page (default 30). */
  refreshSeconds?: number;
}

/** Markers around the parts of the page that change with the run's state. */
const headStart = '<!--live-head-->';
const headEnd = '<!--/live-head-->';
const bannerStart = '<!--live-->';
const bannerEnd = '<!--/live-->';

/** A time of day as HH:MM in local time. */
function clock(d: Date): string {
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** The sentence for a training run at a sample grid: "training: 12.3 of 20 kimg (62 %)". */
export function trainingProgress(kimg: number, targetKimg: number): string {
  const pct = targetKimg > 0 ? Math.min(100, Math.floor((100 * kimg) / targetKimg)) : 0;
  return `${Number(kimg.toFixed(3))} of ${Number(targetKimg.toFixed(3))} kimg (${pct} %)`;
}

/** The `<head>` part: a meta refresh while running. */
export function liveHead(s: LiveStatus | undefined): SafeHtml {
  const refresh =
    s?.state === 'running' ? html`<meta http-equiv="refresh" content="${Math.max(1, Math.round(s.refreshSeconds ?? 30))}">` : '';
  return html`${trusted(headStart)}${refresh}${trusted(headEnd)}`;
}

/** The banner at the top of the page. */
export function liveBanner(s: LiveStatus | undefined, now: Date = new Date()): SafeHtml {
  if (!s) return html`${trusted(bannerStart)}${trusted(bannerEnd)}`;
  const eta = s.etaSeconds;
  const etaText =
    eta !== null && eta !== undefined && Number.isFinite(eta)
      ? ` About ${formatSeconds(eta)} left (around ${clock(new Date(now.getTime() + eta * 1000))}).`
      : '';
  const reload =
    s.state === 'running'
      ? ` Updated at ${clock(now)}; this page reloads itself every ${Math.max(1, Math.round(s.refreshSeconds ?? 30))} s (or press reload).`
      : '';
  const label = s.state === 'running' ? 'In progress' : 'Stopped';
  return html`${trusted(bannerStart)}<p class="live ${s.state}" role="status" data-state="${s.state}"><strong>${label}:</strong> ${s.text}${etaText}${reload}</p>${trusted(bannerEnd)}`;
}

/**
 * Turns a live page into a stopped one in place: no reload, and the banner says `text`. Synchronous and cheap (a
 * read, two replacements and an atomic write), for exit paths. Returns false when there is no live page at `path`.
 */
export function markReportStopped(path: string, text: string): boolean {
  if (!existsSync(path)) return false;
  let page: string;
  try {
    page = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  const head = page.indexOf(headStart);
  const headClose = page.indexOf(headEnd);
  const banner = page.indexOf(bannerStart);
  const bannerClose = page.indexOf(bannerEnd);
  if (head < 0 || headClose < head || banner < 0 || bannerClose < banner) return false;
  if (!page.slice(head, headClose).includes('http-equiv="refresh"')) return false; // not live: a finished report stays
  const stopped = liveBanner({ state: 'stopped', text }).value;
  const out =
    page.slice(0, head) +
    liveHead(undefined).value +
    page.slice(headClose + headEnd.length, banner) +
    stopped +
    page.slice(bannerClose + bannerEnd.length);
  writeFileAtomic(path, Buffer.from(out));
  return true;
}
