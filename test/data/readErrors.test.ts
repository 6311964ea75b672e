// SPDX-License-Identifier: MIT
// Image listing follows symbolic links without looping; a file that cannot be read is reported as "cannot read
// <file>: <reason>" by every decoder, not as sharp's "unsupported image format". Root reads mode-000 files, so the
// permission case uses an injected EACCES (test/cli/errors.test.ts runs the real one as an unprivileged user).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { decodeRgb, decodeSquare, readImageFile } from '../../src/data/decode.js';
import { listImages } from '../../src/data/imageFolder.js';
import { decodePhoto } from '../../src/seg/photos.js';
import { describeFsError } from '../../src/util/fsErrors.js';

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'ilsgan-read-errors-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('listImages and symbolic links', () => {
  test('links to files and folders are followed; loops and repeated folders are walked once', () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    mkdirSync(join(a, 'sub'), { recursive: true });
    mkdirSync(b);
    for (const f of ['a/1.png', 'a/sub/2.jpg', 'b/3.png', 'b/notes.txt']) writeFileSync(join(root, f), 'x');
    symlinkSync(join(b, '3.png'), join(a, 'link.png'));
    symlinkSync(b, join(a, 'to-b'));
    symlinkSync(b, join(a, 'sub', 'to-b-again'));
    symlinkSync(a, join(a, 'sub', 'loop'));
    symlinkSync(join(root, 'missing.png'), join(a, 'broken.png'));
    symlinkSync(join(root, 'missing-dir'), join(a, 'broken-dir'));
    const listed = listImages(a).map((p) => relative(a, p));
    assert.deepEqual(listed, ['1.png', 'broken.png', 'link.png', 'sub/2.jpg', 'sub/to-b-again/3.png']);
  });
});

describe('unreadable image files', () => {
  test('an injected EACCES reads "cannot read <file>: permission denied"', async () => {
    const eacces = Object.assign(new Error("EACCES: permission denied, open '/x/a.png'"), { code: 'EACCES' });
    await assert.rejects(
      readImageFile('/x/a.png', async () => {
        throw eacces;
      }),
      { message: 'cannot read /x/a.png: permission denied' },
    );
    const buffer = Buffer.from('bytes');
    assert.equal(await readImageFile(buffer), buffer, 'buffers pass through');
  });

  test('every decoder says why a file cannot be read', async () => {
    const missing = join(root, 'nope.png');
    const folder = join(root, 'a');
    for (const decode of [(p: string) => decodeSquare(p, 8), (p: string) => decodeRgb(p), (p: string) => decodePhoto(p)]) {
      await assert.rejects(decode(missing), { message: `cannot read ${missing}: no such file or directory` });
      await assert.rejects(decode(folder), { message: `cannot read ${folder}: it is a folder` });
    }
  });

  test('describeFsError keeps the phrase, never the syscall or a temp path', () => {
    const exdev = Object.assign(new Error("EXDEV: cross-device link not permitted, rename '/d/.x.1.tmp' -> '/e/x'"), { code: 'EXDEV' });
    assert.equal(describeFsError(exdev), 'cross-device link not permitted');
    assert.equal(describeFsError(Object.assign(new Error('whatever'), { code: 'ENOSPC' })), 'no space left on the device');
    assert.equal(describeFsError(new Error('first line\nsecond')), 'first line');
  });
});
