// SPDX-License-Identifier: MIT
// `ilsgan report`: writes <run>/report.html from a run directory, an eval JSON and a U-Net folder, lists what is
// missing on stderr, and exits 2 with a hint when --run is not a directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/childProcess.js';

const cli = join(repoRoot, 'dist/src/cli/main.js');
const ilsgan = (args: string[]) => spawnSync(process.execPath, [cli, 'report', ...args], { encoding: 'utf8', timeout: 60_000 });

test('ilsgan report --run --eval writes the run report; a missing run directory is a user error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ilsgan-report-cli-'));
  try {
    const rows = [1, 2, 3].map((k) =>
      JSON.stringify({
        kimg: k,
        seconds: k * 10,
        img_per_s: 50,
        ada_p: 0,
        'Loss/G/adv': 1 / k,
        'Loss/D/fake': 0.5,
        'Loss/D/real': 0.4,
        'Loss/G/ils': 0.1,
        'Mask/mean': 0.3,
      }),
    );
    writeFileSync(join(dir, 'metrics.jsonl'), `${rows.join('\n')}\n`);
    writeFileSync(join(dir, 'eval.json'), JSON.stringify({ DRC_IoU: 0.5, DRC_DICE: 0.6, IoU: 0.55, mIoU: 0.7, pACC: 0.8, images: 4 }));
    mkdirSync(join(dir, 'unet'));
    writeFileSync(
      join(dir, 'unet', 'model.json'),
      JSON.stringify({
        bestIteration: 20,
        bestValIoU: 0.6,
        history: [10, 20].map((iteration) => ({ iteration, valIoU: iteration / 33, loss: 0.5 })),
      }),
    );
    const r = ilsgan(['--run', dir, '--eval', join(dir, 'eval.json'), '--segmenter', join(dir, 'unet'), '--title', 'cli run']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), join(dir, 'report.html'));
    assert.match(r.stderr, /not in the report: baselines: not given/);
    const page = readFileSync(join(dir, 'report.html'), 'utf8');
    assert.match(page, /<title>cli run<\/title>/);
    // 7 training curves and the U-Net's validation IoU and loss.
    assert.equal((page.match(/<path class="series"/g) ?? []).length, 9);
    assert.match(page, /Best validation IoU 0\.6000 at iteration 20/);
    // The footer names the command as typed (the CLI as `ilsgan`).
    assert.ok(
      page.includes(
        `<code id="command-line">ilsgan report --run ${dir} --eval ${join(dir, 'eval.json')} --segmenter ${join(dir, 'unet')} --title &#39;cli run&#39;</code>`,
      ),
      'command line (escaped) in the footer',
    );
    assert.match(page, /<tr data-row="ours"><th scope="row">ours<\/th><td data-metric="DRC_IoU">0\.5000<\/td>/);

    const bad = ilsgan(['--run', join(dir, 'nope')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /error: --run .*nope is not a directory\nhint: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
