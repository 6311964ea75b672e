// SPDX-License-Identifier: MIT
// CLI polish (issue 16, item 5): `--help` lists the commands in workflow order with an example of each; every
// command that ends with numbers takes --json and then prints one JSON line and nothing else; every --device
// defaults to auto, which picks CUDA when present; Ctrl-C exits 130 (child processes get real signals).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { makeProgram, workflow } from '../../src/cli/program.js';
import { deviceFlag, pickDevice } from '../../src/cli/parse.js';
import { printOutcome } from '../../src/cli/commands/pipeline.js';
import type { PipelineResult } from '../../src/pipeline/pipeline.js';
import { repoRoot } from '../helpers/childProcess.js';
import { assertUserError, runCli } from '../helpers/cli.js';

/** Commands whose result is numbers (counts, scores, kimg): each takes --json. */
const numberCommands = [
  'demo',
  'pipeline',
  'train',
  'dataset demo',
  'composite',
  'generate',
  'seg-train',
  'segment',
  'eval',
  'fid',
  'mi',
  'info',
];

function allCommands(): Map<string, CommandUnknownOpts> {
  const found = new Map<string, CommandUnknownOpts>();
  const walk = (c: CommandUnknownOpts, path: string) => {
    for (const sub of c.commands) {
      const p = path ? `${path} ${sub.name()}` : sub.name();
      found.set(p, sub);
      walk(sub, p);
    }
  };
  walk(makeProgram() as unknown as CommandUnknownOpts, '');
  return found;
}

test('--help: commands in workflow order, then one example line for each', () => {
  const r = runCli(['--help'], repoRoot);
  assert.equal(r.status, 0, r.stderr);
  const commandsSection = r.stdout.split(/^Commands:$/m)[1]!.split(/^\S/m)[0]!;
  const listed = [...commandsSection.matchAll(/^ {2}([a-z-]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
  const registered = [...makeProgram().commands.map((c) => c.name())];
  assert.deepEqual([...listed].sort(), [...registered].sort(), 'every command is listed');
  const order = workflow.map(([c]) => c).filter((c) => listed.includes(c));
  assert.deepEqual(listed, order, 'listed in workflow order');
  for (const c of listed) {
    assert.ok(
      workflow.some(([w]) => w === c),
      `${c} has an example in the workflow table`,
    );
    assert.match(r.stdout, new RegExp(`^ {2}${c} +ilsgan ${c.replace('-', '\\-')}\\b.*$`, 'm'), `an example line for ${c}`);
  }
  const examples = r.stdout.split(/^Workflow, in order/m)[1]!;
  assert.deepEqual(
    [...examples.matchAll(/^ {2}([a-z-]+) +ilsgan /gm)].map((m) => m[1]),
    listed,
    'examples in the same order',
  );
});

test('--json on every command that ends with numbers', () => {
  const commands = allCommands();
  for (const name of numberCommands) {
    const c = commands.get(name);
    if (!c) continue; // a command another change removed is not this test's business
    assert.ok(
      c.options.some((o) => o.long === '--json'),
      `ilsgan ${name} takes --json`,
    );
  }
});

test('--json: the pipeline prints one JSON line and nothing else (the table without)', () => {
  const r: PipelineResult = {
    out: 'o',
    runDir: 'o/gan',
    checkpoint: { name: 'ckpt-000000256', method: 'latest' } as PipelineResult['checkpoint'],
    eval: { images: 3, size: 32, DRC_IoU: 0.5, DRC_DICE: 0.6, IoU: 0.4, mIoU: 0.55, pACC: 0.7 } as unknown as PipelineResult['eval'],
    baselines: { all_foreground: { DRC_IoU: 0.3 }, centred_ellipse: { DRC_IoU: 0.45 } } as unknown as PipelineResult['baselines'],
    report: 'o/report.html',
    seconds: { train: 12.345 },
  };
  const capture = (json: boolean) => {
    let out = '';
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => {
      out += s;
      return true;
    }) as typeof write;
    try {
      printOutcome(r, json);
    } finally {
      process.stdout.write = write;
    }
    return out;
  };
  const table = capture(false);
  assert.match(table, /all foreground/);
  const json = capture(true);
  assert.equal(json.split('\n').length, 2, 'one line');
  const j = JSON.parse(json) as { DRC_IoU: number; baselines: { centred_ellipse: number }; seconds: { train: number } };
  assert.equal(j.DRC_IoU, 0.5);
  assert.equal(j.baselines.centred_ellipse, 0.45);
  assert.equal(j.seconds.train, 12.3);
  // Without test masks: no metrics, still one line.
  Object.assign(r, { eval: null, baselines: null });
  assert.match(capture(false), /^no test masks/);
  const noMasks = capture(true);
  assert.equal(noMasks.split('\n').length, 2);
  assert.equal((JSON.parse(noMasks) as { DRC_IoU: null }).DRC_IoU, null);
});

test('dataset demo --json: stdout is exactly one JSON line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ilsgan-json-'));
  try {
    const r = runCli(['dataset', 'demo', '--out', join(dir, 'd'), '--n', '2', '--test-n', '1', '--size', '16', '--json'], dir);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines.length, 2);
    assert.deepEqual(JSON.parse(lines[0]!), { out: join(dir, 'd'), train: 2, test: 1, size: 16 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('segment --json with output - (stdout is the PNG there) is a usage error', () => {
  const r = runCli(['segment', '--model', 'nowhere', 'in.png', '-', '--json'], repoRoot);
  assertUserError(r, /^error: --json prints the result on stdout, but output "-" writes the PNG there$/m);
  assert.equal(r.stdout, '');
});

test('--device: auto by default wherever the flag exists; auto picks CUDA only when present', () => {
  let withDevice = 0;
  for (const [name, c] of allCommands()) {
    const o = c.options.find((x) => x.long === '--device');
    if (!o) continue;
    withDevice++;
    assert.equal(o.defaultValue, 'auto', `ilsgan ${name} --device defaults to auto`);
    assert.equal(o.parseArg?.('auto', undefined), 'auto');
    assert.equal(o.parseArg?.('cuda:1', undefined), 'cuda:1');
    assert.throws(() => o.parseArg?.('gpu', undefined), /expected auto, cpu, cuda or cuda:N, got "gpu"/);
  }
  assert.ok(withDevice >= 7, `${withDevice} commands with --device`);
  assert.equal(deviceFlag('auto'), 'auto');
  assert.equal(
    pickDevice('auto', () => true),
    'cuda',
  );
  assert.equal(
    pickDevice('auto', () => false),
    'cpu',
  );
  assert.equal(
    pickDevice('cpu', () => true),
    'cpu',
    'an explicit device is kept',
  );
  assert.equal(
    pickDevice('cuda:1', () => false),
    'cuda:1',
    'an explicit device is kept (requireDevice checks it)',
  );
});

/** Runs a child that installs the CLI's interrupt handling, signals it once it is ready, and returns its end. */
function signalled(
  script: string,
  signals: NodeJS.Signals[],
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const url = new URL('../../src/util/interrupt.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import * as i from ${JSON.stringify(url)};\n${script}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += String(b)));
  return new Promise((res) => {
    let sent = false;
    child.stdout.on('data', (b) => {
      stdout += String(b);
      if (!sent && stdout.includes('ready')) {
        sent = true;
        signals.forEach((s, k) => setTimeout(() => child.kill(s), 100 * k));
      }
    });
    child.on('exit', (code, signal) => res({ code, signal, stdout, stderr }));
  });
}

test('Ctrl-C outside a clean stop: exit 130 at once with the explanation; SIGTERM 143', async () => {
  const script = `i.exitOnInterrupt((sig) => 'kept: nothing; ' + sig); setInterval(() => {}, 1000); process.stdout.write('ready\\n');`;
  const int = await signalled(script, ['SIGINT']);
  assert.equal(int.code, 130);
  assert.match(int.stderr, /^SIGINT: kept: nothing; SIGINT$/m);
  const term = await signalled(script, ['SIGTERM']);
  assert.equal(term.code, 143);
});

test('Ctrl-C during a clean stop: the work saves and ends with 130; a second Ctrl-C exits at once', async () => {
  // The "training loop": on SIGINT it saves (after a moment), ends its clean stop and lets the process exit 130.
  const loop = `
    i.exitOnInterrupt(() => 'unexpected');
    const end = i.beginCleanStop();
    const timer = setInterval(() => {}, 1000);
    process.once('SIGINT', () => setTimeout(() => {
      process.stdout.write('saved\\n'); end(); clearInterval(timer); process.exitCode = i.exitCodeFor(i.receivedSignal());
    }, 600));
    process.stdout.write('ready\\n');`;
  const once = await signalled(loop, ['SIGINT']);
  assert.equal(once.code, 130);
  assert.match(once.stdout, /^saved$/m);
  assert.doesNotMatch(once.stderr, /unexpected/);
  const twice = await signalled(loop, ['SIGINT', 'SIGINT']);
  assert.equal(twice.code, 130);
  assert.doesNotMatch(twice.stdout, /saved/);
  assert.match(twice.stderr, /^SIGINT: stopped without waiting for the checkpoint$/m);
});
