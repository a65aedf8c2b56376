/** The head's routing of direct transfers (objects/transfer-routes.ts): which nodes an agent may fetch from. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransferRoutes } from '../../orchestrator/objects/transfer-routes.ts';
import type { ObjectTransferMode } from '../../orchestrator/protocol/agent-spec.ts';
import { ObjectStore } from '../../orchestrator/objects/object-store.ts';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';

function routes(dead: readonly string[] = []) {
  const r = new TransferRoutes((n) => !dead.includes(n));
  const ready = (nodeId: string, mode: ObjectTransferMode = 'auto', host = '10.0.0.1', hostname = 'h1') =>
    r.ready(nodeId, { type: 'transfer-ready', address: { host, port: 4000 }, hostname, mode });
  return { r, ready };
}

test('every node gets the same random token; the holder is offered first, then copies', () => {
  const { r, ready } = routes();
  const k1 = ready('a');
  const k2 = ready('b');
  ready('c');
  assert.equal(k1?.type, 'transfer-key');
  assert.deepEqual(k1, k2);
  assert.match((k1 as { token: string }).token, /^[0-9a-f]{64}$/);
  r.copied('b', { type: 'object-copied', objectId: 'o', fromNodeId: 'a', bytes: 10, ms: 1, resumes: 0 });
  assert.deepEqual(
    r.sources('c', 'o', 'a').map((s) => s.nodeId),
    ['a', 'b'],
  );
  assert.deepEqual(r.moved('o'), { directBytes: 10, relayBytes: 0, directMs: 1 });
  assert.deepEqual(
    r.sources('a', 'o', 'a').map((s) => s.nodeId),
    ['b'],
    'never itself',
  );
});

test('relay on either side, an unreachable pair, a dead holder or a loopback of another machine: no direct source', () => {
  const { r, ready } = routes(['dead']);
  ready('a');
  ready('relay', 'relay');
  ready('dead');
  ready('lo', 'auto', '127.0.0.1', 'other-host');
  ready('b');
  assert.deepEqual(r.sources('relay', 'o', 'a'), []);
  assert.deepEqual(r.sources('b', 'o', 'relay'), []);
  assert.deepEqual(r.sources('b', 'o', 'dead'), []);
  assert.deepEqual(r.sources('b', 'o', 'lo'), []);
  assert.equal(r.sources('b', 'o', 'a').length, 1);
  r.failed('b', { type: 'transfer-failed', objectId: 'o', fromNodeId: 'a', unreachable: true, reason: 'x' });
  assert.deepEqual(r.sources('b', 'o', 'a'), [], 'remembered per pair');
  assert.equal(r.sources('a', 'o', 'b').length, 1, 'the other direction is another pair');
});

test('a malformed announcement gets no token and no route', () => {
  const { r, ready } = routes();
  ready('a');
  const bad = { type: 'transfer-ready', address: { host: 'h', port: -1 }, hostname: 'h1', mode: 'auto' } as const;
  assert.equal(r.ready('b', bad), undefined);
  assert.equal(r.ready('b', { ...bad, address: { host: 'h', port: 1 }, mode: 'fast' as 'auto' }), undefined);
  assert.deepEqual(r.sources('b', 'o', 'a'), []);
});

test('two nodes sharing memory with the head get no direct source (a file link beats a socket)', () => {
  const r = new TransferRoutes(
    () => true,
    (n) => n !== 'far',
  );
  const ready = (nodeId: string) =>
    r.ready(nodeId, {
      type: 'transfer-ready',
      address: { host: '127.0.0.1', port: 4000 },
      hostname: 'h',
      mode: 'auto',
    });
  ready('a');
  ready('b');
  ready('far');
  assert.deepEqual(r.sources('b', 'o', 'a'), []);
  assert.equal(r.sources('far', 'o', 'a').length, 1);
  assert.equal(r.sources('b', 'o', 'far').length, 1);
  r.ready('d', { type: 'transfer-ready', address: { host: '127.0.0.1', port: 4000 }, hostname: 'h', mode: 'direct' });
  assert.equal(r.sources('d', 'o', 'a').length, 1, "'direct' still goes agent to agent");
});

test("'direct' keeps trying a pair that failed", () => {
  const { r, ready } = routes();
  ready('a', 'direct');
  ready('b', 'direct');
  r.failed('b', { type: 'transfer-failed', objectId: 'o', fromNodeId: 'a', unreachable: true, reason: 'x' });
  assert.equal(r.sources('b', 'o', 'a').length, 1);
});

test('freeing an object names its copies; a dead node loses its copies; a live copy takes over in the store', () => {
  const { r, ready } = routes();
  ready('a');
  ready('b');
  r.copied('b', { type: 'object-copied', objectId: 'o', fromNodeId: 'a', bytes: 10, ms: 1, resumes: 0 });
  assert.equal(r.liveCopy('o'), 'b');
  const store = new ObjectStore(
    { spillDir: join(mkdtempSync(join(tmpdir(), 'routes-')), 'spill') },
    { pull: async () => undefined, freeOnNode: () => {}, reconstruct: () => {} },
  );
  store.put('o', { data: new Uint8Array(0), marked: false }, 'job', 'driver:job', { nodeId: 'a', sizeBytes: 10 });
  store.put('p', { data: new Uint8Array(0), marked: false }, 'job', 'driver:job', { nodeId: 'a', sizeBytes: 10 });
  store.nodeDied('a', (id) => r.liveCopy(id));
  assert.deepEqual(store.locationOf('o'), { nodeId: 'b', sizeBytes: 10 });
  assert.equal(store.stateOf('p'), 'LOST');
  assert.deepEqual(r.freed('o'), ['b']);
  assert.deepEqual(r.copiesOf('o'), []);
  r.copied('b', { type: 'object-copied', objectId: 'q', fromNodeId: 'a', bytes: 1, ms: 1, resumes: 0 });
  r.nodeDied('b');
  assert.deepEqual(r.copiesOf('q'), []);
});
