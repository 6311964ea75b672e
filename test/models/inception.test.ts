// SPDX-License-Identifier: MIT
// The FID Inception-v3 (spec §12): the torchvision/pytorch-fid tensor names and shapes, 2048-d features from
// random weights at a small input, uint8 preprocessing, a safetensors round trip, and weight-file validation
// errors that list what is missing, unexpected or mis-shaped.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as t from '../../src/index.js';
import { InceptionV3, expectedInceptionTensors, loadInception, validateInceptionWeights } from '../../src/models/inception.js';
import { assertClose } from '../helpers/assertClose.js';

const root = mkdtempSync(join(tmpdir(), 'ilsgan-inception-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('InceptionV3', () => {
  test('94 conv+BN layers with torchvision names and shapes', () => {
    const names = expectedInceptionTensors();
    assert.equal(names.size, 94 * 5);
    assert.deepEqual(names.get('Conv2d_1a_3x3.conv.weight'), [32, 3, 3, 3]);
    assert.deepEqual(names.get('Mixed_5b.branch_pool.conv.weight'), [32, 192, 1, 1]);
    assert.deepEqual(names.get('Mixed_6e.branch7x7dbl_5.conv.weight'), [192, 192, 1, 7]);
    assert.deepEqual(names.get('Mixed_7a.branch3x3_2.conv.weight'), [320, 192, 3, 3]);
    assert.deepEqual(names.get('Mixed_7c.branch3x3dbl_3b.conv.weight'), [384, 384, 3, 1]);
    assert.deepEqual(names.get('Mixed_7c.branch_pool.bn.running_var'), [192]);
    // 21,785,568 = torchvision inception_v3's 27,161,264 parameters less fc (2,049,000) and AuxLogits (3,326,696).
    let params = 0;
    for (const [k, s] of names) if (!k.includes('running_')) params += s.reduce((a, b) => a * b, 1);
    assert.equal(params, 21_785_568);
  });

  test('random weights: [N, 2048] finite features at 75×75, uint8 preprocessing = manual, no leak', () => {
    const net = new InceptionV3();
    try {
      const before = t.memory().liveTensors;
      t.scope(() => {
        t.manualSeed(0);
        const u8 = t.rand([2, 3, 40, 40]).mul(255).to('uint8');
        const f = net.features(u8, 75);
        assert.deepEqual(f.shape, [2, 2048]);
        assert.ok(f.isfinite().all().item() === 1);
        assert.ok(f.abs().sum().item() > 0);
        const manual = net.forward(
          t.nn.interpolate(u8.float().div(255), { size: 75, mode: 'bilinear', alignCorners: false }).mul(2).sub(1),
        );
        assertClose(f, manual, { atol: 1e-5, rtol: 1e-4 });
        assert.throws(() => net.forward(t.zeros([1, 3, 64, 64])), { code: 'ERR_SHAPE' });
      });
      assert.equal(t.memory().liveTensors, before);
    } finally {
      net.dispose();
    }
  });

  test('loadInception: a converted state dict (with fc and num_batches_tracked) loads and gives the same features', () => {
    const net = new InceptionV3();
    const path = join(root, 'inception.safetensors');
    try {
      t.scope(() => {
        const sd = new Map(net.stateDict());
        sd.set('fc.weight', t.zeros([1008, 2048]).half());
        sd.set('fc.bias', t.zeros([1008]));
        sd.set('Conv2d_1a_3x3.bn.num_batches_tracked', t.zeros([], { dtype: 'int64' }));
        t.saveSafetensors(path, sd);
      });
      const loaded = loadInception(path);
      try {
        t.scope(() => {
          const x = t.rand([1, 3, 75, 75]).mul(2).sub(1);
          assertClose(loaded.forward(x), net.forward(x), { atol: 1e-6, rtol: 1e-5 });
        });
      } finally {
        loaded.dispose();
      }
    } finally {
      net.dispose();
    }
  });

  test('validation lists missing, unexpected and mis-shaped tensors', () => {
    const good = new Map([...expectedInceptionTensors()].map(([k, shape]) => [k, { shape }]));
    assert.doesNotThrow(() => validateInceptionWeights(good));
    const bad = new Map(good);
    bad.delete('Mixed_6a.branch3x3.conv.weight');
    bad.delete('Conv2d_2a_3x3.bn.running_mean');
    bad.set('AuxLogits.conv0.conv.weight', { shape: [128, 768, 1, 1] });
    bad.set('Conv2d_1a_3x3.conv.weight', { shape: [32, 3, 5, 5] });
    bad.set('fc.weight', { shape: [1000, 2048] });
    assert.throws(
      () => validateInceptionWeights(bad, 'w.safetensors'),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'ERR_INCEPTION_WEIGHTS');
        assert.match(e.message, /^w\.safetensors is not the FID Inception-v3 state dict/);
        assert.match(e.message, /2 missing: [^|]*Mixed_6a\.branch3x3\.conv\.weight/);
        assert.match(e.message, /2 missing: [^|]*Conv2d_2a_3x3\.bn\.running_mean/);
        assert.match(e.message, /1 unexpected: AuxLogits\.conv0\.conv\.weight/);
        assert.match(e.message, /Conv2d_1a_3x3\.conv\.weight is \[32, 3, 5, 5\], expected \[32, 3, 3, 3\]/);
        assert.match(e.message, /fc\.weight is \[1000, 2048\], expected \[1008, 2048\]/);
        return true;
      },
    );
  });

  test('loadInception: missing file, not safetensors, wrong tensors → InputError codes', () => {
    assert.throws(() => loadInception(join(root, 'absent.safetensors')), { code: 'ERR_NO_INCEPTION' });
    const text = join(root, 'text.safetensors');
    writeFileSync(text, 'not a safetensors file at all');
    assert.throws(() => loadInception(text), { code: 'ERR_SAFETENSORS' });
    const junk = join(root, 'junk.safetensors');
    t.scope(() => t.saveSafetensors(junk, { x: t.zeros([2]) }));
    assert.throws(
      () => loadInception(junk),
      (e: Error & { code?: string }) =>
        e.code === 'ERR_INCEPTION_WEIGHTS' && /470 missing/.test(e.message) && /1 unexpected: x/.test(e.message),
    );
  });
});
