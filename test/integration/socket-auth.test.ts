/**
 * Authenticated Unix sockets, with real heads, agents and workers: the head's worker socket
 * answers only workers that show its link secret, and an agent that outlives its head answers
 * only a head that shows the agent's secret. The secret reaches workers through the environment
 * and is hidden from task code. Another local user cannot even connect.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { init, shutdown, remote, get, nodes } from 'orrery-compute';
import { Head } from '../../orchestrator/head/head.ts';
import { LocalBackend } from '../../backends/local/local-backend.ts';
import { encodeFrame } from '../../orchestrator/protocol/frames.ts';
import { asIntruder, requireIntruder } from '../services/env.ts';
import { sleep, tempDir, until } from './helpers.ts';

/** Connects, optionally writes `bytes`, and reports what came back within `ms` and whether the peer closed. */
async function probe(
  path: string,
  bytes: Buffer | undefined,
  ms = 1500,
): Promise<{ received: number; closed: boolean }> {
  const sock = await new Promise<Socket>((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  let received = 0;
  let closed = false;
  sock.on('data', (d: Buffer) => (received += d.length));
  sock.on('close', () => (closed = true));
  sock.on('error', () => {});
  if (bytes) sock.write(bytes);
  await sleep(ms);
  sock.destroy();
  return { received, closed };
}

/** Connections to `path` the kernel lists (the listening socket, plus one per accepted link). */
function socketEntries(path: string): number {
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .filter((l) => l.endsWith(` ${path}`)).length;
}

const whereAmI = remote(() => ({
  socket: (JSON.parse(process.env.ORRERY_WORKER ?? '{}') as { headSocket?: string }).headSocket ?? '',
  secretVisible: process.env.ORRERY_WORKER_LINK_SECRET !== undefined,
  runtimeDir: process.env.ORRERY_RUNTIME_DIR ?? '',
}));

describe("the head's worker socket", () => {
  let head: Head;
  let socket = '';
  let nodeId = '';

  before(async () => {
    head = new Head({ log: () => {} });
    await head.addBackend(new LocalBackend({ name: 'local', kind: 'local', numCpus: 1 }));
    await init({ cluster: { head }, logToDriver: false });
    const w = await get(whereAmI.remote());
    socket = w.socket;
    nodeId = head.queries.nodeIds()[0]!;
  });
  after(async () => {
    await shutdown();
    await head.shutdown();
  });

  test("the head's own workers link to it directly; task code does not see the link secret", async () => {
    const w = await get(whereAmI.remote());
    assert.equal(
      w.secretVisible,
      false,
      "ORRERY_WORKER_LINK_SECRET is removed from the worker's environment before tasks run",
    );
    assert.ok(
      socketEntries(socket) >= 2,
      `the listening socket and at least one worker link (${socketEntries(socket)})`,
    );
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    assert.equal(statSync(join(socket, '..')).mode & 0o777, 0o700);
  });

  for (const [what, secret] of [
    ['no secret', ''],
    ['a wrong secret', 'f'.repeat(64)],
  ] as const) {
    test(`a worker-hello with ${what} is closed before its requests are served`, async () => {
      const frames = Buffer.concat(
        encodeFrame([
          { type: 'worker-hello', nodeId, workerId: 'w-stranger', secret },
          { type: 'request', requestId: 1, callerTaskId: '', req: { op: 'state', query: 'nodes' } },
        ]),
      );
      const r = await probe(socket, frames);
      assert.deepEqual(r, { received: 0, closed: true });
    });
  }
});

describe('an agent that outlives its head', () => {
  let head: Head;
  let runDir = '';
  let agentSocket = '';

  before(async () => {
    runDir = join(tempDir('socket-auth-home'), 'run');
    head = new Head({ log: () => {}, durable: { graceS: 30, runDir, reattach: false } });
    await head.addBackend(new LocalBackend({ name: 'local', kind: 'local', numCpus: 1 }));
    await init({ cluster: { head }, logToDriver: false });
    agentSocket = join(runDir, 'local-0.sock');
  });
  after(async () => {
    await shutdown();
    await head.shutdown();
  });

  test('its socket and files are private: run folder 0700, socket and files 0600', () => {
    assert.equal(statSync(runDir).mode & 0o777, 0o700);
    for (const f of ['local-0.sock', 'local-0.secret', 'local-0.json', 'local-0.log'])
      assert.equal(statSync(join(runDir, f)).mode & 0o777, 0o600, f);
  });

  test("a connection that does not show the agent's secret hears nothing, and the head stays connected", async () => {
    assert.deepEqual(await probe(agentSocket, undefined), { received: 0, closed: false }, 'no hello before the secret');
    assert.deepEqual(
      await probe(agentSocket, Buffer.from(`${'0'.repeat(64)}\n`)),
      { received: 0, closed: true },
      'a wrong secret is closed unheard',
    );
    const frames = Buffer.concat(encodeFrame([{ type: 'head-hello', headId: 'stranger' }, { type: 'shutdown' }]));
    assert.deepEqual(
      await probe(agentSocket, frames),
      { received: 0, closed: true },
      'frames instead of the secret are closed unheard',
    );
    const [node] = (await nodes()) as { state: string }[];
    assert.equal(node?.state, 'ALIVE');
    assert.equal(
      (await get(whereAmI.remote())).runtimeDir.startsWith(`${runDir}/agent-`),
      true,
      "the agent's working folder is in the run folder",
    );
  });

  test('another local user cannot connect to it at all', async (t) => {
    if (!requireIntruder(t)) return;
    const r = asIntruder([
      process.execPath,
      '-e',
      `require('node:net').connect(process.argv[1]).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`,
      agentSocket,
    ]);
    assert.match(r.stdout.trim(), /^(EACCES|EPERM)$/);
    await until(
      'the head still runs tasks on the node',
      async () => (await get(whereAmI.remote())).socket !== undefined,
    );
  });
});
