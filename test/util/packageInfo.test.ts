// SPDX-License-Identifier: MIT
// The commit the report's footer names, read from .git without a git binary: a branch through a loose ref or
// packed-refs, a detached HEAD, a .git file (worktree), and null for anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitCommit, packageRoot, packageVersion } from '../../src/util/packageInfo.js';

const a = 'a'.repeat(40);
const b = '0123456789abcdef0123456789abcdef01234567';

test('gitCommit: loose ref, packed ref, detached HEAD, worktree .git file; null when absent or unreadable', () => {
  const root = mkdtempSync(join(tmpdir(), 'ilsgan-git-'));
  try {
    const git = join(root, '.git');
    assert.equal(gitCommit(root), null, 'no .git');
    mkdirSync(join(git, 'refs', 'heads'), { recursive: true });
    assert.equal(gitCommit(root), null, 'no HEAD');
    writeFileSync(join(git, 'HEAD'), 'ref: refs/heads/main\n');
    assert.equal(gitCommit(root), null, 'a branch with no commit yet');
    writeFileSync(join(git, 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted\n${b} refs/heads/main\n${a} refs/heads/other\n`);
    assert.equal(gitCommit(root), b, 'packed ref');
    writeFileSync(join(git, 'refs', 'heads', 'main'), `${a}\n`);
    assert.equal(gitCommit(root), a, 'a loose ref wins over packed-refs');
    writeFileSync(join(git, 'HEAD'), `${b}\n`);
    assert.equal(gitCommit(root), b, 'detached HEAD');
    writeFileSync(join(git, 'HEAD'), 'garbage\n');
    assert.equal(gitCommit(root), null);

    // A linked worktree: .git is a file naming its git dir, whose commondir holds the shared refs.
    const wt = join(root, 'wt');
    const wtGit = join(git, 'worktrees', 'wt');
    mkdirSync(wt);
    mkdirSync(wtGit, { recursive: true });
    writeFileSync(join(wt, '.git'), `gitdir: ${wtGit}\n`);
    writeFileSync(join(wtGit, 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(wtGit, 'commondir'), '../..\n');
    assert.equal(gitCommit(wt), a);
    assert.equal(gitCommit(null), null);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("packageRoot and packageVersion find ilsgan's package.json from the compiled file", () => {
  const root = packageRoot();
  assert.ok(root, 'found');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  assert.equal(pkg.name, 'ilsgan');
  assert.equal(packageVersion(), pkg.version);
});
