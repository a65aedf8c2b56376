/**
 * `npm run dev:dashboard` (renderer/dev-server.ts, dev-proxy.ts) against a real head: the proxy
 * serves the watch build under the head's own headers (CSP), logs in through the head's one-time
 * link, passes the API and the events WebSocket on (the page in Chromium goes live), refuses
 * other Hosts and Origins, and reloads the open page after a one-line change to a source file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDashboard, waitLive } from './browser.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-dev-dashboard-'));
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

let service: Awaited<ReturnType<typeof HeadService.start>>;
let dev: ChildProcess;
let out = '';
let origin = '';
let login = '';

/** Waits until the dev server's output matches `re`. */
async function waitFor(re: RegExp, what: string, ms = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = out.match(re);
    if (m) return m;
    assert.equal(dev.exitCode, null, `dev:dashboard exited: ${out}`);
    assert.ok(Date.now() < deadline, `no ${what} within ${ms / 1000} s: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  service = await HeadService.start({ port: 0, numCpus: 1, log: () => undefined });
  dev = spawn(process.execPath, ['--import', 'tsx', 'renderer/dev-server.ts', '--port', '0'], {
    env: process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  dev.stdout!.on('data', (d) => (out += d));
  dev.stderr!.on('data', (d) => (out += d));
  origin = (await waitFor(/dashboard dev server: (http:\/\/127\.0\.0\.1:\d+)\//, 'address'))[1]!;
  login = (await waitFor(/log in: (\S+)/, 'login link'))[1]!;
});

after(async () => {
  dev?.kill('SIGINT');
  await service?.stop();
});

test('the login link is the head one-time login, on the proxy; the page carries the head CSP and the reload script', async () => {
  assert.match(login, new RegExp(`^${origin}/login\\?code=[A-Za-z0-9_-]{43}$`));
  assert.ok(!out.includes(service.info.token), 'the token is never printed');
  assert.equal((await fetch(`${origin}/api/nodes`)).status, 401, 'no cookie, no API');
  const res = await fetch(login, { redirect: 'manual' });
  assert.equal(res.status, 303);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const page = await fetch(`${origin}/`, { headers: { Cookie: cookie } });
  const head = await fetch(`${service.info.url}/`);
  assert.equal(page.headers.get('content-security-policy'), head.headers.get('content-security-policy'));
  const html = await page.text();
  assert.match(html, /<script type="module" src="\/__orrery-dev\/reload\.js"><\/script>/);
  assert.match(html, /assets\/app-[A-Z0-9]{8}\.js/);
  assert.equal((await fetch(`${origin}/api/nodes`, { headers: { Cookie: cookie } })).status, 200);
  const evil = await fetch(`${origin}/api/tasks/x/cancel`, {
    method: 'POST',
    headers: { Cookie: cookie, Origin: 'http://evil.example' },
  });
  assert.equal(evil.status, 403);
  assert.match(await evil.text(), /other web origins are refused/);
  // fetch() keeps its own Host header; a raw request names another one, as a rebound DNS name would.
  const rebound = await new Promise<number>((resolve, reject) =>
    get(`${origin}/api/nodes`, { headers: { Cookie: cookie, Host: 'evil.example' } }, (r) => {
      r.resume();
      resolve(r.statusCode ?? 0);
    }).on('error', reject),
  );
  assert.equal(rebound, 421);
});

test('in Chromium the page goes live through the proxy and reloads itself after a one-line change to a source', async () => {
  dev.stdin!.write('\n');
  const link = (await waitFor(/log in: \S+[\s\S]*log in: (\S+)/, 'a second login link'))[1]!;
  const ui = await openDashboard(link);
  const source = 'renderer/src/dom.ts';
  const original = readFileSync(source, 'utf8');
  try {
    await waitLive(ui.page, 30_000);
    const reloaded = ui.page.waitForEvent('load', { timeout: 30_000 });
    const rebuilds = (out.match(/rebuilt in/g) ?? []).length;
    writeFileSync(source, `${original}\nexport const devLoopMarker = 1;\n`);
    await reloaded;
    await waitFor(new RegExp(`(rebuilt in \\d+ ms[\\s\\S]*){${rebuilds + 1}}`), 'a rebuild');
    await waitLive(ui.page, 30_000);
    assert.deepEqual(ui.errors, [], 'no console errors (a CSP violation would be one)');
  } finally {
    writeFileSync(source, original);
    await ui.browser.close();
  }
});
