#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Builds the native addon (native/src/*.cc → build/Release/ilsgan.node) against libtorch.
//
// Finding libtorch: ILSGAN_LIBTORCH=system|python|<folder>|auto picks the route (see findLibtorch); `auto`, the
// default, takes $LIBTORCH or $TORCH_DIR (folders), then a Python PyTorch (`python3 -c 'import torch'`, the GPU
// case), then the system's (Debian libtorch-dev). With none found, as root with apt, it says so and installs
// libtorch-dev (and OpenBLAS, see below) unless ILSGAN_NO_APT=1; otherwise it fails with the commands to run.
// The route, folder and libtorch version used are logged and written to build/libtorch.json (CI checks them).
//
// The build is incremental: a precompiled header holds the libtorch headers (~17 s once), each translation unit
// is rebuilt only when it or a header it includes changed (gcc -MMD), and translation units compile in
// parallel. A TypeScript-only change recompiles nothing.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'native', 'src');
const outDir = join(root, 'build');
const objDir = join(outDir, 'obj');
const target = join(outDir, 'Release', 'ilsgan.node');
const verbose = process.argv.includes('--verbose');

function log(msg) {
  process.stderr.write(`ilsgan native: ${msg}\n`);
}

function fail(msg) {
  log(`error: ${msg}`);
  process.exit(1);
}

function tryRun(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The libtorch version from its headers (torch/version.h), e.g. '1.13.0'; null when unreadable. */
function headerVersion(includes) {
  for (const inc of includes) {
    const file = join(inc, 'torch', 'version.h');
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const part = (name) => text.match(new RegExp(`#define TORCH_VERSION_${name}\\s+(\\d+)`))?.[1];
    const [major, minor, patch] = ['MAJOR', 'MINOR', 'PATCH'].map(part);
    if (major !== undefined) return `${major}.${minor ?? 0}.${patch ?? 0}`;
  }
  return null;
}

/** A libtorch layout: include dirs, lib dir, the route that found it and how it was found. */
function layoutAt(dir, route, source) {
  const inc = join(dir, 'include');
  if (!existsSync(join(inc, 'ATen', 'ATen.h'))) return null;
  const lib = join(dir, 'lib');
  if (!existsSync(join(lib, 'libtorch_cpu.so')) && !existsSync(join(lib, 'libtorch.so'))) return null;
  return { route, includes: [inc, join(inc, 'torch', 'csrc', 'api', 'include')], lib, source, cxx11Abi: null };
}

function fromPython() {
  for (const py of ['python3', '/usr/bin/python3']) {
    const out = tryRun(py, ['-c', 'import torch,os; print(os.path.dirname(torch.__file__)); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))']);
    if (!out) continue;
    const [dir, abi] = out.split('\n');
    const layout = layoutAt(dir, 'python', `Python PyTorch (${py}: ${dir})`);
    if (layout) {
      layout.cxx11Abi = abi === '1' ? 1 : 0;
      return layout;
    }
  }
  return null;
}

// The root the system route looks under: '/' except in the install tests, which point it at an empty folder.
const sysroot = process.env.ILSGAN_TEST_SYSROOT || '/';

function fromSystem() {
  const libDir = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].find((d) =>
    existsSync(join(sysroot, d, 'libtorch_cpu.so')),
  );
  if (!existsSync(join(sysroot, '/usr/include/ATen/ATen.h')) || !libDir) return null;
  // /usr/include itself is one of the compiler's default folders: it is dropped from the flags (see compilerFlags).
  return {
    route: 'system',
    includes: ['/usr/include', '/usr/include/torch/csrc/api/include'],
    lib: libDir,
    source: 'system libtorch (Debian libtorch-dev)',
    cxx11Abi: null,
  };
}

function fromFolder(dir, name) {
  const layout = layoutAt(resolve(dir), 'folder', `${name}=${dir}`);
  if (!layout) fail(`${name}=${dir} has no include/ATen/ATen.h and lib/libtorch_cpu.so (an unpacked libtorch folder)`);
  return layout;
}

// libgloo-dev: the Gloo headers that c10d's ProcessGroupGloo.hpp includes (Debian's libtorch has the symbols).
const aptPackages = ['libtorch-dev', 'libopenblas0-openmp', 'libgloo-dev'];
const aptCommand = `apt-get update && apt-get install -y --no-install-recommends ${aptPackages.join(' ')}`;

function aptInstall(packages, why) {
  log(`${why}: installing the Debian packages ${packages.join(' ')} with apt-get (set ILSGAN_NO_APT=1 to do it yourself)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
}

const hasApt = () => tryRun('sh', ['-c', 'command -v apt-get']) !== null;
const canApt = () => process.getuid?.() === 0 && !process.env.ILSGAN_NO_APT && hasApt();

/** The one message for a machine where the install cannot get libtorch itself: why, and what to run, exactly. */
function failNoLibtorch(route) {
  const why = !hasApt()
    ? 'this machine has no apt-get'
    : process.env.ILSGAN_NO_APT
      ? 'ILSGAN_NO_APT is set, so the install does not run apt'
      : 'not running as root, so the install cannot run apt';
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  fail(
    [
      `libtorch was not found (route: ${route}); ${why}. Do one of these, then run npm install again:`,
      ...(hasApt() ? [`  - Debian/Ubuntu: ${sudo}sh -c '${aptCommand}'`] : []),
      '  - an unpacked libtorch (a folder with include/ and lib/): export ILSGAN_LIBTORCH=/path/to/libtorch',
      '  - a Python PyTorch (its bundled libtorch): pip install torch; export ILSGAN_LIBTORCH=python',
    ].join('\n'),
  );
}

/**
 * The libtorch to build against. ILSGAN_LIBTORCH chooses the route: `system` (Debian's libtorch-dev),
 * `python` (the libtorch inside `python3 -c 'import torch'`), a folder (an unpacked libtorch), or `auto`
 * (the default: $LIBTORCH or $TORCH_DIR if set, then Python, then system). A route that was asked for and is
 * not there fails; it never falls back to another.
 */
function findLibtorch() {
  const route = process.env.ILSGAN_LIBTORCH || 'auto';
  if (route === 'python')
    return fromPython() ?? fail('ILSGAN_LIBTORCH=python, but `python3 -c "import torch"` found no PyTorch with include/ and lib/');
  if (route === 'system') {
    const found = fromSystem();
    if (found) return found;
    if (canApt()) {
      aptInstall(aptPackages, 'ILSGAN_LIBTORCH=system and libtorch-dev is missing');
      return fromSystem() ?? failNoLibtorch(route);
    }
    return failNoLibtorch(route);
  }
  if (route !== 'auto') return fromFolder(route, 'ILSGAN_LIBTORCH');
  if (process.env.LIBTORCH) return fromFolder(process.env.LIBTORCH, 'LIBTORCH');
  if (process.env.TORCH_DIR) return fromFolder(process.env.TORCH_DIR, 'TORCH_DIR');
  const found = fromPython() ?? fromSystem();
  if (found) return found;
  if (canApt()) {
    aptInstall(aptPackages, 'running as root and no libtorch was found');
    const installed = fromSystem();
    if (installed) return installed;
  }
  return failNoLibtorch(route);
}

/**
 * The compiler's own include folders (`g++ -E -v`). Passing one of them again as -isystem/-I reorders the
 * built-in chain, and `#include_next <stdlib.h>` in libstdc++'s <cstdlib> then finds nothing (g++ 12).
 */
function compilerIncludeDirs() {
  const r = spawnSync('g++', ['-xc++', '-E', '-v', '-'], { input: '', encoding: 'utf8' });
  const text = `${r.stderr ?? ''}`;
  const from = text.indexOf('#include <...> search starts here:');
  const to = text.indexOf('End of search list.');
  if (from < 0 || to < 0) return new Set(['/usr/include', '/usr/local/include']);
  const dirs = text
    .slice(from, to)
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean);
  return new Set(dirs.map((d) => realOrSelf(d)));
}

function realOrSelf(p) {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Checks the platform before anything is built: a clear reason instead of a compiler error. */
function checkPlatform() {
  if (process.platform !== 'linux')
    fail(
      `ilsgan builds on Linux only (this is ${process.platform}); libtorch's Linux builds and Debian's packages are what it is tested with`,
    );
  if (!['x64', 'arm64'].includes(process.arch)) fail(`ilsgan builds on x64 and arm64 only (this is ${process.arch})`);
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) fail(`ilsgan needs Node.js 20 or newer (this is ${process.versions.node})`);
  if (tryRun('g++', ['--version']) === null) fail('g++ was not found: install it (Debian: apt-get install g++) and run npm install again');
}

/**
 * Debian's libtorch (libtorch-dev, python3-torch) calls BLAS through libblas.so.3, which defaults to the slow
 * reference implementation (matmul fwd+bwd 512³: ~320 ms against 12–55 ms with OpenBLAS on 2 cores). We use
 * OpenBLAS's OpenMP build: the pthread build keeps its own spinning thread pool, which fights libtorch's
 * OpenMP threads for the cores (measured: a tiny32 training iteration 2.74 s with openblas-pthread, 1.59 s
 * with openblas-openmp). The addon is linked with a DT_RPATH to that folder, which the dynamic loader also
 * applies to libtorch's own libblas.so.3 lookup, so the system-wide alternatives stay as they are.
 * Returns the folder to put on the RPATH, or null (a non-Debian libtorch with its own BLAS, or none found).
 */
function openBlasOpenMp(layout) {
  const cpuLib = join(layout.lib, 'libtorch_cpu.so');
  const dynamic = tryRun('readelf', ['-d', cpuLib]);
  if (dynamic !== null && !/\[libblas\.so\.3\]/.test(dynamic)) return null; // bundles its own BLAS (pip wheels: MKL)
  const multiarch = tryRun('gcc', ['-print-multiarch']) || 'x86_64-linux-gnu';
  const dir = join('/usr/lib', multiarch, 'openblas-openmp');
  if (existsSync(join(dir, 'libblas.so.3'))) return dir;
  if (canApt()) {
    aptInstall(['libopenblas0-openmp'], 'OpenBLAS (OpenMP) is missing');
    if (existsSync(join(dir, 'libblas.so.3'))) return dir;
  }
  log('warning: install libopenblas0-openmp (apt-get install libopenblas0-openmp) and rebuild: reference BLAS is ~10× slower');
  return null;
}

function nodeApiIncludes() {
  const dirs = [];
  if (process.env.NODE_API_HEADERS) dirs.push(process.env.NODE_API_HEADERS);
  const fromExec = join(dirname(dirname(process.execPath)), 'include', 'node');
  for (const d of [fromExec, '/usr/include/node', '/usr/local/include/node']) {
    if (existsSync(join(d, 'node_api.h'))) dirs.push(d);
  }
  if (!dirs.length) fail('Node-API headers (node_api.h) not found; set NODE_API_HEADERS');
  const addonApi = join(root, 'node_modules', 'node-addon-api');
  if (!existsSync(join(addonApi, 'napi.h'))) fail('node-addon-api is missing: run npm install');
  return [dirs[0], addonApi];
}

/** The pip nvidia-* packages' include folders beside a pip PyTorch (nvidia/cuda_runtime/include, nvidia/cu13/include, …). */
function pipNvidiaIncludes(layout) {
  const site = join(layout.lib, '..', '..', 'nvidia');
  return existsSync(site) ? readdirSync(site).map((d) => join(site, d, 'include')) : [];
}

function cudaIncludes(layout) {
  if (!existsSync(join(layout.lib, 'libtorch_cuda.so'))) return null;
  const candidates = [
    process.env.CUDA_HOME && join(process.env.CUDA_HOME, 'include'),
    '/usr/local/cuda/include',
    join(layout.lib, '..', '..', 'nvidia', 'cuda_runtime', 'include'),
    ...pipNvidiaIncludes(layout),
  ].filter(Boolean);
  return candidates.find((d) => existsSync(join(d, 'cuda_runtime_api.h'))) ?? null;
}

function run(cmd, args) {
  if (verbose) log(`${cmd} ${args.join(' ')}`);
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`${cmd} exited with ${code}`))));
  });
}

/** Whether `out` is older than `src` or than any dependency recorded in its .d file. */
function stale(out, src, depFile) {
  if (!existsSync(out) || !existsSync(depFile)) return true;
  const t = statSync(out).mtimeMs;
  if (statSync(src).mtimeMs > t) return true;
  const deps = readFileSync(depFile, 'utf8').replace(/\\\n/g, ' ').split(':').slice(1).join(':').trim().split(/\s+/);
  return deps.some((d) => d && (!existsSync(d) || statSync(d).mtimeMs > t));
}

async function pool(tasks, width) {
  const queue = [...tasks];
  await Promise.all(
    Array.from({ length: Math.min(width, queue.length) }, async () => {
      while (queue.length) await queue.shift()();
    }),
  );
}

/** The c10d header that native/src/dist.cc needs for Gloo, and the Gloo header it includes in turn. */
const glooHeaders = [join('torch', 'csrc', 'distributed', 'c10d', 'ProcessGroupGloo.hpp'), join('gloo', 'algorithm.h')];
/** The c10d header for NCCL; it includes <nccl.h>, which a pip PyTorch keeps in its nvidia-nccl package. */
const ncclHeader = join('torch', 'csrc', 'distributed', 'c10d', 'ProcessGroupNCCL.hpp');

/** Where <nccl.h> is: $NCCL_HOME or $NCCL_INCLUDE_DIR, the CUDA toolkit, the system, or a pip nvidia-* package. */
function ncclInclude(layout, cudaInc) {
  const candidates = [
    process.env.NCCL_INCLUDE_DIR,
    process.env.NCCL_HOME && join(process.env.NCCL_HOME, 'include'),
    cudaInc,
    ...layout.includes,
    '/usr/include',
    '/usr/local/include',
    ...pipNvidiaIncludes(layout),
  ].filter(Boolean);
  return candidates.find((d) => existsSync(join(d, 'nccl.h'))) ?? null;
}

/**
 * Which process-group backends native/src/dist.cc can be built with (multi-process training over c10d):
 * - gloo: the c10d headers with libtorch and the Gloo headers (Debian's libgloo-dev, installed with apt where
 *   the install may use it);
 * - nccl: ProcessGroupNCCL.hpp with a CUDA libtorch (libtorch_cuda and the CUDA headers) and <nccl.h>.
 * Returns, per backend, null when it can be built or the reason it cannot, and the folder of <nccl.h>. It never
 * fails the build: a backend without its headers is left out (`ilsgan --version` says which are in).
 */
function distSupport(layout, cudaInc) {
  if (process.env.ILSGAN_NO_DIST) return { gloo: 'ILSGAN_NO_DIST is set', nccl: 'ILSGAN_NO_DIST is set', ncclInc: null };
  // Only the libtorch's own include folders: Debian's Gloo headers with another libtorch (a pip wheel) could
  // compile against symbols that libtorch does not have.
  const dirs = layout.includes;
  const missing = (headers) => headers.filter((h) => !dirs.some((d) => existsSync(join(d, h))));
  if (missing(glooHeaders).includes(glooHeaders[1]) && layout.route === 'system' && canApt()) {
    try {
      aptInstall(['libgloo-dev'], 'the Gloo headers for multi-process training are missing');
    } catch (e) {
      log(`warning: installing libgloo-dev failed (${e.message})`);
    }
  }
  const glooMissing = missing(glooHeaders);
  const gloo = glooMissing.length
    ? `no ${glooMissing.join(' or ')} (Debian: apt-get install libgloo-dev; a pip PyTorch has no Gloo headers)`
    : null;
  const ncclInc = ncclInclude(layout, cudaInc);
  const nccl = process.env.ILSGAN_NO_NCCL
    ? 'ILSGAN_NO_NCCL is set'
    : missing([ncclHeader]).length
      ? `no ${ncclHeader}`
      : !existsSync(join(layout.lib, 'libtorch_cuda.so'))
        ? 'libtorch is not a CUDA build (no libtorch_cuda.so)'
        : !cudaInc
          ? 'no CUDA headers (cuda_runtime_api.h; set CUDA_HOME)'
          : !ncclInc
            ? 'no nccl.h (set NCCL_HOME or NCCL_INCLUDE_DIR)'
            : null;
  return { gloo, nccl, ncclInc };
}

/** 'gloo', 'gloo, nccl', 'nccl' or 'not built': what build/libtorch.json and `ilsgan --version` say. */
const distText = (backends) => backends.join(', ') || 'not built';

async function main() {
  checkPlatform();
  const layout = findLibtorch();
  writePchForwarder();
  const version = headerVersion(layout.includes);
  const blasDir = openBlasOpenMp(layout);
  if (blasDir) log(`BLAS: OpenBLAS (OpenMP) from ${blasDir}`);
  const cudaInc = cudaIncludes(layout);
  const dist = distSupport(layout, cudaInc);
  const distWanted = ['gloo', 'nccl'].filter((b) => !dist[b]);
  for (const b of ['gloo', 'nccl'])
    log(`distributed: ${b} ${dist[b] ? `not built (${dist[b]})` : `(c10d ProcessGroup${b === 'gloo' ? 'Gloo' : 'NCCL'})`}`);
  const abi = layout.cxx11Abi ?? 1;
  log(`libtorch ${version ?? '(version unknown)'}, route ${layout.route}: ${layout.source} (${layout.lib})${cudaInc ? ', CUDA' : ''}`);
  mkdirSync(objDir, { recursive: true });
  mkdirSync(dirname(target), { recursive: true });

  const defaults = compilerIncludeDirs();
  const includes = [...layout.includes, ...nodeApiIncludes(), ...(cudaInc ? [cudaInc] : [])].filter((d) => !defaults.has(realOrSelf(d)));
  const flags = [
    '-std=c++17',
    '-O2',
    '-fPIC',
    '-fvisibility=hidden',
    '-pthread',
    `-D_GLIBCXX_USE_CXX11_ABI=${abi}`,
    '-DNAPI_VERSION=8',
    '-DNAPI_CPP_EXCEPTIONS',
    '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    '-DNODE_ADDON_API_ENABLE_TYPE_CHECK_ON_AS',
    ...(cudaInc ? ['-DILSGAN_CUDA_HEADERS'] : []),
    '-Wall',
    '-Wno-unused-parameter',
    '-Wno-unused-variable',
    '-Wno-deprecated-declarations',
    ...includes.flatMap((d) => ['-isystem', d]),
  ];
  // The flags and the libtorch used are part of every object's identity: a change rebuilds everything.
  const stamp = join(objDir, 'flags.txt');
  const identity = JSON.stringify({ flags, lib: layout.lib });
  const sameFlags = existsSync(stamp) && readFileSync(stamp, 'utf8') === identity;

  const pchSrc = join(srcDir, 'pch.h');
  const pchDir = join(objDir, 'pch');
  const pchOut = join(pchDir, 'pch.h.gch');
  mkdirSync(pchDir, { recursive: true });
  const started = Date.now();
  let rebuilt = 0;
  if (!sameFlags || stale(pchOut, pchSrc, `${pchOut}.d`)) {
    log('precompiling libtorch headers (once, ~20 s)');
    await run('g++', [...flags, '-x', 'c++-header', pchSrc, '-MMD', '-MF', `${pchOut}.d`, '-o', pchOut]);
    rebuilt++;
  }
  const sources = readdirSync(srcDir)
    .filter((f) => f.endsWith('.cc'))
    .sort();
  const objects = sources.map((f) => join(objDir, f.replace(/\.cc$/, '.o')));
  const tasks = [];
  // dist.cc alone gets ILSGAN_WITH_GLOO/ILSGAN_WITH_NCCL (so detecting them never rebuilds the rest); its stamp
  // records the backends wanted and those that compiled, so a backend that failed is not retried every build.
  const distStamp = join(objDir, 'dist.json');
  const readDistStamp = () => {
    try {
      return JSON.parse(readFileSync(distStamp, 'utf8'));
    } catch {
      return null;
    }
  };
  let distBuilt = [];
  const distNotes = {};
  sources.forEach((f, i) => {
    const src = join(srcDir, f);
    const obj = objects[i];
    const isDist = f === 'dist.cc';
    const stamp = isDist ? readDistStamp() : null;
    const distStale = isDist && (!stamp || distText(stamp.wanted) !== distText(distWanted));
    if (!distStale && sameFlags && !stale(obj, src, `${obj}.d`) && statSync(obj).mtimeMs >= statSync(pchOut).mtimeMs) {
      if (isDist) {
        distBuilt = stamp.built;
        Object.assign(distNotes, stamp.notes);
      }
      return;
    }
    tasks.push(async () => {
      log(`compiling ${f}`);
      // -include finds pch.h.gch next to the named header path first.
      const compile = (extra) =>
        run('g++', [
          ...flags,
          ...extra,
          '-include',
          join(pchDir, 'pch.h'),
          '-Winvalid-pch',
          '-c',
          src,
          '-MMD',
          '-MF',
          `${obj}.d`,
          '-o',
          obj,
        ]);
      if (!isDist) {
        await compile([]);
      } else {
        // Headers that are there may still not compile (another Gloo than libtorch's; NCCL code that no CPU
        // machine could compile): then the next smaller set, NCCL first, with the reason logged and recorded.
        const attempts = [distWanted, distWanted.filter((b) => b !== 'nccl'), []].filter(
          (a, k, all) => k === all.findIndex((b) => distText(b) === distText(a)),
        );
        for (const backends of attempts) {
          const defines = ['gloo', 'nccl'].map((b) => `-DILSGAN_WITH_${b.toUpperCase()}=${backends.includes(b) ? 1 : 0}`);
          const ncclInc = backends.includes('nccl') && !defaults.has(realOrSelf(dist.ncclInc)) ? ['-isystem', dist.ncclInc] : [];
          try {
            await compile([...defines, ...ncclInc]);
            distBuilt = backends;
            break;
          } catch (e) {
            if (!backends.length) throw e;
            for (const b of backends) distNotes[b] ??= `dist.cc did not compile with ${distText(backends)} (${e.message})`;
            log(
              `warning: dist.cc did not compile with ${distText(backends)} (the compiler's error is above); trying without ${backends.includes('nccl') ? 'nccl' : distText(backends)}`,
            );
          }
        }
        writeFileSync(distStamp, JSON.stringify({ wanted: distWanted, built: distBuilt, notes: distNotes }));
      }
      rebuilt++;
    });
  });
  await pool(tasks, Math.max(1, cpus().length));
  writeFileSync(stamp, identity);
  const libs = ['-ltorch', '-ltorch_cpu', '-lc10'];
  if (existsSync(join(layout.lib, 'libtorch_cuda.so'))) libs.push('-ltorch_cuda', '-lc10_cuda');
  const linkStamp = join(objDir, 'link.json');
  const linkIdentity = JSON.stringify({ lib: layout.lib, blasDir, libs });
  const sameLink = existsSync(linkStamp) && readFileSync(linkStamp, 'utf8') === linkIdentity;
  if (rebuilt || !sameLink || !existsSync(target) || objects.some((o) => statSync(o).mtimeMs > statSync(target).mtimeMs)) {
    log('linking build/Release/ilsgan.node');
    await run('g++', [
      '-shared',
      '-pthread',
      '-o',
      target,
      ...objects,
      `-L${layout.lib}`,
      // DT_RPATH (not RUNPATH): the loader also applies it to libtorch's dependencies (libblas.so.3).
      '-Wl,--disable-new-dtags',
      `-Wl,-rpath,${[layout.lib, ...(blasDir ? [blasDir] : [])].join(':')}`,
      // Keep libtorch_cuda linked even though no symbol of it is referenced: it registers the CUDA backend.
      '-Wl,--no-as-needed',
      ...libs,
      '-Wl,--as-needed',
    ]);
    writeFileSync(linkStamp, linkIdentity);
    log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else {
    log('up to date');
  }
  // Why each backend is not in: its headers are missing (distSupport), or dist.cc did not compile with it.
  const distMissing = Object.fromEntries(
    ['gloo', 'nccl'].filter((b) => !distBuilt.includes(b)).map((b) => [b, dist[b] ?? distNotes[b] ?? 'did not compile']),
  );
  const distributed = distText(distBuilt);
  const record = {
    ...layout,
    version,
    blas: blasDir ? `OpenBLAS (OpenMP) ${blasDir}` : null,
    cuda: Boolean(cudaInc),
    distributed,
    distributed_missing: distMissing,
  };
  writeFileSync(join(outDir, 'libtorch.json'), `${JSON.stringify(record, null, 2)}\n`);
}

// `-include <dir>/pch.h` needs a pch.h beside the .gch for the fallback path; keep a one-line forwarder there.
function writePchForwarder() {
  const dir = join(objDir, 'pch');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'pch.h');
  const text = `#include "${join(srcDir, 'pch.h')}"\n`;
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
}

main().catch((e) => fail(e.message));
