// SPDX-License-Identifier: MIT
// The HTML report end to end: built from a fake run directory, eval JSON and test images, then opened in headless
// Chromium (Debian's, driven by playwright-core) with the network blocked: charts drawn, images decoded, the
// metrics table right, no console errors, no request but the page itself. Also the report of an empty run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { renderReport, writeReport } from '../../src/report/index.js';
import { trainingCharts } from '../../src/report/sections.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
const skipBrowser = !hasChromium && !process.env.CI ? `${chromiumPath} is missing (apt-get install chromium); skipping the browser test` : false;

/** A w×h RGB PNG (or JPEG) whose pixels come from f(x, y) → [r, g, b]. */
function rgbImage(w: number, h: number, f: (x: number, y: number) => [number, number, number], format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(f(x, y), (y * w + x) * 3);
  const s = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  return format === 'png' ? s.png().toBuffer() : s.jpeg().toBuffer();
}

/** A w×h greyscale mask PNG: 255 inside the ellipse centred at (cx, cy) with radii (rx, ry). */
function ellipseMask(w: number, h: number, cx: number, cy: number, rx: number, ry: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw[y * w + x] = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1 ? 255 : 0;
  return sharp(raw, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
}

const ours = { DRC_IoU: 0.73126, DRC_DICE: 0.8123, IoU: 0.69991, mIoU: 0.8, pACC: 0.91234, DRC_IoU_best: 0.75, DRC_DICE_best: 0.83, IoU_best: 0.71, mIoU_best: 0.81, pACC_best: null, images: 3 };
const baselines = {
  all_foreground: { DRC_IoU: 0.31, DRC_DICE: 0.45, IoU: 0.3, mIoU: null, pACC: 0.3 },
  centred_ellipse: { DRC_IoU: 0.6712, DRC_DICE: 0.78, IoU: 0.66, mIoU: 0.7, pACC: 0.82 },
};
const expectedTable: Record<string, string[]> = {
  ours: ['0.7313', '0.8123', '0.6999', '0.8000', '0.9123'],
  ours_best: ['0.7500', '0.8300', '0.7100', '0.8100', 'n/a'],
  all_foreground: ['0.3100', '0.4500', '0.3000', 'n/a', '0.3000'],
  centred_ellipse: ['0.6712', '0.7800', '0.6600', '0.7000', '0.8200'],
};
const title = 'Demo <script>alert("x")</script> & run';

/** A fake run directory (config, 20 ticks of metrics, two sample grids), eval JSONs and three test images. */
async function fakeRun(dir: string) {
  const run = join(dir, 'run');
  mkdirSync(run);
  writeFileSync(join(run, 'config.json'), JSON.stringify({ configName: 'tiny32', net: { resolution: 32 }, options: { batch: 16, ils: true, ilsDistribution: 'laplace', ilsSchedule: 'allTime' }, data: 'demo', device: 'cpu' }));
  const lines = Array.from({ length: 20 }, (_, i) => {
    const kimg = (i + 1) * 0.5;
    return JSON.stringify({
      kimg, iteration: (i + 1) * 32, seconds: (i + 1) * 12.5, img_per_s: 40 + (i % 3), ada_p: i * 0.01, ils_sigma: 1,
      'Loss/G/adv': 1 + Math.sin(i), 'Loss/G/total': 2, 'Loss/D/fake': 0.6, 'Loss/D/real': 0.5 + i / 40, 'Loss/G/ils': 0.3 - i / 100, 'Mask/mean': 0.2 + i / 50,
    });
  });
  writeFileSync(join(run, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  // Grids as the loop lays them out: 5 rows × 4 columns of 32² cells with 2-px gaps.
  const grid = (shift: number) => rgbImage(4 * 34 + 2, 5 * 34 + 2, (x, y) => [(x * 2 + shift) & 255, (y * 3) & 255, ((x ^ y) * 4) & 255]);
  writeFileSync(join(run, 'samples-init.png'), await grid(0));
  writeFileSync(join(run, 'samples-000010.000kimg.png'), await grid(90));
  const evalPath = join(dir, 'eval.json');
  writeFileSync(evalPath, `${JSON.stringify({ pred: '/x', masks: '/y', ...ours })}\n`);
  const baselinePath = join(dir, 'baselines.json');
  writeFileSync(baselinePath, JSON.stringify(baselines));
  const photo = (x: number, y: number): [number, number, number] => [x * 4, y * 4, 128];
  writeFileSync(join(dir, 'a.png'), await rgbImage(48, 40, photo));
  writeFileSync(join(dir, 'a-pred.png'), await ellipseMask(48, 40, 24, 20, 14, 10));
  writeFileSync(join(dir, 'a-true.png'), await ellipseMask(48, 40, 26, 20, 12, 11));
  const testImages = [
    { name: 'a <one>', image: join(dir, 'a.png'), pred: join(dir, 'a-pred.png'), truth: join(dir, 'a-true.png') },
    { name: 'b (buffers)', image: await rgbImage(40, 40, photo, 'jpeg'), pred: await ellipseMask(20, 20, 10, 10, 6, 6), truth: await ellipseMask(40, 40, 20, 20, 10, 10) },
    { name: 'c (no mask)', image: join(dir, 'a.png'), pred: join(dir, 'a-pred.png') },
  ];
  return { run, evalPath, baselinePath, testImages };
}

test('report of a run opens in Chromium with no network: 5 charts drawn, images decoded, metrics right', { skip: skipBrowser, timeout: 60_000 }, async () => {
  if (!hasChromium) throw new Error(`CI is set but ${chromiumPath} is missing: install it with apt-get install chromium`);
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'ilsgan-report-'));
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    const f = await fakeRun(dir);
    const out = join(dir, 'out', 'report.html');
    const summary = await writeReport(out, {
      title, runDir: f.run, route: 'trained from scratch', evaluation: f.evalPath, baselines: f.baselinePath, testImages: f.testImages,
      stages: [{ name: 'train', seconds: 250 }, { name: 'segment', seconds: null }], testSetNote: 'procedural test images at 32²',
    });
    assert.deepEqual(summary.missing, []);
    const url = pathToFileURL(out).href;

    const context = await browser.newContext({ offline: true });
    const requests: string[] = [];
    const blocked: string[] = [];
    await context.route('**/*', (route) => {
      if (route.request().url() === url) return route.continue();
      blocked.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(url, { waitUntil: 'load' });

    assert.equal(await page.title(), title);
    assert.equal(await page.locator('h1').textContent(), title);
    assert.equal(await page.locator('script').count(), 0);

    // Charts: one per trainingCharts entry, each with drawn series (non-zero length on the page) and the right legend.
    const charts = await page.locator('svg.chart').evaluateAll((svgs) =>
      svgs.map((svg) => ({
        title: svg.querySelector('.chart-title')?.textContent,
        series: [...svg.querySelectorAll('path.series')].map((p) => ({
          label: p.getAttribute('data-label'),
          points: Number(p.getAttribute('data-points')),
          length: (p as unknown as { getTotalLength(): number }).getTotalLength(),
        })),
        noData: svg.querySelector('.no-data') !== null,
      })),
    );
    assert.equal(charts.length, trainingCharts.length);
    charts.forEach((c, i) => {
      assert.equal(c.title, trainingCharts[i]!.title);
      assert.equal(c.noData, false, `${c.title} says no data`);
      assert.deepEqual(c.series.map((s) => s.label), trainingCharts[i]!.keys.map(([, label]) => label));
      for (const s of c.series) {
        assert.equal(s.points, 20, `${c.title} / ${s.label}`);
        assert.ok(s.length > 10, `${c.title} / ${s.label}: drawn length ${s.length}`);
      }
    });

    // Images: 2 sample grids + 3 test rows of photo, prediction, overlay + 2 true masks; all decoded.
    const images = await page.locator('img').evaluateAll((imgs) =>
      imgs.map((i) => {
        const img = i as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number; src: string; alt: string };
        return { ok: img.complete && img.naturalWidth > 0 && img.naturalHeight > 0, isData: img.src.startsWith('data:image/'), alt: img.alt };
      }),
    );
    assert.equal(images.length, 13);
    for (const i of images) {
      assert.ok(i.ok, `${i.alt} not decoded`);
      assert.ok(i.isData, `${i.alt} not embedded`);
    }
    assert.equal(await page.locator('.row-labels').first().locator('span').count(), 5);
    assert.equal(await page.locator('figure.samples figcaption').allTextContents().then((t) => t.join('|')), 'before training|after 10 kimg');

    // Metrics table: the rows and their formatted numbers, n/a for null.
    const table = await page.locator('#metrics-table tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.getAttribute('data-row'), [...tr.querySelectorAll('td')].map((td) => td.textContent)] as const),
    );
    assert.deepEqual(Object.fromEntries(table), expectedTable);
    assert.match((await page.locator('#metrics').textContent()) ?? '', /procedural test images at 32²; 3 test images/);

    // Run facts.
    const facts = Object.fromEntries(
      await page.locator('table.facts tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent, tr.querySelector('td')?.textContent] as const)),
    );
    assert.equal(facts.route, 'trained from scratch');
    assert.equal(facts.config, 'tiny32 (32², batch 16)');
    assert.equal(facts['kimg trained'], '10');
    assert.equal(facts['training time'], '4 min 10 s');
    assert.equal(facts['time: train'], '4 min 10 s');
    assert.equal(facts['time: segment'], 'n/a');
    assert.equal(facts.ILS, 'on (laplace, schedule allTime)');
    assert.equal(await page.locator('table.photos tbody tr').first().locator('th').textContent(), 'a <one>');

    assert.deepEqual(problems, []);
    assert.deepEqual(blocked, []);
    assert.deepEqual(requests.filter((r) => r !== url && !r.startsWith('data:')), []);
    await context.close();
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report with nothing yet: every chart says no data, metrics are n/a, missing pieces listed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ilsgan-report-'));
  try {
    const { html, missing } = await renderReport({ runDir: join(dir, 'not-yet'), evaluation: join(dir, 'eval.json') });
    assert.equal((html.match(/<svg class="chart"/g) ?? []).length, trainingCharts.length);
    assert.equal((html.match(/>no data<\/text>/g) ?? []).length, trainingCharts.length);
    assert.equal((html.match(/<td data-metric="[^"]+">n\/a<\/td>/g) ?? []).length, 15);
    assert.match(html, /No sample grids yet\./);
    assert.match(html, /No test photos given\./);
    assert.deepEqual(missing.map((m) => m.split(':')[0]), ['run config', 'sample grids', 'training curves', 'evaluation', 'baselines', 'test photos']);
    assert.match(html, /eval\.json does not exist/);
    assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'no external references');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report: baselines inside the eval JSON are used; an unreadable test photo is a row that says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ilsgan-report-'));
  try {
    const evalPath = join(dir, 'eval.json');
    writeFileSync(evalPath, JSON.stringify({ ...ours, baselines }));
    const testImages = [{ name: 'gone', image: join(dir, 'gone.png'), pred: join(dir, 'gone-pred.png') }];
    const { html, missing } = await renderReport({ evaluation: evalPath, testImages });
    for (const [row, values] of Object.entries(expectedTable)) {
      const cells = values.map((v, i) => `<td data-metric="${['DRC_IoU', 'DRC_DICE', 'IoU', 'mIoU', 'pACC'][i]}">${v}</td>`).join('');
      assert.ok(html.includes(`<tr data-row="${row}">`) && html.includes(cells), `row ${row}`);
    }
    assert.ok(!missing.some((m) => m.startsWith('baselines')), missing.join('\n'));
    assert.match(html, /<th scope="row">gone<\/th><td colspan="4" class="none">could not read: /);
    assert.ok(missing.some((m) => m.startsWith('test photo gone: ')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
