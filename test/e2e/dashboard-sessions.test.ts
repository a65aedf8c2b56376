/**
 * The dashboard's Sessions tab and session replay in Debian's Chromium, against a real head
 * service and sessions recorded by real embedded heads (local workers, the quantum simulator):
 * - the list shows when each session started and how many tasks it ran (issue 17, bug 1);
 * - Compare shows, per differing task, both values and the size of the difference, with an
 *   "only differences" filter, and tells circuits whose counts differ by sampling noise under
 *   another seed from circuits that really differ (bug 11);
 * - a replay's Cluster tab shows the session's recorded nodes, or says it recorded none, never
 *   the live cluster (bug 12).
 * Every check runs at 1440x900 and 1024x700; screenshots go to test-output/screenshots/.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { screenshot, type DashboardPage, headGet, VIEWPORTS, atEachSize, openLiveDashboard } from './browser.ts';
import type { SessionComparison, SessionNodeRow, SessionRow } from '../../orchestrator/protocol/state-rows.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-e2e-sessions-'));
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');
const { SessionStore } = await import('../../orchestrator/sessions/index.ts');

type Service = Awaited<ReturnType<typeof HeadService.start>>;
const A = 'e2e-cmp-a';
const B = 'e2e-cmp-b';
const NO_NODES = 'e2e-no-nodes';
const LIVE = 'e2e-sessions-live';
const SHOTS = 4000;

/** Two qubits rotated by `t`; `flip` adds an X on qubit 0, a really different circuit. */
const qasm = (flip: boolean): string => `OPENQASM 3.0;
include "stdgates.inc";
input float[64] t;
qubit[2] q;
bit[2] c;
ry(t) q[0];
h q[1];
${flip ? 'x q[0];\n' : ''}c = measure q;
`;

/** One recorded run: squares (identical in both), a scaled number, and three circuits on a seeded simulator. */
async function record(session: string, seed: number, scaleBy: number, flipLast: boolean): Promise<void> {
  await orrery.init({
    numCpus: 1,
    session,
    backends: [{ name: 'simulator', kind: 'quantum-simulator', seed }],
  });
  try {
    const square = orrery.remote({ name: 'square' }, (x: number) => x * x);
    const scale = orrery.remote({ name: 'scale' }, (x: number) => x * 1.5);
    const measure = orrery.circuit({ name: 'measure', backend: 'simulator', shots: SHOTS });
    assert.deepEqual(await orrery.get([1, 2, 3].map((i) => square.remote(i))), [1, 4, 9]);
    assert.equal(await orrery.get(scale.remote(scaleBy)), scaleBy * 1.5);
    await orrery.get([
      measure.remote(qasm(false), { t: 0.4 }),
      measure.remote(qasm(false), { t: 1.1 }),
      measure.remote(qasm(flipLast), { t: 2.0 }),
    ]);
  } finally {
    await orrery.shutdown();
  }
}

let service: Service;
let ui: DashboardPage;
let page: Page;

const apiGet = <T>(path: string): Promise<T> => headGet<T>(service.info, path);

async function tab(name: string): Promise<void> {
  await page.getByRole('tab', { name, exact: true }).click();
}

/** The text of the cell under the header `column` in `row` (found by header, so a moved column still counts). */
async function cell(table: ReturnType<Page['locator']>, row: ReturnType<Page['locator']>, column: string) {
  const heads = await table.locator('thead th').allInnerTexts();
  const i = heads.findIndex((h) => h.trim() === column);
  assert.ok(i >= 0, `a column "${column}" among ${JSON.stringify(heads)}`);
  return (await row.locator('td').nth(i).innerText()).trim();
}

before(async () => {
  await record(A, 7, 2, false);
  await record(B, 8, 3, true);
  // A session recorded without any node (as a head that crashed before its first node joined).
  const rec = new SessionStore().record(NO_NODES, { orreryVersion: 'e2e' });
  rec.recordTaskSubmitted({
    taskId: 'lonely-0',
    name: 'lonely',
    kind: 'task',
    functionHash: 'h',
    params: [],
    argsPreview: '[]',
    ts: Date.now() - 50,
  });
  rec.recordTaskState('lonely-0', { state: 'FAILED', ts: Date.now() });
  await rec.close();

  service = await HeadService.start({ port: 0, numCpus: 1, session: LIVE, log: () => undefined });
  ui = await openLiveDashboard(service.login.newUrl().url, VIEWPORTS[0]);
  page = ui.page;
});

after(async () => {
  await ui?.browser.close();
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
});

describe('dashboard sessions', () => {
  test('bug 1: the sessions list shows when each session started and how many tasks it ran, as the API says', async () => {
    const listed = await apiGet<SessionRow[]>('sessions');
    const a = listed.find((s) => s.name === A)!;
    assert.equal(a.totalTasks, 7, 'the API counts 3 squares, 1 scale, 3 circuits');
    await tab('Sessions');
    const table = page.getByRole('table', { name: 'Sessions' });
    await atEachSize(page, 'sessions-list', async () => {
      for (const s of listed) {
        const row = table.locator(`tr[data-session="${s.name}"]`);
        await row.waitFor();
        const started = await cell(table, row, 'started');
        assert.match(started, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, `${s.name} started`);
        assert.equal(
          started,
          // A string, not a function: tsx's helpers (__name) do not exist in the page.
          await page.evaluate(
            `(() => { const d = new Date(${s.createdAt}); const p = (n) => String(n).padStart(2, '0');
              return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' +
                p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()); })()`,
          ),
          `${s.name}: createdAt ${s.createdAt} in the browser's time zone`,
        );
        const failed = s.taskCounts.FAILED ?? 0;
        assert.equal(
          await cell(table, row, 'tasks'),
          `${s.totalTasks}${failed ? ` (${failed} failed)` : ''}`,
          `${s.name} tasks`,
        );
      }
    });
  });

  test('bug 11: compare shows both values and the size of each difference, sampling noise as such, and filters to differences', async () => {
    const c = await apiGet<SessionComparison>(`sessions/compare?a=${A}&b=${B}`);
    const circuits = c.tasks.filter((t) => t.name === 'measure');
    assert.equal(circuits.length, 3);
    // The API's own verdicts, which the view must show: two seeded re-runs are noise, the flipped circuit is not.
    assert.deepEqual(
      circuits.map((t) => [t.status, t.resultDiff?.counts?.withinSamplingNoise]),
      [
        ['differs', true],
        ['differs', true],
        ['differs', false],
      ],
      JSON.stringify(circuits.map((t) => t.resultDiff?.counts)),
    );
    assert.equal(c.counts.withinSamplingNoise, 2);
    const scaleRow = c.tasks.find((t) => t.name === 'scale')!;
    assert.deepEqual([scaleRow.params, scaleRow.resultA, scaleRow.resultB], ['differ', '3', '4.5']);
    assert.equal(scaleRow.resultDiff?.maxAbsDiff, 1.5);

    await tab('Sessions');
    await page.getByTestId('compare-a').selectOption(A);
    await page.getByTestId('compare-b').selectOption(B);
    await page.getByRole('button', { name: 'Compare' }).click();
    const out = page.getByTestId('compare-result');
    const table = out.locator('table');
    await table.locator('tbody tr').first().waitFor();
    const differing = c.tasks.filter((t) => t.status !== 'same');
    await atEachSize(page, 'sessions-compare', async () => {
      assert.equal(await page.getByTestId('compare-only-diff').isChecked(), true, 'only differences by default');
      assert.equal(await table.locator('tbody tr').count(), differing.length, 'the same squares are filtered out');
      assert.equal(await table.locator('tbody tr.cmp-same').count(), 0);
      assert.match(await page.getByTestId('compare-summary').innerText(), /2 within sampling noise/);
      assert.match(await page.getByTestId('compare-timing').innerText(), /B\/A ×/);
      const rows = table.locator('tbody tr');
      for (let i = 0; i < differing.length; i++) {
        const t = differing[i]!;
        const row = rows.nth(i);
        assert.equal(await cell(table, row, 'task'), t.name);
        assert.equal(await cell(table, row, 'A value'), t.resultA ?? '–');
        assert.equal(await cell(table, row, 'B value'), t.resultB ?? '–');
        const diff = await cell(table, row, 'difference');
        assert.notEqual(diff, '', `row ${i} (${t.name}) says how it differs`);
        if (t.resultDiff?.counts) {
          const k = t.resultDiff.counts;
          assert.match(diff, new RegExp(`counts: ${k.changedKeys} outcomes? changed`));
          assert.match(diff, new RegExp(`shots ${SHOTS} vs ${SHOTS}`));
          assert.match(diff, k.withinSamplingNoise ? /within sampling noise/ : /beyond sampling noise/);
          assert.match(await cell(table, row, 'A value'), /"counts":\{/);
        }
      }
      const scale = rows.filter({ hasText: 'scale' });
      assert.match(await cell(table, scale, 'difference'), /params \[2\] → \[3\]/);
      assert.match(await cell(table, scale, 'difference'), /max Δ 1\.5 \(33\.3%\)/);
      assert.equal(await cell(table, scale, 'differs in'), 'params, result');
    });

    await page.getByTestId('compare-hide-noise').check();
    assert.equal(await table.locator('tbody tr').count(), differing.length - 2, 'noise rows hidden');
    assert.equal(await table.locator('tbody tr.cmp-noise').count(), 0);
    await page.getByTestId('compare-hide-noise').uncheck();
    await page.getByTestId('compare-only-diff').uncheck();
    assert.equal(await table.locator('tbody tr').count(), c.tasks.length, 'every task without the filter');
    assert.equal(await table.locator('tbody tr.cmp-same').count(), c.counts.same);
    await screenshot(page, 'sessions-compare-all-1024');
    await page.getByTestId('compare-only-diff').check();
  });

  test("bug 12: a replay's Cluster tab shows the session's recorded nodes, never the live cluster", async () => {
    const recorded = await apiGet<SessionNodeRow[]>(`sessions/${A}/nodes`);
    const live = await apiGet<{ nodeId: string }[]>('nodes');
    assert.ok(recorded.length >= 1, `the session recorded its nodes: ${JSON.stringify(recorded)}`);
    assert.ok(live.length >= 1);
    assert.ok(!recorded.some((n) => live.some((l) => l.nodeId === n.nodeId)));

    await tab('Sessions');
    await page.locator(`tr[data-session=${A}]`).getByRole('button', { name: 'Open' }).click();
    await page
      .getByTestId('sessions-message')
      .filter({ hasText: `Opened ${A}` })
      .waitFor();
    await tab('Cluster');
    const nodes = page.getByTestId('cluster-nodes');
    await atEachSize(page, 'cluster-replay', async () => {
      await nodes.locator(`tr[data-node="${recorded[0]!.nodeId}"]`).waitFor();
      assert.match(await page.getByTestId('cluster-source').innerText(), new RegExp(`Replaying session ${A}`));
      const text = await nodes.innerText();
      for (const n of recorded) assert.ok(text.includes(n.nodeId), `recorded node ${n.nodeId} shown`);
      for (const n of live) assert.ok(!text.includes(n.nodeId), `live node ${n.nodeId} not shown while replaying`);
      assert.equal(await nodes.locator('tbody tr').count(), recorded.length);
      assert.equal(await page.locator('canvas.usage-chart').isVisible(), false, 'the live usage chart is hidden');
    });

    // A session that recorded no node says so, and still shows nothing of the live cluster.
    await page.getByRole('button', { name: 'Back to live' }).click();
    await tab('Sessions');
    await page.locator(`tr[data-session=${NO_NODES}]`).getByRole('button', { name: 'Open' }).click();
    await page
      .getByTestId('sessions-message')
      .filter({ hasText: `Opened ${NO_NODES}` })
      .waitFor();
    await tab('Cluster');
    await atEachSize(page, 'cluster-replay-no-nodes', async () => {
      await page.getByTestId('cluster-source').filter({ hasText: 'recorded no node data' }).waitFor();
      assert.equal(await nodes.locator('tr').count(), 0);
      const text = await nodes.innerText();
      for (const n of live) assert.ok(!text.includes(n.nodeId));
    });

    // Back to live: the live nodes return.
    await page.getByRole('button', { name: 'Back to live' }).click();
    await nodes.locator('td', { hasText: live[0]!.nodeId }).first().waitFor();
    assert.match(await page.getByTestId('cluster-source').innerText(), /live cluster/);
    assert.deepEqual(ui.errors, []);
  });
});
