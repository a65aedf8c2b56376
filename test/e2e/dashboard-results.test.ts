/**
 * Issue 17 item 4, results worth looking at, in Debian's Chromium against a real head service
 * running real tasks (circuits on the local quantum simulator), at 1440x900 and 1024x700:
 * measurement counts as a histogram with axes, shots and probabilities (top-k and "other" for
 * many outcomes); expectation values with error bars; the circuit's QASM in the task panel;
 * number, array and nested-object cards that stay inside their cards; ObjectRef arguments as
 * links to the task that made them; task facts (job id, device, queue position, cost) that
 * update live. Screenshots go to test-output/screenshots/results-*.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { screenshot, type DashboardPage, headGet, VIEWPORTS, openLiveDashboard } from './browser.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-e2e-results-'));
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

type Service = Awaited<ReturnType<typeof HeadService.start>>;
const BELL_SHOTS = 2000;
const BELL = `OPENQASM 3.0;
include "stdgates.inc";
input float theta;
qubit[2] q;
bit[2] c;
ry(theta) q[0];
cx q[0], q[1];
c = measure q;
`;
/** Six qubits in superposition: 64 outcomes, more than the histogram shows one by one. */
const WIDE = `OPENQASM 3.0;
include "stdgates.inc";
qubit[6] q;
bit[6] c;
h q;
c = measure q;
`;
const LONG_KEY = 'optimiserToleranceForTheFinalConvergenceCheckOfTheVariationalLoop';

let service: Service;
const ids = new Map<string, string>();
/** Files the facts task waits for, one per step (the test moves the job through the queue). */
const signals = mkdtempSync(join(tmpdir(), 'orrery-e2e-results-signals-'));

const apiGet = <T>(path: string): Promise<T> => headGet<T>(service.info, path);

/** Whether an element's content is wider than its box (clipped or overflowing). */
function overflows(l: Locator): Promise<boolean> {
  return l.evaluate((el) => el.scrollWidth > el.clientWidth + 1);
}

/** Whether every part of `inner` lies inside `outer`'s box. */
async function inside(inner: Locator, outer: Locator): Promise<boolean> {
  const [a, b] = [await inner.boundingBox(), await outer.boundingBox()];
  return !!a && !!b && a.x >= b.x - 0.5 && a.x + a.width <= b.x + b.width + 0.5;
}

before(async () => {
  service = await HeadService.start({
    port: 0,
    numCpus: 2,
    session: 'e2e-results',
    backends: [{ name: 'sim', kind: 'quantum-simulator', seed: 7, maxConcurrent: 2 }],
    log: () => undefined,
  });
  await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
  const bell = orrery
    .circuit({ name: 'bell', backend: 'sim', shots: BELL_SHOTS, seed: 11 })
    .remote(BELL, { theta: 1.2 });
  const wide = orrery.circuit({ name: 'wide', backend: 'sim', shots: 4096, seed: 3 }).remote(WIDE);
  const energy = orrery.remote({ name: 'energyEstimate' }, () => ({ value: -1.13728, std: 0.0041, shots: 8000 }));
  const estimator = orrery.remote({ name: 'estimator' }, () => ({
    evs: [0.981, -0.124, 0.452, 0.05],
    stds: [0.012, 0.031, 0.022, 0.04],
    observables: ['ZZ', 'XX', 'ZI', 'IZ'],
  }));
  const curve = orrery.remote({ name: 'lossCurve' }, () =>
    Array.from({ length: 200 }, (_, i) => Math.exp(-i / 40) + 0.000123456789012345 * Math.sin(i)),
  );
  const nested = orrery.remote({ name: 'nestedSummary' }, (key: string) => ({
    energy: -1.1372838344885023,
    bestParams: [0.12345678901234568, -2.5, 3.25],
    config: { optimiser: 'COBYLA', tolerance: 1e-12, ansatz: 'x'.repeat(300) },
    [key]: 123456789012345680000,
    note: 'a'.repeat(500),
  }));
  const makeData = orrery.remote({ name: 'makeData' }, () => [1, 2, 3]);
  const consume = orrery.remote({ name: 'consumeData' }, (xs: number[], scale: number) => xs.length * scale);
  const data = makeData.remote();
  const put = orrery.put(10);
  const consumed = consume.remote(data, put as unknown as number);
  const refs = { bell, wide, energy: energy.remote(), estimator: estimator.remote(), curve: curve.remote() };
  const nestedRef = nested.remote(LONG_KEY);
  await orrery.get([...Object.values(refs), nestedRef, data, consumed] as never[]);
  for (const [k, r] of Object.entries(refs)) ids.set(k, r.id);
  ids.set('nested', nestedRef.id);
  ids.set('makeData', data.id);
  ids.set('consumeData', consumed.id);
  ids.set('put', put.id);
});

after(async () => {
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
});

for (const viewport of VIEWPORTS) {
  const size = `${viewport.width}x${viewport.height}`;
  describe(`dashboard results at ${size}`, () => {
    let ui: DashboardPage;
    let page: Page;
    const tab = (name: string) => page.getByRole('tab', { name, exact: true }).click();
    const shot = (name: string) => screenshot(page, `results-${name}-${size}`);
    /** Opens a task's panel from the Tables tab (search by id, double-click its row). */
    const openPanel = async (id: string) => {
      await tab('Tables');
      await page.getByLabel('Search').fill(id);
      await page
        .getByTestId('table-count')
        .filter({ hasText: /^1 of / })
        .waitFor();
      await page.locator('.vt-body .vt-row').first().dblclick();
      await page.locator(`.task-detail[data-task-id="${id}"]`).waitFor();
    };
    const card = (name: string) =>
      page
        .getByTestId('result-cards')
        .locator('figure.card')
        .filter({ has: page.locator(`figcaption[title="${name}"]`) });

    before(async () => {
      ui = await openLiveDashboard(service.login.newUrl().url, viewport);
      page = ui.page;
    });
    after(async () => {
      await ui?.browser.close();
    });

    test('counts: a histogram with a probability axis, ticks, shots and each outcome labelled', async () => {
      await tab('Results');
      const bell = card('bell');
      await bell.locator('[data-testid=counts]').waitFor({ timeout: 15_000 });
      const detail = await apiGet<{ result: { json: { counts: Record<string, number>; shots: number } } }>(
        `tasks/${ids.get('bell')}`,
      );
      const counts = detail.result.json.counts;
      const caption = await bell.getByTestId('counts-caption').innerText();
      assert.match(
        caption,
        new RegExp(`^${BELL_SHOTS.toLocaleString('en-US')} shots · ${Object.keys(counts).length} outcomes`),
      );
      const bars = bell.locator('rect.bar');
      assert.equal(await bars.count(), Object.keys(counts).length);
      for (const [outcome, n] of Object.entries(counts)) {
        const bar = bell.locator(`rect.bar[data-outcome="${outcome}"]`);
        assert.equal(Number(await bar.getAttribute('data-count')), n);
        assert.match(
          (await bar.locator('title').textContent()) ?? '',
          new RegExp(`^${outcome}: ${n.toLocaleString('en-US')} of 2,000 shots \\(\\d+\\.\\d%\\)$`),
        );
        const label = `${((n / BELL_SHOTS) * 100).toFixed(n / BELL_SHOTS >= 0.1 ? 1 : 2)}%`;
        assert.ok((await bell.locator('text.bar-label').allTextContents()).includes(label), `bar label ${label}`);
      }
      const ticks = await bell.locator('text.tick').allTextContents();
      assert.ok(ticks.length >= 3, `probability ticks: ${ticks.join(' ')}`);
      assert.deepEqual(ticks, ['0%', '20%', '40%', '60%'], 'round probability ticks up to the tallest bar (68.5%)');
      assert.ok((await bell.locator('svg text').allTextContents()).includes('probability'), 'the y axis is named');
      const outcomes = await bell.locator('text.outcome').allTextContents();
      assert.deepEqual(outcomes, Object.keys(counts).sort(), 'outcomes on x, in bitstring order');
      assert.equal(await inside(bell.locator('svg'), bell), true);
      await bell.scrollIntoViewIfNeeded();
      await shot('counts');
      // A card's caption opens its task.
      await bell.locator('figcaption').click();
      await page.locator(`.task-detail[data-task-id="${ids.get('bell')}"]`).waitFor();
      await page.keyboard.press('Escape');
    });

    test('counts: many outcomes show the most frequent and one "other" bar', async () => {
      const wide = card('wide');
      await wide.locator('[data-testid=counts]').waitFor();
      assert.equal(await wide.locator('rect.bar').count(), 16);
      const other = wide.locator('rect.bar.other');
      assert.match((await other.getAttribute('data-outcome')) ?? '', /^other \(49\)$/);
      assert.match(await wide.getByTestId('counts-caption').innerText(), /4,096 shots · 64 outcomes · top 15 shown/);
      const counts = (
        await apiGet<{ result: { json: { counts: Record<string, number> } } }>(`tasks/${ids.get('wide')}`)
      ).result.json.counts;
      const top = Object.values(counts).sort((a, b) => b - a);
      assert.equal(Number(await wide.locator('rect.bar').first().getAttribute('data-count')), top[0]);
      const rest = top.slice(15).reduce((s, n) => s + n, 0);
      assert.equal(Number(await other.getAttribute('data-count')), rest, '"other" holds the rest');
      // "other" (about 75%) would flatten the outcomes (about 2% each): the axis follows them and "other" is drawn cut.
      assert.match((await other.getAttribute('class')) ?? '', /\bcut\b/);
      const ticks = (await wide.locator('text.tick').allTextContents()).map((t) => Number.parseFloat(t));
      assert.ok(Math.max(...ticks) < 10, `the axis ends near the largest outcome: ${ticks.join(' ')}`);
      await wide.scrollIntoViewIfNeeded();
      await shot('counts-many');
    });

    test('expectation values: value ± error, and an estimator result as points with error bars', async () => {
      const one = card('energyEstimate');
      await one.getByTestId('estimates').waitFor();
      assert.match(await one.locator('.result-number').innerText(), /^-1\.13728\s*±\s*0\.0041\s*std$/);
      assert.equal(await one.locator('g.error-bar').count(), 1);
      const many = card('estimator');
      await many.getByTestId('estimates').waitFor();
      const bars = many.locator('g.error-bar');
      assert.equal(await bars.count(), 4);
      assert.deepEqual(
        await bars.evaluateAll((gs) =>
          gs.map((g) => [Number(g.getAttribute('data-value')), Number(g.getAttribute('data-error'))]),
        ),
        [
          [0.981, 0.012],
          [-0.124, 0.031],
          [0.452, 0.022],
          [0.05, 0.04],
        ],
      );
      // The bar of ZZ spans value ± std on the plot's scale: its length is 2 std in axis units.
      const span = await bars.first().evaluate((g) => {
        const l = g.querySelector('line')!;
        return Math.abs(Number(l.getAttribute('y2')) - Number(l.getAttribute('y1')));
      });
      assert.ok(span > 2, `the error bar is drawn (${span} px)`);
      assert.deepEqual(await many.locator('svg text.axis:not(.tick)').allTextContents(), ['ZZ', 'XX', 'ZI', 'IZ']);
      await many.scrollIntoViewIfNeeded();
      await shot('estimates');
    });

    test('cards hold long numbers, long arrays and nested objects without overflowing', async () => {
      for (const name of ['lossCurve', 'nestedSummary', 'energyEstimate', 'bell', 'wide', 'estimator']) {
        const c = card(name);
        await c.waitFor();
        assert.equal(await overflows(c), false, `${name}: nothing runs out of the card`);
        for (const part of await c.locator('.v, .result-number, svg, .plot-caption, pre').all())
          assert.equal(await inside(part, c), true, `${name}: a part stays inside the card`);
      }
      const nested = card('nestedSummary');
      const key = nested.locator('.result-fields .k', { hasText: LONG_KEY });
      assert.equal(await key.getAttribute('title'), LONG_KEY, 'a long key keeps its name in the tooltip');
      const big = nested.locator('.result-fields .v').filter({ hasText: '1.2345679e20' });
      assert.equal(await big.getAttribute('title'), '123456789012345680000', 'a wide number in full in the tooltip');
      assert.equal(await nested.locator('.plot-title').innerText(), 'bestParams', 'the number series is plotted');
      assert.match(await nested.locator('.result-fields .v.nested').first().innerText(), /"optimiser":"COBYLA"/);
      assert.match(await card('lossCurve').locator('.plot-caption').innerText(), /^200 values, last /);
      await nested.scrollIntoViewIfNeeded();
      await shot('cards');
    });

    test("the panel shows a circuit's QASM, collapsible and copyable, with its shots and parameters", async () => {
      await openPanel(ids.get('bell')!);
      const block = page.getByTestId('task-circuit');
      await block.waitFor();
      assert.equal(await page.getByTestId('task-qasm').innerText(), BELL);
      assert.match(await block.locator('summary').innerText(), /OpenQASM, 8 lines · 2,000 shots · seed 11/);
      assert.equal(await page.getByTestId('task-qasm-params').innerText(), 'parameters: theta = 1.2');
      // A session's copy of the task (the replay's panel) has the same program, read from its recorded parameters.
      const recorded = await apiGet<{ circuit?: { source: string; params?: Record<string, number> } }>(
        `sessions/e2e-results/tasks/${ids.get('bell')}`,
      );
      assert.deepEqual(recorded.circuit && [recorded.circuit.source, recorded.circuit.params], [BELL, { theta: 1.2 }]);
      await page.getByTestId('task-circuit').locator('summary').scrollIntoViewIfNeeded();
      await shot('panel-qasm');
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.getByTestId('copy-qasm').click();
      await page
        .getByTestId('copy-qasm')
        .filter({ hasText: /copied|selected/ })
        .waitFor();
      if ((await page.getByTestId('copy-qasm').innerText()) === 'copied')
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), BELL);
      await block.locator('summary').click({ position: { x: 5, y: 5 } });
      assert.equal(await page.getByTestId('task-qasm').isVisible(), false, 'collapsed');
      await block.locator('summary').click({ position: { x: 5, y: 5 } });
      assert.equal(await page.getByTestId('task-qasm').isVisible(), true, 'open again');
      // The result below it is the same histogram as on the card.
      assert.equal(await page.locator('.task-detail rect.bar').count(), await card('bell').locator('rect.bar').count());
      await page.keyboard.press('Escape');
    });

    test('ObjectRef arguments link to the task that made them; a put value says so', async () => {
      await openPanel(ids.get('consumeData')!);
      const args = page.getByTestId('task-args');
      const link = args.locator(`button.arg-ref[data-ref-task="${ids.get('makeData')}"]`);
      await link.waitFor();
      assert.match(await link.innerText(), /^ObjectRef\(makeData …[0-9a-f]{8}\)$/);
      assert.match((await args.locator('.arg-ref-put').getAttribute('title')) ?? '', /a put\(\) value/);
      const recorded = await apiGet<{ argRefs?: { id: string; taskId?: string; name?: string }[] }>(
        `sessions/e2e-results/tasks/${ids.get('consumeData')}`,
      );
      assert.deepEqual(
        recorded.argRefs?.find((r) => r.id === ids.get('makeData')),
        { id: ids.get('makeData'), taskId: ids.get('makeData'), name: 'makeData' },
        "a replay's panel links the same task",
      );
      await shot('panel-refs');
      await link.click();
      await page.locator(`.task-detail[data-task-id="${ids.get('makeData')}"]`).waitFor();
      assert.equal(await page.locator('aside.panel h2').innerText(), 'makeData');
      await page.keyboard.press('Escape');
    });

    test('task facts (job id, device, queue position, cost) show in the panel and update live', async () => {
      const step = (n: number) => writeFileSync(join(signals, `${viewport.width}-${n}`), '');
      const queued = orrery.remote({ name: 'queuedJob' }, async (dir: string) => {
        const { recordTaskInfo } = await import('orrery-compute');
        const { existsSync: has } = await import('node:fs');
        const wait = async (f: string) => {
          while (!has(`${dir}-${f}`)) await new Promise((r) => setTimeout(r, 50));
        };
        recordTaskInfo({ jobId: 'job-7f3a9c', device: 'ibm_fake_kyiv', jobStatus: 'Queued', queuePosition: 3 });
        await wait('1');
        recordTaskInfo({ queuePosition: 1 });
        await wait('2');
        recordTaskInfo({ jobStatus: 'Done', queuePosition: 0, costUsd: 0.42 });
        return 'done';
      });
      const ref = queued.remote(join(signals, String(viewport.width)));
      await openPanel(ref.id);
      const facts = page.getByTestId('task-info');
      const fact = (k: string) => facts.locator(`[data-fact=${k}] .v`);
      await fact('queuePosition').filter({ hasText: '#3 in the queue' }).waitFor({ timeout: 15_000 });
      assert.equal(await fact('jobId').innerText(), 'job-7f3a9c');
      assert.equal(await fact('device').innerText(), 'ibm_fake_kyiv');
      assert.equal(await fact('jobStatus').innerText(), 'Queued');
      assert.equal(await facts.locator('[data-fact=costUsd]').count(), 0);
      await shot('panel-facts-queued');
      step(1);
      await fact('queuePosition').filter({ hasText: '#1 in the queue' }).waitFor({ timeout: 15_000 });
      step(2);
      await fact('costUsd').filter({ hasText: '$0.42' }).waitFor({ timeout: 15_000 });
      assert.equal(await fact('jobStatus').innerText(), 'Done');
      assert.match(await fact('queuePosition').innerText(), /left the queue/);
      assert.equal(await orrery.get(ref), 'done');
      await shot('panel-facts-done');
      await page.keyboard.press('Escape');
      assert.ok(existsSync(join(signals, `${viewport.width}-2`)));
    });

    test('no page errors', () => {
      assert.deepEqual(
        ui.errors.filter((e) => !e.includes('Failed to load resource')),
        [],
      );
    });
  });
}
