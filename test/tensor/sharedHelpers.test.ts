// SPDX-License-Identifier: MIT
// The gradient-check suites share their input makers and Case type (test/helpers/gradCases.ts) instead of each
// keeping a copy; this keeps new copies from coming back, and checks the shared pieces do what the suites rely on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as t from '../../src/index.js';
import { leaf, normals, uniform } from '../helpers/gradCases.js';
import { repoRoot } from '../helpers/childProcess.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : name.endsWith('.ts') ? [p] : [];
  });
}

test('no test file outside test/helpers defines its own normals, uniforms, leaf or Case', () => {
  const own = /^(?:export )?(?:function (?:normals|uniforms|leaf)\b|interface Case\b|type Case\b)/m;
  const copies = sources(join(repoRoot, 'test'))
    .filter((p) => !relative(join(repoRoot, 'test'), p).startsWith('helpers'))
    .filter((p) => own.test(readFileSync(p, 'utf8')))
    .map((p) => relative(repoRoot, p));
  assert.deepEqual(copies, []);
});

test('leaf and uniform: float64 leaves requiring grad, drawn from the seeded generator', () => {
  t.scope(() => {
    t.manualSeed(5);
    const a = leaf([2, 3], (v) => v + 10);
    t.manualSeed(5);
    assert.deepEqual(
      a.toArray(),
      normals(6).map((v) => v + 10),
    );
    assert.ok(a.isLeaf && a.requiresGrad && a.dtype === 'float64');
    const u = uniform([4], -1, 1, false);
    assert.ok(!u.requiresGrad && u.toArray().every((v) => v >= -1 && v < 1));
  });
});
