// SPDX-License-Identifier: MIT
// Several GANs in one pipeline (PipelineOptions.gans): each trains in its own folder with its own seed, each gives its
// share of the synthetic pairs, and the segmenter trains on all of them; a rerun skips every stage. And the pooling
// itself (mergeSyntheticSets): every set's training samples, then every set's validation samples.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PipelineOptions, pipelinePaths, runPipeline } from '../../src/pipeline/pipeline.js';
import { type SyntheticSet, loadSyntheticLayers, mergeSyntheticSets } from '../../src/seg/data.js';
import { setNumThreads } from '../../src/tensor/runtime.js';
import { smallestPipelineOptions } from '../helpers/smallestPipeline.js';

let out = '';
before(() => {
  setNumThreads(1);
  out = mkdtempSync(join(tmpdir(), 'ilsgan-pooled-gans-'));
});
after(() => rmSync(out, { recursive: true, force: true }));

/** The smallest whole pipeline with two GANs (seed 7) and 33 pairs, to split unevenly. */
const options = (lines: string[], gans = 2): PipelineOptions => ({
  ...smallestPipelineOptions(out, lines),
  gans,
  train: { batch: 4, seed: 7 },
  synthetic: 33,
});

describe('a pipeline with two GANs', () => {
  test('trains both (seeds 7 and 1007), splits the pairs 17 + 16 and trains the segmenter on all 33', async () => {
    const lines: string[] = [];
    const r = await runPipeline(options(lines));
    const p = pipelinePaths(out);
    for (const s of ['train', 'train-2', 'select', 'select-2', 'generate', 'generate-2', 'segtrain', 'eval'])
      assert.ok(existsSync(join(out, 'stages', `${s}.json`)), `stage record ${s}`);
    const seeds = [p.gan(0).run, p.gan(1).run].map((d) => JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')).options.seed);
    assert.deepEqual(seeds, [7, 1007]);
    const pairs = [p.gan(0).synthetic, p.gan(1).synthetic].map((d) => JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')).n);
    assert.deepEqual(pairs, [17, 16]);
    const seg = JSON.parse(readFileSync(join(p.segmenter, 'model.json'), 'utf8'));
    assert.equal(seg.data.n, 33);
    assert.ok(seg.data.synthetic.includes(' + '), seg.data.synthetic);
    assert.equal(typeof r.eval?.DRC_IoU, 'number');
    assert.ok(
      lines.some((l) => l.includes('training the layered GAN 2 of 2 (seed 1007)')),
      lines.join('\n'),
    );
    const html = readFileSync(p.report, 'utf8');
    assert.match(html, /GANs pooled/);
    assert.match(html, /33: 17 \+ 16 from 2 GANs/);
  });

  test('a rerun skips every stage', async () => {
    const lines: string[] = [];
    await runPipeline(options(lines));
    assert.ok(!lines.some((l) => /^\[\S+\] (?!done earlier)/.test(l) && !l.includes('skipped')), lines.join('\n'));
    assert.ok(lines.filter((l) => l.includes('skipped')).length >= 11, lines.join('\n'));
  });

  test('a GAN count out of range, or more GANs than pairs allow, is a user error', async () => {
    for (const gans of [0, 1.5, 17]) await assert.rejects(runPipeline(options([], gans)), { code: 'ERR_ARG' });
    await assert.rejects(runPipeline({ ...options([], 16), synthetic: 20 }), { code: 'ERR_ARG' });
  });
});

describe('mergeSyntheticSets', () => {
  /** A set of n samples at 2² whose every byte is its sample's `tag` + index (train: the first n − val). */
  const fake = (dir: string, n: number, val: number, tag: number): SyntheticSet => {
    const images = new Uint8Array(n * 12);
    const masks = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      images.fill(tag + i, i * 12, (i + 1) * 12);
      masks.fill(tag + i, i * 4, (i + 1) * 4);
    }
    return {
      dir,
      n,
      train: n - val,
      val,
      imageSize: 2,
      size: 2,
      evalSize: 2,
      images,
      masks,
      valMasks: masks.subarray((n - val) * 4),
      names: Array.from({ length: n }, (_, i) => `${i}.png`),
    };
  };

  test("every set's training samples, then every set's validation samples; names say which set", () => {
    const m = mergeSyntheticSets([fake('/a', 4, 1, 0), fake('/b', 3, 1, 100)]);
    assert.equal(m.n, 7);
    assert.equal(m.train, 5);
    assert.equal(m.val, 2);
    const firstByte = (bytes: Uint8Array, per: number) => Array.from({ length: bytes.length / per }, (_, i) => bytes[i * per]);
    assert.deepEqual(firstByte(m.images, 12), [0, 1, 2, 100, 101, 3, 102]);
    assert.deepEqual(firstByte(m.masks, 4), [0, 1, 2, 100, 101, 3, 102]);
    assert.deepEqual(firstByte(m.valMasks, 4), [3, 102]);
    assert.deepEqual(m.names, ['0/0.png', '0/1.png', '0/2.png', '1/0.png', '1/1.png', '0/3.png', '1/2.png']);
    assert.deepEqual(m.parts, ['/a', '/b']);
  });

  test('one set is returned as it is; sets of different sizes and a pooled set’s layers are user errors', async () => {
    const a = fake('/a', 4, 1, 0);
    assert.equal(mergeSyntheticSets([a]), a);
    assert.throws(() => mergeSyntheticSets([]), { code: 'ERR_ARG' });
    assert.throws(() => mergeSyntheticSets([a, { ...fake('/b', 3, 1, 100), size: 4 }]), { code: 'ERR_ARG' });
    await assert.rejects(loadSyntheticLayers(mergeSyntheticSets([a, fake('/b', 3, 1, 100)])), { code: 'ERR_NO_SYNTHETIC' });
  });
});
