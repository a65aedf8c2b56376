/**
 * Warm files of a shared-memory folder (core/shared-memory.ts): after a large write the folder
 * makes a file of that size with its pages allocated, the next write of up to that size goes into
 * it (and only its bytes end up in the value's file), its name is never one a message may name,
 * and it goes after a while without writes, or with the folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isFileOf, ShmFolder, WARM_IDLE_MS } from '../../orchestrator/core/shared-memory.ts';
import { shmReadMode } from '../../orchestrator/core/shm-map.ts';

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
