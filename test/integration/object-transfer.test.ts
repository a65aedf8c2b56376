/**
 * Direct transfers between nodes (orchestrator/agent/object-transfer-*.ts): a large value made on
 * one node and consumed on another moves agent to agent, not through the head; the State API
 * shows where it is and the bytes it moved each way. A dropped connection resumes; a holder that
 * dies mid-transfer leaves the consumer to lineage reconstruction; `objectTransfer: 'relay'`
 * sends the bytes through the head; a wrong token is refused. Real agent processes throughout,
 * and an ssh node of the loopback sshd.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, init, remote, shutdown, state, type ObjectRef } from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { createSshBackend } from '../../backends/ssh/index.ts';
import { fetchFromPeer } from '../../orchestrator/agent/object-transfer-client.ts';
import { ObjectTransferServer } from '../../orchestrator/agent/object-transfer-server.ts';
import { TransferRefusedError } from '../../orchestrator/agent/object-transfer-wire.ts';
import { newPeerSecret } from '../../orchestrator/protocol/peer-secret.ts';
import { requireService, sshService } from '../services/env.ts';
import { closedPort, until } from './helpers.ts';

// Agents on one machine share memory with the head, and between them a value moves by a file
// link (core/shared-memory.ts), not over a socket. Without it they stand for separate machines.
process.env.ORRERY_SHM = '0';

const MB = 2 ** 20;
const SIZE = 64 * MB;

type Node = Awaited<ReturnType<LocalCluster['addNode']>>;

/** A value of `n` bytes whose content a checksum can verify. */
const make = remote({ name: 'make-big', maxRetries: 3 }, (n: number) => {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i += 4096) a[i] = (i / 4096) % 251;
  a[n - 1] = 7;
  return a;
});

/** A small summary of the value and where it was read. */
const consume = remote({ name: 'consume-big', maxRetries: 0 }, async (a: Uint8Array) => {
  const { getRuntimeContext } = await import('orrery-compute');
  let sum = 0;
  for (let i = 0; i < a.length; i += 4096) sum += a[i]!;
  return { length: a.length, sum, last: a[a.length - 1], nodeId: getRuntimeContext().nodeId };
});

/** The same summary of values the task gets itself with get() (refs inside an array are not resolved as arguments). */
const getInside = remote({ name: 'get-inside', maxRetries: 0 }, async (refs: ObjectRef<Uint8Array>[]) => {
  const { get } = await import('orrery-compute');
  return (await get(refs)).map((a) => {
    let sum = 0;
    for (let i = 0; i < a.length; i += 4096) sum += a[i]!;
    return { length: a.length, sum, last: a[a.length - 1] };
  });
});

function expectedSum(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i += 4096) sum += (i / 4096) % 251;
  return sum;
}

const pin = (nodeId: string, soft = false) => ({ schedulingStrategy: { nodeId, soft } });

async function rowOf(ref: ObjectRef<unknown>) {
  const rows = await state.listObjects({ filters: [['objectId', '=', ref.id]] });
  return rows[0]!;
}

/** Makes a value on `from`, consumes it on `to`; returns the value's ref and what the consumer saw. */
async function moveBetween(from: string, to: string, size = SIZE) {
  const ref = make.options(pin(from)).remote(size);
  const seen = await get(consume.options(pin(to)).remote(ref));
  assert.deepEqual(seen, { length: size, sum: expectedSum(size), last: 7, nodeId: to });
  return ref;
}

describe('two local agents', () => {
  let cluster: LocalCluster;
  let a: Node;
  let b: Node;
  const logs: string[] = [];

  before(async () => {
    process.env.ORRERY_TEST_TRANSFER_CUT_BYTES = String(8 * MB);
    cluster = await LocalCluster.start({ log: (l) => logs.push(l) });
    [a, b] = await Promise.all([cluster.addNode(), cluster.addNode()]);
    delete process.env.ORRERY_TEST_TRANSFER_CUT_BYTES;
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test('a value made on one node reaches a task on the other directly; a dropped connection resumes', async () => {
    const ref = await moveBetween(a.nodeId, b.nodeId);
    const row = await rowOf(ref);
    assert.equal(row.nodeId, a.nodeId);
    assert.deepEqual(new Set(row.locations.split(',')), new Set([a.nodeId, b.nodeId]));
    assert.equal(row.directBytes, SIZE);
    assert.equal(row.relayBytes, 0, 'no byte went through the head');
    // The agents were told to cut the first transfer after 8 MB: the consumer's agent resumed.
    assert.ok(
      logs.some((l) => l.includes(`object ${ref.id} reached node ${b.nodeId}`) && /1 dropped connection/.test(l)),
      logs.join('\n'),
    );
  });

  test('a second task on the node with the copy reads it there: no second transfer', async () => {
    const ref = await moveBetween(a.nodeId, b.nodeId, 4 * MB);
    await get(consume.options(pin(b.nodeId)).remote(ref));
    const row = await rowOf(ref);
    assert.equal(row.directBytes, 4 * MB);
    assert.equal(row.relayBytes, 0);
  });

  test("a task's get() of a value on the other node fetches it directly, and of one on its own node reads it there", async () => {
    const there = make.options(pin(a.nodeId)).remote(4 * MB);
    const here = make.options(pin(b.nodeId)).remote(3 * MB);
    const [seen] = await get([getInside.options(pin(b.nodeId)).remote([there, here])]);
    assert.deepEqual(seen, [
      { length: 4 * MB, sum: expectedSum(4 * MB), last: 7 },
      { length: 3 * MB, sum: expectedSum(3 * MB), last: 7 },
    ]);
    const [rowThere, rowHere] = [await rowOf(there), await rowOf(here)];
    assert.equal(rowThere.directBytes, 4 * MB, 'the value on the other node did not move agent to agent');
    assert.equal(rowThere.relayBytes, 0, 'the value on the other node went through the head');
    assert.equal(rowHere.relayBytes, 0, 'the value on the same node went through the head');
    assert.equal(rowHere.directBytes, 0);
  });

  test('the driver still gets the value through the head (counted as relayed)', async () => {
    const ref = make.options(pin(a.nodeId)).remote(2 * MB);
    const v = await get(ref);
    assert.equal(v.length, 2 * MB);
    assert.equal((await rowOf(ref)).relayBytes, 2 * MB);
  });
});

describe('relay forced by config', () => {
  let cluster: LocalCluster;
  let a: Node;
  let b: Node;

  before(async () => {
    cluster = await LocalCluster.start({ log: () => {} });
    [a, b] = await Promise.all([
      cluster.addNode({ objectTransfer: 'relay' }),
      cluster.addNode({ objectTransfer: 'relay' }),
    ]);
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test("objectTransfer: 'relay' moves the bytes through the head", async () => {
    const ref = await moveBetween(a.nodeId, b.nodeId);
    const row = await rowOf(ref);
    assert.equal(row.directBytes, 0);
    assert.equal(row.relayBytes, SIZE);
    assert.equal(row.locations, a.nodeId);
  });

  test('a bad objectTransfer or transferBind value is refused with what is allowed', async () => {
    const { createBackend } = await import('../../orchestrator/head/backend-registry.ts');
    await assert.rejects(
      createBackend({ name: 'bad', kind: 'local', objectTransfer: 'carrier-pigeon' }),
      /backend bad: objectTransfer must be one of 'direct', 'relay', 'auto' \(got "carrier-pigeon"\)/,
    );
    const { validateSshConfig } = await import('../../backends/ssh/config.ts');
    assert.throws(
      () => validateSshConfig({ name: 'far', kind: 'ssh', hosts: ['h'], transferBind: 'a b' }),
      /backend far: transferBind must be an IP address or host name to listen on/,
    );
  });
});

describe('a pair of nodes that cannot connect (auto)', () => {
  let cluster: LocalCluster;
  let a: Node;
  let b: Node;
  const logs: string[] = [];

  before(async () => {
    cluster = await LocalCluster.start({ log: (l) => logs.push(l) });
    // A announces a port nobody listens on: B's probe fails as it would across networks.
    process.env.ORRERY_TEST_TRANSFER_ANNOUNCE_PORT = String(await closedPort());
    a = await cluster.addNode();
    delete process.env.ORRERY_TEST_TRANSFER_ANNOUNCE_PORT;
    b = await cluster.addNode();
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test('the value goes through the head, and the pair is not probed again', async () => {
    const probes = () => logs.filter((l) => l.includes(`node ${b.nodeId} fetches object`)).length;
    const first = await moveBetween(a.nodeId, b.nodeId, 4 * MB);
    assert.equal(probes(), 1, logs.join('\n'));
    assert.match(logs.find((l) => l.includes(`fetches object ${first.id}`))!, /through the head: .*ECONNREFUSED/);
    assert.deepEqual([(await rowOf(first)).directBytes, (await rowOf(first)).relayBytes], [0, 4 * MB]);
    const second = await moveBetween(a.nodeId, b.nodeId, 4 * MB);
    assert.equal(probes(), 1, 'the failed pair went straight to the relay');
    assert.equal((await rowOf(second)).relayBytes, 4 * MB);
    // The other way round is another pair: B serves A directly.
    const back = await moveBetween(b.nodeId, a.nodeId, 4 * MB);
    assert.equal((await rowOf(back)).directBytes, 4 * MB);
  });
});

describe('the holder dies mid-transfer', () => {
  let cluster: LocalCluster;
  let a: Node;
  let b: Node;
  let c: Node;
  let d: Node;
  const logs: string[] = [];
  /** Resolves once the task whose result is `ref` runs (its worker then fetches its argument). */
  const running = (ref: ObjectRef<unknown>) =>
    until(
      'the consumer runs',
      async () => (await state.listTasks({ filters: [['taskId', '=', ref.id]] }))[0]?.state === 'RUNNING',
      60_000,
    );
  /** True once the head heard that `nodeId` could not finish a direct fetch of `id`. */
  const cut = (nodeId: string, id: string) =>
    logs.some((l) => l.includes(`node ${nodeId} fetches object ${id} through the head`));

  before(async () => {
    // About 64 chunks of 1 MB, 100 ms apart: the transfer takes seconds, time to kill the holder.
    process.env.ORRERY_TEST_TRANSFER_CHUNK_DELAY_MS = '100';
    cluster = await LocalCluster.start({ log: (l) => logs.push(l) });
    [a, b, c, d] = await Promise.all([cluster.addNode(), cluster.addNode(), cluster.addNode(), cluster.addNode()]);
    delete process.env.ORRERY_TEST_TRANSFER_CHUNK_DELAY_MS;
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test('the consumer gets the value rebuilt by lineage', async () => {
    const ref = make.options(pin(a.nodeId, true)).remote(SIZE);
    // Wait until the value exists on A, then start the consumer on B and kill A while B fetches.
    for (;;) {
      const r = await state.listObjects({ filters: [['objectId', '=', ref.id]] });
      if (r[0]?.state === 'READY') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const consumer = consume.options(pin(b.nodeId)).remote(ref);
    await running(consumer);
    await new Promise((r) => setTimeout(r, 1000));
    await a.kill();
    const seen = await get(consumer);
    assert.ok(cut(b.nodeId, ref.id), `B's direct fetch was cut by A's death:\n${logs.join('\n')}`);
    assert.deepEqual(seen, { length: SIZE, sum: expectedSum(SIZE), last: 7, nodeId: b.nodeId });
    // The value was made again on the live node (lineage), not read from the dead one.
    const row = await rowOf(ref);
    assert.ok(row.nodeId !== '' && row.nodeId !== a.nodeId, `made again on a live node (${row.nodeId})`);
  });

  test('a put value (not rebuildable) lives on in a copy: a fetch cut by the death of its maker goes to the copy', async () => {
    // A worker's put stays on its node (no lineage): only a copy can save it when that node dies.
    const putOnNode = remote({ name: 'put-on-node' }, async (n: number) => {
      const { put } = await import('orrery-compute');
      const v = new Uint8Array(n);
      for (let i = 0; i < n; i += 4096) v[i] = (i / 4096) % 251;
      v[n - 1] = 7;
      return [put(v)];
    });
    const size = 16 * MB;
    const [inner] = await get(putOnNode.options(pin(c.nodeId)).remote(size));
    // The first copy, on B.
    assert.equal((await get(consume.options(pin(b.nodeId)).remote(inner!))).sum, expectedSum(size));
    assert.deepEqual(new Set((await rowOf(inner!)).locations.split(',')), new Set([c.nodeId, b.nodeId]));
    // D fetches from C (the maker, named first); C dies mid-way; D goes on from B's copy.
    const onD = consume.options(pin(d.nodeId)).remote(inner!);
    await running(onD);
    await new Promise((r) => setTimeout(r, 500));
    await c.kill();
    assert.deepEqual(await get(onD), { length: size, sum: expectedSum(size), last: 7, nodeId: d.nodeId });
    assert.ok(cut(d.nodeId, inner!.id), `D's fetch from C was cut:\n${logs.join('\n')}`);
    const row0 = await rowOf(inner!);
    assert.equal(row0.relayBytes, 0, 'D finished from the copy on B, not through the head');
    await until('the head saw C die', async () =>
      (await state.listNodes()).some((n) => n.nodeId === c.nodeId && n.state === 'DEAD'),
    );
    const row = await rowOf(inner!);
    assert.equal(row.state, 'READY');
    assert.ok([b.nodeId, d.nodeId].includes(row.nodeId), `a copy took over (${row.nodeId})`);
    const back = await get(inner!);
    assert.equal(back.length, size);
    assert.equal(back[size - 1], 7);
  });
});

describe('an ssh node', { skip: !requireService('ssh') && 'the test sshd is not running' }, () => {
  let cluster: LocalCluster;
  let local: Node;
  let sshNode = '';

  before(async () => {
    cluster = await LocalCluster.start({ log: () => {} });
    local = await cluster.addNode();
    await cluster.head.addBackend(
      createSshBackend({
        name: 'remote',
        kind: 'ssh',
        hosts: [`${sshService.user}@${sshService.host}:${sshService.port}`],
        identityFile: sshService.keyPath,
        knownHostsFile: sshService.knownHostsPath,
        numCpus: 1,
      }),
    );
    sshNode = cluster.head.queries.nodeIds().find((n) => n !== local.nodeId)!;
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test('values move directly between the ssh node and a local node, both ways', async () => {
    for (const [from, to] of [
      [sshNode, local.nodeId],
      [local.nodeId, sshNode],
    ] as const) {
      const ref = await moveBetween(from, to);
      const row = await rowOf(ref);
      assert.equal(row.directBytes, SIZE, `${from} -> ${to}`);
      assert.equal(row.relayBytes, 0, `${from} -> ${to}`);
    }
  });
});

describe('two local agents sharing memory with the head', () => {
  let cluster: LocalCluster;
  let a: Node;
  let b: Node;

  before(async () => {
    delete process.env.ORRERY_SHM;
    cluster = await LocalCluster.start({ log: () => {} });
    [a, b] = await Promise.all([cluster.addNode(), cluster.addNode()]);
    process.env.ORRERY_SHM = '0';
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test('auto moves the value by a shared-memory file link through the head, not over a socket', async () => {
    const ref = await moveBetween(a.nodeId, b.nodeId);
    const row = await rowOf(ref);
    assert.equal(row.directBytes, 0);
    assert.equal(row.relayBytes, SIZE);
  });
});

test('a transfer server refuses a wrong token (real sockets)', async () => {
  const token = newPeerSecret();
  const server = new ObjectTransferServer({
    token: () => token,
    lookup: async () => ({ data: new Uint8Array(1024).fill(3), marked: false }),
  });
  const port = await server.listen('127.0.0.1');
  try {
    const source = { nodeId: 'n', host: '127.0.0.1', port };
    await assert.rejects(fetchFromPeer(source, newPeerSecret(), 'x'), TransferRefusedError);
    await assert.rejects(fetchFromPeer(source, '', 'x'), TransferRefusedError);
    const ok = await fetchFromPeer(source, token, 'x');
    assert.equal(ok.bytes, 1024);
    assert.equal(ok.payload.data[1023], 3);
  } finally {
    server.close();
  }
});
