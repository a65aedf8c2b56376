/**
 * The dashboard's API on a real head service started in this process (HeadService, port 0, a
 * temporary ORRERY_HOME), with a real driver connected over its WebSocket: the live feed, task
 * detail, backends (added, checked, removed on the running head and written into the config
 * file), placement rules and their preview, secrets in a real OS keychain, and the dashboard's
 * files. Sessions, examples and the page are in dashboard-sessions-api.test.ts. Runs under
 * test/services/keyring.sh (the secrets test needs a Secret Service).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { Entry } from '@napi-rs/keyring';
import { init, shutdown, remote, get, circuit, type ObjectRef } from 'orrery-compute';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { DASHBOARD_CSP, serveDashboardFile } from '../../orchestrator/service/dashboard-static.ts';
import { BACKEND_SCHEMAS } from '../../orchestrator/service/backend-schemas.ts';
import { createBackend } from '../../orchestrator/head/backend-registry.ts';
import { headApi, tempDir, until, sleep } from './helpers.ts';

const home = tempDir('dashboard-api');
process.env.ORRERY_HOME = home;

let service: HeadService;
let base: string;
let token: string;

interface TaskViewJson {
  id: string;
  name: string;
  /** Left out when `function`, as `attempt` when 0 and `deps` when empty (dashboard-events.ts FeedTask). */
  kind?: string;
  state: string;
  nodeId?: string;
  backend?: string;
  deps?: string[];
  ruleIndex?: number;
  attempt?: number;
  submittedAt: number;
}

/** Calls the API; `auth: false` leaves the token out. */
const api = (method: string, path: string, body?: unknown, auth = true) =>
  headApi({ url: base, token }, method, path, body, auth);

/** The events socket and every message it got. */
function openFeed(protocols = ['orrery', `orrery.token.${token}`]): Promise<{ ws: WebSocket; messages: any[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${service.info.address}/api/events`, protocols);
    const messages: any[] = [];
    ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString('utf8'))));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`events socket refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Every state a task went through in the feed's messages, in order (repeats collapsed). */
function statesOf(messages: any[], id: string): string[] {
  const out: string[] = [];
  for (const m of messages)
    for (const t of m.tasks as TaskViewJson[]) if (t.id === id && out[out.length - 1] !== t.state) out.push(t.state);
  return out;
}

function latest(messages: any[], id: string): TaskViewJson | undefined {
  let v: TaskViewJson | undefined;
  for (const m of messages) for (const t of m.tasks as TaskViewJson[]) if (t.id === id) v = t;
  return v;
}

function configFile(): { backends?: Record<string, unknown>[]; placementRules?: unknown[] } {
  return JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'));
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const BELL = `OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
`;

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

describe('the dashboard API', () => {
  test('every new route answers 401 without the token, and the events socket refuses it', async () => {
    const routes: [string, string][] = [
      ['GET', '/api/tasks/x'],
      ['GET', '/api/backends'],
      ['POST', '/api/backends'],
      ['PUT', '/api/backends/x'],
      ['DELETE', '/api/backends/x'],
      ['POST', '/api/backends/x/test'],
      ['GET', '/api/backend-schemas'],
      ['POST', '/api/secrets'],
      ['DELETE', '/api/secrets/x'],
      ['GET', '/api/placement-rules'],
      ['PUT', '/api/placement-rules'],
      ['POST', '/api/placement-rules/preview'],
      ['GET', '/api/sessions'],
      ['GET', '/api/sessions/x'],
      ['GET', '/api/sessions/x/tasks'],
      ['GET', '/api/sessions/x/tasks/y'],
      ['GET', '/api/sessions/x/nodes'],
      ['GET', '/api/sessions/compare?a=x&b=y'],
      ['GET', '/api/sessions/x/export'],
      ['GET', '/api/session'],
      ['GET', '/api/examples'],
      ['POST', '/api/examples/run'],
    ];
    for (const [method, path] of routes) {
      const r = await api(method, path, method === 'GET' || method === 'DELETE' ? undefined : {}, false);
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.match(r.json.error, /token/);
    }
    await assert.rejects(openFeed([]), /401/);
    await assert.rejects(openFeed(['orrery', 'orrery.token.wrong']), /401/);
    // The right token from a foreign page is still refused.
    const ws = new WebSocket(`${service.info.address}/api/events`, ['orrery', `orrery.token.${token}`], {
      headers: { Origin: 'http://evil.example' },
    });
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => {});
    });
    ws.terminate();
    assert.equal(status, 403, 'a foreign Origin is refused');
  });

  test('the events socket sends a snapshot, then batches with tasks going PENDING -> RUNNING -> FINISHED and their dependency edges', async () => {
    const { ws, messages } = await until('the feed to open', () => openFeed());
    try {
      await until('the snapshot', () => messages.length > 0);
      const snap = messages[0];
      assert.equal(snap.type, 'snapshot');
      assert.ok(Array.isArray(snap.tasks));
      assert.deepEqual(
        snap.nodes.map((n: { backend: string }) => n.backend),
        ['local'],
      );
      assert.deepEqual(
        snap.backends.map((b: { name: string }) => b.name),
        ['local'],
      );
      assert.deepEqual(snap.rules, []);
      const first = remote({ name: 'feedFirst' }, async (x: number) => {
        await new Promise((r) => setTimeout(r, 500));
        return x + 1;
      });
      const second = remote({ name: 'feedSecond' }, async (y: number) => {
        await new Promise((r) => setTimeout(r, 500));
        return y * 10;
      });
      const a = first.remote(1);
      const b = second.remote(a);
      assert.equal(await get(b), 20);
      await until(
        'both tasks FINISHED in the feed',
        () => latest(messages, a.id)?.state === 'FINISHED' && latest(messages, b.id)?.state === 'FINISHED',
        5000,
      );
      const sb = statesOf(messages.slice(1), b.id);
      assert.equal(sb[0], 'PENDING_ARGS_AVAIL', `second waited for its argument: ${sb.join(' -> ')}`);
      assert.deepEqual(sb.slice(-2), ['RUNNING', 'FINISHED'], sb.join(' -> '));
      const sa = statesOf(messages.slice(1), a.id);
      assert.deepEqual(sa.slice(-2), ['RUNNING', 'FINISHED'], sa.join(' -> '));
      const vb = latest(messages, b.id)!;
      assert.deepEqual(vb.deps, [a.id], 'the edge from first to second');
      assert.equal(vb.name, 'feedSecond');
      assert.equal(vb.backend, 'local');
      // The commonest values are left out on the wire (the page puts them back): kind function, attempt 0, no deps.
      assert.equal(vb.kind, undefined, 'kind function is left out');
      assert.equal(vb.attempt, undefined, 'attempt 0 is left out');
      assert.equal(latest(messages, a.id)!.deps, undefined, 'empty deps are left out');
      // The run is named once per message: each task carries `j`, an index into `jobIds`, not the id itself.
      const carrying = messages.slice(1).find((m) => m.tasks.some((t: { id: string }) => t.id === b.id));
      const onWire = carrying.tasks.find((t: { id: string }) => t.id === b.id);
      assert.equal(onWire.jobId, undefined, 'no job id on each task');
      assert.equal(typeof carrying.jobIds[onWire.j], 'string', 'j indexes the message jobIds');
      const tasksOfRun = await headApi(
        { url: service.info.url, token: service.info.token },
        'GET',
        `/api/tasks/${b.id}`,
      );
      assert.equal(carrying.jobIds[onWire.j], tasksOfRun.json.task.jobId, 'the index names the run that submitted it');
      for (const m of messages.slice(1)) {
        assert.equal(m.type, 'batch');
        const ids = (m.tasks as TaskViewJson[]).map((t) => t.id);
        assert.equal(new Set(ids).size, ids.length, 'a batch holds each task once');
      }
      await until('a usage report', () => messages.some((m) => m.usage), 3000);
      const usage = messages.find((m) => m.usage).usage;
      assert.equal(usage.total.CPU, 2);
      assert.equal(typeof usage.pending, 'number');
    } finally {
      ws.close();
    }
  });

  test('GET /api/tasks/:id gives the arguments, result, logs and 404 for an unknown task', async () => {
    const add = remote({ name: 'detailAdd' }, (p: { a: number; b: number }) => {
      console.log('adding', p.a, p.b);
      return { sum: p.a + p.b, list: [p.a, p.b] };
    });
    const ref = add.remote({ a: 2, b: 3 });
    assert.deepEqual(await get(ref), { sum: 5, list: [2, 3] });
    const d = await until('the task detail with its log', async () => {
      const r = await api('GET', `/api/tasks/${ref.id}`);
      return r.json.logs?.length > 0 && r;
    });
    assert.equal(d.status, 200);
    assert.equal(d.json.task.id, ref.id);
    assert.equal(d.json.task.state, 'FINISHED');
    assert.match(d.json.args, /a: 2, b: 3/);
    assert.deepEqual(d.json.result.json, { sum: 5, list: [2, 3] });
    assert.match(d.json.result.preview, /sum: 5/);
    assert.match(d.json.logs.join('\n'), /adding 2 3/);
    const failing = remote({ name: 'detailFails', maxRetries: 0 }, () => {
      throw new RangeError('no good');
    });
    const bad = failing.remote();
    await assert.rejects(get(bad));
    const e = await api('GET', `/api/tasks/${bad.id}`);
    // What the driver gets: the TaskError that wraps what the function threw.
    assert.equal(e.json.error.name, 'TaskError');
    assert.match(e.json.error.message, /RangeError/);
    assert.match(e.json.error.message, /no good/);
    assert.equal(e.json.task.errorName, 'TaskError');
    assert.equal(e.json.task.state, 'FAILED');
    assert.equal((await api('GET', '/api/tasks/nope')).status, 404);
  });

  test('a local backend with labels added by POST starts on the head, its node joins, and the config file keeps it', async () => {
    const config = { name: 'lab', kind: 'local', numCpus: 1, labels: { zone: 'lab' } };
    const r = await api('POST', '/api/backends', config);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.deepEqual(r.json.config, config);
    assert.equal(r.json.state, 'running');
    const list = await until('the lab node', async () => {
      const l = await api('GET', '/api/backends');
      return l.json.find((b: { name: string; nodes: number }) => b.name === 'lab' && b.nodes === 1) && l.json;
    });
    assert.deepEqual(
      list.map((b: { name: string }) => b.name),
      ['local', 'lab'],
    );
    const nodes = (await api('GET', '/api/nodes')).json as {
      backend: string;
      labels: Record<string, string>;
      state: string;
    }[];
    const lab = nodes.find((n) => n.backend === 'lab');
    assert.equal(lab?.state, 'ALIVE');
    assert.equal(lab?.labels.zone, 'lab');
    assert.deepEqual(configFile().backends, [config]);
    assert.equal(statSync(join(home, 'config.json')).mode & 0o777, 0o600);
    const dup = await api('POST', '/api/backends', config);
    assert.equal(dup.status, 409);
    assert.ok(dup.json.fields.name);
  });

  test('invalid backend configs are refused with 400 and a message per field', async () => {
    const negative = await api('POST', '/api/backends', { name: 'bad', kind: 'local', numCpus: -1 });
    assert.equal(negative.status, 400);
    assert.deepEqual(Object.keys(negative.json.fields), ['numCpus']);
    assert.match(negative.json.fields.numCpus, /numCpus must be a number >= 0/);
    const missing = await api('POST', '/api/backends', { name: 'cluster', kind: 'slurm', cpusPerNode: 'two' });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.fields.loginHost, 'required');
    assert.match(missing.json.fields.cpusPerNode, /number/);
    const unknown = await api('POST', '/api/backends', { name: 'odd', kind: 'local', colour: 'red' });
    assert.deepEqual(Object.keys(unknown.json.fields), ['colour']);
    const badKind = await api('POST', '/api/backends', { name: 'k', kind: 'mainframe' });
    assert.ok(badKind.json.fields.kind);
    // A message of the kind's own validator (past the schema's checks) is mapped to its field.
    const badHost = await api('POST', '/api/backends', { name: 'h', kind: 'ssh', hosts: ['a b c'] });
    assert.equal(badHost.status, 400);
    assert.ok(badHost.json.fields.hosts, JSON.stringify(badHost.json));
    assert.equal(
      (await api('GET', '/api/backends')).json.some((b: { name: string }) =>
        ['bad', 'cluster', 'odd', 'k', 'h'].includes(b.name),
      ),
      false,
    );
  });

  test('a placement rule set by PUT sends tasks submitted afterwards to the backend it requires; the preview shows where each function goes', async () => {
    const onLab = remote({ name: 'onLab', numCpus: 1 }, () => process.pid);
    const before = onLab.remote();
    await get(before);
    const rules = [{ match: { name: 'onLab' }, require: { backend: 'lab' } }];
    const put = await api('PUT', '/api/placement-rules', rules);
    assert.equal(put.status, 200);
    assert.deepEqual(put.json, rules);
    assert.deepEqual((await api('GET', '/api/placement-rules')).json, rules);
    assert.deepEqual(configFile().placementRules, rules);
    const after = onLab.remote();
    await get(after);
    const labNode = ((await api('GET', '/api/nodes')).json as { nodeId: string; backend: string }[]).find(
      (n) => n.backend === 'lab',
    )!.nodeId;
    const d = (await api('GET', `/api/tasks/${after.id}`)).json;
    assert.equal(d.task.nodeId, labNode);
    assert.equal(d.task.backend, 'lab');
    assert.equal(d.task.ruleIndex, 0);
    assert.deepEqual(d.placementRule, { index: 0, rule: rules[0] });
    const early = (await api('GET', `/api/tasks/${before.id}`)).json;
    assert.equal(early.task.backend, 'local', 'a task submitted before the rule ran where it could');
    assert.equal(early.placementRule, undefined);

    const invalid = await api('PUT', '/api/placement-rules', [{ match: { kind: 'quantum' } }]);
    assert.equal(invalid.status, 400);
    assert.match(invalid.json.error, /placementRules\[0\]\.match\.kind must be one of/);
    assert.deepEqual((await api('GET', '/api/placement-rules')).json, rules, 'a refused list changes nothing');

    const preview = await api('POST', '/api/placement-rules/preview', {
      rules: [{ match: { name: 'detail*' }, require: { labels: { zone: 'lab' } } }],
    });
    assert.equal(preview.status, 200);
    const byName = new Map(
      (
        preview.json.functions as {
          name: string;
          kind: string;
          ruleIndex: number | null;
          backend: string | null;
          labels?: Record<string, string>;
          candidates: string[];
        }[]
      ).map((f) => [f.name, f]),
    );
    assert.deepEqual(byName.get('detailAdd'), {
      name: 'detailAdd',
      kind: 'function',
      ruleIndex: 0,
      backend: null,
      labels: { zone: 'lab' },
      candidates: ['lab'],
      ownBackend: null,
    });
    assert.deepEqual(byName.get('onLab'), {
      name: 'onLab',
      kind: 'function',
      ruleIndex: null,
      backend: null,
      candidates: ['local', 'lab'],
      ownBackend: null,
    });
    assert.deepEqual(preview.json.rules, [{ index: 0, candidates: ['lab'] }]);
    assert.equal((await api('POST', '/api/placement-rules/preview', { rules: 'all' })).status, 400);
  });

  test('POST /api/backends/:name/test runs the backend check; DELETE removes a backend, its node leaves, local stays', async () => {
    const t = await api('POST', '/api/backends/lab/test');
    assert.equal(t.status, 200);
    assert.equal(t.json.ok, true, JSON.stringify(t.json));
    assert.ok(
      t.json.lines.some((l: string) => /node .*labels \{[^}]*"zone":"lab"/.test(l)),
      t.json.lines.join('\n'),
    );
    assert.equal((await api('POST', '/api/backends/nope/test')).status, 404);
    assert.equal((await api('DELETE', '/api/backends/local')).status, 400);
    // Rules that name the backend are the user's to change; drop them first so later tests run anywhere.
    assert.equal((await api('PUT', '/api/placement-rules', [])).status, 200);
    const del = await api('DELETE', '/api/backends/lab');
    assert.equal(del.status, 204);
    const nodes = (await api('GET', '/api/nodes')).json as { backend: string; state: string }[];
    assert.deepEqual(
      nodes.filter((n) => n.backend === 'lab').map((n) => n.state),
      ['DEAD'],
    );
    assert.deepEqual(
      (await api('GET', '/api/backends')).json.map((b: { name: string }) => b.name),
      ['local'],
    );
    assert.deepEqual(configFile().backends, []);
    assert.equal((await api('DELETE', '/api/backends/lab')).status, 404);
  });

  test('PUT replaces a backend: the old one stops, the new config starts', async () => {
    assert.equal((await api('POST', '/api/backends', { name: 'spare', kind: 'local', numCpus: 1 })).status, 201);
    const oldNode = await until('the spare node', async () =>
      ((await api('GET', '/api/nodes')).json as { nodeId: string; backend: string; state: string }[]).find(
        (n) => n.backend === 'spare' && n.state === 'ALIVE',
      ),
    );
    const r = await api('PUT', '/api/backends/spare', { kind: 'local', numCpus: 1, labels: { v: '2' } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.config, { kind: 'local', numCpus: 1, labels: { v: '2' }, name: 'spare' });
    const nodes = (await api('GET', '/api/nodes')).json as {
      nodeId: string;
      backend: string;
      state: string;
      labels: Record<string, string>;
    }[];
    assert.equal(nodes.find((n) => n.nodeId === oldNode.nodeId)?.state, 'DEAD');
    assert.equal(nodes.find((n) => n.backend === 'spare' && n.state === 'ALIVE')?.labels.v, '2');
    assert.equal((await api('PUT', '/api/backends/spare', { name: 'other', kind: 'local' })).status, 400);
    assert.equal((await api('DELETE', '/api/backends/spare')).status, 204);
  });

  test('the backend schemas list every built-in kind, and each field is one its validator accepts', async () => {
    const r = await api('GET', '/api/backend-schemas');
    assert.deepEqual(Object.keys(r.json).sort(), [
      'braket',
      'ibm-quantum',
      'local',
      'quantum-simulator',
      'sagemaker',
      'slurm',
      'ssh',
    ]);
    assert.deepEqual(r.json, JSON.parse(JSON.stringify(BACKEND_SCHEMAS)));
    assert.equal(r.json['ibm-quantum'].fields.find((f: { name: string }) => f.name === 'apiKeySecret').secret, true);
    for (const [kind, schema] of Object.entries(BACKEND_SCHEMAS)) {
      for (const f of schema.fields) {
        // A key the validator does not know is refused as "unknown key <field>"; any other complaint means it is known.
        const err = await createBackend({
          name: 'probe',
          kind,
          [f.name]: f.name === 'name' ? 'probe' : Symbol('x'),
        }).then(
          () => undefined,
          (e: Error) => e.message,
        );
        assert.doesNotMatch(err ?? '', new RegExp(`unknown key ${f.name}\\b`), `${kind}.${f.name}`);
      }
    }
  });

  test('secrets go into the OS keychain only: stored, never echoed, in no file under ORRERY_HOME, deleted', async () => {
    const name = `dashboard-test-${randomBytes(4).toString('hex')}`;
    const value = `s3cr3t-${randomBytes(16).toString('hex')}`;
    const r = await api('POST', '/api/secrets', { name, value });
    assert.equal(r.status, 204);
    assert.equal(r.bytes.length, 0);
    assert.equal(new Entry('orrery', name).getPassword(), value);
    await sleep(200);
    for (const f of filesUnder(home)) assert.equal(readFileSync(f).includes(value), false, `${f} holds the secret`);
    const bad = await api('POST', '/api/secrets', { name: 'no spaces allowed', value });
    assert.equal(bad.status, 400);
    assert.equal(JSON.stringify(bad.json).includes(value), false);
    assert.equal((await api('POST', '/api/secrets', { name })).json.fields.value !== undefined, true);
    assert.equal((await api('DELETE', `/api/secrets/${name}`)).status, 204);
    assert.equal(new Entry('orrery', name).getPassword(), null);
  });

  test('a circuit task on a quantum-simulator backend has its measurement counts as result json', async () => {
    assert.equal(
      (await api('POST', '/api/backends', { name: 'qsim', kind: 'quantum-simulator', seed: 5 })).status,
      201,
    );
    const ref: ObjectRef<{ counts: Record<string, number> }> = circuit({ backend: 'qsim', shots: 500 }).remote(BELL);
    const r = await get(ref);
    const d = (await api('GET', `/api/tasks/${ref.id}`)).json;
    assert.equal(d.task.kind, 'circuit');
    assert.equal(d.task.backend, 'qsim');
    assert.deepEqual(d.result.json.counts, r.counts);
    assert.deepEqual(Object.keys(d.result.json.counts).sort(), ['00', '11']);
    assert.equal(d.result.json.counts['00'] + d.result.json.counts['11'], 500);
  });
});

describe('the dashboard files', () => {
  test('a build is served from its directory with content types and the CSP; nothing outside it is reachable', async () => {
    const root = tempDir('renderer-dist');
    const dist = join(root, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><script src="/assets/app-1.js"></script>');
    writeFileSync(join(dist, 'assets', 'app-1.js'), 'console.log(1)');
    writeFileSync(join(dist, 'assets', 'app-1.css'), 'body{}');
    writeFileSync(join(dist, '..', 'outside.txt'), 'secret');
    const srv = createServer((req, res) => {
      if (!serveDashboardFile(req, res, new URL(req.url ?? '/', 'http://x'), dist)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const at = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const index = await fetch(`${at}/`);
      assert.equal(index.headers.get('content-security-policy'), DASHBOARD_CSP);
      assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(await index.text(), '<!doctype html><script src="/assets/app-1.js"></script>');
      const js = await fetch(`${at}/assets/app-1.js`);
      assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal(await js.text(), 'console.log(1)');
      assert.equal((await fetch(`${at}/assets/app-1.css`)).headers.get('content-type'), 'text/css; charset=utf-8');
      for (const p of [
        '/assets/%2e%2e/%2e%2e/outside.txt',
        '/%2e%2e/outside.txt',
        '/assets/missing.js',
        '/other/x.js',
      ]) {
        assert.equal((await fetch(`${at}${p}`)).status, 404, p);
      }
    } finally {
      srv.close();
    }
  });
});
