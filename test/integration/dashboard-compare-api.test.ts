/**
 * Session labels and the N-way comparison over HTTP, on a real head service started in this
 * process with a real driver connected, and through the real CLI:
 * - PATCH /api/sessions/:name sets title, notes and tags, also on the session the head is
 *   recording at that moment (which goes on recording), and refuses bad input by field;
 * - GET /api/sessions/compare?s=A&s=B&s=C compares against the first, while ?a=&b= keeps its
 *   two-session shape; `orrery sessions compare` takes N names and `orrery sessions label` edits.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { init, shutdown, remote, get } from 'orrery-compute';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { SessionStore } from '../../orchestrator/sessions/index.ts';
import type { MultiSessionComparison, SessionComparison, SessionRow } from '../../orchestrator/protocol/state-rows.ts';
import { headApi, tempDir, until } from './helpers.ts';

const home = tempDir('dashboard-compare-api');
process.env.ORRERY_HOME = home;

let service: HeadService;
const api = (method: string, path: string, body?: unknown) =>
  headApi({ url: service.info.url, token: service.info.token }, method, path, body);

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', 'orchestrator/cli/main.ts', 'sessions', ...args], {
    env: { ...process.env, ORRERY_HOME: home },
    encoding: 'utf8',
  });
}

/** A finished session with one `energy` task whose result depends on `x`, on backend config `backends`. */
async function recordSession(name: string, x: number, backends: unknown[]): Promise<void> {
  const rec = new SessionStore().record(name, {
    orreryVersion: 'test',
    config: { backends },
    placementRules: [{ match: { name: 'energy' }, require: { backend: 'local' } }],
  });
  const t = Date.now();
  rec.recordTaskSubmitted({ taskId: `${name}-e`, name: 'energy', kind: 'task', functionHash: 'e', params: [1], ts: t });
  rec.recordTaskState(`${name}-e`, { state: 'RUNNING', ts: t + 1 });
  rec.recordTaskState(`${name}-e`, { state: 'FINISHED', ts: t + 1 + 10 * x });
  rec.recordResult(`${name}-e`, Buffer.from(JSON.stringify({ energy: -x })), { contentType: 'json' });
  await rec.close();
}

before(async () => {
  service = await HeadService.start({ port: 0, numCpus: 1, log: () => {} });
  await init({ address: service.info.address, token: service.info.token, logToDriver: false });
  await recordSession('x1', 1, [{ name: 'slurm', kind: 'slurm', partition: 'debug' }]);
  await recordSession('x2', 2, [{ name: 'slurm', kind: 'slurm', partition: 'gpu' }]);
  await recordSession('x3', 1.5, []);
});

after(async () => {
  await shutdown();
  await service.stop();
});

describe('session labels and N-way compare over HTTP and the CLI', () => {
  test('PATCH sets labels, also on the session being recorded, which goes on recording; bad input names its field', async () => {
    const live = service.session;
    const sq = remote({ name: 'labelSquare' }, (x: number) => x * x);
    assert.deepEqual(await get([sq.remote(2)]), [4]);
    const r = await api('PATCH', `/api/sessions/${live}`, { title: 'Live run', notes: 'a\nb', tags: ['live', 'h2'] });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const row = r.json as SessionRow;
    assert.deepEqual(
      [row.name, row.title, row.notes, row.tags, row.status],
      [live, 'Live run', 'a\nb', ['live', 'h2'], 'running'],
    );
    // The head keeps recording into it.
    assert.deepEqual(await get([sq.remote(3)]), [9]);
    await until('the recorder to write the second square', async () => {
      const p = await api('GET', `/api/sessions/${live}/tasks?name=labelSquare&state=FINISHED`);
      return p.json.total === 2;
    });
    const shown = (await api('GET', `/api/sessions/${live}`)).json;
    assert.deepEqual([shown.title, shown.notes, shown.tags], ['Live run', 'a\nb', ['live', 'h2']]);
    // A patch changes only the fields it names.
    assert.deepEqual((await api('PATCH', `/api/sessions/${live}`, { tags: [] })).json.title, 'Live run');

    const bad: [unknown, number, Record<string, string> | undefined][] = [
      [{ title: 7 }, 400, { title: 'title: must be a string (or null to show the session by its name)' }],
      [{ colour: 'red' }, 400, { body: 'body: "colour" is not a session label; use title, notes or tags' }],
      [{ notes: 'x'.repeat(10_001) }, 400, { notes: 'notes: are 10001 characters; keep them to 10000' }],
      [[1], 400, { body: 'body: send a JSON object { title?, notes?, tags? }' }],
    ];
    for (const [body, status, fields] of bad) {
      const res = await api('PATCH', `/api/sessions/${live}`, body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.deepEqual(res.json.fields, fields);
    }
    assert.equal((await api('PATCH', '/api/sessions/nope', { title: 'x' })).status, 404);
    assert.equal((await api('PATCH', '/api/sessions/bad%20name', { title: 'x' })).status, 400);
    assert.equal((await api('PUT', '/api/sessions/x1', { title: 'x' })).status, 405);
  });

  test('compare: ?s= takes N sessions against the first; ?a=&b= keeps its shape; bad lists are refused', async () => {
    const many = (await api('GET', '/api/sessions/compare?s=x1&s=x2&s=x3')).json as MultiSessionComparison;
    assert.deepEqual(
      many.sessions.map((s) => s.session),
      ['x1', 'x2', 'x3'],
    );
    const partition = many.rows.find((r) => r.key === 'slurm.partition')!;
    assert.deepEqual(
      [partition.section, partition.values, partition.differs],
      ['backends', ['debug', 'gpu', null], true],
    );
    const two = (await api('GET', '/api/sessions/compare?a=x1&b=x2')).json as SessionComparison;
    assert.deepEqual(Object.keys(two).sort(), ['a', 'b', 'counts', 'matchedTiming', 'tasks']);
    assert.deepEqual(many.pairs[0], two);
    const energy = many.pairs[1]!.tasks[0]!;
    assert.deepEqual(
      [energy.resultA, energy.resultB, energy.resultDiff?.maxAbsDiff],
      ['{"energy":-1}', '{"energy":-1.5}', 0.5],
    );

    const one = await api('GET', '/api/sessions/compare?s=x1');
    assert.equal(one.status, 400);
    assert.match(one.json.error, /compare needs 2 to 8 sessions, the baseline first/);
    assert.equal((await api('GET', `/api/sessions/compare?${'s=x1&'.repeat(9)}`)).status, 400);
    assert.equal((await api('GET', '/api/sessions/compare?s=x1&s=nope')).status, 404);
  });

  test('the CLI labels sessions, lists their titles and tags, and compares N of them', () => {
    const l = cli(
      'label',
      'x2',
      '--title',
      'GPU partition',
      '--tag',
      'gpu',
      '--tag',
      'try-2',
      '--notes',
      'moved to gpu',
    );
    assert.equal(l.status, 0, l.stderr);
    assert.match(l.stdout, /session x2: title GPU partition; tags gpu, try-2/);
    assert.match(cli('label', 'x2', '--untag', 'try-2').stdout, /tags gpu$/m);
    const bad = cli('label', 'x2', '--tag', 'two words');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /tags\[1\]: "two words" is not a tag/);
    const list = cli('list').stdout;
    assert.match(list.split('\n').find((x) => x.startsWith('x2 '))!, /GPU partition\s+finished.*gpu$/);

    const two = cli('compare', 'x1', 'x2', '--json');
    assert.deepEqual(Object.keys(JSON.parse(two.stdout)).sort(), ['a', 'b', 'counts', 'matchedTiming', 'tasks']);
    const three = cli('compare', 'x1', 'x2', 'x3');
    assert.equal(three.status, 0, three.stderr);
    assert.match(three.stdout, /^3 sessions against x1: \d+ of \d+ values differ/);
    assert.match(three.stdout, /backends\s+slurm\.partition\s+debug\s+gpu\s+-/);
    assert.match(three.stdout, /x1 \(1 tasks\) vs x3 \(1 tasks\)/);
    const json = JSON.parse(cli('compare', 'x1', 'x2', 'x3', '--json').stdout) as MultiSessionComparison;
    assert.equal(json.pairs.length, 2);
  });
});
