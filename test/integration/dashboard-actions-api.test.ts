/**
 * The HTTP API behind the dashboard's actions (issue 17 item 2) on a real head service in this
 * process with real workers: a whole run (job) cancelled at once (`POST /api/jobs/:jobId/cancel`
 * and `orrery cancel --job`), a finished task run again (`retry?rerun=1`, `orrery retry
 * --rerun`), an actor killed with and without a restart (`kill?restart=1`), and the live
 * feed's tasks carrying their job id.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { init, shutdown, remote, get, type ObjectRef } from 'orrery-compute';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { Counter, headApi, tempDir, until } from './helpers.ts';

process.env.ORRERY_HOME = tempDir('dashboard-actions-api');

let service: HeadService;

const api = (method: string, path: string) =>
  headApi({ url: service.info.url, token: service.info.token }, method, path);

interface Row {
  taskId: string;
  name: string;
  state: string;
  jobId: string;
  errorType: string;
  retryOf: string;
}

async function tasksNamed(name: string): Promise<Row[]> {
  const r = await api('GET', `/api/tasks?filter=${encodeURIComponent(`name=${name}`)}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json as Row[];
}

/** Runs the CLI against this head. */
function orrery(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'orchestrator/cli/main.ts', ...args],
      {
        env: { ...process.env, ORRERY_ADDRESS: service.info.address, ORRERY_TOKEN: service.info.token },
        timeout: 120_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const sleeper = remote({ name: 'actionsSleeper', maxRetries: 0 }, async (ms: number) => {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});

before(async () => {
  service = await HeadService.start({ port: 0, numCpus: 2, log: () => {} });
  await init({ address: service.info.address, token: service.info.token, logToDriver: false });
});

after(async () => {
  await shutdown();
  await service.stop();
});

describe('dashboard actions API', { timeout: 240_000 }, () => {
  test('POST /api/jobs/:jobId/cancel cancels every unfinished task of the run, and says how many had ended', async () => {
    const quick = remote({ name: 'actionsQuick' }, (x: number) => x);
    assert.equal(await get(quick.remote(1)), 1);
    // Two run on the 2 CPUs, the rest wait (a worker may be sent a second one ahead, which then reads RUNNING).
    const refs: ObjectRef<number>[] = [0, 1, 2, 3, 4, 5].map(() => sleeper.remote(60_000));
    const rows = await until('the sleepers to be submitted', async () => {
      const r = await tasksNamed('actionsSleeper');
      return r.length === 6 && r.filter((t) => t.state === 'RUNNING').length >= 2 ? r : undefined;
    });
    const jobId = rows[0]!.jobId;
    assert.ok(jobId, 'a task row carries its job id');
    const [quickRow] = await tasksNamed('actionsQuick');
    assert.equal(quickRow!.jobId, jobId, 'this driver is one job');

    const r = await api('POST', `/api/jobs/${encodeURIComponent(jobId)}/cancel`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.jobId, jobId);
    assert.deepEqual([...r.json.cancelled].sort(), rows.map((t) => t.taskId).sort());
    assert.ok(r.json.ended >= 1, 'the finished quick task is counted, not cancelled');
    for (const ref of refs) await assert.rejects(get(ref), (e: Error) => e.name === 'TaskCancelledError');
    for (const t of await tasksNamed('actionsSleeper')) assert.equal(t.errorType, 'TaskCancelledError');
    assert.equal((await tasksNamed('actionsQuick'))[0]!.state, 'FINISHED', 'an ended task is left as it was');

    // The feed's view of a task carries the job id too (the dashboard's "Cancel run").
    const detail = await api('GET', `/api/tasks/${rows[0]!.taskId}`);
    assert.equal(detail.json.task.jobId, jobId);
  });

  test('POST /api/tasks/cancel cancels a selection in one request; bad bodies are a 400 that says what to send', async () => {
    const refs: ObjectRef<number>[] = [0, 1, 2, 3].map(() => sleeper.remote(60_000));
    const rows = await until('the sleepers to be submitted', async () => {
      const r = (await tasksNamed('actionsSleeper')).filter((t) => t.state !== 'FAILED');
      return r.length === 4 ? r : undefined;
    });
    const ids = rows.map((t) => t.taskId);
    const r = await headApi({ url: service.info.url, token: service.info.token }, 'POST', '/api/tasks/cancel', {
      ids: [...ids, 'no-such-task'],
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, { cancelled: 4, ended: 0, unknown: ['no-such-task'], force: false });
    for (const ref of refs) await assert.rejects(get(ref), (e: Error) => e.name === 'TaskCancelledError');
    const again = await headApi({ url: service.info.url, token: service.info.token }, 'POST', '/api/tasks/cancel', {
      ids,
    });
    assert.deepEqual(
      again.json,
      { cancelled: 0, ended: 4, unknown: [], force: false },
      'ended tasks are left as they were',
    );
    for (const body of [{}, { ids: [] }, { ids: [1] }, { ids: Array(5001).fill('x') }, { ids: ['x'], force: 'yes' }]) {
      const bad = await headApi(
        { url: service.info.url, token: service.info.token },
        'POST',
        '/api/tasks/cancel',
        body,
      );
      assert.equal(bad.status, 400, JSON.stringify(body).slice(0, 80));
      assert.match(bad.json.error, /ids must be a list of 1 to 5000 task ids|force must be true or false/);
    }
  });

  test('cancelling an unknown job is a 404 that says where job ids are', async () => {
    const r = await api('POST', '/api/jobs/no-such-job/cancel');
    assert.equal(r.status, 404);
    assert.match(r.json.error, /no task of job no-such-job on this head/);
    assert.match(r.json.error, /orrery list tasks/);
    const g = await api('GET', '/api/jobs/x/cancel');
    assert.equal(g.status, 405);
  });

  test('orrery cancel --job cancels a run from the terminal; --force too', async () => {
    const refs = [0, 1, 2].map(() => sleeper.remote(60_000));
    const rows = await until('the new sleepers', async () => {
      const r = (await tasksNamed('actionsSleeper')).filter((t) => t.state !== 'FAILED');
      return r.length === 3 ? r : undefined;
    });
    const out = await orrery('cancel', '--job', rows[0]!.jobId, '--force');
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /cancelled 3 unfinished task\(s\) of job .* \(forced\); \d+ had already ended/);
    for (const ref of refs) await assert.rejects(get(ref), (e: Error) => e.name === 'TaskCancelledError');
    const both = await orrery('cancel', 'some-task', '--job', rows[0]!.jobId);
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /a task id or --job, not both/);
  });

  test('a finished task is refused by retry but run again with rerun=1 (and orrery retry --rerun)', async () => {
    const square = remote({ name: 'actionsSquare' }, (x: number) => x * x);
    assert.equal(await get(square.remote(7)), 49);
    const [row] = await tasksNamed('actionsSquare');
    const refused = await api('POST', `/api/tasks/${row!.taskId}/retry`);
    assert.equal(refused.status, 409);
    assert.match(refused.json.error, /only failed or cancelled tasks can be retried \(a finished one: retry --rerun\)/);

    const again = await api('POST', `/api/tasks/${row!.taskId}/retry?rerun=1`);
    assert.equal(again.status, 201, JSON.stringify(again.json));
    assert.equal(again.json.retryOf, row!.taskId);
    const done = await until('the re-run to finish', async () => {
      const d = await api('GET', `/api/tasks/${again.json.taskId}`);
      return d.json.task.state === 'FINISHED' ? d.json : undefined;
    });
    assert.equal(done.result.json, 49, 'the re-run computed the same value from the recorded arguments');
    assert.equal(done.task.retryOf, row!.taskId);

    const cli = await orrery('retry', row!.taskId, '--rerun', '--wait');
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^\S+\n49\n$/);
  });

  test('an unfinished task cannot be re-run', async () => {
    const ref = sleeper.remote(60_000);
    const row = await until('the sleeper to run', async () =>
      (await tasksNamed('actionsSleeper')).find((t) => t.state === 'RUNNING'),
    );
    const r = await api('POST', `/api/tasks/${row.taskId}/retry?rerun=1`);
    assert.equal(r.status, 409);
    assert.match(
      r.json.error,
      /it is RUNNING; only a task that ended \(finished, failed or cancelled\) can be run again/,
    );
    assert.equal((await api('POST', `/api/tasks/${row.taskId}/cancel?force=1`)).status, 200);
    await assert.rejects(get(ref), (e: Error) => e.name === 'TaskCancelledError');
  });

  test('kill?restart=1 restarts an actor within its maxRestarts; a plain kill does not', async () => {
    const Counted = remote(Counter);
    const a = Counted.options({ maxRestarts: 1 }).remote(5);
    assert.equal(await get(a.inc.remote()), 6);
    const r = await api('POST', `/api/actors/${a.actorId}/kill?restart=1`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const restarted = await until('the actor to restart', async () => {
      const rows = (await api('GET', '/api/actors')).json as { actorId: string; state: string; numRestarts: number }[];
      const row = rows.find((x) => x.actorId === a.actorId);
      return row && row.numRestarts === 1 && row.state === 'ALIVE' ? row : undefined;
    });
    assert.equal(restarted.numRestarts, 1);
    assert.equal(await get(a.inc.remote()), 6, 'a restarted actor starts from its constructor again');

    const b = Counted.options({ maxRestarts: 1 }).remote();
    assert.equal(await get(b.inc.remote()), 1);
    const cli = await orrery('kill', b.actorId);
    assert.equal(cli.code, 0, cli.stderr);
    await until('the actor to be dead', async () => {
      const rows = (await api('GET', '/api/actors')).json as { actorId: string; state: string }[];
      return rows.find((x) => x.actorId === b.actorId)?.state === 'DEAD';
    });
    await assert.rejects(get(b.inc.remote()), (e: Error) => e.name === 'ActorDiedError');
  });
});
