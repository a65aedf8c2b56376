/**
 * Issue 17 item 2 in Debian's Chromium, against a real head service in this process with real
 * workers, at 1440x900 and 1024x700: from the task panel a task is cancelled (plain and forced,
 * each confirmed in an in-page dialog that Esc dismisses), retried, re-run, its actor killed and
 * its whole run cancelled; from the Tables tab a checkbox selection (Shift+click ranges, all
 * rows shown) is cancelled and retried in bulk. Every action is checked against the head's own
 * API. Screenshots go to test-output/screenshots/actions-*.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { screenshot, type DashboardPage, headGet, VIEWPORTS, openLiveDashboard } from './browser.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-e2e-actions-'));
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

type Service = Awaited<ReturnType<typeof HeadService.start>>;

interface Row {
  taskId: string;
  name: string;
  state: string;
  errorType: string;
  retryOf: string;
  jobId: string;
}

let service: Service;
const apiGet = <T>(path: string): Promise<T> => headGet<T>(service.info, path);
const tasksNamed = (name: string) => apiGet<Row[]>(`tasks?filter=${encodeURIComponent(`name=${name}`)}`);

/** Polls until `probe` gives a value (or throws after `ms`). */
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleeper = (name: string) =>
  orrery.remote({ name, maxRetries: 0 }, async (ms: number) => {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  });

/** Swallows the rejection of a ref this test cancels on purpose. */
const expectCancel = (ref: Promise<unknown>) => ref.catch((e: Error) => e.name);

before(async () => {
  service = await HeadService.start({ port: 0, numCpus: 2, session: 'e2e-actions', log: () => undefined });
  await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
});

after(async () => {
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
});

for (const viewport of VIEWPORTS) {
  const size = `${viewport.width}x${viewport.height}`;
  /** Task names of this viewport's run, so the two runs do not see each other's tasks. */
  const n = (base: string) => `${base}_${viewport.width}`;
  describe(`dashboard actions at ${size}`, { timeout: 300_000 }, () => {
    let ui: DashboardPage;
    let page: Page;
    const tab = (name: string) => page.getByRole('tab', { name }).click();
    const shot = (name: string) => screenshot(page, `actions-${name}-${size}`);

    /** Opens the panel of the task with this id from the Tables tab. */
    async function openPanel(name: string, id: string): Promise<void> {
      await tab('Tables');
      await page.getByLabel('Search').fill(id);
      await page
        .getByTestId('table-count')
        .filter({ hasText: /^1 of / })
        .waitFor();
      await page.locator('.vt-body .vt-row').first().dblclick();
      await page.locator(`.task-detail[data-task-id="${id}"]`).waitFor();
      assert.equal(await page.locator('aside.panel h2').first().innerText(), name);
    }

    async function closePanel(): Promise<void> {
      await page.keyboard.press('Escape');
      await page.locator('aside.panel').waitFor({ state: 'hidden' });
      await page.getByLabel('Search').fill('');
    }

    const button = (testid: string) => page.getByTestId(testid);
    const dialog = () => page.getByTestId('confirm-dialog');

    before(async () => {
      ui = await openLiveDashboard(service.login.newUrl().url, viewport);
      page = ui.page;
    });
    after(async () => {
      assert.deepEqual(ui.errors, [], 'no console or page errors');
      await ui?.browser.close();
    });

    test('cancel from the panel: confirmed in an in-page dialog that Esc dismisses; then the task is cancelled', async () => {
      const name = n('panelSleeper');
      const ref = expectCancel(orrery.get(sleeper(name).remote(120_000)));
      const [row] = await until('the sleeper to run', async () => {
        const r = await tasksNamed(name);
        return r[0]?.state === 'RUNNING' && r;
      });
      await openPanel(name, row!.taskId);
      assert.equal(await button('action-retry').isDisabled(), true, 'a running task cannot be retried');
      assert.match((await button('action-retry').getAttribute('title'))!, /only a failed or cancelled task/);
      assert.equal(await button('action-retry').evaluate((el) => getComputedStyle(el).cursor), 'not-allowed');

      await button('action-cancel').click();
      await dialog().waitFor();
      assert.equal(await page.evaluate('document.activeElement.dataset.testid'), 'confirm-no', 'Keep has the focus');
      await shot('confirm-cancel');
      await page.keyboard.press('Escape');
      await dialog().waitFor({ state: 'detached' });
      assert.equal(await page.locator('aside.panel').isVisible(), true, 'Esc closed the dialog, not the panel');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await tasksNamed(name))[0]!.state, 'RUNNING', 'a dismissed dialog cancels nothing');

      // The keyboard alone: Tab from Keep to the confirm button, Enter.
      await button('action-cancel').click();
      await dialog().waitFor();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement.dataset.testid'), 'confirm-yes');
      await page.keyboard.press('Enter');
      await button('action-outcome')
        .filter({ hasText: /^Cancelled; the task is now FAILED\.$/ })
        .waitFor();
      assert.equal(await ref, 'TaskCancelledError');
      const [after] = await tasksNamed(name);
      assert.equal(after!.errorType, 'TaskCancelledError');
      await until('the buttons to follow the state', async () => await button('action-cancel').isDisabled());
      await page
        .getByTestId('task-state')
        .filter({ hasText: /^FAILED$/ })
        .waitFor();
      assert.equal(await button('action-retry').isDisabled(), false, 'a cancelled task can be retried');
      await shot('cancelled');
    });

    test('retry from the panel: the new task is a link, opens in the panel, and force cancel kills it', async () => {
      const name = n('panelSleeper');
      const [old] = await tasksNamed(name);
      await button('action-retry').click();
      const link = button('action-new-task');
      await link.waitFor();
      assert.match(await button('action-outcome').innerText(), /^Retried as new task …?[0-9a-f]+\.$/);
      const newId = (await link.getAttribute('title'))!;
      const retried = await until('the retry to run', async () => {
        const r = (await tasksNamed(name)).find((t) => t.taskId === newId);
        return r?.state === 'RUNNING' && r;
      });
      assert.equal(retried.retryOf, old!.taskId);
      await shot('retried');
      await link.click();
      await page.locator(`.task-detail[data-task-id="${newId}"]`).waitFor();
      assert.equal(await page.getByTestId('task-retry-of').getAttribute('title'), old!.taskId);

      await button('action-force-cancel').click();
      await dialog().getByText('workers are killed at once').waitFor();
      await dialog().getByTestId('confirm-yes').click();
      await button('action-outcome')
        .filter({ hasText: /^Cancelled \(forced\); the task is now FAILED\.$/ })
        .waitFor();
      const forced = (await tasksNamed(name)).find((t) => t.taskId === newId)!;
      assert.equal(forced.errorType, 'TaskCancelledError');
      await closePanel();
    });

    test('re-run a finished task from the panel; Retry stays disabled for it', async () => {
      const name = n('panelSquare');
      const square = orrery.remote({ name }, (x: number) => x * x);
      assert.equal(await orrery.get(square.remote(12)), 144);
      const [row] = await tasksNamed(name);
      await openPanel(name, row!.taskId);
      assert.equal(await button('action-retry').isDisabled(), true);
      assert.equal(await button('action-cancel').isDisabled(), true, 'a finished task cannot be cancelled');
      assert.equal(await button('action-rerun').isDisabled(), false);
      await button('action-rerun').click();
      await button('action-new-task').waitFor();
      assert.match(await button('action-outcome').innerText(), /^Re-run as new task/);
      const newId = (await button('action-new-task').getAttribute('title'))!;
      const detail = await until('the re-run to finish', async () => {
        const d = await apiGet<{ task: { state: string; retryOf: string }; result?: { json?: unknown } }>(
          `tasks/${newId}`,
        );
        return d.task.state === 'FINISHED' && d;
      });
      assert.equal(detail.result?.json, 144);
      assert.equal(detail.task.retryOf, row!.taskId);
      await shot('rerun');
      await closePanel();
    });

    test('kill an actor from the panel of its call, with "no restart" as orrery kill', async () => {
      class Tally {
        n = 0;
        add(k: number) {
          this.n += k;
          return this.n;
        }
      }
      const a = orrery.remote(Tally).options({ maxRestarts: 2 }).remote();
      assert.equal(await orrery.get(a.add.remote(3)), 3);
      const call = await until('the call row', async () =>
        (await apiGet<Row[]>(`tasks?filter=actorId=${a.actorId}`)).find((t) => t.name === 'Tally.add'),
      );
      await openPanel('Tally.add', call.taskId);
      assert.equal(await button('action-rerun').isDisabled(), true, 'an actor call is not re-run alone');
      await button('action-kill-actor').click();
      await dialog().waitFor();
      assert.equal(await page.getByTestId('confirm-no-restart').isChecked(), true, 'no restart by default');
      await shot('confirm-kill');
      await dialog().getByTestId('confirm-yes').click();
      await button('action-outcome')
        .filter({ hasText: /^Killed actor/ })
        .waitFor();
      await until('the actor to be dead', async () => {
        const rows = await apiGet<{ actorId: string; state: string; numRestarts: number }[]>('actors');
        const r = rows.find((x) => x.actorId === a.actorId);
        return r?.state === 'DEAD' && r.numRestarts === 0;
      });
      await assert.rejects(orrery.get(a.add.remote(1)), (e: Error) => e.name === 'ActorDiedError');
      await closePanel();
    });

    test('cancel the whole run from the panel of one of its tasks', async () => {
      const name = n('runSleeper');
      const refs = [0, 1, 2, 3].map(() => expectCancel(orrery.get(sleeper(name).remote(120_000))));
      const rows = await until('the run to be submitted', async () => {
        const r = await tasksNamed(name);
        return r.length === 4 && r.some((t) => t.state === 'RUNNING') && r;
      });
      await openPanel(name, rows[0]!.taskId);
      await button('cancel-run').click();
      await dialog().getByText('Every unfinished task of run').waitFor();
      await dialog().getByTestId('confirm-yes').click();
      await button('cancel-run-outcome')
        .filter({ hasText: /^Cancelled \d+ unfinished tasks? of the run; \d+ had already ended\.$/ })
        .waitFor();
      assert.match(await button('cancel-run-outcome').innerText(), /^Cancelled [4-9]\d* unfinished/);
      for (const r of refs) assert.equal(await r, 'TaskCancelledError');
      for (const t of await tasksNamed(name)) assert.equal(t.errorType, 'TaskCancelledError');
      await shot('cancel-run');
      await closePanel();
    });

    test('tables: pick with checkboxes (Shift+click range, all rows shown), then Cancel N and Retry N', async () => {
      const name = n('bulkSleeper');
      const refs = [0, 1, 2, 3, 4, 5].map(() => expectCancel(orrery.get(sleeper(name).remote(120_000))));
      await until('the six to be submitted', async () => (await tasksNamed(name)).length === 6);
      await tab('Tables');
      await page.getByLabel('Search').fill(name);
      await page
        .getByTestId('table-count')
        .filter({ hasText: /^6 of / })
        .waitFor();
      // Keyboard: Space ticks the focused row, and again unticks it.
      await page.getByRole('grid', { name: 'Tasks' }).focus();
      await page.keyboard.press('Home');
      await page.keyboard.press(' ');
      await button('picked-count').filter({ hasText: '1 selected' }).waitFor();
      await page.keyboard.press(' ');
      await page.locator('.bulk-actions').waitFor({ state: 'hidden' });
      const boxes = page.locator('.vt-body .vt-row .vt-check input');
      await boxes.nth(1).click();
      await boxes.nth(3).click({ modifiers: ['Shift'] });
      await button('picked-count').filter({ hasText: '3 selected' }).waitFor();
      assert.equal(await page.locator('.vt-body .vt-row.picked').count(), 3, 'rows 1-3 are picked');
      assert.equal(await button('select-all').evaluate((el) => (el as HTMLInputElement).indeterminate), true);
      await button('select-all').click();
      await button('picked-count').filter({ hasText: '6 selected' }).waitFor();
      assert.equal(await button('bulk-cancel').innerText(), 'Cancel 6');
      assert.equal(await button('bulk-retry').innerText(), 'Retry 0');
      assert.equal(await button('bulk-retry').isDisabled(), true);
      await shot('bulk-picked');

      await button('bulk-cancel').click();
      await dialog().waitFor();
      await page.keyboard.press('Escape');
      await dialog().waitFor({ state: 'detached' });
      assert.equal((await tasksNamed(name)).filter((t) => t.state === 'FAILED').length, 0, 'Esc cancelled nothing');
      await button('bulk-cancel').click();
      await dialog().getByTestId('confirm-yes').click();
      await button('bulk-outcome').filter({ hasText: 'Cancelled 6 of 6.' }).waitFor();
      for (const r of refs) assert.equal(await r, 'TaskCancelledError');
      assert.equal(await page.locator('.vt-body .vt-row.picked').count(), 0, 'the selection is cleared after');

      await page.getByLabel('State filter').selectOption('FAILED');
      await page
        .getByTestId('table-count')
        .filter({ hasText: /^6 of / })
        .waitFor();
      await button('select-all').click();
      await until(
        'the counts to follow the states',
        async () => (await button('bulk-retry').innerText()) === 'Retry 6',
      );
      await button('bulk-retry').click();
      await dialog().getByTestId('confirm-yes').click();
      await button('bulk-outcome').filter({ hasText: 'Retried (as new tasks) 6 of 6.' }).waitFor();
      const retried = (await tasksNamed(name)).filter((t) => t.retryOf);
      assert.equal(retried.length, 6, 'six new tasks, each the retry of one');
      await shot('bulk-retried');
      // The retries run under the head's own job: cancel them through the same bulk bar.
      await page.getByLabel('State filter').selectOption('');
      await page.getByLabel('Search').fill(name);
      await page
        .getByTestId('table-count')
        .filter({ hasText: /^12 of / })
        .waitFor();
      await button('select-all').click();
      await until(
        'the unfinished retries to count',
        async () => (await button('bulk-cancel').innerText()) === 'Cancel 6',
      );
      await button('bulk-cancel').click();
      await dialog().getByTestId('confirm-force').check();
      await dialog().getByTestId('confirm-yes').click();
      await button('bulk-outcome').filter({ hasText: 'Cancelled (forced) 6 of 6.' }).waitFor();
      await until('every retry to be cancelled', async () =>
        (await tasksNamed(name)).every((t) => t.errorType === 'TaskCancelledError'),
      );
      await page.getByLabel('Search').fill('');
    });

    test('a backend saved without starting is started with its Start button', async () => {
      const name = n('spare');
      const post = await fetch(`${service.info.url}/api/backends?start=false`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${service.info.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, kind: 'local', numCpus: 1 }),
      });
      assert.equal(post.status, 201);
      await tab('Backends');
      const row = page.locator(`tr[data-backend=${name}]`);
      await row.filter({ hasText: 'saved, not started' }).waitFor();
      await row.getByRole('button', { name: 'Start' }).click();
      await row.filter({ hasText: 'running' }).waitFor();
      assert.equal(await row.getByRole('button', { name: 'Start' }).count(), 0, 'a running backend has no Start');
      await page
        .locator('.backends-view > .message')
        .filter({ hasText: `Started ${name}.` })
        .waitFor();
      const listed = await apiGet<{ name: string; state: string }[]>('backends');
      assert.equal(listed.find((b) => b.name === name)?.state, 'running');
      await shot('backend-started');
      const del = await fetch(`${service.info.url}/api/backends/${name}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${service.info.token}` },
      });
      assert.equal(del.status, 204);
    });
  });
}
