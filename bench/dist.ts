// SPDX-License-Identifier: MIT
// Multi-process training benchmark (issue 17): tiny32 training speed of 1 process × 2 threads against 2 processes
// × 1 thread (`ilsgan train --nproc 2`, c10d Gloo over loopback), same global batch, and the all-reduce bandwidth
// of two ranks.
//
//   npm run bench:dist -- [--batch 16] [--kimg 0.192] [--mb 64]
//
// img/s is the median of the run's metrics.jsonl ticks after the first (warm-up). The all-reduce figure is the
// algorithm bandwidth: the bytes of one rank's buffer over the time of a sum all-reduce (median of 5). Prints a
// table, then one JSON line: {"config", "batch", "img_per_s_1x2", "img_per_s_2x1", "speedup", "allreduce_gb_s"}.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distAvailable } from '../src/tensor/dist.js';
import { flag } from './flags.js';

const batch = Number(flag('batch') ?? 16);
const kimg = Number(flag('kimg') ?? 0.192);
const megabytes = Number(flag('mb') ?? 64);
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const indexUrl = new URL('../src/index.js', import.meta.url).href;

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function trainSpeed(root: string, name: string, extra: string[]): Promise<number> {
  const out = join(root, name);
  const tick = (batch / 1000).toString();
  const r = await run([
    cli,
    'train',
    '--data',
    'demo',
    '--demo-n',
    '256',
    '--config',
    'tiny32',
    '--batch',
    String(batch),
    '--kimg',
    String(kimg),
    '--tick',
    tick,
    '--snap',
    String(kimg),
    '--out',
    out,
    '--no-progress',
    ...extra,
  ]);
  if (r.code !== 0) throw new Error(`${name} failed (${r.code}):\n${r.stderr}`);
  const ticks = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { img_per_s: number });
  return median(ticks.slice(1).map((m) => m.img_per_s));
}

async function allReduceBandwidth(): Promise<number> {
  const numel = Math.round((megabytes * 1e6) / 4);
  const program = `import * as t from ${JSON.stringify(indexUrl)};
t.distInit({ rank: Number(process.env.RANK), worldSize: 2, masterPort: Number(process.env.MASTER_PORT), timeoutMs: 60000 });
const x = t.ones([${numel}]); t.allReduce_([x]);
const times = [];
for (let i = 0; i < 5; i++) { t.barrier(); const s = performance.now(); t.allReduce_([x]); times.push(performance.now() - s); }
times.sort((a, b) => a - b); console.log(times[2]); t.distDestroy();`;
  const port = String(20000 + Math.floor(Math.random() * 20000));
  const ranks = await Promise.all(
    [0, 1].map((rank) => run(['--input-type=module', '-e', program], { RANK: String(rank), MASTER_PORT: port, ILSGAN_NUM_THREADS: '1' })),
  );
  for (const r of ranks) if (r.code !== 0) throw new Error(`all-reduce failed:\n${r.stderr}`);
  const ms = Math.max(...ranks.map((r) => Number(r.stdout.trim())));
  return (numel * 4) / (ms / 1000) / 1e9;
}

if (!distAvailable('gloo')) {
  console.error('bench:dist: the addon was built without c10d/Gloo (see distributed in ilsgan --version)');
  process.exit(1);
}
const root = mkdtempSync(join(tmpdir(), 'ilsgan-bench-dist-'));
try {
  const one = await trainSpeed(root, 'one', ['--threads', '2']);
  const two = await trainSpeed(root, 'two', ['--nproc', '2', '--threads', '2']);
  const gbs = await allReduceBandwidth();
  console.log('setup                       img/s');
  console.log(`1 process  x 2 threads   ${one.toFixed(2).padStart(8)}`);
  console.log(`2 processes x 1 thread   ${two.toFixed(2).padStart(8)}`);
  console.log(`all-reduce (2 ranks, ${megabytes} MB float32): ${gbs.toFixed(2)} GB/s`);
  console.log(
    JSON.stringify({
      config: 'tiny32',
      batch,
      img_per_s_1x2: +one.toFixed(2),
      img_per_s_2x1: +two.toFixed(2),
      speedup: +(two / one).toFixed(3),
      allreduce_gb_s: +gbs.toFixed(3),
    }),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
