// SPDX-License-Identifier: MIT
// The report's footer: which ilsgan wrote it (version, git commit when known), the command line, and when.
import { basename } from 'node:path';
import { gitCommit, packageVersion } from '../util/packageInfo.js';
import { type SafeHtml, html } from './html.js';

/** Quotes one argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A process's command line as the user typed it: the CLI's script shown as `ilsgan`, arguments shell-quoted. */
export function commandLineOf(argv: readonly string[] = process.argv): string {
  const script = argv[1];
  const program = script === undefined ? 'node' : /(^|[\\/])cli[\\/]main\.[cm]?[jt]s$/.test(script) ? 'ilsgan' : basename(script);
  return [program, ...argv.slice(2)].map(shellQuote).join(' ');
}

/** The footer: version, commit (linked to nothing: the page loads nothing), command line and time. */
export function footer(opts: { commandLine?: string; generatedAt?: Date; version?: string; commit?: string | null }): SafeHtml {
  const version = opts.version ?? packageVersion();
  const commit = opts.commit !== undefined ? opts.commit : gitCommit();
  const command = opts.commandLine ?? commandLineOf();
  return html`<footer><p>Written by ilsgan <span id="version">${version}</span>${
    commit ? html`, commit <code id="commit" title="${commit}">${commit.slice(0, 12)}</code>` : ''
  }, on ${(opts.generatedAt ?? new Date()).toISOString()}.</p>
<p>Command: <code id="command-line">${command}</code></p></footer>`;
}
