/**
 * A client driver on the head's machine shares its memory (service/ws-gateway.ts): against a
 * real head service in this process, whose driver messages are limited to 1 MiB, a driver's
 * large put is a file it wrote into the head's shared-memory folder (so a value many times the
 * message limit goes through), a task's large result comes back as a mapped view of the head's
 * file, and a driver message naming any other file (another folder, `/etc/passwd`, or the
 * head's folder from a driver that did not say it shares it) closes that driver's connection.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { tempDir } from './helpers.ts';

process.env.ORRERY_HOME = tempDir('driver-shm');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');
const { encodeFrame, FrameDecoder } = await import('../../orchestrator/protocol/frames.ts');
const { isMapped } = await import('../../orchestrator/core/shm-map.ts');
const orrery = await import('../../orchestrator/api/index.ts');

const MESSAGE_LIMIT = 1024 * 1024;

let service: Awaited<ReturnType<typeof HeadService.start>>;
let shmDir: string;

before(async () => {
  service = await HeadService.start({
    port: 0,
    numCpus: 1,
    log: () => undefined,
    maxDriverMessageBytes: MESSAGE_LIMIT,
  });
  shmDir = service.head.shm!.path;
});

after(async () => {
  await orrery.shutdown().catch(() => undefined);
  await service.stop();
});

/** A raw driver socket past its welcome; `send` frames messages as the client runtime does. */
async function rawDriver(): Promise<{
  welcome: { shmDir?: string };
  send(m: unknown): void;
  closed: Promise<[number, string]>;
}> {
  const ws = new WebSocket(`${service.info.address}/api/driver`, ['orrery'], {
    headers: { Authorization: `Bearer ${service.info.token}` },
  });
  ws.on('error', () => undefined);
  const closed = new Promise<[number, string]>((r) => ws.once('close', (code, why) => r([code, why.toString()])));
  const first = await new Promise<Buffer>((r, j) => {
    ws.once('message', r);
    ws.once('error', j);
  });
  const [batch] = new FrameDecoder().push(first) as { value: { shmDir?: string } }[][];
  const welcome = batch![0]!.value;
  return { welcome, send: (m) => ws.send(Buffer.concat(encodeFrame([m])), { binary: true }), closed };
}

const put = (path: string) => ({
  type: 'request',
  requestId: 0,
  callerTaskId: '',
  req: {
    op: 'put',
    id: `x${Math.random().toString(16).slice(2)}`,
    payload: { data: new Uint8Array(0), marked: false, shm: { path, bytes: 8 } },
  },
});

describe("a driver on the head's machine", () => {
  test("puts a value 24x the message limit and gets a task's result as a mapped view of the head's file", async () => {
    await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
    const big = new Float64Array((24 * MESSAGE_LIMIT) / 8).map((_, i) => i / 4);
    const before = new Set(readdirSync(shmDir));
    const ref = orrery.put(big);
    const identity = orrery.remote({ name: 'identity' }, (x: Float64Array) => x);
    const back = await orrery.get(identity.remote(ref));
    assert.equal(back.length, big.length);
    assert.equal(Buffer.compare(Buffer.from(back.buffer), Buffer.from(big.buffer)), 0, 'the array came back changed');
    assert.ok(isMapped(back.buffer), "get returned bytes from the socket, not a view of the head's file");
    assert.ok(
      readdirSync(shmDir).some((f) => !before.has(f)),
      "the put left no file in the head's shared-memory folder",
    );
    const sum = orrery.remote({ name: 'sum' }, (x: Float64Array) => x.reduce((s, v) => s + v, 0));
    assert.equal(
      await orrery.get(sum.remote(ref)),
      big.reduce((s, v) => s + v, 0),
    );
    await orrery.shutdown();
  });

  test('a driver that cannot see the folder (ORRERY_SHM=0, as on another machine) sends and gets bytes', async () => {
    process.env.ORRERY_SHM = '0';
    try {
      await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
      // A task's 3 MiB result: in the head's shared memory, sent to this driver as bytes.
      const make = orrery.remote({ name: 'make' }, (n: number) => new Float64Array(n).fill(3));
      const back = await orrery.get(make.remote((3 * MESSAGE_LIMIT) / 8));
      assert.equal(back.length, (3 * MESSAGE_LIMIT) / 8);
      assert.equal(back[10], 3);
      assert.equal(isMapped(back.buffer), false, 'a driver that does not share memory got a mapped view');
      await orrery.shutdown();
    } finally {
      delete process.env.ORRERY_SHM;
    }
  });
});

describe('a driver message naming a file', () => {
  test('is refused outside the head’s folder, and inside it from a driver that did not say it shares it', {
    timeout: 30_000,
  }, async () => {
    const owned = join(shmDir, readdirSync(shmDir).find((n) => /^[0-9a-f]+$/.test(n)) ?? 'ab12');
    const cases: [string, unknown[]][] = [
      ['/etc/passwd', [put('/etc/passwd')]],
      ['another folder', [put(join(shmDir, '..', 'abcd'))]],
      ["the head's folder without map-shared", [put(owned)]],
      [
        'a map-shared of another folder',
        [{ type: 'request', requestId: 0, callerTaskId: '', req: { op: 'map-shared', dir: '/tmp' } }],
      ],
    ];
    for (const [what, messages] of cases) {
      const d = await rawDriver();
      assert.equal(d.welcome.shmDir, shmDir, 'the welcome names the head’s folder');
      for (const m of messages) d.send(m);
      const [code, why] = await d.closed;
      assert.equal(code, 1002, `${what}: ${why}`);
      assert.match(why, /malformed request|not the head's shared memory/, what);
    }
  });

  test('outside the head’s folder is refused after map-shared too', { timeout: 30_000 }, async () => {
    const d = await rawDriver();
    d.send({ type: 'request', requestId: 0, callerTaskId: '', req: { op: 'map-shared', dir: shmDir } });
    d.send(put(join(shmDir, '..', 'x', 'abcd')));
    const [code, why] = await d.closed;
    assert.equal(code, 1002, why);
    assert.match(why, /malformed request: it names a file outside the head's shared memory/);
  });
});
