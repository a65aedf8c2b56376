/**
 * Names such as `__proto__` and `constructor` through every door: the embedded API, a config
 * file read by `orrery start` and by `init({ config })`, the HTTP API and a driver's WebSocket.
 * Each is refused with one error naming the field and what is allowed, and Object.prototype
 * of the head's process stays clean.
 */
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { init, isInitialized, shutdown } from 'orrery-compute';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { tempDir } from './helpers.ts';

const home = tempDir('hostile-names');
process.env.ORRERY_HOME = home;
const RESERVED = ['__proto__', 'constructor', 'prototype'];
const BASELINE = Object.getOwnPropertyNames(Object.prototype);

/** An object whose own keys are `keys` (as JSON.parse makes them: `__proto__` is a key, not the prototype). */
function withKeys(keys: readonly string[], value: unknown): Record<string, any> {
  return JSON.parse(`{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(value)}`).join(',')}}`);
}

afterEach(() => {
  const added = Object.getOwnPropertyNames(Object.prototype).filter((k) => !BASELINE.includes(k));
  for (const k of added) delete (Object.prototype as Record<string, unknown>)[k];
  assert.deepEqual(added, [], 'Object.prototype was polluted');
});

let service: HeadService;
before(async () => {
  service = await HeadService.start({ port: 0, numCpus: 1, log: () => {} });
});
after(async () => {
  await service.stop();
});

/** init() must refuse `opts`; a head it started anyway is shut down. */
async function initRefused(opts: Parameters<typeof init>[0], message: RegExp, what: string): Promise<void> {
  const err = await init(opts).then(
    () => undefined,
    (e: Error) => e,
  );
  if (isInitialized()) await shutdown();
  assert.ok(err, `${what} was accepted`);
  assert.match(err.message, message, what);
  assert.equal(isInitialized(), false);
}

test('init() refuses backends named __proto__ or constructor, and reserved namespaces, resources, labels and sessions', async () => {
  for (const name of RESERVED) {
    await initRefused(
      { numCpus: 1, logToDriver: false, backends: [{ name, kind: 'local', numCpus: 1 }] },
      /init\(\): option backends\[0\]\.name must be a non-empty name without control characters, other than __proto__, constructor or prototype/,
      `backend ${name}`,
    );
    await initRefused(
      { numCpus: 1, logToDriver: false, namespace: name },
      /init\(\): option namespace must be/,
      `namespace ${name}`,
    );
    await initRefused(
      { numCpus: 1, logToDriver: false, resources: withKeys([name], 1) },
      /init\(\): option resources key must be/,
      `resource ${name}`,
    );
    await initRefused(
      { numCpus: 1, logToDriver: false, labels: withKeys([name], 'x') },
      /init\(\): option labels key must be/,
      `label ${name}`,
    );
    await initRefused({ numCpus: 1, logToDriver: false, session: name }, /session name/, `session ${name}`);
  }
  const { address, token } = service.info;
  await initRefused(
    { address, token, namespace: '__proto__' },
    /init\(\): option namespace must be/,
    'a client namespace',
  );
});

test('the HTTP API refuses backends named __proto__ and constructor; a path named constructor is not a route', async () => {
  const { url, token } = service.info;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  for (const name of RESERVED) {
    const r = await call('POST', '/api/backends', { name, kind: 'local', numCpus: 1 });
    assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.json)}`);
    assert.match(r.json.fields.name, /__proto__, constructor or prototype/);
  }
  const status = await call('GET', '/api/status');
  assert.equal(status.status, 200);
  assert.deepEqual(Object.keys(status.json.backends), ['local']);
  for (const path of ['/api/constructor', '/api/__proto__', '/api/hasOwnProperty'])
    assert.equal((await call('GET', path)).status, 404, path);
  assert.deepEqual(
    service.head.backendList().map((b) => b.name),
    ['local'],
  );
});

test('a driver connecting with the namespace __proto__ is refused before its job starts', async () => {
  const { address, token } = service.info;
  for (const ns of ['__proto__', 'constructor', 'a\nb']) {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${address}/api/driver?namespace=${encodeURIComponent(ns)}`, ['orrery'], {
        headers: { Authorization: `Bearer ${token}` },
      });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('error', () => {});
    });
    assert.equal(status, 400, JSON.stringify(ns));
  }
});

test('orrery start and init({ config }) refuse a config with a reserved backend name or the kind constructor: one line naming the file and the backend', {
  timeout: 180_000,
}, async () => {
  const dir = tempDir('hostile-config');
  const file = join(dir, 'orrery.json');
  const cases: [unknown, RegExp][] = [
    [
      { name: '__proto__', kind: 'local' },
      /backends\[0\]\.name must be a non-empty name without control characters, other than __proto__, constructor or prototype \(got "__proto__"\)/,
    ],
    [
      { name: 'weird', kind: 'constructor' },
      /backend weird: unknown kind "constructor"; use one of local, ssh, slurm, sagemaker, quantum-simulator, ibm-quantum, braket or 'module:/,
    ],
  ];
  for (const [backend, message] of cases) {
    writeFileSync(file, JSON.stringify({ backends: [backend] }));
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'orchestrator/cli/main.ts', 'start', '--port', '0', '--config', file],
      { encoding: 'utf8', env: { ...process.env, ORRERY_HOME: tempDir('hostile-start') }, timeout: 60_000 },
    );
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^orrery: config file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    assert.match(r.stderr, message);
    await initRefused({ config: file, numCpus: 1, logToDriver: false }, message, JSON.stringify(backend));
  }
});
