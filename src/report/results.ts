// SPDX-License-Identifier: MIT
// The report's answer to "did it work?": the headline (DRC_IoU against both baselines, or the user's own photos
// with their cut-outs), the U-Net's validation curve, per-image IoU with the worst and best test images, and the
// photos without true masks with their cut-outs.
import { join } from 'node:path';
import { formatMetric, formatValue, isFiniteNumber } from './format.js';
import { type SafeHtml, html } from './html.js';
import { type TestThumbnails, testThumbnails } from './images.js';
import { lineChart } from './lineChart.js';
import type { BaselineValues, ImageScore, MetricValues, ReportData, TestImage } from './reportData.js';
import { readJsonFile } from './runFiles.js';

/** A test photo as the page shows it: its thumbnails, or why they could not be made. */
export interface LoadedPhoto {
  image: TestImage;
  thumbs: TestThumbnails | null;
  error: string | null;
  /** The evaluation's IoU when given (TestImage.iou, or ReportData.perImage by name), else the one measured on the
   *  thumbnails; null without a true mask. */
  iou: number | null;
}

/** Makes every test photo's thumbnails once (the headline, the ranking and the cut-outs share them). */
export async function loadPhotos(data: ReportData, missing: string[]): Promise<LoadedPhoto[]> {
  const out: LoadedPhoto[] = [];
  const scored = new Map((data.perImage ?? []).map((s) => [s.name, s.iou]));
  for (const image of data.testImages ?? []) {
    try {
      const thumbs = await testThumbnails(image.image, image.pred, image.truth ?? null, data.thumbnailPx ?? 160);
      // The evaluation's score (given with the photo, or in perImage under its name) over the thumbnail's.
      const given = image.iou !== undefined ? image.iou : scored.get(image.name);
      const iou = thumbs.truth === null ? null : given !== undefined ? given : thumbs.iou;
      out.push({ image, thumbs, error: null, iou });
    } catch (e) {
      missing.push(`test photo ${image.name}: ${(e as Error).message}`);
      out.push({ image, thumbs: null, error: (e as Error).message, iou: null });
    }
  }
  return out;
}

/** The model's scores and the baselines', each null when not available. */
export interface Scores {
  ours: MetricValues | null;
  baselines: BaselineValues | null;
}

const baselineLabels = [
  ['all_foreground', 'all foreground'],
  ['centred_ellipse', 'centred ellipse'],
] as const;

/** The headline: how DRC_IoU compares with both baselines; without metrics, the user's photos and cut-outs. */
export function headline(scores: Scores, photos: readonly LoadedPhoto[], data: ReportData): SafeHtml {
  const ours = scores.ours?.DRC_IoU;
  if (isFiniteNumber(ours)) {
    const rows: [id: string, label: string, value: unknown][] = [['ours', 'this model', ours]];
    for (const [id, label] of baselineLabels) rows.push([id, `baseline: ${label}`, scores.baselines?.[id]?.DRC_IoU]);
    const known = rows.slice(1).filter((r): r is [string, string, number] => isFiniteNumber(r[2]));
    let verdict: SafeHtml;
    if (known.length === 0) {
      verdict = html`No baseline scores: nothing to compare DRC_IoU ${formatMetric(ours)} with.`;
    } else {
      const beaten = known.filter((r) => ours > r[2]);
      const margins = known.map(
        (r) => `${ours - r[2] >= 0 ? '+' : '−'}${formatMetric(Math.abs(ours - r[2]))} against the ${r[1].slice(10)}`,
      );
      verdict =
        beaten.length === known.length
          ? html`<strong>It worked:</strong> better than ${known.length === 2 ? 'both baselines' : 'the baseline'} (${margins.join(', ')}).`
          : html`<strong>Not yet:</strong> no better than ${known
              .filter((r) => ours <= r[2])
              .map((r) => r[1].slice(10))
              .join(' and ')}
(${margins.join(', ')}); masks this good need no training.`;
    }
    const bars = rows.map(
      ([id, label, v]) => html`<div class="bar-row" data-row="${id}"><span class="bar-label">${label}</span>
<span class="bar"><span class="fill" style="width: ${isFiniteNumber(v) ? (100 * Math.max(0, Math.min(1, v))).toFixed(1) : 0}%"></span></span>
<span class="bar-value">${formatMetric(v)}</span></div>`,
    );
    return html`<section id="headline" class="headline" data-verdict="${known.length && known.every((r) => ours > r[2]) ? 'better' : 'not-better'}">
<p class="verdict">${verdict}</p>
<div class="bars" aria-label="DRC_IoU, higher is better">${bars}</div>
<p class="note">DRC_IoU: the mean over test images of the IoU of the predicted foreground with the true one (higher is better).
The baselines learn nothing: they call every pixel foreground, or a centred ellipse.</p></section>`;
  }
  const cutouts = photos.filter((p) => p.thumbs && p.thumbs.truth === null).slice(0, 8);
  if (cutouts.length) {
    const figures = cutouts.map(
      (p) => html`<figure class="cutout"><img class="thumb" src="${p.thumbs!.photo}" alt="${p.image.name}: photo">
<img class="thumb checker" src="${p.thumbs!.cutout}" alt="${p.image.name}: cut-out"><figcaption>${p.image.name}</figcaption></figure>`,
    );
    return html`<section id="headline" class="headline" data-verdict="photos">
<p class="verdict">No test masks, so no score: judge by eye. Your photos, each beside its cut-out (the background is removed,
the checkerboard shows through):</p><div class="strip">${figures}</div></section>`;
  }
  const why =
    data.live?.state === 'running'
      ? 'the run is still going; the result appears here when the segmenter has been evaluated'
      : 'no evaluation and no photos were given';
  return html`<section id="headline" class="headline" data-verdict="none"><p class="verdict">No result yet: ${why}.</p></section>`;
}

/** model.json of a U-Net folder (or the file itself): the validation history and, if adapted, its rounds. */
interface SegmenterJson {
  bestIteration?: number;
  bestValIoU?: number | null;
  history?: { iteration?: number; valIoU?: number | null; loss?: number }[];
  adapted?: { rounds?: { valIoU?: number | null }[] };
}

/** The U-Net's validation IoU (and training loss) against iterations, from its model.json. */
export function segmenterCurve(data: ReportData, missing: string[]): SafeHtml {
  const title = html`<h2>Segmenter (U-Net) validation</h2>`;
  if (data.segmenter === undefined) {
    missing.push('U-Net validation: not given');
    return html`<section id="segmenter">${title}<p class="none">No segmenter given.</p></section>`;
  }
  const path = data.segmenter.endsWith('.json') ? data.segmenter : join(data.segmenter, 'model.json');
  const file = readJsonFile(path);
  const model = file.ok && typeof file.value === 'object' && file.value !== null ? (file.value as SegmenterJson) : null;
  if (!file.ok) missing.push(`U-Net validation: ${file.reason}`);
  const history = Array.isArray(model?.history) ? model.history : [];
  const points = (key: 'valIoU' | 'loss') => history.map((r) => [r.iteration ?? Number.NaN, r[key] ?? null] as const);
  const charts = [
    lineChart([{ label: 'validation IoU', points: points('valIoU') }], {
      title: 'U-Net validation IoU',
      xLabel: 'iteration',
      yLabel: 'IoU',
    }),
    lineChart([{ label: 'training loss', points: points('loss') }], { title: 'U-Net training loss', xLabel: 'iteration', yLabel: 'loss' }),
  ];
  const best =
    model && isFiniteNumber(model.bestValIoU)
      ? html`<p class="note">Best validation IoU ${formatMetric(model.bestValIoU)} at iteration ${formatValue(model.bestIteration)}
(the weights kept). Validation uses held-out synthetic pairs, not the test photos.</p>`
      : '';
  const rounds = model?.adapted?.rounds ?? [];
  const adapted =
    rounds.length > 0 &&
    html`<p class="note">Then adapted to the training photos in ${rounds.length} round${rounds.length === 1 ? '' : 's'}
of self-training; validation IoU after each: ${rounds.map((r) => formatMetric(r.valIoU)).join(', ')}.</p>`;
  return html`<section id="segmenter">${title}<div class="charts">${charts}</div>${best}${adapted}</section>`;
}

function thumbCell(p: LoadedPhoto, src: string | null, what: string, className = 'thumb'): SafeHtml {
  if (src === null) return html`<td class="none">no ${what}</td>`;
  const { width, height } = p.thumbs!;
  return html`<td><img class="${className}" src="${src}" width="${width}" height="${height}" alt="${p.image.name}: ${what}"></td>`;
}

function rankedTable(id: string, rows: readonly LoadedPhoto[]): SafeHtml {
  const head = ['image', 'IoU', 'photo', 'predicted', 'true', 'overlay'].map((h) => html`<th scope="col">${h}</th>`);
  const body = rows.map((p) => {
    const t = p.thumbs!;
    const cells = [
      thumbCell(p, t.photo, 'photo'),
      thumbCell(p, t.pred, 'predicted mask'),
      thumbCell(p, t.truth, 'true mask'),
      thumbCell(p, t.overlay, 'overlay'),
    ];
    return html`<tr><th scope="row">${p.image.name}</th><td class="num">${formatMetric(p.iou)}</td>${cells}</tr>`;
  });
  return html`<div class="scroll"><table class="photos ranked" id="${id}"><thead><tr>${head}</tr></thead>
<tbody>${body}</tbody></table></div>`;
}

const overlayKey = html`<p class="note">Overlay: the predicted outline in white with a dark edge; fill <span class="key hit"></span>
predicted and true foreground, <span class="key fp"></span> predicted only, <span class="key fn"></span> true only.</p>`;

/**
 * The `count` worst items by IoU (ascending) and the `count` best (descending), without repeats: with fewer than
 * 2·count items the lower half is the worst. Both masks empty (IoU null) is a perfect answer and sorts as 1; ties
 * go by name, so the choice is the same on every run.
 */
export function worstAndBestOf<T>(
  items: readonly T[],
  iou: (t: T) => number | null,
  name: (t: T) => string,
  count: number,
): { worst: T[]; best: T[] } {
  const ranked = [...items].sort((a, b) => (iou(a) ?? 1) - (iou(b) ?? 1) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  const nWorst = Math.min(count, Math.ceil(ranked.length / 2));
  return { worst: ranked.slice(0, nWorst), best: ranked.slice(nWorst).reverse().slice(0, count) };
}

/** The worst and best `count` photos with a true mask. */
export function worstAndBest(photos: readonly LoadedPhoto[], count = 8): { worst: LoadedPhoto[]; best: LoadedPhoto[] } {
  const scored = photos.filter((p) => p.thumbs && p.thumbs.truth !== null);
  return worstAndBestOf(
    scored,
    (p) => p.iou,
    (p) => p.image.name,
    count,
  );
}

/** Per-image IoU over the test set (sorted, with a read-out per image), then the worst and best test photos. */
export function perImageSection(data: ReportData, photos: readonly LoadedPhoto[], missing: string[]): SafeHtml {
  const title = html`<h2>Per-image IoU</h2>`;
  const scores: readonly ImageScore[] =
    data.perImage ?? photos.filter((p) => p.thumbs && p.thumbs.truth !== null).map((p) => ({ name: p.image.name, iou: p.iou }));
  if (!scores.length) {
    missing.push('per-image IoU: no test photo with a true mask');
    return html`<section id="per-image">${title}<p class="none">No test photos with true masks.</p></section>`;
  }
  const sorted = [...scores].sort((a, b) => (a.iou ?? 1) - (b.iou ?? 1));
  const chart = lineChart(
    [{ label: 'IoU', points: sorted.map((s, i) => [i + 1, s.iou ?? 1] as const), names: sorted.map((s) => s.name) }],
    { title: 'IoU of each test image, worst to best', xLabel: 'rank', yLabel: 'IoU', width: 560 },
  );
  const values = sorted.map((s) => s.iou ?? 1);
  const median = values.length % 2 ? values[(values.length - 1) / 2]! : (values[values.length / 2 - 1]! + values[values.length / 2]!) / 2;
  const below = values.filter((v) => v < 0.5).length;
  const { worst, best } = worstAndBest(photos);
  const tables = worst.length
    ? html`<h3>Worst ${worst.length}</h3>${rankedTable('worst', worst)}<h3>Best ${best.length}</h3>${rankedTable('best', best)}${overlayKey}`
    : html`<p class="none">No test photos with true masks to show.</p>`;
  const from = data.perImage || photos.every((p) => p.image.iou !== undefined) ? '' : ' (measured on the thumbnails)';
  return html`<section id="per-image">${title}<div class="charts">${chart}</div>
<p class="note">${scores.length} test images${from}: median IoU ${formatMetric(median)}; ${below} below 0.5.</p>
${tables}</section>`;
}

/** Photos without a true mask (held out of training, say), each with its predicted mask, cut-out and overlay. */
export function photosSection(data: ReportData, photos: readonly LoadedPhoto[], missing: string[]): SafeHtml | null {
  const title = html`<h2>Photos and cut-outs</h2>`;
  if (!(data.testImages ?? []).length) {
    missing.push('test photos: none given');
    return html`<section id="photos">${title}<p class="none">No test photos given.</p></section>`;
  }
  const shown = photos.filter((p) => !p.thumbs || p.thumbs.truth === null);
  if (!shown.length) return null;
  const rows = shown.map((p) => {
    const t = p.thumbs;
    const cells = t
      ? [
          thumbCell(p, t.photo, 'photo'),
          thumbCell(p, t.pred, 'predicted mask'),
          thumbCell(p, t.cutout, 'cut-out', 'thumb checker'),
          thumbCell(p, t.overlay, 'overlay'),
        ]
      : html`<td colspan="4" class="none">could not read: ${p.error}</td>`;
    return html`<tr><th scope="row">${p.image.name}</th>${cells}</tr>`;
  });
  const head = ['image', 'photo', 'predicted', 'cut-out', 'overlay'].map((h) => html`<th scope="col">${h}</th>`);
  return html`<section id="photos">${title}
<div class="scroll"><table class="photos" id="cutouts"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>
<p class="note">Overlay: the predicted outline in white with a dark edge over a <span class="key hit"></span> green fill.</p></section>`;
}
