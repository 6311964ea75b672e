// SPDX-License-Identifier: MIT
// Small line charts as inline SVG: axes with "nice" ticks, axis labels, a legend, gaps where values are missing,
// a "no data" panel when there is nothing to draw, and the data for a hover read-out (drawn by the page's one
// script, report/pageScript.ts). No plotting library: the report must be one file.
import { type SafeHtml, html } from './html.js';
import { isFiniteNumber } from './format.js';

/** One line: (x, y) points in order of x; a null or non-finite y breaks the line. */
export interface Series {
  label: string;
  points: readonly (readonly [number, number | null])[];
  /** A name per point (same order as `points`), shown in the hover read-out, e.g. the test image's name. */
  names?: readonly string[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel?: string;
  /** Size in CSS pixels (360 × 220). */
  width?: number;
  height?: number;
}

/** Okabe–Ito colours: distinguishable with the common colour-vision deficiencies. */
const palette = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9'];

/** An axis: the domain rounded out to whole ticks, and the ticks (step 1, 2 or 5 × 10^k). */
export interface Axis {
  min: number;
  max: number;
  ticks: number[];
  /** Decimals that show the step exactly. */
  decimals: number;
}

/** Rounds [lo, hi] out to about `count` nice tick intervals; a single value gets a window around it. */
export function niceAxis(lo: number, hi: number, count = 5): Axis {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const rough = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const n = rough / magnitude;
  const step = (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * magnitude;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  // Multiply integer tick indices rather than accumulate steps, so 0.1 + 0.2 never shows up as 0.30000000000000004.
  const ticks = Array.from({ length: last - first + 1 }, (_, i) => Number(((first + i) * step).toPrecision(12)));
  const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
  return { min: ticks[0]!, max: ticks[ticks.length - 1]!, ticks, decimals };
}

/** The runs of consecutive finite points of a series (each run drawn as one sub-path). */
export function segments(points: Series['points']): [number, number][][] {
  const runs: [number, number][][] = [];
  let run: [number, number][] = [];
  for (const [x, y] of points) {
    if (isFiniteNumber(x) && isFiniteNumber(y)) {
      run.push([x, y]);
    } else if (run.length) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length) runs.push(run);
  return runs;
}

/**
 * Renders series as an SVG line chart with the title on top, a legend under it and ticks on both axes.
 * Series without a single finite point are left out; with none left the chart says "no data".
 */
export function lineChart(series: readonly Series[], opts: LineChartOptions): SafeHtml {
  const width = opts.width ?? 360;
  const height = opts.height ?? 220;
  const drawn = series
    .map((s, i) => ({ ...s, colour: palette[i % palette.length]!, runs: segments(s.points), hover: hoverPoints(s) }))
    .filter((s) => s.runs.length);
  const openTag = (hover: string | null) => html`<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"
 viewBox="0 0 ${width} ${height}" role="img" aria-label="${opts.title}"${hover !== null && html` data-hover="${hover}"`}>
<text class="chart-title" x="${width / 2}" y="16" text-anchor="middle">${opts.title}</text>`;
  if (drawn.length === 0) {
    const open = openTag(null);
    const [x, y, w, h] = [40, 28, width - 52, height - 64];
    return html`${open}<rect class="frame" x="${x}" y="${y}" width="${w}" height="${h}" fill="none"/>
<text class="no-data" x="${x + w / 2}" y="${y + h / 2}" text-anchor="middle" dominant-baseline="middle">no data</text></svg>`;
  }

  const all = drawn.flatMap((s) => s.runs.flat());
  const xs = niceAxis(Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0])));
  const ys = niceAxis(Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1])), 4);
  const yTickText = ys.ticks.map((t) => t.toFixed(ys.decimals));
  // Room on the left for the longest y tick label (about 6.2 px per character of 11 px text) and the axis label.
  const left = 26 + 6.2 * Math.max(3, ...yTickText.map((t) => t.length));
  const top = 42;
  // Room on the right for half the last x tick label, centred on the plot's right edge.
  const right = Math.max(12, 3.1 * xs.ticks[xs.ticks.length - 1]!.toFixed(xs.decimals).length + 4);
  const plotW = width - left - right;
  const plotH = height - top - 36;
  const bottom = top + plotH;
  const c = (v: number) => v.toFixed(1);
  const px = (x: number) => c(left + ((x - xs.min) / (xs.max - xs.min)) * plotW);
  const py = (y: number) => c(bottom - ((y - ys.min) / (ys.max - ys.min)) * plotH);

  const xTicks = xs.ticks.map(
    (t) => html`<line class="tick" x1="${px(t)}" x2="${px(t)}" y1="${bottom}" y2="${bottom + 4}"/>
<text class="tick-label" x="${px(t)}" y="${bottom + 15}" text-anchor="middle">${t.toFixed(xs.decimals)}</text>`,
  );
  const yTicks = ys.ticks.map(
    (t, i) => html`<line class="grid" x1="${c(left)}" x2="${c(left + plotW)}" y1="${py(t)}" y2="${py(t)}"/>
<text class="tick-label" x="${c(left - 6)}" y="${py(t)}" text-anchor="end" dominant-baseline="middle">${yTickText[i]}</text>`,
  );
  const lines = drawn.map((s) => {
    const d = s.runs.map((run) => run.map(([x, y], i) => `${i ? 'L' : 'M'}${px(x)} ${py(y)}`).join('')).join('');
    // A run of one point has no length: mark it with a dot so an isolated value stays visible.
    const dots = s.runs
      .filter((run) => run.length === 1)
      .map(([[x, y]]) => html`<circle cx="${px(x!)}" cy="${py(y!)}" r="2.5" fill="${s.colour}"/>`);
    return html`<path class="series" d="${d}" fill="none" stroke="${s.colour}" stroke-width="1.8" stroke-linejoin="round"
 data-label="${s.label}" data-points="${s.runs.flat().length}"><title>${s.label}</title></path>${dots}`;
  });
  // Legend: one row under the title, at the estimated width of each label.
  let lx = left;
  const legend = drawn.map((s) => {
    const item = html`<line x1="${c(lx)}" x2="${c(lx + 16)}" y1="30" y2="30" stroke="${s.colour}" stroke-width="2.5"/>
<text class="legend" x="${c(lx + 20)}" y="30" dominant-baseline="middle">${s.label}</text>`;
    lx += 32 + s.label.length * 6.2;
    return item;
  });
  // What the hover read-out needs (the hit area reaches 6 px past the plot, so the end points are easy to hover):
  // the plot box in viewBox units, both domains, and every finite point.
  const hover = JSON.stringify({
    box: [Number(c(left)), top, Number(c(plotW)), plotH],
    x: [xs.min, xs.max],
    y: [ys.min, ys.max],
    xLabel: opts.xLabel,
    series: drawn.map((s) => ({ label: s.label, points: s.hover })),
  });
  const dots = drawn.map((s) => html`<circle r="3.5" fill="${s.colour}" stroke="#fff" stroke-width="1.5" cx="0" cy="0"/>`);
  const hoverLayer = html`<g class="hover" visibility="hidden"><line class="guide" x1="0" x2="0" y1="${top}" y2="${bottom}"/>${dots}
<text class="readout" x="0" y="${top + 14}"></text></g>
<rect class="hit" x="${c(left - 6)}" y="${top}" width="${c(plotW + 12)}" height="${plotH}" fill="transparent"/>`;
  const yLabel =
    opts.yLabel &&
    html`<text class="axis-label" transform="translate(12 ${c(top + plotH / 2)}) rotate(-90)"
 text-anchor="middle">${opts.yLabel}</text>`;
  return html`${openTag(hover)}
${legend}
${yTicks}
<rect class="frame" x="${c(left)}" y="${top}" width="${c(plotW)}" height="${plotH}" fill="none"/>
${xTicks}
<text class="axis-label" x="${c(left + plotW / 2)}" y="${height - 4}" text-anchor="middle">${opts.xLabel}</text>
${yLabel}
${lines}
${hoverLayer}</svg>`;
}

/** The finite points of a series for the read-out: [x, y] or [x, y, name]. */
function hoverPoints(s: Series): (readonly [number, number] | readonly [number, number, string])[] {
  const out: (readonly [number, number] | readonly [number, number, string])[] = [];
  s.points.forEach(([x, y], i) => {
    if (!isFiniteNumber(x) || !isFiniteNumber(y)) return;
    const name = s.names?.[i];
    out.push(name === undefined ? [x, y] : [x, y, name]);
  });
  return out;
}
