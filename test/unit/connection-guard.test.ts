/**
 * The connection guard (orchestrator/service/connection-guard.ts) on a real HTTP server on
 * loopback: it holds at most its limit of sockets, makes room for a newcomer by closing the
 * oldest untrusted one, never closes a trusted one, and closes untrusted sockets left idle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, Agent, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ConnectionGuard } from '../../orchestrator/service/connection-guard.ts';

/** A server whose requests with `x-trust: yes` mark their socket trusted. */
async function serve(limits: {
  maxConnections: number;
  untrustedIdleMs: number;
}): Promise<{ server: Server; guard: ConnectionGuard; port: number }> {
  const server = createServer();
  const guard = new ConnectionGuard(server, limits);
  server.on('request', (req, res) => {
    if (req.headers['x-trust'] === 'yes') guard.trust(req.socket);
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, guard, port: (server.address() as AddressInfo).port };
}

/** Opens an idle TCP connection; resolves once connected, with a flag that turns true when the server closes it. */
async function idle(port: number): Promise<{ socket: Socket; closed: () => boolean }> {
  const socket = connect(port, '127.0.0.1');
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  return { socket, closed: () => closed };
}

function get(port: number, agent: Agent, trust: boolean): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent, headers: trust ? { 'x-trust': 'yes' } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket! }));
    });
    req.on('error', reject);
    req.end();
  });
}

const settle = () => new Promise((r) => setTimeout(r, 100));

test('a flood of idle connections never holds more than the limit, and the newest client always gets in', async () => {
  const { server, guard, port } = await serve({ maxConnections: 8, untrustedIdleMs: 60_000 });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const trusted = await get(port, agent, true);
    assert.equal(trusted.status, 200);
    const flood = [];
    for (let i = 0; i < 40; i++) flood.push(await idle(port));
    await settle();
    assert.ok(guard.stats.open <= 8, JSON.stringify(guard.stats));
    assert.equal(guard.stats.trusted, 1);
    assert.ok(guard.stats.evicted >= 33, JSON.stringify(guard.stats));
    assert.deepEqual(
      flood.slice(-7).map((f) => f.closed()),
      Array(7).fill(false),
      'the newest untrusted ones stay',
    );
    assert.ok(
      flood.slice(0, 33).every((f) => f.closed()),
      'the oldest untrusted ones were closed',
    );
    const again = await get(port, agent, false);
    assert.equal(again.status, 200);
    assert.equal(again.socket, trusted.socket, 'the trusted keep-alive socket survived the flood');
    const fresh = await get(port, new Agent(), false);
    assert.equal(fresh.status, 200, 'a new client got in');
    for (const f of flood) f.socket.destroy();
  } finally {
    agent.destroy();
    guard.close();
    server.closeAllConnections();
    server.close();
  }
});

test('an untrusted connection left idle is closed; a trusted one is not', async () => {
  const { server, guard, port } = await serve({ maxConnections: 100, untrustedIdleMs: 200 });
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
  server.keepAliveTimeout = 60_000;
  try {
    const lurker = await idle(port);
    const trusted = await get(port, agent, true);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(lurker.closed(), true);
    assert.equal(trusted.socket.destroyed, false);
    assert.deepEqual({ open: guard.stats.open, trusted: guard.stats.trusted }, { open: 1, trusted: 1 });
  } finally {
    agent.destroy();
    guard.close();
    server.closeAllConnections();
    server.close();
  }
});
