// SPDX-License-Identifier: MIT
// Calls every raw addon export with random arguments of the kinds its typed signature names (read from the
// NativeBinding interface in src/tensor/native.ts, so a new export is fuzzed without touching this file): mostly
// well-typed, so that they reach libtorch's kernels, but with edge values there (NaN, ±Infinity, 1e-7, 2^31,
// 2^32 + 2, 2^53 − 1, negative and empty sizes, stale and forged handles), and a wrong type now and then.
// fuzz.test.ts covers mistyped argument lists broadly; this one found the out-of-bounds read of interpolate
// with a scale of 1e-7 and pooling kernels truncated to int. Seeded and deterministic; the child runs under an
// address-space limit just above what it maps, so a huge allocation fails at once instead of using the machine.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot, runChild } from '../helpers/childProcess.js';

type Kind =
  | 'tensor'
  | 'optTensor'
  | 'tensors'
  | 'optTensors'
  | 'int'
  | 'num'
  | 'optNum'
  | 'optInt'
  | 'ints'
  | 'bool'
  | 'optBool'
  | 'dtype'
  | 'optDtype'
  | 'device'
  | 'optDevice'
  | 'string'
  | 'f64array'
  | 'buffer'
  | 'ctor';

/** Each export's parameters as `kind:name`, from its declaration in the NativeBinding interface. */
function signatures(source: string): Record<string, string[]> {
  const body = source.slice(
    source.indexOf('export interface NativeBinding'),
    source.indexOf('\n}\n', source.indexOf('export interface NativeBinding')),
  );
  const decls = body
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, ' ')
    .split(';');
  const out: Record<string, string[]> = {};
  const intNames =
    /^(dim|d0|d1|start|end|length|index|k|chunks|groups|n|m|steps|numClasses|low|high|seed|diagonal|reduction|ignoreIndex|mode|padding|device)$/;
  for (const d of decls) {
    const m = /^\s*(\w+)\((.*)\):/.exec(d);
    if (!m) continue;
    const params =
      m[2].trim() === ''
        ? []
        : m[2]
            .split(/,(?![^(]*\))/)
            .map((p) => p.trim())
            .filter(Boolean);
    out[m[1]] = params.map((p) => {
      const [name, type] = p.split(/:\s*/) as [string, string];
      return `${kindOf(name, type)}:${name}`;
    });
  }
  return out;

  function kindOf(name: string, type: string): Kind {
    const t = type.replace(/\s/g, '');
    if (t === 'H' || t === 'Handle') return 'tensor';
    if (t === 'Opt' || t === 'H|null') return 'optTensor';
    if (t === 'H[]') return 'tensors';
    if (t === 'Opt[]' || t === '(H|null)[]') return 'optTensors';
    if (t === 'number[]') return 'ints';
    if (t === 'boolean') return 'bool';
    if (t === 'boolean|null') return 'optBool';
    if (t === 'DtypeCode') return 'dtype';
    if (t === 'DtypeCode|null') return 'optDtype';
    if (t === 'DeviceCode') return 'device';
    if (t === 'DeviceCode|null') return 'optDevice';
    if (t === 'Float64Array') return 'f64array';
    if (t.includes('ArrayBuffer')) return 'buffer';
    if (t.startsWith('new')) return 'ctor';
    if (t.includes("'") || t === 'string') return 'string';
    if (t === 'number|null') return intNames.test(name) ? 'optInt' : 'optNum';
    if (t === 'number') return intNames.test(name) ? 'int' : 'num';
    return 'num';
  }
}

interface FuzzConfig {
  seed: number;
  callsPerExport: number;
  signatures: Record<string, string[]>;
}

/** The child's program (serialised with toString: self-contained). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the fuzzer calls the library and the binding with anything
function fuzzChild(t: any, native: any, cfg: FuzzConfig, limit: (headroom: number) => void): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const { writeSync } = (globalThis as any).__fs;
  const say = (s: string) => writeSync(1, `${s}\n`);
  const F32 = 6,
    F64 = 7,
    I64 = 4,
    BOOL = 11,
    U8 = 0,
    F16 = 5,
    CPU = -1;
  native.manualSeed(1);
  const fx: Record<string, number> = {
    s0: native.scalarTensor(1.5, F32, CPU),
    f3: native.rand([3], F32, CPU),
    f23: native.randn([2, 3], F32, CPU),
    d23: native.randn([2, 3], F64, CPU),
    img: native.rand([1, 2, 4, 4], F32, CPU),
    img53: native.rand([2, 3, 5, 3], F32, CPU),
    w: native.rand([3, 2, 3, 3], F32, CPU),
    wt: native.rand([2, 3, 1, 1], F32, CPU),
    grid: native.rand([1, 3, 3, 2], F32, CPU),
    theta: native.rand([1, 2, 3], F32, CPU),
    i2: native.fromBuffer(new BigInt64Array([0n, 1n]), I64, [2], CPU),
    ibig: native.fromBuffer(new BigInt64Array([2n ** 40n, -(2n ** 62n)]), I64, [2], CPU),
    b23: native.fromBuffer(new Uint8Array([1, 0, 1, 0, 0, 1]), BOOL, [2, 3], CPU),
    u8: native.fromBuffer(new Uint8Array([1, 2, 3, 4]), U8, [4], CPU),
    half: native.ones([2, 2], F16, CPU),
    e03: native.zeros([0, 3], F32, CPU),
    rg: native.rand([3], F32, CPU),
  };
  native.setRequiresGrad(fx.rg, true);
  fx.y = native.mul(fx.rg, fx.rg);
  const one = native.ones([1], F32, CPU);
  fx.tall = native.expand(one, [1, 1, 4096, 1]); // a view: many rows over one element
  const gone = native.zeros([1], F32, CPU);
  native.dispose(gone);
  const names = Object.keys(fx);
  const images = ['img', 'img53', 'w', 'tall']; // 4-D: what the nn ops take
  const fixtureSet = new Set(Object.values(fx));
  const threads = native.getNumThreads();

  // Deterministic PRNG (mulberry32), one stream per export.
  function rngFor(name: string): () => number {
    let a = cfg.seed >>> 0;
    for (let i = 0; i < name.length; i++) a = Math.imul(a ^ name.charCodeAt(i), 2654435761) >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let r = Math.imul(a ^ (a >>> 15), 1 | a);
      r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
      return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
    };
  }
  const B31 = 2 ** 31,
    B32 = 2 ** 32,
    MAXS = 2 ** 53 - 1;
  const ints = [-3, -2, -1, 0, 0, 1, 1, 1, 2, 2, 3, 4, 7, 64, B31 - 1, B31, B32 + 2, MAXS, -MAXS, 1e15];
  const nums = [0, -0, 1, -1, 0.5, 2, 3, 1 / 3, 1e-7, 1e-20, 1e300, -1e300, NaN, Infinity, -Infinity, 0.1];
  // Size lists: small ones, and ones whose product or bytes cannot exist (never 0.5–8 GB: those would be real).
  const lists: number[][] = [
    [],
    [0],
    [1],
    [2],
    [3],
    [4],
    [-1],
    [1, 1],
    [2, 2],
    [3, 3],
    [0, 0],
    [2, 3],
    [3, 2],
    [-1, 2],
    [1, 2, 4, 4],
    [2, 2, 2, 2],
    [1, 1, 1, 1, 1, 1],
    [4, 4, 4, 4],
    [B31, B31],
    [B32 + 2, 2],
    [1e15],
    [MAXS, 1],
    [B31 - 1, B31 - 1],
    [-B31, 1],
    [0, 1],
  ];
  const wrong: unknown[] = [
    undefined,
    'x',
    {},
    [],
    [NaN],
    [1.5],
    NaN,
    1.5,
    -0,
    true,
    null,
    10n,
    Symbol('s'),
    () => 1,
    new Uint8Array(2),
    [[1]],
    gone,
    2 ** 24 * 4000 + 3,
  ];

  // Window parameters and sizes of nn ops: pairs, at the edges of int and of what the kernels index.
  const windowInts = [0, 1, 1, 2, 2, 3, 4, 5, 9, -1, B31 - 1, B31, B32 + 2, MAXS];
  const scales = [null, 1e-7, 1e-9, 1e-12, 1e-15, 1e-20, 0.1, 1 / 3, 0.5, 1, 2, 3.7, 1e300, NaN, -1, 0];
  const modes = [0, 0, 1, 1, 2, 2, 3, -1, 4, 9];
  const pairNames = /^(size|kernel|stride|padding|dilation|outputPadding)$/;

  function value(param: string, rng: () => number): unknown {
    const [kind, name] = param.split(':');
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
    if (rng() < 0.04) return pick(wrong);
    if (kind === 'int' && /^(mode|reduction|padding)$/.test(name)) return pick(modes); // enum codes
    if (kind === 'ints' && pairNames.test(name) && rng() < 0.7) return [pick(windowInts), pick(windowInts)];
    if (kind === 'optNum' && name.startsWith('scale')) return pick(scales);
    switch (kind) {
      case 'tensor':
        return rng() < 0.05 ? gone : fx[rng() < 0.4 ? pick(images) : pick(names)];
      case 'optTensor':
        return rng() < 0.3 ? null : fx[pick(names)];
      case 'tensors':
        return Array.from({ length: Math.floor(rng() * 4) }, () => fx[pick(names)]);
      case 'optTensors':
        return Array.from({ length: Math.floor(rng() * 4) }, () => (rng() < 0.3 ? null : fx[pick(names)]));
      case 'int':
        return pick(ints);
      case 'optInt':
        return rng() < 0.3 ? null : pick(ints);
      case 'num':
        return rng() < 0.3 ? pick(ints) : pick(nums);
      case 'optNum':
        return rng() < 0.3 ? null : pick(nums);
      case 'ints': {
        if (rng() < 0.6) return pick(lists);
        return Array.from({ length: Math.floor(rng() * 5) }, () => pick(ints));
      }
      case 'bool':
        return rng() < 0.5;
      case 'optBool':
        return rng() < 0.3 ? null : rng() < 0.5;
      case 'dtype':
        return pick([0, 3, 4, 5, 6, 6, 6, 7, 11, 15, 2, 99, -1]);
      case 'optDtype':
        return pick([null, null, 6, 7, 4, 99]);
      case 'device':
        return pick([CPU, CPU, CPU, CPU, 0, 63, 64]);
      case 'optDevice':
        return pick([null, CPU, CPU, 0]);
      case 'string':
        return pick(['trunc', 'floor', 'x']);
      case 'f64array':
        return new Float64Array(Math.floor(rng() * 3));
      case 'buffer':
        return pick([new Float32Array(6), new Uint8Array(4), new ArrayBuffer(8), new BigInt64Array(2), new Uint8Array(0)]);
      case 'ctor':
        return pick([t.TensorError, Error, class Odd {}]);
      default:
        return pick(nums);
    }
  }
  function describe(v: unknown): string {
    if (typeof v === 'number') {
      const n = names.find((k) => fx[k] === v);
      return n ? `$${n}` : Object.is(v, -0) ? '-0' : String(v);
    }
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'function' || typeof v === 'symbol') return typeof v;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `${v.constructor.name}(${(v as ArrayBuffer).byteLength})`;
    if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
    return JSON.stringify(v) ?? String(v);
  }
  // Exports whose effect is global are put back after each call; releaseAll would free the fixtures.
  function restore(name: string): void {
    if (name === 'setNumThreads') native.setNumThreads(threads);
    if (name === 'setErrorClass') native.setErrorClass(t.TensorError);
    if (name === 'setGradEnabled') native.setGradEnabled(true);
    if (name === 'setAutocast') {
      native.setAutocast(false, false, 15);
      native.setAutocast(false, true, F16);
    }
    if (name === 'profileStart') native.profileStop();
  }

  limit(512 * 2 ** 20);
  const stats = { calls: 0, threw: 0, exports: 0 };
  const problems: string[] = [];
  const slow: [number, string][] = [];
  const started = Date.now();
  for (const name of Object.keys(cfg.signatures).sort()) {
    if (name === 'releaseAll' || typeof native[name] !== 'function') continue;
    stats.exports++;
    const rng = rngFor(name);
    const params = cfg.signatures[name];
    // More draws where there are more ways to combine arguments: an export with six parameters gets three times
    // the calls of one with two.
    const calls = Math.round((cfg.callsPerExport * Math.max(2, params.length)) / 2);
    // First random lists; then lists that returned, with one or two arguments replaced by edge values (a random
    // list seldom gets every other argument right, and bugs hide behind the checks of the others).
    const valid: unknown[][] = [];
    for (let c = 0; c < 2 * calls; c++) {
      let args: unknown[];
      if (c >= calls && valid.length > 0 && params.length > 0) {
        args = valid[Math.floor(rng() * valid.length)].slice();
        for (let k = rng() < 0.7 ? 1 : 2; k > 0; k--) {
          const p = Math.floor(rng() * params.length);
          args[p] = value(params[p], rng);
        }
      } else {
        args = params.map((p) => value(p, rng));
        if (rng() < 0.05) args = args.slice(0, Math.floor(rng() * args.length)); // too few
      }
      if (name === 'setNumThreads' && !(typeof args[0] === 'number' && args[0] <= 16)) continue;
      if (name === 'dispose' && fixtureSet.has(args[0] as number)) continue;
      const desc = `${name}(${args.map(describe).join(', ')})`;
      say(`CALL ${desc}`);
      const before = native.liveTensors();
      let result: unknown;
      stats.calls++;
      const t0 = Date.now();
      try {
        result = native[name](...args);
        if (valid.length < 16) valid.push(args);
      } catch (e) {
        stats.threw++;
        const code = (e as { code?: unknown }).code;
        if (!(e instanceof Error)) problems.push(`${desc} threw a non-Error`);
        else if (name !== 'setErrorClass' && typeof code !== 'string')
          problems.push(`${desc} threw without a code: ${e.message.slice(0, 160)}`);
      }
      const ms = Date.now() - t0;
      if (ms > 100) slow.push([ms, desc]);
      restore(name);
      // Dispose what came back, so fixtures keep small handle numbers and nothing piles up.
      if (native.liveTensors() !== before) {
        const hs = typeof result === 'number' ? [result] : Array.isArray(result) ? result : [];
        for (const h of hs) if (typeof h === 'number' && !fixtureSet.has(h)) native.dispose(h);
      }
    }
  }
  slow.sort((a, b) => b[0] - a[0]);
  say(`DONE ${JSON.stringify({ ...stats, ms: Date.now() - started, problems, slow: slow.slice(0, 8) })}`);
}

function program(cfg: FuzzConfig): string {
  return [
    "import * as fs from 'node:fs'; import { execFileSync } from 'node:child_process';",
    'globalThis.__fs = fs;',
    'const mapped = () => Number(/VmSize:\\s+(\\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))[1]) * 1024;',
    "const limit = (headroom) => { try { execFileSync('prlimit', ['--pid', String(process.pid), '--as=' + (mapped() + headroom) + ':']); } catch { /* no prlimit: unlimited */ } };",
    `(${fuzzChild.toString()})(t, native, ${JSON.stringify(cfg)}, limit);`,
  ].join('\n');
}

const seed = Number(process.env.ILSGAN_FUZZ_SEED ?? 14);

describe('raw native entry points, signature-aware fuzz', () => {
  test(
    'random edge-valued arguments for every export: every call returns or throws a coded Error; the child exits 0',
    { timeout: 120_000 },
    () => {
      const sigs = signatures(readFileSync(join(repoRoot, 'src', 'tensor', 'native.ts'), 'utf8'));
      assert.ok(Object.keys(sigs).length >= 200, `parsed only ${Object.keys(sigs).length} export signatures`);
      assert.deepEqual(sigs.interpolate, ['tensor:x', 'ints:size', 'int:mode', 'bool:alignCorners', 'optNum:scaleH', 'optNum:scaleW']);
      assert.deepEqual(
        sigs.convTranspose2d.map((p) => p.split(':')[0]),
        ['tensor', 'tensor', 'optTensor', 'ints', 'ints', 'ints', 'int', 'ints'],
      );
      const r = runChild(program({ seed, callsPerExport: 24, signatures: sigs }), 90_000);
      const lines = r.stdout.trim().split('\n');
      const done = lines.find((l) => l.startsWith('DONE '));
      const last = [...lines].reverse().find((l) => l.startsWith('CALL '));
      assert.ok(
        r.signal === null && r.status === 0 && done,
        `child died (status ${r.status}, signal ${r.signal}) at ${last}\n${r.stderr.slice(-1500)}`,
      );
      const stats = JSON.parse(done.slice(5)) as {
        calls: number;
        threw: number;
        exports: number;
        ms: number;
        problems: string[];
        slow: [number, string][];
      };
      console.log(
        `native args fuzz (seed ${seed}): ${stats.calls} calls over ${stats.exports} exports, ${stats.threw} threw, ${stats.ms} ms`,
      );
      if (stats.slow.length) console.log(`slowest: ${stats.slow.map(([ms, d]) => `${d} ${ms} ms`).join('; ')}`);
      assert.ok(stats.calls >= 3000, `only ${stats.calls} calls`);
      assert.deepEqual(stats.problems, []);
    },
  );
});
