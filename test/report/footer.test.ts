// SPDX-License-Identifier: MIT
// The report's footer: version, commit when known, and the command line as the user would type it, escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandLineOf, footer, shellQuote } from '../../src/report/footer.js';

test('commandLineOf: the CLI script shows as ilsgan, arguments that need it are shell-quoted', () => {
  assert.equal(
    commandLineOf(['/usr/bin/node', '/opt/ilsgan/dist/src/cli/main.js', 'train', '--data', 'my photos', '--kimg', '20']),
    "ilsgan train --data 'my photos' --kimg 20",
  );
  assert.equal(commandLineOf(['node', 'bench/x.js', "it's"]), "x.js 'it'\\''s'");
  assert.equal(commandLineOf(['node']), 'node');
  assert.equal(shellQuote('--out=runs/a,b'), '--out=runs/a,b');
  assert.equal(shellQuote(''), "''");
});

test('footer: version, short commit with the full one in its title, the command escaped; no commit line when unknown', () => {
  const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  const sha = '0123456789abcdef0123456789abcdef01234567';
  const withCommit = footer({ version: '1.2.3', commit: sha, commandLine: 'ilsgan report --title "<b>"', generatedAt: at }).value;
  assert.match(
    withCommit,
    /Written by ilsgan <span id="version">1\.2\.3<\/span>, commit <code id="commit" title="0123456789abcdef0123456789abcdef01234567">0123456789ab<\/code>, on 2026-01-02T03:04:05\.000Z\./,
  );
  assert.match(withCommit, /<code id="command-line">ilsgan report --title &quot;&lt;b&gt;&quot;<\/code>/);
  const without = footer({ version: '1.2.3', commit: null, commandLine: 'x', generatedAt: at }).value;
  assert.doesNotMatch(without, /commit/);
});
