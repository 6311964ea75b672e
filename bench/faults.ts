// SPDX-License-Identifier: MIT
// Fault benchmark (issue 14): kill -9 against `ilsgan train` and `ilsgan pipeline`, then check what is left.
//
//   npm run bench:faults [-- --train-kills 6] [--pipeline-kills 4] [--seed 1] [--max-delay-ms 6000]
//       [--pipeline-max-delay-ms 20000] [--out DIR] [--keep]
//
// A tiny `train` (tiny32, 64 procedural images, batch 4, 1 thread, a checkpoint every 2 iterations) is killed
// with SIGKILL N times, alternately at a random time (0.2 s to --max-delay-ms after the restart logged its
// starting point, so every restart can be checked) and in the middle of a checkpoint write (when the 1st–6th temp
// file of this start appears in checkpoints/; for the pipeline, in any folder it writes atomically). After each
// kill it is started again the way a user would: `--resume` when the folder holds a complete checkpoint, else a
// new run into the same folder; the last start runs to the end. Then the same for a tiny `pipeline` (rerun with
// the same command). Each restart is checked from its log: it resumed from the newest complete checkpoint,
// skipped exactly the stages recorded as finished, or started afresh when nothing was complete, and did not fail
// on its own. At the end every checkpoint is loaded (checksum, finite values), every JSON and PNG is decoded, and
// the folders are searched for temp files, locks and weights without JSON; metrics.jsonl must count iterations
// 1, 2, 3, … once each.
// Prints one line per start, then ONE JSON line:
// {"kills", "kills_during_writes", "restarts", "successful_resumes", "resume_rate", "completed", "corrupt_files",
//  "leftover_temp_files", "leftover_locks", "duplicated_metric_lines", "backward_metric_lines", "metric_gaps", …}
// Exits 1 unless every restart succeeded and every count of damage is 0.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { mulberry32 } from '../src/data/procedural.js';
import { loadSafetensors } from '../src/tensor/safetensors.js';
import { dispose } from '../src/tensor/scope.js';
import { listCheckpoints, resolveCheckpoint } from '../src/run/checkpoint.js';
import { nonFiniteTensors } from '../src/train/checkpoint.js';
import { isAtomicTempFile } from '../src/util/atomicWrite.js';
import { lockFileName } from '../src/util/runLock.js';
import { walkFiles } from '../src/util/walkFiles.js';
import { flag } from './flags.js';

const cliPath = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const trainKills = Number(flag('train-kills') ?? 6);
const pipelineKills = Number(flag('pipeline-kills') ?? 4);
const seed = Number(flag('seed') ?? 1);
const maxDelayMs = Number(flag('max-delay-ms') ?? 6000);
const pipelineMaxDelayMs = Number(flag('pipeline-max-delay-ms') ?? 20000);
const keepDir = process.argv.includes('--keep');
const root = flag('out') ?? mkdtempSync(join(tmpdir(), 'ilsgan-faults-'));
const random = mulberry32(seed);
const env = { ...process.env, ILSGAN_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };

/**
 * When to kill: `ms` after the start has logged every line of `after` (at once when empty: a restart is killed
 * only once its starting point can be checked), or when the (skip + 1)-th distinct atomic-write temp file shows up
 * in `dirs`.
 */
type Kill = { kind: 'random'; ms: number; after: RegExp[] } | { kind: 'write'; dirs: string[]; skip: number } | null;
interface Outcome {
  code: number | null;
  /** How we killed it, if we did; 'write' only when a temp file was seen. */
  killed: 'random' | 'write' | null;
  /** The temp file seen when killed during a write. */
  tempFile?: string;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** One CLI run, killed with SIGKILL as `kill` says (or never). */
function runCli(args: string[], kill: Kill): Promise<Outcome> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Outcome = { code: null, killed: null, stdout: '', stderr: '', seconds: 0 };
  child.stdout.on('data', (b) => (out.stdout += String(b)));
  const timers: NodeJS.Timeout[] = [];
  let armed = false;
  const arm = () => {
    if (armed || kill?.kind !== 'random' || !kill.after.every((re) => re.test(out.stderr))) return;
    armed = true;
    timers.push(setTimeout(() => killNow('random'), kill.ms));
  };
  child.stderr.on('data', (b) => {
    out.stderr += String(b);
    arm();
  });
  const killNow = (how: 'random' | 'write') => {
    if (out.killed || child.exitCode !== null) return;
    out.killed = how;
    child.kill('SIGKILL');
  };
  arm();
  if (kill?.kind === 'write') {
    const { dirs, skip } = kill;
    const seen = new Set<string>();
    timers.push(
      setInterval(() => {
        for (const d of dirs) {
          let names: string[];
          try {
            names = readdirSync(d);
          } catch {
            continue;
          }
          for (const n of names) {
            if (!isAtomicTempFile(n) || n.startsWith(lockFileName)) continue;
            seen.add(join(d, n));
            if (seen.size > skip) {
              out.tempFile = join(d, n);
              killNow('write');
              return;
            }
          }
        }
      }, 2),
    );
  }
  // A start that hangs is a failure too.
  timers.push(setTimeout(() => child.kill('SIGKILL'), 600_000));
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      for (const t of timers) clearTimeout(t);
      out.code = code;
      out.seconds = (performance.now() - t0) / 1000;
      resolve(out);
    }),
  );
}

interface Tally {
  kills: number;
  killsDuringWrites: number;
  restarts: number;
  /** Restarts whose start was checked from their log (the others were killed before they logged it). */
  verified: number;
  ok: number;
  failures: string[];
}
const tally: Tally = { kills: 0, killsDuringWrites: 0, restarts: 0, verified: 0, ok: 0, failures: [] };

/** The error lines of a failed start, for the report. */
const errorOf = (o: Outcome) =>
  o.stderr
    .split('\n')
    .filter((l) => /^(error|hint):|Error/.test(l))
    .slice(0, 2)
    .join(' / ') || `exit ${o.code}`;

/**
 * Kills a command `kills` times, restarting it after each kill, then lets it finish. `prepare` gives the arguments
 * of the next start and what its log must show (null: nothing to check); returns the last outcome.
 */
async function killLoop(
  name: string,
  kills: number,
  maxDelay: number,
  writeDirs: string[],
  prepare: () => { args: string[]; expect: RegExp[]; forbid: RegExp[] },
): Promise<Outcome> {
  for (let attempt = 0; ; attempt++) {
    const { args, expect, forbid } = prepare();
    const kill: Kill =
      attempt >= kills
        ? null
        : attempt % 2 === 0
          ? { kind: 'random', ms: 200 + random() * (maxDelay - 200), after: expect }
          : { kind: 'write', dirs: writeDirs, skip: Math.floor(random() * 6) };
    const o = await runCli(args, kill);
    const restart = attempt > 0;
    // What the start logged: every expected line and no forbidden one (a start killed early logs fewer).
    const missing = expect.find((re) => !re.test(o.stderr));
    const wrong = forbid.find((re) => re.test(o.stderr));
    let verdict: string;
    if (!o.killed && o.code !== 0) verdict = `FAILED: ${errorOf(o)}`;
    else if (wrong) verdict = `WRONG START: ${o.stderr.match(wrong)![0]}`;
    else if (!missing) verdict = 'ok';
    else if (o.killed) verdict = 'killed before its start was logged';
    else verdict = `WRONG START: ${missing} not in its log`;
    if (restart) {
      tally.restarts++;
      if (verdict === 'ok') {
        tally.verified++;
        tally.ok++;
      } else if (verdict.startsWith('FAILED') || verdict.startsWith('WRONG')) {
        tally.verified++;
        tally.failures.push(`${name} start ${attempt}: ${verdict}`);
      }
    } else if (verdict !== 'ok' && !verdict.startsWith('killed')) {
      tally.failures.push(`${name} first start: ${verdict}`);
    }
    if (o.killed) {
      tally.kills++;
      if (o.killed === 'write') tally.killsDuringWrites++;
    }
    const how =
      o.killed === 'random'
        ? `kill -9 ${((kill as { ms: number }).ms / 1000).toFixed(1)} s after its start (${o.seconds.toFixed(1)} s)`
        : o.killed === 'write'
          ? `kill -9 while writing ${o.tempFile?.split('/').pop()}`
          : `ran to the end in ${o.seconds.toFixed(1)} s`;
    process.stdout.write(
      `${name.padEnd(8)} start ${String(attempt).padStart(2)} ${args.includes('--resume') ? '(--resume)' : ''.padEnd(10)} ${how.padEnd(62)} ${verdict}\n`,
    );
    if (!o.killed) return o;
    if (attempt > kills + 5) return o;
  }
}

/** Every file under dir (not following links). */
function walk(dir: string): string[] {
  const out: string[] = [];
  walkFiles(dir, (p) => out.push(p));
  return out;
}

interface Damage {
  corrupt: string[];
  temps: string[];
  locks: string[];
  duplicated: number;
  backward: number;
  gaps: number;
}
const damage: Damage = { corrupt: [], temps: [], locks: [], duplicated: 0, backward: 0, gaps: 0 };

/** Loads every complete checkpoint of a run (checksum, finite values) and checks its metrics.jsonl. */
function checkRun(run: string): void {
  for (const name of listCheckpoints(run)) {
    try {
      const { state, weightsPath } = resolveCheckpoint(run, name);
      const { tensors } = loadSafetensors(weightsPath, { sha256: state.weightsSha256 });
      const bad = nonFiniteTensors(tensors);
      dispose([...tensors.values()]);
      if (bad.length) damage.corrupt.push(`${weightsPath}: non-finite ${bad[0]}`);
    } catch (e) {
      damage.corrupt.push(`${run}/${name}: ${(e as Error).message}`);
    }
  }
  const dir = join(run, 'checkpoints');
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    if (/^ckpt-\d+\.safetensors$/.test(f) && !existsSync(join(dir, f.replace(/\.safetensors$/, '.json')))) damage.temps.push(join(dir, f));
  }
  const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const seen = new Set<number>();
  let last = 0;
  for (const line of lines) {
    let it: number;
    try {
      it = (JSON.parse(line) as { iteration: number }).iteration;
    } catch {
      damage.corrupt.push(`${run}/metrics.jsonl: unreadable line ${line.slice(0, 40)}`);
      continue;
    }
    if (seen.has(it)) damage.duplicated++;
    else if (it < last) damage.backward++;
    else if (it !== last + 1) damage.gaps++;
    seen.add(it);
    last = Math.max(last, it);
  }
}

/** Decodes every JSON and PNG under dir; collects temp files and locks. */
async function checkFiles(dir: string): Promise<void> {
  for (const f of walk(dir)) {
    const base = f.split('/').pop()!;
    if (isAtomicTempFile(base)) damage.temps.push(f);
    else if (base === lockFileName) damage.locks.push(f);
    else if (f.endsWith('.json')) {
      try {
        JSON.parse(readFileSync(f, 'utf8'));
      } catch (e) {
        damage.corrupt.push(`${f}: ${(e as Error).message}`);
      }
    } else if (f.endsWith('.png')) {
      try {
        await sharp(f).raw().toBuffer();
      } catch (e) {
        damage.corrupt.push(`${f}: ${(e as Error).message}`);
      }
    }
  }
}

const t0 = performance.now();
const completed = { train: false, pipeline: false };

// 1. train: 0.2 kimg = 50 iterations of batch 4 on 64 procedural images, a checkpoint every 2 iterations.
const run = join(root, 'train-run');
const trainArgs = [
  '--data',
  'demo',
  '--demo-n',
  '64',
  '--config',
  'tiny32',
  '--batch',
  '4',
  '--kimg',
  '0.2',
  '--tick',
  '0.004',
  '--snap',
  '0.04',
  '--checkpoint-every',
  '0.008',
  '--threads',
  '1',
  '--no-progress',
];
const trainEnd = await killLoop('train', trainKills, maxDelayMs, [join(run, 'checkpoints')], () => {
  const latest = listCheckpoints(run).pop();
  if (latest) {
    return {
      args: ['train', '--resume', run, '--threads', '1', '--no-progress'],
      expect: [new RegExp(`^resumed .* \\(${latest}\\)$`, 'm')],
      forbid: [new RegExp(`^resumed .* \\((?!${latest}\\)).*$`, 'm')],
    };
  }
  return { args: ['train', ...trainArgs, '--out', run], expect: [/^data: 64 images/m], forbid: [/^resumed .*$/m] };
});
try {
  completed.train =
    trainEnd.code === 0 && JSON.parse(trainEnd.stdout.trim()).stopped_by === 'done' && listCheckpoints(run).pop() === 'ckpt-000000200';
} catch {
  completed.train = false;
}
checkRun(run);
await checkFiles(run);

// 2. pipeline: 8 GAN iterations (a checkpoint each), 128 synthetic pairs, 4 U-Net iterations; rerun as it is.
const out = join(root, 'pipeline-out');
const gan = join(out, 'gan');
const pipelineArgs = [
  'pipeline',
  '--data',
  'demo',
  '--out',
  out,
  '--config',
  'tiny32',
  '--kimg',
  '0.032',
  '--batch',
  '4',
  '--n-synthetic',
  '128',
  '--seg-iters',
  '4',
  '--seg-width',
  '4',
  '--seg-size',
  '32',
  '--no-progress',
];
const stageOrder = ['testset', 'train', 'select', 'generate', 'segtrain', 'eval', 'examples', 'report'];
const pipelineEnd = await killLoop(
  'pipeline',
  pipelineKills,
  pipelineMaxDelayMs,
  [join(gan, 'checkpoints'), gan, join(out, 'stages'), out, join(out, 'segmenter'), join(out, 'synthetic')],
  () => {
    // Finished stages are skipped in order; an unfinished GAN stage resumes from the newest complete checkpoint.
    const done = stageOrder.filter((s) => existsSync(join(out, 'stages', `${s}.json`)));
    const expect = done.map((s) => new RegExp(`^\\[${s}\\] done earlier`, 'm'));
    const forbid = done.map((s) => new RegExp(`^\\[${s}\\] (?!done earlier).*$`, 'm'));
    const latest = listCheckpoints(gan).pop();
    if (!done.includes('train')) {
      if (latest) expect.push(new RegExp(`^resumed .* \\(${latest}\\)$`, 'm'));
      forbid.push(latest ? new RegExp(`^resumed .* \\((?!${latest}\\)).*$`, 'm') : /^resumed .*$/m);
    }
    return { args: pipelineArgs, expect, forbid };
  },
);
try {
  completed.pipeline = pipelineEnd.code === 0 && typeof JSON.parse(pipelineEnd.stdout.trim().split('\n').pop()!).DRC_IoU === 'number';
} catch {
  completed.pipeline = false;
}
checkRun(gan);
await checkFiles(out);

const verifiedRate = tally.verified ? tally.ok / tally.verified : 1;
const clean =
  completed.train &&
  completed.pipeline &&
  tally.failures.length === 0 &&
  damage.corrupt.length + damage.temps.length + damage.locks.length + damage.duplicated + damage.backward + damage.gaps === 0;
for (const f of [...tally.failures, ...damage.corrupt, ...damage.temps, ...damage.locks]) process.stdout.write(`  ${f}\n`);
if (!keepDir && !flag('out')) rmSync(root, { recursive: true, force: true });
else process.stdout.write(`folders kept in ${root}\n`);
process.stdout.write(
  `${JSON.stringify({
    kills: tally.kills,
    kills_during_writes: tally.killsDuringWrites,
    restarts: tally.restarts,
    verified_restarts: tally.verified,
    successful_resumes: tally.ok,
    resume_rate: Number(verifiedRate.toFixed(3)),
    completed,
    corrupt_files: damage.corrupt.length,
    leftover_temp_files: damage.temps.length,
    leftover_locks: damage.locks.length,
    duplicated_metric_lines: damage.duplicated,
    backward_metric_lines: damage.backward,
    metric_gaps: damage.gaps,
    seed,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  })}\n`,
);
process.exit(clean ? 0 : 1);
