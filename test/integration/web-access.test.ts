/**
 * The head's web surface against a real head service in this process (issue 13, findings 1
 * and 10): one-time login codes traded for a session cookie, no token in any URL, the Host
 * allowlist against DNS rebinding, CSRF rules for the cookie, login pages for the browser,
 * content-hashed dashboard assets, and the largest driver message.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WebSocket } from 'ws';
import { tempDir, until } from './helpers.ts';

const home = tempDir('web-access');
process.env.ORRERY_HOME = home;
const { HeadService } = await import('../../orchestrator/service/head-service.ts');
const { RENDERER_DIST } = await import('../../orchestrator/service/dashboard-static.ts');
const orrery = await import('../../orchestrator/api/index.ts');

/** The limit this test's head puts on one driver message, small enough to exceed cheaply. */
const MESSAGE_LIMIT = 1024 * 1024;

let service: Awaited<ReturnType<typeof HeadService.start>>;
let base: string;
let port: number;
let token: string;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly the headers given (fetch would not let a test set Host). */
function raw(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { Host: `127.0.0.1:${port}`, ...opts.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A WebSocket handshake with exactly the headers given; resolves with the HTTP status (101: accepted). */
function handshake(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        Host: `127.0.0.1:${port}`,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Protocol': 'orrery',
        ...headers,
      },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve({ status: 101, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A fresh one-time login URL, asked for with the token. */
async function loginUrl(): Promise<string> {
  const r = await raw('/api/login-codes', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
  assert.equal(r.status, 201, r.body);
  return (JSON.parse(r.body) as { url: string }).url;
}

/** Logs in through a fresh one-time URL; resolves with the `name=value` of the session cookie. */
async function sessionCookie(): Promise<string> {
  const url = new URL(await loginUrl());
  const r = await raw(`${url.pathname}${url.search}`);
  assert.equal(r.status, 303, r.body);
  return String(r.headers['set-cookie']).split(';')[0]!;
}

before(async () => {
  service = await HeadService.start({
    port: 0,
    numCpus: 1,
    log: () => undefined,
    maxDriverMessageBytes: MESSAGE_LIMIT,
  });
  base = service.info.url;
  port = Number(new URL(base).port);
  token = service.info.token;
});

after(async () => {
  await orrery.shutdown().catch(() => undefined);
  await service.stop();
});

describe('logging in to the dashboard', () => {
  test('a one-time code is traded for an HttpOnly SameSite=Strict session cookie named per port, and the browser is sent on without the code', async () => {
    const url = new URL(await loginUrl());
    assert.equal(url.origin, base);
    assert.equal(url.pathname, '/login');
    assert.match(url.searchParams.get('code')!, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!url.href.includes(token));
    const r = await raw(`${url.pathname}${url.search}`);
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    const cookies = r.headers['set-cookie'] as string[];
    assert.equal(cookies.length, 1);
    const [pair, ...attributes] = cookies[0]!.split(';').map((s) => s.trim());
    const [name, value] = pair!.split('=');
    assert.equal(name, `orrery-session-${port}`);
    assert.match(value!, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(value, token);
    assert.ok(!value!.includes(token.slice(0, 16)));
    assert.deepEqual(attributes.sort(), ['HttpOnly', 'Path=/', 'SameSite=Strict']);
    const withCookie = await raw('/api/nodes', { headers: { Cookie: pair! } });
    assert.equal(withCookie.status, 200, withCookie.body);
  });

  test('a code works once; an unknown or missing code is refused with a page that says how to get a new link', async () => {
    const url = new URL(await loginUrl());
    assert.equal((await raw(`${url.pathname}${url.search}`)).status, 303);
    const again = await raw(`${url.pathname}${url.search}`);
    assert.equal(again.status, 401);
    assert.equal(again.headers['set-cookie'], undefined);
    assert.match(again.body, /orrery dashboard --url/);
    assert.equal((await raw('/login?code=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status, 401);
    assert.equal((await raw('/login')).status, 401);
    assert.equal((await raw(`/login?code=${token}`)).status, 401, 'the token is not a login code');
    assert.equal((await raw(`${url.pathname}${url.search}`, { method: 'POST' })).status, 405);
  });

  test('a browser session ends with its head: another head, or a forged cookie, gets 401 with a way back in', async () => {
    const forged = await raw('/api/nodes', { headers: { Cookie: `orrery-session-${port}=${'A'.repeat(43)}` } });
    assert.equal(forged.status, 401);
    assert.match((JSON.parse(forged.body) as { error: string }).error, /orrery dashboard --url/);
    const otherPort = await raw('/api/nodes', {
      headers: { Cookie: (await sessionCookie()).replace(`-${port}=`, `-${port + 1}=`) },
    });
    assert.equal(otherPort.status, 401, "a cookie named for another head's port is not this head's");
  });

  test('login links are handed out only for the token, not to a browser session', async () => {
    const cookie = await sessionCookie();
    for (const path of ['/api/login-codes', '/api/login-pages']) {
      const r = await raw(path, { method: 'POST', headers: { Cookie: cookie, Origin: base } });
      assert.equal(r.status, 403, path);
      assert.equal((await raw(path, { method: 'POST' })).status, 401, path);
      assert.equal((await raw(path, { headers: { Authorization: `Bearer ${token}` } })).status, 405, path);
    }
  });

  test('a login page is a 0600 file in a 0700 folder that forwards to a one-time URL, and is removed once the code was used', async () => {
    const r = await raw('/api/login-pages', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(r.status, 201, r.body);
    const { path, expiresAt } = JSON.parse(r.body) as { path: string; expiresAt: number };
    assert.equal(dirname(path), join(home, 'run', 'login'));
    assert.ok(expiresAt > Date.now() && expiresAt <= Date.now() + 130_000);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(path)).mode & 0o777, 0o700);
    const html = readFileSync(path, 'utf8');
    assert.ok(!html.includes(token));
    const target = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(html)?.[1];
    assert.ok(target?.startsWith(`${base}/login?code=`), html);
    const url = new URL(target!);
    assert.equal((await raw(`${url.pathname}${url.search}`)).status, 303);
    assert.ok(!existsSync(path), 'the page is gone once its code was used');
    assert.deepEqual(readdirSync(dirname(path)), []);
  });
});

describe('what the head refuses', () => {
  test('?token= is refused on /api and on both WebSocket endpoints, even with the right token', async () => {
    for (const path of [
      `/api/nodes?token=${token}`,
      `/api/status?token=${token}`,
      `/api/sessions/x/export?token=${token}`,
    ]) {
      const r = await raw(path);
      assert.equal(r.status, 401, path);
      assert.match((JSON.parse(r.body) as { error: string }).error, /token in the URL is refused/);
    }
    const withBoth = await raw(`/api/nodes?token=${token}`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(withBoth.status, 401, 'a token in the URL is refused even beside a good header');
    for (const path of [`/api/driver?token=${token}`, `/api/events?token=${token}`]) {
      const r = await handshake(path, {});
      assert.equal(r.status, 401, path);
      assert.match(r.body, /token in the URL is refused/);
    }
    assert.equal((await handshake('/api/driver', { Authorization: `Bearer ${token}` })).status, 101);
    assert.equal(
      (await handshake('/api/events', { 'Sec-WebSocket-Protocol': `orrery, orrery.token.${token}` })).status,
      101,
    );
  });

  test('a request naming another host (DNS rebinding) is refused on /, /login, /assets, /api and upgrades; loopback names pass', async () => {
    const rebound = { Host: `rebind.evil.example:${port}` };
    for (const path of ['/', '/index.html', '/login?code=x', '/assets/x.js', '/api/nodes']) {
      const r = await raw(path, { headers: { ...rebound, Authorization: `Bearer ${token}` } });
      assert.equal(r.status, 421, path);
      assert.match(r.body, /does not serve the host/);
      assert.doesNotMatch(r.body, /<script/);
    }
    assert.equal(
      (await raw('/api/nodes', { headers: { Host: `127.0.0.1:${port + 1}`, Authorization: `Bearer ${token}` } }))
        .status,
      421,
      'another port',
    );
    assert.equal(
      (await raw('/api/nodes', { headers: { Host: '127.0.0.1', Authorization: `Bearer ${token}` } })).status,
      421,
      'no port',
    );
    assert.equal((await handshake('/api/driver', { ...rebound, Authorization: `Bearer ${token}` })).status, 421);
    assert.equal(
      (await handshake('/api/events', { ...rebound, 'Sec-WebSocket-Protocol': `orrery, orrery.token.${token}` }))
        .status,
      421,
    );
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      assert.equal(
        (await raw('/api/nodes', { headers: { Host: host, Authorization: `Bearer ${token}` } })).status,
        200,
        host,
      );
      assert.equal((await raw('/', { headers: { Host: host } })).status, 200, host);
    }
  });

  test("on a browser session, a request that changes something needs the page's Origin; other sites and origins are refused (CSRF)", async () => {
    const cookie = await sessionCookie();
    const preview = { method: 'POST', body: JSON.stringify({ rules: [] }) };
    const json = { 'Content-Type': 'application/json' };
    assert.equal(
      (await raw('/api/placement-rules/preview', { ...preview, headers: { ...json, Cookie: cookie } })).status,
      403,
      'no Origin',
    );
    assert.equal(
      (
        await raw('/api/placement-rules/preview', {
          ...preview,
          headers: { ...json, Cookie: cookie, Origin: 'http://evil.example' },
        })
      ).status,
      403,
      'foreign Origin',
    );
    assert.equal(
      (
        await raw('/api/placement-rules/preview', {
          ...preview,
          headers: { ...json, Cookie: cookie, Origin: `http://127.0.0.1:${port + 1}` },
        })
      ).status,
      403,
      'same site, other port',
    );
    assert.equal(
      (await raw('/api/placement-rules/preview', { ...preview, headers: { ...json, Cookie: cookie, Origin: base } }))
        .status,
      200,
      "the dashboard's own page",
    );
    assert.equal(
      (
        await raw('/api/placement-rules/preview', {
          ...preview,
          headers: { ...json, Cookie: cookie, Origin: base, 'Sec-Fetch-Site': 'same-site' },
        })
      ).status,
      403,
      'sent by another site',
    );
    assert.equal(
      (await raw('/api/nodes', { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'cross-site' } })).status,
      403,
      'a cross-site GET',
    );
    assert.equal(
      (await raw('/api/nodes', { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' } })).status,
      200,
    );
    assert.equal(
      (await handshake('/api/events', { Cookie: cookie })).status,
      403,
      'a socket on the cookie needs the Origin',
    );
    assert.equal((await handshake('/api/events', { Cookie: cookie, Origin: base })).status, 101);
    assert.equal((await handshake('/api/events', { Cookie: cookie, Origin: 'http://evil.example' })).status, 403);
    assert.equal(
      (
        await raw('/api/placement-rules/preview', {
          ...preview,
          headers: { ...json, Authorization: `Bearer ${token}` },
        })
      ).status,
      200,
      'the token needs no Origin',
    );
  });
});

describe('the dashboard build', () => {
  test('the renderer build names assets by content hash, cached for good; index.html names them and is never cached', async () => {
    execFileSync(process.execPath, ['--import', 'tsx', 'renderer/build.ts'], { stdio: 'ignore' });
    const built = readdirSync(join(RENDERER_DIST, 'assets')).sort();
    assert.equal(built.length, 4, built.join());
    for (const f of built) assert.match(f, /^app-[A-Z0-9]{8}\.(js|css)(\.map)?$/);
    const index = await raw('/');
    assert.equal(index.status, 200);
    assert.equal(index.headers['cache-control'], 'no-store');
    const assets = [...index.body.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.equal(assets.length, 2, index.body);
    assert.ok(
      assets.some((a) => /^assets\/app-[A-Z0-9]{8}\.js$/.test(a)),
      assets.join(),
    );
    assert.ok(
      assets.some((a) => /^assets\/app-[A-Z0-9]{8}\.css$/.test(a)),
      assets.join(),
    );
    for (const a of assets) {
      const r = await raw(`/${a}`);
      assert.equal(r.status, 200, a);
      assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable', a);
    }
    assert.equal((await raw('/assets/app.js')).status, 404, 'no unhashed bundle');
  });
});

describe('driver messages', () => {
  test("a put over the head's message limit fails at once with a clear error, and the driver keeps working", async (t) => {
    // As a driver on another machine: one on the head's puts large values through its shared memory.
    process.env.ORRERY_SHM = '0';
    t.after(() => delete process.env.ORRERY_SHM);
    await orrery.init({ address: service.info.address, token, logToDriver: false });
    const big = new Uint8Array(MESSAGE_LIMIT + 1024);
    assert.throws(
      () => orrery.put(big),
      (err: Error) => {
        assert.equal(err.name, 'DriverMessageTooLargeError');
        assert.ok(err instanceof orrery.DriverMessageTooLargeError);
        assert.match(
          err.message,
          /^this put request holds \d+ bytes of data \(1 MiB\), over the head's limit of 1048576 bytes \(1 MiB\) for one driver message; split the data/,
        );
        return true;
      },
    );
    const half = new Uint8Array(MESSAGE_LIMIT * 0.6).fill(7);
    const [a, b] = [orrery.put(half), orrery.put(half)];
    assert.equal(
      (await orrery.get(a)).length,
      half.length,
      'two puts that together exceed the limit go in separate messages',
    );
    assert.equal((await orrery.get(b))[0], 7);
    const square = orrery.remote((x: number) => x * x);
    assert.equal(await orrery.get(square.remote(9)), 81);
    await orrery.shutdown();
  });

  test('a raw message over the limit closes the socket with code 1009', async () => {
    const ws = new WebSocket(`${service.info.address}/api/driver`, ['orrery'], {
      headers: { Authorization: `Bearer ${token}` },
    });
    await new Promise((r, j) => {
      ws.once('message', r);
      ws.once('error', j);
    });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.on('error', () => undefined);
    ws.send(Buffer.alloc(MESSAGE_LIMIT + 1));
    assert.equal(await closed, 1009);
    await until(
      "the head to end the driver's job",
      async () =>
        (
          (await (await fetch(`${base}/api/status`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
            drivers: number;
          }
        ).drivers === 0,
    );
  });
});
