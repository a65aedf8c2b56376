/**
 * `module:` backends load code, so they come only from config files (a package, or a path
 * relative to that file) and from the user's own process (an embedded `init({ backends })`).
 * The HTTP API and client drivers cannot add them unless the head was started with
 * `--allow-module-backends`, and no module is ever imported just to validate a config.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { init, isInitialized, shutdown, nodes, remote, get } from 'orrery-compute';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { tempDir, until, sleep } from './helpers.ts';

const home = tempDir('module-backends');
process.env.ORRERY_HOME = home;
const EXAMPLE = join(process.cwd(), 'resources/examples/example-backend.ts');

let service: HeadService;

before(async () => {
  service = await HeadService.start({ port: 0, numCpus: 1, log: () => {} });
});

after(async () => {
  await service.stop();
});

/** Calls a head's API with its token. */
async function api(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** A `module:data:` kind whose code writes `marker` when it is imported. */
function dataUrlKind(marker: string): string {
  const code = `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'imported'); export function createBackend() { throw new Error('no'); }`;
  return `module:data:text/javascript,${encodeURIComponent(code)}`;
}

function configText(): string | undefined {
  const p = join(home, 'config.json');
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

test('POST /api/backends with a data: URL module is refused and the module never runs', async () => {
  const marker = join(tempDir('data-url'), 'imported');
  const before = configText();
  const { url, token } = service.info;
  const r = await api(url, token, 'POST', '/api/backends', { name: 'evil', kind: dataUrlKind(marker) });
  assert.equal(r.status, 400, JSON.stringify(r.json));
  assert.match(r.json.fields.kind, /module backends cannot be added through the API/);
  const put = await api(url, token, 'PUT', '/api/backends/evil', { name: 'evil', kind: dataUrlKind(marker) });
  assert.equal(put.status, 400, JSON.stringify(put.json));
  await sleep(300);
  assert.equal(existsSync(marker), false, 'the data: module was executed');
  assert.equal(configText(), before);
});

test('an absolute (or any) module path through the API is refused and config.json stays as it was', async () => {
  const { url, token } = service.info;
  const before = configText();
  for (const kind of [
    `module:${EXAMPLE}`,
    'module:./resources/examples/example-backend.ts',
    `module:file://${EXAMPLE}`,
  ]) {
    const r = await api(url, token, 'POST', '/api/backends', { name: 'abs', kind, nodes: 1 });
    assert.equal(r.status, 400, `${kind}: ${JSON.stringify(r.json)}`);
    assert.match(r.json.error, /--allow-module-backends/);
  }
  assert.equal(configText(), before);
  const list = await api(url, token, 'GET', '/api/backends');
  assert.deepEqual(
    list.json.map((b: { name: string }) => b.name),
    ['local'],
  );
});

test("a client driver's module backend is refused without --allow-module-backends", async () => {
  const { address, token } = service.info;
  const attempt = init({
    address,
    token,
    logToDriver: false,
    backends: [{ name: 'bg', kind: 'module:./resources/examples/example-backend.ts', nodes: 1 }],
  });
  const err = await attempt.then(
    () => undefined,
    (e: Error) => e,
  );
  if (isInitialized()) await shutdown();
  assert.ok(err, 'the driver added a module backend');
  assert.match(
    err.message,
    /backend bg: module \.\/resources\/examples\/example-backend\.ts is not allowed: a client driver cannot add module backends: .*orrery start --allow-module-backends/,
  );
  assert.equal(isInitialized(), false);
  assert.deepEqual(
    service.head.backendList().map((b) => b.name),
    ['local'],
  );
});

test("with --allow-module-backends a client driver adds a module backend (resolved from the head's directory); URLs stay refused", {
  timeout: 180_000,
}, async () => {
  const otherHome = tempDir('module-flag');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'orchestrator/cli/main.ts', 'start', '--port', '0', '--allow-module-backends'],
    { env: { ...process.env, ORRERY_HOME: otherHome }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let errText = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (errText += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const file = join(otherHome, 'head.json');
    await until(
      'the head with --allow-module-backends',
      () => {
        if (child.exitCode !== null) throw new Error(`orrery start exited with ${child.exitCode}: ${errText}`);
        return existsSync(file) && /dashboard:/.test(out);
      },
      60_000,
    );
    const info = JSON.parse(readFileSync(file, 'utf8')) as { address: string; url: string; token: string };
    await init({
      address: info.address,
      token: info.token,
      logToDriver: false,
      backends: [{ name: 'bg', kind: 'module:./resources/examples/example-backend.ts', nodes: 1 }],
    });
    try {
      const live = await until(
        'the module backend node',
        async () => (await nodes()).find((n) => n.backend === 'bg' && n.state === 'ALIVE'),
        60_000,
      );
      // Its config's labels, next to those Orrery sets itself (orrery.io/...: container runtimes found there).
      assert.equal(live.labels.priority, 'low');
      const where = remote(
        { backend: 'bg', numCpus: 0 },
        async () => (await import('orrery-compute')).getRuntimeContext().backend,
      );
      assert.equal(await get(where.remote()), 'bg');
    } finally {
      await shutdown();
    }
    const marker = join(tempDir('data-url-flag'), 'imported');
    const r = await api(info.url, info.token, 'POST', '/api/backends', { name: 'evil', kind: dataUrlKind(marker) });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.match(r.json.fields.kind, /is not allowed/);
    await sleep(300);
    assert.equal(existsSync(marker), false, 'the data: module was executed');
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});

test('a config file names module backends relative to itself; init({ config }) refuses absolute paths', async () => {
  const dir = tempDir('module-config');
  const cfg = join(dir, 'orrery.json');
  writeFileSync(cfg, JSON.stringify({ backends: [{ name: 'abs', kind: `module:${EXAMPLE}` }] }));
  await assert.rejects(
    init({ config: cfg, numCpus: 1, logToDriver: false }),
    /config file .*orrery\.json: backend abs: module \/.* is not allowed: .*relative to the config file/,
  );
  assert.equal(isInitialized(), false);
  writeFileSync(
    cfg,
    JSON.stringify({ backends: [{ name: 'rel', kind: `module:${relative(dir, EXAMPLE)}`, nodes: 1 }] }),
  );
  await init({ config: cfg, numCpus: 1, logToDriver: false });
  try {
    await until(
      'the module backend node',
      async () => (await nodes()).some((n) => n.backend === 'rel' && n.state === 'ALIVE'),
      60_000,
    );
  } finally {
    await shutdown();
  }
});
