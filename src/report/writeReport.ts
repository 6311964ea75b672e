// SPDX-License-Identifier: MIT
// The run's report: one self-contained HTML file (images as data URIs, charts as inline SVG, one inline script
// allowed by its hash, and a Content-Security-Policy that forbids the page from loading anything at all). It
// answers "did it work?" first, then shows how the run got there.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { html, trusted } from './html.js';
import { liveBanner, liveHead } from './live.js';
import type { ReportData, ReportSummary } from './reportData.js';
import { readMetricsLog } from '../run/metrics.js';
import { loadScores, metricsTable, runFacts, sampleGrids, trainingCurves } from './sections.js';
import { footer } from './footer.js';
import { pageScript, pageScriptHash } from './pageScript.js';
import { headline, loadPhotos, perImageSection, photosSection, segmenterCurve } from './results.js';

const defaultIntro =
  'ilsgan learns to split photos of one kind of object into foreground and background without any masks. ' +
  'A layered GAN (ILSGAN: Zou et al., AAAI 2023) is trained to generate a background, a foreground and an ' +
  'alpha mask that composite into realistic images; a U-Net trained on its synthetic (image, mask) pairs then ' +
  'segments real test photos. This page shows the training run, what the generator produces, and how well the ' +
  'segmenter does against two baselines that learn nothing.';

const style = trusted(`
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6474; --line: #d8dce3; --hit: rgb(0,158,115);
  --fp: rgb(213,94,0); --fn: rgb(0,114,178); }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: #fafbfc; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 40px; overflow-wrap: anywhere; }
h1 { margin: 0 0 8px; font-size: 26px; }
h2 { margin: 32px 0 12px; font-size: 19px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
p.intro { max-width: 80ch; }
.note, .none, footer { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; background: #fff; }
th, td { padding: 4px 10px; border: 1px solid var(--line); text-align: left; vertical-align: middle; }
table.facts th { font-weight: 600; white-space: nowrap; }
table.metrics td { text-align: right; font-variant-numeric: tabular-nums; font-family: ui-monospace, monospace; }
table.metrics tr[data-row="ours"] { background: #eef6f2; }
pre { background: #fff; border: 1px solid var(--line); padding: 8px; overflow: auto; max-height: 320px; font-size: 12px; }
figure.samples { margin: 0 0 18px; max-width: 100%; }
figure.samples[hidden] { display: none; }
p.slider { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
p.slider input { width: min(420px, 100%); }
p.slider output { font-weight: 600; min-width: 12ch; }
.scroll { max-width: 100%; overflow-x: auto; }
h3 { font-size: 16px; margin: 18px 0 8px; }
section.headline { margin: 12px 0 20px; padding: 12px 16px; background: #fff; border: 1px solid var(--line); }
p.verdict { font-size: 17px; margin: 0 0 10px; }
.bar-row { display: grid; grid-template-columns: minmax(8em, 14em) 1fr 5em; gap: 10px; align-items: center; margin: 4px 0; }
.bar { height: 14px; background: #eceef2; display: block; }
.bar .fill { display: block; height: 100%; background: #9aa3b1; }
.bar-row[data-row="ours"] .fill { background: var(--hit); }
.bar-value { font-family: ui-monospace, monospace; text-align: right; }
.strip { display: flex; flex-wrap: wrap; gap: 14px; }
figure.cutout { margin: 0; display: grid; grid-template-columns: auto auto; gap: 4px; }
figure.cutout figcaption { grid-column: 1 / 3; font-weight: 400; font-size: 13px; color: var(--muted); }
img.checker { background: repeating-conic-gradient(#d8dce3 0% 25%, #fff 0% 50%) 0 0 / 16px 16px; }
td.num { text-align: right; font-family: ui-monospace, monospace; }
svg.chart { max-width: 100%; height: auto; }
svg.chart .guide { stroke: var(--muted); stroke-dasharray: 3 3; }
svg.chart .readout { fill: var(--ink); font-size: 12px; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
footer code { overflow-wrap: anywhere; }
figcaption { font-weight: 600; margin-bottom: 4px; }
.grid-with-labels { display: flex; gap: 8px; }
.row-labels { display: flex; flex-direction: column; justify-content: space-around; text-align: right;
  font-size: 12px; color: var(--muted); }
img.grid, img.thumb { image-rendering: pixelated; display: block; }
img.grid { max-width: 100%; height: auto; }
img.thumb { width: min(128px, 14vw); height: auto; outline: 1px solid var(--line); }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg.chart { background: #fff; border: 1px solid var(--line); font-size: 11px; }
svg.chart .chart-title { font-size: 13px; font-weight: 600; fill: var(--ink); }
svg.chart .frame { stroke: #9aa3b1; }
svg.chart .grid { stroke: #eceef2; }
svg.chart .tick { stroke: #9aa3b1; }
svg.chart .tick-label, svg.chart .legend, svg.chart .axis-label { fill: var(--muted); }
svg.chart .no-data { fill: var(--muted); font-size: 14px; }
.key { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; }
.key.hit { background: var(--hit); } .key.fp { background: var(--fp); } .key.fn { background: var(--fn); }
ul.missing { color: var(--muted); font-size: 13px; }
p.live { padding: 8px 12px; border: 1px solid var(--line); border-left-width: 6px; background: #fff; max-width: 80ch; }
p.live.running { border-left-color: rgb(0,114,178); } p.live.stopped { border-left-color: rgb(213,94,0); }
`);

/** Renders the report as one HTML document (see ReportData; every piece is optional). */
export async function renderReport(data: ReportData): Promise<{ html: string; missing: string[] }> {
  const missing: string[] = [];
  const metrics = data.runDir ? readMetricsLog(data.runDir) : [];
  const title = data.title ?? 'ilsgan report';
  const scores = loadScores(data, missing);
  const photos = await loadPhotos(data, missing);
  // "Did it work?" first; then the layers across training, the curves, the segmenter, the test set, the run.
  const top = headline(scores, photos, data);
  const body = [
    await sampleGrids(data, missing),
    trainingCurves(metrics, missing),
    segmenterCurve(data, missing),
    metricsTable(data, scores),
    perImageSection(data, photos, missing),
    photosSection(data, photos, missing),
    runFacts(data, metrics, missing),
  ];
  const doc = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src ${pageScriptHash}">
${liveHead(data.live)}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${style}</style></head>
<body><main>
<h1>${title}</h1>
${liveBanner(data.live, data.generatedAt)}
${top}
<p class="intro">${data.intro ?? defaultIntro}</p>
${body}
${missing.length > 0 && html`<h2>Not available</h2><ul class="missing">${missing.map((m) => html`<li>${m}</li>`)}</ul>`}
${footer({ commandLine: data.commandLine, generatedAt: data.generatedAt })}
</main><script>${trusted(pageScript)}</script></body></html>
`;
  return { html: doc.value, missing };
}

/**
 * Writes the report to `path` (atomically; parent folders are created).
 * @example await writeReport('runs/demo/report.html', { runDir: 'runs/demo', evaluation: 'runs/demo/eval.json' });
 */
export async function writeReport(path: string, data: ReportData): Promise<ReportSummary> {
  const { html: text, missing } = await renderReport(data);
  const bytes = new TextEncoder().encode(text);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, bytes);
  return { path, bytes: bytes.byteLength, missing };
}
