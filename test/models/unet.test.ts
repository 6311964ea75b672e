// SPDX-License-Identifier: MIT
// The segmentation U-Net against spec §10.1: PyTorch state-dict names and the parameter count of the official
// layout, output shapes (also odd sizes), PyTorch default initialisation bounds, BatchNorm train/eval behaviour
// and running statistics, gradients reaching every parameter, and a safetensors round trip.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as t from '../../src/index.js';
import { UNet } from '../../src/models/unet.js';
import { BatchNorm2d } from '../../src/nn/layers/batchNorm2d.js';
import { Conv2d } from '../../src/nn/layers/conv2d.js';
import { assertClose } from '../helpers/assertClose.js';
import { noLeak } from '../helpers/noLeak.js';

/**
 * Parameter count of the spec's layout written out by hand (conv 3×3 with bias: 9·I·O + O; BN: 2·O; double conv
 * (I → O): 9·I·O + 9·O² + 6·O):
 *   inc   3 → 64      1 728 +    36 864 +   384 =    38 976
 *   down1 64 → 128   73 728 +   147 456 +   768 =   221 952
 *   down2 128 → 256 294 912 +   589 824 + 1 536 =   886 272
 *   down3 256 → 512 1 179 648 + 2 359 296 + 3 072 = 3 542 016
 *   down4 512 → 512 2 359 296 + 2 359 296 + 3 072 = 4 721 664
 *   up1  1024 → 256 2 359 296 +   589 824 + 1 536 = 2 950 656
 *   up2   512 → 128   589 824 +   147 456 +   768 =   738 048
 *   up3   256 → 64    147 456 +    36 864 +   384 =   184 704
 *   up4   128 → 64     73 728 +    36 864 +   384 =   110 976
 *   outc  64 → 2 (1×1)  128 + 2                   =       130
 *   total                                           13 395 394
 */
const specParams = 13_395_394;

// One libtorch thread: on a shared 2-core machine OpenMP's barriers make 2 threads far slower for these tiny nets.
let threads = 0;
before(() => {
  threads = t.getNumThreads();
  t.setNumThreads(1);
});
after(() => t.setNumThreads(threads));

/** The same layout for any width w (levels w, 2w, 4w, 8w, 8w). */
function countForWidth(w: number): number {
  const dc = (i: number, o: number) => 9 * i * o + 9 * o * o + 6 * o;
  return (
    dc(3, w) +
    dc(w, 2 * w) +
    dc(2 * w, 4 * w) +
    dc(4 * w, 8 * w) +
    dc(8 * w, 8 * w) +
    dc(16 * w, 4 * w) +
    dc(8 * w, 2 * w) +
    dc(4 * w, w) +
    dc(2 * w, w) +
    2 * w +
    2
  );
}

describe('UNet (spec §10.1)', () => {
  test('width 64: the official parameter count and PyTorch state-dict names', () => {
    noLeak(() => {
      const net = new UNet();
      try {
        assert.equal(countForWidth(64), specParams);
        assert.equal(net.numParameters(), specParams);
        const keys = [...net.stateDict().keys()];
        for (const k of [
          'inc.double_conv.0.weight',
          'inc.double_conv.0.bias',
          'inc.double_conv.1.weight',
          'inc.double_conv.1.running_mean',
          'inc.double_conv.1.running_var',
          'inc.double_conv.1.num_batches_tracked',
          'inc.double_conv.3.weight',
          'inc.double_conv.4.bias',
          'down1.maxpool_conv.1.double_conv.0.weight',
          'down4.maxpool_conv.1.double_conv.4.running_var',
          'up1.conv.double_conv.0.weight',
          'up4.conv.double_conv.3.bias',
          'outc.conv.weight',
          'outc.conv.bias',
        ])
          assert.ok(keys.includes(k), k);
        // 18 conv+BN pairs: conv weight, bias; BN weight, bias, running_mean, running_var, num_batches_tracked; + outc.
        assert.equal(keys.length, 18 * 7 + 2);
        const sd = net.stateDict();
        assert.deepEqual(sd.get('up1.conv.double_conv.0.weight')!.shape, [256, 1024, 3, 3]);
        assert.deepEqual(sd.get('down4.maxpool_conv.1.double_conv.3.weight')!.shape, [512, 512, 3, 3]);
        assert.deepEqual(sd.get('outc.conv.weight')!.shape, [2, 64, 1, 1]);
        assert.equal(sd.get('inc.double_conv.1.num_batches_tracked')!.dtype, 'int64');
        assert.deepEqual(sd.get('inc.double_conv.1.num_batches_tracked')!.shape, []);
      } finally {
        net.dispose();
      }
    });
  });

  test('smaller widths keep the layout', () => {
    for (const w of [4, 16]) {
      const net = new UNet({ width: w });
      assert.equal(net.numParameters(), countForWidth(w));
      net.dispose();
    }
  });

  test('PyTorch default init: U(−1/√fanIn, 1/√fanIn) for weights and biases', () => {
    t.manualSeed(1);
    const conv = new Conv2d(64, 128, 3);
    const bound = 1 / Math.sqrt(64 * 9);
    const w = conv.weight.toArray();
    assert.ok(Math.max(...w.map(Math.abs)) <= bound);
    assert.ok(Math.max(...w.map(Math.abs)) > 0.95 * bound, 'uses the whole range');
    assertClose(
      t.scope(() => conv.weight.std().item()),
      bound / Math.sqrt(3),
      { rtol: 0.03 },
    );
    assert.ok(Math.max(...conv.bias!.toArray().map(Math.abs)) <= bound);
    conv.dispose();
  });

  test('output shapes, with and without padding for odd sizes', () => {
    t.manualSeed(0);
    const net = new UNet({ width: 4 });
    noLeak(() =>
      t.noGrad(() =>
        t.scope(() => {
          assert.deepEqual(net.forward(t.randn([2, 3, 32, 32])).shape, [2, 2, 32, 32]);
          assert.deepEqual(net.forward(t.randn([1, 3, 64, 48])).shape, [1, 2, 64, 48]);
          assert.deepEqual(net.forward(t.randn([1, 3, 37, 21])).shape, [1, 2, 37, 21]);
        }),
      ),
    );
    assert.throws(
      () => net.forward(t.zeros([1, 1, 32, 32])),
      (e: Error) => e instanceof t.ShapeError && /img: expected \[N, 3/.test(e.message),
    );
    net.dispose();
  });

  test('every parameter gets a gradient', () => {
    t.manualSeed(0);
    const net = new UNet({ width: 4 });
    noLeak(() =>
      t.scope(() => {
        const y = t.randint(0, 2, [2, 32, 32]);
        t.nn.crossEntropy(net.forward(t.randn([2, 3, 32, 32])), y).backward();
        for (const [name, p] of net.namedParameters()) {
          const g = p.grad;
          assert.ok(g !== null, name);
          assert.ok(g.abs().sum().item() > 0, `${name} has a zero gradient`);
        }
      }),
    );
    net.dispose();
  });

  test('safetensors round trip restores outputs exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unet-'));
    try {
      t.manualSeed(3);
      const a = new UNet({ width: 4 }).eval();
      t.manualSeed(4);
      const b = new UNet({ width: 4 }).eval();
      t.saveSafetensors(join(dir, 'm.safetensors'), a.stateDict());
      const { tensors } = t.loadSafetensors(join(dir, 'm.safetensors'));
      b.loadStateDict(tensors);
      t.dispose([...tensors.values()]);
      t.noGrad(() =>
        t.scope(() => {
          const x = t.randn([1, 3, 32, 32]);
          assert.equal(a.forward(x).sub(b.forward(x)).abs().amax().item(), 0);
        }),
      );
      a.dispose();
      b.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('BatchNorm2d', () => {
  test('training: batch statistics, running stats updated with momentum 0.1 and unbiased variance', () => {
    const bn = new BatchNorm2d(2);
    noLeak(() =>
      t.scope(() => {
        // Channel 0: values 1..8, channel 1: constant 5.
        const x = t.cat([t.arange(1, 9).reshape([2, 1, 2, 2]), t.full([2, 1, 2, 2], 5)], 1);
        const y = bn.forward(x);
        const mean0 = 4.5;
        const var0 = 5.25; // biased variance of 1..8
        assertClose(
          y.select(1, 0).flatten(),
          t
            .arange(1, 9)
            .sub(mean0)
            .div(Math.sqrt(var0 + 1e-5)),
          { atol: 1e-5 },
        );
        assertClose(y.select(1, 1).flatten(), t.zeros([8]), { atol: 1e-4 }); // 0/√(≈0 + eps): rounding only
        assertClose(bn.runningMean, t.tensor([0.1 * 4.5, 0.1 * 5]), { atol: 1e-6 });
        assertClose(bn.runningVar, t.tensor([0.9 + 0.1 * 6, 0.9]), { atol: 1e-6 }); // unbiased var of 1..8 = 6
        assert.equal(bn.numBatchesTracked.item(), 1);
      }),
    );
    bn.dispose();
  });

  test('eval: running statistics, per-sample results independent of the batch, nothing updated', () => {
    const bn = new BatchNorm2d(1);
    t.noGrad(() => {
      bn.runningMean.fill_(2);
      bn.runningVar.fill_(4);
      bn.weight.fill_(3);
      bn.bias.fill_(1);
    });
    bn.eval();
    noLeak(() =>
      t.scope(() => {
        const x = t.tensor([[[[2, 4]]], [[[6, 0]]]]); // [2, 1, 1, 2]
        const y = bn.forward(x);
        const expect = [2, 4, 6, 0].map((v) => ((v - 2) / Math.sqrt(4 + 1e-5)) * 3 + 1);
        assertClose(y.flatten(), t.tensor(expect), { atol: 1e-5 });
        assertClose(bn.forward(x.narrow(0, 1, 1)).flatten(), t.tensor(expect.slice(2)), { atol: 1e-5 });
        assert.equal(bn.runningMean.item(), 2);
        assert.equal(bn.numBatchesTracked.item(), 0);
      }),
    );
    bn.dispose();
  });
});
