/**
 * The dashboard in Debian's Chromium against a real head service in this process: backends
 * added through the form, a placement rule that moves the next task, a 1,000-task graph, task
 * logs, sessions opened and compared, keyboard navigation, and no console errors. Screenshots of
 * each main view go to test-output/screenshots/.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { screenshot, type DashboardPage, headGet, openLiveDashboard, waitLive } from './browser.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-e2e-'));
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

type Service = Awaited<ReturnType<typeof HeadService.start>>;
const EARLIER = 'e2e-earlier';
const LIVE = 'e2e-live';

let service: Service;
let ui: DashboardPage;
let page: Page;

const apiGet = <T>(path: string): Promise<T> => headGet<T>(service.info, path);

async function tab(name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
}

before(async () => {
  // A finished session to open and compare: three squares, recorded by an embedded head.
  await orrery.init({ numCpus: 1, session: EARLIER });
  const square = orrery.remote({ name: 'square' }, (x: number) => x * x);
  assert.deepEqual(await orrery.get([1, 2, 3].map((i) => square.remote(i))), [1, 4, 9]);
  await orrery.shutdown();

  service = await HeadService.start({ port: 0, numCpus: 2, session: LIVE, log: () => undefined });
  await orrery.init({ address: service.info.address, token: service.info.token });
  // As a browser opening `orrery dashboard`'s login page would: a one-time URL, traded for a session cookie.
  ui = await openLiveDashboard(service.login.newUrl().url);
  page = ui.page;
});

after(async () => {
  await ui?.browser.close();
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
});

describe('dashboard', () => {
  test('logs in through a one-time URL: the code leaves the address bar, the cookie is HttpOnly, no token anywhere in the page', async () => {
    assert.equal(new URL(page.url()).search, '', page.url());
    assert.equal(new URL(page.url()).pathname, '/');
    const cookies = await page.context().cookies(service.info.url);
    assert.deepEqual(
      cookies.map((c) => [c.name, c.httpOnly, c.sameSite, c.path]),
      [[`orrery-session-${new URL(service.info.url).port}`, true, 'Strict', '/']],
    );
    assert.notEqual(cookies[0]!.value, service.info.token);
    assert.equal(await page.evaluate('document.cookie'), '', "the page's scripts cannot read the session");
    assert.ok(!(await page.content()).includes(service.info.token));
    const again = await page.context().request.get(`${service.info.url}/api/nodes?token=${service.info.token}`);
    assert.equal(again.status(), 401, 'a token in the URL is refused');
  });

  test('a login page file, as `orrery dashboard` opens it, takes a fresh browser to the live dashboard once', async () => {
    const { path } = service.login.newPage();
    const context = await ui.browser.newContext();
    try {
      const fresh = await context.newPage();
      await fresh.goto(`file://${path}`);
      await waitLive(fresh);
      assert.equal(new URL(fresh.url()).origin, service.info.url);
      assert.equal(new URL(fresh.url()).search, '');
      assert.ok(!existsSync(path), 'the page is removed once used');
      const other = await (await ui.browser.newContext()).newPage();
      const refused = await other.goto(fresh.url().replace(/\/#.*$/, '/api/nodes'));
      assert.equal(refused?.status(), 401, 'another browser without the cookie gets nothing');
    } finally {
      await context.close();
    }
  });

  test('a browser without a login is told how to get one, and goes live once it logs in', async () => {
    const context = await ui.browser.newContext({ viewport: { width: 1024, height: 700 } });
    try {
      const fresh = await context.newPage();
      await fresh.goto(`${service.info.url}/`);
      const note = fresh.getByTestId('banner-signed-out');
      await note.waitFor();
      assert.match(await note.innerText(), /not logged in.*orrery dashboard --url/s);
      assert.equal(await fresh.getByTestId('connection').innerText(), 'not logged in');
      await fresh.screenshot({ path: join('test-output', 'screenshots', 'signed-out-1024.png') });
      // Logging in in another tab of the same browser sets the cookie: this tab reconnects on its own.
      const login = await context.newPage();
      await login.goto(service.login.newUrl().url);
      await waitLive(fresh, 15_000);
      assert.equal(await note.isHidden(), true);
    } finally {
      await context.close();
    }
  });

  test('adds a labelled local backend through the form, with field errors shown next to the field', async () => {
    await tab('Backends');
    await page.getByRole('button', { name: 'Add backend' }).first().click();
    const form = page.locator('form.backend-form');
    await form.locator('select[name=kind]').selectOption('local');
    await form.getByRole('button', { name: 'Add backend' }).click();
    assert.match(await form.locator('[data-error-for=name]').innerText(), /name is required/);
    await form.locator('[name=name]').fill('lab');
    await form.locator('[name=numCpus]').fill('1');
    await form.locator('[name=labels]').fill('{ "site": "lab" }');
    await form.getByRole('button', { name: 'Add backend' }).click();
    await page.locator('tr[data-backend=lab]').waitFor();
    const backends = await apiGet<{ name: string; kind: string }[]>('backends');
    assert.ok(
      backends.some((b) => b.name === 'lab' && b.kind === 'local'),
      JSON.stringify(backends),
    );
    const nodes = await apiGet<{ backend: string; labels: Record<string, string> }[]>('nodes');
    assert.equal(nodes.find((n) => n.backend === 'lab')?.labels.site, 'lab');
    await screenshot(page, 'backends');
  });

  test('a saved rule requiring the new backend places the next task there', async () => {
    await tab('Placement');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('rule 1 name glob').fill('onLab*');
    await page.getByLabel('rule 1 name glob').press('Tab');
    await page.getByLabel('rule 1 require backend').selectOption('lab');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByTestId('rules-message').filter({ hasText: 'Saved 1 rule' }).waitFor();
    assert.deepEqual(await apiGet('placement-rules'), [{ match: { name: 'onLab*' }, require: { backend: 'lab' } }]);
    await screenshot(page, 'placement');

    const probe = orrery.remote({ name: 'onLabProbe' }, () => 'ran');
    assert.equal(await orrery.get(probe.remote()), 'ran');
    const labNode = (await apiGet<{ nodeId: string; backend: string }[]>('nodes')).find(
      (n) => n.backend === 'lab',
    )!.nodeId;
    await tab('Tables');
    await page.getByLabel('Search').fill('onLabProbe');
    await page
      .getByTestId('table-count')
      .filter({ hasText: /^1 of / })
      .waitFor();
    await page.locator('.vt-body .vt-row').first().dblclick();
    await page.getByTestId('task-backend').filter({ hasText: 'lab' }).waitFor();
    assert.equal(await page.getByTestId('task-node').innerText(), labNode);
    assert.match(await page.getByTestId('task-rule').innerText(), /^#1 /);
    await screenshot(page, 'task-panel');
    await page.keyboard.press('Escape');
    await page.getByLabel('Search').fill('');
  });

  test('a 1,000-task graph completes on screen', async () => {
    await tab('Task graph');
    const square = orrery.remote({ name: 'square' }, (x: number) => x * x);
    const plusOne = orrery.remote({ name: 'plusOne' }, (x: number) => x + 1);
    const refs = Array.from({ length: 500 }, (_, i) => plusOne.remote(square.remote(i)));
    const values = await orrery.get(refs);
    assert.deepEqual(
      values,
      Array.from({ length: 500 }, (_, i) => i * i + 1),
    );
    const finished = (await apiGet<unknown[]>('tasks?filter=state=FINISHED&limit=100000')).length;
    assert.ok(finished >= 1000, `the head finished ${finished} tasks`);
    await page
      .getByTestId('graph-count-FINISHED')
      .filter({ hasText: new RegExp(`^${finished}$`) })
      .waitFor({ timeout: 30_000 });
    assert.match(await page.getByTestId('graph-total').innerText(), new RegExp(`^${finished} tasks`));
    await screenshot(page, 'graph');
  });

  test("a task's output shows in its panel and streams in the Logs tab", async () => {
    const marker = `hello-from-e2e-${Date.now()}`;
    const printer = orrery.remote({ name: 'printer' }, (m: string) => {
      console.log(m);
      return m.length;
    });
    assert.equal(await orrery.get(printer.remote(marker)), marker.length);
    await tab('Tables');
    await page.getByLabel('Search').fill('printer');
    await page
      .getByTestId('table-count')
      .filter({ hasText: /^1 of / })
      .waitFor();
    await page.locator('.vt-body .vt-row').first().dblclick();
    await page.getByTestId('task-logs').filter({ hasText: marker }).waitFor();
    await page.getByRole('button', { name: 'Follow in Logs tab' }).click();
    await page.getByTestId('log-lines').filter({ hasText: marker }).waitFor();
    await screenshot(page, 'logs');
    await tab('Tables');
    await page.getByLabel('Search').fill('');
  });

  test('sessions: open a finished one for replay, compare two, resume and export', async () => {
    await tab('Sessions');
    await page.locator(`tr[data-session=${EARLIER}]`).waitFor();
    await page.locator(`tr[data-session=${LIVE}]`).waitFor();
    await page.locator(`tr[data-session=${EARLIER}]`).getByRole('button', { name: 'Open' }).click();
    await page
      .getByTestId('sessions-message')
      .filter({ hasText: `Opened ${EARLIER}: 3 tasks` })
      .waitFor();
    await tab('Task graph');
    await page
      .getByTestId('graph-total')
      .filter({ hasText: /^3 tasks/ })
      .waitFor();
    assert.equal(await page.getByTestId('graph-count-FINISHED').innerText(), '3');
    await screenshot(page, 'session-replay');
    await page.getByRole('button', { name: 'Back to live' }).click();
    await tab('Sessions');
    await page.getByTestId('compare-a').selectOption(EARLIER);
    await page.getByTestId('compare-b').selectOption(LIVE);
    await page.getByRole('button', { name: 'Compare' }).click();
    const result = page.getByTestId('compare-result');
    await result.locator('tbody tr').first().waitFor();
    // Both sessions ran `square`: its first three tasks match by name and position.
    assert.match(await result.locator('tbody').innerText(), /square/);
    assert.match(await result.locator('p').innerText(), /matched: [1-9]/);
    const href = await page.locator(`tr[data-session=${EARLIER}] a`).getAttribute('href');
    assert.equal(href, `/api/sessions/${EARLIER}/export`, 'the link carries no credential');
    assert.equal((await fetch(new URL(href!, service.info.url))).status, 401, 'the link alone gets nothing');
    const downloading = page.waitForEvent('download');
    await page.locator(`tr[data-session=${EARLIER}] a`).click();
    const download = await downloading;
    assert.equal(await download.failure(), null);
    assert.ok(
      statSync((await download.path())!).size > 100,
      'the browser downloaded the export with its session cookie',
    );
    await page.locator(`tr[data-session=${EARLIER}]`).getByRole('button', { name: 'Resume' }).click();
    assert.equal(await page.getByTestId('resume-command').innerText(), `orrery start --resume ${EARLIER}`);
    await screenshot(page, 'sessions');
    await page.keyboard.press('Escape');
  });

  test('keyboard: arrows move between tabs and rows, Enter opens a row, Esc closes the panel', async () => {
    await tab('Task graph');
    await page.locator('#tab-graph').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#tab-tables').getAttribute('aria-selected'), 'true');
    assert.equal(await page.evaluate('document.activeElement.id'), 'tab-tables');
    const grid = page.getByRole('grid', { name: 'Tasks' });
    await grid.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('.vt-body .vt-row.selected').getAttribute('data-index'), '1');
    // The id cell shows the id's end (`…0000000f`); its tooltip holds the whole id.
    const second = await page.locator('.vt-body .vt-row.selected div.vt-check + div').getAttribute('title');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('.task-detail').getAttribute('data-task-id'), second);
    await page.keyboard.press('Escape');
    await page.locator('aside.panel').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate('document.activeElement.getAttribute("role")'), 'grid');
  });

  test('the objects table shows where each object is and the bytes it moved (direct, through the head)', async () => {
    const ref = orrery.put(new Uint8Array(200_000).fill(1));
    assert.equal((await orrery.get(ref)).length, 200_000);
    await page.locator('#tab-tables').click();
    await page.locator('.subtab[data-table="objects"]').click();
    const grid = page.getByRole('grid', { name: 'objects' });
    await grid.locator('.vt-row').first().waitFor();
    const headers = await grid.getByRole('columnheader').allTextContents();
    for (const h of ['objectId', 'locations', 'directBytes', 'relayBytes'])
      assert.ok(headers.includes(h), `${h} in ${headers.join(', ')}`);
    await screenshot(page, 'objects-table');
  });

  test('cluster and results views render, and no console errors happened', async () => {
    await tab('Cluster');
    await page.locator('[data-testid=cluster-nodes] [data-backend=lab]').waitFor();
    await page.waitForTimeout(1500);
    await screenshot(page, 'cluster');
    await tab('Results');
    await page.getByTestId('result-cards').locator('figure').first().waitFor();
    await screenshot(page, 'results');
    assert.deepEqual(ui.errors, []);
  });
});
