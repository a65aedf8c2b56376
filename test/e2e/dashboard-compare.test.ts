/**
 * Issue 17, item 5 (comparison like W&B) in Debian's Chromium, against a real head service and
 * three sessions recorded by real embedded heads (local workers, seeded quantum simulators) with
 * differing backends and placement rules:
 * - a session's title, notes (several lines) and tags are edited in the Sessions tab, persist
 *   across a reload, filter the list, and show in `orrery sessions list|show` (a real CLI process);
 *   the session keeps its name, so Open still replays it;
 * - three sessions ticked in the list are compared: metrics, backends and rules side by side,
 *   changed values highlighted with the size of each difference; "only differences" keeps the
 *   values and sizes; task by task, each circuit shows both values and a sampling-noise verdict.
 * Every check runs at 1440x900 and 1024x700; screenshots go to test-output/screenshots/.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import {
  screenshot,
  type DashboardPage,
  headGet,
  VIEWPORTS,
  atEachSize,
  openLiveDashboard,
  waitLive,
} from './browser.ts';
import type { MultiSessionComparison, SessionRow } from '../../orchestrator/protocol/state-rows.ts';

const HOME = mkdtempSync(join(tmpdir(), 'orrery-e2e-compare-'));
process.env.ORRERY_HOME = HOME;
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

type Service = Awaited<ReturnType<typeof HeadService.start>>;
const BASE = 'cmp-baseline';
const SEED8 = 'cmp-seed8';
const TWO = 'cmp-two-sims';
const LIVE = 'e2e-compare-live';
const SHOTS = 2000;
const CIRCUITS = 24;

const qasm = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] t;
qubit[2] q;
bit[2] c;
ry(t) q[0];
h q[1];
c = measure q;
`;

/** One recorded run: squares, CIRCUITS circuits routed by the rules, and optionally a failing task. */
async function record(
  session: string,
  backends: Record<string, unknown>[],
  placementRules: Record<string, unknown>[],
  fail: boolean,
): Promise<void> {
  await orrery.init({ numCpus: 1, session, backends, placementRules: placementRules as never });
  try {
    const square = orrery.remote({ name: 'square' }, (x: number) => x * x);
    const measure = orrery.circuit({ name: 'measure', shots: SHOTS });
    assert.deepEqual(await orrery.get([1, 2, 3].map((i) => square.remote(i))), [1, 4, 9]);
    await orrery.get(Array.from({ length: CIRCUITS }, (_, i) => measure.remote(qasm, { t: 0.1 * i })));
    if (fail) {
      const boom = orrery.remote({ name: 'boom' }, () => {
        throw new Error('deliberate failure');
      });
      await assert.rejects(orrery.get(boom.remote()));
    }
  } finally {
    await orrery.shutdown();
  }
}

let service: Service;
let ui: DashboardPage;
let page: Page;

const apiGet = <T>(path: string): Promise<T> => headGet<T>(service.info, path);

async function api(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${service.info.url}/api/${path}`, {
    method,
    headers: { Authorization: `Bearer ${service.info.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** `orrery sessions ...` as a real process over the same sessions directory. */
function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'orchestrator/cli/main.ts', 'sessions', ...args], {
    env: { ...process.env, ORRERY_HOME: HOME },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `orrery sessions ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function tab(name: string): Promise<void> {
  await page.getByRole('tab', { name, exact: true }).click();
}

const sessionRow = (name: string): Locator => page.locator(`table[aria-label="Sessions"] tr[data-session="${name}"]`);

before(async () => {
  const sim = (seed: number, extra: Record<string, unknown> = {}) => ({
    name: 'simulator',
    kind: 'quantum-simulator',
    seed,
    ...extra,
  });
  await record(BASE, [sim(7)], [{ match: { name: 'measure' }, require: { backend: 'simulator' } }], false);
  await record(
    SEED8,
    [sim(8, { maxConcurrent: 2 })],
    [
      { match: { name: 'measure' }, require: { backend: 'simulator' } },
      { match: { name: 'square' }, prefer: { backend: 'local' } },
    ],
    false,
  );
  await record(
    TWO,
    [sim(7), { name: 'sim2', kind: 'quantum-simulator', seed: 9 }],
    [{ match: { name: 'measure' }, require: { backend: 'sim2' } }],
    true,
  );
  service = await HeadService.start({ port: 0, numCpus: 1, session: LIVE, log: () => undefined });
  ui = await openLiveDashboard(service.login.newUrl().url, VIEWPORTS[0]);
  page = ui.page;
});

after(async () => {
  await ui?.browser.close();
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
});

describe('dashboard compare', () => {
  test('title, notes and tags are edited in the Sessions tab, persist across a reload, filter the list and show in the CLI', async () => {
    // Bad input is refused by field, and changes nothing.
    const bad = await api('PATCH', `sessions/${SEED8}`, { tags: ['ok', 'two words'] });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, {
      error: 'tags[1]: "two words" is not a tag: use 1 to 40 letters, digits, ".", "_", "-", ":", "/", "+", "=" or "@"',
      fields: {
        'tags[1]':
          'tags[1]: "two words" is not a tag: use 1 to 40 letters, digits, ".", "_", "-", ":", "/", "+", "=" or "@"',
      },
    });
    assert.equal((await api('PATCH', 'sessions/no-such-session', { title: 'x' })).status, 404);
    assert.equal((await api('PATCH', `sessions/${BASE}`, { tags: ['vqe', 'baseline'] })).status, 200);

    await tab('Sessions');
    await sessionRow(SEED8).getByRole('button', { name: 'Edit' }).click();
    await page.getByTestId('label-title').fill('Seed 8, two circuits at once');
    await page
      .getByTestId('label-notes')
      .fill('Same circuits as the baseline, another seed.\nExpect sampling noise only.');
    for (const t of ['vqe', 'seed-8', 'scratch']) {
      await page.getByTestId('label-new-tag').fill(t);
      await page.getByTestId('label-new-tag').press('Enter');
    }
    await page.getByRole('button', { name: 'Remove tag scratch' }).click();
    assert.deepEqual(
      await page
        .getByTestId('label-tags')
        .locator('[data-tag]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-tag'))),
      ['vqe', 'seed-8'],
    );
    await screenshot(page, 'compare-labels-panel-1440');
    await page.getByTestId('label-save').click();
    await page.getByTestId('label-message').filter({ hasText: 'Saved.' }).waitFor();

    const stored = (await apiGet<SessionRow[]>('sessions')).find((s) => s.name === SEED8)!;
    assert.deepEqual(
      [stored.title, stored.notes, stored.tags],
      [
        'Seed 8, two circuits at once',
        'Same circuits as the baseline, another seed.\nExpect sampling noise only.',
        ['vqe', 'seed-8'],
      ],
    );

    await page.reload();
    await waitLive(page);
    await tab('Sessions');
    await atEachSize(page, 'compare-labels-list', async () => {
      const row = sessionRow(SEED8);
      await row.getByTestId('session-title').filter({ hasText: 'Seed 8, two circuits at once' }).waitFor();
      assert.match(await row.innerText(), new RegExp(SEED8), 'the file name stays visible under the title');
      assert.equal(await row.getByTestId('session-notes').innerText(), 'Same circuits as the baseline, another seed.');
      assert.deepEqual(await row.getByTestId('session-tags').locator('.tag').allInnerTexts(), ['vqe', 'seed-8']);
    });
    // The panel shows every line of the notes after the reload.
    await sessionRow(SEED8).getByRole('button', { name: 'Edit' }).click();
    assert.equal(
      await page.getByTestId('label-notes').inputValue(),
      'Same circuits as the baseline, another seed.\nExpect sampling noise only.',
    );
    await page.getByRole('button', { name: 'Close panel' }).click();

    // Filters: a tag chip filters by tag; words search names, titles and notes.
    const listed = () =>
      page
        .locator('table[aria-label="Sessions"] tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-session')));
    await sessionRow(SEED8).getByRole('button', { name: 'vqe' }).click();
    assert.equal(await page.getByTestId('sessions-filter').inputValue(), 'tag:vqe');
    assert.deepEqual((await listed()).sort(), [BASE, SEED8].sort());
    await page.getByTestId('sessions-filter').fill('sampling noise');
    assert.deepEqual(await listed(), [SEED8]);
    await page.getByTestId('sessions-filter').fill('tag:vqe tag:baseline');
    assert.deepEqual(await listed(), [BASE]);
    await screenshot(page, 'compare-labels-filter-1024');
    await page.getByTestId('sessions-filter').fill('');
    assert.equal((await listed()).length, 4);

    // The CLI lists and shows the labels; the name (and so --resume and Open) is unchanged.
    const list = cli('list');
    assert.match(list, /name\s+title\s+status/);
    const line = list.split('\n').find((l) => l.startsWith(SEED8))!;
    assert.match(line, /Seed 8, two circuits at once\s+finished/);
    assert.match(line, /vqe,seed-8$/);
    const show = cli('show', SEED8);
    assert.match(show, /title Seed 8, two circuits at once/);
    assert.match(show, /\| Same circuits as the baseline, another seed\.\n {2}\| Expect sampling noise only\./);
    const json = JSON.parse(cli('list', '--json')) as SessionRow[];
    assert.deepEqual(json.find((s) => s.name === SEED8)!.tags, ['vqe', 'seed-8']);
    await sessionRow(SEED8).getByRole('button', { name: 'Open' }).click();
    await page
      .getByTestId('sessions-message')
      .filter({ hasText: `Opened ${SEED8}` })
      .waitFor();
    await page.getByRole('button', { name: 'Back to live' }).click();
    assert.deepEqual(ui.errors, []);
  });

  test('three ticked sessions compare side by side: changed values highlighted with their size, only differences, circuits with values and a noise verdict', async () => {
    const c = await apiGet<MultiSessionComparison>(`sessions/compare?s=${BASE}&s=${SEED8}&s=${TWO}`);
    const row = (key: string) => c.rows.find((r) => `${r.section}:${r.key}` === key)!;
    assert.deepEqual(row('backends:simulator.seed').values, ['7', '8', '7']);
    assert.deepEqual(row('backends:sim2.seed').values, [null, null, '9']);
    assert.deepEqual(row('rules:#1.require.backend').values, ['simulator', 'simulator', 'sim2']);
    assert.deepEqual(row('metrics:failed').values, ['0', '0', '1']);
    assert.equal(c.pairs.length, 2);
    assert.equal(c.pairs[0]!.tasks.filter((t) => t.name === 'measure').length, CIRCUITS);

    await tab('Sessions');
    for (const n of [BASE, SEED8, TWO]) await sessionRow(n).getByRole('checkbox').check();
    assert.deepEqual(
      [
        await page.getByTestId('compare-a').inputValue(),
        await page.getByTestId('compare-b').inputValue(),
        await page.getByTestId('compare-c').inputValue(),
      ],
      [BASE, SEED8, TWO],
    );
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    const values = page.getByTestId('compare-values');
    await values.waitFor();
    const cellsOf = async (key: string) => {
      const tr = values.locator(`tr[data-key="${key}"]`);
      return tr.locator('td').allInnerTexts();
    };
    const differing = c.rows.filter((r) => r.differs);
    await atEachSize(page, 'compare-three', async () => {
      await values.scrollIntoViewIfNeeded();
      assert.equal(await page.getByTestId('compare-only-diff').isChecked(), true);
      assert.match(
        await page.getByTestId('compare-overview-summary').innerText(),
        new RegExp(`3 sessions against ${BASE}: ${differing.length} of ${c.rows.length} values differ`),
      );
      // Only differences: every differing value, nothing else.
      assert.equal(await values.locator('tbody tr[data-key]').count(), differing.length);
      assert.equal(await values.locator('tbody tr[data-key]:not(.changed)').count(), 0);
      // Values and the size of each difference; the differing cells are marked.
      assert.deepEqual(await cellsOf('backends:simulator.seed'), ['simulator.seed', '7', '8\n+1 (+14.3%)', '7']);
      assert.deepEqual(await cellsOf('backends:simulator.maxConcurrent'), [
        'simulator.maxConcurrent',
        '–',
        '2\nadded',
        '–',
      ]);
      assert.deepEqual(await cellsOf('backends:sim2.seed'), ['sim2.seed', '–', '–', '9\nadded']);
      assert.deepEqual(await cellsOf('rules:#1.require.backend'), [
        '#1.require.backend',
        'simulator',
        'simulator',
        'sim2\nchanged',
      ]);
      assert.deepEqual(await cellsOf('rules:#2.prefer.backend'), ['#2.prefer.backend', '–', 'local\nadded', '–']);
      assert.deepEqual(await cellsOf('metrics:failed'), ['failed', '0', '0', '1\n+1']);
      assert.deepEqual(await cellsOf('metrics:tasks'), ['tasks', '27', '27', '28\n+1 (+3.7%)']);
      const marked = values.locator('tr[data-key="backends:simulator.seed"] td.differs');
      assert.equal(await marked.count(), 1);
      assert.equal(await marked.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(255, 239, 199)');
      // The session headers name the baseline and show titles and tags.
      assert.match(await values.locator('thead th').nth(1).innerText(), /cmp-baseline\s*baseline/);
      assert.match(
        await values.locator('thead th').nth(2).innerText(),
        /Seed 8, two circuits at once\s+cmp-seed8\s+vqe\s+seed-8/,
      );
    });

    // Task by task: baseline vs seed 8. The circuits show both values and a sampling-noise verdict.
    const tasks = page.getByTestId('compare-result').locator('table');
    const checkPair = async (i: number) => {
      const pair = c.pairs[i]!;
      const shown = pair.tasks.filter((t) => t.status !== 'same');
      await tasks.locator('tbody tr').first().waitFor();
      assert.equal(await tasks.locator('tbody tr').count(), shown.length);
      const circuits = pair.tasks.filter((t) => t.name === 'measure');
      for (const t of circuits) {
        const tr = tasks.locator(`tbody tr[data-task-a="${t.taskIdA}"]`);
        if (t.status === 'same') {
          assert.equal(await tr.count(), 0);
          continue;
        }
        const text = await tr.innerText();
        assert.ok(t.resultA && text.includes(t.resultA), `${t.taskIdA}: A value shown`);
        assert.ok(t.resultB && text.includes(t.resultB), `${t.taskIdA}: B value shown`);
        const k = t.resultDiff?.counts;
        assert.ok(k, `${t.taskIdA}: counts compared`);
        assert.match(text, k.withinSamplingNoise ? /within sampling noise/ : /beyond sampling noise/);
        // Not a wall of "differs": a row whose only difference is sampling noise says so in its status.
        assert.equal(
          (await tr.locator('td[data-col="status"]').innerText()).trim(),
          k.withinSamplingNoise && t.params === 'same' && t.code === 'same' ? 'noise only' : 'differs',
        );
        assert.match(text, new RegExp(`shots ${SHOTS} vs ${SHOTS}`));
      }
      return circuits;
    };
    const circuits = await checkPair(0);
    const noise = circuits.filter((t) => t.resultDiff?.counts?.withinSamplingNoise).length;
    assert.ok(
      noise >= CIRCUITS - 3,
      `another seed is sampling noise for nearly every circuit (${noise} of ${CIRCUITS})`,
    );
    assert.match(await page.getByTestId('compare-summary').innerText(), new RegExp(`${noise} within sampling noise`));
    await page.getByTestId('compare-hide-noise').check();
    assert.equal(await tasks.locator('tbody tr.cmp-noise').count(), 0);
    await page.getByTestId('compare-hide-noise').uncheck();
    await tasks.scrollIntoViewIfNeeded();
    await screenshot(page, 'compare-three-tasks-1024');

    // The other pair: baseline vs two simulators (the failing task only on one side).
    await page.getByTestId('compare-pair').selectOption({ label: `${BASE} vs ${TWO}` });
    await checkPair(1);
    assert.match(await tasks.locator('tbody tr', { hasText: 'boom' }).innerText(), /only-b/);

    // Without "only differences": every value, unchanged ones unmarked.
    await page.getByTestId('compare-only-diff').uncheck();
    assert.equal(await values.locator('tbody tr[data-key]').count(), c.rows.length);
    assert.deepEqual(await cellsOf('backends:simulator.kind'), [
      'simulator.kind',
      'quantum-simulator',
      'quantum-simulator',
      'quantum-simulator',
    ]);
    assert.equal(await tasks.locator('tbody tr').count(), c.pairs[1]!.tasks.length);
    await atEachSize(page, 'compare-three-all', async () => {
      await values.locator('tr.section-row', { hasText: 'Backends' }).scrollIntoViewIfNeeded();
    });
    await page.getByTestId('compare-only-diff').check();
    assert.deepEqual(ui.errors, []);
  });
});
