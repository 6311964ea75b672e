// SPDX-License-Identifier: MIT
// The layering of src/ (README, Architecture): each folder is a floor and imports only from floors below it,
// never from a sibling on its own floor nor from above; and the readers of a run (eval, gen, report) import
// nothing from the trainer (src/train/): what they need of a run folder is src/run/. Reads the import and export
// statements of every src/**/*.ts (static, type-only and dynamic).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** Floors, lowest first; folders on one floor do not import each other. `index.ts` (src/index.ts) is the top. */
const floors: readonly (readonly string[])[] = [
  ['util'],
  ['tensor'],
  ['nn', 'data'],
  ['models'],
  ['run'],
  ['train'],
  ['gen', 'report'],
  ['eval'],
  ['seg'],
  ['pipeline'],
  ['cli'],
  ['index.ts'],
];

/** Folders that read a run and must not import the trainer. */
const runReaders = ['eval', 'gen', 'report'];

const floorOf = new Map(floors.flatMap((names, i) => names.map((n) => [n, i] as const)));

/** Relative module specifiers of a TS file: `import … from`, `export … from`, `import '…'` and `import('…')`. */
export function importSpecifiers(text: string): string[] {
  // Comments that start a line go first, so a commented-out import does not count (strings such as 'src/**/*.ts'
  // are left alone: no comment starts inside them).
  const code = text.replace(/^\s*\/\*[\s\S]*?\*\//gm, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(m[1]!);
  return specs.filter((s) => s.startsWith('.'));
}

/** The src/ folder a src-relative path belongs to ('index.ts' for a file directly in src/). */
function folderOf(srcPath: string): string {
  return srcPath.split('/')[0]!;
}

/**
 * Every import that breaks the layering, as "src/a/b.ts → src/c/d.js: why". `files` maps src-relative paths
 * ('train/loop.ts') to their text.
 */
export function layeringViolations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [path, text] of files) {
    const from = folderOf(path);
    const fromFloor = floorOf.get(from);
    if (fromFloor === undefined) {
      out.push(`src/${path}: folder ${from} has no floor (add it to the layering test and the README's architecture)`);
      continue;
    }
    for (const spec of importSpecifiers(text)) {
      const target = posix.normalize(posix.join(posix.dirname(path), spec));
      if (target.startsWith('..')) {
        out.push(`src/${path} → ${spec}: imports from outside src/`);
        continue;
      }
      const to = folderOf(target);
      if (to === from) continue;
      const toFloor = floorOf.get(to);
      if (toFloor === undefined) out.push(`src/${path} → src/${target}: ${to} has no floor`);
      else if (toFloor === fromFloor) out.push(`src/${path} → src/${target}: ${from} and ${to} share a floor and do not import each other`);
      else if (toFloor > fromFloor) out.push(`src/${path} → src/${target}: ${from} imports from ${to}, a higher floor`);
      if (to === 'train' && runReaders.includes(from)) {
        out.push(`src/${path} → src/${target}: ${from} reads runs through src/run/, not the trainer`);
      }
    }
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : name.endsWith('.ts') ? [p] : [];
  });
}

// dist/test/layering.test.js → the repository root.
const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

describe('layering', () => {
  test('src/ holds to it: no import to a higher floor or a sibling, none from eval/gen/report into train', () => {
    const files = new Map(walk(srcDir).map((f) => [relative(srcDir, f).split(sep).join('/'), readFileSync(f, 'utf8')] as const));
    assert.ok(files.size > 100 && files.has('run/checkpoint.ts') && files.has('index.ts'), `read ${files.size} files from ${srcDir}`);
    assert.deepEqual(layeringViolations(files), []);
  });

  test('the checker finds each kind of import, and each kind of violation', () => {
    const ok = new Map([
      ['train/loop.ts', "import { runPaths } from '../run/layout.js';\nimport type { Tensor } from '../tensor/tensor.js';\n"],
      ['index.ts', "export { train } from './train/loop.js';\n"],
      ['run/layout.ts', "// import { x } from '../train/loop.js';\n/* import '../cli/main.js' */\nimport { join } from 'node:path';\n"],
    ]);
    assert.deepEqual(layeringViolations(ok), []);
    const bad = new Map([
      // Upward, across a multi-line import.
      ['train/samples.ts', "import {\n  LatentStream,\n} from '../gen/latents.js';\n"],
      // A run reader into the trainer (downward, yet not allowed), type-only.
      ['eval/fid.ts', "import type { CheckpointState } from '../train/checkpoint.js';\n"],
      // Dynamic, and a re-export.
      ['report/x.ts', "const m = await import('../train/loop.js');\nexport * from '../eval/fid.js';\n"],
      // Siblings on one floor; a side-effect import upward.
      ['nn/a.ts', "import { x } from '../data/loader.js';\nimport '../models/mapping.js';\n"],
      // A folder without a floor.
      ['extra/a.ts', "import { x } from '../tensor/tensor.js';\n"],
    ]);
    const found = layeringViolations(bad);
    const expect = [
      'src/train/samples.ts → src/gen/latents.js: train imports from gen, a higher floor',
      'src/eval/fid.ts → src/train/checkpoint.js: eval reads runs through src/run/, not the trainer',
      'src/report/x.ts → src/train/loop.js: report reads runs through src/run/, not the trainer',
      'src/report/x.ts → src/eval/fid.js: report imports from eval, a higher floor',
      'src/nn/a.ts → src/data/loader.js: nn and data share a floor and do not import each other',
      'src/nn/a.ts → src/models/mapping.js: nn imports from models, a higher floor',
      "src/extra/a.ts: folder extra has no floor (add it to the layering test and the README's architecture)",
    ];
    assert.deepEqual([...found].sort(), [...expect].sort());
  });
});
