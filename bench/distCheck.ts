// SPDX-License-Identifier: MIT
// The process-group check that scripts/gpu/distCheck.sh runs on a GPU machine (NCCL) and, as its control and
// its CPU rehearsal, on the CPU (Gloo): `--world` ranks of `--backend`, rank r on `--device` (cuda: cuda:r), run
// the collectives the trainer uses and compare them with the values they must give.
//
//   node dist/bench/distCheck.js --backend nccl --world 1 --device cuda
//   node dist/bench/distCheck.js --backend gloo --world 2 --device cpu
//
// Each rank checks: distState (backend, device); a sum all-reduce of a list of two shapes (one flat buffer) and
// an average of a non-contiguous tensor, on the device; a float64 tensor on the CPU (NCCL: staged through the
// rank's GPU, as the trainer's ADA counters and stop flag are); a broadcast from the last rank, float32 and int64
// (module buffers); a barrier; then times a 64 MB sum all-reduce; distDestroy (NCCL: shutdown) must return.
// Prints one JSON line {"check": "dist", "backend", "world", "device", "pass", "failures", "allreduce_ms", "seconds"}
// and exits 1 when a check failed.
import { spawn } from 'node:child_process';
import { freePort } from '../src/util/freePort.js';
import { flag } from './flags.js';

const backend = flag('backend') ?? 'gloo';
const world = Number(flag('world') ?? 2);
const device = flag('device') ?? 'cpu';
const timeoutMs = Number(flag('timeout-ms') ?? 60_000);
const indexUrl = new URL('../src/index.js', import.meta.url).href;

/** One rank: its failures (expected vs got) and the all-reduce time, as a JSON line on stdout. */
const program = `import * as t from ${JSON.stringify(indexUrl)};
const rank = Number(process.env.RANK), world = Number(process.env.WORLD_SIZE);
const dev = ${JSON.stringify(device)} === 'cuda' ? 'cuda:' + rank : 'cpu';
const failures = [];
const same = (name, got, want) => {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) failures.push(name + ': got ' + g + ', want ' + w);
};
t.distInit({ rank, worldSize: world, masterPort: Number(process.env.MASTER_PORT), timeoutMs: ${timeoutMs},
  backend: ${JSON.stringify(backend)}, cudaDevice: rank });
// The group's device: the CPU for Gloo, the rank's GPU for NCCL.
same('distState', t.distState(), { rank, worldSize: world, backend: ${JSON.stringify(backend)}, device: ${JSON.stringify(backend)} === 'nccl' ? 'cuda:' + rank : 'cpu' });
const tri = (world * (world + 1)) / 2;
const a = t.full([3], rank + 1, { device: dev }), b = t.full([2, 2], 10 * (rank + 1), { device: dev });
t.allReduce_([a, b]);
same('sum a', a.toArray(), [tri, tri, tri]);
same('sum b', b.toArray(), [10 * tri, 10 * tri, 10 * tri, 10 * tri]);
const m = t.tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3], device: dev }).mul(rank + 1).transpose(0, 1);
t.allReduce_([m], { average: true });
same('average (non-contiguous)', m.contiguous().toArray(), [1, 4, 2, 5, 3, 6].map((v) => (v * (world + 1)) / 2));
const host = t.tensor([rank + 0.5, 1], { dtype: 'float64' });
t.allReduce_([host]);
same('float64 on the CPU', host.toArray(), [(world * world) / 2, world]);
same('stays on the CPU', host.device, 'cpu');
const f = t.full([2], rank, { device: dev }), i = t.arange(4, undefined, 1, { dtype: 'int64', device: dev }).add(rank);
t.broadcast_([f], world - 1);
t.broadcast_([i], world - 1);
same('broadcast float32', f.toArray(), [world - 1, world - 1]);
same('broadcast int64', i.toArray(), [0, 1, 2, 3].map((v) => v + world - 1));
t.barrier();
const big = t.ones([16 * 1024 * 1024], { device: dev });
t.allReduce_([big]);
t.barrier();
const s = performance.now();
t.allReduce_([big]);
const first = big.narrow(0, 0, 1).item();
const ms = performance.now() - s;
same('64 MB all-reduce', first, world * world);
t.distDestroy();
same('destroyed', t.distState(), null);
console.log(JSON.stringify({ rank, failures, ms }));
`;

function runRank(rank: number, port: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], {
      env: { ...process.env, RANK: String(rank), WORLD_SIZE: String(world), LOCAL_RANK: String(rank), MASTER_PORT: String(port) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs * 2);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const started = performance.now();
const port = await freePort();
const ranks = await Promise.all(Array.from({ length: world }, (_, rank) => runRank(rank, port)));
const failures: string[] = [];
let allreduceMs = 0;
ranks.forEach((r, rank) => {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) {
    // The thrown error's own line (Node prints the stack and the error's fields after it).
    const lines = r.stderr.trim().split('\n');
    const error = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.slice(-3).join(' | ');
    failures.push(`rank ${rank} exited with ${r.code}: ${error}`);
    return;
  }
  const o = JSON.parse(line) as { failures: string[]; ms: number };
  failures.push(...o.failures.map((f) => `rank ${rank}: ${f}`));
  allreduceMs = Math.max(allreduceMs, o.ms);
});
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({ check: 'dist', backend, world, device, pass: failures.length === 0, failures, allreduce_ms: allreduceMs, seconds }),
);
process.exitCode = failures.length ? 1 : 0;
