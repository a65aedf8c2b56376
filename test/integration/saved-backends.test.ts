/**
 * A backend saved without starting (`POST /api/backends?start=false`, its host offline) stays
 * saved across `orrery start`: the config file lists it in `savedBackends`, the next head lists
 * it as saved and does not start it (before, the start failed naming it), until
 * `POST /api/backends/:name/start` (the dashboard's Start) starts it. Real `orrery start` child
 * processes; the offline host is a closed port on loopback.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sshService } from '../services/env.ts';
import { headApi, tempDir, until } from './helpers.ts';

const home = tempDir('saved-backends');
const configPath = join(home, 'config.json');

interface Head {
  child: ChildProcess;
  url: string;
  token: string;
  stderr: () => string;
}

let head: Head | undefined;

/** Starts `orrery start --port 0` with this test's ORRERY_HOME; resolves once head.json is written. */
async function startHead(): Promise<Head> {
  rmSync(join(home, 'head.json'), { force: true });
  const child = spawn(process.execPath, ['--import', 'tsx', 'orchestrator/cli/main.ts', 'start', '--port', '0'], {
    env: { ...process.env, ORRERY_HOME: home, ORRERY_ADDRESS: '', ORRERY_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  await until(
    'orrery start to be up',
    () => {
      if (child.exitCode !== null) throw new Error(`orrery start exited with ${child.exitCode}: ${err}`);
      return existsSync(join(home, 'head.json')) && /dashboard:/.test(out);
    },
    90_000,
  );
  const info = JSON.parse(readFileSync(join(home, 'head.json'), 'utf8')) as { url: string; token: string };
  return { child, url: info.url, token: info.token, stderr: () => err };
}

async function stopHead(h: Head): Promise<void> {
  const exited = new Promise((r) => h.child.once('exit', r));
  await headApi(h, 'POST', '/api/shutdown');
  await exited;
}

const api = (method: string, path: string, body?: unknown) => headApi(head!, method, path, body);

function config(): { backends?: { name: string }[]; savedBackends?: string[] } {
  return JSON.parse(readFileSync(configPath, 'utf8'));
}

async function backends(): Promise<Map<string, { state: string; nodes: number; error?: string }>> {
  const r = await api('GET', '/api/backends');
  assert.equal(r.status, 200);
  return new Map((r.json as { name: string; state: string; nodes: number }[]).map((b) => [b.name, b]));
}

/** Port 1 on loopback: nothing listens, as with a host that is switched off. */
const OFFLINE = { name: 'offline', kind: 'ssh', hosts: ['orrery-test@127.0.0.1:1'], identityFile: sshService.keyPath };
const SPARE = { name: 'spare', kind: 'local', numCpus: 1, labels: { pool: 'spare' } };

after(async () => {
  if (head && head.child.exitCode === null) head.child.kill('SIGTERM');
});

describe('backends saved without starting', { timeout: 300_000 }, () => {
  test('are written to savedBackends, and the next orrery start keeps them saved instead of failing on them', async () => {
    head = await startHead();
    for (const c of [OFFLINE, SPARE]) {
      const r = await api('POST', '/api/backends?start=false', c);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.equal(r.json.state, 'saved');
    }
    assert.deepEqual(
      config().backends?.map((b) => b.name),
      ['offline', 'spare'],
    );
    assert.deepEqual(config().savedBackends, ['offline', 'spare']);
    await stopHead(head);

    head = await startHead();
    const listed = await backends();
    assert.equal(listed.get('offline')?.state, 'saved', 'the offline backend is listed as saved');
    assert.equal(listed.get('spare')?.state, 'saved');
    assert.equal(listed.get('spare')?.nodes, 0, 'a saved backend is not started');
    assert.doesNotMatch(head.stderr(), /offline/, 'the start did not try the offline host');
  });

  test('POST /api/backends/:name/start starts a saved backend and takes it off savedBackends', async () => {
    const r = await api('POST', '/api/backends/spare/start');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.state, 'running');
    await until('the spare node to join', async () => (await backends()).get('spare')?.nodes === 1);
    assert.deepEqual(config().savedBackends, ['offline']);
  });

  test('a saved backend that does not start stays saved, with one clear error; others are refused', async () => {
    const r = await api('POST', '/api/backends/offline/start');
    assert.equal(r.status, 400);
    assert.match(r.json.error, /^backend offline did not start: .*(refused|ECONNREFUSED)/is);
    assert.equal((await backends()).get('offline')?.state, 'saved');
    assert.deepEqual(config().savedBackends, ['offline'], 'still saved in the file');

    const running = await api('POST', '/api/backends/spare/start');
    assert.equal(running.status, 409);
    assert.match(running.json.error, /backend spare is running already; only a saved backend is started this way/);
    const unknown = await api('POST', '/api/backends/nope/start');
    assert.equal(unknown.status, 404);
  });

  test('the next start starts the backend that was started, and keeps the other saved', async () => {
    await stopHead(head!);
    head = await startHead();
    await until('the spare node to join', async () => (await backends()).get('spare')?.nodes === 1);
    const listed = await backends();
    assert.equal(listed.get('spare')?.state, 'running');
    assert.equal(listed.get('offline')?.state, 'saved');

    const removed = await api('DELETE', '/api/backends/offline');
    assert.equal(removed.status, 204);
    assert.equal(config().savedBackends, undefined, 'the list goes with its last name');
    assert.deepEqual(
      config().backends?.map((b) => b.name),
      ['spare'],
    );
    await stopHead(head);
  });
});
