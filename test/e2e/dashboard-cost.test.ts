/**
 * Cost and budgets in the dashboard (issue 18 item 6), in Debian's Chromium, against a real head
 * service with an ibm-quantum backend on the IBM emulator (API key in the real keychain: run
 * inside test/services/keyring.sh) and a session budget: IBM Quantum appears in the Cluster
 * tab's cost per backend, with the budget line; the job the budget refuses is never submitted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Entry } from '@napi-rs/keyring';
import type { Page } from 'playwright-core';
import { openDashboard, screenshot, type DashboardPage, headGet } from './browser.ts';
import { startIbmEmulator, type IbmEmulator } from '../emulators/ibm/index.ts';
import type { CostSummary } from '../../orchestrator/protocol/state-rows.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-e2e-cost-'));
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

const BELL =
  'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc[0] = measure q[0];\nc[1] = measure q[1];\n';
const secret = `orrery-test-ibm-e2e-cost-${randomBytes(4).toString('hex')}`;
let emu: IbmEmulator;
let service: Awaited<ReturnType<typeof HeadService.start>>;
let ui: DashboardPage;
let page: Page;

before(async () => {
  emu = await startIbmEmulator({ queueDelayMs: 30, runDelayMs: 10 });
  new Entry('orrery', secret).setPassword(emu.apiKey);
  service = await HeadService.start({
    port: 0,
    numCpus: 1,
    session: 'e2e-cost',
    budgetUsd: 8,
    backends: [
      {
        name: 'ibm',
        kind: 'ibm-quantum',
        instanceCrn: emu.instanceCrn,
        apiKeySecret: secret,
        url: emu.url,
        iamUrl: emu.iamUrl,
        pollIntervalMs: 20,
        budgetUsd: 100,
      },
    ],
    log: () => undefined,
  });
  await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
});

after(async () => {
  await ui?.browser.close();
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
  await emu?.close();
  new Entry('orrery', secret).deletePassword();
});

test('IBM Quantum jobs show their cost per backend and the budgets in the Cluster tab; the 3rd job is refused', async () => {
  const bell = orrery.circuit({ backend: 'ibm', shots: 1000 });
  for (let i = 0; i < 2; i++) await orrery.get(bell.remote(BELL));
  await assert.rejects(orrery.get(bell.remote(BELL)), { name: 'BudgetExceededError' });
  assert.equal(emu.jobs().length, 2);

  const cost = await headGet<CostSummary>(service.info, 'cost');
  assert.deepEqual(cost.byBackend, [{ backend: 'ibm', usd: 6.4, tasks: 2 }]);
  assert.equal(cost.budget?.budgetUsd, 8);
  assert.equal(cost.budget?.spentUsd, 6.4);

  ui = await openDashboard(service.login.newUrl().url, { width: 1440, height: 900 });
  page = ui.page;
  await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
  await page.getByRole('tab', { name: 'Cluster', exact: true }).click();
  const box = page.getByTestId('cost');
  await box.locator('tr[data-backend="ibm"]').filter({ hasText: '$6.40' }).waitFor();
  assert.match(await box.locator('[data-budget="this session"]').innerText(), /\$6\.40 spent of \$8\.00/);
  assert.match(await box.locator('[data-budget="backend ibm"]').innerText(), /\$6\.40 spent of \$100\.00/);
  await screenshot(page, 'cost-budget-1440');
});
