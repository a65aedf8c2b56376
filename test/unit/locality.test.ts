/** Data locality and memory-kill decisions (pure functions). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preferredNode } from '../../orchestrator/objects/locality.ts';
import { formatBytes, memoryRetryDelayMs } from '../../orchestrator/control/memory-kills.ts';
import { MemoryGuard } from '../../orchestrator/agent/memory-guard.ts';

const alive = () => true;
const KiB = 1024;

test('no located arguments: no preference', () => {
  assert.equal(preferredNode([undefined, undefined], alive), undefined);
});

test('the node holding the most argument bytes wins', () => {
  const locs = [
    { nodeId: 'a', sizeBytes: 300 * KiB },
    { nodeId: 'b', sizeBytes: 200 * KiB },
    { nodeId: 'b', sizeBytes: 200 * KiB },
    undefined,
  ];
  assert.equal(preferredNode(locs, alive), 'b');
});

test('arguments too small to be worth moving the task give no preference', () => {
  assert.equal(preferredNode([{ nodeId: 'a', sizeBytes: 10 * KiB }], alive), undefined);
  assert.equal(preferredNode([{ nodeId: 'a', sizeBytes: 10 * KiB }], alive, 5 * KiB), 'a');
});

test('dead nodes are never preferred', () => {
  const locs = [
    { nodeId: 'dead', sizeBytes: 900 * KiB },
    { nodeId: 'b', sizeBytes: 200 * KiB },
  ];
  assert.equal(
    preferredNode(locs, (n) => n !== 'dead'),
    'b',
  );
});

test('ties go to the smaller node id, whatever the order', () => {
  const x = { nodeId: 'x', sizeBytes: 200 * KiB };
  const y = { nodeId: 'y', sizeBytes: 200 * KiB };
  assert.equal(preferredNode([y, x], alive), 'x');
  assert.equal(preferredNode([x, y], alive), 'x');
});

test('memory sizes read as GiB or MiB', () => {
  assert.equal(formatBytes(2 * 2 ** 30), '2 GiB');
  assert.equal(formatBytes(2.1 * 2 ** 30), '2.1 GiB');
  assert.equal(formatBytes(200 * 2 ** 20), '200 MiB');
});

test('memory-kill retries back off and are capped', () => {
  assert.deepEqual([0, 1, 2, 3, 10].map(memoryRetryDelayMs), [500, 1000, 2000, 4000, 10_000]);
});

test('the memory guard kills exactly the workers over their limit', () => {
  const rss = new Map([
    [1, 100],
    [2, 500],
  ]);
  const killed: string[] = [];
  const guard = new MemoryGuard<{ name: string; pid: number }>(
    (w) => killed.push(w.name),
    (w) => w.pid,
    (pid) => rss.get(pid),
    1e9,
  );
  const small = { name: 'small', pid: 1 };
  const big = { name: 'big', pid: 2 };
  guard.watch(small, 200);
  guard.watch(big, 200);
  guard.check();
  guard.stop();
  assert.deepEqual(killed, ['big']);
  assert.deepEqual(guard.killed(big), { usedBytes: 500, limitBytes: 200 });
  assert.equal(guard.killed(small), undefined);
});
