/**
 * The Runs tab (issue 17 item 1) and the compared sessions' curves (item 5) in Debian's
 * Chromium, against a real head service in this process:
 * - with no hash in the URL the dashboard opens on Runs; the VQE example started as `npm start`
 *   starts it (a dashboard example) shows as a run with its circuit progress, its output, and its
 *   energy curve drawn against the exact value it converges to;
 * - a client-mode driver under `orrery run` that logs a loss and then throws shows as failed,
 *   with its error, its printed output and its curve;
 * - a recorded session opened for replay shows its runs and curves;
 * - comparing two sessions overlays their metric curves with each one's last and lowest value.
 * Every check runs at 1440x900 and 1024x700; screenshots go to test-output/screenshots/.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { screenshot, type DashboardPage, headGet, VIEWPORTS, atEachSize, openLiveDashboard } from './browser.ts';
import type { JobsReply } from '../../orchestrator/protocol/state-rows.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-e2e-runs-'));
// The example the dashboard starts inherits these: a short VQE.
process.env.VQE_ITERATIONS = '15';
process.env.VQE_SHOTS = '1024';
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

type Service = Awaited<ReturnType<typeof HeadService.start>>;
const LIVE = 'e2e-runs-live';
const A = 'e2e-runs-a';
const B = 'e2e-runs-b';

let service: Service;
let ui: DashboardPage;
let page: Page;

const apiGet = <T>(path: string): Promise<T> => headGet<T>(service.info, path);

async function apiPost(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${service.info.url}/api/${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${service.info.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

async function tab(name: string): Promise<void> {
  await page.getByRole('tab', { name, exact: true }).click();
}

/** A recorded session whose driver logs a loss falling from `start` by `factor` per step. */
async function record(session: string, start: number, factor: number): Promise<void> {
  await orrery.init({ numCpus: 1, session });
  try {
    const square = orrery.remote({ name: 'square' }, (x: number) => x * x);
    let loss = start;
    for (let step = 0; step < 10; step++) {
      await orrery.get(square.remote(step));
      orrery.log({ loss, step });
      loss *= factor;
    }
  } finally {
    await orrery.shutdown();
  }
}

/** The polyline point count of each series of the chart titled `metric` inside `scope`. */
async function seriesPoints(scope: ReturnType<Page['locator']>, metric: string): Promise<number[]> {
  const lines = scope.locator(`figure[data-metric="${metric}"] polyline`);
  return await lines.evaluateAll((ls) => ls.map((l) => (l.getAttribute('points') ?? '').trim().split(/\s+/).length));
}

before(async () => {
  await record(A, 1, 0.7);
  await record(B, 1.2, 0.8);
  service = await HeadService.start({ port: 0, numCpus: 2, session: LIVE, log: () => undefined });
  ui = await openLiveDashboard(service.login.newUrl().url, VIEWPORTS[0]);
  page = ui.page;
});

after(async () => {
  await ui?.browser.close();
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
});

describe('dashboard runs', () => {
  test('opens on Runs: the VQE example (as npm start runs it) shows its progress, output and energy converging to the exact value', async () => {
    assert.equal(new URL(page.url()).hash, '#runs');
    assert.equal(await page.getByRole('tab', { name: 'Runs' }).getAttribute('aria-selected'), 'true');
    const { pid } = (await apiPost('examples/run', { name: 'vqe-h2' })) as { pid: number };
    const row = page.locator('tbody[data-run]').filter({ hasText: 'vqe-h2.ts' });
    // While it runs: its status, and the circuits' progress with a rate as they finish.
    await row.getByTestId('run-status').filter({ hasText: 'running' }).waitFor({ timeout: 60_000 });
    await row
      .locator('.name-progress[data-name="circuit"]')
      .filter({ hasText: /\d+\/\d+\s+[\d.]+\/s/ })
      .waitFor({ timeout: 60_000 });
    await screenshot(page, 'runs-vqe-live-1440');
    await row.getByTestId('run-status').filter({ hasText: 'succeeded' }).waitFor({ timeout: 180_000 });
    const { jobs, metrics } = await apiGet<JobsReply>('jobs');
    const job = jobs.find((j) => j.pid === pid);
    assert.ok(job, `a run with the example's pid ${pid} among ${JSON.stringify(jobs.map((j) => j.pid))}`);
    assert.match(job.script ?? '', /vqe-h2\.ts$/);
    const energy = metrics.filter((m) => m.jobId === job.jobId && m.key === 'energy');
    const exact = metrics.filter((m) => m.jobId === job.jobId && m.key === 'energy/exact');
    assert.equal(energy.length, 16, 'fifteen iterations and the final energy');
    assert.ok(Math.abs(exact[0]!.value - -1.857275) < 1e-3, `exact energy ${exact[0]?.value}`);
    assert.ok(
      Math.abs(energy.at(-1)!.value - exact[0]!.value) < Math.abs(energy[0]!.value - exact[0]!.value),
      'the energy ends closer to the exact value than it started',
    );
    // 18 circuits per iteration plus the final two: all done, with the rate they ran at.
    const circuits = row.locator('.name-progress[data-name="circuit"]');
    await circuits.filter({ hasText: '272/272' }).waitFor();
    assert.match(await circuits.innerText(), /\/s/);
    assert.match(
      await row.getByTestId('run-result').innerText(),
      new RegExp(
        `^energy ${String(+energy.at(-1)!.value.toPrecision(6))}\\s+energy/exact ${String(+exact[0]!.value.toPrecision(6))}`,
      ),
    );
    await atEachSize(page, 'runs-vqe', async () => {
      const chart = page.getByTestId('run-curves').locator('figure[data-metric="energy"]');
      await chart.waitFor();
      assert.deepEqual(await seriesPoints(page.getByTestId('run-curves'), 'energy'), [16, 16]);
      assert.match(await chart.locator('.chart-legend').innerText(), /energy\s+energy\/exact/);
      assert.equal(await chart.locator('polyline[stroke-dasharray]').count(), 1, 'the exact value is dashed');
      assert.equal(await chart.locator('text.axis-label').first().textContent(), 'step');
      // The chart and every column of the run fit the window.
      for (const el of [chart, row.getByTestId('run-result')]) {
        const box = await el.boundingBox();
        assert.ok(box && box.x + box.width <= page.viewportSize()!.width, JSON.stringify(box));
      }
    });
    await row.getByRole('button', { name: /\d+ lines/ }).click();
    await row.getByTestId('run-output').filter({ hasText: 'exact energy' }).waitFor();
    assert.match(await row.getByTestId('run-output').innerText(), /VQE energy\s+-1\.\d+ Ha/);
    await screenshot(page, 'runs-vqe-output-1024');
    await row.getByRole('button', { name: /lines/ }).click();
    assert.equal(await row.getByTestId('run-output').count(), 0, 'the output folds away again');
  });

  test('a client-mode driver under `orrery run` that throws: failed, with its error, output and curve', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-e2e-driver-'));
    const script = join(dir, 'failing-driver.ts');
    const api = pathToFileURL(resolve('orchestrator/api/index.ts')).href;
    writeFileSync(
      script,
      `import { init, log, remote, get } from ${JSON.stringify(api)};
await init();
console.log('hello from the driver');
const double = remote({ name: 'double' }, (x: number) => 2 * x);
for (let step = 0; step < 5; step++) log({ loss: await get(double.remote(10 - step)) }, { step });
throw new Error('the loss did not converge');
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'orchestrator/cli/main.ts', 'run', script], {
      env: { ...process.env, ORRERY_ADDRESS: service.info.address, ORRERY_TOKEN: service.info.token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    child.stdout.on('data', (c: Buffer) => (printed += c));
    child.stderr.on('data', (c: Buffer) => (printed += c));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 1, printed);
    assert.match(printed, /hello from the driver/, 'the terminal still shows the output');
    const row = page.locator('tbody[data-run]').filter({ hasText: 'failing-driver.ts' });
    await row.getByTestId('run-status').filter({ hasText: 'failed' }).waitFor({ timeout: 30_000 });
    assert.match(await row.getByTestId('run-result').innerText(), /Error: the loss did not converge/);
    assert.match(await row.locator('.name-progress[data-name="double"]').innerText(), /5\/5/);
    await row.locator('td.run-script').click();
    await atEachSize(page, 'runs-failed', async () => {
      await page.getByTestId('run-curves').locator('figure[data-metric="loss"]').waitFor();
      assert.deepEqual(await seriesPoints(page.getByTestId('run-curves'), 'loss'), [5]);
      // The run's own numbers, without log(): the newest result of each of its task names.
      const card = page.getByTestId('run-results').locator('figure').filter({ hasText: 'double' });
      await card.filter({ hasText: /^double\s*12$/ }).waitFor();
    });
    await row.getByRole('button', { name: /lines/ }).click();
    const output = await row.getByTestId('run-output').innerText();
    assert.match(output, /hello from the driver/);
    assert.match(output, /the loss did not converge/);
    await screenshot(page, 'runs-failed-output-1024');
  });

  test('a session opened for replay shows its runs and curves', async () => {
    await tab('Sessions');
    await page.locator(`tr[data-session=${A}]`).getByRole('button', { name: 'Open' }).click();
    await page
      .getByTestId('sessions-message')
      .filter({ hasText: `Opened ${A}` })
      .waitFor();
    await tab('Runs');
    const row = page.locator('tbody[data-run]');
    await row.first().waitFor();
    assert.equal(await row.count(), 1);
    assert.match(await row.getByTestId('run-status').innerText(), /succeeded/);
    assert.match(await row.getByTestId('run-progress').innerText(), /square[\s\S]*10\/10/);
    await atEachSize(page, 'runs-replay', async () => {
      assert.deepEqual(await seriesPoints(page.getByTestId('run-curves'), 'loss'), [10]);
    });
    await page.getByRole('button', { name: 'Back to live' }).click();
    await page.locator('tbody[data-run]').filter({ hasText: 'vqe-h2.ts' }).waitFor();
  });

  test('comparing two sessions overlays their curves with last and lowest values', async () => {
    await tab('Sessions');
    await page.getByTestId('compare-a').selectOption(A);
    await page.getByTestId('compare-b').selectOption(B);
    await page.getByRole('button', { name: 'Compare' }).click();
    const curves = page.getByTestId('compare-curves');
    await curves.locator('figure[data-metric="loss"]').waitFor();
    assert.deepEqual(await seriesPoints(curves, 'loss'), [10, 10]);
    const rows = curves.getByTestId('compare-metrics').locator('tbody tr');
    const text = await rows.allInnerTexts();
    const cells = (t: string) => t.split('\t').map((c) => c.trim());
    assert.deepEqual(cells(text[0]!), [
      'loss',
      A,
      String(+(0.7 ** 9).toPrecision(6)),
      String(+(0.7 ** 9).toPrecision(6)),
      '10',
    ]);
    assert.deepEqual(cells(text[1]!), [
      'loss',
      B,
      String(+(1.2 * 0.8 ** 9).toPrecision(6)),
      String(+(1.2 * 0.8 ** 9).toPrecision(6)),
      '10',
    ]);
    await atEachSize(page, 'runs-compare', async () => {
      await curves.scrollIntoViewIfNeeded();
      assert.match(await curves.locator('.chart-legend').innerText(), new RegExp(`${A}\\s+${B}`));
    });
  });

  test('no console errors', () => {
    assert.deepEqual(ui.errors, []);
  });
});
