/**
 * Client mode against a real `orrery start` child process: drivers in other processes (and in
 * this one) connect over the WebSocket, each as its own job with its own tasks, objects and logs.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { init, shutdown, isInitialized, remote, get, put, getRuntimeContext } from 'orrery-compute';
import { checkDuplicateActorName, tempDir, until, sleep } from './helpers.ts';

interface HeadInfo {
  address: string;
  url: string;
  token: string;
  pid: number;
}

/** Starts `orrery start --port 0` with its own ORRERY_HOME; resolves once head.json names it. */
async function startService(
  home: string,
): Promise<{ child: ChildProcess; info: HeadInfo; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'orchestrator/cli/main.ts', 'start', '--port', '0'], {
    env: { ...process.env, ORRERY_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const file = join(home, 'head.json');
  await until(
    'the service to write head.json',
    () => {
      if (child.exitCode !== null) throw new Error(`orrery start exited with ${child.exitCode}`);
      return existsSync(file) && /dashboard:/.test(out);
    },
    60_000,
  );
  return { child, info: JSON.parse(readFileSync(file, 'utf8')) as HeadInfo, exited };
}

/** Runs a fixture driver; resolves with its exit code and output. */
function driver(
  script: string,
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }>; stdout(): string } {
  const child = spawn(process.execPath, ['--import', 'tsx', `test/integration/fixtures/${script}`, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) =>
    child.once('exit', (code) => r({ code, stdout, stderr })),
  );
  return { child, done, stdout: () => stdout };
}

function resultOf(stdout: string): { tag: string; jobId: string; tasks: string[]; values: string[]; counts: string[] } {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no RESULT line in ${stdout}`);
  return JSON.parse(line.slice(7));
}

/** What driver-work.ts must print for `tag` and `n`, computed here independently. */
function expected(tag: string, n: number): { tasks: string[]; values: string[]; counts: string[] } {
  const tasks: string[] = [];
  const values: string[] = [];
  const counts: string[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    tasks.push(`${tag}:${i * i}`);
    values.push(`${tag}/${i}/2048/${i}`);
    total += i + 1;
    counts.push(`${tag}=${total}`);
  }
  return { tasks, values, counts };
}

async function api<T>(info: HeadInfo, path: string): Promise<T> {
  const r = await fetch(info.url + path, { headers: { Authorization: `Bearer ${info.token}` } });
  assert.equal(r.status, 200, path);
  return (await r.json()) as T;
}

describe('client mode', () => {
  const home = tempDir('client');
  let svc: Awaited<ReturnType<typeof startService>>;
  const savedHome = process.env.ORRERY_HOME;
  before(async () => {
    svc = await startService(home);
    process.env.ORRERY_HOME = home;
  });
  after(async () => {
    if (savedHome === undefined) delete process.env.ORRERY_HOME;
    else process.env.ORRERY_HOME = savedHome;
    svc.child.kill('SIGTERM');
    assert.equal(await svc.exited, 0);
    assert.ok(!existsSync(join(home, 'head.json')));
  });

  test('two drivers in other processes at once: tasks, objects and actors, each with its own results and logs', async () => {
    const a = driver('driver-work.ts', ['alpha', '6'], {
      ORRERY_HOME: home,
      ORRERY_ADDRESS: svc.info.address,
      ORRERY_TOKEN: svc.info.token,
    });
    const b = driver('driver-work.ts', ['beta', '5', 'auto'], { ORRERY_HOME: home });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const alpha = resultOf(ra.stdout);
    const beta = resultOf(rb.stdout);
    assert.deepEqual({ tasks: alpha.tasks, values: alpha.values, counts: alpha.counts }, expected('alpha', 6));
    assert.deepEqual({ tasks: beta.tasks, values: beta.values, counts: beta.counts }, expected('beta', 5));
    assert.notEqual(alpha.jobId, beta.jobId);
    // Each driver sees the output of its own tasks, and only that.
    for (let i = 0; i < 6; i++)
      assert.match(ra.stdout, new RegExp(`^\\(label-alpha node=\\w+\\) task alpha-${i} ran$`, 'm'));
    for (let i = 0; i < 5; i++)
      assert.match(rb.stdout, new RegExp(`^\\(label-beta node=\\w+\\) task beta-${i} ran$`, 'm'));
    assert.doesNotMatch(ra.stdout, /beta/);
    assert.doesNotMatch(rb.stdout, /alpha/);
    // The head recorded each driver's tasks under its own job.
    const tasks = await api<{ name: string; jobId: string; state: string }[]>(
      svc.info,
      '/api/tasks?filter=name=label-alpha',
    );
    assert.equal(tasks.length, 6);
    assert.ok(tasks.every((t) => t.jobId === alpha.jobId && t.state === 'FINISHED'));
    const betaTasks = await api<{ jobId: string }[]>(
      svc.info,
      `/api/tasks?filter=jobId=${beta.jobId}&filter=type=NORMAL_TASK`,
    );
    assert.equal(betaTasks.length, 5);
    const status = await api<{ drivers: number }>(svc.info, '/api/status');
    assert.equal(status.drivers, 0);
  });

  test('a driver that disconnects mid-run has its tasks cancelled; another driver goes on', async () => {
    const cpus = availableParallelism();
    const markers = tempDir('hang');
    const hang = driver('driver-hang.ts', [markers, String(cpus + 4)], {
      ORRERY_ADDRESS: svc.info.address,
      ORRERY_TOKEN: svc.info.token,
    });
    await until('the hanging driver to submit', () => hang.stdout().includes('READY'), 30_000);
    const { jobId, ids } = JSON.parse(hang.stdout().split('READY ')[1]!.split('\n')[0]!) as {
      jobId: string;
      ids: string[];
    };
    await until('its first tasks to hold every CPU', () => readdirSync(markers).length === cpus, 30_000);
    // This driver's work queues behind the hanging driver's, then runs once that one is gone.
    const other = driver('driver-work.ts', ['gamma', '4'], {
      ORRERY_ADDRESS: svc.info.address,
      ORRERY_TOKEN: svc.info.token,
    });
    await until(
      'the other driver’s tasks to be queued',
      async () => (await api<unknown[]>(svc.info, '/api/tasks?filter=name=label-gamma')).length === 4,
      30_000,
    );
    hang.child.kill('SIGKILL');
    const res = await other.done;
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(resultOf(res.stdout).tasks, expected('gamma', 4).tasks);
    const rows = await api<{ taskId: string; state: string; errorType: string; jobId: string }[]>(
      svc.info,
      `/api/tasks?filter=jobId=${jobId}`,
    );
    assert.deepEqual(rows.map((r) => r.taskId).sort(), [...ids].sort());
    for (const r of rows) assert.deepEqual([r.state, r.errorType], ['FAILED', 'TaskCancelledError'], r.taskId);
    // The queued ones never started.
    await sleep(300);
    assert.equal(readdirSync(markers).length, cpus);
  });

  test('init() in this process: put, tasks, actors; shutdown() disconnects only and ends the job', async () => {
    const ctx = await init({ address: svc.info.address, token: svc.info.token, namespace: 'lab', logToDriver: false });
    assert.equal(ctx.namespace, 'lab');
    assert.equal(getRuntimeContext().jobId, ctx.jobId);
    const data = new Float64Array(4096).map((_, i) => i / 2);
    const ref = put(data);
    const sum = remote({ name: 'sum' }, (xs: Float64Array) => xs.reduce((s, x) => s + x, 0));
    assert.equal(
      await get(sum.remote(ref)),
      data.reduce((s, x) => s + x, 0),
    );
    assert.deepEqual(await get(ref), data);
    class Box {
      v = 0;
      set(x: number) {
        this.v = x;
        return this.v;
      }
    }
    const B = remote(Box);
    const kept = B.options({ name: 'kept', lifetime: 'detached' }).remote();
    const temp = B.options({ name: 'temp' }).remote();
    assert.deepEqual(await get([kept.set.remote(1), temp.set.remote(2)]), [1, 2]);
    await shutdown();
    assert.equal(isInitialized(), false);
    await until(
      'the driver’s job to end on the head',
      async () => {
        const actors = await api<{ name: string; state: string; namespace: string }[]>(
          svc.info,
          '/api/actors?filter=namespace=lab',
        );
        const state = Object.fromEntries(actors.map((x) => [x.name, x.state]));
        return state.temp === 'DEAD' && state.kept === 'ALIVE';
      },
      15_000,
    );
    const status = await api<{ nodes: { state: string }[]; drivers: number }>(svc.info, '/api/status');
    assert.equal(status.drivers, 0);
    assert.equal(status.nodes.filter((n) => n.state === 'ALIVE').length, 1);
  });

  test('a refused request fails for its caller as in embedded mode: a duplicate actor name, from this driver and from its task', async () => {
    await init({ address: svc.info.address, token: svc.info.token, logToDriver: false });
    try {
      await checkDuplicateActorName('dup-over-websocket');
    } finally {
      await shutdown();
    }
  });

  test('init() errors: closed port, wrong token, no head for auto, head-side options', async () => {
    const port = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    await assert.rejects(init({ address: `ws://127.0.0.1:${port}`, token: 'x' }), {
      name: 'HeadUnreachableError',
      message: `no Orrery head at ws://127.0.0.1:${port}: connection refused; start one with \`orrery start\``,
    });
    await assert.rejects(init({ address: svc.info.address, token: 'not-the-token' }), (err: Error) => {
      assert.equal(err.name, 'HeadAuthError');
      assert.match(err.message, /^the head refused the token \(401\)/);
      assert.ok(!err.message.includes(svc.info.token));
      return true;
    });
    await assert.rejects(
      init({ address: svc.info.address, numCpus: 2 }),
      /numCpus configures a head, but this driver connects to the running head/,
    );
    await assert.rejects(init({ address: 'http://127.0.0.1:1' }), /must start with ws:\/\//);
    process.env.ORRERY_HOME = tempDir('nohead');
    try {
      await assert.rejects(
        init({ address: 'auto' }),
        /^NoHeadRunningError: no head is running .*start one with `orrery start`$/,
      );
      await assert.rejects(
        init({ address: 'ws://127.0.0.1:1' }),
        /no token for the head at ws:\/\/127\.0\.0\.1:1: pass init\(\{ token \}\) or set ORRERY_TOKEN/,
      );
    } finally {
      process.env.ORRERY_HOME = home;
    }
    assert.equal(isInitialized(), false);
  });
});
