// SPDX-License-Identifier: MIT
// Draws the quality curve of docs/quality.md from bench/segEval.js result lines: DRC_IoU against GAN training
// length, one line per variant, the trivial baselines as flat lines. Writes an SVG.
//   node dist/bench/qualityChart.js --out docs/quality-curve.svg --title "…" \
//        --series 'ILS on=data/tux/seg/ils20.json,data/tux/seg/ils60.json' --series 'ILS off=…'
import { readFileSync, writeFileSync } from 'node:fs';
import { lineChart, type Series } from '../src/report/lineChart.js';

interface SegEvalLine {
  checkpoint: string;
  stage1: { DRC_IoU: number; ellipse: number; allFg: number };
  adapt?: { DRC_IoU: number };
}

const args = process.argv.slice(2);
const value = (name: string) => args[args.indexOf(`--${name}`) + 1];
const kimgOf = (ckpt: string) => Number(ckpt.replace('ckpt-', '')) / 1000;
const series: Series[] = [];
let baseline: SegEvalLine['stage1'] | null = null;
let maxKimg = 0;
args.forEach((a, i) => {
  if (a !== '--series') return;
  const [label, files] = args[i + 1]!.split('=') as [string, string];
  const lines = files.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')) as SegEvalLine);
  baseline = lines[0]!.stage1;
  const pts = lines.map((l) => [kimgOf(l.checkpoint), l] as const).sort((a, b) => a[0] - b[0]);
  maxKimg = Math.max(maxKimg, ...pts.map((p) => p[0]));
  series.push({ label, points: pts.map(([k, l]) => [k, l.stage1.DRC_IoU]) });
  if (pts.some(([, l]) => l.adapt)) series.push({ label: `${label} + adapt`, points: pts.map(([k, l]) => [k, l.adapt?.DRC_IoU ?? null]) });
});
const b = baseline as SegEvalLine['stage1'] | null;
if (b) {
  series.push({
    label: 'ellipse',
    points: [
      [0, b.ellipse],
      [maxKimg, b.ellipse],
    ],
  });
  series.push({
    label: 'all fg',
    points: [
      [0, b.allFg],
      [maxKimg, b.allFg],
    ],
  });
}
const svg = String(
  lineChart(series, {
    title: value('title') ?? 'DRC_IoU against GAN training length',
    xLabel: 'GAN training (kimg)',
    yLabel: 'DRC_IoU',
    width: 640,
    height: 360,
  }),
);
writeFileSync(value('out') ?? 'docs/quality-curve.svg', svg);
