/** Reference counting, spilling and lost objects in the head's object store (no processes). */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReferenceCounter } from '../../orchestrator/objects/reference-counter.ts';
import { ObjectStore, type ObjectStoreIO } from '../../orchestrator/objects/object-store.ts';
import { serializeValue, deserializeValue, type Payload } from '../../orchestrator/core/serialization.ts';
import { ObjectRef } from '../../orchestrator/core/object-ref.ts';
import { ShmFolder } from '../../orchestrator/core/shared-memory.ts';

const reviver = { actor: () => undefined };
const bytes = (n: number, fill: number) => serializeValue(new Uint8Array(n).fill(fill), 'test');

/** The store's ports, recording what it asked for; `pull` and `reconstruct` answer as the test sets them. */
class FakeStoreIO implements ObjectStoreIO {
  readonly pulls: string[] = [];
  readonly freed: string[] = [];
  readonly reconstructions: string[] = [];
  onPull: (nodeId: string, id: string) => Promise<Payload | undefined> = async () => undefined;
  onReconstruct: (id: string) => void = () => {};

  pull(nodeId: string, id: string): Promise<Payload | undefined> {
    this.pulls.push(`${nodeId}:${id}`);
    return this.onPull(nodeId, id);
  }

  freeOnNode(nodeId: string, ids: readonly string[]): void {
    for (const id of ids) this.freed.push(`${nodeId}:${id}`);
  }

  reconstruct(id: string): void {
    this.reconstructions.push(id);
    this.onReconstruct(id);
  }
}

function newStore(memoryBytes = 1 << 30): { store: ObjectStore; dir: string; io: FakeStoreIO } {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-refcount-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const io = new FakeStoreIO();
  return { store: new ObjectStore({ memoryBytes, spillDir: join(dir, 'spill') }, io), dir, io };
}

describe('ReferenceCounter', () => {
  test('an object is unreachable once its last holder releases it', () => {
    const rc = new ReferenceCounter();
    rc.hold('x', 'driver:1');
    rc.hold('x', 'n1/w1');
    assert.deepEqual(rc.release('x', 'driver:1'), []);
    assert.deepEqual(rc.release('x', 'n1/w1'), ['x']);
  });

  test('holding twice from one process counts once; releasing an unknown holder frees nothing', () => {
    const rc = new ReferenceCounter();
    rc.hold('x', 'driver:1');
    rc.hold('x', 'driver:1');
    assert.deepEqual(rc.countsOf('x').holders, ['driver:1']);
    assert.deepEqual(rc.release('x', 'n9/w9'), []);
    assert.deepEqual(rc.release('x', 'driver:1'), ['x']);
  });

  test('pending tasks keep their arguments alive until they end', () => {
    const rc = new ReferenceCounter();
    rc.hold('arg', 'driver:1');
    rc.addSubmitted(['arg', 'arg']);
    assert.deepEqual(rc.release('arg', 'driver:1'), []);
    assert.deepEqual(rc.removeSubmitted(['arg']), []);
    assert.deepEqual(rc.removeSubmitted(['arg']), ['arg']);
  });

  test('a dead process releases everything it held; a dead node releases all its workers', () => {
    const rc = new ReferenceCounter();
    rc.hold('a', 'n1/w1');
    rc.hold('b', 'n1/w2');
    rc.hold('c', 'n2/w1');
    assert.deepEqual(rc.releaseHolder('n1/', true).sort(), ['a', 'b']);
    assert.ok(rc.isReachable('c'));
  });

  test('objects nobody ever referenced are never reported unreachable', () => {
    const rc = new ReferenceCounter();
    assert.ok(rc.isReachable('never-seen'));
    assert.equal(rc.tracked('never-seen'), false);
  });
});

describe('ObjectStore reference counting', () => {
  test('a put object is freed when its holder drops it', () => {
    const { store } = newStore();
    store.put('p', bytes(1000, 1), 'job', 'driver:job');
    assert.equal(store.usedBytes, 1000);
    store.release('p', 'driver:job');
    assert.equal(store.has('p'), false);
    assert.equal(store.usedBytes, 0);
  });

  test('nested refs keep their targets alive while the container lives', () => {
    const { store } = newStore();
    store.put('inner', bytes(10, 2), 'job', 'driver:job');
    const nested: string[] = [];
    const outer = serializeValue({ inner: new ObjectRef('inner') }, 'test', nested);
    assert.deepEqual(nested, ['inner']);
    store.put('outer', outer, 'job', 'driver:job', { nestedRefs: nested });
    store.release('inner', 'driver:job');
    assert.ok(store.has('inner'), 'the outer object still reaches it');
    const row = [...store.rows()].find((r) => r.objectId === 'inner')!;
    assert.equal(row.nestedCount, 1);
    assert.equal(row.refCount, 1);
    store.release('outer', 'driver:job');
    assert.equal(store.has('outer'), false);
    assert.equal(store.has('inner'), false, 'freeing the container released what it contained');
  });

  test('a reader of an object holds the refs inside it', async () => {
    const { store } = newStore();
    store.put('inner', bytes(10, 2), 'job', 'driver:job');
    const nested: string[] = [];
    store.put('outer', serializeValue([new ObjectRef('inner')], 'test', nested), 'job', 'driver:job', {
      nestedRefs: nested,
    });
    store.release('inner', 'driver:job');
    await store.results(['outer'], 'n1/w1');
    store.release('outer', 'driver:job');
    assert.equal(store.has('outer'), false);
    assert.ok(store.has('inner'), 'the worker that read the outer value holds the inner ref');
    store.releaseHolder('n1/w1');
    assert.equal(store.has('inner'), false);
  });

  test('a task result dropped while pending is freed when the task ends; its arguments when it ends too', () => {
    const { store } = newStore();
    store.put('arg', bytes(10, 3), 'job', 'driver:job');
    store.createPending('t1', 'job', ['arg']);
    store.hold('t1', 'driver:job');
    store.release('arg', 'driver:job');
    assert.ok(store.has('arg'), 'the pending task holds its argument');
    store.release('t1', 'driver:job');
    assert.ok(store.has('t1'), 'still pending');
    store.resolve('t1', bytes(10, 4));
    assert.equal(store.has('t1'), false);
    assert.equal(store.has('arg'), false);
  });

  test('a driver ending drops its refs; what others still hold fails with OwnerDiedError', async () => {
    const { store } = newStore();
    store.put('mine', bytes(10, 1), 'job', 'driver:job');
    store.put('shared', bytes(10, 1), 'job', 'driver:job');
    store.hold('shared', 'n1/w1');
    store.ownerDied('job', 'driver:job');
    assert.equal(store.has('mine'), false);
    const [r] = await store.results(['shared']);
    assert.equal(r!.ok, false);
    assert.equal(!r!.ok && r!.error.name, 'OwnerDiedError');
  });
});

describe('ObjectStore spilling', () => {
  test('past 80% of the budget the least recently used values go to disk and come back on read', async () => {
    const { store, dir } = newStore(100_000);
    store.put('a', bytes(30_000, 1), 'job', 'driver:job');
    store.put('b', bytes(30_000, 2), 'job', 'driver:job');
    assert.equal(readdirSync(dir).length, 0, 'no spill below the threshold');
    store.result('a'); // a is now the most recently used
    store.put('c', bytes(30_000, 3), 'job', 'driver:job');
    const spilled = readdirSync(join(dir, 'spill'));
    assert.deepEqual(spilled, ['b']);
    assert.ok(store.usedBytes <= 80_000);
    const [b] = await store.results(['b']);
    assert.ok(b!.ok);
    const v = deserializeValue(b!.payload, reviver) as Uint8Array;
    assert.equal(v.length, 30_000);
    assert.ok(v.every((x) => x === 2));
    assert.ok(existsSync(join(dir, 'spill', 'b')), 'the spill file stays until the object is freed');
    store.release('b', 'driver:job');
    assert.equal(existsSync(join(dir, 'spill', 'b')), false, 'freeing removes the spill file');
    store.close();
    assert.equal(existsSync(join(dir, 'spill')), false, 'closing removes the folder');
  });
});

describe('ObjectStore lost values', () => {
  test('a value held only by a dead node is LOST; waiting for it asks for reconstruction once', async () => {
    const { store, io } = newStore();
    store.createPending('t', 'job');
    store.hold('t', 'driver:job');
    store.resolve('t', { data: new Uint8Array(0), marked: false }, { nodeId: 'n1', sizeBytes: 200_000 });
    assert.deepEqual(store.locationOf('t'), { nodeId: 'n1', sizeBytes: 200_000 });
    store.nodeDied('n1');
    assert.equal(store.isDone('t'), false);
    io.onReconstruct = (id) => store.rebuilding(id, []);
    const waiting = store.results(['t']);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(io.reconstructions, ['t']);
    store.resolve('t', bytes(5, 9));
    const [r] = await waiting;
    assert.ok(r!.ok);
    assert.deepEqual([...(deserializeValue(r!.payload, reviver) as Uint8Array)], [9, 9, 9, 9, 9]);
  });

  test('freeing a value that stayed on its node tells that node to drop it', () => {
    const { store, io } = newStore();
    store.put('p', { data: new Uint8Array(0), marked: false, typed: 'Uint8Array' }, 'job', 'n1/w1', {
      nodeId: 'n1',
      sizeBytes: 3,
    });
    store.put('q', bytes(3, 1), 'job', 'n1/w1');
    store.release('p', 'n1/w1');
    store.release('q', 'n1/w1');
    assert.deepEqual(io.freed, ['n1:p'], 'only the value held by the node is dropped there');
    assert.equal(store.has('p'), false);
  });

  test('a value on a live node is pulled through the head and kept there', async () => {
    const { store, io } = newStore();
    io.onPull = async () => bytes(3, 7);
    store.put('p', { data: new Uint8Array(0), marked: false, typed: 'Uint8Array' }, 'job', 'n1/w1', {
      nodeId: 'n1',
      sizeBytes: 3,
    });
    const [r1] = await store.results(['p']);
    const [r2] = await store.results(['p']);
    assert.deepEqual(io.pulls, ['n1:p'], 'the second read uses the head copy');
    assert.ok(r1!.ok && r2!.ok);
  });

  test('two readers pulling one shared-memory value at once both get a file that exists', async () => {
    const { io, dir } = newStore();
    const shm = join(dir, 'shm');
    mkdirSync(shm);
    const folder = ShmFolder.join(shm);
    // Each pull is a new file (an agent's link), answered after both reads asked.
    io.onPull = () =>
      new Promise((r) => setTimeout(() => r(folder.write(new Uint8Array(8).fill(5), { marked: false })), 10));
    const owned = new ObjectStore({ memoryBytes: 1 << 30, spillDir: join(dir, 'spill2'), shm: folder }, io);
    owned.put('p', { data: new Uint8Array(0), marked: false }, 'job', 'n1/w1', { nodeId: 'n1', sizeBytes: 8 });
    const [[a], [b]] = await Promise.all([owned.results(['p']), owned.results(['p'])]);
    assert.ok(a!.ok && b!.ok && a.payload.shm && b.payload.shm);
    assert.equal(a.payload.shm.path, b.payload.shm.path, 'both readers get the copy the head keeps');
    assert.ok(existsSync(a.payload.shm.path), 'the file a reader was given is gone');
    for (let i = 0; i < 100 && readdirSync(shm).length > 1; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(readdirSync(shm).length, 1, 'the second pull left its file behind');
  });
});
