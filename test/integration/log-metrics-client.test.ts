/**
 * `log()` in client mode (issue 17 item 1): a driver connected to a head service and one of its
 * tasks log metrics; the head serves them under the driver's run (GET /api/jobs) with the
 * driver's script and printed output, the run ends `succeeded` at `shutdown()`, and the
 * service's session recorded the run and every point.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobsReply } from '../../orchestrator/protocol/state-rows.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-log-client-'));
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');
const { SessionStore } = await import('../../orchestrator/sessions/index.ts');

const SESSION = 'log-client';
const service = await HeadService.start({ port: 0, numCpus: 1, session: SESSION, log: () => undefined });
after(async () => {
  await orrery.shutdown().catch(() => undefined);
  await service.stop();
});

async function jobs(): Promise<JobsReply> {
  const res = await fetch(`${service.info.url}/api/jobs`, {
    headers: { Authorization: `Bearer ${service.info.token}` },
  });
  assert.equal(res.status, 200);
  return (await res.json()) as JobsReply;
}

test('a client driver and its task log metrics into the driver run; the session keeps them', async () => {
  const ctx = await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
  console.log('driver says hello');
  orrery.log({ loss: 0.9, step: 0 });
  orrery.log(new Map([['loss', 0.5]]));
  const inTask = orrery.remote({ name: 'logs-inside' }, async (n: number) => {
    const o = await import('orrery-compute');
    for (let i = 0; i < n; i++) o.log({ inner: i * 10 }, { step: i });
    return n;
  });
  assert.equal(await orrery.get(inTask.remote(3)), 3);
  let live: JobsReply | undefined;
  for (let i = 0; i < 50; i++) {
    live = await jobs();
    if (live.metrics.filter((m) => m.jobId === ctx.jobId).length === 5) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const run = live!.jobs.find((j) => j.jobId === ctx.jobId);
  assert.ok(run, 'the driver is a run');
  assert.equal(run.status, 'running');
  assert.equal(run.script, fileURLToPath(import.meta.url));
  assert.equal(run.pid, process.pid);
  const mine = live!.metrics.filter((m) => m.jobId === ctx.jobId).map((m) => [m.key, m.step, m.value]);
  assert.deepEqual(
    mine.sort((a, b) => String(a).localeCompare(String(b))),
    [
      ['inner', 0, 0],
      ['inner', 1, 10],
      ['inner', 2, 20],
      ['loss', 0, 0.9],
      ['loss', 1, 0.5],
    ],
  );
  await orrery.shutdown();
  let ended: JobsReply['jobs'][number] | undefined;
  for (let i = 0; i < 50 && ended?.endedAt === undefined; i++) {
    ended = (await jobs()).jobs.find((j) => j.jobId === ctx.jobId);
    if (ended?.endedAt === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(ended?.status, 'succeeded');
  assert.ok(ended?.output?.includes('driver says hello'), JSON.stringify(ended?.output));
  // The recorder writes every 50 ms.
  await new Promise((r) => setTimeout(r, 300));
  const reader = new SessionStore().open(SESSION);
  try {
    const recorded = reader.jobs();
    assert.equal(recorded.jobs.find((j) => j.jobId === ctx.jobId)?.status, 'succeeded');
    assert.equal(recorded.metrics.filter((m) => m.jobId === ctx.jobId).length, 5);
    const task = reader.tasks({ name: 'logs-inside' })[0];
    assert.equal(task?.jobId, ctx.jobId, 'the session knows which run submitted each task');
  } finally {
    reader.close();
  }
});
