/**
 * The object store with real processes: reference counting under real garbage collection,
 * spilling, values kept on the node that made them, lineage reconstruction after node death,
 * lost put objects, data locality and the memory guard.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { init, shutdown, remote, get, wait, state, ObjectLostError, type ObjectRef } from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { linesOf, tempDir } from './helpers.ts';

type Node = Awaited<ReturnType<LocalCluster['addNode']>>;
const dir = tempDir('object-store');
let seq = 0;
const marker = (name: string) => join(dir, `${name}-${seq++}`);
const FIXTURE = new URL('./fixtures/refcount-driver.ts', import.meta.url).pathname;

describe('reference counting and spilling under real garbage collection (child driver with --expose-gc)', () => {
  let r: Record<string, unknown>;
  before(async () => {
    const home = tempDir('refcount-home');
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', FIXTURE, home], {
      timeout: 120_000,
    });
    r = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  });

  test('a put object and a task result are listed while referenced and freed once their refs are collected', () => {
    assert.equal(r.taskResult, 400_000);
    assert.deepEqual(r.beforeDrop, [true, true]);
    assert.equal(r.refCountBefore, 1, 'the driver holds the put object (the finished task released it)');
    assert.deepEqual(r.afterDrop, [false, false]);
  });

  test('a nested ref keeps its target alive while the containing object lives', () => {
    assert.equal(r.innerAliveWhileOuter, true);
    assert.equal(r.innerNestedCount, 1);
    assert.equal(r.innerViaOuter, 'inner value');
    assert.equal(r.innerAliveWhileRevived, true, 'a ref deserialized from the outer value holds the inner object');
    assert.deepEqual(r.afterOuterDrop, [false, false]);
  });

  test('past the store budget values spill to files, come back transparently, and their files go with them', () => {
    assert.ok((r.spillFilesWhileHeld as number) > 0, `spill files while held: ${r.spillFilesWhileHeld}`);
    assert.equal(r.restoredOk, true);
    assert.equal(r.spilledSumByTask, 2 * 37_500, 'a spilled value works as a task argument');
    assert.equal(r.spillFilesAfterDrop, 0);
    assert.equal(r.spillDirAfterShutdown, 0);
  });

  test("values kept on a node spill to the node's own folder past its budget and come back for get and for tasks", () => {
    assert.deepEqual(r.nodeLocations, ['NODE']);
    assert.ok(
      (r.nodeSpillFilesWhileHeld as number) >= 3,
      `node spill files while held: ${r.nodeSpillFilesWhileHeld} (6 x 300 KB on a 1 MB budget)`,
    );
    assert.equal(r.nodeSumByTask, 0, 'a spilled value works as a task argument on its node');
    assert.equal(r.nodeRestoredOk, true);
    assert.equal(r.nodeSpillFilesAfterDrop, 0, 'freed objects take their node spill files with them');
  });
});

test('a head keeps a bounded number of finished task records: the oldest go once their results are freed', async () => {
  const fixture = new URL('./fixtures/task-table-driver.ts', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', fixture], {
    timeout: 120_000,
  });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as {
    whileHeld: number;
    after: number;
    heldKept: boolean;
    summaryFinished: number;
  };
  assert.equal(r.whileHeld, 300, 'no record goes while its result is referenced');
  assert.ok(
    r.after <= 170,
    `records after 300 more tasks with 50 kept: ${r.after} (at most 50 + 10 held + the last 100)`,
  );
  assert.equal(r.heldKept, true, 'tasks whose results are still held keep their records (lineage)');
  assert.equal(r.summaryFinished, 600, 'the task summary still counts every finished task');
});

describe('values kept on nodes, node death and lineage', () => {
  let cluster: LocalCluster;
  let a: Node;
  let b: Node;

  /** Appends a line to `file` per run and returns a large array (kept on its node). */
  const makeBig = remote({ name: 'make-big' }, async (file: string, fill: number) => {
    const fs = await import('node:fs');
    fs.appendFileSync(file, 'run\n');
    return new Float64Array(50_000).fill(fill);
  });
  const sum = remote({ name: 'sum' }, (x: Float64Array) => x.reduce((s, v) => s + v, 0));
  const whereSum = remote({ name: 'where-sum' }, async (x: Float64Array) => {
    const { getRuntimeContext } = await import('orrery-compute');
    return { nodeId: getRuntimeContext().nodeId, sum: x.reduce((s, v) => s + v, 0) };
  });

  before(async () => {
    cluster = await LocalCluster.start({ log: () => {} });
    a = await cluster.addNode({ numCpus: 2 });
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  const on = (n: Node) => ({ schedulingStrategy: { nodeId: n.nodeId, soft: true } });
  const row = async (ref: ObjectRef) => (await state.listObjects({ filters: [['objectId', '=', ref.id]] }))[0]!;

  test('an object a task put and dropped is freed once its worker is idle (the worker collects garbage then)', async () => {
    const dropPut = remote({ name: 'drop-put' }, async () => {
      const { put, state } = await import('orrery-compute');
      const id = put(new Uint8Array(300_000).fill(5)).id;
      return { id, listed: (await state.listObjects({ filters: [['objectId', '=', id]] })).length };
    });
    const { id, listed } = await get(dropPut.options(on(a)).remote());
    assert.equal(listed, 1, 'the put object exists while the task runs');
    // The worker collects after 1 s idle; left to V8 alone, an idle worker can hold it far longer.
    let left = 1;
    for (let i = 0; i < 40 && left > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = (await state.listObjects({ filters: [['objectId', '=', id]] })).length;
    }
    assert.equal(left, 0, 'freed within 4 s: the idle worker released its ref');
  });

  test('a large result stays on its node; get pulls it through the head; a dependent task on another node reads it', async () => {
    b = await cluster.addNode({ numCpus: 2 });
    const file = marker('stay');
    const ref = makeBig.options(on(b)).remote(file, 2);
    await wait([ref]);
    const r = await row(ref);
    assert.equal(r.location, 'NODE');
    assert.equal(r.nodeId, b.nodeId);
    assert.equal(r.sizeBytes, 400_000);
    const other = await get(whereSum.options(on(a)).remote(ref));
    assert.deepEqual(other, { nodeId: a.nodeId, sum: 100_000 });
    const v = await get(ref);
    assert.equal(v.length, 50_000);
    assert.ok(v.every((x) => x === 2));
  });

  test('a task whose large argument lives on one node runs there (data locality)', async () => {
    const ref = makeBig.options(on(b)).remote(marker('locality'), 1);
    await wait([ref]);
    // One at a time: the preference is soft, so a task that finds the node full runs elsewhere.
    for (let i = 0; i < 3; i++) assert.deepEqual(await get(whereSum.remote(ref)), { nodeId: b.nodeId, sum: 50_000 });
  });

  test('when the node holding the only copy dies, get re-runs the task that made it', async () => {
    const file = marker('rebuild');
    const ref = makeBig.options(on(b)).remote(file, 3);
    await wait([ref]);
    assert.equal((await row(ref)).nodeId, b.nodeId);
    assert.equal(linesOf(file).length, 1);
    await b.kill();
    const v = await get(ref, { timeoutMs: 60_000 });
    assert.equal(v.length, 50_000);
    assert.ok(v.every((x) => x === 3));
    assert.equal(linesOf(file).length, 2, 'the producing task ran exactly once more');
    const [t] = await state.listTasks({ filters: [['taskId', '=', ref.id]] });
    assert.equal(t?.attempt, 1);
  });

  test('a dependent task submitted after the node died rebuilds its lost argument', async () => {
    b = await cluster.addNode({ numCpus: 2 });
    const file = marker('rebuild-dep');
    const ref = makeBig.options(on(b)).remote(file, 4);
    await wait([ref]);
    await b.kill();
    assert.equal(await get(sum.remote(ref), { timeoutMs: 60_000 }), 200_000);
    assert.equal(linesOf(file).length, 2);
  });

  test('a lost result whose task has no retries left fails with ObjectLostError', async () => {
    b = await cluster.addNode({ numCpus: 2 });
    const ref = makeBig.options({ ...on(b), maxRetries: 0 }).remote(marker('no-retry'), 5);
    await wait([ref]);
    await b.kill();
    await assert.rejects(get(ref), (e: Error) => {
      assert.ok(e instanceof ObjectLostError, `${e.name}: ${e.message}`);
      assert.match(e.message, /no retries left/);
      return true;
    });
  });

  test('a large put made on a node that died is lost for good: ObjectLostError says it was made by put', async () => {
    b = await cluster.addNode({ numCpus: 2 });
    const putter = remote(async () => {
      const { put } = await import('orrery-compute');
      return [put(new Float64Array(50_000).fill(7))];
    });
    const [inner] = await get(putter.options(on(b)).remote());
    assert.equal((await row(inner!)).nodeId, b.nodeId);
    await b.kill();
    await assert.rejects(get(inner!), (e: Error) => {
      assert.ok(e instanceof ObjectLostError, `${e.name}: ${e.message}`);
      assert.match(e.message, /created by put\(\)/);
      assert.match(e.message, /died/);
      return true;
    });
  });
});

describe('memory guard', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await LocalCluster.start({ log: () => {} });
    await cluster.addNode({ numCpus: 1, resources: { memory: 8 * 2 ** 30 } });
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test('a worker over its task memory limit is killed and the task retried; the reason names the task and limit', async () => {
    const file = marker('hungry');
    const hungry = remote({ name: 'hungry', memory: 150 * 2 ** 20, maxRetries: 2 }, async (f: string) => {
      const fs = await import('node:fs');
      const attempt = fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0;
      fs.appendFileSync(f, `${attempt}\n`);
      if (attempt === 0) {
        const hog = Buffer.alloc(400 * 2 ** 20, 1);
        await new Promise((r) => setTimeout(r, 20_000));
        return hog.length;
      }
      return 'fits now';
    });
    const ref = hungry.remote(file);
    assert.equal(await get(ref, { timeoutMs: 60_000 }), 'fits now');
    assert.equal(linesOf(file).length, 2);
    const [t] = await state.listTasks({ filters: [['taskId', '=', ref.id]] });
    const msg = String((t!.info as Record<string, unknown>).memoryKill);
    assert.match(
      msg,
      /^task hungry used \d+(\.\d)? MiB, over its memory limit of 150 MiB; it was killed and will be retried \(attempt 2 of 3\)$/,
    );
  });
});
