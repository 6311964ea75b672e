// SPDX-License-Identifier: MIT
// The sections of the HTML report, each a function from ReportData (and what was read from the run) to markup.
// A section with nothing to show says so instead of disappearing, and records why in `missing`.
import { basename } from 'node:path';
import type { NetworkConfig } from '../models/config.js';
import type { TrainOptions } from '../run/trainOptions.js';
import { formatMetric, formatSeconds, formatValue, isFiniteNumber } from './format.js';
import { type SafeHtml, html } from './html.js';
import { imageDataUri } from './images.js';
import { lineChart } from './lineChart.js';
import type { Scores } from './results.js';
import { type BaselineValues, type MetricValues, type ReportData, metricNames } from './reportData.js';
import { listSampleGrids, runPaths } from '../run/layout.js';
import type { MetricsRow } from '../run/metrics.js';
import { pickSampleGrids, readJsonFile } from './runFiles.js';

/** Rows of a sample grid, top to bottom, as src/train/samples.ts (layerRows) draws them. */
export const sampleRowLabels = ['composite', 'background', 'foreground', 'mask', 'masked foreground'] as const;

/** A training-curve chart: title, y-axis label, and the metrics.jsonl keys it draws with their legend labels. */
export interface CurveChart {
  title: string;
  yLabel: string;
  keys: readonly (readonly [key: string, label: string])[];
}

/** The training-curve charts, in page order. */
export const trainingCharts: readonly CurveChart[] = [
  {
    title: 'Adversarial losses',
    yLabel: 'loss',
    keys: [
      ['Loss/G/adv', 'G'],
      ['Loss/D/fake', 'D fake'],
      ['Loss/D/real', 'D real'],
    ],
  },
  { title: 'ILS term (G)', yLabel: 'loss', keys: [['Loss/G/ils', 'ILS']] },
  {
    title: 'Mask mean',
    yLabel: 'fraction',
    keys: [
      ['Mask/mean', 'mean alpha'],
      ['min_mask', 'minimum (size hinge)'],
    ],
  },
  { title: 'ADA augmentation p', yLabel: 'p', keys: [['ada_p', 'p']] },
  { title: 'Throughput', yLabel: 'images/s', keys: [['img_per_s', 'images/s']] },
];

/** config.json as src/train/loop.ts writes it; any field may be missing from an older or hand-written file. */
interface RunConfig {
  configName?: string;
  net?: Partial<NetworkConfig>;
  options?: Partial<TrainOptions>;
  data?: string;
  device?: string;
}

function asObject(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** The run table: route, config (from config.json), progress (from metrics.jsonl), stage times, extra facts. */
export function runFacts(data: ReportData, metrics: readonly MetricsRow[], missing: string[]): SafeHtml {
  const rows: [string, string][] = [];
  if (data.route) rows.push(['route', data.route]);
  let config: RunConfig | null = null;
  if (data.runDir) {
    rows.push(['run directory', data.runDir]);
    const file = readJsonFile(runPaths(data.runDir).config);
    if (file.ok) config = asObject(file.value);
    else missing.push(`run config: ${file.reason}`);
  }
  if (config) {
    const net = asObject(config.net) ?? {};
    const o: Partial<TrainOptions> = asObject(config.options) ?? {};
    rows.push(['config', `${formatValue(config.configName)} (${formatValue(net.resolution)}², batch ${formatValue(o.batch)})`]);
    rows.push(['training data', formatValue(config.data)]);
    rows.push(['device', formatValue(config.device)]);
    if (o.ils !== undefined) {
      rows.push(['ILS', o.ils ? `on (${formatValue(o.ilsDistribution)}, schedule ${formatValue(o.ilsSchedule)})` : 'off']);
    }
  }
  const last = metrics[metrics.length - 1];
  if (last) {
    rows.push(['kimg trained', formatValue(last.kimg)]);
    rows.push(['training time', formatSeconds(last.seconds)]);
  }
  for (const s of data.stages ?? []) rows.push([`time: ${s.name}`, formatSeconds(s.seconds)]);
  for (const f of data.facts ?? []) rows.push([f.label, formatValue(f.value)]);
  const table = rows.length
    ? html`<table class="facts">${rows.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</table>`
    : html`<p class="none">No run facts given.</p>`;
  const full = config && html`<details><summary>Full configuration</summary><pre>${JSON.stringify(config, null, 2)}</pre></details>`;
  return html`<section id="run"><h2>Run</h2>${table}${full}</section>`;
}

/** An object given directly, or read from the JSON file a string names; null (and a note) when unavailable. */
function loadObject(src: unknown, what: string, missing: string[]): Record<string, unknown> | null {
  if (src === undefined) {
    missing.push(`${what}: not given`);
    return null;
  }
  if (typeof src !== 'string') return asObject(src);
  const file = readJsonFile(src);
  if (!file.ok) missing.push(`${what}: ${file.reason}`);
  return file.ok ? asObject(file.value) : null;
}

/** The model's scores and the baselines' (from the eval JSON when it embeds them), loaded once for the page. */
export function loadScores(data: ReportData, missing: string[]): Scores {
  const evaluation = loadObject(data.evaluation, 'evaluation', missing);
  const embedded = data.baselines === undefined ? asObject(evaluation?.baselines) : null;
  const baselines = (embedded ?? loadObject(data.baselines, 'baselines', missing)) as BaselineValues | null;
  return { ours: evaluation as MetricValues | null, baselines };
}

/** The metrics table: ours (as predicted, and best of fg/bg when given) against the two trivial baselines. */
export function metricsTable(data: ReportData, { ours, baselines }: Scores): SafeHtml {
  const plain = (v: MetricValues | null | undefined) => metricNames.map((m) => v?.[m]);
  const rows: [id: string, label: string, values: unknown[]][] = [['ours', 'ours', plain(ours)]];
  if (ours && metricNames.some((m) => isFiniteNumber(ours[`${m}_best`]))) {
    rows.push(['ours_best', 'ours, best of fg/bg', metricNames.map((m) => ours[`${m}_best`])]);
  }
  rows.push(['all_foreground', 'baseline: all foreground', plain(baselines?.all_foreground)]);
  rows.push(['centred_ellipse', 'baseline: centred ellipse', plain(baselines?.centred_ellipse)]);

  const head = metricNames.map((m) => html`<th scope="col">${m}</th>`);
  const body = rows.map(
    ([id, label, values]) =>
      html`<tr data-row="${id}"><th scope="row">${label}</th>${values.map(
        (v, i) => html`<td data-metric="${metricNames[i]}">${formatMetric(v)}</td>`,
      )}</tr>`,
  );
  const images = ours?.images;
  const note = [data.testSetNote, isFiniteNumber(images) ? `${images} test images` : null].filter(Boolean).join('; ');
  return html`<section id="metrics"><h2>Segmentation metrics</h2>
<table class="metrics" id="metrics-table"><thead><tr><th scope="col">method</th>${head}</tr></thead><tbody>${body}</tbody></table>
${note && html`<p class="note">${note}.</p>`}
<p class="note">Higher is better in every column; a model near the baselines has learned little. "Best of fg/bg" scores
each image's prediction or its inverse, whichever overlaps the true mask more.</p></section>`;
}

/** Sample grids across training, one at a time under a snapshot slider (the last one shown first). */
export async function sampleGrids(data: ReportData, missing: string[]): Promise<SafeHtml> {
  const grids = data.runDir ? pickSampleGrids(listSampleGrids(data.runDir), data.maxSampleGrids ?? 12) : [];
  if (!grids.length) missing.push('sample grids: none in the run directory');
  const labels = sampleRowLabels.map((l) => html`<span>${l}</span>`);
  const figures: SafeHtml[] = [];
  for (const [i, g] of grids.entries()) {
    const caption = g.kimg === null ? 'before training' : `after ${formatValue(g.kimg)} kimg`;
    const src = await imageDataUri(g.path);
    // Without the page's script every grid but the last stays hidden: the page still shows the latest one.
    figures.push(html`<figure class="samples" data-index="${i}"${i < grids.length - 1 && html` hidden`}><figcaption>${caption}</figcaption>
<div class="grid-with-labels"><div class="row-labels">${labels}</div>
<img class="grid" src="${src}" alt="sample grid ${caption} (${basename(g.path)})"></div></figure>`);
  }
  const last = grids.length - 1;
  const slider =
    grids.length > 1 &&
    html`<p class="slider"><label for="snapshot">Snapshot</label>
<input type="range" id="snapshot" min="0" max="${last}" step="1" value="${last}" hidden>
<output id="snapshot-label" for="snapshot"></output> <span class="note">(${grids.length} snapshots; drag or use the arrow keys)</span></p>`;
  return html`<section id="samples"><h2>Generated layers</h2>
<p>Each column is one latent, fixed across snapshots; the rows are the layered generator's outputs (masked foreground
is drawn over white).</p>
${slider}
${figures.length ? figures : html`<p class="none">No sample grids yet.</p>`}</section>`;
}

/** Training curves from metrics.jsonl, one small chart per group of terms, against kimg. */
export function trainingCurves(metrics: readonly MetricsRow[], missing: string[]): SafeHtml {
  if (!metrics.length) missing.push('training curves: no metrics.jsonl rows');
  const charts = trainingCharts.map((chart) => {
    const series = chart.keys.map(([key, label]) => ({
      label,
      points: metrics.map((r) => [r.kimg ?? Number.NaN, r[key] ?? null] as const),
    }));
    return lineChart(series, { title: chart.title, xLabel: 'kimg', yLabel: chart.yLabel });
  });
  return html`<section id="curves"><h2>Training curves</h2><div class="charts">${charts}</div></section>`;
}
