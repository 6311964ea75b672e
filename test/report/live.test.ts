// SPDX-License-Identifier: MIT
// The live report (issue 16, item 1): a running page reloads itself and says how far the run is and its ETA; a
// stopped one says why and no longer reloads; a finished one has neither. And what rewriting it costs per sample
// grid, on a run with a long metrics log and many grids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { markReportStopped, renderReport, trainingProgress, writeReport } from '../../src/report/index.js';

const refresh = /<meta http-equiv="refresh" content="(\d+)">/;

test('a running page reloads itself and shows progress and ETA; text is escaped', async () => {
  const now = new Date(2026, 0, 1, 14, 0, 0);
  const { html } = await renderReport({
    generatedAt: now,
    live: { state: 'running', text: `training <b>x</b>, ${trainingProgress(12.5, 20)}.`, etaSeconds: 300, refreshSeconds: 20 },
  });
  assert.equal(refresh.exec(html)?.[1], '20');
  const banner = /<p class="live running"[^>]*>(.*?)<\/p>/s.exec(html)?.[1] ?? '';
  assert.match(
    banner,
    /^<strong>In progress:<\/strong> training &lt;b&gt;x&lt;\/b&gt;, 12\.5 of 20 kimg \(62 %\)\. About 5 min 00 s left \(around 14:05\)\. Updated at 14:00; this page reloads itself every 20 s/,
  );
  // Before the first step the ETA is unknown: no "left" sentence.
  const early = await renderReport({ live: { state: 'running', text: 'starting.', etaSeconds: null } });
  assert.doesNotMatch(early.html, /left \(around/);
  assert.equal(refresh.exec(early.html)?.[1], '30', 'default reload interval');
});

test('a finished page has no banner and no reload; markReportStopped leaves it alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ilsgan-live-'));
  try {
    const path = join(dir, 'report.html');
    await writeReport(path, { title: 'done' });
    const before = readFileSync(path, 'utf8');
    assert.doesNotMatch(before, refresh);
    assert.doesNotMatch(before, /class="live/);
    assert.equal(markReportStopped(path, 'x'), false);
    assert.equal(readFileSync(path, 'utf8'), before);
    assert.equal(markReportStopped(join(dir, 'absent.html'), 'x'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('markReportStopped turns a running page into a stopped one in place (no reload, the reason shown)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ilsgan-live-'));
  try {
    const path = join(dir, 'report.html');
    await writeReport(path, { title: 'run', live: { state: 'running', text: 'training.', etaSeconds: 60 } });
    const running = readFileSync(path, 'utf8');
    assert.match(running, refresh);
    assert.equal(markReportStopped(path, 'stopped by SIGINT; continue with: ilsgan train --resume r & co'), true);
    const stopped = readFileSync(path, 'utf8');
    assert.doesNotMatch(stopped, refresh);
    assert.doesNotMatch(stopped, /In progress/);
    assert.match(
      stopped,
      /<p class="live stopped"[^>]*><strong>Stopped:<\/strong> stopped by SIGINT; continue with: ilsgan train --resume r &amp; co<\/p>/,
    );
    // Everything else is as it was.
    const strip = (s: string) => s.replace(/<!--live-head-->.*?<!--\/live-head-->/s, '').replace(/<!--live-->.*?<!--\/live-->/s, '');
    assert.equal(strip(stopped), strip(running));
    assert.equal(markReportStopped(path, 'again'), false, 'a stopped page is not live any more');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cost of one live rewrite: a run with 2000 metric ticks and 40 sample grids', async (t) => {
  const run = mkdtempSync(join(tmpdir(), 'ilsgan-live-cost-'));
  try {
    writeFileSync(
      join(run, 'config.json'),
      JSON.stringify({ configName: 'ils64', net: { resolution: 64 }, options: { batch: 32 }, data: 'x', device: 'cpu' }),
    );
    const tick = (i: number) =>
      JSON.stringify({
        kimg: i * 4,
        iteration: i * 125,
        seconds: i * 60,
        img_per_s: 70,
        ada_p: 0.1,
        'Loss/G/adv': 1,
        'Loss/D/fake': 0.5,
        'Loss/D/real': 0.5,
        'Loss/G/ils': 0.2,
        'Mask/mean': 0.3,
      });
    writeFileSync(join(run, 'metrics.jsonl'), `${Array.from({ length: 2000 }, (_, i) => tick(i + 1)).join('\n')}\n`);
    // A 64² grid as the loop writes it: 8 columns × 5 rows with 2-px gaps, noisy (so PNG does not shrink it).
    const w = 8 * 66,
      h = 5 * 66;
    const raw = Buffer.alloc(w * h * 3);
    let seed = 1;
    for (let i = 0; i < raw.length; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      raw[i] = seed >>> 24;
    }
    const png = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer();
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'samples-init.png'), png);
    for (let k = 1; k <= 40; k++) writeFileSync(join(run, `samples-${(k * 200).toFixed(3).padStart(9, '0')}kimg.png`), png);
    const path = join(run, 'report.html');
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await writeReport(path, {
        runDir: run,
        live: { state: 'running', text: `training, ${trainingProgress((8000 * (i + 1)) / 6, 8000)}.`, etaSeconds: 3600 },
      });
      times.push(performance.now() - t0);
    }
    const median = [...times].sort((a, b) => a - b)[2]!;
    const bytes = readFileSync(path).byteLength;
    t.diagnostic(
      `live report rewrite: median ${median.toFixed(0)} ms over 5, ${(bytes / 1e6).toFixed(2)} MB (grid PNG ${(png.byteLength / 1e3).toFixed(0)} kB)`,
    );
    assert.match(readFileSync(path, 'utf8'), /In progress/);
    // Once per sample grid (minutes apart on any real run): well under a second even on a loaded 2-core machine.
    assert.ok(median < 2000, `a live rewrite took ${median.toFixed(0)} ms`);
  } finally {
    rmSync(run, { recursive: true, force: true });
  }
});

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
const skipBrowser =
  !hasChromium && !process.env.CI ? `${chromiumPath} is missing (apt-get install chromium); skipping the browser test` : false;

/** Polls `f` (the page reloads under it; a read that meets the reload is retried) until it holds, for 10 s at most. */
async function until(f: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await f().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

test(
  "in Chromium, with the page's CSP and no network: a live page reloads itself and follows the run; a stopped one does not",
  { skip: skipBrowser, timeout: 60_000 },
  async () => {
    if (!hasChromium) throw new Error(`CI is set but ${chromiumPath} is missing: install it with apt-get install chromium`);
    const { chromium } = await import('playwright-core');
    const dir = mkdtempSync(join(tmpdir(), 'ilsgan-live-browser-'));
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      const path = join(dir, 'report.html');
      const page0 = (kimg: number) => ({
        title: 'run',
        live: { state: 'running' as const, text: `training, ${trainingProgress(kimg, 20)}.`, etaSeconds: 60, refreshSeconds: 1 },
      });
      await writeReport(path, page0(1));
      const context = await browser.newContext({ offline: true });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(pathToFileURL(path).href);
      assert.match(await page.locator('p.live').innerText(), /^In progress: training, 1 of 20 kimg \(5 %\)\./);
      // The run writes a new grid: the open page shows it after its next reload, with no action from the user.
      await writeReport(path, page0(2));
      await until(async () => (await page.locator('p.live').innerText()).includes('2 of 20 kimg'));
      // Stopped: the page says so and stays as it is.
      markReportStopped(path, 'stopped by SIGINT.');
      await until(async () => (await page.locator('p.live').getAttribute('data-state')) === 'stopped');
      let navigations = 0;
      page.on('framenavigated', () => navigations++);
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(navigations, 0, 'no reload after the stop');
      assert.deepEqual(errors, [], 'no console errors (the CSP allows the meta refresh)');
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "in Chromium: the snapshot chosen on the slider stays chosen across the live page's reloads",
  { skip: skipBrowser, timeout: 60_000 },
  async () => {
    if (!hasChromium) throw new Error(`CI is set but ${chromiumPath} is missing: install it with apt-get install chromium`);
    const { chromium } = await import('playwright-core');
    const dir = mkdtempSync(join(tmpdir(), 'ilsgan-live-slider-'));
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      const grid = (v: number) =>
        sharp({ create: { width: 40, height: 30, channels: 3, background: { r: v, g: 0, b: 0 } } })
          .png()
          .toBuffer();
      writeFileSync(join(dir, 'samples-init.png'), await grid(0));
      writeFileSync(join(dir, 'samples-000001.000kimg.png'), await grid(100));
      const path = join(dir, 'report.html');
      const live = (kimg: number) => ({
        runDir: dir,
        live: { state: 'running' as const, text: `training, ${trainingProgress(kimg, 20)}.`, refreshSeconds: 1 },
      });
      await writeReport(path, live(1));
      const context = await browser.newContext({ offline: true });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(pathToFileURL(path).href);
      assert.equal(await page.locator('#snapshot-label').textContent(), 'after 1 kimg');
      await page.locator('#snapshot').fill('0');
      // The run writes another grid; after the reload the user's choice is still shown, the new grid is on the slider.
      writeFileSync(join(dir, 'samples-000002.000kimg.png'), await grid(200));
      await writeReport(path, live(2));
      await until(async () => (await page.locator('p.live').innerText()).includes('2 of 20 kimg'));
      assert.equal(await page.locator('#snapshot').getAttribute('max'), '2');
      assert.equal(await page.locator('#snapshot').inputValue(), '0');
      assert.deepEqual(await page.locator('figure.samples:visible figcaption').allTextContents(), ['before training']);
      // Back at the last snapshot, a reload follows the newest grid.
      await page.locator('#snapshot').fill('2');
      writeFileSync(join(dir, 'samples-000003.000kimg.png'), await grid(250));
      await writeReport(path, live(3));
      await until(async () => (await page.locator('p.live').innerText()).includes('3 of 20 kimg'));
      assert.equal(await page.locator('#snapshot-label').textContent(), 'after 3 kimg');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
