/**
 * The dashboard's Placement tab and reloads, in Debian's Chromium against a real head service
 * in this process (a second local backend `lab` with the label site=lab), at 1440x900 and
 * 1024x700 (issue 17, bugs 2-4):
 * - Save refuses while a field is invalid, naming the rule and field; the head refuses a rule
 *   whose constraint was dropped;
 * - a rule nothing can satisfy now carries a warning, and the preview says when a rule overrides
 *   the backend a function names in its code;
 * - a reload on #logs or #placement shows the same nodes and backends as navigating there.
 * Screenshots go to test-output/screenshots/placement-*.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { screenshot, type DashboardPage, VIEWPORTS, openLiveDashboard, waitLive } from './browser.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-e2e-placement-'));
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

type Service = Awaited<ReturnType<typeof HeadService.start>>;
let service: Service;

/** /api/<path> with the token, straight from the test. */
async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${service.info.url}/api/${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${service.info.token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
}

async function putRules(rules: unknown[]): Promise<void> {
  const r = await api('PUT', 'placement-rules', rules);
  assert.equal(r.status, 200, JSON.stringify(r.json));
}

/** Opens `#hash` in the logged-in page and reloads it there, as a researcher pressing F5 would. */
async function reloadOn(page: Page, hash: string): Promise<void> {
  await page.goto(`${service.info.url}/#${hash}`);
  await page.reload();
  await waitLive(page);
}

/** The option values of a select, once they stop changing (the feed may still be filling it). */
async function optionsOf(page: Page, selector: string, expected: number): Promise<string[]> {
  await page
    .waitForFunction(([s, n]) => document.querySelectorAll(`${s} option`).length >= n, [selector, expected] as const, {
      timeout: 5_000,
    })
    .catch(() => undefined);
  return page.locator(`${selector} option`).evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
}

before(async () => {
  service = await HeadService.start({
    port: 0,
    numCpus: 1,
    session: 'e2e-placement',
    backends: [{ name: 'lab', kind: 'local', numCpus: 1, labels: { site: 'lab' } }],
    log: () => undefined,
  });
  await orrery.init({ address: service.info.address, token: service.info.token });
  // Functions the preview lists: one that names its backend in code, one that does not.
  const pinned = orrery.remote({ name: 'pinnedLocal', backend: 'local' }, () => 'local');
  const free = orrery.remote({ name: 'freeFn' }, () => 'any');
  assert.deepEqual(await orrery.get([pinned.remote(), free.remote()]), ['local', 'any']);
  for (let i = 0; i < 100; i++) {
    const nodes = (await api<{ backend: string }[]>('GET', 'nodes')).json;
    if (nodes.some((n) => n.backend === 'lab')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
});

for (const viewport of VIEWPORTS) {
  const size = `${viewport.width}x${viewport.height}`;
  describe(`placement and reloads at ${size}`, () => {
    let ui: DashboardPage;
    let page: Page;

    before(async () => {
      ui = await openLiveDashboard(service.login.newUrl().url, viewport);
      page = ui.page;
    });

    after(async () => {
      await ui?.browser.close();
    });

    test('bug 2: Save refuses while a labels field is invalid, naming rule and field; the head refuses a rule with its constraint dropped', async () => {
      const kept = [{ match: { name: 'onLab*' }, require: { backend: 'lab' } }];
      await putRules(kept);
      await reloadOn(page, 'placement');
      await page.getByLabel('rule 1 require backend').waitFor();
      await page.getByRole('button', { name: 'Add rule' }).click();
      const labels = page.getByLabel('rule 2 prefer labels');
      await labels.fill('gpu');
      await labels.press('Tab');
      assert.equal(await labels.evaluate((el) => (el as HTMLInputElement).checkValidity()), false, 'the field is red');
      await page.getByRole('button', { name: 'Save rules' }).click();
      const message = page.getByTestId('rules-message');
      await message.filter({ hasText: 'Not saved' }).waitFor({ timeout: 5_000 });
      assert.match(
        await message.innerText(),
        /Not saved: Rule 2 prefer labels is invalid: label "gpu" must be key=value/,
      );
      await screenshot(page, `placement-invalid-${size}`);
      assert.deepEqual((await api('GET', 'placement-rules')).json, kept, 'nothing was stored');

      // The head refuses what a dropped constraint leaves behind, whoever sends it.
      const empty = await api<{ error: string; fields: Record<string, string> }>('PUT', 'placement-rules', [
        ...kept,
        { match: {} },
      ]);
      assert.equal(empty.status, 400);
      assert.match(empty.json.error, /placementRules\[1\] has no require, prefer or avoid: it would match every task/);
      assert.deepEqual(Object.keys(empty.json.fields), ['placementRules[1]']);
      const hollow = await api<{ fields: Record<string, string> }>('PUT', 'placement-rules', [
        { match: {}, prefer: {} },
      ]);
      assert.equal(hollow.status, 400);
      assert.deepEqual(Object.keys(hollow.json.fields), ['placementRules[0].prefer']);
      assert.deepEqual((await api('GET', 'placement-rules')).json, kept, 'a refused list changes nothing');

      // Fixed, it saves.
      await labels.fill('site=lab');
      await labels.press('Tab');
      await page.getByRole('button', { name: 'Save rules' }).click();
      await message.filter({ hasText: 'Saved 2 rule' }).waitFor({ timeout: 5_000 });
      assert.deepEqual((await api('GET', 'placement-rules')).json, [
        ...kept,
        { match: {}, prefer: { labels: { site: 'lab' } } },
      ]);
    });

    test('bug 3: a rule nothing can satisfy is flagged; the preview says when a rule overrides the backend in code', async () => {
      await putRules([]);
      await reloadOn(page, 'placement');
      await page.getByRole('button', { name: 'Add rule' }).click();
      await page.getByLabel('rule 1 name glob').fill('pinned*');
      await page.getByLabel('rule 1 name glob').press('Tab');
      await page.getByLabel('rule 1 require labels').fill('site=mars');
      await page.getByLabel('rule 1 require labels').press('Tab');
      await page.getByRole('button', { name: 'Preview' }).click();
      const warning = page.getByTestId('rule-warning-1');
      await warning.waitFor({ timeout: 5_000 });
      assert.match(
        await warning.innerText(),
        /No node or backend can satisfy this rule now: nothing live has labels site=mars/,
      );
      assert.match(
        await page.locator('tr[data-function=pinnedLocal]').innerText(),
        /nothing \(would wait, then fail\)/,
      );
      await screenshot(page, `placement-unsatisfiable-${size}`);

      // The API behind it: no candidate for the rule, and the function's own backend.
      const preview = await api<{
        functions: { name: string; ownBackend: string | null; candidates: string[] }[];
        rules: { index: number; candidates: string[] }[];
      }>('POST', 'placement-rules/preview', {
        rules: [{ match: { name: 'pinned*' }, require: { labels: { site: 'mars' } } }],
      });
      assert.deepEqual(preview.json.rules, [{ index: 0, candidates: [] }]);
      const pinned = preview.json.functions.find((f) => f.name === 'pinnedLocal');
      assert.deepEqual([pinned?.ownBackend, pinned?.candidates], ['local', []]);

      // Requiring lab instead: satisfiable, but it overrides `backend: 'local'` in pinnedLocal's code.
      await page.getByLabel('rule 1 require labels').fill('');
      await page.getByLabel('rule 1 require labels').press('Tab');
      await page.getByLabel('rule 1 require backend').selectOption('lab');
      await page.getByRole('button', { name: 'Preview' }).click();
      const row = page.locator('tr[data-function=pinnedLocal]');
      await row.getByTestId('backend-override').waitFor({ timeout: 5_000 });
      assert.match(await row.innerText(), /lab\s*rule #1 overrides backend: 'local' in its code/);
      assert.equal(await page.locator('tr[data-function=freeFn] [data-testid=backend-override]').count(), 0);
      assert.equal(await warning.isHidden(), true, 'the warning goes once a node can satisfy the rule');
      await screenshot(page, `placement-override-${size}`);
    });

    test('bug 4: after a reload on #logs, #placement and #results, their lists are complete', async () => {
      const nodes = (await api<{ nodeId: string }[]>('GET', 'nodes')).json;
      const backends = (await api<{ name: string }[]>('GET', 'backends')).json.map((b) => b.name);
      assert.ok(nodes.length >= 2 && backends.includes('lab'), JSON.stringify({ nodes, backends }));

      await reloadOn(page, 'logs');
      const shown = await optionsOf(page, '[data-testid=log-source]', nodes.length + 1);
      assert.deepEqual(shown.filter(Boolean).sort(), nodes.map((n) => n.nodeId).sort(), 'every node after a reload');
      await screenshot(page, `placement-reload-logs-${size}`);

      await putRules([{ match: { name: 'x*' }, require: { backend: 'lab' } }]);
      await reloadOn(page, 'placement');
      await page.getByLabel('rule 1 require backend').waitFor();
      const menu = await optionsOf(page, '[data-role=require-backend]', backends.length + 1);
      assert.deepEqual(menu.filter(Boolean).sort(), [...backends].sort(), 'every backend after a reload');
      await screenshot(page, `placement-reload-placement-${size}`);

      // Results: the finished functions' cards come with the snapshot, not with the next 5-second poll.
      await reloadOn(page, 'results');
      await page.locator('[data-testid=result-cards] figure[data-task]').nth(1).waitFor({ timeout: 3_000 });
      const cards = await page.locator('[data-testid=result-cards] figcaption').allInnerTexts();
      assert.ok(cards.includes('pinnedLocal') && cards.includes('freeFn'), JSON.stringify(cards));
      assert.deepEqual(ui.errors, []);
    });
  });
}
