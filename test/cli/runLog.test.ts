// SPDX-License-Identifier: MIT
// log.txt (issue 16, item 1): what a command prints, stdout and stderr, reaches the run's log as plain text, also
// what it printed before the run held its folder; progress bars draw on the terminal only and the lines they stand
// for reach the log through logOnly; a second attach (the pipeline's training stage) keeps the first log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plainText } from '../../src/util/runLog.js';

test('plainText: colours and cursor moves removed, a redraw becomes a line break', () => {
  assert.equal(plainText('\x1b[32mok\x1b[0m\n'), 'ok\n');
  assert.equal(plainText('\x1b7a\x1b8\x1b[2K\rb\r\n'), 'a\nb\r\n');
});

test('captureOutput → attachRunLog: everything printed, before and after, as plain text; bars stay on the terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ilsgan-runlog-'));
  try {
    const run = join(dir, 'run');
    const inner = join(run, 'gan');
    mkdirSync(inner, { recursive: true });
    const url = new URL('../../src/util/runLog.js', import.meta.url).href;
    const script = `
      import * as l from ${JSON.stringify(url)};
      l.captureOutput();
      process.stderr.write('before the lock\\n');
      const path = l.attachRunLog(${JSON.stringify(run)}, ['pipeline', '--out', 'x']);
      process.stdout.write('attached ' + (path !== null) + '\\n');
      process.stdout.write(Buffer.from('\\x1b[1mbold\\x1b[0m bytes\\n'));
      process.stderr.write('warning: stderr too\\n');
      l.terminalStream().write('\\r[=====     ] 50% bar\\n');
      l.logOnly('kimg 1.00 | tick line');
      console.log('second attach', l.attachRunLog(${JSON.stringify(inner)}));
      l.stopCapture();
      process.stdout.write('after the stop\\n');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // The terminal saw everything but the log-only line.
    assert.match(r.stderr, /before the lock\n/);
    assert.match(r.stderr, /50% bar/);
    assert.doesNotMatch(r.stdout + r.stderr, /tick line/);
    const log = readFileSync(join(run, 'log.txt'), 'utf8');
    assert.match(log, /^--- \S+ ilsgan pipeline --out x \(pid \d+\)\nbefore the lock\n/);
    assert.equal(
      log.replace(/^--- .*\n/, ''),
      'before the lock\nattached true\nbold bytes\nwarning: stderr too\nkimg 1.00 | tick line\nsecond attach null\n',
    );
    assert.ok(!existsSync(join(inner, 'log.txt')), 'the first log is kept');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
