/**
 * Warm files of a shared-memory folder (core/shared-memory.ts): after a large write the folder
 * makes a file of that size with its pages allocated, the next write of up to that size goes into
 * it (and only its bytes end up in the value's file), its name is never one a message may name,
 * and it goes after a while without writes, or with the folder. A freed value's file comes back
 * as a warm file, but a write takes it only when nothing uses it: a reader's mapping and another
 * name keep their value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isFileOf, removeShmFile, ShmFolder, WARM_IDLE_MS } from '../../orchestrator/core/shared-memory.ts';
import { mapFile, shmReadMode } from '../../orchestrator/core/shm-map.ts';

const MIB = 2 ** 20;
const warmFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('warm-'));
/** Warm files whose pages are all allocated (a file is there, empty, while the pool thread makes it). */
const readyWarmFiles = (dir: string, bytes: number) =>
  warmFiles(dir).filter((n) => statSync(join(dir, n), { throwIfNoEntry: false })?.size === bytes);

/** Waits for `ok`, then a little more: the folder hears that its pool thread finished after the file is complete. */
async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
  await new Promise((r) => setTimeout(r, 100));
}

test('a large write leaves a warm file the next write of up to its size goes into', async () => {
  assert.equal(shmReadMode().mode, 'mmap', `the addon is needed here: ${shmReadMode().reason}`);
  const folder = ShmFolder.create('head', (l) => assert.fail(l))!;
  try {
    const first = folder.write(new Uint8Array(3 * MIB + 5).fill(1), { marked: false })!;
    await until('a warm file', () => readyWarmFiles(folder.path, 4 * MIB).length === 1);
    const [warm] = warmFiles(folder.path);
    assert.equal(statSync(join(folder.path, warm!)).size, 4 * MIB, 'rounded up to a MiB');
    assert.equal(statSync(join(folder.path, warm!)).mode & 0o777, 0o600);
    assert.equal(isFileOf(folder.path, join(folder.path, warm!)), false, 'a message could name a warm file');

    const data = new Uint8Array(2 * MIB).map((_, i) => i % 251);
    const second = folder.write(data, { marked: false })!;
    assert.ok(!existsSync(join(folder.path, warm!)), 'the write did not take the warm file');
    assert.equal(statSync(second.shm!.path).size, data.byteLength, 'the warm file was not cut to the value');
    assert.deepEqual(new Uint8Array(readFileSync(second.shm!.path)), data);
    assert.equal(readFileSync(first.shm!.path).length, 3 * MIB + 5);
  } finally {
    folder.close();
  }
  assert.equal(existsSync(folder.path), false);
});

test('small writes make no warm file; warm files go after a while without writes', { timeout: 20_000 }, async () => {
  const folder = ShmFolder.create('head', (l) => assert.fail(l))!;
  try {
    folder.write(new Uint8Array(1000), { marked: false });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(warmFiles(folder.path), [], 'a value under 1 MiB made a warm file');
    folder.write(new Uint8Array(MIB), { marked: false });
    await until('a warm file', () => readyWarmFiles(folder.path, MIB).length === 1);
    await new Promise((r) => setTimeout(r, WARM_IDLE_MS + 500));
    assert.deepEqual(warmFiles(folder.path), [], 'the warm file outlived its idle time');
  } finally {
    folder.close();
  }
});

test('a folder joined from another process (a worker in its agent’s) makes no warm files', async () => {
  const owner = ShmFolder.create('agent', (l) => assert.fail(l))!;
  try {
    const joined = ShmFolder.join(owner.path);
    joined.write(new Uint8Array(2 * MIB), { marked: false });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(warmFiles(owner.path), []);
  } finally {
    owner.close();
  }
});

/** A folder whose last write was `bytes` of `fill`, with its made warm file ready. */
async function writtenFolder(bytes: number, fill: number) {
  assert.equal(shmReadMode().mode, 'mmap', `the addon is needed here: ${shmReadMode().reason}`);
  const folder = ShmFolder.create('head', (l) => assert.fail(l))!;
  const value = folder.write(new Uint8Array(bytes).fill(fill), { marked: false })!;
  await until('a warm file', () => readyWarmFiles(folder.path, Math.ceil(bytes / MIB) * MIB).length === 1);
  return { folder, value, inode: statSync(value.shm!.path).ino };
}

test('a freed value’s file that nothing uses takes the next write, and its old name is gone at once', async () => {
  const { folder, value, inode } = await writtenFolder(3 * MIB + 5, 1);
  try {
    removeShmFile(value);
    assert.ok(!existsSync(value.shm!.path), 'a reader told the freed name could still open it');
    assert.equal(warmFiles(folder.path).length, 2, 'the freed file was not kept');
    // 3 MiB fits both the freed file (3 MiB + 5) and the made one (4 MiB): the smaller is taken.
    const data = new Uint8Array(3 * MIB).fill(2);
    const next = folder.write(data, { marked: false })!;
    assert.equal(statSync(next.shm!.path).ino, inode, 'the write did not reuse the freed file');
    assert.deepEqual(new Uint8Array(readFileSync(next.shm!.path)), data);
  } finally {
    folder.close();
  }
});

test('a freed value’s file a reader still maps is never written into: the reader keeps its value', async () => {
  const { folder, value, inode } = await writtenFolder(3 * MIB + 5, 1);
  try {
    const view = new Uint8Array(mapFile(value.shm!.path));
    removeShmFile(value);
    const next = folder.write(new Uint8Array(3 * MIB).fill(2), { marked: false })!;
    assert.notEqual(statSync(next.shm!.path).ino, inode, 'a mapped file was reused');
    assert.ok(
      view.every((b) => b === 1),
      'the reader’s mapped value changed',
    );
    const named = () =>
      readdirSync(folder.path).some((n) => statSync(join(folder.path, n), { throwIfNoEntry: false })?.ino === inode);
    await until('the file in use to leave the pool', () => !named());
  } finally {
    folder.close();
  }
});

test('a freed value’s file with another name (a result that is its argument) keeps its value', async () => {
  const { folder, value, inode } = await writtenFolder(3 * MIB + 5, 1);
  const other = ShmFolder.create('agent', (l) => assert.fail(l))!;
  try {
    const alias = join(other.path, 'ab12');
    linkSync(value.shm!.path, alias);
    removeShmFile(value);
    const next = folder.write(new Uint8Array(3 * MIB).fill(2), { marked: false })!;
    assert.notEqual(statSync(next.shm!.path).ino, inode, 'a file with another name was reused');
    assert.ok(
      new Uint8Array(readFileSync(alias)).every((b) => b === 1),
      'the other name’s value changed',
    );
  } finally {
    folder.close();
    other.close();
  }
});

test('a folder that was not written into lately (an agent) removes freed files', async () => {
  const owner = ShmFolder.create('agent', (l) => assert.fail(l))!;
  try {
    const value = ShmFolder.join(owner.path).write(new Uint8Array(2 * MIB), { marked: false })!;
    removeShmFile(value);
    await until('the file to go', () => readdirSync(owner.path).length === 0);
  } finally {
    owner.close();
  }
});
