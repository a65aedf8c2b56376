/**
 * Monitoring in the dashboard, in Debian's Chromium, against a real head service with real local
 * agents (two backends) whose GPUs come from a stand-in `nvidia-smi` (test/integration/
 * fake-nvidia-smi.ts: this machine has no GPU):
 * - issue 17 bug 5: node logs and the usage chart survive a reload (the head keeps both and
 *   the page loads them), and a replay of the session shows them from the session;
 * - item 6: usage per node with time axes and units, GPU lines on the node that has GPUs; cost
 *   so far per backend in the Cluster tab and in the sessions list.
 * Every check runs at 1440x900 and 1024x700; screenshots go to test-output/screenshots/.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { type DashboardPage, headGet, VIEWPORTS, atEachSize, openLiveDashboard, waitLive } from './browser.ts';
import { installFakeNvidiaSmi } from '../integration/fake-nvidia-smi.ts';
import type { CostSummary, NodeRow, NodeUsageSample } from '../../orchestrator/protocol/state-rows.ts';

const home = mkdtempSync(join(tmpdir(), 'orrery-e2e-monitoring-'));
process.env.ORRERY_HOME = home;
installFakeNvidiaSmi(home);
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

type Service = Awaited<ReturnType<typeof HeadService.start>>;
const SESSION = 'e2e-monitoring';

let service: Service;
let ui: DashboardPage;
let page: Page;
let local: NodeRow;

const apiGet = <T>(path: string): Promise<T> => headGet<T>(service.info, path);

async function tab(name: string): Promise<void> {
  await page.getByRole('tab', { name, exact: true }).click();
}

/** Polls until `probe` is truthy (a safety net against hangs, not a timing assertion). */
async function until<T>(what: string, probe: () => Promise<T>, limitMs = 20_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Points of the chart's line for `series` on node `nodeId`. */
async function points(nodeId: string, series: string): Promise<number> {
  const lines = page.locator(
    `[data-testid="node-usage-chart"][data-node="${nodeId}"] polyline[data-series="${series}"]`,
  );
  let n = 0;
  for (const p of await lines.all()) n += ((await p.getAttribute('points')) ?? '').split(' ').filter(Boolean).length;
  return n;
}

before(async () => {
  service = await HeadService.start({
    port: 0,
    numCpus: 2,
    session: SESSION,
    // Declared without GPUs: its agent does not ask nvidia-smi, so its chart has no GPU lines.
    backends: [
      { name: 'lab', kind: 'local', numCpus: 1, numGpus: 0 },
      { name: 'qsim', kind: 'quantum-simulator', maxConcurrent: 2 },
    ],
    log: () => undefined,
  });
  await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
  const chatty = orrery.remote({ name: 'chatty', backend: 'local' }, (n: number) => {
    for (let i = 0; i < n; i++) console.log(`monitor line ${i}`);
    console.error('monitor warning');
    return n;
  });
  const billed = orrery.remote({ name: 'billed' }, async (usd: number) => {
    const { recordTaskInfo } = await import('orrery-compute');
    recordTaskInfo({ costUsd: usd });
    return usd;
  });
  assert.equal(await orrery.get(chatty.remote(20)), 20);
  await orrery.get([
    billed.options({ backend: 'lab' }).remote(0.25),
    billed.options({ backend: 'lab' }).remote(0.5),
    billed.options({ backend: 'local' }).remote(0.125),
  ]);
  local = (await apiGet<NodeRow[]>('nodes')).find((n) => n.backend === 'local')!;
  await until('three GPU samples of the local node', async () => {
    const r = await apiGet<{ samples: NodeUsageSample[] }>(`usage?node=${local.nodeId}`);
    return r.samples.filter((s) => s.gpus === 2).length >= 3;
  });
  ui = await openLiveDashboard(service.login.newUrl().url, VIEWPORTS[0]);
  page = ui.page;
});

after(async () => {
  await ui?.browser.close();
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
});

describe('dashboard monitoring', () => {
  test('bug 5: node logs and the usage chart are still there after a reload', async () => {
    await tab('Logs');
    await page.getByTestId('log-source').selectOption(local.nodeId);
    const out = page.getByTestId('log-lines');
    await out.filter({ hasText: 'monitor line 19' }).waitFor();
    await tab('Cluster');
    const chart = page.locator(`[data-testid="node-usage-chart"][data-node="${local.nodeId}"]`);
    await chart.waitFor();
    const before = await points(local.nodeId, 'cpu');
    assert.ok(before >= 3, `cpu points before the reload: ${before}`);

    // Reload on the Logs tab: the node chosen before comes back with the lines printed before the reload.
    await tab('Logs');
    await page.reload();
    await waitLive(page);
    await page.getByTestId('log-source').selectOption(local.nodeId);
    await atEachSize(page, 'monitoring-logs-after-reload', async () => {
      await out.filter({ hasText: 'monitor line 19' }).waitFor();
      const text = await out.innerText();
      for (let i = 0; i < 20; i++)
        assert.ok(text.includes(`monitor line ${i}\n`) || text.endsWith(`monitor line ${i}`));
      assert.match(text, /\[err\] monitor warning/);
    });
    // A second reload needs no choice: the tab remembers the node.
    await page.reload();
    await out.filter({ hasText: 'monitor line 0' }).waitFor();
    assert.equal(await page.getByTestId('log-source').inputValue(), local.nodeId);

    // Reload on the Cluster tab: the chart is drawn at once from the head's history, not from empty.
    await tab('Cluster');
    await page.reload();
    await waitLive(page);
    await atEachSize(page, 'monitoring-cluster-after-reload', async () => {
      await chart.locator('polyline[data-series="cpu"]').first().waitFor({ state: 'attached' });
      const after = await points(local.nodeId, 'cpu');
      assert.ok(after >= before, `the ${before} samples from before the reload are drawn (${after} now)`);
    });
    assert.deepEqual(ui.errors, []);
  });

  test('usage per node has time and percent axes, units, GPU lines only where there are GPUs, QPU slots on a quantum node', async () => {
    await tab('Cluster');
    const nodes = await apiGet<NodeRow[]>('nodes');
    const lab = nodes.find((n) => n.backend === 'lab')!;
    const chart = page.locator(`[data-testid="node-usage-chart"][data-node="${local.nodeId}"]`);
    const labChart = page.locator(`[data-testid="node-usage-chart"][data-node="${lab.nodeId}"]`);
    await atEachSize(page, 'monitoring-cluster', async () => {
      await chart.locator('polyline[data-series="gpu"]').first().waitFor({ state: 'attached' });
      for (const s of ['cpu', 'memory', 'gpu', 'gpu-memory'])
        assert.ok((await points(local.nodeId, s)) >= 3, `a ${s} line`);
      const legend = await chart.locator('.usage-legend').innerText();
      assert.match(legend, /GPU\s+50 % \(2 GPUs\)/, 'the mean of 37 % and 63 %');
      assert.match(legend, /GPU memory\s+60\.0 GiB \/ 159\.3 GiB/);
      assert.match(legend, /memory\s+[\d.]+ GiB \/ [\d.]+ GiB/);
      assert.match(legend, /CPU\s+\d+ %/);
      const axis = await chart.locator('text.axis-label').allTextContents();
      assert.ok(axis.includes('0%') && axis.includes('100%'), `percent axis ${axis}`);
      assert.ok(
        axis.some((t) => /^\d\d:\d\d(:\d\d)?$/.test(t)),
        `time axis labels ${axis}`,
      );
      assert.match((await chart.locator('svg').getAttribute('aria-label')) ?? '', /percent of the node/);
      // The lab node has no GPUs: CPU and memory lines, no GPU line or legend entry.
      await labChart.locator('polyline[data-series="cpu"]').first().waitFor({ state: 'attached' });
      assert.equal(await labChart.locator('polyline[data-series^="gpu"]').count(), 0);
      assert.doesNotMatch(await labChart.locator('.usage-legend').innerText(), /GPU/);
      // The quantum node: its QPU slots in use.
      const qsim = nodes.find((n) => n.backend === 'qsim')!;
      const qChart = page.locator(`[data-testid="node-usage-chart"][data-node="${qsim.nodeId}"]`);
      await qChart.locator('polyline[data-series="qpu"]').first().waitFor({ state: 'attached' });
      assert.match(await qChart.locator('.usage-legend').innerText(), /QPU slots\s+0 \/ 2 in use/);
      const box = await chart.boundingBox();
      assert.ok(box && box.width <= VIEWPORTS[1].width, 'charts fit the window');
    });
    assert.deepEqual(ui.errors, []);
  });

  test('cost so far per backend in the Cluster tab and per session in the sessions list', async () => {
    const cost = await apiGet<CostSummary>('cost');
    assert.equal(cost.totalUsd, 0.875);
    await tab('Cluster');
    const box = page.getByTestId('cost');
    await atEachSize(page, 'monitoring-cost', async () => {
      await box.locator('tr[data-backend="lab"]').waitFor();
      assert.match(await box.locator('tr[data-backend="lab"]').innerText(), /lab\s+2\s+\$0\.7500/);
      assert.match(await box.locator('tr[data-backend="local"]').innerText(), /local\s+1\s+\$0\.1250/);
      assert.match(await page.getByTestId('cost-total').innerText(), /this session\s+3\s+\$0\.8750/);
    });
    await tab('Sessions');
    const row = page.locator(`tr[data-session="${SESSION}"]`);
    await atEachSize(page, 'monitoring-sessions-cost', async () => {
      await row.locator('td[data-col="cost"]').filter({ hasText: '$0.8750' }).waitFor();
    });
    assert.deepEqual(ui.errors, []);
  });

  test('a replay of the session shows its usage chart, node logs and cost from the session', async () => {
    await tab('Sessions');
    await page.locator(`tr[data-session="${SESSION}"]`).getByRole('button', { name: 'Open' }).click();
    await page
      .getByTestId('sessions-message')
      .filter({ hasText: `Opened ${SESSION}` })
      .waitFor();
    await tab('Cluster');
    const chart = page.locator(`[data-testid="node-usage-chart"][data-node="${local.nodeId}"]`);
    await atEachSize(page, 'monitoring-replay-cluster', async () => {
      await chart.locator('polyline[data-series="gpu"]').first().waitFor({ state: 'attached' });
      assert.ok((await points(local.nodeId, 'cpu')) >= 3);
      assert.match(
        await page.getByTestId('cost-total').innerText(),
        new RegExp(`session ${SESSION}\\s+3\\s+\\$0\\.8750`),
      );
      assert.match(await page.getByTestId('cluster-source').innerText(), /usage and cost it recorded/);
    });
    await tab('Logs');
    await page.getByTestId('log-source').selectOption(local.nodeId);
    const out = page.getByTestId('log-lines');
    await atEachSize(page, 'monitoring-replay-logs', async () => {
      await out.filter({ hasText: 'monitor line 19' }).waitFor();
      assert.match(await out.innerText(), /monitor line 0/);
    });
    await page.getByRole('button', { name: 'Back to live' }).click();
    assert.deepEqual(ui.errors, []);
  });
});
