/**
 * The desktop shell: where the `electron` package resolves to an existing binary (the look-up
 * `orrery app` uses), `electron electron/dist/main.mjs` starts, spawns its own head (head.json
 * appears in a temp ORRERY_HOME) and keeps running; elsewhere that test reports itself skipped
 * with the reason, and `orrery app` is checked to say why and serve the browser dashboard. The
 * parts that run without Electron (bundling, the login through a one-time URL; the window guards,
 * argv and head command in test/unit/electron-*.test.ts) are always tested.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildElectron } from '../../electron/build.ts';
import { findElectron } from '../../orchestrator/cli/electron-binary.ts';

const ELECTRON = findElectron();

test('the Electron shell bundles into one ESM main: no preload, the window guards wired, no token in a URL', async () => {
  await buildElectron();
  const main = readFileSync('electron/dist/main.mjs', 'utf8');
  for (const setting of ['contextIsolation: true', 'sandbox: true', 'nodeIntegration: false'])
    assert.ok(main.includes(setting), setting);
  assert.doesNotMatch(main, /preload/);
  assert.match(main, /Content-Security-Policy/);
  for (const wiring of [
    '"web-contents-created"',
    '"will-navigate"',
    '"will-redirect"',
    '"will-attach-webview"',
    'setWindowOpenHandler',
    'setPermissionCheckHandler',
    'setPermissionRequestHandler',
    '/api/login-codes',
  ]) {
    assert.ok(main.includes(wiring), wiring);
  }
  assert.doesNotMatch(main, /token=/);
});

test('the main process logs the window in with a one-time URL it gets with the token from head.json', async () => {
  const home = mkdtempSync(join(tmpdir(), 'orrery-electron-login-'));
  const saved = process.env.ORRERY_HOME;
  process.env.ORRERY_HOME = home;
  const { HeadService } = await import('../../orchestrator/service/head-service.ts');
  const service = await HeadService.start({ port: 0, numCpus: 1, log: () => undefined });
  try {
    const { runningHead } = await import('../../electron/head-process.ts');
    const { loginUrl } = await import('../../electron/head-login.ts');
    const head = runningHead();
    assert.ok(head, 'head.json names the service');
    const url = await loginUrl(head);
    assert.match(url, new RegExp(`^${service.info.url}/login\\?code=[A-Za-z0-9_-]{43}$`));
    assert.ok(!url.includes(head.token));
    const login = await fetch(url, { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/');
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    assert.equal((await fetch(`${service.info.url}/api/nodes`, { headers: { Cookie: cookie } })).status, 200);
    assert.equal((await fetch(url, { redirect: 'manual' })).status, 401, 'the URL works once');
  } finally {
    await service.stop();
    if (saved === undefined) delete process.env.ORRERY_HOME;
    else process.env.ORRERY_HOME = saved;
  }
});

test('the desktop app starts its own head and opens the dashboard', {
  skip: ELECTRON.found ? false : `${ELECTRON.reason}: no Electron window can run on this machine`,
}, async () => {
  if (!ELECTRON.found) return;
  await buildElectron();
  const home = mkdtempSync(join(tmpdir(), 'orrery-electron-'));
  const child = spawn(ELECTRON.path, ['--no-sandbox', 'electron/dist/main.mjs', '--port', '0'], {
    env: { ...process.env, ORRERY_HOME: home, ORRERY_NODE: process.execPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  try {
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(home, 'head.json'))) {
      assert.equal(child.exitCode, null, `electron exited: ${err}`);
      assert.ok(Date.now() < deadline, `no head.json within 60 s: ${err}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const info = JSON.parse(readFileSync(join(home, 'head.json'), 'utf8')) as { url: string; token: string };
    const res = await fetch(`${info.url}/api/nodes`, { headers: { Authorization: `Bearer ${info.token}` } });
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(child.exitCode, null, `electron exited: ${err}`);
  } finally {
    child.kill('SIGTERM');
  }
});

test('orrery app without Electron says why and what to do, then serves the dashboard for a browser', {
  skip: ELECTRON.found ? 'Electron is installed here, so orrery app opens the window (the test above)' : false,
}, async () => {
  const home = mkdtempSync(join(tmpdir(), 'orrery-app-fallback-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'orchestrator/cli/main.ts', 'app', '--port', '0'], {
    env: { ...process.env, ORRERY_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  try {
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(home, 'head.json')) || !out.includes('dashboard:')) {
      assert.equal(child.exitCode, null, `orrery app exited: ${out}${err}`);
      assert.ok(Date.now() < deadline, `no head within 60 s: ${out}${err}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const [first, second] = out.split('\n');
    assert.match(
      first!,
      /^orrery app: Electron is not installed \((npm skips|the optional dependency electron is missing).*; for the desktop window (use Node 22\.12\.0\+ and )?run `npm install electron` with internet access\. Opening the dashboard in your browser instead\.$/,
    );
    assert.match(second!, /^orrery head running/);
    const info = JSON.parse(readFileSync(join(home, 'head.json'), 'utf8')) as { url: string; token: string };
    const page = await fetch(`${info.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /assets\/app-[A-Z0-9]{8}\.js/, 'the built dashboard, not the placeholder');
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }
});

test("the app's head is the package's built CLI on plain Node (no tsx): startHead finds its head.json, SIGTERM stops it", async () => {
  const { orreryCommand, packageRoot, startHead } = await import('../../electron/head-process.ts');
  const [cli] = orreryCommand(packageRoot());
  assert.equal(cli, join(process.cwd(), 'dist', 'orchestrator', 'cli', 'main.js'), 'the built CLI (npm run build)');
  const home = mkdtempSync(join(tmpdir(), 'orrery-electron-head-'));
  const saved = { home: process.env.ORRERY_HOME, node: process.env.ORRERY_NODE };
  process.env.ORRERY_HOME = home;
  process.env.ORRERY_NODE = process.execPath;
  try {
    const { info, child } = await startHead({ port: 0 });
    assert.ok(child, 'a new head, not one found running');
    assert.equal(info.pid, child.pid);
    const res = await fetch(`${info.url}/api/nodes`, { headers: { Authorization: `Bearer ${info.token}` } });
    assert.equal(res.status, 200);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0);
  } finally {
    for (const [key, value] of [
      ['ORRERY_HOME', saved.home],
      ['ORRERY_NODE', saved.node],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
});
