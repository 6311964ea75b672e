// SPDX-License-Identifier: MIT
// `ilsgan pipeline --recipe cpu` on a folder without masks: the recipe's stages run (adapt and the test-time
// refinement included), the report lists the recipe's deviations and the held-out photos, stdout's JSON has no
// metrics; and the flag errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePng } from '../../src/data/decode.js';
import { mulberry32 } from '../../src/data/procedural.js';
import { nativeBfloat16 } from '../../src/util/cpuFeatures.js';
import { assertUserError, runCli } from '../helpers/cli.js';

let root = '';
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-cli-pipeline-'));
  mkdirSync(join(root, 'photos'));
  const rand = mulberry32(3);
  for (let i = 0; i < 40; i++) {
    await writePng(
      join(root, 'photos', `p${i}.png`),
      new Uint8Array(32 * 32 * 3).map(() => Math.floor(rand() * 255)),
      32,
      32,
      3,
    );
  }
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('ilsgan pipeline --recipe cpu', () => {
  test('without test masks: every recipe stage runs, the report shows the deviations and held-out photos', () => {
    // One libtorch thread in the child (it inherits this file's environment): these networks are tiny.
    process.env.ILSGAN_NUM_THREADS = '1';
    const r = runCli(
      [
        'pipeline',
        '--data',
        'photos',
        '--recipe',
        'cpu',
        '--kimg',
        '0.064',
        '--n-synthetic',
        '32',
        '--seg-iters',
        '4',
        '--adapt-rounds',
        '1',
        '--adapt-iters',
        '2',
        '--out',
        'out',
        '--no-progress',
      ],
      root,
      300_000,
    );
    assert.equal(r.status, 0, r.stderr);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!) as { DRC_IoU: null; seconds: Record<string, number> };
    assert.equal(last.DRC_IoU, null);
    assert.ok('adapt' in last.seconds, 'the adapt stage ran');
    assert.ok('refine' in last.seconds, 'the refine stage ran');
    assert.ok(!existsSync(join(root, 'out', 'stages', 'eval.json')));
    const html = readFileSync(join(root, 'out', 'report.html'), 'utf8');
    assert.match(html, /deviation: adaptation to real photos/);
    assert.match(html, /deviation: frame border/);
    assert.match(html, /deviation: minimum mask size over training/);
    assert.match(html, /deviation: test-time refinement/);
    assert.match(html, /deviation: smoothness in the pseudo-labels/);
    // The final segmenter carries the recipe's refinement; its pseudo-labels had the pairwise term.
    const model = JSON.parse(readFileSync(join(root, 'out', 'segmenter-adapted', 'model.json'), 'utf8')) as {
      refine?: unknown;
      adapted: { colour: { pairwise?: number } };
    };
    assert.deepEqual(model.refine, { flip: true, colour: { levels: 16, strength: 2, rounds: 3, smoothing: 0.5, pairwise: 4 } });
    assert.equal(model.adapted.colour.pairwise, 2);
    const stage1 = JSON.parse(readFileSync(join(root, 'out', 'segmenter', 'model.json'), 'utf8')) as { refine?: unknown; size: number };
    assert.equal(stage1.refine, undefined, 'only the final segmenter gets it');
    assert.equal(stage1.size, 64, "the recipe's U-Net works at 64² over the 32² GAN's upsampled pairs");
    assert.match(html, /held out of GAN training/);
    const config = JSON.parse(readFileSync(join(root, 'out', 'gan', 'config.json'), 'utf8')) as {
      net: { channelMax: number; maskPrior: number };
      options: { maxMaskSize: number; maskBorderWeight?: number; precision?: string; minMaskSizeEnd?: number; minMaskRampKimg?: number[] };
    };
    assert.equal(config.net.channelMax, 32, 'the recipe network');
    assert.equal(config.net.maskPrior, 4);
    assert.equal(config.options.maxMaskSize, 0.5, 'the recipe option survives absent flags');
    assert.equal(config.options.maskBorderWeight, 2, "the recipe's frame-border hinge");
    assert.equal(config.options.minMaskSizeEnd, 0.15, "the recipe's relaxed minimum mask size");
    assert.deepEqual(config.options.minMaskRampKimg, [15, 30]);
    // bfloat16 where this CPU has it natively, else the default (float32 on the CPU); the report says which.
    const bf16 = nativeBfloat16();
    assert.equal(config.options.precision ?? 'auto', bf16 ? 'bfloat16' : 'auto', "the recipe's CPU precision");
    assert.match(html, bf16 ? /GAN precision.*bfloat16 in the reduced-precision blocks/s : /GAN precision.*float32 throughout/s);
  });

  test('without --kimg or --recipe: a one-line error', () => {
    assertUserError(runCli(['pipeline', '--data', 'photos', '--out', 'x'], root), /--kimg/);
  });

  test('--refine, --adapt-pairwise and --adapt-saliency: bad values, and weights without colour-refined labels, are one-line errors', () => {
    const base = ['pipeline', '--data', 'photos', '--out', 'x', '--kimg', '1'];
    assertUserError(runCli([...base, '--refine', 'sometimes'], root), /--refine.*expected on or off, got "sometimes"/);
    assertUserError(runCli([...base, '--adapt-pairwise', '-1'], root), /--adapt-pairwise.*expected a number in \[0, 1e6\]/);
    assertUserError(runCli([...base, '--adapt-pairwise', '0'], root), /--adapt-pairwise weights the colour-refined pseudo-labels/);
    assertUserError(
      runCli([...base, '--recipe', 'cpu', '--adapt', 'off', '--adapt-pairwise', '0'], root),
      /--adapt-pairwise weights the colour-refined pseudo-labels/,
    );
    assertUserError(runCli([...base, '--adapt-saliency', 'high'], root), /--adapt-saliency.*expected a number in \[0, 1e6\]/);
    assertUserError(
      runCli([...base, '--recipe', 'cpu', '--adapt', 'off', '--adapt-saliency', '0'], root),
      /--adapt-saliency weights the colour-refined pseudo-labels/,
    );
  });
});
