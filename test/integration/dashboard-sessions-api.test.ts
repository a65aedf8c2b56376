/**
 * The dashboard's session, example and page routes on a real head service started in this
 * process (HeadService, port 0, a temporary ORRERY_HOME) with a real driver connected: the
 * current session, its tasks, recorded nodes, compare and export; an example started as a driver;
 * `/` without the token; and the CLI's one-time login links. (dashboard-api.test.ts covers the
 * live feed, backends, placement rules and secrets.)
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { init, shutdown, remote, get } from 'orrery-compute';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { DASHBOARD_CSP, RENDERER_DIST } from '../../orchestrator/service/dashboard-static.ts';
import { headApi, tempDir, until } from './helpers.ts';

const home = tempDir('dashboard-sessions-api');
process.env.ORRERY_HOME = home;
// The vqe-h2 example started from the dashboard inherits these: one short optimiser step.
process.env.VQE_ITERATIONS = '1';
process.env.VQE_SHOTS = '256';

let service: HeadService;
let base: string;
let token: string;

const api = (method: string, path: string, body?: unknown) => headApi({ url: base, token }, method, path, body);

before(async () => {
  service = await HeadService.start({ port: 0, numCpus: 2, log: () => {} });
  base = service.info.url;
  token = service.info.token;
  await init({ address: service.info.address, token, logToDriver: false });
});

after(async () => {
  await shutdown();
  await service.stop();
});

describe('the dashboard API: sessions, examples and the page', () => {
  test('sessions: the current one, list, show, tasks with paging and filters, task detail, compare and export', async () => {
    const cur = (await api('GET', '/api/session')).json;
    assert.equal(cur.name, service.session);
    const sq = remote({ name: 'sessionSquare' }, (x: number) => x * x);
    const refs = [1, 2, 3].map((x) => sq.remote(x));
    assert.deepEqual(await get(refs), [1, 4, 9]);
    const list = await api('GET', '/api/sessions');
    assert.ok(list.json.some((s: { name: string; status: string }) => s.name === cur.name && s.status === 'running'));
    const page = await until('the recorder to write the squares', async () => {
      const p = await api('GET', `/api/sessions/${cur.name}/tasks?name=sessionSquare&state=FINISHED&limit=2`);
      return p.json.total === 3 && p;
    });
    assert.equal(page.json.tasks.length, 2);
    assert.deepEqual(
      page.json.tasks.map((t: { id: string }) => t.id),
      refs.slice(0, 2).map((r) => r.id),
    );
    const rest = (await api('GET', `/api/sessions/${cur.name}/tasks?name=sessionSquare&offset=2&limit=2`)).json;
    assert.deepEqual(
      rest.tasks.map((t: { id: string }) => t.id),
      [refs[2]!.id],
    );
    assert.equal((await api('GET', `/api/sessions/${cur.name}/tasks?limit=0`)).status, 400);
    const show = (await api('GET', `/api/sessions/${cur.name}`)).json;
    assert.equal(show.name, cur.name);
    assert.ok(show.summary.byName.sessionSquare.FINISHED >= 3);
    const detail = (await api('GET', `/api/sessions/${cur.name}/tasks/${refs[2]!.id}`)).json;
    assert.equal(detail.task.name, 'sessionSquare');
    assert.equal(detail.args, '3');
    assert.deepEqual(detail.result.json, 9);
    assert.equal((await api('GET', `/api/sessions/${cur.name}/tasks/nope`)).status, 404);
    assert.equal((await api('GET', '/api/sessions/no-such-session')).status, 404);
    const nodes = (await api('GET', `/api/sessions/${cur.name}/nodes`)).json as { nodeId: string; backend: string }[];
    const live = (await api('GET', '/api/nodes')).json as { nodeId: string }[];
    assert.ok(
      live.every((n) => nodes.some((r) => r.nodeId === n.nodeId)),
      'the session recorded the live nodes',
    );
    assert.equal((await api('GET', '/api/sessions/no-such-session/nodes')).status, 404);
    const cmp = await api('GET', `/api/sessions/compare?a=${cur.name}&b=${cur.name}`);
    assert.equal(cmp.status, 200);
    assert.equal(cmp.json.counts.onlyInA, 0);
    assert.ok(cmp.json.counts.matched >= 3);
    assert.equal((await api('GET', '/api/sessions/compare?a=x')).json.fields.b, 'required');
    const exp = await api('GET', `/api/sessions/${cur.name}/export`);
    assert.equal(exp.status, 200);
    assert.equal(exp.headers.get('content-disposition'), `attachment; filename="${cur.name}.tar.gz"`);
    const tar = gunzipSync(exp.bytes);
    assert.match(tar.subarray(0, 100).toString('latin1'), new RegExp(cur.name));
    assert.ok(tar.includes(Buffer.from('orrery-session-archive')), 'the manifest is in the archive');
  });

  test('POST /api/examples/run starts vqe-h2 as a driver of this head and its circuit tasks appear', async () => {
    const ex = (await api('GET', '/api/examples')).json as { name: string }[];
    assert.deepEqual(
      ex.map((e) => e.name),
      ['vqe-h2', 'parameter-sweep'],
    );
    assert.equal((await api('POST', '/api/examples/run', { name: 'rm -rf' })).status, 400);
    const r = await api('POST', '/api/examples/run', { name: 'vqe-h2' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(typeof r.json.pid, 'number');
    const circuits = await until(
      'circuit tasks of the example',
      async () => {
        const tasks = (await api('GET', '/api/tasks?limit=100000')).json as {
          taskId: string;
          name: string;
          state: string;
        }[];
        const mine = [];
        for (const t of tasks) {
          const d = (await api('GET', `/api/tasks/${t.taskId}`)).json;
          if (d.task.kind === 'circuit' && d.task.backend === 'simulator') mine.push(d);
        }
        return mine.length >= 2 && mine;
      },
      120_000,
    );
    assert.ok(circuits.every((c) => c.task.backend === 'simulator'));
    const runs = await until(
      'the example to finish',
      async () => {
        const e = (
          (await api('GET', '/api/examples')).json as {
            name: string;
            runs: { pid: number; exitCode?: number | null; output: string[] }[];
          }[]
        ).find((x) => x.name === 'vqe-h2')!;
        return e.runs.find((x) => x.pid === r.json.pid && x.exitCode !== undefined);
      },
      120_000,
    );
    assert.equal(runs.exitCode, 0, runs.output.join('\n'));
  });

  test('`/` serves the dashboard without the token, with the strict CSP; /api stays closed', async () => {
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    if (existsSync(join(RENDERER_DIST, 'index.html')))
      assert.equal(page.headers.get('content-security-policy'), DASHBOARD_CSP);
    else assert.match(html, /npm run build:renderer/);
    assert.equal((await fetch(`${base}/api/backends`)).status, 401);
    assert.equal((await fetch(`${base}/nope.js`)).status, 404);
  });

  test('`orrery dashboard --no-open` and `--url` print one-time login links of the running head, never its token', async () => {
    const cli = (...args: string[]) =>
      new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'orchestrator/cli/main.ts', 'dashboard', ...args],
          { env: { ...process.env, ORRERY_HOME: home }, timeout: 60_000 },
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        );
      });
    const noOpen = await cli('--no-open');
    assert.ok(!noOpen.includes(token), noOpen);
    const printed = new RegExp(`^  dashboard: (${base}/login\\?code=[A-Za-z0-9_-]{43})$`, 'm').exec(noOpen)?.[1];
    assert.ok(printed, noOpen);
    assert.match(noOpen, /\(one-time login link, valid 2 minutes; another: orrery dashboard --url\)/);
    const url = await cli('--url');
    assert.match(url, new RegExp(`^${base}/login\\?code=[A-Za-z0-9_-]{43}\n$`));
    assert.notEqual(url.trim(), printed);
    for (const link of [printed!, url.trim()]) {
      const login = await fetch(link, { redirect: 'manual' });
      assert.equal(login.status, 303, link);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      assert.equal((await fetch(`${base}/api/backends`, { headers: { Cookie: cookie } })).status, 200);
    }
  });
});
