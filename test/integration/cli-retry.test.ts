/**
 * `orrery retry` as a subprocess against a real `orrery start` child process. The failed tasks
 * come from a real driver process (fixtures/retry-driver.ts) that has exited before any retry:
 * the head resubmits them under its own job.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { init, shutdown, remote, cancel } from 'orrery-compute';
import { tempDir, until } from './helpers.ts';

interface HeadInfo {
  address: string;
  token: string;
}

/** What retry-driver.ts printed. */
interface DriverIds {
  flaky: string;
  mapper: string;
  napper: string;
  refUser: string;
  held: string;
  boom: string;
  ok: string;
  errors: string[];
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let home = '';
let child: ChildProcess;
let info: HeadInfo;
let ids: DriverIds;
let marker = '';

function run(file: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', file, ...args],
      { env: { ...process.env, ORRERY_HOME: home, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs the CLI with this test's ORRERY_HOME (no --address: it finds the head in head.json). */
function orrery(...args: string[]): Promise<Run> {
  return run('orchestrator/cli/main.ts', args, { ORRERY_ADDRESS: '', ORRERY_TOKEN: '' });
}

interface Row {
  taskId: string;
  name: string;
  state: string;
  jobId: string;
  retryOf: string;
}

async function taskRows(filter: string): Promise<Row[]> {
  const r = await orrery('list', 'tasks', '--filter', filter, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Starts `orrery start --port 0` with this test's ORRERY_HOME; resolves once it serves. */
async function startHead(...extra: string[]): Promise<{ child: ChildProcess; info: HeadInfo }> {
  const c = spawn(process.execPath, ['--import', 'tsx', 'orchestrator/cli/main.ts', 'start', '--port', '0', ...extra], {
    env: { ...process.env, ORRERY_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  c.stdout!.on('data', (d) => (out += d));
  const file = join(home, 'head.json');
  await until(
    'the service to write head.json',
    () => {
      if (c.exitCode !== null) throw new Error(`orrery start exited with ${c.exitCode}`);
      return existsSync(file) && /dashboard:/.test(out);
    },
    60_000,
  );
  return { child: c, info: JSON.parse(readFileSync(file, 'utf8')) as HeadInfo };
}

/** Runs retry-driver.ts against the head; it exits before resolving. */
async function failedTasks(): Promise<DriverIds> {
  const d = await run('test/integration/fixtures/retry-driver.ts', [marker], {
    ORRERY_ADDRESS: info.address,
    ORRERY_TOKEN: info.token,
  });
  assert.equal(d.code, 0, d.stderr);
  const line = d.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no RESULT line in ${d.stdout}`);
  const out = JSON.parse(line.slice(7)) as DriverIds;
  assert.deepEqual(out.errors, ['TaskError', 'TaskError', 'TaskCancelledError', 'TaskError', 'TaskError']);
  return out;
}

/** A refused retry: exit 1 and one `orrery: ` line matching `msg`. */
async function refused(taskId: string, msg: RegExp): Promise<void> {
  const r = await orrery('retry', taskId);
  assert.equal(r.code, 1, `retry ${taskId}: ${r.stdout}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^orrery: /);
  assert.match(r.stderr, msg);
  assert.equal(r.stdout, '');
}

describe('orrery retry', { timeout: 300_000 }, () => {
  before(async () => {
    home = tempDir('cli-retry');
    marker = join(home, 'marker');
    ({ child, info } = await startHead());
    ids = await failedTasks();
  });

  after(async () => {
    await shutdown();
    child.kill('SIGTERM');
  });

  test('a failed task retried while it still fails: new id, --wait prints its error in one line, exit 1', async () => {
    const r = await orrery('retry', ids.flaky, '--wait');
    assert.equal(r.code, 1, r.stderr);
    const [newId, error, ...rest] = r.stdout.trim().split('\n');
    assert.deepEqual(rest, []);
    assert.match(newId!, /^[0-9a-f]{20}$/);
    assert.notEqual(newId, ids.flaky);
    assert.match(
      error!,
      new RegExp(
        `^task ${newId} failed: TaskError: task retry_flaky failed on node \\S+: Error: marker .* is missing$`,
      ),
    );
  });

  test('after the cause is fixed the retry succeeds: --wait prints the JSON result; the row links back', async () => {
    writeFileSync(marker, 'ok');
    const r = await orrery('retry', ids.flaky, '--wait');
    assert.equal(r.code, 0, r.stderr);
    const [newId, result, ...rest] = r.stdout.trim().split('\n');
    assert.deepEqual(rest, []);
    // The arguments (41) and the runtime env (RETRY_TAG) came along.
    assert.deepEqual(JSON.parse(result!), { n: 42, tag: 'kept' });
    const [row] = await taskRows(`taskId=${newId}`);
    assert.equal(row?.state, 'FINISHED');
    assert.equal(row?.name, 'retry_flaky');
    assert.equal(row?.retryOf, ids.flaky);
    const [old] = await taskRows(`taskId=${ids.flaky}`);
    assert.equal(old?.state, 'FAILED', 'the original stays as it was');
    assert.equal(old?.retryOf, '');
    assert.notEqual(row?.jobId, old?.jobId, 'the head owns the retry, not the gone driver');
    // Two retries of the flaky task, both linked to it.
    assert.equal((await taskRows(`retryOf=${ids.flaky}`)).length, 2);
    // No driver holds the new result: the head does, and keeps it.
    await new Promise((res) => setTimeout(res, 1000));
    const objects = await orrery('list', 'objects', '--filter', `objectId=${newId}`, '--json');
    assert.equal(objects.code, 0, objects.stderr);
    const [obj] = JSON.parse(objects.stdout) as { objectId: string; holders?: string[] }[];
    assert.ok(obj, `object ${newId} was freed: ${objects.stdout}`);
    const detail = await fetch(`${info.address.replace('ws:', 'http:')}/api/tasks/${newId}`, {
      headers: { Authorization: `Bearer ${info.token}` },
    });
    const body = (await detail.json()) as { task: { retryOf?: string }; result?: { json?: unknown } };
    assert.equal(body.task.retryOf, ids.flaky, 'the dashboard detail links back');
    assert.deepEqual(body.result?.json, { n: 42, tag: 'kept' });
  });

  test('a cancelled task can be retried; a result that is not JSON is described', async () => {
    writeFileSync(marker, 'ok');
    const nap = await orrery('retry', ids.napper, '--wait');
    assert.equal(nap.code, 0, nap.stderr);
    assert.equal(nap.stdout.trim().split('\n')[1], '"rested"');
    const map = await orrery('retry', ids.mapper, '--wait');
    assert.equal(map.code, 0, map.stderr);
    assert.match(map.stdout.trim().split('\n')[1]!, /^\(not JSON\) Map\(1\) \{ 'a' => 1 \}$/);
  });

  test('without --wait it prints only the new id and returns at once', async () => {
    const r = await orrery('retry', ids.mapper);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{20}\n$/);
    const newId = r.stdout.trim();
    await until(
      'the retry to finish',
      async () => (await taskRows(`taskId=${newId}`))[0]?.state === 'FINISHED',
      60_000,
    );
  });

  test('refusals: one line each, saying what to do', async () => {
    await refused(
      'no-such-task',
      /cannot retry task no-such-task: this head has no task with this id; see orrery list tasks/,
    );
    await refused(ids.ok, /is FINISHED; only failed or cancelled tasks can be retried/);
    await refused(
      ids.boom,
      /it is a call of actor method Boomer\.boom .*Call the method again from a driver, or give the actor maxTaskRetries/,
    );
    await refused(
      ids.refUser,
      new RegExp(`argument 0 \\(object ${ids.held}\\) is no longer stored: .*Run the driver again`),
    );
    const none = await orrery('retry');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^orrery: orrery retry needs a task id/);
  });

  test('a running task is refused (this process is a second driver)', async () => {
    await init({ address: info.address, token: info.token, logToDriver: false });
    const sleeper = remote({ name: 'retry_sleeper' }, async () => {
      await new Promise((r) => setTimeout(r, 60_000));
    });
    const ref = sleeper.remote();
    const [row] = await until(
      'the sleeper to run',
      async () => (await taskRows('name=retry_sleeper')).filter((t) => t.state === 'RUNNING'),
      60_000,
    );
    await refused(row!.taskId, /is RUNNING; only failed or cancelled tasks can be retried/);
    await cancel(ref, { force: true });
  });
});

test('a resumed session: a task that failed under the earlier head is rebuilt from the session', {
  timeout: 300_000,
}, async () => {
  home = tempDir('cli-retry-resume');
  marker = join(home, 'marker');
  const first = await startHead('--session', 'retries');
  info = first.info;
  const earlier = await failedTasks();
  const stop = await orrery('stop');
  assert.equal(stop.code, 0, stop.stderr);
  const second = await startHead('--resume', 'retries');
  info = second.info;
  try {
    // This head never ran these tasks: their code and arguments come from the session.
    assert.deepEqual(await taskRows(`taskId=${earlier.napper}`), []);
    writeFileSync(marker, 'ok');
    const r = await orrery('retry', earlier.napper, '--wait');
    assert.equal(r.code, 0, r.stderr);
    const [newId, result] = r.stdout.trim().split('\n');
    assert.equal(result, '"rested"');
    const [row] = await taskRows(`taskId=${newId}`);
    assert.equal(row?.retryOf, earlier.napper);
    await refused(
      earlier.refUser,
      /the session that recorded it \(an earlier head\) cannot rebuild it: its argument \w+ is not a result the session recorded \(a put\(\) value, or a task that did not finish\).*; run the driver again/,
    );
    await refused(earlier.boom, /it is a call of actor method Boomer\.boom /);
    await refused(earlier.ok, /it is FINISHED; only failed or cancelled tasks can be retried/);
  } finally {
    await orrery('stop');
    second.child.kill('SIGTERM');
  }
});
