/** A node's object store: budget, spilling to the node's disk without blocking, restore, free. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeObjects } from '../../orchestrator/agent/node-objects.ts';
import type { Payload } from '../../orchestrator/core/serialization.ts';
import { SPILL_THRESHOLD } from '../../orchestrator/objects/spill-store.ts';

const value = (n: number, fill: number): Payload => ({ data: new Uint8Array(n).fill(fill), marked: false });
const files = (dir: string) => (existsSync(dir) ? readdirSync(dir).length : 0);

/** Waits for `want` spill files and for their spills to finish (a file exists before its write is done). */
async function settle(store: NodeObjects, dir: string, want: number): Promise<void> {
  const done = () => files(dir) >= want && store.usedBytes <= store.memoryBytes * SPILL_THRESHOLD;
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(
    done(),
    `expected ${want} spill files, found ${files(dir)} (memory ${store.usedBytes} of ${store.memoryBytes})`,
  );
}

test('past 80% of the budget the least recently used values spill; get reads them back; free removes their files', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'node-objects-')), 'spill');
  const store = new NodeObjects({ memoryBytes: 1000, spillDir: dir });
  for (let i = 0; i < 5; i++) store.store(`o${i}`, value(300, i));
  // 1500 bytes against a threshold of 800: the three oldest go to disk, two stay in memory.
  await settle(store, dir, 3);
  assert.equal(files(dir), 3);
  assert.equal(store.usedBytes, 600);
  assert.deepEqual(readdirSync(dir).sort(), ['o0', 'o1', 'o2']);
  for (let i = 0; i < 5; i++) {
    const p = await store.get(`o${i}`, 0);
    assert.ok(p && p.data.length === 300 && p.data.every((b) => b === i), `o${i} reads back`);
  }
  store.free(['o0', 'o3']);
  assert.deepEqual(readdirSync(dir).sort(), ['o1', 'o2']);
  assert.equal(store.usedBytes, 300);
  assert.equal(await store.get('o0', 0), undefined);
  store.close();
  assert.equal(existsSync(dir), false);
});

test('a value freed while its spill is being written leaves no file behind', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'node-objects-')), 'spill');
  const store = new NodeObjects({ memoryBytes: 100, spillDir: dir });
  store.store('a', value(200, 1));
  store.free(['a']);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(files(dir), 0);
  assert.equal(store.usedBytes, 0);
});

test('when the spill folder cannot be written, values stay in memory and the failure is told once', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'node-objects-'));
  writeFileSync(join(parent, 'file'), '');
  const lines: string[] = [];
  const store = new NodeObjects({
    memoryBytes: 100,
    spillDir: join(parent, 'file', 'spill'),
    log: (l) => lines.push(l),
  });
  store.store('a', value(200, 7));
  store.store('b', value(200, 8));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /cannot spill objects to .*file\/spill .*stay in memory/);
  assert.equal((await store.get('a', 0))?.data[0], 7);
  assert.equal(store.usedBytes, 400);
});

test('spill files are created 0600 in a 0700 folder, whatever the umask; an open spill folder is refused and values stay in memory', async () => {
  const old = process.umask(0);
  try {
    const dir = join(mkdtempSync(join(tmpdir(), 'node-objects-')), 'spill');
    const store = new NodeObjects({ memoryBytes: 100, spillDir: dir });
    store.store('a', value(200, 1));
    await settle(store, dir, 1);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o600);
    store.close();
    const open = join(mkdtempSync(join(tmpdir(), 'node-objects-')), 'spill');
    mkdirSync(open, { mode: 0o777 });
    const lines: string[] = [];
    const refused = new NodeObjects({ memoryBytes: 100, spillDir: open, log: (l) => lines.push(l) });
    refused.store('b', value(200, 2));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /cannot spill objects to .*is open to group or others \(mode 0777\).*stay in memory/);
    assert.deepEqual(readdirSync(open), []);
    assert.equal((await refused.get('b', 0))?.data[0], 2);
  } finally {
    process.umask(old);
  }
});
