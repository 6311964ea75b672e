// SPDX-License-Identifier: MIT
// Data-parallel training (train/trainer.ts over tensor/dist.ts) is the same computation as one process with the
// whole batch: 2 ranks × batch 8 end with the parameters of 1 process × batch 16 after a few iterations, given
// the same data and noise. The noise is made equal by construction: every rank draws the global batch's latents
// from one seeded stream and keeps its own rows (trainer.latentSource), and reals are sliced the same way. The
// terms that couple samples differently per batch are off (minibatch-std groups of 1, no ILS, no Tx, no ADA), and
// G's per-pixel noise is its fixed buffer (a fresh draw per rank could not match one process's draw). Adam's eps
// is 1 (with lr 0.05), which makes its step nearly linear in the gradient: with the usual 1e-8 the first steps
// are ±lr whatever the gradient's size, so summation-order noise in near-zero gradients grows to ~lr, and a
// wrong scale (a sum where the average belongs) would go unseen..
//
// ILSGAN_TEST_DIST_DEVICE=cuda runs the same comparison on GPUs over NCCL (rank r on cuda:r, float32, TF32 and
// cuDNN autotuning off): scripts/gpu/distCheck.sh does, on a machine with 2 GPUs or more.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distAvailable } from '../../src/tensor/index.js';
import { runRanks } from '../helpers/ranks.js';

const onGpu = process.env.ILSGAN_TEST_DIST_DEVICE === 'cuda';
const backend = onGpu ? 'nccl' : 'gloo';
const skip = distAvailable(backend) ? false : `the addon was built without c10d's ${backend} (build/libtorch.json: "distributed")`;
const srcUrl = new URL('../../src/', import.meta.url).href;

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-dp-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/**
 * One rank's program (runRanks gives it t, rank, world and port): 3 iterations of the tiny32 trainer on deterministic
 * data; rank 0 writes G's and D's parameters.
 */
const program = (out: string) => `
import { IlsTrainer } from '${srcUrl}train/trainer.js';
import { presets } from '${srcUrl}models/config.js';
import { defaultTrainOptions } from '${srcUrl}train/options.js';
import { writeFileSync } from 'node:fs';
const global = 16, n = global / world;
const dev = ${JSON.stringify(onGpu)} ? 'cuda:' + rank : 'cpu';
if (${JSON.stringify(onGpu)}) { t.setTf32(false); t.setCudnnBenchmark(false); }
if (world > 1) t.distInit({ rank, worldSize: world, masterPort: port, timeoutMs: 30000, backend: '${backend}', cudaDevice: rank });
function hostNormals(seed, count) {
  let a = seed >>> 0;
  const u = () => { a = (a + 0x6d2b79f5) >>> 0; let x = Math.imul(a ^ (a >>> 15), 1 | a); x ^= x + Math.imul(x ^ (x >>> 7), 61 | x); return (((x ^ (x >>> 14)) >>> 0) + 0.5) / 4294967296; };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}
const mine = (rows, seed, shape) => t.tensor(hostNormals(seed, global * rows), { shape: [global, ...shape] }).narrow(0, rank * n, n).to(dev);
const net = { ...presets.tiny32, mbstdGroupSize: 1 };
const opts = { ...defaultTrainOptions, batch: global, ada: false, ils: false, perturb: false, seed: 3, eps: 1, gLr: 0.05, dLr: 0.05, precision: 'fp32' };
t.manualSeed(5);
const trainer = new IlsTrainer(net, opts, dev, world > 1 ? { rank, worldSize: world } : null);
trainer.syncFromRank0();
trainer.noiseMode = 'const';
const params = () => t.cat([...trainer.G.parameters(), ...trainer.D.parameters(), ...trainer.Gema.parameters()].map((p) => p.detach().flatten())).to('cpu');
if (rank === 0) writeFileSync(${JSON.stringify(out)} + '.init', params().bytes());
let draws = 0;
trainer.latentSource = () => mine(net.zDim, 100 + draws++, [net.zDim]);
for (let it = 0; it < 3; it++) {
  const reals = t.scope(() => t.keep(mine(3 * 32 * 32, 9000 + it, [3, 32, 32]).tanh()));
  trainer.step(reals);
  reals.dispose();
}
if (rank === 0) {
  const flat = params();
  writeFileSync(${JSON.stringify(out)}, flat.bytes());
  console.log(JSON.stringify({ kimg: trainer.kimg, iteration: trainer.iteration, numel: flat.numel }));
}
if (world > 1) t.distDestroy();
`;

describe('data-parallel training', { skip }, () => {
  test('2 ranks × batch 8 give the parameters of 1 process × batch 16', async () => {
    const one = join(root, 'one.bin');
    const two = join(root, 'two.bin');
    const [single] = await runRanks(program(one), 1, 90_000);
    assert.equal(single.status, 0, single.stderr);
    const pair = await runRanks(program(two), 2, 90_000);
    for (const r of pair) assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(pair[0].stdout), JSON.parse(single.stdout), 'same kimg and iterations');
    const a = new Float32Array(readFileSync(one).buffer.slice(0));
    const b = new Float32Array(readFileSync(two).buffer.slice(0));
    assert.equal(a.length, b.length);
    const init = new Float32Array(readFileSync(`${one}.init`).buffer.slice(0));
    let maxDiff = 0;
    let maxMove = 0;
    for (let i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      maxMove = Math.max(maxMove, Math.abs(a[i] - init[i]));
    }
    // Measured: |Δ| ≤ 6e-6 while parameters move by up to 0.017.
    assert.ok(maxMove > 1e-3, `training moved the parameters (max ${maxMove})`);
    assert.ok(maxDiff < 1e-4, `max |Δ| ${maxDiff} over ${a.length} parameters (they moved by up to ${maxMove})`);
  });
});
