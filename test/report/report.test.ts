// SPDX-License-Identifier: MIT
// The HTML report end to end: built from a fake run directory, eval JSON and test images, then opened in headless
// Chromium (Debian's, driven by playwright-core) with the network blocked: the headline first, charts drawn with
// hover read-outs, the snapshot slider, images decoded, the metrics table and per-image ranking right, the layout
// at 800 px without horizontal overflow, no console errors (the CSP admits the page's one script by its hash), no
// request but the page itself. Also the report of an empty run and of a run without test masks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { renderReport, worstAndBestOf, writeReport } from '../../src/report/index.js';
import { trainingCharts } from '../../src/report/sections.js';
import { gitCommit } from '../../src/util/packageInfo.js';

// Browser globals used inside page.evaluate callbacks (the tests compile without the DOM library).
interface PageElement {
  tagName: string;
  id: string;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { top: number; right: number };
  closest(selector: string): PageElement | null;
}
declare const window: { scrollTo(x: number, y: number): void };
declare const document: {
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelectorAll(selector: string): Iterable<PageElement>;
  getElementById(id: string): PageElement | null;
};

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
const skipBrowser =
  !hasChromium && !process.env.CI ? `${chromiumPath} is missing (apt-get install chromium); skipping the browser test` : false;

/** A w×h RGB PNG (or JPEG) whose pixels come from f(x, y) → [r, g, b]. */
function rgbImage(
  w: number,
  h: number,
  f: (x: number, y: number) => [number, number, number],
  format: 'png' | 'jpeg' = 'png',
): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(f(x, y), (y * w + x) * 3);
  const s = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  return format === 'png' ? s.png().toBuffer() : s.jpeg().toBuffer();
}

/** IoU of two ellipses rasterised on the same w×h grid, as ellipseMask draws them. */
function ellipseIoU(w: number, h: number, a: [number, number, number, number], b: [number, number, number, number]): number {
  const inside = ([cx, cy, rx, ry]: number[], x: number, y: number) => ((x - cx!) / rx!) ** 2 + ((y - cy!) / ry!) ** 2 <= 1;
  let inter = 0;
  let union = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [p, q] = [inside(a, x, y), inside(b, x, y)];
      if (p && q) inter++;
      if (p || q) union++;
    }
  }
  return inter / union;
}

/** A w×h greyscale mask PNG: 255 inside the ellipse centred at (cx, cy) with radii (rx, ry). */
function ellipseMask(w: number, h: number, cx: number, cy: number, rx: number, ry: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw[y * w + x] = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1 ? 255 : 0;
  return sharp(raw, { raw: { width: w, height: h, channels: 1 } })
    .png()
    .toBuffer();
}

const ours = {
  DRC_IoU: 0.73126,
  DRC_DICE: 0.8123,
  IoU: 0.69991,
  mIoU: 0.8,
  pACC: 0.91234,
  DRC_IoU_best: 0.75,
  DRC_DICE_best: 0.83,
  IoU_best: 0.71,
  mIoU_best: 0.81,
  pACC_best: null,
  images: 3,
};
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
  writeFileSync(
    join(run, 'config.json'),
    JSON.stringify({
      configName: 'tiny32',
      net: { resolution: 32 },
      options: { batch: 16, ils: true, ilsDistribution: 'laplace', ilsSchedule: 'allTime' },
      data: 'demo',
      device: 'cpu',
    }),
  );
  const lines = Array.from({ length: 20 }, (_, i) => {
    const kimg = (i + 1) * 0.5;
    return JSON.stringify({
      kimg,
      iteration: (i + 1) * 32,
      seconds: (i + 1) * 12.5,
      img_per_s: 40 + (i % 3),
      ada_p: i * 0.01,
      ils_sigma: 1,
      min_mask: Math.max(0.15, 0.25 - i / 100),
      'Loss/G/adv': 1 + Math.sin(i),
      'Loss/G/total': 2,
      'Loss/D/fake': 0.6,
      'Loss/D/real': 0.5 + i / 40,
      'Loss/G/ils': 0.3 - i / 100,
      'Mask/mean': 0.2 + i / 50,
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
    // b's IoU as an evaluation reports it: the page shows that one, not its own measurement.
    {
      name: 'b (buffers)',
      image: await rgbImage(40, 40, photo, 'jpeg'),
      pred: await ellipseMask(20, 20, 10, 10, 6, 6),
      truth: await ellipseMask(40, 40, 20, 20, 10, 10),
      iou: 0.25,
    },
    { name: 'c (no mask)', image: join(dir, 'a.png'), pred: join(dir, 'a-pred.png') },
  ];
  const segmenter = join(dir, 'unet');
  mkdirSync(segmenter);
  writeFileSync(
    join(segmenter, 'model.json'),
    JSON.stringify({
      bestIteration: 300,
      bestValIoU: 0.81,
      history: [100, 200, 300, 400].map((iteration, i) => ({ iteration, valIoU: [0.5, 0.7, 0.81, 0.8][i], loss: 0.6 - i / 10 })),
    }),
  );
  return { run, evalPath, baselinePath, testImages, segmenter };
}

test(
  'report of a run opens in Chromium with no network: headline first, slider, hover read-outs, ranking, 800 px layout',
  { skip: skipBrowser, timeout: 90_000 },
  async () => {
    if (!hasChromium) throw new Error(`CI is set but ${chromiumPath} is missing: install it with apt-get install chromium`);
    const { chromium } = await import('playwright-core');
    const dir = mkdtempSync(join(tmpdir(), 'ilsgan-report-'));
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      const f = await fakeRun(dir);
      const out = join(dir, 'out', 'report.html');
      const summary = await writeReport(out, {
        title,
        runDir: f.run,
        route: 'trained from scratch',
        evaluation: f.evalPath,
        baselines: f.baselinePath,
        testImages: f.testImages,
        stages: [
          { name: 'train', seconds: 250 },
          { name: 'segment', seconds: null },
        ],
        testSetNote: 'procedural test images at 32²',
        segmenter: f.segmenter,
        commandLine: "ilsgan pipeline --data 'my photos' --out r",
      });
      assert.deepEqual(summary.missing, []);
      const url = pathToFileURL(out).href;

      const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 } });
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
      assert.equal(await page.locator('script').count(), 1);

      // The headline comes first (right under the title) and compares DRC_IoU with both baselines.
      const firstSection = await page.locator('main > section').first().getAttribute('id');
      assert.equal(firstSection, 'headline');
      assert.equal(await page.locator('#headline').getAttribute('data-verdict'), 'better');
      assert.match(
        await page.locator('#headline .verdict').innerText(),
        /^It worked: better than both baselines \(\+0\.4213 against the all foreground, \+0\.0601 against the centred ellipse\)\.$/,
      );
      const bars = await page
        .locator('#headline .bar-row')
        .evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-row'), r.querySelector('.bar-value')?.textContent]));
      assert.deepEqual(bars, [
        ['ours', '0.7313'],
        ['all_foreground', '0.3100'],
        ['centred_ellipse', '0.6712'],
      ]);

      // Charts: the training curves, then the U-Net's validation curve and loss, then per-image IoU.
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
      assert.deepEqual(
        charts.map((c) => c.title),
        [...trainingCharts.map((c) => c.title), 'U-Net validation IoU', 'U-Net training loss', 'IoU of each test image, worst to best'],
      );
      charts.forEach((c, i) => {
        assert.equal(c.noData, false, `${c.title} says no data`);
        if (i < trainingCharts.length)
          assert.deepEqual(
            c.series.map((s) => s.label),
            trainingCharts[i]!.keys.map(([, label]) => label),
          );
        const expected = i < trainingCharts.length ? 20 : i < trainingCharts.length + 2 ? 4 : 2;
        for (const s of c.series) {
          assert.equal(s.points, expected, `${c.title} / ${s.label}`);
          assert.ok(s.length > 10, `${c.title} / ${s.label}: drawn length ${s.length}`);
        }
      });
      assert.match(await page.locator('#segmenter').innerText(), /Best validation IoU 0\.8100 at iteration 300/);

      // Hover read-out: the pointer over kimg 5 of the first chart reads out that tick's three values.
      /** Moves the pointer to data x `x` (at mid-height) of chart `index` and returns the read-out's lines. */
      const hover = async (index: number, x: number) => {
        const chart = page.locator('svg.chart').nth(index);
        await chart.scrollIntoViewIfNeeded();
        const at = await chart.evaluate((svg, x) => {
          const d = JSON.parse(svg.getAttribute('data-hover')!);
          const r = svg.getBoundingClientRect();
          const scale = r.width / (svg as unknown as { viewBox: { baseVal: { width: number } } }).viewBox.baseVal.width;
          const vx = d.box[0] + ((x - d.x[0]) / (d.x[1] - d.x[0])) * d.box[2];
          return { x: r.left + vx * scale, y: r.top + (d.box[1] + d.box[3] / 2) * scale };
        }, x);
        await page.mouse.move(at.x, at.y);
        return {
          visible: (await chart.locator('g.hover').getAttribute('visibility')) === 'visible',
          lines: await chart.locator('text.readout tspan').allTextContents(),
        };
      };
      const adv = await hover(0, 5.1);
      assert.ok(adv.visible, 'read-out shown');
      const f4 = (v: number) => String(Number(v.toPrecision(4)));
      assert.deepEqual(adv.lines, ['kimg 5', `G: ${f4(1 + Math.sin(9))}`, 'D fake: 0.6', `D real: ${f4(0.5 + 9 / 40)}`]);
      // Per-image IoU: the read-out names the image.
      const ranked = await hover(charts.length - 1, 1);
      assert.deepEqual(ranked.lines, ['rank 1', 'IoU: 0.25 (b (buffers))']);
      await page.mouse.move(1, 1);
      assert.equal(await page.locator('svg.chart').nth(0).locator('g.hover').getAttribute('visibility'), 'hidden');

      // Snapshot slider: the last grid shows first; moving the slider shows the chosen snapshot and only it.
      const visibleGrids = () => page.locator('figure.samples:visible figcaption').allTextContents();
      assert.deepEqual(await visibleGrids(), ['after 10 kimg']);
      assert.equal(await page.locator('#snapshot-label').textContent(), 'after 10 kimg');
      const lastSrc = await page.locator('figure.samples:visible img').getAttribute('src');
      await page.locator('#snapshot').fill('0');
      assert.deepEqual(await visibleGrids(), ['before training']);
      assert.equal(await page.locator('#snapshot-label').textContent(), 'before training');
      assert.notEqual(await page.locator('figure.samples:visible img').getAttribute('src'), lastSrc);
      await page.locator('#snapshot').focus();
      await page.keyboard.press('ArrowRight');
      assert.deepEqual(await visibleGrids(), ['after 10 kimg']);

      // Images: 2 sample grids; ranked rows of photo, prediction, truth, overlay (a and b); c's photo, prediction,
      // cut-out and overlay. All decoded and embedded.
      const images = await page.locator('img').evaluateAll((imgs) =>
        imgs.map((i) => {
          const img = i as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number; src: string; alt: string };
          return {
            ok: img.complete && img.naturalWidth > 0 && img.naturalHeight > 0,
            isData: img.src.startsWith('data:image/'),
            alt: img.alt,
          };
        }),
      );
      assert.equal(images.length, 14);
      for (const i of images) {
        assert.ok(i.ok, `${i.alt} not decoded`);
        assert.ok(i.isData, `${i.alt} not embedded`);
      }
      assert.equal(await page.locator('.row-labels').first().locator('span').count(), 5);

      // Per-image ranking: b (0.25, as given) is the worst, a (measured on its masks) the best.
      const iouA = ellipseIoU(48, 40, [24, 20, 14, 10], [26, 20, 12, 11]);
      const rankedRows = async (id: string) =>
        page
          .locator(`#${id} tbody tr`)
          .evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent, tr.querySelector('td.num')?.textContent]));
      assert.deepEqual(await rankedRows('worst'), [['b (buffers)', '0.2500']]);
      assert.deepEqual(await rankedRows('best'), [['a <one>', iouA.toFixed(4)]]);
      assert.match(await page.locator('#per-image .note').first().innerText(), /^2 test images \(measured on the thumbnails\): median IoU/);
      assert.deepEqual(await page.locator('#cutouts tbody th').allTextContents(), ['c (no mask)']);

      // Metrics table: the rows and their formatted numbers, n/a for null.
      const table = await page
        .locator('#metrics-table tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [tr.getAttribute('data-row'), [...tr.querySelectorAll('td')].map((td) => td.textContent)] as const),
        );
      assert.deepEqual(Object.fromEntries(table), expectedTable);
      assert.match((await page.locator('#metrics').textContent()) ?? '', /procedural test images at 32²; 3 test images/);

      // Run facts.
      const facts = Object.fromEntries(
        await page
          .locator('table.facts tr')
          .evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent, tr.querySelector('td')?.textContent] as const)),
      );
      assert.equal(facts.route, 'trained from scratch');
      assert.equal(facts.config, 'tiny32 (32², batch 16)');
      assert.equal(facts['kimg trained'], '10');
      assert.equal(facts['training time'], '4 min 10 s');
      assert.equal(facts['time: train'], '4 min 10 s');
      assert.equal(facts['time: segment'], 'n/a');
      assert.equal(facts.ILS, 'on (laplace, schedule allTime)');

      // Footer: version, the command line as given (escaped, not run), and the commit of this checkout if any.
      const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as { version: string };
      assert.equal(await page.locator('footer #version').textContent(), pkg.version);
      assert.equal(await page.locator('footer #command-line').textContent(), "ilsgan pipeline --data 'my photos' --out r");
      const commit = gitCommit();
      if (commit) assert.equal(await page.locator('footer #commit').getAttribute('title'), commit);

      // A screenshot-sized window 800 px wide: nothing wider than the window, the headline on the first screen.
      await page.setViewportSize({ width: 800, height: 600 });
      await page.evaluate(() => window.scrollTo(0, 0));
      const layout = await page.evaluate(() => {
        const wide = [...document.querySelectorAll('main *')]
          .filter((e) => !e.closest('.scroll') && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
          .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${e.getAttribute('class') ?? ''}`);
        return {
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
          wide,
          headlineTop: document.getElementById('headline')!.getBoundingClientRect().top,
        };
      });
      assert.deepEqual(layout.wide, [], 'elements wider than the window');
      assert.ok(layout.scrollWidth <= layout.clientWidth, `horizontal overflow at 800 px: ${layout.scrollWidth} > ${layout.clientWidth}`);
      assert.ok(layout.headlineTop < 300, `headline at ${layout.headlineTop} px`);
      const shot = await page.screenshot({ fullPage: true });
      const meta = await sharp(shot).metadata();
      assert.equal(meta.width, 800);

      assert.deepEqual(problems, []);
      assert.deepEqual(blocked, []);
      assert.deepEqual(
        requests.filter((r) => r !== url && !r.startsWith('data:')),
        [],
      );
      await context.close();
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('report with nothing yet: every chart says no data, metrics are n/a, missing pieces listed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ilsgan-report-'));
  try {
    const { html, missing } = await renderReport({ runDir: join(dir, 'not-yet'), evaluation: join(dir, 'eval.json') });
    assert.equal((html.match(/<svg class="chart"/g) ?? []).length, trainingCharts.length);
    assert.equal((html.match(/>no data<\/text>/g) ?? []).length, trainingCharts.length);
    assert.equal((html.match(/<td data-metric="[^"]+">n\/a<\/td>/g) ?? []).length, 15);
    assert.match(html, /No sample grids yet\./);
    assert.match(html, /No test photos given\./);
    assert.deepEqual(
      missing.map((m) => m.split(':')[0]),
      ['evaluation', 'baselines', 'sample grids', 'training curves', 'U-Net validation', 'per-image IoU', 'test photos', 'run config'],
    );
    assert.match(
      html,
      /<section id="headline" class="headline" data-verdict="none"><p class="verdict">No result yet: no evaluation and no photos were given\.<\/p>/,
    );
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

test('headline: "not yet" when a baseline does as well; without test masks, the photos with their cut-outs lead', async () => {
  const weak = await renderReport({ evaluation: { DRC_IoU: 0.5 }, baselines });
  assert.match(weak.html, /<section id="headline" class="headline" data-verdict="not-better">/);
  assert.match(
    weak.html,
    /<strong>Not yet:<\/strong> no better than centred ellipse\s+\(\+0\.1900 against the all foreground, −0\.1712 against the centred ellipse\)/,
  );
  const alone = await renderReport({ evaluation: { DRC_IoU: 0.5 } });
  assert.match(alone.html, /No baseline scores: nothing to compare DRC_IoU 0\.5000 with\./);

  const photo = await rgbImage(30, 20, (x, y) => [x * 8, y * 12, 90]);
  const pred = await ellipseMask(30, 20, 15, 10, 8, 6);
  const held = Array.from({ length: 10 }, (_, i) => ({ name: `held ${i}`, image: photo, pred }));
  const { html, missing } = await renderReport({ testImages: held, live: { state: 'running', text: 'training.' } });
  assert.match(html, /data-verdict="photos"/);
  const headlineHtml = /<section id="headline".*?<\/section>/s.exec(html)![0];
  // At most 8 in the strip, each the photo and its cut-out.
  assert.equal((headlineHtml.match(/<figure class="cutout">/g) ?? []).length, 8);
  assert.equal((headlineHtml.match(/alt="held \d: cut-out"/g) ?? []).length, 8);
  // The headline comes before every other section.
  assert.ok(html.indexOf('id="headline"') < html.indexOf('<section id="samples"'));
  // All ten in the cut-outs table; no per-image IoU without masks.
  assert.equal((/<table class="photos" id="cutouts">.*?<\/table>/s.exec(html)![0].match(/<tr><th scope="row">/g) ?? []).length, 10);
  assert.ok(missing.includes('per-image IoU: no test photo with a true mask'));
});

test("per-image IoU: the evaluation's scores rank the photos (given per photo or by name), worst and best 8 of many", async () => {
  const photo = await rgbImage(16, 16, (x, y) => [x * 16, y * 16, 0]);
  const mask = await ellipseMask(16, 16, 8, 8, 5, 5);
  const testImages = Array.from({ length: 20 }, (_, i) => ({
    name: `t${String(i).padStart(2, '0')}`,
    image: photo,
    pred: mask,
    truth: mask,
  }));
  // Scores by name, shuffled against the photo order; identical masks would measure 1 on the thumbnails.
  const perImage = testImages.map((t, i) => ({ name: t.name, iou: ((i * 7) % 20) / 20 })).reverse();
  const { html } = await renderReport({ testImages, perImage, thumbnailPx: 16 });
  const names = (id: string) => {
    const table = new RegExp(`<table class="photos ranked" id="${id}">.*?</table>`, 's').exec(html)?.[0] ?? '';
    return [...table.matchAll(/<tr><th scope="row">(t\d\d)<\/th><td class="num">([\d.]+)<\/td>/g)].map((m) => `${m[1]}=${m[2]}`);
  };
  const expected = perImage
    .slice()
    .sort((p, q) => p.iou - q.iou)
    .map((p) => `${p.name}=${p.iou.toFixed(4)}`);
  assert.deepEqual(names('worst'), expected.slice(0, 8));
  assert.deepEqual(names('best'), expected.slice(-8).reverse());
  assert.match(html, /20 test images: median IoU 0\.4750; 10 below 0\.5\./);
});

test('worstAndBestOf: lower half is the worst when few; null IoU sorts as perfect; ties by name; no repeats', () => {
  const items = [
    ['d', 0.5],
    ['a', 0.5],
    ['b', null],
    ['c', 0.1],
    ['e', 0.9],
  ] as const;
  const pick = (count: number) => {
    const r = worstAndBestOf(
      items,
      (t) => t[1],
      (t) => t[0],
      count,
    );
    return [r.worst.map((t) => t[0]).join(''), r.best.map((t) => t[0]).join('')];
  };
  assert.deepEqual(pick(8), ['cad', 'be']);
  assert.deepEqual(pick(2), ['ca', 'be']);
  assert.deepEqual(pick(1), ['c', 'b']);
  assert.deepEqual(
    worstAndBestOf(
      [],
      () => 0,
      () => '',
      8,
    ),
    { worst: [], best: [] },
  );
});
