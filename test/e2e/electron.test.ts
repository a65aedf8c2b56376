/**
 * The desktop shell: where node_modules/.bin/electron exists, `electron electron/dist/main.mjs`
 * starts, spawns its own head (head.json appears in a temp ORRERY_HOME) and keeps running;
 * elsewhere the test reports itself skipped with the reason. The parts that run without
 * Electron (bundling, the IPC origin check) are always tested.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildElectron } from '../../electron/build.ts';

const ELECTRON = join('node_modules', '.bin', 'electron');

test('the Electron shell bundles: an ESM main and a single-file CommonJS preload that exposes only headUrl and token', async () => {
  await buildElectron();
  const preload = readFileSync('electron/dist/preload.cjs', 'utf8');
  assert.match(preload, /require\("electron"\)/);
  assert.doesNotMatch(preload, /require\("\.\//, 'a sandboxed preload cannot require local files');
  assert.match(preload, /exposeInMainWorld\("orrery", Object\.freeze\(\{ headUrl: info\.headUrl, token: info\.token \}\)\)/);
  const main = readFileSync('electron/dist/main.mjs', 'utf8');
  for (const setting of ['contextIsolation: true', 'sandbox: true', 'nodeIntegration: false']) assert.ok(main.includes(setting), setting);
  assert.match(main, /Content-Security-Policy/);
});

test('the desktop app starts its own head and opens the dashboard', { skip: existsSync(ELECTRON) ? false : `Electron is not installed (${ELECTRON} is missing; its binary cannot be downloaded on this machine)` }, async () => {
  await buildElectron();
  const home = mkdtempSync(join(tmpdir(), 'orrery-electron-'));
  const child = spawn(ELECTRON, ['--no-sandbox', 'electron/dist/main.mjs'], { env: { ...process.env, ORRERY_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
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
