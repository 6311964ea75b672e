#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Runs every compiled test file (dist/test/**/*.test.js) with node's built-in test runner.
// Usage: node scripts/runTests.mjs [substring filters...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const testDir = join(root, 'dist', 'test');
const filters = process.argv.slice(2);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : name.endsWith('.test.js') ? [p] : [];
  });
}

const files = walk(testDir)
  .filter((f) => filters.length === 0 || filters.some((s) => relative(testDir, f).includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files found (did tsc run?)');
  process.exit(1);
}
// One file at a time keeps the 2-core machine's threads for libtorch inside each test.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
