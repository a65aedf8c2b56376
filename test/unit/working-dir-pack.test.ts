import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { packFiles, unpackArchive } from '../../orchestrator/core/working-dir-archive.ts';
import { listWorkingDir, packWorkingDir } from '../../orchestrator/core/working-dir-pack.ts';
import { WorkingDirCache } from '../../orchestrator/agent/working-dir-cache.ts';

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'orrery-pack-'));
  made.push(root);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

const listed = (root: string, excludes?: string[]) => listWorkingDir(root, excludes).map((f) => f.path);

describe('working directory packer', () => {
  test('.gitignore rules: comments, *, **, ?, anchoring, dirs only, negation, nested files', () => {
    const root = tree({
      '.gitignore': [
        '# a comment',
        '',
        '*.log',
        '!keep.log',
        '/build',
        'cache/',
        'doc/**/*.pdf',
        'tmp?.txt',
        'onlydir/',
      ].join('\n'),
      'a.js': '1',
      'x.log': 'no',
      'keep.log': 'yes',
      'build/out.js': 'no',
      'src/build/kept.js': 'yes: /build is anchored to the root',
      'src/cache/c.bin': 'no: cache/ anywhere',
      'doc/a/b/c.pdf': 'no',
      'doc/c.pdf': 'no: ** matches zero folders',
      'doc/readme.md': 'yes',
      'tmp1.txt': 'no',
      'tmp12.txt': 'yes: ? is one character',
      onlydir: 'yes: a file, and onlydir/ names folders only',
      'lib/.gitignore': 'secret.json\n!*.log\n',
      'lib/secret.json': 'no',
      'lib/util.js': 'yes',
      'lib/debug.log': 'yes: the deeper .gitignore re-includes it',
      '.git/HEAD': 'no: always left out',
    });
    assert.deepEqual(listed(root), [
      '.gitignore',
      'a.js',
      'doc/readme.md',
      'keep.log',
      'lib/.gitignore',
      'lib/debug.log',
      'lib/util.js',
      'onlydir',
      'src/build/kept.js',
      'tmp12.txt',
    ]);
  });

  test('excludes apply from the root over the .gitignore files', () => {
    const root = tree({ 'a.js': '1', 'data/big.bin': 'x', 'lib/x.ckpt': 'x', 'lib/.gitignore': '!x.ckpt\n' });
    assert.deepEqual(listed(root, ['data/', '*.ckpt']), ['a.js', 'lib/.gitignore']);
    // A pattern with a slash in a nested .gitignore is anchored to that folder.
    const nested = tree({ 'lib/.gitignore': 'sub/x.js\n', 'lib/sub/x.js': 'no', 'sub/x.js': 'yes', 'lib/x.js': 'yes' });
    assert.deepEqual(listed(nested, ['/lib/.gitignore']), ['lib/x.js', 'sub/x.js']);
  });

  test('the hash is stable across runs and file order, and changes with one byte or mode', () => {
    const files = [
      { path: 'b.js', data: Buffer.from('b'), executable: false },
      { path: 'a/x.js', data: Buffer.from('x'), executable: true },
    ];
    const one = packFiles(files);
    const two = packFiles([...files].reverse());
    assert.equal(one.hash, two.hash);
    assert.match(one.hash, /^[0-9a-f]{32}$/);
    assert.notEqual(packFiles([files[0]!, { ...files[1]!, data: Buffer.from('y') }]).hash, one.hash);
    assert.notEqual(packFiles([files[0]!, { ...files[1]!, executable: false }]).hash, one.hash);
    // Two trees with the same files in different creation order.
    const r1 = tree({ 'a.js': 'A', 'z/b.js': 'B' });
    const r2 = tree({ 'z/b.js': 'B', 'a.js': 'A' });
    assert.equal(packWorkingDir(r1, listWorkingDir(r1)).hash, packWorkingDir(r2, listWorkingDir(r2)).hash);
  });

  test('over the limit: a TypeError listing the largest files and suggesting excludes', () => {
    const root = tree({ 'a.js': '1', 'data/big.bin': 'x'.repeat(5000), 'data/mid.bin': 'x'.repeat(3000) });
    assert.throws(
      () => listWorkingDir(root, [], 4096, 'remote(f)'),
      (err: Error) =>
        err instanceof TypeError &&
        /remote\(f\): .* holds 0\.0 MiB of files to ship, over the 0\.0 MiB limit/.test(err.message) &&
        /Largest: data\/big\.bin \(0\.0 MiB\), data\/mid\.bin/.test(err.message) &&
        /excludes: \['data\/'\]/.test(err.message),
    );
  });

  test('unpacks what it packed, with private modes, and refuses paths that climb out', async () => {
    const root = tree({ 'lib/util.js': 'export const x = 1;\n', 'run.sh': '#!/bin/sh\n' });
    chmodSync(join(root, 'run.sh'), 0o755);
    const packed = packWorkingDir(root, listWorkingDir(root));
    const out = mkdtempSync(join(tmpdir(), 'orrery-unpack-'));
    made.push(out);
    assert.equal(await unpackArchive(packed.archive, out), 2);
    assert.equal(readFileSync(join(out, 'lib/util.js'), 'utf8'), 'export const x = 1;\n');
    assert.equal(statSync(join(out, 'run.sh')).mode & 0o777, 0o700);
    assert.equal(statSync(join(out, 'lib/util.js')).mode & 0o777, 0o600);
    const evil = packFiles([{ path: '../escape.txt', data: Buffer.from('x'), executable: false }]);
    const out2 = mkdtempSync(join(tmpdir(), 'orrery-unpack-'));
    made.push(out2);
    await assert.rejects(unpackArchive(evil.archive, out2), /unsafe path "\.\.\/escape\.txt"/);
  });

  test('the node cache unpacks once for concurrent users and fetches nothing when it has the hash', async () => {
    const root = tree({ 'lib/util.js': 'u' });
    const packed = packWorkingDir(root, listWorkingDir(root));
    const cacheRoot = join(mkdtempSync(join(tmpdir(), 'orrery-cache-')), 'workdirs');
    made.push(dirname(cacheRoot));
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 50));
      return packed.archive;
    };
    const dir = { hash: packed.hash, objectId: 'o1', archiveBytes: packed.archive.byteLength };
    // Two caches stand for two worker processes of one host.
    const [a, b] = await Promise.all([
      new WorkingDirCache(cacheRoot).ensure(dir, fetch),
      new WorkingDirCache(cacheRoot).ensure(dir, fetch),
    ]);
    assert.equal(fetches, 1);
    assert.equal(a.path, join(cacheRoot, packed.hash));
    assert.equal(b.path, a.path);
    assert.equal(a.fetchedBytes + b.fetchedBytes, packed.archive.byteLength);
    assert.equal(statSync(a.path).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(cacheRoot), [packed.hash]);
    const again = await new WorkingDirCache(cacheRoot).ensure(dir, fetch);
    assert.equal(again.fetchedBytes, 0);
    assert.equal(fetches, 1);
  });
});

test('a lock left by a dead process of this host does not hold the unpack up', async () => {
  const { execFileSync } = await import('node:child_process');
  const { hostname } = await import('node:os');
  const root = tree({ 'a.js': 'a' });
  const packed = packWorkingDir(root, listWorkingDir(root));
  const cacheRoot = join(mkdtempSync(join(tmpdir(), 'orrery-cache-')), 'workdirs');
  made.push(dirname(cacheRoot));
  const deadPid = Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
  mkdirSync(join(cacheRoot, `${packed.hash}.lock`), { recursive: true, mode: 0o700 });
  writeFileSync(
    join(cacheRoot, `${packed.hash}.lock`, 'owner'),
    JSON.stringify({ host: hostname(), pid: deadPid, since: 1 }),
  );
  const dir = { hash: packed.hash, objectId: 'o1', archiveBytes: packed.archive.byteLength };
  const got = await new WorkingDirCache(cacheRoot).ensure(dir, async () => packed.archive);
  assert.equal(got.fetchedBytes, packed.archive.byteLength);
  assert.deepEqual(readdirSync(cacheRoot), [packed.hash]);
});
