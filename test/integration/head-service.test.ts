/**
 * `orrery start` as a real child process: head.json, the token on every /api/ path and on the
 * WebSocket, the Origin check, the CLI commands around the service, and `orrery stop`.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { FrameDecoder } from '../../orchestrator/protocol/frames.ts';
import { tempDir, until, alive } from './helpers.ts';

const MAIN = 'orchestrator/cli/main.ts';

interface HeadInfo {
  address: string;
  url: string;
  token: string;
  pid: number;
  startedAt: string;
}

interface Service {
  child: ChildProcess;
  info: HeadInfo;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts `orrery start --port 0` with its own ORRERY_HOME; resolves once head.json names it. */
async function startService(home: string): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--port', '0'], {
    env: { ...process.env, ORRERY_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const file = join(home, 'head.json');
  await until(
    'the service to write head.json',
    () => {
      if (child.exitCode !== null) throw new Error(`orrery start exited with ${child.exitCode}: ${err}`);
      return (
        existsSync(file) &&
        /dashboard:/.test(out) &&
        (JSON.parse(readFileSync(file, 'utf8')) as HeadInfo).pid === child.pid
      );
    },
    60_000,
  );
  return {
    child,
    info: JSON.parse(readFileSync(file, 'utf8')) as HeadInfo,
    stdout: () => out,
    stderr: () => err,
    exited,
  };
}

/** Runs the CLI; resolves with its exit code and output. */
function orrery(
  home: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { env: { ...process.env, ORRERY_HOME: home, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Opens a WebSocket to the driver endpoint; resolves with the HTTP status it got (101 = open) and the first message's batch. */
function tryWs(
  url: string,
  opts: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<{ status: number; first?: unknown[] }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, opts.protocols ?? [], { headers: opts.headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('error', () => {});
    ws.on('message', (data: Buffer) => {
      const [batch] = new FrameDecoder().push(data);
      resolve({ status: 101, first: batch });
      ws.close();
    });
  });
}

describe('a running head service', () => {
  const home = tempDir('service');
  let svc: Service;
  before(async () => {
    svc = await startService(home);
  });
  after(async () => {
    if (svc.child.exitCode === null) {
      svc.child.kill('SIGTERM');
      await svc.exited;
    }
  });

  test('head.json holds address, url, token and pid, readable only by its owner; the token is printed nowhere, the dashboard line is a one-time login link', async () => {
    const { info } = svc;
    assert.match(info.address, /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(info.url, info.address.replace('ws://', 'http://'));
    assert.match(info.token, /^[0-9a-f]{64}$/);
    assert.equal(info.pid, svc.child.pid);
    assert.ok(Date.now() - Date.parse(info.startedAt) < 120_000);
    assert.equal(statSync(join(home, 'head.json')).mode & 0o777, 0o600);
    assert.equal(statSync(home).mode & 0o777, 0o700);
    // head.json is written before the banner: wait for its last line.
    for (let i = 0; i < 100 && !svc.stdout().includes('  session:'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!svc.stdout().includes(info.token));
    assert.ok(!svc.stderr().includes(info.token));
    const link = new RegExp(`^  dashboard: (${info.url}/login\\?code=[A-Za-z0-9_-]{43})$`, 'm').exec(svc.stdout())?.[1];
    assert.ok(link, svc.stdout());
    assert.match(svc.stdout(), /one-time login link, valid 2 minutes; another: orrery dashboard --url/);
    const login = await fetch(link, { redirect: 'manual' });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    assert.equal((await fetch(`${info.url}/api/status`, { headers: { Cookie: cookie } })).status, 200);
    assert.equal((await fetch(link, { redirect: 'manual' })).status, 401, 'the printed link works once');
  });

  test('every /api/ request without the right token gets 401, whatever the path', async () => {
    const { url, token } = svc.info;
    const wrong = token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    const paths = [
      '/api/status',
      '/api/tasks',
      '/api/nodes?limit=1',
      '/api/summary/tasks',
      '/api/logs/abc',
      '/api/no/such/path',
      '/api/',
      '/api/shutdown',
    ];
    for (const p of paths) {
      for (const [how, init] of [
        ['no token', {}],
        ['wrong bearer', { headers: { Authorization: `Bearer ${wrong}` } }],
        ['short bearer', { headers: { Authorization: 'Bearer x' } }],
        ['basic auth', { headers: { Authorization: `Basic ${token}` } }],
      ] as const) {
        for (const method of ['GET', 'POST']) {
          const r = await fetch(url + p, { method, ...init });
          assert.equal(r.status, 401, `${method} ${p} with ${how}`);
        }
      }
      const q = await fetch(`${url}${p}${p.includes('?') ? '&' : '?'}token=${wrong}`);
      assert.equal(q.status, 401, `${p} with a wrong ?token=`);
    }
    assert.equal((await fetch(`${url}/api/status`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await fetch(`${url}/api/nodes?token=${token}`)).status, 401, 'the token is never taken from the URL');
    assert.equal(
      (await fetch(`${url}/api/no/such/path`, { headers: { Authorization: `Bearer ${token}` } })).status,
      404,
    );
    assert.equal(
      (
        await fetch(`${url}/api/status`, {
          headers: { Authorization: `Bearer ${token}`, Origin: 'http://evil.example' },
        })
      ).status,
      403,
    );
    assert.ok(alive(svc.info.pid), 'the refused POST /api/shutdown did not stop the head');
  });

  test('a WebSocket needs the token and no Origin or the head’s own', async () => {
    const { address, url, token } = svc.info;
    const driver = `${address}/api/driver`;
    assert.equal((await tryWs(driver)).status, 401);
    assert.equal((await tryWs(driver, { headers: { Authorization: `Bearer ${token.slice(1)}` } })).status, 401);
    assert.equal((await tryWs(`${driver}?token=nope`)).status, 401);
    assert.equal(
      (await tryWs(driver, { headers: { Authorization: `Bearer ${token}`, Origin: 'http://evil.example' } })).status,
      403,
    );
    assert.equal(
      (await tryWs(driver, { headers: { Authorization: `Bearer ${token}`, Origin: url.replace(/\d+$/, '1') } })).status,
      403,
    );
    const accepted: { headers: Record<string, string>; protocols?: string[] }[] = [
      { headers: { Authorization: `Bearer ${token}` } },
      { headers: { Authorization: `Bearer ${token}`, Origin: url } },
      { protocols: ['orrery', `orrery.token.${token}`], headers: { Origin: url.replace('127.0.0.1', 'localhost') } },
    ];
    for (const opts of accepted) {
      const r = await tryWs(driver, opts);
      assert.equal(r.status, 101, JSON.stringify(opts.headers.Origin ?? 'no origin'));
      const [welcome] = r.first as { type: string; requestId: number; value: { jobId: string; namespace: string } }[];
      assert.equal(welcome!.type, 'reply');
      assert.equal(welcome!.requestId, 0);
      assert.match(welcome!.value.jobId, /^[0-9a-f]{20}$/);
      assert.equal(welcome!.value.namespace, `anonymous-${welcome!.value.jobId}`);
    }
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Orrery/);
  });

  test('a second orrery start fails and names the running pid and address', async () => {
    const r = await orrery(home, ['start', '--port', '0']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(`pid ${svc.info.pid}`) && r.stderr.includes(svc.info.address), r.stderr);
  });

  test('orrery run runs a script against the head; list, summary and logs show its tasks', async () => {
    const run = await orrery(home, ['run', 'test/integration/fixtures/driver-work.ts', 'r', '3']);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(
      run.stdout
        .split('\n')
        .find((l) => l.startsWith('RESULT '))!
        .slice(7),
    ) as { jobId: string; tasks: string[] };
    assert.deepEqual(result.tasks, ['r:0', 'r:1', 'r:4']);
    for (let i = 0; i < 3; i++) assert.match(run.stdout, new RegExp(`\\(label-r node=\\w+\\) task r-${i} ran`));

    const list = await orrery(home, ['list', 'tasks', '--json', '--filter', 'name=label-r']);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as { taskId: string; state: string; jobId: string; name: string }[];
    assert.equal(rows.length, 3);
    for (const r of rows) {
      assert.equal(r.state, 'FINISHED');
      assert.equal(r.jobId, result.jobId);
    }
    const limited = JSON.parse(
      (await orrery(home, ['list', 'tasks', '--json', '--filter', 'name=label-r', '--limit', '2'])).stdout,
    ) as unknown[];
    assert.equal(limited.length, 2);
    const none = JSON.parse(
      (await orrery(home, ['list', 'tasks', '--json', '--filter', 'name=label-r', '--filter', 'state!=FINISHED']))
        .stdout,
    ) as unknown[];
    assert.equal(none.length, 0);
    const actors = JSON.parse(
      (await orrery(home, ['list', 'actors', '--json', '--filter', `jobId=${result.jobId}`])).stdout,
    ) as { className: string }[];
    assert.deepEqual(
      actors.map((a) => a.className),
      ['Counter'],
    );

    const table = await orrery(home, ['list', 'tasks', '--filter', 'name=label-r']);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^TASKID\s+NAME\s+TYPE\s+STATE/);
    assert.equal(lines.filter((l) => /^\w+\s+label-r\s+NORMAL_TASK\s+FINISHED/.test(l)).length, 3);

    const summary = await orrery(home, ['summary', 'tasks']);
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(summary.stdout, /^label-r\s+NORMAL_TASK\s+0\s+0\s+0\s+3\s+0$/m);
    assert.match(summary.stdout, /^Counter\.add\s+ACTOR_TASK\s+0\s+0\s+0\s+3\s+0$/m);

    // Rows come in submission order: the i-th label-r task printed `task r-i ran`.
    for (const [i, row] of rows.entries()) {
      const logs = await orrery(home, ['logs', row.taskId]);
      assert.equal(logs.code, 0, logs.stderr);
      assert.equal(logs.stdout, `task r-${i} ran\n`);
    }
    const missing = await orrery(home, ['logs', 'ffffffffffffffffffff']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no task ffffffffffffffffffff/);
  });

  test('logs -f follows a running task and ends when it ends', async () => {
    const driver = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/integration/fixtures/driver-ticker.ts', '6', '250'],
      {
        env: { ...process.env, ORRERY_ADDRESS: svc.info.address, ORRERY_TOKEN: svc.info.token },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    driver.stdout!.on('data', (d) => (out += d));
    const taskId = (await until('the ticker task id', () => /TASK (\w+)/.exec(out)?.[1], 30_000))!;
    const follow = await orrery(home, ['logs', taskId, '-f']);
    assert.equal(follow.code, 0, follow.stderr);
    assert.deepEqual(follow.stdout.trim().split('\n'), ['tick 0', 'tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5']);
    await until('the ticker driver to finish', () => /DONE 6/.test(out), 30_000);
    const state = JSON.parse(
      (await orrery(home, ['list', 'tasks', '--json', '--filter', `taskId=${taskId}`])).stdout,
    ) as { state: string }[];
    assert.equal(state[0]!.state, 'FINISHED');
  });

  test('status shows nodes per backend, usage, pending demand and infeasible requests', async () => {
    const markers = tempDir('status');
    const hang = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/integration/fixtures/driver-hang.ts',
        markers,
        String(availableParallelism() + 2),
        'infeasible',
      ],
      {
        env: { ...process.env, ORRERY_ADDRESS: svc.info.address, ORRERY_TOKEN: svc.info.token },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    hang.stdout!.on('data', (d) => (out += d));
    try {
      await until('the driver to submit', () => out.includes('READY'), 30_000);
      await until('every CPU to be busy', () => readdirSync(markers).length === availableParallelism(), 30_000);
      const s = await orrery(home, ['status']);
      assert.equal(s.code, 0, s.stderr);
      const cpus = availableParallelism();
      assert.match(s.stdout, /^Backend local: 1 node alive$/m);
      assert.match(s.stdout, new RegExp(`^ ${cpus}\\.0/${cpus}\\.0 CPU$`, 'm'));
      assert.match(s.stdout, /^ \{"CPU":1\}: 2 pending tasks\/actors$/m);
      assert.match(s.stdout, /^ \{"CPU":1,"Widget":1\}: 1 waiting; no node or backend offers Widget/m);
      assert.match(s.stdout, /^Drivers: 1 connected$/m);
      const json = JSON.parse((await orrery(home, ['status', '--json'])).stdout) as {
        resources: { used: Record<string, number> };
      };
      assert.equal(json.resources.used.CPU, cpus);
    } finally {
      hang.kill('SIGKILL');
    }
    await until(
      'the killed driver’s tasks to be cancelled',
      async () =>
        JSON.parse(
          (await orrery(home, ['list', 'tasks', '--json', '--filter', 'name=slow', '--filter', 'state!=FAILED']))
            .stdout,
        ).length === 0,
      30_000,
    );
  });

  test('orrery stop ends the service and removes head.json', async () => {
    const r = await orrery(home, ['stop']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`stopped the head \\(pid ${svc.info.pid}\\)`));
    assert.ok(!alive(svc.info.pid));
    assert.equal(await svc.exited, 0);
    assert.ok(!existsSync(join(home, 'head.json')));
    assert.match(svc.stdout(), /orrery head stopped/);
    const again = await orrery(home, ['stop']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^orrery: no head is running .*start one with `orrery start`\n$/);
  });
});

test('a stale head.json (its process is gone) is replaced; SIGTERM stops the service cleanly', async () => {
  const home = tempDir('stale');
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => dead.once('exit', r));
  mkdirSync(home, { recursive: true });
  writeFileSync(
    join(home, 'head.json'),
    JSON.stringify({
      address: 'ws://127.0.0.1:1',
      url: 'http://127.0.0.1:1',
      token: 'old',
      pid: dead.pid,
      startedAt: new Date().toISOString(),
    }),
  );
  const svc = await startService(home);
  assert.notEqual(svc.info.token, 'old');
  assert.equal(svc.info.pid, svc.child.pid);
  svc.child.kill('SIGTERM');
  assert.equal(await svc.exited, 0);
  assert.ok(!existsSync(join(home, 'head.json')));
});

test('orrery run passes arguments and the exit code through; without a head the script runs embedded', async () => {
  const home = tempDir('run');
  const r = await orrery(home, [
    'run',
    'test/integration/fixtures/driver-exit.ts',
    '--session',
    's1',
    '7',
    '--flag',
    'x',
  ]);
  assert.equal(r.code, 7, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { args: ['--flag', 'x'], address: null, hasToken: false, session: 's1' });
  const embedded = await orrery(home, ['run', 'test/integration/fixtures/driver-work.ts', 'e', '2']);
  assert.equal(embedded.code, 0, embedded.stderr);
  assert.deepEqual(
    (
      JSON.parse(
        embedded.stdout
          .split('\n')
          .find((l) => l.startsWith('RESULT '))!
          .slice(7),
      ) as { tasks: string[] }
    ).tasks,
    ['e:0', 'e:1'],
  );
});

test('bad CLI input: one line on stderr, non-zero exit; every command has --help', async () => {
  const home = tempDir('cli-bad');
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command frobnicate/],
    [['list', 'tasks', '--bogus'], /unknown option --bogus for orrery list/],
    [['start', '--prot', '1'], /unknown option --prot/],
    [['start', '--port', 'abc'], /--port must be an integer/],
    [['start', '--host', '0.0.0.0'], /--host must be a loopback address/],
    [['list', 'tasks'], /no head is running/],
    [['status'], /no head is running/],
    [['list', 'frogs'], /orrery list needs one of tasks, actors, objects, nodes, placement-groups \(got frogs\)/],
    [['list', 'tasks', '--limit', '0'], /--limit must be a positive integer/],
    [['list', 'tasks', '--filter', 'nokey'], /--filter nokey must be KEY=VALUE/],
    [['logs'], /orrery logs needs a task id/],
    [['summary', 'actors'], /orrery summary supports only: summary tasks/],
    [['run'], /orrery run needs a script/],
    [['run', 'no-such-script.ts'], /script no-such-script.ts does not exist/],
    [
      ['list', 'tasks', '--address', 'ws://127.0.0.1:1', '--token', 't'],
      /the --token option was removed: a command line is readable by every user of this machine \(ps\)\. The CLI reads the token from ORRERY_TOKEN, else from head\.json/,
    ],
    [['status', '--token=t'], /the --token option was removed/],
    [['stop', '--token', 't'], /the --token option was removed/],
    [['dashboard', '--url'], /no head is running .*start one with `orrery start`, or open one with `orrery dashboard`/],
    [['dashboard', '--url', '--port', '1'], /--url prints a login link of the running head and takes no --port/],
    [['list', 'tasks', '--address', 'ws://127.0.0.1:1'], /no token for the head at ws:\/\/127\.0\.0\.1:1/],
  ];
  for (const [args, re] of cases) {
    const r = await orrery(home, args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^orrery: /);
    assert.match(r.stderr, re, args.join(' '));
  }
  const refused = await orrery(home, ['list', 'tasks', '--address', 'ws://127.0.0.1:1'], { ORRERY_TOKEN: 't' });
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^orrery: no Orrery head at http:\/\/127\.0\.0\.1:1: connection refused; start one with `orrery start`\n$/,
  );
  for (const cmd of ['start', 'stop', 'run', 'status', 'list', 'summary', 'logs', 'backends', 'dashboard']) {
    const r = await orrery(home, [cmd, '--help']);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, new RegExp(`^usage: orrery ${cmd}`), cmd);
    assert.doesNotMatch(r.stdout, /--token/, cmd);
  }
  const top = await orrery(home, ['--help']);
  for (const cmd of ['start', 'stop', 'run', 'status', 'list', 'summary', 'logs', 'backends test <name>'])
    assert.ok(top.stdout.includes(cmd), cmd);
  assert.ok(!existsSync(join(home, 'head.json')));
});
