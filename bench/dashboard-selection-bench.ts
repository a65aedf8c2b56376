/**
 * The tasks table's checkbox selection at 100,000 tasks, in Debian's Chromium against a real
 * head in this process: frame times (requestAnimationFrame deltas, p50/p95) while the table
 * scrolls with no row picked and with every row picked, how long "select all rows shown" takes
 * to pick 100,000 rows and show the action bar's counts, and a Shift+click range of 50,000.
 *
 *   npx tsx bench/dashboard-selection-bench.ts [--quick]     one JSON object per line
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const TASKS = process.argv.includes('--quick') ? 20_000 : 100_000;
const CHUNK = 10_000;
const SCROLL_FRAMES = 180;

process.env.ORRERY_HOME ??= mkdtempSync(join(tmpdir(), 'orrery-selection-bench-'));
execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../renderer/build.ts', import.meta.url))], {
  stdio: 'ignore',
});
const orrery = await import('../orchestrator/api/index.ts');
const { HeadService } = await import('../orchestrator/service/head-service.ts');
const { openDashboard } = await import('../test/e2e/browser.ts');

const line = (metric: string, value: number, unit: string, note: string) =>
  console.log(JSON.stringify({ metric, value: +value.toFixed(2), unit, tasks: TASKS, note }));

const service = await HeadService.start({ port: 0, log: () => undefined });
try {
  await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
  const noop = orrery.remote({ name: 'noop' }, (i: number) => i);
  for (let done = 0; done < TASKS; done += CHUNK)
    await orrery.get(Array.from({ length: Math.min(CHUNK, TASKS - done) }, (_, i) => noop.remote(done + i)));
  const ui = await openDashboard(service.login.newUrl().url, { width: 1440, height: 900 });
  const page = ui.page;
  try {
    await page.getByRole('tab', { name: 'Tables' }).click();
    await page
      .getByTestId('table-count')
      .filter({ hasText: new RegExp(`^${TASKS} of ${TASKS} tasks$`) })
      .waitFor({ timeout: 120_000 });
    /** Scrolls the table one screen per frame; the frame deltas, sorted. */
    const scrollFrames = () =>
      page.evaluate(async (frames: number) => {
        const vp = document.querySelector('.vt-viewport') as HTMLElement;
        vp.scrollTop = 0;
        const deltas: number[] = [];
        let last = performance.now();
        for (let i = 0; i < frames; i++) {
          await new Promise(requestAnimationFrame);
          const now = performance.now();
          deltas.push(now - last);
          last = now;
          vp.scrollTop += 800;
        }
        return deltas.sort((a, b) => a - b);
      }, SCROLL_FRAMES);
    const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
    const none = await scrollFrames();
    line('scroll_frame_p50_none_picked', pct(none, 50), 'ms', 'table scrolled one screen per frame');
    line('scroll_frame_p95_none_picked', pct(none, 95), 'ms', '');

    const selectAll = () =>
      page.evaluate(async (n: number) => {
        const box = document.querySelector('[data-testid=select-all]') as HTMLInputElement;
        const t0 = performance.now();
        box.click();
        const sync = performance.now() - t0;
        const label = document.querySelector('[data-testid=picked-count]')!;
        if (label.textContent !== `${n} selected`) throw new Error(`picked: ${label.textContent}`);
        await new Promise(requestAnimationFrame);
        return { sync, total: performance.now() - t0 };
      }, TASKS);
    const first = await selectAll();
    line(
      'select_all_shown_first',
      first.total,
      'ms',
      `click to counts shown and next frame (script ${first.sync.toFixed(1)} ms)`,
    );
    await page.getByTestId('bulk-clear').click();
    const again = await selectAll();
    line('select_all_shown', again.total, 'ms', `again, warm (script ${again.sync.toFixed(1)} ms)`);
    const all = await scrollFrames();
    line('scroll_frame_p50_all_picked', pct(all, 50), 'ms', '');
    line('scroll_frame_p95_all_picked', pct(all, 95), 'ms', '');

    const clearMs = await page.evaluate(async () => {
      const t0 = performance.now();
      (document.querySelector('[data-testid=bulk-clear]') as HTMLButtonElement).click();
      await new Promise(requestAnimationFrame);
      return performance.now() - t0;
    });
    line('clear_selection', clearMs, 'ms', '');
    const rangeMs = await page.evaluate(async (n: number) => {
      const vp = document.querySelector('.vt-viewport') as HTMLElement;
      vp.scrollTop = 0;
      await new Promise(requestAnimationFrame);
      (document.querySelector('.vt-body .vt-row[data-index="0"] .vt-check input') as HTMLInputElement).click();
      vp.scrollTop = (n / 2) * 24 - 200;
      vp.dispatchEvent(new Event('scroll'));
      await new Promise(requestAnimationFrame);
      const target = document.querySelector(`.vt-body .vt-row[data-index="${n / 2 - 1}"] .vt-check input`);
      if (!target) throw new Error('row not drawn');
      const t0 = performance.now();
      target.dispatchEvent(new MouseEvent('click', { bubbles: true, shiftKey: true }));
      const label = document.querySelector('[data-testid=picked-count]')!.textContent;
      if (label !== `${n / 2} selected`) throw new Error(`picked: ${label}`);
      await new Promise(requestAnimationFrame);
      return performance.now() - t0;
    }, TASKS);
    line('shift_click_range_half', rangeMs, 'ms', `${TASKS / 2} rows by Shift+click`);
    if (ui.errors.length) throw new Error(ui.errors.join('\n'));
  } finally {
    await ui.browser.close();
  }
} finally {
  await orrery.shutdown().catch(() => undefined);
  await service.stop();
}
