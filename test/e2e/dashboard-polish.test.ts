/**
 * Issue 17's dashboard bugs 6-10 and 13 in Debian's Chromium, against a real head service in
 * this process, at 1440x900 and at 1024x700: disabled buttons look disabled; a browser without
 * a login is told what is missing and stops retrying; one message area per backend form, with
 * the error said once; ids show their distinguishing end; task errors keep their lines and fold
 * Orrery's frames; result cards hold long numbers and names; the backend form starts with a
 * simple kind and keeps a backend whose host is offline. Screenshots go to
 * test-output/screenshots/polish-*.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { sshService } from '../services/env.ts';
import { screenshot, type DashboardPage, headGet, VIEWPORTS, openLiveDashboard, waitLive } from './browser.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-e2e-polish-'));
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

type Service = Awaited<ReturnType<typeof HeadService.start>>;
/** A name too long for a card's caption, and a number too wide for a card at 26 px. */
const LONG_NAME = 'energyOfTheVariationalAnsatzAtTheFinalIterationOfTheOptimiser';
const LONG_NUMBER = -1.2345678901234567e-123;
/** The test services' key (test/services/env.ts): the form is complete, only the host is offline. */
const TEST_KEY = sshService.keyPath;

let service: Service;

const apiGet = <T>(path: string): Promise<T> => headGet<T>(service.info, path);

/** Whether an element's text is clipped (wider than the box that shows it). */
function clipped(l: Locator): Promise<boolean> {
  return l.evaluate((el) => el.scrollWidth > el.clientWidth + 1);
}

before(async () => {
  service = await HeadService.start({ port: 0, numCpus: 2, session: 'e2e-polish', log: () => undefined });
  await orrery.init({ address: service.info.address, token: service.info.token });
  // Tasks whose ids share all but their last characters, a failure with a two-line message and
  // a stack, and a result with a long name and a wide number.
  const idProbe = orrery.remote({ name: 'idProbe' }, (i: number) => i);
  await orrery.get([0, 1, 2, 3, 4].map((i) => idProbe.remote(i)));
  const failProbe = orrery.remote({ name: 'failProbe', maxRetries: 0 }, (x: number) => {
    const inner = (y: number) => {
      throw new Error(`bad input ${y}\nsecond line of the message`);
    };
    return inner(x);
  });
  await assert.rejects(orrery.get(failProbe.remote(3)), /bad input 3/);
  const wide = orrery.remote({ name: LONG_NAME }, (x: number) => x);
  assert.equal(await orrery.get(wide.remote(LONG_NUMBER)), LONG_NUMBER);
});

after(async () => {
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
});

for (const viewport of VIEWPORTS) {
  const size = `${viewport.width}x${viewport.height}`;
  describe(`dashboard polish at ${size}`, () => {
    let ui: DashboardPage;
    let page: Page;
    const tab = (name: string) => page.getByRole('tab', { name }).click();
    const shot = (name: string) => screenshot(page, `polish-${name}-${size}`);

    before(async () => {
      ui = await openLiveDashboard(service.login.newUrl().url, viewport);
      page = ui.page;
    });
    after(async () => {
      await ui?.browser.close();
    });

    test('bug 6: a disabled button looks disabled: dimmed, a not-allowed cursor, no hover change', async () => {
      await tab('Backends');
      const edit = page.locator('tr[data-backend=local]').getByRole('button', { name: 'Edit' });
      await edit.waitFor();
      assert.equal(await edit.isDisabled(), true, 'the built-in local backend cannot be edited');
      const style = () =>
        edit.evaluate((el) => {
          const s = getComputedStyle(el);
          return { cursor: s.cursor, opacity: Number(s.opacity), background: s.backgroundColor, color: s.color };
        });
      const before = await style();
      assert.equal(before.cursor, 'not-allowed');
      assert.ok(before.opacity <= 0.6, `opacity ${before.opacity}`);
      const enabled = await page
        .locator('tr[data-backend=local]')
        .getByRole('button', { name: 'Test' })
        .evaluate((el) => getComputedStyle(el).opacity);
      assert.equal(enabled, '1', 'an enabled button beside it is not dimmed');
      await edit.hover({ force: true });
      assert.deepEqual(await style(), before, 'hovering a disabled button changes nothing');
      await shot('disabled-buttons');
    });

    test('the selected tab keeps its look under the pointer (it turned white on white)', async () => {
      await tab('Backends');
      const selected = page.getByRole('tab', { name: 'Backends' });
      const look = () => selected.evaluate((el) => getComputedStyle(el).backgroundColor);
      await page.mouse.move(0, 400);
      const still = await look();
      await selected.hover();
      assert.equal(await look(), still, 'hovering the selected tab keeps its background');
    });

    test('bug 7: a browser without a login is told what is missing and how to get a link, and stops retrying', async () => {
      const context = await ui.browser.newContext({ viewport });
      try {
        const fresh = await context.newPage();
        let sockets = 0;
        fresh.on('websocket', () => sockets++);
        await fresh.goto(`${service.info.url}/`);
        const note = fresh.getByTestId('banner-signed-out');
        await note.waitFor();
        const text = await note.innerText();
        assert.match(text, /not logged in/);
        assert.match(text, /no login code/, 'says what is missing');
        assert.match(text, /session cookie/, 'says what is missing');
        assert.match(text, /orrery dashboard --url/);
        assert.match(text, /orrery start/);
        // The old page reopened the socket every 5 s and flipped to "disconnected; retrying".
        for (let i = 0; i < 7; i++) {
          assert.equal(await fresh.getByTestId('connection').innerText(), 'not logged in');
          await fresh.waitForTimeout(1000);
        }
        assert.equal(sockets, 1, 'a refused login is not retried on a timer');
        await fresh.screenshot({ path: join('test-output', 'screenshots', `polish-signed-out-${size}.png`) });
        // Logging in in another tab of this browser still brings this one live.
        const login = await context.newPage();
        await login.goto(service.login.newUrl().url);
        await waitLive(fresh, 15_000);
        assert.equal(await note.isHidden(), true);
      } finally {
        await context.close();
      }
    });

    test('bug 8: after a successful add, a failed add shows one message, in view, said once in words', async () => {
      const name = `lab${viewport.width}`;
      await tab('Backends');
      await page.getByRole('button', { name: 'Add backend' }).first().click();
      let form = page.locator('form.backend-form');
      await form.locator('select[name=kind]').selectOption('local');
      await form.locator('[name=name]').fill(name);
      await form.locator('[name=numCpus]').fill('1');
      await form.getByRole('button', { name: 'Add backend' }).click();
      await page.locator(`tr[data-backend=${name}]`).waitFor();
      await page.locator('.backends-view > .message').filter({ hasText: name }).waitFor();

      await page.getByRole('button', { name: 'Add backend' }).first().click();
      form = page.locator('form.backend-form');
      await form.locator('select[name=kind]').selectOption('local');
      await form.locator('[name=name]').fill(name);
      await form.getByRole('button', { name: 'Add backend' }).click();
      const message = form.getByTestId('form-message');
      await message.filter({ hasText: /Not saved/ }).waitFor();
      const view = page.locator('.backends-view');
      const all = await view.innerText();
      assert.doesNotMatch(all, /added/, 'the earlier success is gone');
      assert.doesNotMatch(all, /HTTP \d|\/api\//, 'no status code or route');
      assert.equal(all.match(/already exists/g)?.length, 1, `said once:\n${all}`);
      assert.match(await form.locator('[data-error-for=name]').innerText(), /already exists/);
      assert.match(await message.innerText(), /name field/);
      assert.equal(await message.evaluate((el) => el === el.closest('form')!.firstElementChild), true, 'at the top');
      await assertInView(page, message);
      // A second submit replaces the message.
      await form.locator('[name=name]').fill(`${name}b`);
      await form.locator('[name=numCpus]').fill('-1');
      await form.getByRole('button', { name: 'Add backend' }).click();
      await message.filter({ hasNotText: /name field/ }).waitFor();
      assert.equal(await form.getByTestId('form-message').count(), 1);
      assert.doesNotMatch(await view.innerText(), /HTTP \d|\/api\//);
      await shot('backend-error');
      await form.locator('[name=numCpus]').fill('');
    });

    test('bug 9: ids show their distinguishing end, the full id in the tooltip', async () => {
      await tab('Tables');
      await page.getByLabel('Search').fill('idProbe');
      await page
        .getByTestId('table-count')
        .filter({ hasText: /^5 of / })
        .waitFor();
      const cells = page.locator('.vt-body .vt-row > div.vt-check + div');
      const shown = await cells.allInnerTexts();
      const full = await cells.evaluateAll((els) => els.map((e) => (e as HTMLElement).title));
      assert.equal(new Set(shown).size, 5, `distinct: ${shown.join(' ')}`);
      for (const [i, id] of full.entries()) {
        assert.match(id, /^[0-9a-f]{16,}$/, 'the tooltip holds the full id');
        assert.ok(id.endsWith(shown[i]!.replace(/^…/, '')), `${shown[i]} is the end of ${id}`);
        assert.equal(await clipped(cells.nth(i)), false, `${shown[i]} fits its cell`);
      }
      await cells.first().dblclick();
      const idField = page.getByTestId('task-id');
      assert.equal(await idField.innerText(), full[0], 'the panel shows the whole id');
      assert.equal(await page.getByRole('button', { name: `Copy id ${full[0]}` }).count(), 1);
      await shot('ids');
      await page.keyboard.press('Escape');
      await page.getByLabel('Search').fill('');
    });

    test("bug 10: a task's error keeps its lines, shows the user's frames and folds Orrery's", async () => {
      await tab('Tables');
      await page.getByLabel('Search').fill('failProbe');
      await page
        .getByTestId('table-count')
        .filter({ hasText: /^1 of / })
        .waitFor();
      await page.locator('.vt-body .vt-row').first().dblclick();
      const error = page.getByTestId('task-error');
      await error.waitFor();
      const main = await page.getByTestId('task-error-main').innerText();
      assert.match(main, /bad input 3\nsecond line of the message/, 'line breaks kept');
      assert.match(main, /\n\s*at inner /, "the user's frame is shown");
      assert.doesNotMatch(main, /task-executor|node:async_hooks/, 'no internal frame by default');
      const internal = page.getByTestId('task-error-internal');
      assert.equal(await internal.isHidden(), true);
      await error.getByRole('button', { name: /show \d+ internal frames?/ }).click();
      assert.match(await internal.innerText(), /orchestrator\/agent\/task-executor\.ts/);
      await shot('task-error');
      await page.keyboard.press('Escape');
      await page.getByLabel('Search').fill('');
    });

    test('bug 13: result cards hold a long name and a wide number', async () => {
      await tab('Results');
      const card = page
        .getByTestId('result-cards')
        .locator('figure.card')
        .filter({ has: page.locator(`figcaption[title=${LONG_NAME}]`) });
      await card.waitFor({ timeout: 15_000 });
      const number = card.locator('.result-number');
      assert.equal(await number.getAttribute('title'), String(LONG_NUMBER));
      assert.equal(await clipped(number), false, 'the number wraps inside its card');
      const [cardBox, numberBox] = [await card.boundingBox(), await number.boundingBox()];
      assert.ok(numberBox!.x + numberBox!.width <= cardBox!.x + cardBox!.width, 'the number stays in the card');
      const caption = card.locator('figcaption');
      const ellipsis = await caption.evaluate((el) => getComputedStyle(el).textOverflow);
      assert.ok(!(await clipped(caption)) || ellipsis === 'ellipsis', 'a long name ends in an ellipsis');
      await card.scrollIntoViewIfNeeded();
      await shot('result-cards');
    });

    test('bug 13: the backend form starts with a simple kind, and a backend whose host is offline can be saved to test later', async () => {
      const name = `offline${viewport.width}`;
      await tab('Backends');
      await page.getByRole('button', { name: 'Add backend' }).first().click();
      const form = page.locator('form.backend-form');
      assert.equal(await form.locator('select[name=kind]').inputValue(), 'local', 'not braket');
      await form.locator('select[name=kind]').selectOption('ssh');
      await form.locator('[name=name]').fill(name);
      // Port 1 on loopback: nothing listens, as with a host that is switched off.
      await form.locator('[name=hosts]').fill('orrery-test@127.0.0.1:1');
      await form.locator('[name=identityFile]').fill(TEST_KEY);
      await form.getByRole('button', { name: 'Add backend' }).click();
      const message = form.getByTestId('form-message');
      await message.filter({ hasText: /did not start/ }).waitFor({ timeout: 60_000 });
      assert.match(await message.innerText(), /refused|ECONNREFUSED/i, 'the host is offline, not misconfigured');
      assert.doesNotMatch(await message.innerText(), /HTTP \d|\/api\//);
      const refused = await fetch(`${service.info.url}/api/backends?start=later`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${service.info.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, kind: 'ssh', hosts: ['orrery-test@127.0.0.1:1'] }),
      });
      assert.equal(refused.status, 400, 'start is true or false');
      await form.getByRole('button', { name: 'Save without starting' }).click();
      const row = page.locator(`tr[data-backend=${name}]`);
      await row.waitFor();
      assert.match(await row.innerText(), /saved, not started/);
      const listed = await apiGet<{ name: string; state: string }[]>('backends');
      assert.equal(listed.find((b) => b.name === name)?.state, 'saved');
      await page.locator('.backends-view > .message').filter({ hasText: 'saved without starting' }).waitFor();
      await shot('backend-saved-offline');
      await row.getByRole('button', { name: 'Test' }).click();
      const result = page.getByTestId('backend-test-result');
      await result.waitFor({ timeout: 60_000 });
      assert.match(await result.innerText(), /^Failed: .*127\.0\.0\.1.*(refused|ECONNREFUSED)/is);
      await shot('backend-test-offline');
      await page.keyboard.press('Escape');
      page.once('dialog', (d) => void d.accept());
      await row.getByRole('button', { name: 'Remove' }).click();
      await row.waitFor({ state: 'detached' });
    });

    test('no page errors', () => {
      assert.deepEqual(
        ui.errors.filter((e) => !e.includes('Failed to load resource')),
        [],
      );
    });
  });
}

/** The element is inside the viewport (scrolled into view). */
async function assertInView(page: Page, l: Locator): Promise<void> {
  const box = await l.boundingBox();
  const vp = page.viewportSize()!;
  assert.ok(box && box.y >= 0 && box.y + Math.min(box.height, 40) <= vp.height, `in view: ${JSON.stringify(box)}`);
}
