/**
 * Issue 17 item 7, logs and errors, in Debian's Chromium against a real head service running
 * real tasks, at 1440x900 and 1024x700: a task that fails and then succeeds on retry shows its
 * lines grouped per attempt (Logs tab and task panel); a search filters and highlights lines;
 * Download saves the shown lines as a .txt file; a node's lines start with the task's own name
 * (`printer#2`) instead of an id prefix; an error keeps its line breaks and folds internal
 * frames behind one click. Screenshots go to test-output/screenshots/logs-*.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { screenshot, type DashboardPage, headGet, VIEWPORTS, openLiveDashboard } from './browser.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-e2e-logs-'));
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

type Service = Awaited<ReturnType<typeof HeadService.start>>;
const markers = mkdtempSync(join(tmpdir(), 'orrery-e2e-logs-markers-'));

let service: Service;
const apiGet = <T>(path: string): Promise<T> => headGet<T>(service.info, path);

/** Fails its first attempt (after printing), succeeds on the retry; the marker file remembers. */
const flaky = () =>
  orrery.remote({ name: 'flaky', maxRetries: 2, retryExceptions: true }, async (marker: string) => {
    const fs = await import('node:fs');
    const first = !fs.existsSync(marker);
    console.log(`loading chunk 1 (${first ? 'first try' : 'again'})`);
    console.log('loading chunk 2');
    if (first) {
      fs.writeFileSync(marker, '');
      console.error('connection reset by peer');
      throw new Error('flaky: connection reset');
    }
    console.log('fit converged: loss 0.0123');
    return 42;
  });

/** The lines of each attempt under its header, as the box shows them (order within an attempt kept). */
function groups(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('── attempt')) out.set(line, (current = []));
    else current?.push(line);
  }
  return out;
}

before(async () => {
  service = await HeadService.start({ port: 0, numCpus: 2, session: 'e2e-logs', log: () => undefined });
  await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
});

after(async () => {
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
});

for (const viewport of VIEWPORTS) {
  const size = `${viewport.width}x${viewport.height}`;
  describe(`dashboard logs at ${size}`, () => {
    let ui: DashboardPage;
    let page: Page;
    let flakyId = '';
    const tab = (name: string) => page.getByRole('tab', { name, exact: true }).click();
    const shot = (name: string) => screenshot(page, `logs-${name}-${size}`);
    const lines = () => page.getByTestId('log-lines');
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

    before(async () => {
      ui = await openLiveDashboard(service.login.newUrl().url, viewport);
      page = ui.page;
    });
    after(async () => {
      await ui?.browser.close();
    });

    test('a task that failed and then succeeded on retry: its lines grouped per attempt', async () => {
      const ref = flaky().remote(join(markers, String(viewport.width)));
      flakyId = ref.id;
      assert.equal(await orrery.get(ref), 42);
      const detail = await apiGet<{ task: { attempt: number }; logEntries: { attempt: number }[] }>(`tasks/${ref.id}`);
      assert.equal(detail.task.attempt, 1, 'it ran twice');
      await tab('Logs');
      await page.getByTestId('log-task').fill(ref.id);
      await page.getByTestId('log-task').press('Enter');
      await lines().filter({ hasText: 'fit converged' }).waitFor({ timeout: 15_000 });
      const text = await lines().innerText();
      const byAttempt = groups(text);
      assert.deepEqual([...byAttempt.keys()], ['── attempt 1 ──', '── attempt 2 (retry 1) ──'], text);
      assert.deepEqual([...byAttempt.get('── attempt 1 ──')!].sort(), [
        '[err] connection reset by peer',
        'loading chunk 1 (first try)',
        'loading chunk 2',
      ]);
      assert.deepEqual(byAttempt.get('── attempt 2 (retry 1) ──'), [
        'loading chunk 1 (again)',
        'loading chunk 2',
        'fit converged: loss 0.0123',
      ]);
      assert.equal(await lines().locator('.attempt-header').count(), 2, 'headers are marked as such');
      assert.match(await page.getByTestId('log-heading').innerText(), /^Output of task flaky#\d+ \(…[0-9a-f]{8}\)$/);
      await shot('attempts');
      // The task panel groups the same lines the same way.
      await openPanel(ref.id);
      await page.getByTestId('task-logs').filter({ hasText: 'fit converged' }).waitFor();
      assert.deepEqual(groups(await page.getByTestId('task-logs').innerText()), byAttempt);
      await shot('panel-attempts');
      await page.keyboard.press('Escape');
    });

    test('search filters the lines, highlights the matches and keeps each attempt header', async () => {
      await tab('Logs');
      await lines().filter({ hasText: 'fit converged' }).waitFor();
      const search = page.getByTestId('log-search');
      await search.fill('chunk');
      await page.getByTestId('log-matches').filter({ hasText: '4 of 6 lines match' }).waitFor();
      const marks = lines().locator('mark');
      assert.equal(await marks.count(), 4);
      assert.deepEqual([...new Set(await marks.allInnerTexts())], ['chunk']);
      assert.equal(await lines().locator('.attempt-header').count(), 2);
      assert.doesNotMatch(await lines().innerText(), /converged|reset/);
      await shot('search');
      await search.fill('RESET');
      await page.getByTestId('log-matches').filter({ hasText: '1 of 6 lines match' }).waitFor();
      assert.deepEqual((await lines().innerText()).split('\n'), ['── attempt 1 ──', '[err] connection reset by peer']);
      assert.equal(await lines().locator('mark').innerText(), 'reset', 'matched in any case, shown as written');
      await search.fill('no such text');
      await lines().filter({ hasText: '(no line matches “no such text”)' }).waitFor();
      await search.fill('');
      await lines().filter({ hasText: 'fit converged' }).waitFor();
      assert.equal(await page.getByTestId('log-matches').innerText(), '');
    });

    test('Download saves the shown lines (after the search) as a .txt file', async () => {
      await page.getByTestId('log-search').fill('chunk');
      await page.getByTestId('log-matches').filter({ hasText: '4 of 6' }).waitFor();
      const shown = await lines().innerText();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('log-download').click()]);
      assert.match(download.suggestedFilename(), new RegExp(`^flaky-${flakyId.slice(-8)}\\.log\\.txt$`));
      const saved = readFileSync((await download.path())!, 'utf8');
      assert.equal(saved, `${shown}\n`);
      assert.match(saved, /── attempt 2 \(retry 1\) ──\nloading chunk 1 \(again\)\nloading chunk 2\n$/);
      await page.getByTestId('log-search').fill('');
    });

    test("a node's lines start with the task's own name, not a shared id prefix", async () => {
      await tab('Logs');
      const printer = orrery.remote({ name: 'printer' }, (i: number) => {
        console.log(`hello from printer ${i}`);
        return i;
      });
      const refs = [0, 1].map((i) => printer.remote(i));
      assert.deepEqual(await orrery.get(refs), [0, 1]);
      const nodeId = (await apiGet<{ task: { nodeId: string } }>(`tasks/${refs[0]!.id}`)).task.nodeId;
      await page.getByTestId('log-source').selectOption(nodeId);
      // Every round's lines: the node's earlier lines are kept by the head and shown first (issue 17 bug 5).
      const rounds = VIEWPORTS.indexOf(viewport) + 1;
      for (const end = Date.now() + 15_000; ; ) {
        const shown = await lines().innerText();
        if ((shown.match(/hello from printer 1$/gm) ?? []).length >= rounds) break;
        assert.ok(Date.now() < end, `the node's lines of ${rounds} printer rounds:\n${shown}`);
        await page.waitForTimeout(50);
      }
      const text = await lines().innerText();
      // The newest of each.
      const labels = [0, 1].map(
        (i) => [...text.matchAll(new RegExp(`^(printer#\\d+) hello from printer ${i}$`, 'gm'))].at(-1)?.[1],
      );
      assert.ok(labels[0] && labels[1], text);
      assert.notEqual(labels[0], labels[1], 'each task has its own label');
      assert.doesNotMatch(text, /^…[0-9a-f]{8} /m, 'no line starts with an id');
      assert.match(await page.getByTestId('log-heading').innerText(), /name#n/);
      await shot('node');
      await page.getByTestId('log-source').selectOption('');
      // The label finds the task: typed into the task box, it shows that task's output.
      await page.getByTestId('log-task').fill(labels[1]!);
      await page.getByTestId('log-task').press('Enter');
      await page
        .getByTestId('log-heading')
        .filter({ hasText: `Output of task ${labels[1]} (` })
        .waitFor();
      assert.equal(await page.getByTestId('log-task').inputValue(), refs[1]!.id);
      await lines()
        .filter({ hasText: /^hello from printer 1$/ })
        .waitFor();
    });

    test("an error keeps its line breaks and shows the user's frames; internal frames are one click away", async () => {
      const explode = orrery.remote({ name: 'explode', maxRetries: 0 }, (x: number) => {
        const check = (y: number) => {
          throw new Error(`value ${y} out of range\nexpected 0 <= value < 1\nsee the config's bounds`);
        };
        return check(x);
      });
      const ref = explode.remote(7);
      await assert.rejects(orrery.get(ref), /value 7 out of range/);
      await openPanel(ref.id);
      const main = await page.getByTestId('task-error-main').innerText();
      assert.match(main, /value 7 out of range\nexpected 0 <= value < 1\nsee the config's bounds/);
      assert.match(main, /\n\s*at check \(remote function, line \d+:\d+\)/, "the user's frame, where in the function");
      assert.doesNotMatch(main, /task-executor|node:internal|node:async_hooks/, 'no internal frame by default');
      assert.equal(
        main.match(/value 7 out of range/g)?.length,
        1,
        'the message is said once, not again above the stack',
      );
      const toggle = page.getByTestId('task-error').getByRole('button', { name: /^show \d+ internal frames?$/ });
      assert.equal(await page.getByTestId('task-error-internal').isHidden(), true);
      await toggle.click();
      assert.match(await page.getByTestId('task-error-internal').innerText(), /orchestrator\/agent/);
      await shot('error');
      await page.keyboard.press('Escape');
    });

    test('no page errors', () => {
      assert.deepEqual(
        ui.errors.filter((e) => !e.includes('Failed to load resource')),
        [],
      );
    });
  });
}
