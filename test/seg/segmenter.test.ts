// SPDX-License-Identifier: MIT
// The segmentation stage end to end on an easy synthetic set made here (textured discs on smooth backgrounds):
// training learns (beats the all-foreground IoU) without leaking tensors and writes a loadable model; `segment`
// handles odd sizes and modes (grey, RGBA, 16-bit, JPEG with EXIF rotation, 1×N) and unreadable files; `eval
// --model` scores a test folder, refuses unmatched files with a list, and the seg-train CLI writes a model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as t from '../../src/index.js';
import { mulberry32 } from '../../src/data/procedural.js';
import { loadSegmenter } from '../../src/seg/model.js';
import { segmentImages } from '../../src/seg/segment.js';
import { cubCropBox, evaluateSegmenter } from '../../src/seg/evaluate.js';
import { loadSyntheticSet } from '../../src/seg/data.js';
import { trainSegmenter } from '../../src/seg/train.js';
import { repoRoot } from '../helpers/childProcess.js';

const cli = join(repoRoot, 'dist/src/cli/main.js');
let root = '';
let model = '';
let trainedIoU = 0;
let allForegroundIoU = 0;

function ilsgan(args: string[]) {
  // One libtorch thread: on a shared 2-core machine OpenMP's barriers make 2 threads 10–40× slower for these tiny nets.
  const env = { ...process.env, ILSGAN_NUM_THREADS: '1' };
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000, cwd: root, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * An easy sample: a disc with a 2-pixel checkerboard of two random colours (texture survives every colour
 * augmentation) on a smooth random gradient. Returns HWC RGB and a 0/255 mask.
 */
function easySample(w: number, h: number, seed: number, cell = 2): { rgb: Uint8Array; mask: Uint8Array } {
  const r = mulberry32(seed);
  const c = () => [r() * 255, r() * 255, r() * 255];
  const [a, b, g0, g1] = [c(), c(), c(), c()];
  const cx = w * (0.3 + 0.4 * r());
  const cy = h * (0.3 + 0.4 * r());
  const rad = Math.min(w, h) * (0.2 + 0.15 * r());
  const rgb = new Uint8Array(w * h * 3);
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const fg = (x - cx) ** 2 + (y - cy) ** 2 < rad * rad;
      mask[i] = fg ? 255 : 0;
      const f = x / w;
      const col = fg ? ((Math.floor(x / cell) + Math.floor(y / cell)) & 1 ? a : b) : [0, 1, 2].map((k) => g0[k]! * (1 - f) + g1[k]! * f);
      for (let k = 0; k < 3; k++) rgb[3 * i + k] = Math.round(col[k]!);
    }
  }
  return { rgb, mask };
}

const png = (data: Uint8Array, w: number, h: number, ch: 1 | 3 | 4) =>
  sharp(Buffer.from(data), { raw: { width: w, height: h, channels: ch } });

/** A synthetic folder as `ilsgan generate` writes it (images/, masks/, manifest.json). */
async function writeSynthetic(dir: string, n: number, size: number, seed: number): Promise<void> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  const files: string[] = [];
  for (let i = 1; i <= n; i++) {
    const f = `${String(i).padStart(6, '0')}.png`;
    files.push(f);
    const s = easySample(size, size, seed + i);
    await png(s.rgb, size, size, 3)
      .png()
      .toFile(join(dir, 'images', f));
    await png(s.mask, size, size, 1)
      .toColourspace('b-w')
      .png()
      .toFile(join(dir, 'masks', f));
  }
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      format: 'ilsgan-synthetic',
      version: 1,
      run: 'test',
      checkpoint: 'none',
      kimg: 0,
      seed,
      n,
      size,
      psi: 1,
      noise: 'const',
      latents: '-',
      folders: { images: 'images', masks: 'masks', masks_soft: 'masks_soft', fg: 'fg', bg: 'bg' },
      pattern: '%06d.png',
      first: 1,
      files,
    }),
  );
}

let threads = 0;
before(async () => {
  threads = t.getNumThreads();
  t.setNumThreads(1);
  root = mkdtempSync(join(tmpdir(), 'ilsgan-seg-'));
  await writeSynthetic(join(root, 'synth'), 120, 32, 1000);
  // A test folder at twice the training size (the 4-pixel checker becomes the training set's 2 pixels at 32²).
  mkdirSync(join(root, 'test/images'), { recursive: true });
  mkdirSync(join(root, 'test/masks'), { recursive: true });
  for (let i = 0; i < 12; i++) {
    const s = easySample(64, 64, 5000 + i, 4);
    await png(s.rgb, 64, 64, 3)
      .jpeg({ quality: 95 })
      .toFile(join(root, 'test/images', `t${i}.jpg`));
    await png(s.mask, 64, 64, 1)
      .toColourspace('b-w')
      .png()
      .toFile(join(root, 'test/masks', `t${i}.png`));
  }
});

after(() => {
  t.setNumThreads(threads);
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('segmentation stage', () => {
  test('loading a synthetic set: 90/10 split, masks thresholded, protocol 128 keeps validation masks at 2S', async () => {
    const set = await loadSyntheticSet(join(root, 'synth'), { size: 16, evalSize: 32 });
    assert.equal(set.n, 120);
    assert.equal(set.train, 108);
    assert.equal(set.val, 12);
    assert.equal(set.imageSize, 32);
    assert.equal(set.images.length, 120 * 3 * 16 * 16);
    assert.equal(set.valMasks.length, 12 * 32 * 32);
    assert.ok(set.masks.every((v) => v === 0 || v === 1));
    // The validation masks at 32 are the files themselves.
    const file = await sharp(join(root, 'synth/masks/000109.png')).greyscale().raw().toBuffer();
    assert.deepEqual(
      [...set.valMasks.subarray(0, 32 * 32)],
      [...file].map((v) => (v >= 128 ? 1 : 0)),
    );
  });

  test('training learns, keeps the best validation IoU, writes model files and leaks nothing', async (ctx) => {
    const before = t.memory().liveTensors;
    const r = await trainSegmenter({
      synthetic: join(root, 'synth'),
      out: join(root, 'model'),
      iterations: 60,
      batch: 16,
      width: 8,
      size: 32,
      valEvery: 20,
      seed: 0,
      progress: false,
      log: () => {},
    });
    assert.equal(t.memory().liveTensors, before, 'live tensors after training');
    model = join(root, 'model');
    assert.deepEqual(
      r.history.map((h) => h.iteration),
      [20, 40, 60],
    );
    const best = Math.max(...r.history.map((h) => h.valIoU ?? -1));
    assert.equal(r.bestValIoU, best);
    assert.equal(r.history.find((h) => h.valIoU === best)!.iteration, r.bestIteration);
    const cfg = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));
    assert.equal(cfg.width, 8);
    assert.equal(cfg.size, 32);
    assert.equal(cfg.training.finished, true);
    assert.equal(cfg.data.train, 108);
    // The all-foreground baseline on the validation split: IoU = foreground fraction.
    const set = await loadSyntheticSet(join(root, 'synth'), { size: 32 });
    allForegroundIoU = set.valMasks.reduce((a, v) => a + v, 0) / set.valMasks.length;
    trainedIoU = r.bestValIoU!;
    ctx.diagnostic(
      `validation IoU ${r.history.map((h) => h.valIoU?.toFixed(3)).join(' → ')}; all-foreground ${allForegroundIoU.toFixed(3)}; ${(r.secondsPerIteration * 1000).toFixed(0)} ms/iteration`,
    );
    assert.ok(trainedIoU > allForegroundIoU + 0.15, `validation IoU ${trainedIoU} vs all-foreground ${allForegroundIoU}`);
    // The saved weights are the best ones and use PyTorch names.
    const { tensors, metadata } = t.loadSafetensors(join(model, 'model.safetensors'));
    assert.equal(metadata.format, 'ilsgan-segmenter');
    assert.ok(tensors.has('inc.double_conv.0.weight') && tensors.has('outc.conv.bias'));
    t.dispose([...tensors.values()]);
  });

  test('segment: odd sizes and modes, original sizes, cutouts, skipped files; no leak', async (ctx) => {
    assert.ok(model, 'needs the trained model');
    const inDir = join(root, 'photos');
    mkdirSync(join(inDir, 'sub'), { recursive: true });
    const s = easySample(50, 30, 77);
    await png(s.rgb, 50, 30, 3).greyscale().png().toFile(join(inDir, 'grey.png'));
    const rgba = new Uint8Array(50 * 30 * 4);
    for (let i = 0; i < 50 * 30; i++) rgba.set([s.rgb[3 * i]!, s.rgb[3 * i + 1]!, s.rgb[3 * i + 2]!, i % 50 < 5 ? 0 : 255], 4 * i);
    await png(rgba, 50, 30, 4).png().toFile(join(inDir, 'rgba.png'));
    await png(s.rgb, 50, 30, 3).toColourspace('rgb16').png().toFile(join(inDir, 'deep16.png'));
    await png(s.rgb, 50, 30, 3)
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(join(inDir, 'sub', 'rotated.jpg')); // shows as 30×50
    await png(s.rgb, 50, 30, 3)
      .webp()
      .toFile(join(inDir, 'sub', 'photo.webp'));
    await png(s.rgb.subarray(0, 50 * 3), 50, 1, 3)
      .png()
      .toFile(join(inDir, 'thin.png')); // 50×1
    writeFileSync(join(inDir, 'broken.jpg'), 'not an image');
    const seg = loadSegmenter(model);
    const live = t.memory().liveTensors;
    const warnings: string[] = [];
    const r = await segmentImages({ model: seg, input: inDir, out: join(root, 'segout'), batch: 4, warn: (m) => warnings.push(m) });
    assert.equal(t.memory().liveTensors, live, 'live tensors after segment');
    seg.dispose();
    assert.equal(r.written, 6);
    assert.equal(r.skipped.length, 1);
    assert.match(warnings[0]!, /broken\.jpg/);
    const expect: [string, number, number][] = [
      ['grey.png', 50, 30],
      ['rgba.png', 50, 30],
      ['deep16.png', 50, 30],
      ['sub/rotated.png', 30, 50],
      ['sub/photo.png', 50, 30],
      ['thin.png', 50, 1],
    ];
    let fgMean = 0;
    for (const [name, w, h] of expect) {
      const meta = await sharp(join(root, 'segout/masks', name)).metadata();
      assert.deepEqual([meta.width, meta.height, meta.channels], [w, h, 1], `${name}: a ${w}×${h} greyscale PNG`);
      const m = await sharp(join(root, 'segout/masks', name))
        .extractChannel(0)
        .raw()
        .toBuffer({ resolveWithObject: true });
      assert.ok(
        [...m.data].every((v) => v === 0 || v === 255),
        `${name} is 0/255`,
      );
      fgMean += [...m.data].filter((v) => v === 255).length / m.data.length / expect.length;
      const c = await sharp(join(root, 'segout/cutouts', name))
        .raw()
        .toBuffer({ resolveWithObject: true });
      assert.deepEqual([c.info.width, c.info.height, c.info.channels], [w, h, 4], `${name} cutout`);
      if (name !== 'rgba.png') for (let i = 0; i < w * h; i++) assert.equal(c.data[4 * i + 3], m.data[i], `${name} alpha = mask`);
    }
    assert.ok(Math.abs(r.meanForeground - fgMean) < 1e-9, `meanForeground ${r.meanForeground} vs the written masks' ${fgMean}`);
    // The RGBA input's transparent columns stay transparent in the cutout.
    const c = await sharp(join(root, 'segout/cutouts/rgba.png')).raw().toBuffer();
    for (let y = 0; y < 30; y++) assert.equal(c[4 * (y * 50 + 2) + 3], 0);
    // The colour photo's mask agrees with the disc (the model learnt it at 32²; this is 50×30 stretched).
    const m = await sharp(join(root, 'segout/masks/sub/photo.png')).extractChannel(0).raw().toBuffer();
    let inter = 0;
    let union = 0;
    for (let i = 0; i < m.length; i++) {
      inter += m[i]! && s.mask[i]! ? 1 : 0;
      union += m[i]! || s.mask[i]! ? 1 : 0;
    }
    const fraction = s.mask.reduce((n, v) => n + (v ? 1 : 0), 0) / s.mask.length; // the all-foreground IoU
    ctx.diagnostic(`IoU on a 50×30 photo: ${(inter / union).toFixed(3)} (all-foreground ${fraction.toFixed(3)})`);
    assert.ok(inter / union > fraction + 0.2, `IoU on a 50×30 photo: ${inter / union}, all-foreground ${fraction}`);
  });

  test('segment CLI: a single file; nothing usable is exit 2', () => {
    const one = join(root, 'test/images/t0.jpg');
    const r = ilsgan(['segment', '--model', model, '--input', one, '--out', join(root, 'one'), '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).written, 1);
    assert.ok(existsSync(join(root, 'one/masks/t0.png')) && existsSync(join(root, 'one/cutouts/t0.png')));
    mkdirSync(join(root, 'bad'), { recursive: true });
    writeFileSync(join(root, 'bad/a.png'), 'x');
    const bad = ilsgan(['segment', '--model', model, '--input', join(root, 'bad'), '--out', join(root, 'badout')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error: none of the 1 input files could be read/m);
  });

  test('eval --model scores a test folder; the library gives the same numbers', async (ctx) => {
    const out = join(root, 'eval.json');
    const r = ilsgan([
      'eval',
      '--model',
      model,
      '--images',
      join(root, 'test/images'),
      '--masks',
      join(root, 'test/masks'),
      '--json',
      '--out',
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), j);
    for (const k of ['DRC_IoU', 'DRC_DICE', 'IoU', 'mIoU', 'pACC']) assert.equal(typeof j[k], 'number', k);
    assert.equal(j.images, 12);
    assert.equal(j.size, 32);
    assert.equal(j.pixels, 12 * 32 * 32);
    ctx.diagnostic(`test folder: IoU ${j.IoU.toFixed(3)}, DRC_IoU ${j.DRC_IoU.toFixed(3)}`);
    assert.ok(j.IoU > 0.7, `test IoU ${j.IoU}`);
    const lib = await evaluateSegmenter({ model, images: join(root, 'test/images'), masks: join(root, 'test/masks'), perImage: true });
    assert.equal(lib.IoU, j.IoU);
    // Per-image IoU (for the report's ranking): one per test image by stem, and DRC_IoU is their mean.
    assert.ok(!('perImage' in j), 'not asked for: not in the eval JSON');
    assert.deepEqual(
      lib.perImage!.map((p) => p.name),
      Array.from({ length: 12 }, (_, i) => `t${i}`).sort(),
    );
    const scored = lib.perImage!.map((p) => p.iou).filter((v): v is number => v !== null);
    assert.ok(Math.abs(scored.reduce((a, b) => a + b, 0) / scored.length - j.DRC_IoU) < 1e-12);
    const at40 = ilsgan([
      'eval',
      '--model',
      model,
      '--images',
      join(root, 'test/images'),
      '--masks',
      join(root, 'test/masks'),
      '--size',
      '40',
      '--json',
    ]);
    assert.equal(JSON.parse(at40.stdout).pixels, 12 * 40 * 40);
  });

  test('eval --model on a DRC CUB folder: test split only, images and masks cropped around the bounding box', async (ctx) => {
    // Spec §2.2: r = int(0.75·max(w, h)), centre int((2x + w)/2), cut at the borders.
    assert.deepEqual(cubCropBox([68, 43, 64, 64], 200, 150), [52, 27, 148, 123]);
    assert.deepEqual(cubCropBox([10.5, 5, 40, 20], 60, 40), [0, 0, 60, 40]);
    const cub = join(root, 'cub');
    mkdirSync(join(cub, 'images/001.Bird'), { recursive: true });
    mkdirSync(join(cub, 'segmentations/001.Bird'), { recursive: true });
    const names = ['a', 'b', 'c'];
    writeFileSync(join(cub, 'images.txt'), names.map((n, i) => `${i + 1} 001.Bird/${n}.jpg`).join('\n'));
    writeFileSync(join(cub, 'train_val_test_split.txt'), '1 2\n2 0\n3 2\n');
    writeFileSync(join(cub, 'bounding_boxes.txt'), names.map((_, i) => `${i + 1} 68.0 43.0 64.0 64.0`).join('\n'));
    for (const [i, n] of names.entries()) {
      // A 96×96 sample (6-pixel checker → 2 pixels at 32²) inside the box, another textured disc outside it.
      const inner = easySample(96, 96, 7000 + i, 6);
      const outer = easySample(200, 150, 8000 + i, 2);
      const rgb = outer.rgb.slice();
      const mask = new Uint8Array(200 * 150);
      for (let y = 0; y < 96; y++) {
        rgb.set(inner.rgb.subarray(y * 96 * 3, (y + 1) * 96 * 3), ((27 + y) * 200 + 52) * 3);
        mask.set(inner.mask.subarray(y * 96, (y + 1) * 96), (27 + y) * 200 + 52);
      }
      await png(rgb, 200, 150, 3)
        .jpeg({ quality: 95 })
        .toFile(join(cub, `images/001.Bird/${n}.jpg`));
      await png(mask, 200, 150, 1)
        .toColourspace('b-w')
        .png()
        .toFile(join(cub, `segmentations/001.Bird/${n}.png`));
    }
    const r = await evaluateSegmenter({ model, images: cub });
    ctx.diagnostic(`CUB layout: IoU ${r.IoU?.toFixed(3)}`);
    assert.equal(r.source, 'cub');
    assert.equal(r.images, 2);
    assert.equal(r.pixels, 2 * 32 * 32);
    assert.ok(r.IoU! > 0.7, `IoU ${r.IoU}`);
    const cliRun = ilsgan(['eval', '--model', model, '--images', cub, '--json']);
    assert.equal(cliRun.status, 0, cliRun.stderr);
    assert.equal(JSON.parse(cliRun.stdout).IoU, r.IoU);
    assert.equal(JSON.parse(cliRun.stdout).source, 'cub');
    const noMasks = ilsgan(['eval', '--model', model, '--images', join(root, 'test/images')]);
    assert.equal(noMasks.status, 2);
    assert.match(noMasks.stderr, /is not a DRC CUB\/Dogs\/Cars folder; give --masks/);
  });

  test('eval --model on a DRC Dogs folder: the resized test images listed in data_te_sel.npy', async () => {
    const dogs = join(root, 'dogs');
    const dir = join(dogs, 'data_mrcnn/test/resized');
    mkdirSync(dir, { recursive: true });
    /** A 1-D '|S8' .npy array. */
    const npy = (tokens: string[]) => {
      let header = `{'descr': '|S8', 'fortran_order': False, 'shape': (${tokens.length},), }`;
      header = header.padEnd(64 - 10 - 1, ' ') + '\n';
      const head = Buffer.concat([
        Buffer.from('\x93NUMPY\x01\x00', 'latin1'),
        Buffer.from([header.length, 0]),
        Buffer.from(header, 'latin1'),
      ]);
      return Buffer.concat([head, ...tokens.map((tok) => Buffer.from(tok.padEnd(8, '\0'), 'latin1'))]);
    };
    writeFileSync(join(dogs, 'data_tr_sel.npy'), npy(['x']));
    writeFileSync(join(dogs, 'data_te_sel.npy'), npy(['d1', 'd2', 'd3']));
    for (const [i, tok] of ['d1', 'd2', 'd3'].entries()) {
      const smp = easySample(64, 64, 9000 + i, 4);
      await png(smp.rgb, 64, 64, 3)
        .png()
        .toFile(join(dir, `${tok}_resized.png`));
      await png(smp.mask, 64, 64, 1)
        .toColourspace('b-w')
        .png()
        .toFile(join(dir, `${tok}_maskresized.png`));
    }
    const r = await evaluateSegmenter({ model, images: dogs });
    assert.equal(r.source, 'dogs');
    assert.equal(r.images, 3);
    assert.ok(r.IoU! > 0.7, `IoU ${r.IoU}`);
    rmSync(join(dir, 'd2_maskresized.png'));
    await assert.rejects(evaluateSegmenter({ model, images: dogs }), /1 test file is missing from .*dogs: .*d2_maskresized\.png/);
  });

  test('eval --model: missing masks are listed; exactly one of --model and --pred', () => {
    const masks = join(root, 'partial');
    mkdirSync(masks, { recursive: true });
    for (const f of ['t0.png', 't1.png', 'extra.png'])
      writeFileSync(join(masks, f), readFileSync(join(root, 'test/masks', f === 'extra.png' ? 't2.png' : f)));
    const r = ilsgan(['eval', '--model', model, '--images', join(root, 'test/images'), '--masks', masks]);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /^error: images and masks do not match: 10 images have no mask in .*partial \(t10\.jpg, t11\.jpg, t2\.jpg, .*\); 1 mask has no image in .*\(extra\.png\)$/m,
    );
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    const both = ilsgan(['eval', '--model', model, '--pred', masks, '--masks', masks]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /exactly one of --pred/);
    const neither = ilsgan(['eval', '--masks', masks]);
    assert.equal(neither.status, 2);
    assert.match(neither.stderr, /--pred/);
  });

  test('seg-train CLI writes a model and one JSON line; bad input is exit 2', () => {
    const r = ilsgan([
      'seg-train',
      '--synthetic',
      join(root, 'synth'),
      '--out',
      join(root, 'm2'),
      '--iters',
      '2',
      '--batch',
      '4',
      '--width',
      '4',
      '--size',
      '16',
      '--protocol',
      '128',
      '--val-every',
      '1',
      '--no-progress',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.iterations, 2);
    const cfg = JSON.parse(readFileSync(join(root, 'm2/model.json'), 'utf8'));
    assert.equal(cfg.evalSize, 32);
    assert.equal(cfg.protocol, '128');
    assert.deepEqual(
      cfg.history.map((h: { iteration: number }) => h.iteration),
      [1, 2],
    );
    const missing = ilsgan(['seg-train', '--synthetic', join(root, 'nope'), '--out', join(root, 'm3')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^error: synthetic folder not found/m);
    const size = ilsgan(['seg-train', '--synthetic', join(root, 'synth'), '--out', join(root, 'm3'), '--size', '20']);
    assert.equal(size.status, 2);
    assert.match(size.stderr, /a multiple of 16/);
  });
});
