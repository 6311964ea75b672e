// SPDX-License-Identifier: MIT
// The report's overlays stay readable on any photo: the predicted outline (white, with a dark halo) contrasts with
// white, black, grey and saturated photos alike, the fill lets the photo show through, and the cut-out is the
// photo with the predicted background transparent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { maskIoU, outlineWithHalo, testThumbnails } from '../../src/report/images.js';

/** WCAG relative luminance of an sRGB colour. */
function luminance([r, g, b]: readonly number[]): number {
  const lin = (v: number) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
}

/** WCAG contrast ratio of two colours (1 to 21). */
function contrast(a: readonly number[], b: readonly number[]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const size = 48;
/** A disk of radius 14 at the centre: 1 inside. */
const disk = Uint8Array.from({ length: size * size }, (_, i) =>
  ((i % size) - 24) ** 2 + (Math.floor(i / size) - 24) ** 2 <= 14 ** 2 ? 1 : 0,
);
const pngOf = (raw: Uint8Array, channels: 1 | 3) =>
  sharp(Buffer.from(raw), { raw: { width: size, height: size, channels } })
    .png()
    .toBuffer();
const maskPng = () =>
  pngOf(
    disk.map((v) => v * 255),
    1,
  );

async function decode(uri: string): Promise<{ data: Buffer; channels: number }> {
  const { data, info } = await sharp(Buffer.from(uri.split(',')[1]!, 'base64'))
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, channels: info.channels };
}

test('outlineWithHalo: the outline is the mask pixels next to background; the halo rings it on both sides', () => {
  const w = 7;
  const square = Uint8Array.from({ length: 49 }, (_, i) =>
    i % w >= 2 && i % w <= 4 && Math.floor(i / w) >= 2 && Math.floor(i / w) <= 4 ? 1 : 0,
  );
  const line = outlineWithHalo(square, w, w);
  const rows = Array.from({ length: w }, (_, y) => [...line.subarray(y * w, y * w + w)].join(''));
  assert.deepEqual(rows, ['0000000', '0222220', '0211120', '0212120', '0211120', '0222220', '0000000']);
  // A mask touching the image border has no outline along the border.
  assert.deepEqual([...outlineWithHalo(new Uint8Array(9).fill(1), 3, 3)], new Array(9).fill(0));
  assert.equal(maskIoU(Uint8Array.of(1, 1, 0, 0), Uint8Array.of(0, 1, 1, 0)), 1 / 3);
  assert.equal(maskIoU(Uint8Array.of(0, 0), Uint8Array.of(0, 0)), null);
});

test('overlay: along the whole predicted outline, a pixel within one step contrasts ≥ 4.5:1 with the photo, whatever its colour', async () => {
  // White, black, mid grey, and the fill colours themselves (the hardest cases for a coloured overlay).
  const photos: [string, number[]][] = [
    ['white', [255, 255, 255]],
    ['black', [0, 0, 0]],
    ['grey', [128, 128, 128]],
    ['green', [0, 158, 115]],
    ['orange', [213, 94, 0]],
    ['blue', [0, 114, 178]],
    ['yellow', [240, 228, 66]],
  ];
  const edge = outlineWithHalo(disk, size, size);
  for (const [name, colour] of photos) {
    const photo = Uint8Array.from({ length: size * size * 3 }, (_, i) => colour[i % 3]!);
    // The truth is the same disk shifted by 3 px, so hit, false-positive and false-negative fills all occur.
    const truth = Uint8Array.from({ length: size * size }, (_, i) => disk[(i + 3) % (size * size)]! * 255);
    const th = await testThumbnails(await pngOf(photo, 3), await maskPng(), await pngOf(truth, 1), 160);
    assert.equal(th.width, size);
    const { data, channels } = await decode(th.overlay);
    const px = (x: number, y: number) => [0, 1, 2].map((c) => data[(y * size + x) * channels + c]!);
    let worst = Infinity;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if (edge[y * size + x] !== 1) continue;
        let best = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) best = Math.max(best, contrast(px(x + dx, y + dy), colour));
        worst = Math.min(worst, best);
      }
    }
    assert.ok(worst >= 4.5, `${name} photo: the outline's best contrast falls to ${worst.toFixed(2)}:1`);
    // Inside the mask, away from the outline, the fill is semi-transparent: neither the photo nor the fill colour
    // (a green photo under the green fill is the one case where the two coincide).
    if (name !== 'green') {
      const centre = px(24, 24);
      assert.notDeepEqual(centre, colour, `${name}: the centre is not coloured`);
      assert.notDeepEqual(centre, [0, 158, 115], `${name}: the photo does not show through`);
    }
    // Outside the mask and its halo the photo is untouched.
    assert.deepEqual(px(2, 2), colour);
  }
});

test('cut-out: the photo where the prediction says foreground, transparent elsewhere; IoU measured at thumbnail size', async () => {
  const photo = Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 7) & 255);
  const th = await testThumbnails(await pngOf(photo, 3), await maskPng(), null, 160);
  assert.equal(th.iou, null);
  assert.equal(th.truth, null);
  const { data, channels } = await decode(th.cutout);
  assert.equal(channels, 4);
  for (let i = 0; i < size * size; i++) {
    assert.equal(data[i * 4 + 3], disk[i] ? 255 : 0, `alpha at ${i}`);
    if (disk[i]) assert.deepEqual([...data.subarray(i * 4, i * 4 + 3)], [...photo.subarray(i * 3, i * 3 + 3)]);
  }
  const half = Uint8Array.from({ length: size * size }, (_, i) => (i % size < 24 ? 255 : 0));
  const scored = await testThumbnails(await pngOf(photo, 3), await maskPng(), await pngOf(half, 1), 160);
  assert.equal(
    scored.iou,
    maskIoU(
      disk,
      half.map((v) => (v ? 1 : 0)),
    ),
  );
});
