/**
 * Monitoring on a real head service (HeadService in this process, port 0, a temporary
 * ORRERY_HOME) with real local agents: the usage history per node (CPU and memory sampled by
 * the agents, GPUs through `nvidia-smi`), served by GET /api/usage and the events snapshot and
 * recorded in the session; node log lines kept by the head and by the session; cost reported
 * by tasks summed per backend; and GET /metrics scraped over HTTP in Prometheus' text format.
 *
 * This machine has no GPU: a stand-in `nvidia-smi` (fake-nvidia-smi.ts, first on PATH for the
 * agents) prints what driver 535 prints for `--query-gpu=... --format=csv,noheader,nounits` on
 * a node with two H100s, and refuses anything else as the real tool does.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { WebSocket } from 'ws';
import { init, shutdown, remote, get } from 'orrery-compute';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { SessionStore } from '../../orchestrator/sessions/index.ts';
import { headApi, tempDir, until } from './helpers.ts';
import { installFakeNvidiaSmi } from './fake-nvidia-smi.ts';

const home = tempDir('monitoring');
process.env.ORRERY_HOME = home;

let service: HeadService;
let base: string;
let token: string;
let serviceStartedAt = 0;

const api = (method: string, path: string, auth = true) => headApi({ url: base, token }, method, path, undefined, auth);

interface Sample {
  nodeId: string;
  t: number;
  cpu?: number;
  memUsedBytes?: number;
  memTotalBytes?: number;
  gpus?: number;
  gpuUtil?: number;
  gpuMemUsedMb?: number;
  gpuMemTotalMb?: number;
}

/** Parses Prometheus' text exposition format into samples (name, labels, value); checks every line's form. */
function parseExposition(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = Object.create(null);
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    const body = m[2] ?? '';
    let lm: RegExpExecArray | null;
    let consumed = 0;
    while ((lm = re.exec(body)) !== null) {
      labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      consumed = re.lastIndex;
    }
    assert.equal(consumed, body.length, `labels of ${line}`);
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    assert.ok(!Number.isNaN(value) || m[3] === 'NaN', `value of ${line}`);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

before(async () => {
  // Agents are child processes of this one and inherit its PATH.
  installFakeNvidiaSmi(home);
  service = await HeadService.start({
    port: 0,
    numCpus: 2,
    session: 'monitoring-run',
    backends: [
      { name: 'lab', kind: 'local', numCpus: 1 },
      { name: 'qsim', kind: 'quantum-simulator', maxConcurrent: 3 },
    ],
    log: () => {},
  });
  serviceStartedAt = Date.now();
  base = service.info.url;
  token = service.info.token;
  await init({ address: service.info.address, token, logToDriver: false });
});

after(async () => {
  await shutdown();
  await service.stop();
});

describe('monitoring', () => {
  test('the head keeps usage per node with GPUs from nvidia-smi, serves it, sends it in the snapshot and records it', async () => {
    const nodes = (await api('GET', '/api/nodes')).json as { nodeId: string; backend: string; resources: any }[];
    const local = nodes.find((n) => n.backend === 'local')!;
    assert.equal(local.resources.GPU, 2, 'the agent found the two GPUs through nvidia-smi');
    const samples = await until(
      'two usage samples with GPUs for the local node',
      async () => {
        const r = await api('GET', `/api/usage?node=${local.nodeId}`);
        assert.equal(r.status, 200);
        const s = (r.json.samples as Sample[]).filter((x) => x.gpus !== undefined);
        return s.length >= 2 && s;
      },
      20_000,
    );
    const s = samples[samples.length - 1]!;
    assert.equal(s.nodeId, local.nodeId);
    assert.equal(s.gpus, 2);
    assert.equal(s.gpuUtil, 50, 'the mean of 37 % and 63 %');
    assert.equal(s.gpuMemUsedMb, 20480 + 40960);
    assert.equal(s.gpuMemTotalMb, 2 * 81559);
    assert.ok(s.cpu! >= 0 && s.cpu! <= 1, `cpu ${s.cpu}`);
    assert.equal(s.memTotalBytes, totalmem());
    assert.ok(s.memUsedBytes! > 0 && s.memUsedBytes! <= totalmem());
    assert.ok(samples[1]!.t - samples[0]!.t >= 1500, 'one sample per 2 s');
    // Every live node gets samples, the second backend's too.
    const all = (await api('GET', '/api/usage')).json.samples as Sample[];
    assert.deepEqual(new Set(all.map((x) => x.nodeId)), new Set(nodes.map((n) => n.nodeId)));
    // since in the future: none; a bad since: 400 naming the field.
    assert.equal((await api('GET', `/api/usage?since=${Date.now() + 60_000}`)).json.samples.length, 0);
    const bad = await api('GET', '/api/usage?since=yesterday');
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /since/);

    // A dashboard that connects (or reloads) gets the history in its snapshot, and the
    // cluster-wide samples (one a second) of the last hour.
    // The head samples cluster usage once a second from its start, page or not: give it three.
    await new Promise((r) => setTimeout(r, Math.max(0, serviceStartedAt + 3500 - Date.now())));
    const firstConnect = Date.now();
    const firstPage = await new Promise<any[]>((resolve, reject) => {
      const ws = new WebSocket(`${service.info.address}/api/events`, ['orrery', `orrery.token.${token}`]);
      const got: any[] = [];
      ws.on('message', (d: Buffer) => {
        got.push(JSON.parse(d.toString('utf8')));
        if (got.filter((m) => m.usage).length >= 2) {
          ws.close();
          resolve(got);
        }
      });
      ws.once('error', reject);
    });
    const sent = firstPage.filter((m) => m.usage).map((m) => m.usage.t);
    // Cluster-wide samples are taken with no page open too: the first page's snapshot has them.
    const beforeAnyPage = (firstPage[0].clusterUsage as { t: number }[]).filter((u) => u.t < firstConnect);
    assert.ok(beforeAnyPage.length >= 2, `cluster usage samples from before the first page: ${beforeAnyPage.length}`);
    const snapshot = await new Promise<any>((resolve, reject) => {
      const ws = new WebSocket(`${service.info.address}/api/events`, ['orrery', `orrery.token.${token}`]);
      ws.once('message', (d: Buffer) => {
        resolve(JSON.parse(d.toString('utf8')));
        ws.close();
      });
      ws.once('error', reject);
    });
    assert.equal(snapshot.type, 'snapshot');
    const kept = (snapshot.clusterUsage as { t: number }[]).map((u) => u.t);
    for (const t of sent) assert.ok(kept.includes(t), `cluster usage sample ${t} is in the next snapshot`);
    assert.ok((snapshot.usageHistory as Sample[]).filter((x) => x.nodeId === local.nodeId && x.gpus === 2).length >= 2);

    // The session has them (a replay draws the same chart).
    const recorded = await until(
      'usage in the session',
      async () => {
        const r = await api('GET', '/api/sessions/monitoring-run/usage');
        assert.equal(r.status, 200);
        return (
          (r.json.samples as Sample[]).filter((x) => x.nodeId === local.nodeId && x.gpuUtil === 50).length >= 2 &&
          r.json.samples
        );
      },
      10_000,
    );
    assert.ok((recorded as Sample[]).every((x) => typeof x.t === 'number' && typeof x.nodeId === 'string'));
  });

  test('a quantum node reports its QPU slots in use, and every route answers 401 without the token', async () => {
    const qsim = ((await api('GET', '/api/nodes')).json as { nodeId: string; backend: string }[]).find(
      (n) => n.backend === 'qsim',
    )!;
    const s = await until('a QPU sample', async () => {
      const r = await api('GET', `/api/usage?node=${qsim.nodeId}`);
      return (r.json.samples as { qpuTotal?: number; qpuUsed?: number; queued?: number }[]).at(-1);
    });
    assert.equal(s.qpuTotal, 3);
    assert.equal(s.qpuUsed, 0);
    assert.equal(s.queued, 0);
    for (const path of [
      '/api/usage',
      '/api/node-logs/x',
      '/api/cost',
      '/api/sessions/monitoring-run/usage',
      '/api/sessions/monitoring-run/node-logs/x',
      '/api/sessions/monitoring-run/cost',
    ]) {
      const r = await api('GET', path, false);
      assert.equal(r.status, 401, path);
      assert.match(r.json.error, /token/);
    }
  });

  test('node log lines are kept by the head and by the session', async () => {
    const chatty = remote({ name: 'chattyNode' }, (n: number) => {
      for (let i = 0; i < n; i++) console.log(`node line ${i}`);
      console.error('node warning');
      return n;
    });
    assert.equal(await get(chatty.remote(5)), 5);
    const tasks = (await api('GET', '/api/tasks?filter=name=chattyNode')).json as { taskId: string; nodeId: string }[];
    const nodeId = tasks[0]!.nodeId;
    const live = await until('the node lines on the head', async () => {
      const r = await api('GET', `/api/node-logs/${nodeId}`);
      const lines = r.json.lines as { text: string; taskId?: string; stream: string; t: number }[];
      return lines.some((l) => l.text === 'node warning') && lines;
    });
    const mine = live.filter((l) => l.taskId === tasks[0]!.taskId);
    assert.deepEqual(
      mine.filter((l) => l.stream === 'stdout').map((l) => l.text),
      [0, 1, 2, 3, 4].map((i) => `node line ${i}`),
    );
    assert.equal(mine.find((l) => l.text === 'node warning')?.stream, 'stderr');
    const recorded = await until('the node lines in the session', async () => {
      const r = await api('GET', `/api/sessions/monitoring-run/node-logs/${nodeId}`);
      assert.equal(r.status, 200);
      return (r.json.lines as { text: string }[]).some((l) => l.text.includes('node warning')) && r.json.lines;
    });
    assert.ok((recorded as { text: string }[]).some((l) => l.text.includes('node line 4')));
  });

  test('cost reported by tasks is summed per backend and per session', async () => {
    const billed = remote({ name: 'billed' }, async (usd: number) => {
      const { recordTaskInfo } = await import('orrery-compute');
      recordTaskInfo({ costUsd: usd });
      return usd;
    });
    await Promise.all([
      get(billed.options({ backend: 'lab' }).remote(0.25)),
      get(billed.options({ backend: 'lab' }).remote(0.5)),
      get(billed.options({ backend: 'local' }).remote(0.125)),
    ]);
    const cost = await until('the cost of three tasks', async () => {
      const r = await api('GET', '/api/cost');
      return r.json.tasks === 3 && r.json;
    });
    assert.equal(cost.totalUsd, 0.875);
    assert.deepEqual(cost.byBackend, [
      { backend: 'lab', usd: 0.75, tasks: 2 },
      { backend: 'local', usd: 0.125, tasks: 1 },
    ]);
    const recorded = await until('the cost in the session', async () => {
      const r = await api('GET', '/api/sessions/monitoring-run/cost');
      return r.json.tasks === 3 && r.json;
    });
    assert.deepEqual(recorded, cost);
    const row = ((await api('GET', '/api/sessions')).json as { name: string; costUsd?: number }[]).find(
      (s) => s.name === 'monitoring-run',
    );
    assert.equal(row?.costUsd, 0.875);
    assert.deepEqual((await api('GET', '/api/sessions/monitoring-run')).json.cost, cost);
  });

  test('GET /metrics serves the exposition format to the token holder only', async () => {
    for (const [what, init] of [
      ['no credential', {}],
      ['a wrong token', { headers: { Authorization: 'Bearer nope' } }],
    ] as const) {
      const r = await fetch(`${base}/metrics`, init);
      assert.equal(r.status, 401, what);
      assert.match(((await r.json()) as { error: string }).error, /token/);
    }
    // A dashboard login (session cookie) is not enough: a scraper holds the token.
    const login = (await headApi({ url: base, token }, 'POST', '/api/login-codes')).json as { url: string };
    const loggedIn = await fetch(login.url, { redirect: 'manual' });
    const cookie = (loggedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    assert.match(cookie, /^orrery-session-\d+=/);
    assert.equal((await fetch(`${base}/api/cost`, { headers: { Cookie: cookie } })).status, 200, 'the cookie works');
    const byCookie = await fetch(`${base}/metrics`, { headers: { Cookie: cookie } });
    assert.equal(byCookie.status, 401);
    assert.match(((await byCookie.json()) as { error: string }).error, /Bearer/);
    const inUrl = await fetch(`${base}/metrics?token=${token}`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(inUrl.status, 401, 'a token in the URL is refused even next to a good header');
    const r = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    assert.match(text, /^# TYPE orrery_tasks_finished_total counter$/m);
    assert.match(text, /^# TYPE orrery_tasks gauge$/m);
    const samples = parseExposition(text);
    const one = (name: string, labels: Record<string, string> = {}) => {
      const found = samples.filter(
        (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      );
      assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}: ${found.length} samples`);
      return found[0]!.value;
    };
    const finished = one('orrery_tasks', { state: 'FINISHED' });
    assert.ok(finished >= 4, `finished tasks ${finished}`);
    assert.equal(one('orrery_tasks_finished_total'), finished);
    assert.equal(one('orrery_tasks_failed_total'), 0);
    assert.equal(one('orrery_queue_length'), 0);
    assert.equal(one('orrery_nodes', { backend: 'local' }), 1);
    assert.equal(one('orrery_nodes', { backend: 'lab' }), 1);
    const nodes = (await api('GET', '/api/nodes')).json as { nodeId: string; backend: string }[];
    const local = nodes.find((n) => n.backend === 'local')!.nodeId;
    assert.equal(one('orrery_node_gpus', { node: local, backend: 'local' }), 2);
    assert.equal(one('orrery_node_gpu_utilization_ratio', { node: local }), 0.5);
    assert.equal(one('orrery_node_gpu_memory_used_bytes', { node: local }), 61440 * 1024 * 1024);
    assert.equal(one('orrery_node_memory_total_bytes', { node: local }), totalmem());
    const cpu = one('orrery_node_cpu_ratio', { node: local });
    assert.ok(cpu >= 0 && cpu <= 1);
    assert.ok(one('orrery_object_store_bytes') >= 0);
    const qsim = nodes.find((n) => n.backend === 'qsim')!.nodeId;
    assert.equal(one('orrery_node_qpu_slots', { node: qsim, backend: 'qsim' }), 3);
    assert.equal(one('orrery_node_qpu_slots_used', { node: qsim }), 0);
    assert.equal(one('orrery_nodes', { backend: 'qsim' }), 1);
    assert.equal(one('orrery_cost_usd_total', { backend: 'lab' }), 0.75);
    assert.equal(one('orrery_cost_usd_total', { backend: 'local' }), 0.125);
    assert.ok(one('orrery_head_process_resident_memory_bytes') > 0, 'the process metrics are there too');
  });

  test('a stopped service leaves the usage, node logs and cost in its session', async () => {
    const nodes = (await api('GET', '/api/nodes')).json as { nodeId: string; backend: string }[];
    const local = nodes.find((n) => n.backend === 'local')!.nodeId;
    await shutdown();
    await service.stop();
    const r = new SessionStore().open('monitoring-run');
    try {
      const usage = r.usage();
      assert.ok(usage.filter((s) => s.nodeId === local && s.gpus === 2).length >= 2);
      assert.ok(r.nodeLogs(local).some((l) => l.text.includes('node line 0')));
      assert.equal(r.cost().totalUsd, 0.875);
    } finally {
      r.close();
    }
    // after() stops them again: both are idempotent.
  });
});
