// SPDX-License-Identifier: MIT
// CUDA checks: skipped where no GPU is present (CI); run on a GPU machine by scripts/gpu/engineCheck.sh.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as t from '../../src/index.js';
import { assertClose } from '../helpers/assertClose.js';

const skip = t.cuda.isAvailable() ? false : 'no CUDA device';

test('tensors move to the GPU and back unchanged', { skip }, () => {
  t.scope(() => {
    const x = t.randn([3, 4]);
    const y = x.cuda();
    assert.equal(y.device, 'cuda:0');
    assert.deepEqual(y.cpu().toArray(), x.toArray());
  });
});

test('conv2d forward and backward on CUDA match the CPU', { skip }, () => {
  t.scope(() => {
    t.manualSeed(1);
    const x = t.randn([2, 4, 8, 8], { dtype: 'float64', requiresGrad: true });
    const w = t.randn([5, 4, 3, 3], { dtype: 'float64', requiresGrad: true });
    const xc = x.detach().cuda().requiresGrad_();
    const wc = w.detach().cuda().requiresGrad_();
    const y = t.nn.conv2d(x, w, null, { padding: 1, stride: 2 });
    const yc = t.nn.conv2d(xc, wc, null, { padding: 1, stride: 2 });
    assertClose(yc.cpu(), y, { rtol: 1e-9, atol: 1e-9 });
    y.square().sum().backward();
    yc.square().sum().backward();
    assertClose((wc.grad as t.Tensor).cpu(), w.grad as t.Tensor, { rtol: 1e-9, atol: 1e-9 });
  });
});

test('double backward through gridSample and conv on CUDA matches the CPU', { skip }, () => {
  t.scope(() => {
    const r1 = (device: t.Device) => {
      t.manualSeed(2);
      const x = t.randn([2, 3, 6, 6], { dtype: 'float64' }).to(device).requiresGrad_();
      const w = t.randn([4, 3, 3, 3], { dtype: 'float64' }).to(device).requiresGrad_();
      const grid = t.rand([2, 5, 5, 2], { dtype: 'float64' }).mul(2).sub(1).to(device);
      const y = t.nn.conv2d(t.nn.gridSample(x, grid), w, null, { padding: 1 }).leakyRelu(0.2).sum();
      const [g] = t.grad([y], [x], { createGraph: true });
      (g as t.Tensor).square().sum().backward();
      return (w.grad as t.Tensor).cpu();
    };
    assertClose(r1('cuda'), r1('cpu'), { rtol: 1e-8, atol: 1e-9 });
  });
});

test('a long loop keeps allocated CUDA memory flat', { skip }, () => {
  const w = t.keep(t.randn([64, 32], { device: 'cuda', requiresGrad: true }));
  const opt = new t.Adam([w], { lr: 1e-3 });
  const step = () =>
    t.scope(() => {
      const loss = t.randn([128, 32], { device: 'cuda' }).matmul(w.t()).square().mean();
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
  for (let i = 0; i < 50; i++) step();
  t.cuda.synchronize();
  const before = t.cuda.memoryStats()?.allocated ?? t.cuda.liveBytes();
  for (let i = 0; i < 1000; i++) step();
  t.cuda.synchronize();
  const after = t.cuda.memoryStats()?.allocated ?? t.cuda.liveBytes();
  assert.equal(after, before);
  opt.dispose();
  w.dispose();
});

test('autocast runs convolutions in float16 on CUDA', { skip }, () => {
  t.scope(() => {
    const x = t.randn([1, 2, 4, 4], { device: 'cuda' });
    const w = t.randn([3, 2, 3, 3], { device: 'cuda' });
    t.setAutocast(true, { device: 'cuda', dtype: 'float16' });
    try {
      assert.equal(t.nn.conv2d(x, w).dtype, 'float16');
    } finally {
      t.setAutocast(false, { device: 'cuda' });
    }
    assert.equal(t.nn.conv2d(x, w).dtype, 'float32');
  });
});

test('safetensors save from and load onto the GPU', { skip }, () => {
  t.scope(() => {
    const dir = mkdtempSync(join(tmpdir(), 'ilsgan-cuda-'));
    const a = t.randn([3, 3], { device: 'cuda' }).to('bfloat16');
    t.saveSafetensors(join(dir, 'a.safetensors'), { a });
    const { tensors } = t.loadSafetensors(join(dir, 'a.safetensors'), { device: 'cuda' });
    const b = tensors.get('a') as t.Tensor;
    assert.equal(b.device, 'cuda:0');
    assert.deepEqual(b.cpu().bytes(), a.cpu().bytes());
  });
});
