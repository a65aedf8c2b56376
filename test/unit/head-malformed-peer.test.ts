import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Head } from '../../orchestrator/head/head.ts';
import { encodeFrame } from '../../orchestrator/protocol/frames.ts';
import { PROTOCOL_VERSION } from '../../orchestrator/protocol/version.ts';

test('a peer sending a malformed frame is dropped with a logged reason; the head keeps serving', async () => {
  const lines: string[] = [];
  const head = new Head({ log: (l) => lines.push(l) });
  const fromAgent = new PassThrough();
  const toAgent = new PassThrough();
  let killed = false;
  const joined = head.attach(
    {
      input: fromAgent,
      output: toAgent,
      kill: () => {
        killed = true;
      },
    },
    { nodeId: 'n1', backend: 'fake' },
  );
  for (const b of encodeFrame([
    { type: 'hello', nodeId: 'n1', resources: { CPU: 1 }, labels: {}, pid: 1, version: PROTOCOL_VERSION },
  ]))
    fromAgent.write(b);
  await joined;
  assert.deepEqual(head.queries.nodeIds(), ['n1']);
  fromAgent.write(Buffer.from([9, 0, 0, 0, 200, 1, 2, 3, 4, 5, 6, 7, 8]));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(head.queries.nodeIds(), []);
  assert.ok(killed);
  assert.ok(
    lines.some((l) => /node n1 \(fake\) is dead: malformed frame/.test(l)),
    lines.join('\n'),
  );
  const jobId = head.startJob();
  head.requests.post({ op: 'put', id: 'abc', payload: { data: new Uint8Array([1]), marked: false } }, { jobId });
  assert.equal(head.queries.objectState('abc'), 'READY');
  await head.shutdown();
});

test('an agent of another protocol version is refused', async () => {
  const head = new Head({ log: () => {} });
  const fromAgent = new PassThrough();
  const joined = head.attach(
    { input: fromAgent, output: new PassThrough(), kill: () => {} },
    { nodeId: 'n2', backend: 'fake' },
  );
  for (const b of encodeFrame([{ type: 'hello', nodeId: 'n2', resources: {}, labels: {}, pid: 1, version: '0' }]))
    fromAgent.write(b);
  await assert.rejects(joined, /protocol 0/);
  await head.shutdown();
});

test('a node naming a file outside its shared-memory folder is dropped; the head reads nothing of it', async () => {
  const lines: string[] = [];
  const head = new Head({ log: (l) => lines.push(l) });
  const fromAgent = new PassThrough();
  const joined = head.attach(
    { input: fromAgent, output: new PassThrough(), kill: () => {} },
    { nodeId: 'n3', backend: 'fake' },
  );
  for (const b of encodeFrame([
    { type: 'hello', nodeId: 'n3', resources: { CPU: 1 }, labels: {}, pid: 1, version: PROTOCOL_VERSION },
  ]))
    fromAgent.write(b);
  await joined;
  const put = {
    op: 'put',
    id: 'stolen',
    payload: { data: new Uint8Array(0), marked: false, shm: { path: '/etc/passwd', bytes: 100 } },
  };
  for (const b of encodeFrame([{ type: 'request', requestId: 0, callerTaskId: '', req: put }])) fromAgent.write(b);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(head.queries.nodeIds(), []);
  assert.equal(head.queries.objectState('stolen'), undefined);
  assert.ok(
    lines.some((l) => /node n3 \(fake\) is dead: malformed message: it names \/etc\/passwd/.test(l)),
    lines.join('\n'),
  );
  await head.shutdown();
});
