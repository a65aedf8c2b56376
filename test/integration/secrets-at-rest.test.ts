/**
 * No secret value at rest: a real head service records a session while a real driver runs
 * tasks whose arguments hold an API key and a password, a command task with a secret in its
 * env, and a task with a secret in runtimeEnv and in its recorded facts, on a backend whose
 * label holds a token. None of the values may appear in any file under $ORRERY_HOME (the
 * session database and its WAL included), in any API reply, in the CLI's output, or in an
 * export. A resumed head does not submit a task again with redacted arguments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { init, shutdown, remote, command, get } from 'orrery-compute';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { Head } from '../../orchestrator/head/head.ts';
import { recordSession } from '../../orchestrator/head/session-recording.ts';
import { resubmitUnfinished } from '../../orchestrator/head/session-resume.ts';
import { SessionStore } from '../../orchestrator/sessions/index.ts';
import { tempDir, until } from './helpers.ts';
import { findIn, findInArchive, findInFiles } from './secret-scan.ts';

const CLI = new URL('../../orchestrator/cli/main.ts', import.meta.url).pathname;
const run = promisify(execFile);

const value = (what: string) => `${what}-${randomBytes(12).toString('hex')}`;
const V = {
  V1: value('apikey'),
  V2: value('password'),
  V3: value('wandb'),
  V4: value('label-token'),
  V5: value('runtime-env'),
};

test('no secret value reaches the session files, the API, the CLI or an export', async () => {
  const home = tempDir('secrets-at-rest');
  process.env.ORRERY_HOME = home;
  const service = await HeadService.start({
    port: 0,
    numCpus: 2,
    session: 'at-rest',
    log: () => {},
    backends: [{ name: 'lab', kind: 'local', numCpus: 1, labels: { hfToken: V.V4, zone: 'lab' } }],
  });
  const { url, token } = service.info;
  const api = async (path: string): Promise<string> => {
    const res = await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    return Buffer.from(await res.arrayBuffer()).toString('latin1');
  };
  const cli = async (...args: string[]): Promise<string> =>
    (
      await run(process.execPath, ['--import', 'tsx', CLI, ...args], {
        env: { ...process.env, ORRERY_HOME: home, ORRERY_ADDRESS: '', ORRERY_TOKEN: '' },
      })
    ).stdout;
  const hits: string[] = [];
  try {
    await init({ address: service.info.address, token, logToDriver: false });
    const login = remote(
      { name: 'login' },
      (c: { user: string; apiKey: string; password: string; extra: Map<string, string> }) =>
        c.user.length + c.extra.size,
    );
    const withEnv = remote({ name: 'withEnv', runtimeEnv: { env: { DB_URL: V.V5 } } }, async () => {
      const { recordTaskInfo: record } = await import('orrery-compute');
      record({ sessionToken: process.env.DB_URL!, rows: 3 });
      return (process.env.DB_URL ?? '').length;
    });
    const wandb = command({ name: 'wandb' }).remote({
      argv: ['sh', '-c', 'printf %s "$WANDB_API_KEY" | sha256sum'],
      env: { WANDB_API_KEY: V.V3, WANDB_MODE: 'offline' },
    });
    const refs = [
      login.remote({ user: 'alice', apiKey: V.V1, password: V.V2, extra: new Map([['privateKey', V.V2]]) }),
      withEnv.remote(),
    ];
    assert.deepEqual(await get(refs), [6, V.V5.length]);
    assert.equal(
      (await get(wandb)).stdout.split(' ')[0],
      createHash('sha256').update(V.V3).digest('hex'),
      'the command saw its env',
    );

    const store = new SessionStore();
    await until(
      'the session has every task finished',
      () => {
        const r = store.open('at-rest');
        try {
          const t = r.tasks();
          return t.length === 3 && t.every((x) => x.state === 'FINISHED');
        } finally {
          r.close();
        }
      },
      30_000,
    );

    const replies: Record<string, string> = {};
    const tasks = JSON.parse(await api('/api/tasks')) as { taskId: string }[];
    replies['/api/tasks'] = JSON.stringify(tasks);
    for (const p of [
      '/api/nodes',
      '/api/sessions',
      '/api/sessions/at-rest',
      '/api/sessions/at-rest/tasks',
      '/api/sessions/compare?a=at-rest&b=at-rest',
    ])
      replies[p] = await api(p);
    for (const t of tasks) {
      replies[`/api/tasks/${t.taskId}`] = await api(`/api/tasks/${t.taskId}`);
      replies[`/api/sessions/at-rest/tasks/${t.taskId}`] = await api(`/api/sessions/at-rest/tasks/${t.taskId}`);
    }
    assert.match(
      replies[`/api/tasks/${tasks.find((t) => (t as { name?: string }).name === 'login')!.taskId}`]!,
      /alice/,
      'the preview still shows what is not secret',
    );
    for (const [path, body] of Object.entries(replies)) hits.push(...findIn(path, body, V));

    for (const args of [
      ['list', 'tasks', '--json'],
      ['list', 'nodes', '--json'],
      ['sessions', 'show', 'at-rest', '--json'],
      ['sessions', 'compare', 'at-rest', 'at-rest', '--json'],
    ]) {
      hits.push(...findIn(`orrery ${args.join(' ')}`, await cli(...args), V));
    }
    const exported = join(tempDir('secrets-at-rest-export'), 'cli.tar.gz');
    await cli('sessions', 'export', 'at-rest', exported);
    const fromCli = findInArchive(exported, V);
    assert.ok(
      fromCli.files.some((f) => f.endsWith('at-rest.db')),
      fromCli.files.join(', '),
    );
    hits.push(...fromCli.hits);
    const download = join(tempDir('secrets-at-rest-download'), 'api.tar.gz');
    writeFileSync(download, Buffer.from(await api('/api/sessions/at-rest/export'), 'latin1'));
    hits.push(...findInArchive(download, V).hits);

    hits.push(...findInFiles(home, V));
  } finally {
    await shutdown();
    await service.stop();
  }
  hits.push(...findInFiles(home, V));
  assert.deepEqual(hits, []);
});

test('a resumed head does not submit a task again whose arguments were redacted, and says why', async () => {
  const dir = tempDir('secrets-resume');
  const first = new Head({ log: () => {}, infeasibleGraceMs: 600_000 });
  const recorder = new SessionStore({ dir }).record('resume-redacted', { orreryVersion: 't' });
  const recording = recordSession(first, recorder);
  await init({ cluster: { head: first }, logToDriver: false });
  // Nothing offers the resource, so both stay queued until the head goes away.
  const queued = remote({ name: 'queued', resources: { Nowhere: 1 } }, (c: { n: number }) => c.n);
  queued.remote({ n: 1 });
  const secretful = remote(
    { name: 'secretful', resources: { Nowhere: 1 } },
    (c: { n: number; password: string }) => c.n,
  );
  secretful.remote({ n: 2, password: V.V2 });
  command({ name: 'envful', resources: { Nowhere: 1 } }).remote({ argv: ['true'], env: { PLAIN: 'x' } });
  await until('three submissions recorded', () => {
    recorder.flush();
    const r = new SessionStore({ dir }).open('resume-redacted');
    try {
      return r.tasks().length === 3;
    } finally {
      r.close();
    }
  });
  // The session ends as a killed head leaves it: the driver's end would cancel the queued tasks.
  recording.stop();
  await recorder.close({ status: 'crashed' });
  await shutdown();
  await first.shutdown();

  const second = new Head({ log: () => {}, infeasibleGraceMs: 600_000 });
  const reader = new SessionStore({ dir }).open('resume-redacted');
  const again = new SessionStore({ dir }).record('resume-redacted', { orreryVersion: 't', resume: true });
  const lines: string[] = [];
  try {
    const out = resubmitUnfinished(second, reader, again, (l) => lines.push(l));
    assert.deepEqual(out, { resubmitted: 1, lost: 2 });
    const submitted = [...second.queries.tasks()].map((t) => t.spec.name);
    assert.deepEqual(submitted, ['queued']);
    for (const name of ['secretful', 'envful']) {
      const line = lines.find((l) => l.includes(name));
      assert.ok(line, `a log line names ${name}: ${lines.join(' | ')}`);
      assert.match(line!, /not submitted again/);
      assert.match(line!, /redacted|secret/);
    }
    assert.ok(!lines.some((l) => l.includes(V.V2)));
  } finally {
    reader.close();
    await again.close();
    await second.shutdown();
  }
});
