// SPDX-License-Identifier: MIT
// The report's building blocks without a browser: escaping, number formats, axes, SVG line charts, and reading
// metrics.jsonl and sample-grid names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMetric, formatSeconds } from '../../src/report/format.js';
import { escapeHtml, html, trusted } from '../../src/report/html.js';
import { lineChart, niceAxis, segments } from '../../src/report/lineChart.js';
import { parseMetricsLog } from '../../src/run/metrics.js';
import { pickSampleGrids } from '../../src/report/runFiles.js';

test('escapeHtml and the html template escape text but not markup', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  const name = '<script>alert(1)</script>';
  const out = html`<p title="${name}">${name} ${3} ${null}${undefined}${false}${[html`<b>${'&'}</b>`, '<i>']}${trusted('<br>')}</p>`.value;
  assert.equal(
    out,
    '<p title="&lt;script&gt;alert(1)&lt;/script&gt;">&lt;script&gt;alert(1)&lt;/script&gt; 3 <b>&amp;</b>&lt;i&gt;<br></p>',
  );
});

test('formats: missing and non-finite values are n/a', () => {
  assert.equal(formatMetric(0.73126), '0.7313');
  for (const v of [null, undefined, Number.NaN, Infinity, '0.5']) assert.equal(formatMetric(v), 'n/a');
  assert.equal(formatSeconds(5.25), '5.3 s');
  assert.equal(formatSeconds(185), '3 min 05 s');
  assert.equal(formatSeconds(7630), '2 h 07 min');
  assert.equal(formatSeconds(null), 'n/a');
});

test('niceAxis: whole steps of 1, 2 or 5 × 10^k that cover the data, without float noise', () => {
  assert.deepEqual(niceAxis(0, 9.3), { min: 0, max: 10, ticks: [0, 2, 4, 6, 8, 10], decimals: 0 });
  const a = niceAxis(0.1, 0.3);
  assert.deepEqual(a.ticks, [0.1, 0.15, 0.2, 0.25, 0.3]);
  assert.equal(a.decimals, 2);
  const b = niceAxis(-0.37, 1.62, 4);
  assert.deepEqual(b.ticks, [-0.5, 0, 0.5, 1, 1.5, 2]);
  const single = niceAxis(3, 3);
  assert.ok(single.min < 3 && single.max > 3, JSON.stringify(single));
  assert.ok(niceAxis(0, 0).max > 0);
});

test('segments: null and non-finite values break the line', () => {
  assert.deepEqual(
    segments([
      [0, 1],
      [1, null],
      [2, 2],
      [3, 3],
      [4, Number.NaN],
      [5, 4],
    ]),
    [
      [[0, 1]],
      [
        [2, 2],
        [3, 3],
      ],
      [[5, 4]],
    ],
  );
  assert.deepEqual(segments([[0, null]]), []);
});

/** The path commands of each `<path class="series">`: [label, points, d]. */
function seriesPaths(svg: string): { label: string; points: number; d: string }[] {
  return [...svg.matchAll(/<path class="series" d="([^"]*)"[^>]*data-label="([^"]*)" data-points="(\d+)"/g)].map((m) => ({
    d: m[1]!,
    label: m[2]!,
    points: Number(m[3]),
  }));
}

test('lineChart: one path per series with its points inside the plot, a legend, escaped labels, ticks', () => {
  const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const svg = lineChart(
    [
      { label: 'G <adv>', points: xs.map((x) => [x, Math.sin(x)] as const) },
      { label: 'D', points: xs.map((x) => [x, x % 4 === 0 ? null : x / 10] as const) },
      { label: 'never', points: xs.map((x) => [x, null] as const) },
    ],
    { title: 'Losses & "more"', xLabel: 'kimg', yLabel: 'loss', width: 300, height: 200 },
  ).value;
  assert.match(svg, /^<svg class="chart"[^>]* width="300" height="200"\s+viewBox="0 0 300 200"/);
  assert.match(svg, />Losses &amp; &quot;more&quot;<\/text>/);
  assert.ok(!svg.includes('G <adv>'), 'label escaped');
  const paths = seriesPaths(svg);
  assert.deepEqual(
    paths.map((p) => [p.label, p.points]),
    [
      ['G &lt;adv&gt;', 10],
      ['D', 7],
    ],
  );
  // D (x % 4 === 0 missing at 0, 4, 8) is drawn as runs 1–3, 5–7, 9: three moves; the lone point 9 gets a dot.
  assert.equal(paths[1]!.d.match(/M/g)!.length, 3);
  // (Not counting the hover layer's markers, one per series, placed by the page's script.)
  assert.equal((svg.replace(/<g class="hover".*?<\/g>/s, '').match(/<circle /g) ?? []).length, 1);
  const [, fx, fy, fw, fh] = /<rect class="frame" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(svg)!.map(Number);
  assert.ok(fx! > 40 && fx! + fw! <= 300 && fy! + fh! <= 200, `plot frame ${fx} ${fy} ${fw} ${fh}`);
  for (const p of paths) {
    for (const [, x, y] of p.d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)) {
      assert.ok(Number(x) >= fx! && Number(x) <= fx! + fw! && Number(y) >= fy! && Number(y) <= fy! + fh!, `${x},${y} outside the plot`);
    }
  }
  assert.match(svg, /class="legend"[^>]*>G &lt;adv&gt;<\/text>/);
  assert.ok(!svg.includes('>never<'), 'an all-null series has no legend entry');
  for (const t of ['0', '2', '4', '6', '8', '10']) assert.match(svg, new RegExp(`class="tick-label"[^>]*text-anchor="middle">${t}</text>`));
  assert.match(svg, /rotate\(-90\)[^>]*>loss<\/text>/);
  assert.ok(!svg.includes('no data'));
});

test('lineChart: the hover read-out gets the plot box, both domains and the finite points, with names', () => {
  const svg = lineChart(
    [
      {
        label: 'IoU',
        points: [
          [1, 0.2],
          [2, null],
          [3, 0.9],
        ],
        names: ['cat <1>', 'dog', 'owl'],
      },
      {
        label: 'other',
        points: [
          [1, 0.5],
          [3, Number.NaN],
        ],
      },
    ],
    { title: 'per image', xLabel: 'rank', width: 300, height: 200 },
  ).value;
  const attr = /<svg class="chart"[^>]* data-hover="([^"]*)"/.exec(svg)?.[1];
  assert.ok(attr, 'data-hover present');
  const d = JSON.parse(
    attr
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&'),
  );
  assert.equal(d.xLabel, 'rank');
  assert.deepEqual(d.series, [
    {
      label: 'IoU',
      points: [
        [1, 0.2, 'cat <1>'],
        [3, 0.9, 'owl'],
      ],
    },
    { label: 'other', points: [[1, 0.5]] },
  ]);
  const [, fx, fy, fw, fh] = /<rect class="frame" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(svg)!.map(Number);
  assert.deepEqual(d.box, [fx, fy, fw, fh]);
  assert.ok(d.x[0] <= 1 && d.x[1] >= 3 && d.y[0] <= 0.2 && d.y[1] >= 0.9, JSON.stringify(d));
  assert.equal((svg.match(/<g class="hover" visibility="hidden">/g) ?? []).length, 1);
  assert.equal((svg.match(/<rect class="hit"/g) ?? []).length, 1);
  // A chart with nothing to draw has nothing to read out.
  assert.doesNotMatch(lineChart([{ label: 'x', points: [] }], { title: 't', xLabel: 'k' }).value, /data-hover|class="hit"/);
});

test('lineChart: nothing finite to draw says "no data"', () => {
  for (const series of [
    [],
    [
      {
        label: 'a',
        points: [
          [0, null],
          [1, Number.NaN],
        ] as const,
      },
    ],
  ]) {
    const svg = lineChart(series, { title: 'ADA p', xLabel: 'kimg' }).value;
    assert.match(svg, />no data<\/text>/);
    assert.equal(seriesPaths(svg).length, 0);
  }
});

test('parseMetricsLog: skips a cut-off line, reads non-numbers as null, drops rows a resume superseded', () => {
  const rows = parseMetricsLog(
    ['{"kimg":1,"a":1}', '{"kimg":2,"a":2}', '{"kimg":3,"a":3}', '{"kimg":2,"a":20,"b":"x"}', '{"kimg":3,"a":30}', '{"kimg":4,"a'].join(
      '\n',
    ),
  );
  assert.deepEqual(rows, [
    { kimg: 1, a: 1 },
    { kimg: 2, a: 20, b: null },
    { kimg: 3, a: 30 },
  ]);
});

test('pickSampleGrids: init, then snapshots spread over the run, always the last', () => {
  const grids = [{ path: 'i', kimg: null }, ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((k) => ({ path: `s${k}`, kimg: k }))];
  assert.deepEqual(
    pickSampleGrids(grids, 4).map((g) => g.kimg),
    [null, 1, 6, 10],
  );
  assert.deepEqual(
    pickSampleGrids(grids, 2).map((g) => g.kimg),
    [null, 10],
  );
  assert.deepEqual(
    pickSampleGrids(grids.slice(0, 3), 4).map((g) => g.kimg),
    [null, 1, 2],
  );
});
